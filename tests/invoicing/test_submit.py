"""Submitting an invoice through the API with a provider's key (api.md, "For providers").

Every check of api.md's table refuses the whole submission, lists each failure with its `code` and `pointer`,
and stores nothing; a malformed body is a 400; findings put an invoice on hold; and a stored invoice records
who pays for each line (its streams), the outcomes it serves, its history and an entry on the person's
timeline.
"""

from decimal import Decimal

import pytest

from invoicing import services
from invoicing.models import Invoice, InvoiceEvent, InvoiceLine, InvoiceLineFunding, InvoiceStatus
from ledger.models import Transaction
from ledger.money import money_allocate
from plans.models import TimelineEntry, TimelineVisibility
from tests.invoicing.world import TODAY, build_invoicing_world, invoice_body, provider_client, submit

pytestmark = pytest.mark.django_db

INVOICES = "/api/v1/invoices/"
PROBLEM = "application/problem+json"


@pytest.fixture
def world(monkeypatch):
    return build_invoicing_world(monkeypatch)


@pytest.fixture
def bright_care():
    return provider_client("bright-care")


def stored() -> dict[str, int]:
    """Everything a submission could write."""
    return {
        "invoices": Invoice.objects.count(),
        "lines": InvoiceLine.objects.count(),
        "funding": InvoiceLineFunding.objects.count(),
        "events": InvoiceEvent.objects.count(),
        "timeline": TimelineEntry.objects.count(),
        "ledger": Transaction.objects.count(),
    }


def codes_and_pointers(response) -> list[tuple[str, str]]:
    return [(error["code"], error["pointer"]) for error in response.json()["errors"]]


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    assert body["detail"]
    for error in body.get("errors", []):
        assert error["detail"], error
    return body


def assert_refused_alone(response, *, status: int, code: str, pointer: str) -> None:
    """The answer is a problem of `status` naming exactly one failure, `code` at `pointer`."""
    body = assert_problem(response, status)
    assert codes_and_pointers(response) == [(code, pointer)]
    assert body["type"].endswith("/" + code)


