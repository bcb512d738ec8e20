"""Deciding invoices (api.md, "For budget holders, representatives and navigators"): approve, query, reject
and the provider's withdraw, each allowed only from the states of `invoicing.models`' state machine, each
written to the invoice's history and the person's timeline; approval reserves the money in the ledger.
"""

import pytest

from budgets.models import FundingStream
from budgets.selectors.positions import budget_position
from invoicing import accounts, services
from invoicing.models import Invoice, InvoiceEvent, InvoiceLineFunding, InvoiceStatus
from ledger.models import Account, AppendOnlyViolation, Posting, Transaction, TransactionKind
from plans.models import TimelineEntry, TimelineVisibility
from tests.invoicing.world import TODAY, build_invoicing_world, provider_client, submit

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"

# The states each transition may start from, as invoicing.services has them. Approving a queried invoice
# is allowed there (UNDECIDED_STATUSES), though invoicing.models' state diagram shows approve only from
# awaiting_approval and on_hold.
ACTIONS = {
    "approve": (InvoiceStatus.APPROVED, {"awaiting_approval", "on_hold", "queried"}),
    "query": (InvoiceStatus.QUERIED, {"awaiting_approval", "on_hold"}),
    "reject": (InvoiceStatus.REJECTED, {"awaiting_approval", "on_hold", "queried"}),
    "withdraw": (InvoiceStatus.WITHDRAWN, {"awaiting_approval", "on_hold", "queried"}),
}
STATES = ["awaiting_approval", "on_hold", "queried", "approved", "rejected", "withdrawn", "paid"]
ALLOWED = [(action, state) for action, (_, starts) in ACTIONS.items() for state in STATES if state in starts]
REFUSED = [
    (action, state) for action, (_, starts) in ACTIONS.items() for state in STATES if state not in starts
]
REASON = "The hours on the 5th look wrong to me."


@pytest.fixture
def world(monkeypatch):
    return build_invoicing_world(monkeypatch)


def invoice_in(world, state: str) -> Invoice:
    """An invoice of Alex's in `state`, brought there through the services. On hold: 313 hours of `work`,
    more than the 312.86 planned but within the budget, so that it can still be approved."""
    holder = world.users["holder"]
    if state == "on_hold":
        invoice = submit(world.work, lines=[("2026-10-05", "313.00")])
        assert invoice.status == InvoiceStatus.ON_HOLD
        return invoice
    invoice = submit(world.care)
    if state == "queried":
        services.invoice_query(invoice=invoice, by=holder, reason="Which days?")
    elif state in ("approved", "paid"):
        services.invoice_approve(invoice=invoice, by=holder)
    elif state == "rejected":
        services.invoice_reject(invoice=invoice, by=holder, reason="Not delivered.")
    elif state == "withdrawn":
        services.invoice_withdraw(invoice=invoice, by=invoice.submitted_by)
    if state == "paid":
        services.remittance_record(
            provider=invoice.provider, invoices=[invoice], reference="BACS-1", paid_on=TODAY, by=None
        )
    invoice.refresh_from_db()
    assert invoice.status == state
    return invoice


def act(action: str, invoice: Invoice, by) -> Invoice:
    if action == "approve":
        return services.invoice_approve(invoice=invoice, by=by)
    if action == "query":
        return services.invoice_query(invoice=invoice, by=by, reason=REASON)
    if action == "reject":
        return services.invoice_reject(invoice=invoice, by=by, reason=REASON)
    return services.invoice_withdraw(invoice=invoice, by=by, reason=REASON)


def actor(world, action: str, invoice: Invoice):
    return invoice.submitted_by if action == "withdraw" else world.users["holder"]


def api_client(world, action: str, invoice: Invoice):
    if action == "withdraw":
        return provider_client(invoice.provider.slug)
    return world.client("holder")


def url(invoice: Invoice, action: str) -> str:
    return f"/api/v1/invoices/{invoice.public_id}/{action}/"


