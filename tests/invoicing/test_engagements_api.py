"""`GET /api/v1/engagements/` (api.md, "For providers"): what each provider is engaged to deliver, what has
been invoiced against it, and how a plan change mid-year splits an engagement so that the rate on a service
date is the rate of the engagement covering it."""

from decimal import Decimal

import pytest

from invoicing import services
from invoicing.models import InvoiceLine, InvoiceStatus
from plans.models import Engagement, SupportItem
from plans.services import versions, workflow
from tests.invoicing.world import build_invoicing_world, invoice_body, provider_client, submit
from tests.plans.factories import PERIOD_END, PERIOD_START, provider

pytestmark = pytest.mark.django_db

ENGAGEMENTS = "/api/v1/engagements/"
INVOICES = "/api/v1/invoices/"
# The fields api.md promises for each engagement (v1 may add fields, never remove or rename these).
API_MD_FIELDS = {
    "support_item",
    "person",
    "person_name",
    "service_code",
    "description",
    "unit",
    "agreed_rate",
    "currency",
    "starts_on",
    "ends_on",
    "planned_quantity",
    "invoiced_quantity",
}


@pytest.fixture
def world(monkeypatch):
    return build_invoicing_world(monkeypatch)


def engagements(client, **params) -> list[dict]:
    response = client.get(ENGAGEMENTS, params)
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"results", "next", "previous"}
    return body["results"]


def activate_october_change(world, *, care_rate_minor: int) -> None:
    """Activate Alex's version 2 (from 1 October) with a new agreed rate for `care`, as agencies would."""
    base = world.base
    care = base.item_in(base.v2, "care")
    versions.support_item_update(item=care, by=base.users["navigator"], agreed_rate_minor=care_rate_minor)
    workflow.plan_version_agree(version=base.v2, agreed_by=base.alex.user)
    for code in ("ASC", "ILF", "ATW"):
        workflow.plan_stream_approve(version=base.v2, stream_code=code, approved_by=base.officers[code])


class TestEngagementList:
    def test_a_provider_sees_its_engagement_with_the_fields_of_api_md(self, world):
        (engagement,) = engagements(provider_client("bright-care"))

        assert set(engagement) >= API_MD_FIELDS
        assert {field: engagement[field] for field in API_MD_FIELDS} == {
            "support_item": world.base.items["care"].public_id,
            "person": world.base.alex.public_id,
            "person_name": world.base.alex.full_name,
            "service_code": "ASC-PC",
            "description": "Personal care",
            "unit": "hour",
            "agreed_rate": "24.50",
            "currency": "GBP",
            "starts_on": "2026-04-01",
            "ends_on": "2027-03-31",
            "planned_quantity": "730.00",  # 14 hours a week x 365 / 7
            "invoiced_quantity": "0.00",
        }

    def test_each_provider_sees_only_its_own(self, world):
        able = engagements(provider_client("able-assist"))
        dales = engagements(provider_client("dales-adaptations"))
        stranger = engagements(world.client("provider_not_engaged"))

        assert [(e["support_item"], e["person"]) for e in able] == [
            (world.base.items["work"].public_id, world.base.alex.public_id)
        ]
        assert (able[0]["service_code"], able[0]["agreed_rate"], able[0]["planned_quantity"]) == (
            "ATW-SW",
            "18.00",
            "312.86",
        )
        assert [(e["service_code"], e["person"], e["agreed_rate"]) for e in dales] == [
            ("DFG-RAMP", world.base.sam.public_id, "3500.00")
        ]
        assert stranger == []

    def test_the_person_sees_their_engagements_with_every_provider(self, world):
        mine = engagements(world.client("holder"))
        other = engagements(world.client("other_holder"))

        assert sorted(e["service_code"] for e in mine) == ["ASC-PC", "ATW-SW"]
        assert [e["service_code"] for e in other] == ["DFG-RAMP"]

    def test_person_narrows_the_list(self, world):
        finance = world.client("finance")

        everyone = engagements(finance)
        sams = engagements(finance, person=world.base.sam.public_id)

        assert len(everyone) == 3
        assert [e["service_code"] for e in sams] == ["DFG-RAMP"]

    def test_an_agency_officer_sees_no_engagements(self, world):
        assert engagements(world.client("officer_asc")) == []

    def test_without_credentials_it_is_401(self, world):
        response = world.client("anonymous").get(ENGAGEMENTS)

        assert response.status_code == 401
        assert response["Content-Type"] == "application/problem+json"


