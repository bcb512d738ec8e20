from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from people.models import Organisation, OrganisationKind, Representative, Role, User
from tests.people.factories import (
    AgencyFactory,
    AgencyOfficerFactory,
    BudgetHolderFactory,
    NavigatorFactory,
    PersonalTokenFactory,
    ProviderFactory,
    RepresentativeFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


class TestPublicIds:
    def test_each_model_has_its_prefix(self):
        grant = RepresentativeFactory()

        assert grant.user.public_id.startswith("usr_")
        assert grant.budget_holder.public_id.startswith("per_")
        assert grant.public_id.startswith("rep_")
        assert AgencyFactory().public_id.startswith("agy_")
        assert ProviderFactory().public_id.startswith("pro_")
        assert PersonalTokenFactory().public_id.startswith("tok_")

    def test_ids_are_opaque_and_distinct(self):
        ids = {UserFactory().public_id for _ in range(20)}

        assert len(ids) == 20
        assert all(len(public_id) == 20 for public_id in ids)


class TestUserRoleAndOrganisation:
    @pytest.mark.parametrize("role", [Role.AGENCY_OFFICER, Role.PROVIDER_USER])
    def test_organisation_roles_need_an_organisation_in_the_database(self, role):
        with pytest.raises(IntegrityError), transaction.atomic():
            User.objects.create(username="x", role=role, organisation=None)

    @pytest.mark.parametrize("role", [Role.BUDGET_HOLDER, Role.NAVIGATOR, Role.FINANCE_OFFICER])
    def test_other_roles_may_not_have_one_in_the_database(self, role):
        with pytest.raises(IntegrityError), transaction.atomic():
            User.objects.create(username="x", role=role, organisation=AgencyFactory())

    def test_an_unknown_role_is_refused_by_the_database(self):
        with pytest.raises(IntegrityError), transaction.atomic():
            User.objects.create(username="x", role="wizard")

    def test_clean_refuses_the_wrong_kind_of_organisation(self):
        user = User(username="x", role=Role.AGENCY_OFFICER, organisation=ProviderFactory())

        with pytest.raises(ValidationError) as excinfo:
            user.full_clean(exclude=["password"])

        assert "organisation" in excinfo.value.message_dict

    def test_clean_accepts_the_right_kind(self):
        user = User(username="x", role=Role.PROVIDER_USER, organisation=ProviderFactory())

        user.full_clean(exclude=["password"])

    @pytest.mark.parametrize(
        ("role", "needs"),
        [
            (Role.BUDGET_HOLDER, False),
            (Role.REPRESENTATIVE, False),
            (Role.PROVIDER_USER, False),
            (Role.NAVIGATOR, True),
            (Role.AGENCY_OFFICER, True),
            (Role.FINANCE_OFFICER, True),
            (Role.ADMINISTRATOR, True),
        ],
    )
    def test_staff_roles_need_a_second_factor(self, role, needs):
        user = User(username="x", role=role)

        assert user.is_staff_role is needs
        assert user.needs_second_factor is needs

    def test_anyone_allowed_into_django_admin_needs_a_second_factor(self):
        assert User(username="x", role=Role.BUDGET_HOLDER, is_staff=True).needs_second_factor

    def test_createsuperuser_makes_an_administrator(self):
        user = User.objects.create_superuser("root", "root@example.org", "a-long-password-1")

        assert user.role == Role.ADMINISTRATOR


class TestOrganisation:
    def test_public_id_must_match_kind(self):
        with pytest.raises(IntegrityError), transaction.atomic():
            Organisation.objects.create(
                kind=OrganisationKind.PROVIDER, name="X", slug="x", public_id="agy_123"
            )

    def test_slug_is_unique(self):
        ProviderFactory(slug="bright-care")

        with pytest.raises(IntegrityError), transaction.atomic():
            ProviderFactory(slug="bright-care")

    def test_agency_officer_factory_belongs_to_an_agency(self):
        assert AgencyOfficerFactory().organisation.kind == OrganisationKind.AGENCY


class TestRepresentative:
    def test_one_active_grant_per_pair(self):
        grant = RepresentativeFactory()

        with pytest.raises(IntegrityError), transaction.atomic():
            RepresentativeFactory(user=grant.user, budget_holder=grant.budget_holder)

    def test_a_revoked_grant_does_not_block_a_new_one(self):
        grant = RepresentativeFactory(revoked_at=timezone.now())

        RepresentativeFactory(user=grant.user, budget_holder=grant.budget_holder)

        assert Representative.objects.filter(budget_holder=grant.budget_holder).count() == 2

    def test_revoker_only_when_revoked(self):
        with pytest.raises(IntegrityError), transaction.atomic():
            RepresentativeFactory(revoked_by=NavigatorFactory())

    def test_revoked_before_granted_is_refused(self):
        with pytest.raises(IntegrityError), transaction.atomic():
            RepresentativeFactory(granted_at=timezone.now(), revoked_at=timezone.now() - timedelta(days=1))

    def test_unknown_power_is_refused(self):
        with pytest.raises(IntegrityError), transaction.atomic():
            RepresentativeFactory(power="own")

    def test_may_approve_only_while_active_with_approve_power(self):
        assert RepresentativeFactory(power="approve").may_approve
        assert not RepresentativeFactory(power="view").may_approve
        assert not RepresentativeFactory(power="approve", revoked_at=timezone.now()).may_approve


class TestBudgetHolder:
    def test_a_budget_holder_need_not_sign_in(self):
        holder = BudgetHolderFactory(user=None, full_name="Pat Jones", preferred_name="Pat")

        assert holder.user is None
        assert holder.name_to_use == "Pat"
        assert str(holder) == "Pat Jones"

    def test_one_sign_in_is_one_budget_holder(self):
        holder = BudgetHolderFactory()

        with pytest.raises(IntegrityError), transaction.atomic():
            BudgetHolderFactory(user=holder.user)


@pytest.mark.postgres
class TestAuditEventIsAppendOnly:
    def test_update_and_delete_are_refused_by_the_database(self):
        from django.db import DatabaseError

        from people import services
        from people.models import AuditEvent

        event = services.audit_event_record(actor=None, action="test.done", obj=UserFactory())

        with pytest.raises(DatabaseError), transaction.atomic():
            AuditEvent.objects.filter(pk=event.pk).update(action="test.undone")
        with pytest.raises(DatabaseError), transaction.atomic():
            AuditEvent.objects.filter(pk=event.pk).delete()
        assert AuditEvent.objects.get(pk=event.pk).action == "test.done"
