"""Funding received (payments/services/funding.py): an agency's payment of instalments moves the stream's
receivable to the bank's cash account, exactly; every problem is reported at once and changes nothing; the
same reference twice is one receipt; late instalments are listed; the agency statement shows what arrived.

The world is the invoicing world (tests/invoicing/world.py): "today" is Friday 20 November 2026 and Alex's
ASC instalments (1,000.00 every four weeks from 1 April) are due up to the one of 11 November.
"""

from datetime import date

import pytest

from budgets import accounts as budget_accounts
from budgets.models import FundingStream, Instalment, InstalmentStatus
from budgets.services.personal_budgets import instalments_mark_received
from ledger import services as ledger_services
from ledger.models import Account, Posting, Transaction
from ledger.selectors import account_balance
from payments import selectors
from payments.models import FundingReceipt
from payments.services.funding import (
    AUDIT_FUNDING_RECEIVED,
    FundingReceiptDuplicate,
    FundingReceiptInvalid,
    funding_receipt_record,
)
from people.models import AuditEvent
from statements.period import Period, month_of
from statements.selectors import agency_all_lines
from tests.concurrency import run_in_threads
from tests.invoicing.world import TODAY, build_invoicing_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(monkeypatch):
    return build_invoicing_world(monkeypatch)


def stream(code: str) -> FundingStream:
    return FundingStream.objects.get(code=code)


def instalments(code: str, status: str = InstalmentStatus.DUE) -> list[Instalment]:
    return list(
        Instalment.objects.filter(personal_budget__stream__code=code, status=status).order_by("due_on", "pk")
    )


def posted(key: str) -> int:
    account = Account.objects.filter(key=key).first()
    return 0 if account is None else account_balance(account=account).posted_minor


def balances(world) -> dict[str, int]:
    alex = world.base.alex.public_id
    return {
        "cash": posted("payments:cash:bank:GBP"),
        "asc_receivable": posted(budget_accounts.stream_receivable_key(stream_code="ASC")),
        "ilf_receivable": posted(budget_accounts.stream_receivable_key(stream_code="ILF")),
        "alex_asc_funds": posted(
            budget_accounts.person_funds_key(budget_holder_public_id=alex, stream_code="ASC")
        ),
    }


def record(code: str, chosen: list[Instalment], **kwargs):
    kwargs.setdefault("reference", "ASC-PAY-0001")
    kwargs.setdefault("received_on", date(2026, 11, 18))
    kwargs.setdefault("by", None)
    return funding_receipt_record(
        stream=stream(code), instalments=[instalment.public_id for instalment in chosen], **kwargs
    )


def codes_and_pointers(error) -> list[tuple[str, str]]:
    return [(problem["code"], problem["pointer"]) for problem in error.errors]