class TestInvoicedQuantity:
    def test_it_counts_invoices_awaiting_approval_held_and_approved_but_not_rejected_or_withdrawn(
        self, world
    ):
        holder = world.users["holder"]
        submit(world.care, number="AWAITING", lines=[("2026-10-03", "3.50")])
        approved = submit(world.care, number="APPROVED", lines=[("2026-10-04", "2.00")])
        services.invoice_approve(invoice=approved, by=holder)
        queried = submit(world.care, number="QUERIED", lines=[("2026-10-05", "1.25")])
        services.invoice_query(invoice=queried, by=holder, reason="Which carer?")
        rejected = submit(world.care, number="REJECTED", lines=[("2026-10-06", "10.00")])
        services.invoice_reject(invoice=rejected, by=holder, reason="Not delivered.")
        withdrawn = submit(world.care, number="WITHDRAWN", lines=[("2026-10-07", "5.00")])
        services.invoice_withdraw(invoice=withdrawn, by=withdrawn.submitted_by)

        (engagement,) = engagements(provider_client("bright-care"))

        assert engagement["invoiced_quantity"] == "6.75"  # 3.50 + 2.00 + 1.25

    def test_it_counts_paid_and_on_hold_invoices(self, world):
        paid = submit(world.work, number="PAID", lines=[("2026-10-03", "6.00")])
        services.invoice_approve(invoice=paid, by=world.users["holder"])
        paid.refresh_from_db()
        services.remittance_record(
            provider=paid.provider, invoices=[paid], reference="BACS-9", paid_on=paid.issued_on, by=None
        )
        held = submit(world.work, number="HELD", lines=[("2026-10-04", "310.00")])
        assert held.status == InvoiceStatus.ON_HOLD

        (engagement,) = engagements(provider_client("able-assist"))

        assert engagement["invoiced_quantity"] == "316.00"

    def test_it_counts_each_line_once_whatever_the_number_of_streams(self, world):
        # Care lines are paid by two streams (ASC and ILF): the quantity must not be counted twice.
        submit(world.care, lines=[("2026-10-03", "3.50"), ("2026-10-04", "1.50")])

        (engagement,) = engagements(provider_client("bright-care"))
        (holders,) = [e for e in engagements(world.client("holder")) if e["service_code"] == "ASC-PC"]

        assert engagement["invoiced_quantity"] == holders["invoiced_quantity"] == "5.00"