def snapshot(invoice: Invoice) -> dict:
    """What a refused transition must leave as it was."""
    invoice = Invoice.objects.get(pk=invoice.pk)
    return {
        "status": invoice.status,
        "reservation": invoice.reservation_id,
        "decided_at": invoice.decided_at,
        "question": invoice.query_question,
        "events": InvoiceEvent.objects.filter(invoice=invoice).count(),
        "timeline": TimelineEntry.objects.count(),
        "transactions": Transaction.objects.count(),
        "accounts": sorted(
            Account.objects.values_list("key", "debits_pending", "debits_posted", "credits_pending")
        ),
    }


def position(world, stream_code: str, holder=None):
    return budget_position(
        budget_holder=holder or world.base.alex, stream=FundingStream.objects.get(code=stream_code)
    )


def stream_amounts(invoice: Invoice) -> dict[str, int]:
    amounts: dict[str, int] = {}
    for part in InvoiceLineFunding.objects.filter(line__invoice=invoice).select_related("stream"):
        amounts[part.stream.code] = amounts.get(part.stream.code, 0) + part.amount_minor
    return amounts


class TestInvoiceTransitionsThroughTheServices:
    @pytest.mark.parametrize(("action", "state"), ALLOWED)
    def test_an_allowed_transition_moves_the_invoice_and_writes_history_and_timeline(
        self, world, action, state
    ):
        invoice = invoice_in(world, state)
        by = actor(world, action, invoice)
        events = InvoiceEvent.objects.filter(invoice=invoice).count()
        timeline = TimelineEntry.objects.filter(budget_holder=world.base.alex).count()

        act(action, invoice, by)

        target = ACTIONS[action][0]
        invoice.refresh_from_db()
        assert invoice.status == target
        assert InvoiceEvent.objects.filter(invoice=invoice).count() == events + 1
        event = InvoiceEvent.objects.filter(invoice=invoice).latest("id")
        assert (event.status, event.by, event.by_role) == (
            target,
            by,
            "provider" if action == "withdraw" else "budget_holder",
        )
        assert event.reason == ("" if action == "approve" else REASON)
        assert TimelineEntry.objects.filter(budget_holder=world.base.alex).count() == timeline + 1
        entry = TimelineEntry.objects.filter(budget_holder=world.base.alex).latest("id")
        assert entry.kind == f"invoice.{target}"
        assert entry.visibility == TimelineVisibility.SHARED
        assert entry.actor == by
        assert entry.detail == {"invoice": invoice.public_id, "status": target}
        assert invoice.invoice_number in entry.for_person

    @pytest.mark.parametrize(("action", "state"), REFUSED)
    def test_a_refused_transition_is_invalid_invoice_state_and_changes_nothing(self, world, action, state):
        invoice = invoice_in(world, state)
        before = snapshot(invoice)

        with pytest.raises(services.InvoiceStateConflict) as refused:
            act(action, invoice, actor(world, action, invoice))

        assert refused.value.code == "invalid_invoice_state"
        assert snapshot(invoice) == before


class TestInvoiceTransitionsThroughTheApi:
    @pytest.mark.parametrize(("action", "state"), ALLOWED)
    def test_an_allowed_transition_answers_the_invoice_in_its_new_state(self, world, action, state):
        invoice = invoice_in(world, state)
        body = {} if action == "approve" else {"reason": REASON}

        response = api_client(world, action, invoice).post(url(invoice, action), body, format="json")

        assert response.status_code == 200, response.content
        target = ACTIONS[action][0]
        answered = response.json()
        assert answered["status"] == target
        last = answered["history"][-1]
        assert (last["status"], last["by"]) == (
            target,
            "provider" if action == "withdraw" else "budget_holder",
        )
        assert Invoice.objects.get(pk=invoice.pk).status == target

    @pytest.mark.parametrize(("action", "state"), REFUSED)
    def test_a_refused_transition_is_409_invalid_invoice_state(self, world, action, state):
        invoice = invoice_in(world, state)
        before = snapshot(invoice)
        body = {} if action == "approve" else {"reason": REASON}

        response = api_client(world, action, invoice).post(url(invoice, action), body, format="json")

        assert response.status_code == 409, response.content
        assert response["Content-Type"] == PROBLEM
        assert [error["code"] for error in response.json()["errors"]] == ["invalid_invoice_state"]
        assert snapshot(invoice) == before