class TestRecordingAReceipt:
    def test_the_receivable_goes_down_and_cash_up_by_exactly_the_instalments_and_funds_stay(self, world):
        due = instalments("ASC")
        assert [instalment.due_on for instalment in due[-2:]] == [date(2026, 10, 14), date(2026, 11, 11)]
        before = balances(world)
        assert before["asc_receivable"] == 900000  # nine instalments of 1,000.00 fell due
        finance = world.users["finance"]

        result = record("ASC", due[-2:], amount_minor=200000, by=finance)

        assert result.created is True
        after = balances(world)
        assert after["cash"] == before["cash"] + 200000
        assert after["asc_receivable"] == before["asc_receivable"] - 200000 == 700000
        assert after["alex_asc_funds"] == before["alex_asc_funds"]
        assert after["ilf_receivable"] == before["ilf_receivable"]
        receipt = FundingReceipt.objects.get()
        assert (receipt.reference, receipt.received_on, receipt.amount_minor, receipt.currency) == (
            "ASC-PAY-0001",
            date(2026, 11, 18),
            200000,
            "GBP",
        )
        assert receipt.recorded_by == finance and receipt.public_id.startswith("rcv_")
        assert sorted(receipt.instalments.values_list("public_id", flat=True)) == sorted(
            instalment.public_id for instalment in due[-2:]
        )
        for instalment in due[-2:]:
            instalment.refresh_from_db()
            assert (instalment.status, instalment.received_on) == (
                InstalmentStatus.RECEIVED,
                date(2026, 11, 18),
            )
        assert [i.status for i in instalments("ASC")] == [InstalmentStatus.DUE] * 7

    def test_one_balanced_transaction_effective_the_day_received(self, world):
        receipt = record("ASC", instalments("ASC")[:1]).receipt

        transaction = Transaction.objects.get(public_id=receipt.ledger_transaction)
        assert transaction.effective_on == date(2026, 11, 18)
        legs = sorted(
            Posting.objects.filter(transaction=transaction).values_list(
                "account__key", "side", "amount_minor"
            )
        )
        assert legs == [
            ("payments:cash:bank:GBP", "debit", 100000),
            ("stream:ASC:receivable", "credit", 100000),
        ]

    def test_an_audit_event_says_who_recorded_what(self, world):
        receipt = record("ASC", instalments("ASC")[:2], by=world.users["finance"]).receipt

        event = AuditEvent.objects.get(action=AUDIT_FUNDING_RECEIVED)
        assert (event.actor, event.object_id) == (world.users["finance"], receipt.public_id)
        assert event.detail["amount"] == "2000.00" and event.detail["stream"] == "ASC"
        assert event.detail["ledger_transaction"] == receipt.ledger_transaction
        assert event.detail["instalments"] == sorted(
            i.public_id for i in Instalment.objects.filter(status=InstalmentStatus.RECEIVED)
        )

    def test_the_amount_may_be_left_out(self, world):
        receipt = record("ILF", instalments("ILF")[:3], reference="ILF-9").receipt
        assert receipt.amount_minor == 3 * 37200

    def test_an_agency_may_pay_early_once_the_instalment_is_due_in_purse(self, world):
        last = instalments("ASC")[-1]  # due 11 November
        receipt = record("ASC", [last], received_on=date(2026, 10, 11)).receipt  # 31 days early
        assert receipt.received_on == date(2026, 10, 11)
        # Between the day received and the day due, the receivable is below what fell due: paid in advance.
        receivable = Account.objects.get(key="stream:ASC:receivable")
        assert account_balance(account=receivable, on=date(2026, 10, 20)).posted_minor == 800000 - 100000


class TestTheSameReferenceAgain:
    def test_the_same_receipt_is_returned_and_nothing_changes(self, world):
        chosen = instalments("ASC")[:2]
        first = record("ASC", chosen, amount_minor=200000).receipt
        before = (balances(world), Transaction.objects.count(), AuditEvent.objects.count())

        again = record("ASC", list(reversed(chosen)), amount_minor=200000)
        without_amount = record("ASC", chosen)

        assert again.created is False and again.receipt == first and without_amount.receipt == first
        assert (balances(world), Transaction.objects.count(), AuditEvent.objects.count()) == before

    @pytest.mark.parametrize(
        "change",
        [
            {"received_on": date(2026, 11, 19)},
            {"amount_minor": 100000},
            {"instalments": "other"},
        ],
        ids=["another day", "another amount", "other instalments"],
    )
    def test_for_anything_else_is_a_conflict_naming_the_first(self, world, change):
        due = instalments("ASC")
        first = record("ASC", due[:2]).receipt
        before = (balances(world), Transaction.objects.count())
        chosen = due[2:4] if change.pop("instalments", None) else due[:2]

        with pytest.raises(FundingReceiptDuplicate) as raised:
            record("ASC", chosen, **change)

        assert raised.value.http_status == 409 and raised.value.existing == first
        assert codes_and_pointers(raised.value) == [("duplicate_reference", "/reference")]
        assert first.public_id in raised.value.message
        assert (balances(world), Transaction.objects.count()) == before
        assert FundingReceipt.objects.count() == 1

    def test_the_same_reference_for_another_stream_is_another_receipt(self, world):
        record("ASC", instalments("ASC")[:1], reference="SAME")
        record("ILF", instalments("ILF")[:1], reference="SAME")
        assert FundingReceipt.objects.count() == 2