class TestPlanChangeMidYear:
    def test_the_old_engagement_is_cut_to_the_day_before_and_the_new_one_has_the_new_rate(self, world):
        activate_october_change(world, care_rate_minor=2600)

        listed = sorted(engagements(provider_client("bright-care")), key=lambda e: e["starts_on"])

        assert [(e["starts_on"], e["ends_on"], e["agreed_rate"]) for e in listed] == [
            ("2026-04-01", "2026-09-30", "24.50"),
            ("2026-10-01", "2027-03-31", "26.00"),
        ]
        assert {e["support_item"] for e in listed} == {world.base.items["care"].public_id}

    def test_each_engagement_plans_the_quantity_of_its_own_days(self, world):
        # 14 hours a week: 183 days (April to September) are 366.00 hours, 182 (October to March) 364.00.
        activate_october_change(world, care_rate_minor=2600)

        listed = sorted(engagements(provider_client("bright-care")), key=lambda e: e["starts_on"])

        assert [e["planned_quantity"] for e in listed] == ["366.00", "364.00"]
        assert sum(Decimal(e["planned_quantity"]) for e in listed) == Decimal("730.00")

    def test_the_rate_on_a_service_date_is_the_rate_of_the_engagement_covering_it(self, world):
        activate_october_change(world, care_rate_minor=2600)
        client = provider_client("bright-care")

        september = client.post(
            INVOICES,
            invoice_body(world.care, number="SEP", lines=[("2026-09-30", "2.00")], unit_price="26.00"),
            format="json",
        )
        october = client.post(
            INVOICES,
            invoice_body(world.care, number="OCT", lines=[("2026-10-01", "2.00")], unit_price="26.00"),
            format="json",
        )

        assert september.status_code == 422
        assert [(e["code"], e["pointer"]) for e in september.json()["errors"]] == [
            ("rate_above_agreed", "/lines/0/unit_price")
        ]
        assert "24.50 GBP per hour on 2026-09-30" in september.json()["errors"][0]["detail"]
        assert october.status_code == 201, october.content

    def test_each_line_is_attributed_to_the_engagement_covering_its_date(self, world):
        activate_october_change(world, care_rate_minor=2600)
        old = Engagement.objects.get(
            support_item_public_id=world.care.support_item_public_id, ends_on="2026-09-30"
        )
        new = Engagement.objects.get(
            support_item_public_id=world.care.support_item_public_id, starts_on="2026-10-01"
        )
        body = invoice_body(world.care, lines=[("2026-09-30", "2.00"), ("2026-10-01", "2.00")])
        body["lines"][1]["unit_price"] = "26.00"
        body["lines"][1]["amount"] = "52.00"
        body["total"] = "101.00"

        response = provider_client("bright-care").post(INVOICES, body, format="json")

        assert response.status_code == 201, response.content
        lines = InvoiceLine.objects.filter(invoice__public_id=response.json()["id"]).order_by("position")
        assert [line.engagement_id for line in lines] == [old.pk, new.pk]
        listed = {e["starts_on"]: e["invoiced_quantity"] for e in engagements(provider_client("bright-care"))}
        assert listed == {"2026-04-01": "2.00", "2026-10-01": "2.00"}

    def test_a_lower_new_rate_refuses_the_old_rate_after_the_change(self, world):
        activate_october_change(world, care_rate_minor=2300)
        client = provider_client("bright-care")

        october = client.post(
            INVOICES, invoice_body(world.care, lines=[("2026-10-01", "1.00")]), format="json"
        )
        september = client.post(
            INVOICES, invoice_body(world.care, number="SEP", lines=[("2026-09-30", "1.00")]), format="json"
        )

        assert [e["code"] for e in october.json()["errors"]] == ["rate_above_agreed"]
        assert september.status_code == 201

    def test_a_provider_whose_engagements_were_all_replaced_no_longer_knows_the_person(self, world):
        # A change from the first day of the year gives Alex's care to able-assist instead: bright-care's
        # engagement is replaced, so Alex is, to bright-care, an unknown person.
        base = world.base
        navigator = base.users["navigator"]
        workflow.plan_version_withdraw(version=base.v2, by=navigator, reason="Not this one.")
        v3 = versions.plan_version_start_from(
            version=base.v1, started_by=navigator, effective_from=PERIOD_START, change_reason="New carer."
        )
        care = SupportItem.objects.get(version=v3, public_id=base.items["care"].public_id)
        versions.support_item_update(item=care, by=navigator, provider=provider("able-assist"))
        workflow.plan_version_agree(version=v3, agreed_by=base.alex.user)
        for code in ("ASC", "ILF", "ATW"):
            workflow.plan_stream_approve(version=v3, stream_code=code, approved_by=base.officers[code])
        client = provider_client("bright-care")

        response = client.post(INVOICES, invoice_body(world.care), format="json")

        assert engagements(client) == []
        assert response.status_code == 422
        assert [(e["code"], e["pointer"]) for e in response.json()["errors"]] == [
            ("unknown_person", "/person")
        ]
        assert Engagement.objects.get(pk=world.care.pk).replaced_at is not None
        able = {e["service_code"]: e for e in engagements(provider_client("able-assist"))}
        assert (able["ASC-PC"]["starts_on"], able["ASC-PC"]["ends_on"]) == (
            PERIOD_START.isoformat(),
            PERIOD_END.isoformat(),
        )