class TestInvoiceApprove:
    def test_approval_reserves_the_money_from_each_streams_funds_to_the_providers_payable(self, world):
        invoice = submit(world.care, lines=[("2026-10-03", "3.50"), ("2026-10-04", "10.25")])
        shares = stream_amounts(invoice)
        assert set(shares) == {"ASC", "ILF"} and sum(shares.values()) == invoice.total_minor

        services.invoice_approve(invoice=invoice, by=world.users["holder"])

        invoice.refresh_from_db()
        reservation = invoice.reservation
        assert reservation.kind == TransactionKind.PENDING
        assert reservation.metadata["invoice"] == invoice.public_id
        postings = {
            (posting.account.key, posting.side, posting.amount_minor)
            for posting in Posting.objects.filter(transaction=reservation).select_related("account")
        }
        alex = world.base.alex.public_id
        payable = accounts.provider_payable_key(
            provider_public_id=world.care.provider.public_id, currency="GBP"
        )
        assert postings == {
            (f"person:{alex}:stream:ASC:funds", "debit", shares["ASC"]),
            (f"person:{alex}:stream:ILF:funds", "debit", shares["ILF"]),
            (payable, "credit", invoice.total_minor),
        }

    def test_approval_grows_committed_and_lowers_available_in_each_streams_position(self, world):
        invoice = submit(world.care, lines=[("2026-10-03", "20.00")])  # 490.00
        shares = stream_amounts(invoice)
        before = {code: position(world, code) for code in ("ASC", "ILF", "ATW")}

        services.invoice_approve(invoice=invoice, by=world.users["holder"])

        for code in ("ASC", "ILF"):
            after = position(world, code)
            assert after.committed_minor == before[code].committed_minor + shares[code]
            assert after.available_minor == before[code].available_minor - shares[code]
            assert after.spent_minor == before[code].spent_minor
        assert position(world, "ATW") == before["ATW"]

    def test_approval_through_the_api_answers_the_approved_invoice(self, world):
        invoice = submit(world.care)

        response = world.client("holder").post(url(invoice, "approve"))

        assert response.status_code == 200
        assert response.json()["status"] == "approved"
        assert [event["status"] for event in response.json()["history"]] == ["submitted", "approved"]
        assert Invoice.objects.get(pk=invoice.pk).reservation is not None

    def test_an_approving_representative_decides_as_representative(self, world):
        invoice = submit(world.care)

        response = world.client("rep_approve").post(url(invoice, "approve"))

        assert response.status_code == 200
        assert response.json()["history"][-1]["by"] == "representative"
        assert InvoiceEvent.objects.filter(invoice=invoice).latest("id").by == world.users["rep_approve"]

    def test_approving_more_than_is_available_is_insufficient_funds_and_changes_nothing(self, world):
        # Each invoice fits the budget alone (and so is not on hold); the two together do not: ASC holds
        # 9000.00 and each takes about 5357.00 of ASC's share.
        first = submit(world.care, number="INV-1", lines=[("2026-10-03", "300.00")])
        second = submit(world.care, number="INV-2", lines=[("2026-10-10", "300.00")])
        assert (first.status, second.status) == (InvoiceStatus.AWAITING_APPROVAL,) * 2
        world.client("holder").post(url(first, "approve"))
        before = snapshot(second)
        positions = {code: position(world, code) for code in ("ASC", "ILF")}

        response = world.client("holder").post(url(second, "approve"))

        assert response.status_code == 422
        assert response["Content-Type"] == PROBLEM
        assert [error["code"] for error in response.json()["errors"]] == ["insufficient_funds"]
        assert snapshot(second) == before
        assert {code: position(world, code) for code in ("ASC", "ILF")} == positions

    def test_approving_an_invoice_on_hold_for_insufficient_funds_is_refused(self, world):
        ramp = submit(world.ramp, lines=[("2026-09-14", "1")])
        assert ramp.status == InvoiceStatus.ON_HOLD
        before = snapshot(ramp)

        with pytest.raises(services.InvoiceInsufficientFunds):
            services.invoice_approve(invoice=ramp, by=world.users["other_holder"])

        assert snapshot(ramp) == before
        assert position(world, "DFG", holder=world.base.sam).committed_minor == 0


