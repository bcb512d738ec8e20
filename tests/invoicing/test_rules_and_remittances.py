"""Auto-approval rules (a person's standing approval of a provider's routine invoices) and remittances (what
was paid to a provider, for which invoices, under which payment reference)."""

import pytest

from budgets.models import FundingStream
from budgets.selectors.positions import budget_position
from invoicing import accounts, services
from invoicing.models import AutoApprovalRule, Invoice, InvoiceEvent, InvoiceStatus, Remittance
from ledger.models import Account, PendingResolution, Transaction, TransactionKind
from plans.models import TimelineEntry, TimelineVisibility
from tests.invoicing.world import TODAY, build_invoicing_world, invoice_body, provider_client, submit

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"
INVOICES = "/api/v1/invoices/"
REMITTANCES = "/api/v1/remittances/"


@pytest.fixture
def world(monkeypatch):
    return build_invoicing_world(monkeypatch)


def rules_url(world) -> str:
    return f"/api/v1/people/{world.base.alex.public_id}/auto-approval-rules/"


def revoke_url(rule_id: str) -> str:
    return f"/api/v1/auto-approval-rules/{rule_id}/revoke/"


def set_rule(world, *, provider: str = "bright-care", max_total: str | None = None, role: str = "holder"):
    body = {"provider": world.care.provider.public_id if provider == "bright-care" else provider}
    if max_total is not None:
        body["max_total"] = max_total
    return world.client(role).post(rules_url(world), body, format="json")


def error_codes(response) -> list[str]:
    return [error["code"] for error in response.json()["errors"]]


class TestAutoApprovalRulesApi:
    def test_the_holder_sets_a_rule_and_lists_it(self, world):
        assert world.client("holder").get(rules_url(world)).json()["results"] == []

        response = set_rule(world, max_total="100.00")

        assert response.status_code == 201, response.content
        rule = response.json()
        assert rule["id"].startswith("aar_")
        assert {key: rule[key] for key in ("person", "provider", "max_total", "currency", "revoked_at")} == {
            "person": world.base.alex.public_id,
            "provider": world.care.provider.public_id,
            "max_total": "100.00",
            "currency": "GBP",
            "revoked_at": None,
        }
        listed = world.client("holder").get(rules_url(world)).json()["results"]
        assert [item["id"] for item in listed] == [rule["id"]]
        entry = TimelineEntry.objects.filter(budget_holder=world.base.alex).latest("id")
        assert entry.kind == "invoice.rule_set"
        assert "Bright Care" in entry.for_person

    def test_a_rule_without_a_limit_has_max_total_null(self, world):
        response = set_rule(world)

        assert response.status_code == 201
        assert response.json()["max_total"] is None

    def test_setting_a_rule_again_replaces_the_earlier_one(self, world):
        first = set_rule(world, max_total="50.00").json()

        second = set_rule(world, max_total="500.00").json()

        listed = world.client("holder").get(rules_url(world)).json()["results"]
        assert [item["id"] for item in listed] == [second["id"]]
        assert AutoApprovalRule.objects.get(public_id=first["id"]).revoked_at is not None

    def test_an_approving_representative_may_set_one(self, world):
        response = set_rule(world, role="rep_approve")

        assert response.status_code == 201
        assert AutoApprovalRule.objects.get().created_by == world.users["rep_approve"]

    @pytest.mark.parametrize("role", ["rep_view", "navigator", "officer_asc", "provider_engaged"])
    def test_someone_who_sees_the_person_but_may_not_approve_gets_403(self, world, role):
        response = set_rule(world, role=role)

        assert response.status_code == 403
        assert response["Content-Type"] == PROBLEM
        assert error_codes(response) == ["not_allowed_to_set_rules"]
        assert not AutoApprovalRule.objects.exists()

    @pytest.mark.parametrize(
        "role", ["other_holder", "rep_revoked", "other_navigator", "provider_not_engaged"]
    )
    def test_someone_who_cannot_see_the_person_gets_404(self, world, role):
        set_rule(world)  # an existing rule must not show either

        posted = set_rule(world, role=role)
        listed = world.client(role).get(rules_url(world))

        assert posted.status_code == 404
        assert posted["Content-Type"] == PROBLEM
        assert listed.status_code == 404
        assert AutoApprovalRule.objects.count() == 1

    def test_an_unknown_provider_is_422_unknown_provider(self, world):
        response = set_rule(world, provider="pro_doesnotexist0000")

        assert response.status_code == 422
        assert [(e["code"], e["pointer"]) for e in response.json()["errors"]] == [
            ("unknown_provider", "/provider")
        ]
        assert not AutoApprovalRule.objects.exists()

    def test_an_agency_is_not_a_provider(self, world):
        agency = FundingStream.objects.get(code="ASC").agency

        response = set_rule(world, provider=agency.public_id)

        assert response.status_code == 422
        assert error_codes(response) == ["unknown_provider"]

    def test_a_provider_not_engaged_for_the_person_is_422_provider_not_engaged(self, world):
        dales = world.ramp.provider  # Sam's, not Alex's

        response = set_rule(world, provider=dales.public_id)

        assert response.status_code == 422
        assert error_codes(response) == ["provider_not_engaged"]
        assert not AutoApprovalRule.objects.exists()

    @pytest.mark.parametrize(
        ("max_total", "code"),
        [("0.00", "invalid_limit"), ("-5.00", "invalid_limit"), ("85.7", "invalid_amount")],
    )
    def test_a_bad_limit_is_422(self, world, max_total, code):
        response = set_rule(world, max_total=max_total)

        assert response.status_code == 422
        assert response["Content-Type"] == PROBLEM
        assert error_codes(response) == [code]
        assert not AutoApprovalRule.objects.exists()

    def test_a_limit_as_a_number_is_400(self, world):
        response = world.client("holder").post(
            rules_url(world), {"provider": world.care.provider.public_id, "max_total": 100}, format="json"
        )

        assert response.status_code == 400
        assert [error["pointer"] for error in response.json()["errors"]] == ["/max_total"]
        assert not AutoApprovalRule.objects.exists()

    def test_the_provider_does_not_see_the_persons_rules(self, world):
        set_rule(world)

        response = provider_client("bright-care").get(rules_url(world))

        # bright-care sees Alex (it is engaged for Alex's care) but never Alex's rules.
        assert response.status_code == 200
        assert response.json()["results"] == []


