"""Open Referral UK files: exported as the standard's API shapes them, imported whole or refused whole with
each record and field named, and a round trip that loses nothing."""

import datetime
import uuid
from decimal import Decimal

import pytest

from directory.models import CostOption, DirectoryOrganisation, Service, TaxonomyTerm
from directory.oruk import oruk_dumps, oruk_loads
from directory.selectors.oruk import directory_oruk_export
from directory.services.oruk import OrukFileInvalid, directory_oruk_import
from tests.budgets.factories import ServiceFactory as CatalogueServiceFactory
from tests.directory.factories import (
    AddressFactory,
    AttributeFactory,
    ContactFactory,
    CostOptionFactory,
    LocationFactory,
    PhoneFactory,
    ScheduleFactory,
    ServiceAreaFactory,
    ServiceAtLocationFactory,
    ServiceFactory,
    TaxonomyTermFactory,
)
from tests.people.factories import ProviderFactory

pytestmark = pytest.mark.django_db


def _everything():
    """A directory using every class and an unmodelled property, and a term with a parent."""
    catalogue = CatalogueServiceFactory(service_code="ASC-PC")
    service = ServiceFactory(
        name="Community Counselling",
        url="https://example.org/counselling",
        minimum_age=16,
        maximum_age=99,
        assured_date=datetime.date(2026, 11, 1),
        eligibility_description="Adults in Leeds",
        extra={"x_local_code": "LC-1", "wait_time": "2 weeks"},
    )
    place = ServiceAtLocationFactory(service=service, location=LocationFactory(latitude=Decimal("53.799512")))
    AddressFactory(location=place.location)
    ScheduleFactory(service=None, service_at_location=place, opens_at=datetime.time(10, 0))
    ScheduleFactory(service=service)
    contact = ContactFactory(service=service)
    PhoneFactory(service=None, contact=contact)
    PhoneFactory(service=service)
    ServiceAreaFactory(service=service)
    CostOptionFactory(service=service, amount=Decimal("35.50"), catalogue_service=catalogue)
    CostOptionFactory(service=service, option="Carers", amount=None)
    parent = TaxonomyTermFactory(name="Mental health")
    AttributeFactory(service=service, taxonomy_term=TaxonomyTermFactory(name="Counselling", parent=parent))
    AttributeFactory(service=service, taxonomy_term=parent)
    ServiceFactory(organisation=service.organisation, name="Drop-in", status="temporarily closed")
    return service


def _wipe():
    from directory import models

    for model in (
        models.Attribute,
        models.Schedule,
        models.Phone,
        models.Contact,
        models.ServiceAtLocation,
        models.Address,
        models.Location,
        models.CostOption,
        models.ServiceArea,
        models.Language,
        models.Funding,
        models.Service,
        models.OrganisationIdentifier,
        models.DirectoryOrganisation,
    ):
        model.objects.all().delete()
    TaxonomyTerm.objects.update(parent=None)
    TaxonomyTerm.objects.all().delete()
    models.Taxonomy.objects.all().delete()


class TestExport:
    def test_each_service_comes_in_full_in_the_standards_page_shape(self):
        service = _everything()
        document = directory_oruk_export()
        assert document["total_items"] == 2 and document["first_page"] and document["last_page"]
        exported = next(item for item in document["contents"] if item["id"] == str(service.id))
        assert exported["status"] == "active" and exported["organization"]["id"] == str(
            service.organisation_id
        )
        assert exported["service_at_locations"][0]["location"]["addresses"][0]["postal_code"] == "LS1 5HD"
        assert exported["service_at_locations"][0]["schedules"][0]["opens_at"] == "10:00:00"
        assert {option.get("amount") for option in exported["cost_options"]} == {Decimal("35.50"), None}
        assert [o.get("purse_service_code") for o in exported["cost_options"] if "amount" in o] == ["ASC-PC"]
        assert {a["taxonomy_term"]["name"] for a in exported["attributes"]} == {
            "Counselling",
            "Mental health",
        }
        assert exported["x_local_code"] == "LC-1"

    def test_amounts_and_coordinates_are_exact_json_numbers(self):
        _everything()
        text = oruk_dumps(directory_oruk_export())
        assert '"amount": 35.50' in text and '"latitude": 53.799512' in text

    def test_the_query_count_does_not_grow_with_the_services(self, django_assert_max_num_queries):
        _everything()
        with django_assert_max_num_queries(20):
            directory_oruk_export()
        for _ in range(15):
            _everything_more()
        with django_assert_max_num_queries(20):
            assert directory_oruk_export()["total_items"] == 17