class TestInvoiceQueryAndReject:
    @pytest.mark.parametrize("action", ["query", "reject"])
    @pytest.mark.parametrize("reason", ["", "   \n "])
    def test_a_blank_reason_is_422_reason_required(self, world, action, reason):
        invoice = submit(world.care)
        before = snapshot(invoice)

        response = world.client("holder").post(url(invoice, action), {"reason": reason}, format="json")

        assert response.status_code == 422
        assert response["Content-Type"] == PROBLEM
        assert [error["code"] for error in response.json()["errors"]] == ["reason_required"]
        assert snapshot(invoice) == before

    @pytest.mark.parametrize("action", ["query", "reject"])
    @pytest.mark.parametrize("role", ["rep_view", "navigator"])
    def test_someone_who_may_not_decide_is_told_so_before_being_asked_for_a_reason(self, world, action, role):
        invoice = submit(world.care)

        response = world.client(role).post(url(invoice, action), {"reason": ""}, format="json")

        assert response.status_code == 403
        assert [error["code"] for error in response.json()["errors"]] == ["not_allowed_to_decide"]

    @pytest.mark.parametrize("action", ["query", "reject"])
    def test_a_decided_invoice_is_a_conflict_whatever_the_reason(self, world, action):
        invoice = invoice_in(world, "approved")

        response = world.client("holder").post(url(invoice, action), {"reason": " "}, format="json")

        assert response.status_code == 409
        assert [error["code"] for error in response.json()["errors"]] == ["invalid_invoice_state"]

    @pytest.mark.parametrize("action", ["query", "reject"])
    def test_a_missing_reason_is_400(self, world, action):
        invoice = submit(world.care)

        response = world.client("holder").post(url(invoice, action), {}, format="json")

        assert response.status_code == 400
        assert [error["pointer"] for error in response.json()["errors"]] == ["/reason"]
        assert Invoice.objects.get(pk=invoice.pk).status == InvoiceStatus.AWAITING_APPROVAL

    @pytest.mark.parametrize("action", ["query", "reject"])
    def test_the_services_refuse_a_blank_reason(self, world, action):
        invoice = submit(world.care)
        call = services.invoice_query if action == "query" else services.invoice_reject

        with pytest.raises(services.ReasonRequired):
            call(invoice=invoice, by=world.users["holder"], reason=" ")

        assert Invoice.objects.get(pk=invoice.pk).status == InvoiceStatus.AWAITING_APPROVAL

    def test_a_query_shows_the_question_and_the_provider_sees_it(self, world):
        invoice = submit(world.care)

        world.client("holder").post(url(invoice, "query"), {"reason": f"  {REASON}  "}, format="json")

        seen = provider_client("bright-care").get(f"/api/v1/invoices/{invoice.public_id}/").json()
        assert seen["status"] == "queried"
        assert seen["question"] == REASON
        assert seen["history"][-1]["reason"] == REASON

    def test_a_queried_invoice_may_be_withdrawn_and_sent_again_under_its_number(self, world):
        invoice = submit(world.care)
        services.invoice_query(invoice=invoice, by=world.users["holder"], reason="Which days?")
        provider = provider_client("bright-care")

        withdrawn = provider.post(
            url(invoice, "withdraw"), {"reason": "Sending it corrected."}, format="json"
        )
        again = provider.post(
            "/api/v1/invoices/",
            {
                "invoice_number": invoice.invoice_number,
                "person": world.base.alex.public_id,
                "issued_on": "2026-11-02",
                "currency": "GBP",
                "lines": [
                    {
                        "support_item": world.care.support_item_public_id,
                        "service_date": "2026-10-03",
                        "quantity": "3.00",
                        "unit_price": "24.50",
                        "amount": "73.50",
                    }
                ],
                "total": "73.50",
            },
            format="json",
        )

        assert withdrawn.json()["status"] == "withdrawn"
        assert again.status_code == 201, again.content

    def test_rejection_reserves_nothing(self, world):
        invoice = submit(world.care)
        transactions = Transaction.objects.count()

        response = world.client("holder").post(
            url(invoice, "reject"), {"reason": "Not delivered."}, format="json"
        )

        assert response.json()["status"] == "rejected"
        assert Transaction.objects.count() == transactions
        assert Invoice.objects.get(pk=invoice.pk).reservation is None