class TestProblems:
    def test_every_problem_at_once_with_its_pointer_and_nothing_changes(self, world):
        asc = instalments("ASC")
        record("ASC", asc[:1], reference="FIRST")
        scheduled = instalments("ASC", InstalmentStatus.SCHEDULED)[0]
        before = (balances(world), Transaction.objects.count(), FundingReceipt.objects.count())

        with pytest.raises(FundingReceiptInvalid) as raised:
            funding_receipt_record(
                stream=stream("ASC"),
                instalments=[
                    asc[0].public_id,
                    scheduled.public_id,
                    instalments("ILF")[0].public_id,
                    "ins_no",
                ],
                reference="   ",
                received_on=date(2026, 11, 21),
                by=None,
                amount_minor=-5,
            )

        assert codes_and_pointers(raised.value) == [
            ("invalid_reference", "/reference"),
            ("future_date", "/received_on"),
            ("invalid_amount", "/amount"),
            ("already_received", "/instalments/0"),
            ("not_due", "/instalments/1"),
            ("unknown_instalment", "/instalments/2"),
            ("unknown_instalment", "/instalments/3"),
        ]
        details = [problem["detail"] for problem in raised.value.errors]
        assert details[1] == "The day the money arrived cannot be after today, 20 November 2026."
        assert details[3] == f"{asc[0].public_id} was already received on 18 November 2026."
        assert details[5] == f"{instalments('ILF')[0].public_id} is not an instalment of ASC."
        assert (balances(world), Transaction.objects.count(), FundingReceipt.objects.count()) == before

    def test_an_amount_that_is_not_the_instalments_sum(self, world):
        with pytest.raises(FundingReceiptInvalid) as raised:
            record("ASC", instalments("ASC")[:2], amount_minor=199999)
        assert codes_and_pointers(raised.value) == [("amount_mismatch", "/amount")]
        assert raised.value.message == "The instalments chosen come to 2000.00, not 1999.99."
        assert not FundingReceipt.objects.exists()
        assert not Instalment.objects.filter(status=InstalmentStatus.RECEIVED).exists()

    def test_no_instalments(self, world):
        with pytest.raises(FundingReceiptInvalid) as raised:
            record("ASC", [])
        assert codes_and_pointers(raised.value) == [("no_instalments", "/instalments")]

    def test_money_much_earlier_than_due_is_not_a_payment_of_it(self, world):
        last = instalments("ASC")[-1]  # due 11 November
        with pytest.raises(FundingReceiptInvalid) as raised:
            record("ASC", [last], received_on=date(2026, 10, 10))  # 32 days early
        assert codes_and_pointers(raised.value) == [("received_too_early", "/received_on")]

    def test_a_reference_too_long(self, world):
        with pytest.raises(FundingReceiptInvalid) as raised:
            record("ASC", instalments("ASC")[:1], reference="R" * 65)
        assert codes_and_pointers(raised.value) == [("invalid_reference", "/reference")]

    def test_a_day_in_a_closed_period(self, world):
        ledger_services.period_close(closed_through=date(2026, 10, 31), closed_by="finance")
        with pytest.raises(FundingReceiptInvalid) as raised:
            record("ASC", instalments("ASC")[-1:], received_on=date(2026, 10, 30))
        assert codes_and_pointers(raised.value) == [("period_closed", "/received_on")]
        assert not FundingReceipt.objects.exists()
        assert not Instalment.objects.filter(status=InstalmentStatus.RECEIVED).exists()


class TestMarkReceived:
    def test_only_due_instalments_move(self, world):
        due = instalments("ILF")[0]
        scheduled = instalments("ILF", InstalmentStatus.SCHEDULED)[0]

        moved = instalments_mark_received(
            instalment_ids=[due.pk, scheduled.pk], received_on=date(2026, 11, 2)
        )

        assert moved == 1
        due.refresh_from_db()
        scheduled.refresh_from_db()
        assert (due.status, due.received_on) == (InstalmentStatus.RECEIVED, date(2026, 11, 2))
        assert (scheduled.status, scheduled.received_on) == (InstalmentStatus.SCHEDULED, None)