def _everything_more():
    service = ServiceFactory()
    ServiceAtLocationFactory(service=service)
    CostOptionFactory(service=service)
    AttributeFactory(service=service)


class TestRoundTrip:
    def test_export_import_export_gives_the_same_file(self):
        _everything()
        first = oruk_dumps(directory_oruk_export())
        _wipe()
        assert Service.objects.count() == 0
        summary = directory_oruk_import(data=first)
        assert (summary.services_created, summary.services_updated) == (2, 0)
        assert oruk_dumps(directory_oruk_export()) == first

    def test_importing_the_same_file_again_updates_and_changes_nothing(self):
        _everything()
        first = oruk_dumps(directory_oruk_export())
        summary = directory_oruk_import(data=first)
        assert (summary.services_created, summary.services_updated) == (0, 2)
        assert oruk_dumps(directory_oruk_export()) == first

    def test_a_providers_organisation_keeps_its_provider(self):
        provider = ProviderFactory()
        service = ServiceFactory(organisation__provider=provider)
        directory_oruk_import(data=oruk_dumps(directory_oruk_export()))
        assert DirectoryOrganisation.objects.get(pk=service.organisation_id).provider == provider

    def test_a_list_the_file_shortens_is_shortened(self):
        service = ServiceFactory()
        CostOptionFactory(service=service)
        document = oruk_loads(oruk_dumps(directory_oruk_export()))
        document["contents"][0]["cost_options"] = []
        directory_oruk_import(data=oruk_dumps(document))
        assert not CostOption.objects.filter(service=service).exists()


def _file(**service_changes):
    service = {
        "id": str(uuid.uuid4()),
        "name": "Walking group",
        "status": "active",
        "url": "https://example.org/walk",
        "organization": {"id": str(uuid.uuid4()), "name": "Friends of the Park"},
    }
    service.update(service_changes)
    return {"contents": [service]}