class TestInvoiceSubmitRefused:
    """One test per row of api.md's table: the status, the code and pointer, and nothing stored."""

    def test_an_unknown_person_is_unknown_person(self, world, bright_care):
        body = invoice_body(world.care) | {"person": "per_doesnotexist0000"}
        before = stored()

        response = bright_care.post(INVOICES, body, format="json")

        assert_refused_alone(response, status=422, code="unknown_person", pointer="/person")
        assert stored() == before

    def test_a_person_the_provider_is_not_engaged_with_is_unknown_person(self, world, bright_care):
        # Sam exists, but bright-care supports only Alex: a provider learns nothing of others' clients.
        body = invoice_body(world.care) | {"person": world.base.sam.public_id}
        before = stored()

        response = bright_care.post(INVOICES, body, format="json")

        assert_problem(response, 422)
        assert ("unknown_person", "/person") in codes_and_pointers(response)
        assert "not_engaged" not in [code for code, _ in codes_and_pointers(response)]
        assert stored() == before

    def test_an_unknown_support_item_is_unknown_support_item(self, world, bright_care):
        body = invoice_body(world.care)
        body["lines"][0]["support_item"] = "si_doesnotexist0000"
        before = stored()

        response = bright_care.post(INVOICES, body, format="json")

        assert_refused_alone(
            response, status=422, code="unknown_support_item", pointer="/lines/0/support_item"
        )
        assert stored() == before

    def test_another_providers_support_item_of_the_person_is_not_engaged(self, world, bright_care):
        # `work` is Alex's, delivered by able-assist: bright-care may not bill it.
        body = invoice_body(world.work)
        before = stored()

        response = bright_care.post(INVOICES, body, format="json")

        assert_refused_alone(response, status=422, code="not_engaged", pointer="/lines/0/support_item")
        assert stored() == before

    def test_an_item_of_the_person_with_no_provider_is_not_engaged(self, world, bright_care):
        body = invoice_body(world.care)
        body["lines"][0]["support_item"] = world.base.items["taxi"].public_id
        before = stored()

        response = bright_care.post(INVOICES, body, format="json")

        assert_refused_alone(response, status=422, code="not_engaged", pointer="/lines/0/support_item")
        assert stored() == before

    @pytest.mark.parametrize("service_date", ["2026-03-31", "2025-10-03"])
    def test_a_service_date_before_the_support_item_starts_is_outside_plan_period(
        self, world, bright_care, service_date
    ):
        body = invoice_body(world.care, lines=[(service_date, "3.50")])
        before = stored()

        response = bright_care.post(INVOICES, body, format="json")

        assert_refused_alone(
            response, status=422, code="outside_plan_period", pointer="/lines/0/service_date"
        )
        assert "2026-04-01 to 2027-03-31" in response.json()["errors"][0]["detail"]
        assert stored() == before

    def test_a_service_date_after_today_is_future_service_date(self, world, bright_care):
        body = invoice_body(world.care, lines=[("2026-11-21", "3.50")])
        before = stored()

        response = bright_care.post(INVOICES, body, format="json")

        assert_refused_alone(
            response, status=422, code="future_service_date", pointer="/lines/0/service_date"
        )
        assert stored() == before

    def test_support_delivered_today_may_be_invoiced(self, world, bright_care):
        body = invoice_body(world.care, lines=[(TODAY.isoformat(), "3.50")])

        response = bright_care.post(INVOICES, body, format="json")

        assert response.status_code == 201, response.content

    def test_a_unit_price_above_the_agreed_rate_is_rate_above_agreed(self, world, bright_care):
        body = invoice_body(world.care, unit_price="24.51")
        before = stored()

        response = bright_care.post(INVOICES, body, format="json")

        assert_refused_alone(response, status=422, code="rate_above_agreed", pointer="/lines/0/unit_price")
        assert "24.50 GBP per hour" in response.json()["errors"][0]["detail"]
        assert stored() == before

    def test_an_amount_that_is_not_quantity_times_price_is_amount_mismatch(self, world, bright_care):
        body = invoice_body(world.care)  # 3.50 x 24.50 = 85.75
        body["lines"][0]["amount"] = body["total"] = "85.76"
        before = stored()

        response = bright_care.post(INVOICES, body, format="json")

        assert_refused_alone(response, status=422, code="amount_mismatch", pointer="/lines/0/amount")
        assert "85.75" in response.json()["errors"][0]["detail"]
        assert stored() == before

    def test_a_line_amount_is_rounded_half_up(self, world, bright_care):
        # 0.25 x 24.50 = 6.125: 6.13 is right and 6.12 is not.
        body = invoice_body(world.care, lines=[("2026-10-03", "0.25")])
        assert body["lines"][0]["amount"] == "6.13"
        wrong = invoice_body(world.care, number="INV-1002", lines=[("2026-10-03", "0.25")])
        wrong["lines"][0]["amount"] = wrong["total"] = "6.12"

        refused = bright_care.post(INVOICES, wrong, format="json")
        accepted = bright_care.post(INVOICES, body, format="json")

        assert_refused_alone(refused, status=422, code="amount_mismatch", pointer="/lines/0/amount")
        assert accepted.status_code == 201, accepted.content

    def test_a_total_that_is_not_the_sum_of_the_lines_is_total_mismatch(self, world, bright_care):
        body = invoice_body(world.care, lines=[("2026-10-03", "1.00"), ("2026-10-04", "2.00")])
        assert body["total"] == "73.50"
        body["total"] = "73.49"
        before = stored()

        response = bright_care.post(INVOICES, body, format="json")

        assert_refused_alone(response, status=422, code="total_mismatch", pointer="/total")
        assert "73.50" in response.json()["errors"][0]["detail"]
        assert stored() == before

    def test_a_currency_other_than_the_support_items_is_currency_mismatch(self, world, bright_care):
        body = invoice_body(world.care) | {"currency": "EUR"}
        before = stored()

        response = bright_care.post(INVOICES, body, format="json")

        assert_refused_alone(response, status=422, code="currency_mismatch", pointer="/currency")
        assert stored() == before

    @pytest.mark.parametrize(
        "quantity", ["0", "0.00", "-1.00", "1.255"], ids=["zero", "zero.00", "negative", "3dp"]
    )
    def test_a_quantity_not_above_zero_or_with_three_decimals_is_invalid_quantity(
        self, world, bright_care, quantity
    ):
        body = invoice_body(world.care, lines=[("2026-10-03", "1.00")])
        body["lines"][0]["quantity"] = quantity
        before = stored()

        response = bright_care.post(INVOICES, body, format="json")

        assert_refused_alone(response, status=422, code="invalid_quantity", pointer="/lines/0/quantity")
        assert stored() == before

    def test_an_invoice_number_already_used_by_the_provider_is_duplicate_invoice(self, world, bright_care):
        first = bright_care.post(INVOICES, invoice_body(world.care), format="json")
        assert first.status_code == 201
        before = stored()

        again = bright_care.post(
            INVOICES, invoice_body(world.care, lines=[("2026-10-10", "1.00")]), format="json"
        )

        assert_refused_alone(again, status=409, code="duplicate_invoice", pointer="/invoice_number")
        assert first.json()["id"] in again.json()["errors"][0]["detail"]
        assert stored() == before

    def test_another_provider_may_use_the_same_invoice_number(self, world, bright_care):
        assert bright_care.post(INVOICES, invoice_body(world.care), format="json").status_code == 201

        response = provider_client("able-assist").post(INVOICES, invoice_body(world.work), format="json")

        assert response.status_code == 201, response.content
        assert Invoice.objects.filter(invoice_number="INV-1001").count() == 2