class TestInvoiceWithdraw:
    def test_only_the_provider_withdraws(self, world):
        invoice = submit(world.care)
        before = snapshot(invoice)

        response = world.client("holder").post(url(invoice, "withdraw"), {}, format="json")

        assert response.status_code == 403
        assert [error["code"] for error in response.json()["errors"]] == ["not_allowed_to_withdraw"]
        assert snapshot(invoice) == before

    def test_a_user_of_another_provider_may_not_withdraw_it(self, world):
        invoice = submit(world.care)
        other = world.users["provider_not_engaged"]

        with pytest.raises(services.NotAllowedToWithdraw):
            services.invoice_withdraw(invoice=invoice, by=other)

        assert (
            provider_client("able-assist").post(url(invoice, "withdraw"), {}, format="json").status_code
            == 404
        )
        assert Invoice.objects.get(pk=invoice.pk).status == InvoiceStatus.AWAITING_APPROVAL

    def test_another_user_of_the_same_provider_may_withdraw_it(self, world):
        invoice = submit(world.care, by=world.users["provider_engaged"])

        response = provider_client("bright-care").post(url(invoice, "withdraw"), {}, format="json")

        assert response.status_code == 200
        assert response.json()["history"][-1]["by"] == "provider"

    def test_approve_then_withdraw_is_409_and_the_money_stays_reserved(self, world):
        invoice = submit(world.care)
        world.client("holder").post(url(invoice, "approve"))
        before = snapshot(invoice)

        response = provider_client("bright-care").post(url(invoice, "withdraw"), {}, format="json")

        assert response.status_code == 409
        assert [error["code"] for error in response.json()["errors"]] == ["invalid_invoice_state"]
        assert snapshot(invoice) == before
        assert Invoice.objects.get(pk=invoice.pk).reservation.kind == TransactionKind.PENDING

    def test_withdraw_then_approve_is_409_and_reserves_nothing(self, world):
        invoice = submit(world.care)
        provider_client("bright-care").post(url(invoice, "withdraw"), {}, format="json")
        before = snapshot(invoice)
        committed = position(world, "ASC").committed_minor

        response = world.client("holder").post(url(invoice, "approve"))

        assert response.status_code == 409
        assert [error["code"] for error in response.json()["errors"]] == ["invalid_invoice_state"]
        assert snapshot(invoice) == before
        assert Invoice.objects.get(pk=invoice.pk).reservation is None
        assert position(world, "ASC").committed_minor == committed