class TestValidation:
    def _problems(self, document) -> list[dict]:
        with pytest.raises(OrukFileInvalid) as refused:
            directory_oruk_import(data=oruk_dumps(document) if not isinstance(document, str) else document)
        return refused.value.errors

    def test_a_good_minimal_file_is_imported(self):
        assert directory_oruk_import(data=oruk_dumps(_file())).services_created == 1

    def test_a_bad_field_names_the_record_and_the_field_and_nothing_is_written(self):
        document = _file(status="open")
        good = _file()["contents"][0]
        document["contents"].insert(0, good)
        problems = self._problems(document)
        assert [p["pointer"] for p in problems] == ["/contents/1/status"]
        assert "Service 2" in problems[0]["detail"] and "“Walking group”" in problems[0]["detail"]
        assert "status must be one of active, inactive, defunct, temporarily closed" in problems[0]["detail"]
        assert Service.objects.count() == 0

    @pytest.mark.parametrize(
        ("change", "pointer", "words"),
        [
            ({"name": ""}, "/contents/0/name", "name is missing"),
            ({"id": "not-a-uuid"}, "/contents/0/id", "must be a UUID"),
            ({"assured_date": "01/11/2026"}, "/contents/0/assured_date", "YYYY-MM-DD"),
            ({"minimum_age": 30, "maximum_age": 20}, "/contents/0/maximum_age", "below minimum_age"),
            ({"email": "nobody"}, "/contents/0/email", "email address"),
            ({"url": "ftp://x"}, "/contents/0/url", "web address"),
            ({"last_modified": "2026-11-30T10:30:00"}, "/contents/0/last_modified", "time zone"),
            (
                {"cost_options": [{"id": str(uuid.uuid4()), "amount": -1}]},
                "/contents/0/cost_options/0/amount",
                "0 or more",
            ),
            (
                {"cost_options": [{"id": str(uuid.uuid4()), "amount": 3.333}]},
                "/contents/0/cost_options/0/amount",
                "pounds and pence",
            ),
            (
                {"cost_options": [{"id": str(uuid.uuid4()), "purse_service_code": "NOPE"}]},
                "/contents/0/cost_options/0/purse_service_code",
                "not a service in any rate catalogue",
            ),
            (
                {"schedules": [{"id": str(uuid.uuid4()), "freq": "DAILY"}]},
                "/contents/0/schedules/0/freq",
                "WEEKLY, MONTHLY",
            ),
            ({"contacts": "Ann"}, "/contents/0/contacts", "must be a list"),
            (
                {"organization": None, "organization_id": str(uuid.uuid4())},
                "/contents/0/organization",
                "names no organisation",
            ),
        ],
    )
    def test_each_kind_of_mistake_is_named(self, change, pointer, words):
        problems = self._problems(_file(**change))
        assert [p["pointer"] for p in problems] == [pointer]
        assert words in problems[0]["detail"]

    def test_a_location_needs_both_coordinates_or_neither(self):
        place = {"id": str(uuid.uuid4()), "location": {"id": str(uuid.uuid4()), "latitude": 53.8}}
        problems = self._problems(_file(service_at_locations=[place]))
        assert problems[0]["pointer"] == "/contents/0/service_at_locations/0/location/latitude"

    def test_a_term_whose_parent_is_nowhere_is_refused(self):
        term = {"id": str(uuid.uuid4()), "name": "Child", "parent_id": str(uuid.uuid4())}
        attribute = {"id": str(uuid.uuid4()), "taxonomy_term": term}
        problems = self._problems(_file(attributes=[attribute]))
        assert problems[0]["pointer"] == "/contents/0/attributes/0/taxonomy_term/parent_id"

    def test_every_problem_is_listed_not_only_the_first(self):
        problems = self._problems(_file(status="open", email="nobody", minimum_age=-3))
        assert {p["pointer"] for p in problems} == {
            "/contents/0/status",
            "/contents/0/email",
            "/contents/0/minimum_age",
        }

    def test_a_service_twice_in_the_file_is_refused(self):
        document = _file()
        document["contents"].append(dict(document["contents"][0]))
        assert self._problems(document)[0]["pointer"] == "/contents/1/id"

    @pytest.mark.parametrize("text", ["{not json", '"a string"', "{}", "[1]"])
    def test_a_file_that_is_not_open_referral_json_is_refused_plainly(self, text):
        problems = self._problems(text)
        assert problems and all(p["code"] == "invalid_oruk_file" for p in problems)


class TestCommands:
    def test_export_to_a_file_then_import_it(self, tmp_path):
        from django.core.management import call_command

        _everything()
        path = tmp_path / "directory.json"
        call_command("directory_export", "--output", str(path))
        _wipe()
        from io import StringIO

        out = StringIO()
        call_command("directory_import", str(path), stdout=out)
        assert "Imported 2 services (2 new, 0 updated)" in out.getvalue()
        assert oruk_dumps(directory_oruk_export()) + "\n" == path.read_text(encoding="utf-8")

    def test_a_bad_file_lists_each_problem_and_imports_nothing(self, tmp_path):
        from io import StringIO

        from django.core.management import CommandError, call_command

        path = tmp_path / "bad.json"
        path.write_text(oruk_dumps(_file(status="open", email="nobody")), encoding="utf-8")
        err = StringIO()
        with pytest.raises(CommandError, match="Nothing was imported: 2 problems"):
            call_command("directory_import", str(path), stderr=err)
        assert "status must be one of" in err.getvalue() and "/contents/0/email" in err.getvalue()
        assert Service.objects.count() == 0

    def test_a_missing_file_is_said_plainly(self, tmp_path):
        from django.core.management import CommandError, call_command

        with pytest.raises(CommandError, match="Could not read"):
            call_command("directory_import", str(tmp_path / "nope.json"))