class TestInvoiceSubmitReportsEveryFailure:
    def test_several_failures_are_reported_at_once_and_nothing_is_stored(self, world, bright_care):
        body = invoice_body(
            world.care,
            lines=[
                ("2026-10-03", "1.00"),
                ("2026-11-21", "1.00"),
                ("2026-10-05", "1.555"),
                ("2026-10-06", "1"),
            ],
        )
        body["lines"][0]["unit_price"] = "25.00"
        body["lines"][0]["amount"] = "25.00"
        body["lines"][3]["support_item"] = "si_doesnotexist0000"
        body["total"] = "1.00"
        before = stored()

        response = bright_care.post(INVOICES, body, format="json")

        problem = assert_problem(response, 422)
        assert problem["type"].endswith("/invoice_invalid")
        assert set(codes_and_pointers(response)) == {
            ("rate_above_agreed", "/lines/0/unit_price"),
            ("future_service_date", "/lines/1/service_date"),
            ("invalid_quantity", "/lines/2/quantity"),
            ("unknown_support_item", "/lines/3/support_item"),
            ("total_mismatch", "/total"),
        }
        assert stored() == before


class TestInvoiceSubmitMalformed:
    """A body that cannot be read is a 400 (api.md "Conventions") and stores nothing."""

    @pytest.mark.parametrize("field", ["invoice_number", "person", "issued_on", "currency", "lines", "total"])
    def test_a_missing_field_is_400(self, world, bright_care, field):
        body = invoice_body(world.care)
        del body[field]
        before = stored()

        response = bright_care.post(INVOICES, body, format="json")

        assert_problem(response, 400)
        assert ("required", f"/{field}") in codes_and_pointers(response)
        assert stored() == before

    @pytest.mark.parametrize("field", ["support_item", "service_date", "quantity", "unit_price", "amount"])
    def test_a_missing_line_field_is_400(self, world, bright_care, field):
        body = invoice_body(world.care)
        del body["lines"][0][field]
        before = stored()

        response = bright_care.post(INVOICES, body, format="json")

        assert_problem(response, 400)
        assert ("required", f"/lines/0/{field}") in codes_and_pointers(response)
        assert stored() == before

    def test_no_lines_is_400(self, world, bright_care):
        body = invoice_body(world.care) | {"lines": []}

        response = bright_care.post(INVOICES, body, format="json")

        assert_problem(response, 400)
        assert [pointer for _, pointer in codes_and_pointers(response)] == ["/lines"]
        assert Invoice.objects.count() == 0

    @pytest.mark.parametrize(
        ("field", "value"), [("quantity", 3.5), ("amount", 85.75), ("unit_price", 24.5), ("quantity", 3)]
    )
    def test_a_number_instead_of_a_string_is_400(self, world, bright_care, field, value):
        body = invoice_body(world.care)
        body["lines"][0][field] = value
        before = stored()

        response = bright_care.post(INVOICES, body, format="json")

        assert_problem(response, 400)
        assert [pointer for _, pointer in codes_and_pointers(response)] == [f"/lines/0/{field}"]
        assert stored() == before

    def test_a_total_as_a_number_is_400(self, world, bright_care):
        body = invoice_body(world.care) | {"total": 85.75}

        response = bright_care.post(INVOICES, body, format="json")

        assert_problem(response, 400)
        assert [pointer for _, pointer in codes_and_pointers(response)] == ["/total"]
        assert Invoice.objects.count() == 0

    @pytest.mark.parametrize("service_date", ["2026-02-30", "03/10/2026", "yesterday", ""])
    def test_a_bad_service_date_is_400(self, world, bright_care, service_date):
        body = invoice_body(world.care)
        body["lines"][0]["service_date"] = service_date
        before = stored()

        response = bright_care.post(INVOICES, body, format="json")

        assert_problem(response, 400)
        assert [pointer for _, pointer in codes_and_pointers(response)] == ["/lines/0/service_date"]
        assert stored() == before

    def test_a_bad_issue_date_is_400(self, world, bright_care):
        body = invoice_body(world.care) | {"issued_on": "2026-11-31"}

        response = bright_care.post(INVOICES, body, format="json")

        assert_problem(response, 400)
        assert [pointer for _, pointer in codes_and_pointers(response)] == ["/issued_on"]
        assert Invoice.objects.count() == 0

    def test_a_person_id_as_a_number_is_400(self, world, bright_care):
        body = invoice_body(world.care) | {"person": 12}

        response = bright_care.post(INVOICES, body, format="json")

        assert_problem(response, 400)
        assert [pointer for _, pointer in codes_and_pointers(response)] == ["/person"]

    def test_bad_json_is_400(self, world, bright_care):
        response = bright_care.post(INVOICES, '{"invoice_number": "INV-1', content_type="application/json")

        assert response.status_code == 400
        assert response["Content-Type"] == PROBLEM
        assert Invoice.objects.count() == 0

    @pytest.mark.parametrize(
        ("where", "pointer"), [("amount", "/lines/0/amount"), ("unit_price", "/lines/0/unit_price")]
    )
    def test_money_without_the_currencys_decimals_is_invalid_amount(self, world, bright_care, where, pointer):
        body = invoice_body(world.care, lines=[("2026-10-03", "2.00")])  # 2 x 24.50 = 49.00
        body["lines"][0][where] = {"amount": "49.0", "unit_price": "24.5"}[where]
        before = stored()

        response = bright_care.post(INVOICES, body, format="json")

        assert_refused_alone(response, status=422, code="invalid_amount", pointer=pointer)
        assert stored() == before

    def test_a_total_written_85_7_is_invalid_amount(self, world, bright_care):
        body = invoice_body(world.care, lines=[("2026-10-03", "2.00")])
        body["total"] = "85.7"
        before = stored()

        response = bright_care.post(INVOICES, body, format="json")

        assert_refused_alone(response, status=422, code="invalid_amount", pointer="/total")
        assert '"85.7"' in response.json()["errors"][0]["detail"]
        assert stored() == before

    def test_only_providers_submit_invoices(self, world):
        response = world.client("holder").post(INVOICES, invoice_body(world.care), format="json")

        assert_problem(response, 403)
        assert Invoice.objects.count() == 0

    def test_without_credentials_it_is_401(self, world):
        from rest_framework.test import APIClient

        response = APIClient().post(INVOICES, invoice_body(world.care), format="json")

        assert response.status_code == 401
        assert Invoice.objects.count() == 0