class TestWhoDecides:
    @pytest.mark.parametrize("action", ["approve", "query", "reject"])
    def test_a_navigator_may_not_decide_an_invoice_waiting_for_the_person(self, world, action):
        invoice = submit(world.care)
        before = snapshot(invoice)

        response = world.client("navigator").post(url(invoice, action), {"reason": REASON}, format="json")

        assert response.status_code == 403
        assert response["Content-Type"] == PROBLEM
        assert [error["code"] for error in response.json()["errors"]] == ["not_allowed_to_decide"]
        assert snapshot(invoice) == before

    @pytest.mark.parametrize("action", ["approve", "query", "reject"])
    def test_the_navigator_decides_an_invoice_on_hold(self, world, action):
        invoice = invoice_in(world, "on_hold")

        response = world.client("navigator").post(url(invoice, action), {"reason": REASON}, format="json")

        assert response.status_code == 200, response.content
        assert response.json()["status"] == ACTIONS[action][0]
        event = InvoiceEvent.objects.filter(invoice=invoice).latest("id")
        assert (event.by, event.by_role) == (world.users["navigator"], "navigator")
        assert response.json()["history"][-1]["by"] == "navigator"

    def test_a_navigator_may_not_decide_a_queried_invoice(self, world):
        invoice = invoice_in(world, "on_hold")
        world.client("navigator").post(url(invoice, "query"), {"reason": REASON}, format="json")

        response = world.client("navigator").post(url(invoice, "reject"), {"reason": REASON}, format="json")

        assert response.status_code == 403
        assert [error["code"] for error in response.json()["errors"]] == ["not_allowed_to_decide"]

    @pytest.mark.parametrize("role", ["rep_view", "finance", "admin", "provider_engaged"])
    def test_someone_who_sees_the_invoice_but_may_not_decide_gets_403(self, world, role):
        invoice = submit(world.care)
        before = snapshot(invoice)

        response = world.client(role).post(url(invoice, "approve"))

        assert response.status_code == 403
        assert [error["code"] for error in response.json()["errors"]] == ["not_allowed_to_decide"]
        assert snapshot(invoice) == before

    @pytest.mark.parametrize(
        "role", ["other_holder", "rep_revoked", "other_navigator", "officer_asc", "provider_not_engaged"]
    )
    def test_someone_who_cannot_see_the_invoice_gets_404(self, world, role):
        invoice = invoice_in(world, "on_hold")
        before = snapshot(invoice)

        response = world.client(role).post(url(invoice, "approve"))

        assert response.status_code == 404
        assert response["Content-Type"] == PROBLEM
        assert snapshot(invoice) == before

    def test_without_credentials_it_is_401(self, world):
        from rest_framework.test import APIClient

        invoice = submit(world.care)

        response = APIClient().post(url(invoice, "approve"))

        assert response.status_code == 401
        assert Invoice.objects.get(pk=invoice.pk).status == InvoiceStatus.AWAITING_APPROVAL


class TestInvoiceEventIsAppendOnly:
    def test_an_event_cannot_be_changed(self, world):
        event = InvoiceEvent.objects.get(invoice=submit(world.care))
        event.reason = "rewritten"

        with pytest.raises(AppendOnlyViolation):
            event.save()

        assert InvoiceEvent.objects.get(pk=event.pk).reason == ""

    def test_an_event_cannot_be_deleted(self, world):
        event = InvoiceEvent.objects.get(invoice=submit(world.care))

        with pytest.raises(AppendOnlyViolation):
            event.delete()

        assert InvoiceEvent.objects.filter(pk=event.pk).exists()

    def test_events_cannot_be_updated_or_deleted_in_bulk(self, world):
        invoice = submit(world.care)

        with pytest.raises(AppendOnlyViolation):
            InvoiceEvent.objects.filter(invoice=invoice).update(reason="rewritten")
        with pytest.raises(AppendOnlyViolation):
            InvoiceEvent.objects.filter(invoice=invoice).delete()

        assert list(InvoiceEvent.objects.filter(invoice=invoice).values_list("status", "reason")) == [
            ("submitted", "")
        ]