class TestAutoApproval:
    def test_a_matching_invoice_is_approved_at_once_by_the_rule(self, world):
        rule = set_rule(world).json()
        before = budget_position(budget_holder=world.base.alex, stream=FundingStream.objects.get(code="ASC"))

        response = provider_client("bright-care").post(INVOICES, invoice_body(world.care), format="json")

        assert response.status_code == 201, response.content
        invoice = response.json()
        assert invoice["status"] == "approved"
        assert [(event["status"], event["by"]) for event in invoice["history"]] == [
            ("submitted", "provider"),
            ("approved", "rule"),
        ]
        assert rule["id"] in invoice["history"][-1]["reason"]
        stored = Invoice.objects.get(public_id=invoice["id"])
        assert stored.reservation.kind == TransactionKind.PENDING
        after = budget_position(budget_holder=world.base.alex, stream=FundingStream.objects.get(code="ASC"))
        assert after.committed_minor == before.committed_minor + 6250  # ASC's share of 85.75
        entry = TimelineEntry.objects.filter(budget_holder=world.base.alex, kind="invoice.approved").get()
        assert entry.visibility == TimelineVisibility.SHARED
        assert "automatically" in entry.for_person
        assert entry.detail == {"invoice": invoice["id"], "status": "approved"}
        assert not TimelineEntry.objects.filter(kind="invoice.submitted").exists()

    def test_a_line_below_the_agreed_rate_is_not_approved_automatically(self, world):
        set_rule(world)

        invoice = submit(world.care, unit_price="24.00")

        assert invoice.status == InvoiceStatus.AWAITING_APPROVAL
        assert invoice.reservation is None

    def test_a_total_above_the_rules_limit_is_not_approved_automatically(self, world):
        set_rule(world, max_total="85.74")

        invoice = submit(world.care)  # 85.75

        assert invoice.status == InvoiceStatus.AWAITING_APPROVAL
        assert invoice.reservation is None

    def test_a_total_at_the_rules_limit_is(self, world):
        set_rule(world, max_total="85.75")

        invoice = submit(world.care)

        assert invoice.status == InvoiceStatus.APPROVED

    def test_an_invoice_with_a_finding_is_held_not_approved(self, world):
        set_rule(world, provider=world.work.provider.public_id)

        invoice = submit(world.work, lines=[("2026-10-05", "313.00")])  # over the 312.86 planned

        assert invoice.status == InvoiceStatus.ON_HOLD
        assert invoice.reservation is None
        assert [event.by_role for event in InvoiceEvent.objects.filter(invoice=invoice)] == [
            "provider",
            "system",
        ]

    def test_an_invoice_that_would_overspend_is_held_not_approved(self, world):
        set_rule(world)

        invoice = submit(world.care, lines=[("2026-10-05", "520.00")])  # 12740.00: more than ASC and ILF hold

        assert invoice.status == InvoiceStatus.ON_HOLD
        assert {finding["code"] for finding in invoice.findings} == {"insufficient_funds"}
        assert invoice.reservation is None

    def test_a_rule_applies_only_to_its_provider(self, world):
        set_rule(world)  # bright-care

        invoice = submit(world.work)  # able-assist

        assert invoice.status == InvoiceStatus.AWAITING_APPROVAL

    def test_a_revoked_rule_stops_applying(self, world):
        rule = set_rule(world).json()

        revoked = world.client("holder").post(revoke_url(rule["id"]))
        invoice = submit(world.care)

        assert revoked.status_code == 200
        assert revoked.json()["revoked_at"] is not None
        assert invoice.status == InvoiceStatus.AWAITING_APPROVAL
        assert world.client("holder").get(rules_url(world)).json()["results"] == []
        assert TimelineEntry.objects.filter(
            budget_holder=world.base.alex, kind="invoice.rule_revoked"
        ).exists()

    def test_revoking_twice_is_409(self, world):
        rule = set_rule(world).json()
        world.client("holder").post(revoke_url(rule["id"]))

        again = world.client("holder").post(revoke_url(rule["id"]))

        assert again.status_code == 409
        assert error_codes(again) == ["auto_approval_rule_revoked"]

    @pytest.mark.parametrize(
        ("role", "status"), [("rep_view", 403), ("navigator", 403), ("other_holder", 404)]
    )
    def test_only_the_holder_or_an_approving_representative_revokes(self, world, role, status):
        rule = set_rule(world).json()

        response = world.client(role).post(revoke_url(rule["id"]))

        assert response.status_code == status
        assert AutoApprovalRule.objects.get(public_id=rule["id"]).revoked_at is None
        assert submit(world.care).status == InvoiceStatus.APPROVED