class TestInvoiceNumberReuse:
    def test_a_withdrawn_invoices_number_may_be_used_again(self, world, bright_care):
        first = bright_care.post(INVOICES, invoice_body(world.care), format="json").json()
        withdrawn = bright_care.post(f"{INVOICES}{first['id']}/withdraw/", {}, format="json")
        assert withdrawn.json()["status"] == "withdrawn"

        again = bright_care.post(
            INVOICES, invoice_body(world.care, lines=[("2026-10-03", "3.00")]), format="json"
        )

        assert again.status_code == 201, again.content
        assert again.json()["id"] != first["id"]
        assert sorted(Invoice.objects.filter(invoice_number="INV-1001").values_list("status", flat=True)) == [
            InvoiceStatus.AWAITING_APPROVAL,
            InvoiceStatus.WITHDRAWN,
        ]

    def test_a_rejected_invoices_number_may_not(self, world, bright_care):
        first = submit(world.care)
        services.invoice_reject(invoice=first, by=world.users["holder"], reason="Not delivered.")

        again = bright_care.post(INVOICES, invoice_body(world.care), format="json")

        assert_refused_alone(again, status=409, code="duplicate_invoice", pointer="/invoice_number")


class TestInvoiceFindings:
    """Findings do not refuse: the invoice is stored on hold, with them, for a person to decide."""

    def test_more_than_the_planned_quantity_puts_it_on_hold_with_over_planned_quantity(self, world):
        # `work` plans 312.86 hours for the year (6 a week); 313 is more.
        body = invoice_body(world.work, lines=[("2026-10-05", "300.00"), ("2026-10-06", "13.00")])

        response = provider_client("able-assist").post(INVOICES, body, format="json")

        assert response.status_code == 201, response.content
        invoice = response.json()
        assert invoice["status"] == "on_hold"
        assert [(f["code"], f["pointer"]) for f in invoice["findings"]] == [
            ("over_planned_quantity", "/lines/0/quantity")
        ]
        assert "312.86" in invoice["findings"][0]["detail"]
        assert [event["status"] for event in invoice["history"]] == ["submitted", "on_hold"]
        assert (
            TimelineEntry.objects.filter(kind="invoice.on_hold", budget_holder=world.base.alex).count() == 1
        )

    def test_exactly_the_planned_quantity_is_not_a_finding(self, world):
        body = invoice_body(world.work, lines=[("2026-10-05", "312.86")])

        response = provider_client("able-assist").post(INVOICES, body, format="json")

        assert response.json()["status"] == "awaiting_approval"
        assert response.json()["findings"] == []

    def test_earlier_invoices_count_towards_the_planned_quantity(self, world):
        submit(world.work, number="INV-1", lines=[("2026-10-05", "300.00")])

        later = submit(world.work, number="INV-2", lines=[("2026-10-12", "13.00")])

        assert later.status == InvoiceStatus.ON_HOLD
        assert [finding["code"] for finding in later.findings] == ["over_planned_quantity"]

    def test_rejected_and_withdrawn_invoices_do_not_count_towards_it(self, world):
        rejected = submit(world.work, number="INV-1", lines=[("2026-10-05", "300.00")])
        services.invoice_reject(invoice=rejected, by=world.users["holder"], reason="Wrong month.")
        withdrawn = submit(world.work, number="INV-2", lines=[("2026-10-05", "300.00")])
        services.invoice_withdraw(invoice=withdrawn, by=withdrawn.submitted_by)

        later = submit(world.work, number="INV-3", lines=[("2026-10-12", "13.00")])

        assert later.status == InvoiceStatus.AWAITING_APPROVAL
        assert later.findings == []

    def test_more_than_the_budget_holds_puts_it_on_hold_with_insufficient_funds(self, world):
        # Sam's ramp is agreed at 3500.00; the DFG funds hold what the plan costed (2695.00).
        body = invoice_body(world.ramp, lines=[("2026-09-14", "1")])
        assert body["total"] == "3500.00"

        response = provider_client("dales-adaptations").post(INVOICES, body, format="json")

        assert response.status_code == 201, response.content
        invoice = response.json()
        assert invoice["status"] == "on_hold"
        assert [(f["code"], f["pointer"]) for f in invoice["findings"]] == [("insufficient_funds", "/total")]
        assert "DFG" in invoice["findings"][0]["detail"]
        assert Invoice.objects.get(public_id=invoice["id"]).reservation is None

    def test_both_findings_are_listed(self, world):
        # 731 hours of care: more than the 730 planned, and more than ASC's and ILF's funds hold.
        invoice = submit(world.care, lines=[("2026-10-05", "731.00")])

        assert invoice.status == InvoiceStatus.ON_HOLD
        assert sorted(finding["code"] for finding in invoice.findings) == [
            "insufficient_funds",
            "insufficient_funds",
            "over_planned_quantity",
        ]