class TestTheAgencyStatement:
    def test_received_shows_what_the_agency_paid_in_the_period(self, world):
        record("ASC", instalments("ASC")[-2:], received_on=date(2026, 11, 18))
        record("ASC", instalments("ASC")[:1], reference="ASC-OCT", received_on=date(2026, 10, 30))
        alex = world.base.alex.public_id

        november = {
            line.budget_holder_public_id: line
            for line in agency_all_lines(stream=stream("ASC"), period=month_of(TODAY))
        }
        october = {
            line.budget_holder_public_id: line
            for line in agency_all_lines(
                stream=stream("ASC"), period=Period(date(2026, 10, 1), date(2026, 10, 31))
            )
        }
        ilf = {
            line.budget_holder_public_id: line
            for line in agency_all_lines(stream=stream("ILF"), period=month_of(TODAY))
        }

        assert november[alex].received_minor == 200000
        assert october[alex].received_minor == 100000
        assert ilf[alex].received_minor == 0


class TestLateInstalments:
    def test_due_before_today_and_not_received_oldest_first(self, world):
        record("ASC", instalments("ASC")[:8])

        late = list(selectors.instalments_late(stream_code="ASC"))

        assert [(i.due_on, i.amount_minor) for i in late] == [(date(2026, 11, 11), 100000)]

    def test_totals_by_stream_in_one_query(self, world, django_assert_num_queries):
        record("ASC", instalments("ASC")[:8])
        with django_assert_num_queries(1):
            totals = selectors.late_totals()
        assert [
            (row["personal_budget__stream__code"], row["count"], row["total_minor"], row["oldest"])
            for row in totals
        ] == [
            ("ASC", 1, 100000, date(2026, 11, 11)),
            (
                "ATW",
                8,
                108429 + 112043 + 108428 + 112043 + 112043 + 108428 + 112043 + 108428,
                date(2026, 4, 1),
            ),
            ("DFG", 1, 269500, date(2026, 4, 1)),
            ("ILF", 9, 9 * 37200, date(2026, 4, 1)),
        ]

    def test_only_the_streams_given(self, world):
        streams = FundingStream.objects.filter(code__in=["ATW", "SP"])
        assert [row["personal_budget__stream__code"] for row in selectors.late_totals(streams=streams)] == [
            "ATW"
        ]
        assert {i.personal_budget.stream.code for i in selectors.instalments_late(streams=streams)} == {"ATW"}
        assert not selectors.instalments_late(stream_code="ASC", streams=streams).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
class TestTwoFinanceOfficersAtOnce:
    def test_the_same_instalments_under_two_references_are_received_once(self, world):
        chosen = instalments("ASC")[:3]
        before = balances(world)

        results = run_in_threads(2, lambda i: record("ASC", chosen, reference=f"REF-{i}"))

        recorded = [r for r in results if not isinstance(r, Exception)]
        failed = [r for r in results if isinstance(r, Exception)]
        assert len(recorded) == 1 and len(failed) == 1, results
        assert isinstance(failed[0], FundingReceiptInvalid)
        assert {code for code, _ in codes_and_pointers(failed[0])} == {"already_received"}
        assert FundingReceipt.objects.count() == 1
        after = balances(world)
        assert after["cash"] == before["cash"] + 300000
        assert after["asc_receivable"] == before["asc_receivable"] - 300000

    def test_the_same_reference_twice_at_once_is_one_receipt(self, world):
        chosen = instalments("ASC")[:2]
        before = balances(world)

        results = run_in_threads(3, lambda i: record("ASC", chosen, reference="REF-SAME"))

        assert not [r for r in results if isinstance(r, Exception)], results
        assert sorted(r.created for r in results) == [False, False, True]
        assert len({r.receipt.pk for r in results}) == 1
        assert balances(world)["cash"] == before["cash"] + 200000
