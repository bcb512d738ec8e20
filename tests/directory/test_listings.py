"""Providers keep their own services: who may change which, what is refused (naming the field, changing
nothing), reviews, and the one email a provider gets about services needing a review."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from directory.models import Attribute, CostOption, DirectoryOrganisation, Location, Service, ServiceStatus
from directory.selectors.listings import DirectoryServiceNotFound, service_for_editor, services_for_provider
from directory.services import listings
from directory.services.listings import ListingInvalid, ListingRecordNotFound, ProviderNotFound
from directory.tasks import services_stale_notify_task
from people.models import AuditEvent
from tests.budgets.factories import ServiceFactory as CatalogueServiceFactory
from tests.concurrency import run_in_threads
from tests.directory.factories import (
    ContactFactory,
    CostOptionFactory,
    DirectoryOrganisationFactory,
    LocationFactory,
    ServiceFactory,
    TaxonomyTermFactory,
)
from tests.people.factories import (
    AdministratorFactory,
    BudgetHolderFactory,
    NavigatorFactory,
    ProviderFactory,
    ProviderUserFactory,
)

pytestmark = pytest.mark.django_db

TODAY = date(2026, 12, 4)
LONG_AGO = date(2026, 1, 10)


@pytest.fixture
def provider_user():
    return ProviderUserFactory()


@pytest.fixture
def organisation(provider_user):
    return DirectoryOrganisationFactory(provider=provider_user.organisation, name="Leeds Day Care")


@pytest.fixture
def service(organisation):
    return ServiceFactory(organisation=organisation, name="Day centre", assured_date=LONG_AGO)


class TestWhoMayEdit:
    @pytest.mark.parametrize("who", ["another provider's user", "navigator", "budget holder", "inactive"])
    def test_anyone_but_the_provider_is_told_the_service_does_not_exist(self, service, who):
        by = {
            "another provider's user": lambda: ProviderUserFactory(),
            "navigator": lambda: NavigatorFactory(),
            "budget holder": lambda: BudgetHolderFactory().user,
            "inactive": lambda: ProviderUserFactory(
                organisation=service.organisation.provider, is_active=False
            ),
        }[who]()
        before = Service.objects.values().get(pk=service.pk)

        for attempt in (
            lambda: listings.service_update(by=by, service=service, name="Taken over"),
            lambda: listings.service_review(by=by, service=service),
            lambda: listings.service_status_set(by=by, service=service, status="defunct", reason="Closed"),
            lambda: listings.cost_option_add(by=by, service=service, amount=Decimal("5")),
            lambda: listings.contact_add(by=by, service=service, name="Sam"),
            lambda: service_for_editor(by=by, service_id=service.pk),
        ):
            with pytest.raises(DirectoryServiceNotFound) as raised:
                attempt()
            assert raised.value.code == "directory_service_not_found"
            assert raised.value.http_status == 404

        assert Service.objects.values().get(pk=service.pk) == before
        assert not CostOption.objects.exists()

    def test_a_missing_service_looks_the_same_as_someone_elses(self, provider_user):
        with pytest.raises(DirectoryServiceNotFound):
            service_for_editor(by=provider_user, service_id="not-a-uuid")
        with pytest.raises(DirectoryServiceNotFound):
            service_for_editor(by=provider_user, service_id=ServiceFactory().pk)

    def test_the_providers_own_user_may_edit(self, service, provider_user):
        updated = listings.service_update(by=provider_user, service=service, name="Day centre (Armley)")

        assert updated.name == "Day centre (Armley)"
        assert service_for_editor(by=provider_user, service_id=str(service.pk)) == service

    def test_an_administrator_may_edit_any_service(self, service):
        updated = listings.service_update(by=AdministratorFactory(), service=service, description="New words")

        assert updated.description == "New words"

    def test_another_providers_user_cannot_touch_its_records(self, service):
        contact = ContactFactory(service=service)
        cost = CostOptionFactory(service=service)
        stranger = ProviderUserFactory()

        with pytest.raises(ListingRecordNotFound):
            listings.contact_update(by=stranger, contact=contact, name="Changed")
        with pytest.raises(ListingRecordNotFound):
            listings.cost_option_remove(by=stranger, cost_option=cost)

        assert CostOption.objects.filter(pk=cost.pk).exists()


class TestDirectoryOrganisationForProvider:
    def test_made_once_from_the_provider(self):
        provider = ProviderFactory(name="Armley Care", contact_email="hello@armley.example")
        user = ProviderUserFactory(organisation=provider)

        first = listings.directory_organisation_for_provider(provider=provider, by=user)
        again = listings.directory_organisation_for_provider(provider=provider, by=user)

        assert first == again
        assert (first.name, first.email) == ("Armley Care", "hello@armley.example")
        assert DirectoryOrganisation.objects.filter(provider=provider).count() == 1

    def test_another_providers_user_is_refused(self):
        with pytest.raises(ProviderNotFound):
            listings.directory_organisation_for_provider(provider=ProviderFactory(), by=ProviderUserFactory())
        assert not DirectoryOrganisation.objects.exists()


class TestServiceCreate:
    def test_a_new_service_is_reviewed_by_its_author_and_audited(self, organisation, provider_user):
        service = listings.service_create(
            by=provider_user, organisation=organisation, name="  Lunch club ", description="Hot meals"
        )

        assert service.name == "Lunch club"
        assert service.assured_date == timezone.localdate()
        assert service.assurer_email == provider_user.email
        assert AuditEvent.objects.filter(
            action="directory.service_created", object_id=str(service.pk)
        ).exists()

    def test_another_providers_organisation_is_refused(self, organisation):
        with pytest.raises(DirectoryServiceNotFound):
            listings.service_create(by=ProviderUserFactory(), organisation=organisation, name="Lunch club")
        assert not Service.objects.exists()


class TestServiceUpdate:
    @pytest.mark.parametrize(
        ("changes", "code", "field"),
        [
            ({"name": "  "}, "required", "name"),
            ({"status": "closed"}, "invalid_status", "status"),
            ({"email": "not an email"}, "invalid_email", "email"),
            ({"url": "nowhere"}, "invalid_url", "url"),
            ({"minimum_age": 65, "maximum_age": 18}, "invalid_maximum_age", "maximum_age"),
            ({"minimum_age": "old"}, "invalid_minimum_age", "minimum_age"),
            ({"favourite_colour": "blue"}, "unknown_field", "favourite_colour"),
        ],
    )
    def test_a_bad_value_names_its_field_and_changes_nothing(
        self, service, provider_user, changes, code, field
    ):
        before = Service.objects.values().get(pk=service.pk)

        with pytest.raises(ListingInvalid) as raised:
            listings.service_update(by=provider_user, service=service, **changes)

        assert raised.value.code == code
        assert raised.value.field == field
        assert raised.value.errors[0]["pointer"] == f"/{field}"
        assert Service.objects.values().get(pk=service.pk) == before

    def test_every_problem_is_reported_at_once(self, service, provider_user):
        with pytest.raises(ListingInvalid) as raised:
            listings.service_update(by=provider_user, service=service, name="", email="nope", url="nope")

        assert {e["pointer"] for e in raised.value.errors} == {"/name", "/email", "/url"}
        assert raised.value.code == "rule_broken"

    def test_an_age_against_the_stored_one_is_checked(self, service, provider_user):
        listings.service_update(by=provider_user, service=service, minimum_age=18)

        with pytest.raises(ListingInvalid) as raised:
            listings.service_update(by=provider_user, service=service, maximum_age=16)
        assert raised.value.field == "maximum_age"

    def test_a_change_sets_last_modified_but_not_the_review(self, service, provider_user):
        before = service.last_modified

        updated = listings.service_update(by=provider_user, service=service, description="Now on Fridays")

        assert updated.last_modified > before
        assert Service.objects.get(pk=service.pk).assured_date == LONG_AGO
        event = AuditEvent.objects.get(action="directory.service_updated")
        assert event.detail["changed"]["description"]["to"] == "Now on Fridays"


class TestServiceReview:
    def test_a_review_makes_it_fresh_and_clears_the_flag(self, service, provider_user):
        Service.objects.filter(pk=service.pk).update(stale_notified_at=timezone.now())

        reviewed = listings.service_review(by=provider_user, service=service)

        reloaded = Service.objects.get(pk=reviewed.pk)
        assert reloaded.assured_date == timezone.localdate()
        assert reloaded.assurer_email == provider_user.email
        assert reloaded.stale_notified_at is None
        assert AuditEvent.objects.filter(action="directory.service_reviewed").count() == 1


class TestServiceStatusSet:
    def test_closing_for_a_while_needs_a_reason(self, service, provider_user):
        with pytest.raises(listings.ReasonRequired):
            listings.service_status_set(
                by=provider_user, service=service, status="temporarily closed", reason=" "
            )

        changed = listings.service_status_set(
            by=provider_user,
            service=service,
            status=ServiceStatus.TEMPORARILY_CLOSED,
            reason="Building works",
        )

        assert changed.status == ServiceStatus.TEMPORARILY_CLOSED
        assert (
            AuditEvent.objects.get(action="directory.service_status_set").detail["reason"] == "Building works"
        )

    def test_an_unknown_status_is_refused(self, service, provider_user):
        with pytest.raises(ListingInvalid) as raised:
            listings.service_status_set(by=provider_user, service=service, status="gone", reason="Why not")
        assert raised.value.field == "status"


class TestLocations:
    def test_a_place_with_its_address_is_offered(self, service, organisation, provider_user):
        location = listings.location_create(
            by=provider_user,
            organisation=organisation,
            name="Armley Centre",
            latitude=Decimal("53.797"),
            longitude="-1.59",
            address={"address_1": "1 Town Street", "city": "Leeds", "postal_code": "LS12 1UQ"},
        )
        link = listings.service_at_location_add(by=provider_user, service=service, location=location)

        assert location.addresses.get().postal_code == "LS12 1UQ"
        assert link.service == service
        assert location.longitude == Decimal("-1.59")

    def test_coordinates_are_both_or_neither(self, organisation, provider_user):
        with pytest.raises(ListingInvalid) as raised:
            listings.location_create(by=provider_user, organisation=organisation, latitude=Decimal("53.7"))

        assert raised.value.code == "coordinates_both_or_neither"
        assert raised.value.field == "longitude"
        assert not Location.objects.exists()

    def test_a_bad_address_changes_nothing(self, organisation, provider_user):
        with pytest.raises(ListingInvalid) as raised:
            listings.location_create(by=provider_user, organisation=organisation, address={"city": "Leeds"})

        assert {e["pointer"] for e in raised.value.errors} == {"/address/address_1", "/address/postal_code"}
        assert not Location.objects.exists()

    def test_another_organisations_place_cannot_be_used(self, service, provider_user):
        elsewhere = LocationFactory(organisation=DirectoryOrganisationFactory())

        with pytest.raises(ListingRecordNotFound):
            listings.service_at_location_add(by=provider_user, service=service, location=elsewhere)

    def test_a_place_in_use_is_not_removed(self, service, organisation, provider_user):
        location = listings.location_create(by=provider_user, organisation=organisation, name="Hall")
        listings.service_at_location_add(by=provider_user, service=service, location=location)

        with pytest.raises(listings.LocationInUse):
            listings.location_remove(by=provider_user, location=location)


class TestContacts:
    def test_a_contact_with_phones(self, service, provider_user):
        contact = listings.contact_add(
            by=provider_user, service=service, name="Sam", phones=[{"number": "0113 496 0001"}]
        )

        assert contact.phones.get().number == "0113 496 0001"

    def test_a_phone_without_a_number_points_at_it(self, service, provider_user):
        with pytest.raises(ListingInvalid) as raised:
            listings.contact_add(by=provider_user, service=service, name="Sam", phones=[{"type": "voice"}])

        assert raised.value.errors[0]["pointer"] == "/phones/0/number"
        assert not service.contacts.exists()

    def test_a_contact_email_is_checked(self, service, provider_user):
        contact = ContactFactory(service=service)

        with pytest.raises(ListingInvalid) as raised:
            listings.contact_update(by=provider_user, contact=contact, email="sam at home")
        assert raised.value.field == "email"


class TestCostOptions:
    def test_a_cost_paid_from_the_catalogue(self, service, provider_user):
        catalogue = CatalogueServiceFactory()

        cost = listings.cost_option_add(
            by=provider_user,
            service=service,
            amount="12.50",
            option="Per session",
            catalogue_service=catalogue,
        )

        assert cost.amount == Decimal("12.50")
        assert cost.catalogue_service == catalogue

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"amount": Decimal("-1")}, "amount"),
            ({"amount": Decimal("1.005")}, "amount"),
            ({"amount": 1.5}, "amount"),
            ({"amount": "lots"}, "amount"),
            ({"currency": "EUR"}, "currency"),
            ({"valid_from": date(2026, 5, 1), "valid_to": date(2026, 4, 1)}, "valid_to"),
        ],
    )
    def test_a_bad_cost_names_its_field(self, service, provider_user, changes, field):
        with pytest.raises(ListingInvalid) as raised:
            listings.cost_option_add(by=provider_user, service=service, **changes)

        assert raised.value.field == field
        assert not CostOption.objects.exists()

    def test_a_retired_catalogue_service_is_refused(self, service, provider_user):
        cost = CostOptionFactory(service=service)

        with pytest.raises(ListingInvalid) as raised:
            listings.cost_option_update(
                by=provider_user, cost_option=cost, catalogue_service=CatalogueServiceFactory(is_active=False)
            )

        assert raised.value.field == "catalogue_service"
        assert CostOption.objects.get(pk=cost.pk).catalogue_service is None


class TestSchedulesAreasAndTerms:
    def test_schedule_area_and_term_changes_touch_the_service(self, service, provider_user):
        before = Service.objects.get(pk=service.pk).last_modified
        term = TaxonomyTermFactory()

        schedule = listings.schedule_add(by=provider_user, service=service, freq="weekly", byday="TU")
        area = listings.service_area_add(by=provider_user, service=service, name="Leeds")
        listings.service_term_attach(by=provider_user, service=service, taxonomy_term=term)
        with pytest.raises(listings.TermAlreadyAttached):
            listings.service_term_attach(by=provider_user, service=service, taxonomy_term=term)
        listings.service_term_detach(by=provider_user, service=service, taxonomy_term=term)
        listings.service_area_remove(by=provider_user, service_area=area)

        reloaded = Service.objects.get(pk=service.pk)
        assert schedule.freq == "WEEKLY"
        assert reloaded.last_modified > before
        assert reloaded.assured_date == LONG_AGO
        assert not Attribute.objects.exists()

    def test_a_schedule_that_closes_before_it_opens(self, service, provider_user):
        with pytest.raises(ListingInvalid) as raised:
            listings.schedule_add(by=provider_user, service=service, opens_at="14:00", closes_at="10:00")
        assert raised.value.field == "closes_at"


class TestServicesForProvider:
    def test_stale_first_then_by_name(self, organisation, provider_user):
        ServiceFactory(organisation=organisation, name="B fresh", assured_date=TODAY)
        ServiceFactory(organisation=organisation, name="A fresh", assured_date=TODAY)
        ServiceFactory(organisation=organisation, name="Z stale", assured_date=None)
        ServiceFactory(name="Someone else's", assured_date=None)

        services = services_for_provider(provider=provider_user.organisation, today=TODAY)

        assert [(s.name, s.is_stale) for s in services] == [
            ("Z stale", True),
            ("A fresh", False),
            ("B fresh", False),
        ]
        assert services[1].review_due_on == date(2027, 6, 4)


class TestServicesStaleNotify:
    def _run(self, callbacks, today=TODAY):
        with callbacks(execute=True):
            return listings.services_stale_notify(today=today)

    def test_one_email_per_provider_then_none(
        self, service, organisation, provider_user, mailoutbox, django_capture_on_commit_callbacks
    ):
        colleague = ProviderUserFactory(organisation=provider_user.organisation)
        ProviderUserFactory(organisation=provider_user.organisation, is_active=False)
        ServiceFactory(organisation=organisation, name="Lunch club", assured_date=None)
        ServiceFactory(organisation=organisation, name="Fresh", assured_date=TODAY)
        other = ServiceFactory(organisation=DirectoryOrganisationFactory(provider=ProviderFactory()))
        ProviderUserFactory(organisation=other.organisation.provider)
        Service.objects.filter(pk=other.pk).update(assured_date=LONG_AGO)

        told = self._run(django_capture_on_commit_callbacks)

        assert told == 2
        assert len(mailoutbox) == 2
        ours = next(m for m in mailoutbox if provider_user.email in m.to)
        assert sorted(ours.to) == sorted([provider_user.email, colleague.email])
        assert "2 services need a review" in ours.subject
        assert "Day centre" in ours.body and "Lunch club" in ours.body and "Fresh" not in ours.body
        assert "hidden from suggestions for people's plans from 10 January 2027" in ours.body
        assert "Lunch club: never reviewed; it is already hidden" in ours.body
        assert Service.objects.get(pk=service.pk).stale_notified_at is not None

        mailoutbox.clear()
        assert self._run(django_capture_on_commit_callbacks) == 0
        assert mailoutbox == []

    def test_a_review_then_going_stale_again_is_told_again(
        self, service, provider_user, mailoutbox, django_capture_on_commit_callbacks
    ):
        self._run(django_capture_on_commit_callbacks)
        listings.service_review(by=provider_user, service=service)
        mailoutbox.clear()

        later = timezone.localdate() + timedelta(days=200)
        assert self._run(django_capture_on_commit_callbacks, today=later) == 1
        assert len(mailoutbox) == 1

    def test_a_provider_with_nobody_to_tell_is_tried_again(
        self, organisation, mailoutbox, django_capture_on_commit_callbacks
    ):
        lonely = ServiceFactory(
            organisation=DirectoryOrganisationFactory(provider=ProviderFactory()), assured_date=None
        )

        assert self._run(django_capture_on_commit_callbacks) == 0
        assert Service.objects.get(pk=lonely.pk).stale_notified_at is None

    def test_services_of_no_provider_are_not_flagged(self, mailoutbox, django_capture_on_commit_callbacks):
        ServiceFactory(assured_date=None)

        assert self._run(django_capture_on_commit_callbacks) == 0

    def test_queries_do_not_grow_with_the_services(self, mailoutbox):
        def queries_for(count: int, today: date) -> int:
            user = ProviderUserFactory()
            organisation = DirectoryOrganisationFactory(provider=user.organisation)
            for number in range(count):
                ServiceFactory(organisation=organisation, name=f"Service {number}", assured_date=LONG_AGO)
            with CaptureQueriesContext(connection) as queries:
                assert listings.services_stale_notify(today=today) == 1
            return len(queries)

        one = queries_for(1, TODAY)
        twenty = queries_for(20, TODAY)

        assert one == twenty
        assert Service.objects.filter(stale_notified_at__isnull=True).count() == 0

    def test_the_command_and_the_task(
        self, service, provider_user, mailoutbox, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            call_command("directory_stale_notify", "--today", "2026-12-04")
        assert len(mailoutbox) == 1
        with django_capture_on_commit_callbacks(execute=True):
            assert services_stale_notify_task.delay().get() == 0
        assert len(mailoutbox) == 1


class TestAdmin:
    @pytest.mark.parametrize(
        "model",
        ["directoryorganisation", "service", "location", "contact", "costoption", "taxonomyterm", "postcode"],
    )
    def test_administrators_look_records_up_and_change_nothing(
        self, client, sign_in_verified, service, model
    ):
        ContactFactory(service=service)
        CostOptionFactory(service=service)
        sign_in_verified(client, AdministratorFactory(is_staff=True, is_superuser=True))

        listing = client.get(reverse(f"admin:directory_{model}_changelist"))
        added = client.get(reverse(f"admin:directory_{model}_add"))

        assert listing.status_code == 200
        assert added.status_code == 403

    def test_a_service_shows_with_its_records(self, client, sign_in_verified, service):
        CostOptionFactory(service=service, amount=Decimal("4.50"))
        sign_in_verified(client, AdministratorFactory(is_staff=True, is_superuser=True))

        page = client.get(reverse("admin:directory_service_change", args=[service.pk]))

        assert page.status_code == 200
        assert "4.50" in page.content.decode()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
class TestStaleNotifyConcurrently:
    def test_two_runs_at_once_send_one_email(self, mailoutbox):
        user = ProviderUserFactory()
        organisation = DirectoryOrganisationFactory(provider=user.organisation)
        for number in range(5):
            ServiceFactory(organisation=organisation, name=f"Service {number}", assured_date=LONG_AGO)

        results = run_in_threads(2, lambda index: listings.services_stale_notify(today=TODAY))

        assert sorted(results) == [0, 1]
        assert len(mailoutbox) == 1
        assert not Service.objects.filter(stale_notified_at__isnull=True).exists()