class TestStoredInvoice:
    def test_the_answer_is_the_invoice_of_api_md(self, world, bright_care):
        response = bright_care.post(INVOICES, invoice_body(world.care), format="json")

        assert response.status_code == 201
        invoice = response.json()
        assert invoice["id"].startswith("inv_")
        assert {
            key: invoice[key]
            for key in ("invoice_number", "person", "provider", "status", "currency", "total", "issued_on")
        } == {
            "invoice_number": "INV-1001",
            "person": world.base.alex.public_id,
            "provider": world.care.provider.public_id,
            "status": "awaiting_approval",
            "currency": "GBP",
            "total": "85.75",
            "issued_on": "2026-11-01",
        }
        assert invoice["findings"] == []
        assert invoice["payment"] is None
        (line,) = invoice["lines"]
        assert {
            key: line[key] for key in ("support_item", "service_date", "quantity", "unit_price", "amount")
        } == {
            "support_item": world.care.support_item_public_id,
            "service_date": "2026-10-03",
            "quantity": "3.50",
            "unit_price": "24.50",
            "amount": "85.75",
        }
        assert bright_care.get(f"{INVOICES}{invoice['id']}/").json() == invoice

    def test_each_lines_streams_add_up_to_its_amount_split_by_the_engagements_shares(
        self, world, bright_care
    ):
        quantities = ["1.00", "2.25", "0.75", "7.00", "0.01"]
        body = invoice_body(
            world.care, lines=[(f"2026-10-{day:02d}", q) for day, q in enumerate(quantities, 3)]
        )
        weights = [share["weight"] for share in world.care.stream_shares]
        assert [share["stream"] for share in world.care.stream_shares] == ["ASC", "ILF"]

        invoice = bright_care.post(INVOICES, body, format="json").json()

        assert len(invoice["lines"]) == len(quantities)
        for line in invoice["lines"]:
            amount_minor = int(Decimal(line["amount"]) * 100)
            parts = {part["stream"]: int(Decimal(part["amount"]) * 100) for part in line["streams"]}
            assert sum(parts.values()) == amount_minor
            expected = dict(zip(["ASC", "ILF"], money_allocate(amount_minor, weights=weights), strict=True))
            assert parts == {stream: part for stream, part in expected.items() if part > 0}
        # 85.75 of care: ASC pays 62.50 of it and ILF 23.25 (the item's costed shares, 1303571 : 484929).
        single = bright_care.post(INVOICES, invoice_body(world.care, number="INV-2"), format="json").json()
        assert single["lines"][0]["streams"] == [
            {"stream": "ASC", "amount": "62.50"},
            {"stream": "ILF", "amount": "23.25"},
        ]

    def test_a_line_of_a_single_stream_item_is_paid_by_that_stream(self, world):
        body = invoice_body(world.work, lines=[("2026-10-05", "6.00")])

        invoice = provider_client("able-assist").post(INVOICES, body, format="json").json()

        assert invoice["lines"][0]["streams"] == [{"stream": "ATW", "amount": "108.00"}]

    def test_each_line_carries_the_outcomes_its_item_serves(self, world, bright_care):
        flat = world.base.outcomes["flat"].public_id

        invoice = bright_care.post(INVOICES, invoice_body(world.care), format="json").json()

        assert invoice["lines"][0]["outcomes"] == [flat]
        line = InvoiceLine.objects.get(invoice__public_id=invoice["id"])
        assert line.outcome_public_ids == [flat]
        assert line.engagement_id == world.care.pk

    def test_history_has_a_submitted_entry_by_the_provider(self, world, bright_care):
        invoice = bright_care.post(INVOICES, invoice_body(world.care), format="json").json()

        (entry,) = invoice["history"]
        assert (entry["status"], entry["by"]) == ("submitted", "provider")
        event = InvoiceEvent.objects.get(invoice__public_id=invoice["id"])
        assert event.by_role == "provider"
        assert event.by.organisation_id == world.care.provider_id

    def test_a_shared_timeline_entry_tells_the_person(self, world, bright_care):
        sams = TimelineEntry.objects.filter(budget_holder=world.base.sam).count()

        invoice = bright_care.post(INVOICES, invoice_body(world.care), format="json").json()

        (entry,) = TimelineEntry.objects.filter(budget_holder=world.base.alex, kind__startswith="invoice.")
        assert entry.kind == "invoice.submitted"
        assert entry.visibility == TimelineVisibility.SHARED
        assert entry.detail == {"invoice": invoice["id"], "status": "awaiting_approval"}
        assert "Bright Care" in entry.for_person and "85.75" in entry.for_person
        assert TimelineEntry.objects.filter(budget_holder=world.base.sam).count() == sams

    def test_submitting_reserves_no_money(self, world, bright_care):
        transactions = Transaction.objects.count()

        invoice = bright_care.post(INVOICES, invoice_body(world.care), format="json").json()

        assert Transaction.objects.count() == transactions
        assert Invoice.objects.get(public_id=invoice["id"]).reservation is None

    def test_another_provider_cannot_see_the_invoice(self, world, bright_care):
        invoice = bright_care.post(INVOICES, invoice_body(world.care), format="json").json()

        response = provider_client("able-assist").get(f"{INVOICES}{invoice['id']}/")
        listed = provider_client("able-assist").get(INVOICES).json()

        assert response.status_code == 404
        assert response["Content-Type"] == PROBLEM
        assert listed["results"] == []