def approved(world, *engagements_and_numbers) -> list[Invoice]:
    invoices = []
    for engagement, number in engagements_and_numbers:
        invoice = submit(engagement, number=number)
        services.invoice_approve(invoice=invoice, by=world.users["holder"])
        invoice.refresh_from_db()
        invoices.append(invoice)
    return invoices


class TestRemittances:
    def test_a_remittance_posts_each_reservation_and_the_invoices_are_paid(self, world):
        first, second = approved(world, (world.care, "INV-1"), (world.care, "INV-2"))
        payable_key = accounts.provider_payable_key(
            provider_public_id=first.provider.public_id, currency="GBP"
        )
        asc = FundingStream.objects.get(code="ASC")
        before = budget_position(budget_holder=world.base.alex, stream=asc)

        remittance = services.remittance_record(
            provider=first.provider, invoices=[first, second], reference="BACS-0001", paid_on=TODAY, by=None
        )

        assert remittance.total_minor == first.total_minor + second.total_minor
        for invoice in (first, second):
            invoice.refresh_from_db()
            assert invoice.status == InvoiceStatus.PAID
            resolution = PendingResolution.objects.get(pending=invoice.reservation)
            assert resolution.outcome == "posted"
            assert resolution.posting_transaction.metadata["reference"] == "BACS-0001"
            assert InvoiceEvent.objects.filter(invoice=invoice).latest("id").status == "paid"
        payable = Account.objects.get(key=payable_key)
        assert (payable.credits_pending, payable.credits_posted) == (0, remittance.total_minor)
        after = budget_position(budget_holder=world.base.alex, stream=asc)
        assert after.committed_minor == 0
        assert after.spent_minor == before.spent_minor + before.committed_minor
        assert after.available_minor == before.available_minor
        assert TimelineEntry.objects.filter(budget_holder=world.base.alex, kind="invoice.paid").count() == 2

    def test_a_paid_invoice_shows_its_payment(self, world):
        (invoice,) = approved(world, (world.care, "INV-1"))
        remittance = services.remittance_record(
            provider=invoice.provider, invoices=[invoice], reference="BACS-0001", paid_on=TODAY, by=None
        )

        body = provider_client("bright-care").get(f"{INVOICES}{invoice.public_id}/").json()

        assert body["status"] == "paid"
        assert body["payment"] == {
            "remittance": remittance.public_id,
            "reference": "BACS-0001",
            "paid_on": "2026-11-20",
            "amount": "85.75",
        }
        assert body["history"][-1]["status"] == "paid"

    def test_the_same_reference_and_invoices_return_the_same_remittance(self, world):
        (invoice,) = approved(world, (world.care, "INV-1"))
        first = services.remittance_record(
            provider=invoice.provider, invoices=[invoice], reference="BACS-0001", paid_on=TODAY, by=None
        )
        counts = (
            Remittance.objects.count(),
            Transaction.objects.count(),
            InvoiceEvent.objects.count(),
            TimelineEntry.objects.count(),
        )

        again = services.remittance_record(
            provider=invoice.provider, invoices=[invoice], reference="BACS-0001", paid_on=TODAY, by=None
        )

        assert again.pk == first.pk
        assert (
            Remittance.objects.count(),
            Transaction.objects.count(),
            InvoiceEvent.objects.count(),
            TimelineEntry.objects.count(),
        ) == counts

    def test_the_same_reference_for_other_invoices_is_refused(self, world):
        first, second = approved(world, (world.care, "INV-1"), (world.care, "INV-2"))
        services.remittance_record(
            provider=first.provider, invoices=[first], reference="BACS-0001", paid_on=TODAY, by=None
        )

        with pytest.raises(services.RemittanceInvalid):
            services.remittance_record(
                provider=first.provider, invoices=[second], reference="BACS-0001", paid_on=TODAY, by=None
            )

        assert Invoice.objects.get(pk=second.pk).status == InvoiceStatus.APPROVED

    @pytest.mark.parametrize("state", ["awaiting_approval", "rejected"])
    def test_an_invoice_not_approved_cannot_be_paid(self, world, state):
        invoice = submit(world.care)
        if state == "rejected":
            services.invoice_reject(invoice=invoice, by=world.users["holder"], reason="No.")
        transactions = Transaction.objects.count()

        with pytest.raises(services.InvoiceStateConflict):
            services.remittance_record(
                provider=invoice.provider, invoices=[invoice], reference="BACS-0001", paid_on=TODAY, by=None
            )

        assert not Remittance.objects.exists()
        assert Transaction.objects.count() == transactions
        assert Invoice.objects.get(pk=invoice.pk).status == state

    def test_another_providers_invoice_cannot_be_on_the_remittance(self, world):
        care, work = approved(world, (world.care, "INV-1"), (world.work, "INV-2"))

        with pytest.raises(services.RemittanceInvalid):
            services.remittance_record(
                provider=care.provider, invoices=[care, work], reference="BACS-0001", paid_on=TODAY, by=None
            )

        assert not Remittance.objects.exists()
        assert Invoice.objects.get(pk=care.pk).status == InvoiceStatus.APPROVED

    def test_the_provider_paid_sees_the_remittance_and_another_sees_none(self, world):
        first, second = approved(world, (world.care, "INV-1"), (world.care, "INV-2"))
        remittance = services.remittance_record(
            provider=first.provider, invoices=[first, second], reference="BACS-0001", paid_on=TODAY, by=None
        )

        mine = provider_client("bright-care").get(REMITTANCES)
        theirs = provider_client("able-assist").get(REMITTANCES)

        assert mine.status_code == 200
        (listed,) = mine.json()["results"]
        assert {
            key: listed[key] for key in ("id", "provider", "reference", "paid_on", "currency", "total")
        } == {
            "id": remittance.public_id,
            "provider": first.provider.public_id,
            "reference": "BACS-0001",
            "paid_on": "2026-11-20",
            "currency": "GBP",
            "total": "171.50",
        }
        assert sorted((item["invoice"], item["amount"]) for item in listed["invoices"]) == sorted(
            [(first.public_id, "85.75"), (second.public_id, "85.75")]
        )
        assert theirs.status_code == 200
        assert theirs.json()["results"] == []

    def test_finance_sees_remittances_and_the_person_does_not(self, world):
        (invoice,) = approved(world, (world.care, "INV-1"))
        services.remittance_record(
            provider=invoice.provider, invoices=[invoice], reference="BACS-0001", paid_on=TODAY, by=None
        )

        assert len(world.client("finance").get(REMITTANCES).json()["results"]) == 1
        assert world.client("holder").get(REMITTANCES).json()["results"] == []
