"""Importing statement files into the database and matching their lines to ledger transactions."""

from datetime import date

import pytest
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger import services as ledger_services
from ledger.models import Account, AccountType, PeriodClose, Side
from ledger.reconciliation import selectors, services
from ledger.reconciliation.models import (
    ImportStatus,
    LineState,
    MatchHow,
    MatchItem,
    MatchStatus,
    ReconciliationMatch,
    StatementLine,
)
from ledger.reconciliation.statement_files import StatementFileInvalid
from ledger.selectors import account_balance

pytestmark = pytest.mark.django_db

MAPPING = {
    "date_column": "Date",
    "amount_column": "Amount",
    "reference_column": "Reference",
    "description_column": "Description",
    "balance_column": "Balance",
}


def money(minor: int) -> str:
    sign = "-" if minor < 0 else ""
    return f"{sign}{abs(minor) // 100}.{abs(minor) % 100:02d}"


def csv_file(rows, *, opening: int = 100_000) -> bytes:
    """rows: (date, amount_minor, reference, description)."""
    out = ["Date,Amount,Reference,Description,Balance"]
    balance = opening
    for day, amount, reference, description in rows:
        balance += amount
        out.append(f"{day:%d/%m/%Y},{money(amount)},{reference},{description},{money(balance)}")
    return ("\n".join(out) + "\n").encode()


def account(key, type=AccountType.ASSET):
    return ledger_services.account_get_or_create(
        key=key, name=key, type=type, currency="GBP", allow_negative=True, owner_type="test", owner_id=key
    )


class World:
    def __init__(self):
        self.cash = account("test:cash:bank")
        self.transit = account("test:clearing:bacs", AccountType.LIABILITY)
        self.receivable = account("test:receivable", AccountType.ASSET)
        self.payable = account("test:payable", AccountType.LIABILITY)
        self.recon = services.reconciliation_account_ensure(
            key="bank:GBP",
            name="Council bank",
            kind="bank",
            ledger_account=self.cash,
            transit_accounts=[self.transit],
            batch_keys=["bacs_file"],
        )
        services.csv_mapping_save(account=self.recon, mapping=MAPPING)
        self.count = 0

    def post(self, debit, credit, amount, on, description="", **metadata):
        self.count += 1
        return ledger_services.transaction_post(
            idempotency_key=f"t{self.count}",
            currency="GBP",
            effective_on=on,
            description=description or f"Transaction {self.count}",
            postings=[
                ledger_services.PostingSpec(account=debit, side=Side.DEBIT, amount_minor=amount),
                ledger_services.PostingSpec(account=credit, side=Side.CREDIT, amount_minor=amount),
            ],
            metadata=metadata,
        )

    def funding(self, amount, on, reference):
        return self.post(
            self.cash, self.receivable, amount, on, f"Funding, reference {reference}", reference=reference
        )

    def bacs_payment(self, amount, on, payment, bacs_file="bacs_file1"):
        return self.post(
            self.payable, self.transit, amount, on, f"Payment {payment}", payment=payment, bacs_file=bacs_file
        )

    def other_cash(self, amount, on, description="Bank interest"):
        return self.post(self.cash, self.receivable, amount, on, description)

    def load(self, rows, **kwargs):
        return services.statement_import(
            account=self.recon, content=csv_file(rows, **kwargs), by="finance", file_name="s.csv"
        )


@pytest.fixture
def world():
    return World()


def line_of(imported, number):
    return StatementLine.objects.get(statement_import=imported, line_number=number)


def match_of(line):
    return ReconciliationMatch.objects.filter(line=line).exclude(status__in=["rejected", "unmatched"]).first()


class TestPasses:
    def test_reference_and_amount_matches_with_its_explanation(self, world):
        receipt = world.funding(485_000, date(2026, 11, 2), "DEMO-ASC-2026-11")
        imported = world.load([(date(2026, 11, 2), 485_000, "DEMO-ASC-2026-11", "NORFOLK CC")])
        line = line_of(imported, 2)
        match = match_of(line)
        assert line.state == LineState.MATCHED and match.how == MatchHow.REFERENCE
        assert match.created_by == "purse" and match.decided_at is not None
        assert "DEMOASC202611" in match.explanation and "£4850.00" in match.explanation
        assert [item.transaction_id for item in match.items.all()] == [receipt.pk]
        assert imported.status == ImportStatus.DONE and imported.lines_checked == 1

    def test_a_bacs_style_reference_finds_the_payment_id(self, world):
        payment = world.bacs_payment(31_875, date(2026, 11, 3), "pay_k7g57jmjtnsuje", bacs_file="bacs_a")
        world.bacs_payment(10_000, date(2026, 11, 3), "pay_other000001", bacs_file="bacs_a")
        imported = world.load([(date(2026, 11, 5), -31_875, "PAY-K7G57JMJTNSUJE", "BRIGHT CARE")])
        match = match_of(line_of(imported, 2))
        assert match.how == MatchHow.REFERENCE and match.items.get().transaction_id == payment.pk

    def test_a_reference_cut_short_by_the_bank_still_matches(self, world):
        payment = world.bacs_payment(31_875, date(2026, 11, 3), "pay_k7g57jmjtnsuje")
        imported = world.load([(date(2026, 11, 5), -31_875, "PAY-K7G57JMJTNSU", "")])
        assert match_of(line_of(imported, 2)).items.get().transaction_id == payment.pk

    def test_a_matched_bacs_payment_is_settled_from_transit_to_the_bank(self, world):
        world.bacs_payment(31_875, date(2026, 11, 3), "pay_k7g57jmjtnsuje")
        imported = world.load([(date(2026, 11, 5), -31_875, "PAY-K7G57JMJTNSUJE", "")])
        match = match_of(line_of(imported, 2))
        assert match.settlement is not None and match.settlement.effective_on == date(2026, 11, 5)
        assert account_balance(account=world.transit).posted_minor == 0
        assert account_balance(account=world.cash).posted_minor == -31_875

    def test_one_line_for_a_bacs_file_matches_its_payments_by_exact_sum(self, world):
        payments = [
            world.bacs_payment(amount, date(2026, 11, 3), f"pay_{index}abcdefgh", bacs_file="bacs_7h2k9m4q")
            for index, amount in enumerate((50_000, 44_050, 30_000))
        ]
        world.bacs_payment(99_999, date(2026, 11, 3), "pay_elsewhere1", bacs_file="bacs_other")
        imported = world.load([(date(2026, 11, 6), -124_050, "BACS 03NOV", "BACS CONTRA")])
        match = match_of(line_of(imported, 2))
        assert match.how == MatchHow.BATCH and match.status == MatchStatus.MATCHED
        assert {item.transaction_id for item in match.items.all()} == {p.pk for p in payments}
        assert "3 transactions of batch bacs_7h2k9m4q" in match.explanation
        assert account_balance(account=world.transit).posted_minor == 99_999

    def test_amount_and_date_within_the_window_matches_when_only_one(self, world):
        receipt = world.other_cash(1_234, date(2026, 12, 24))
        # 24 December to 29 December 2026 is one working day (Christmas and Boxing Day's substitute).
        imported = world.load([(date(2026, 12, 29), 1_234, "", "INTEREST")])
        match = match_of(line_of(imported, 2))
        assert match.how == MatchHow.AMOUNT_DATE and match.status == MatchStatus.MATCHED
        assert match.items.get().transaction_id == receipt.pk
        assert "1 working day apart" in match.explanation

    def test_outside_the_window_stays_unmatched(self, world):
        world.other_cash(1_234, date(2026, 11, 2))
        imported = world.load([(date(2026, 11, 9), 1_234, "", "INTEREST")])
        assert line_of(imported, 2).state == LineState.UNMATCHED

    @pytest.mark.parametrize(("window", "state"), [(3, LineState.UNMATCHED), (5, LineState.MATCHED)])
    def test_the_window_is_configurable(self, world, settings, window, state):
        settings.RECONCILIATION_DATE_WINDOW_WORKING_DAYS = window
        world.other_cash(1_234, date(2026, 11, 2))
        imported = world.load([(date(2026, 11, 6), 1_234, "", "INTEREST")])
        # 2 to 6 November is 4 working days.
        assert line_of(imported, 2).state == state

    def test_two_candidates_of_one_amount_give_a_suggestion_of_the_nearest(self, world):
        world.other_cash(5_000, date(2026, 11, 2))
        nearest = world.other_cash(5_000, date(2026, 11, 4))
        imported = world.load([(date(2026, 11, 4), 5_000, "", "CREDIT")])
        line = line_of(imported, 2)
        match = match_of(line)
        assert line.state == LineState.SUGGESTED and match.status == MatchStatus.SUGGESTED
        assert match.items.get().transaction_id == nearest.pk
        assert not match.items.get().claimed

    def test_a_reference_with_a_different_amount_is_a_suggestion_saying_the_difference(self, world):
        world.funding(485_000, date(2026, 11, 2), "DEMO-ASC-2026-11")
        imported = world.load([(date(2026, 11, 2), 480_000, "DEMO-ASC-2026-11", "")])
        match = match_of(line_of(imported, 2))
        assert match.how == MatchHow.REFERENCE_AMOUNT_DIFFERS and match.status == MatchStatus.SUGGESTED
        assert "£50.00 less" in match.explanation

    def test_a_day_of_transactions_adding_up_is_suggested(self, world):
        world.other_cash(1_000, date(2026, 11, 10))
        world.other_cash(2_500, date(2026, 11, 10))
        imported = world.load([(date(2026, 11, 10), 3_500, "", "CREDITS")])
        match = match_of(line_of(imported, 2))
        assert match.how == MatchHow.SAME_DAY_SUM and match.items.count() == 2

    def test_an_unknown_reference_is_listed_unmatched(self, world):
        imported = world.load([(date(2026, 11, 2), 777, "NOBODY-123456", "")])
        assert line_of(imported, 2).state == LineState.UNMATCHED

    def test_two_identical_lines_and_a_reversal_each_find_their_own(self, world):
        first = world.other_cash(2_000, date(2026, 11, 2), "Refund")
        second = world.other_cash(2_000, date(2026, 11, 2), "Refund")
        reversal = ledger_services.transaction_reverse(
            transaction=second,
            idempotency_key="rev",
            effective_on=date(2026, 11, 3),
            reason="Refund reversed",
        )
        imported = world.load(
            [
                (date(2026, 11, 2), 2_000, "", "REFUND"),
                (date(2026, 11, 2), 2_000, "", "REFUND"),
                (date(2026, 11, 3), -2_000, "", "REFUND REVERSED"),
            ]
        )
        lines = list(StatementLine.objects.filter(statement_import=imported).order_by("line_number"))
        assert len(lines) == 3
        matched = {
            item.transaction_id
            for item in MatchItem.objects.filter(
                match__line__in=lines, match__status__in=["matched", "suggested"]
            )
        }
        assert reversal.pk in matched
        assert {first.pk, second.pk} & matched

    def test_a_stronger_match_is_not_taken_by_a_weaker_one_earlier_in_the_file(self, world):
        receipt = world.funding(5_000, date(2026, 11, 2), "REF-ABC123")
        imported = world.load(
            [(date(2026, 11, 2), 5_000, "", "UNKNOWN"), (date(2026, 11, 3), 5_000, "REF-ABC123", "")]
        )
        assert match_of(line_of(imported, 3)).items.get().transaction_id == receipt.pk
        assert line_of(imported, 2).state == LineState.UNMATCHED


class TestImport:
    def test_the_same_file_twice_imports_nothing_and_names_the_first(self, world):
        rows = [(date(2026, 11, 2), 777, "X", "")]
        first = world.load(rows)
        with pytest.raises(services.DuplicateImport) as raised:
            world.load(rows)
        assert raised.value.first == first and first.public_id in raised.value.message
        assert StatementLine.objects.count() == 1

    def test_an_overlapping_statement_skips_the_lines_already_imported(self, world):
        world.load([(date(2026, 11, 2), 777, "A", ""), (date(2026, 11, 3), 100, "B", "")])
        second = world.load(
            [(date(2026, 11, 3), 100, "B", ""), (date(2026, 11, 4), 5, "C", "")], opening=100_777
        )
        assert (second.lines_in_file, second.lines_new, second.lines_already_imported) == (2, 1, 1)
        assert StatementLine.objects.count() == 3

    def test_a_malformed_file_is_refused_whole_naming_the_line(self, world):
        content = csv_file([(date(2026, 11, 2), 777, "A", "")]) + b"31/02/2026,1.00,B,,1.00\n"
        with pytest.raises(StatementFileInvalid) as raised:
            services.statement_import(account=world.recon, content=content, by="finance")
        assert raised.value.problems[0]["line"] == 3
        assert StatementLine.objects.count() == 0 and not world.recon.imports.exists()

    def test_balances_that_do_not_add_up_are_refused(self, world):
        rows = [(date(2026, 11, 2), 777, "A", ""), (date(2026, 11, 3), 100, "B", "")]
        content = csv_file(rows).replace(b"1008.77", b"1008.78")
        with pytest.raises(StatementFileInvalid):
            services.statement_import(account=world.recon, content=content, by="finance")
        assert not world.recon.imports.exists()

    def test_a_statement_of_another_account_is_refused(self, world):
        world.recon.identifier = "40404012345678"
        world.recon.save()
        content = b"Date,Amount,Reference,Description,Balance\n02/11/2026,7.77,A,,7.77\n"
        mt940 = world_fixture("mt940_good.sta")
        with pytest.raises(services.WrongAccount):
            services.statement_import(account=world.recon, content=mt940, by="finance", format="mt940")
        assert services.statement_import(account=world.recon, content=content, by="finance").lines_new == 1

    def test_an_unknown_format_and_an_empty_file_are_refused_by_field(self, world):
        with pytest.raises(services.InvalidImport) as raised:
            services.statement_import(account=world.recon, content=b"x", by="f", format="xls")
        assert raised.value.field == "format"
        with pytest.raises(services.InvalidImport) as raised:
            services.statement_import(account=world.recon, content=b"", by="f")
        assert raised.value.field == "file"

    def test_a_large_import_is_matched_in_batches_with_progress(
        self, world, settings, django_capture_on_commit_callbacks
    ):
        settings.RECONCILIATION_BATCH_LINES = 3
        settings.RECONCILIATION_SYNC_LINES = 4
        rows = []
        for day in range(1, 11):
            world.funding(1_000 + day, date(2026, 11, day), f"FUND-{day:03d}X")
            rows.append((date(2026, 11, day), 1_000 + day, f"FUND-{day:03d}X", ""))
        with django_capture_on_commit_callbacks(execute=False) as queued:
            imported = world.load(rows)
        assert imported.status == ImportStatus.PROCESSING and imported.lines_checked == 0
        assert len(queued) == 1
        # The task (Celery runs eagerly in the tests) matches it batch by batch.
        queued[0]()
        imported.refresh_from_db()
        assert imported.status == ImportStatus.DONE and imported.lines_checked == 10
        assert StatementLine.objects.filter(state=LineState.MATCHED).count() == 10

    def test_matching_again_after_a_crash_finishes_without_doubling(
        self, world, settings, monkeypatch, django_capture_on_commit_callbacks
    ):
        settings.RECONCILIATION_BATCH_LINES = 2
        settings.RECONCILIATION_SYNC_LINES = 0
        for day in range(1, 6):
            world.bacs_payment(
                1_000 + day, date(2026, 11, day), f"pay_crash{day:04d}", bacs_file=f"bacs_{day}"
            )
        rows = [(date(2026, 11, day), -(1_000 + day), f"PAY-CRASH{day:04d}", "") for day in range(1, 6)]
        calls = {"n": 0}
        real = services._write_decisions

        def crash_on_second(*args, **kwargs):
            calls["n"] += 1
            if calls["n"] == 2:
                raise RuntimeError("worker killed")
            return real(*args, **kwargs)

        monkeypatch.setattr(services, "_write_decisions", crash_on_second)
        with pytest.raises(RuntimeError), django_capture_on_commit_callbacks(execute=True):
            world.load(rows)
        monkeypatch.setattr(services, "_write_decisions", real)
        imported = world.recon.imports.get()
        assert imported.status == ImportStatus.PROCESSING and imported.lines_checked == 2
        services.import_match(imported.pk)
        imported.refresh_from_db()
        assert imported.status == ImportStatus.DONE
        assert StatementLine.objects.filter(state=LineState.MATCHED).count() == 5
        assert ReconciliationMatch.objects.count() == 5
        assert account_balance(account=world.transit).posted_minor == 0


def world_fixture(name):
    from pathlib import Path

    return (Path(__file__).parent / "fixtures" / name).read_bytes()


class TestByHand:
    def test_match_by_hand_needs_an_exact_sum_and_records_who(self, world):
        one = world.other_cash(1_000, date(2026, 11, 2))
        two = world.other_cash(2_000, date(2026, 11, 20))
        imported = world.load([(date(2026, 11, 2), 3_000, "", "")])
        line = line_of(imported, 2)
        with pytest.raises(services.InvalidMatch) as raised:
            services.line_match(line=line, transaction_ids=[one.public_id], by="fin")
        assert "£10.00" in raised.value.message and "£30.00" in raised.value.message
        match = services.line_match(
            line=line, transaction_ids=[one.public_id, two.public_id], by="fin", note="ok"
        )
        line.refresh_from_db()
        assert line.state == LineState.MATCHED and match.how == MatchHow.MANUAL
        assert (match.created_by, match.decided_by) == ("fin", "fin")
        with pytest.raises(services.MatchConflict):
            services.line_match(line=line, transaction_ids=[one.public_id, two.public_id], by="fin")

    def test_a_transaction_matched_to_one_line_cannot_be_matched_to_another(self, world):
        one = world.other_cash(1_000, date(2026, 11, 2))
        imported = world.load([(date(2026, 11, 2), 1_000, "", ""), (date(2026, 11, 2), 1_000, "", "again")])
        assert line_of(imported, 2).state == LineState.MATCHED
        with pytest.raises(services.MatchConflict) as raised:
            services.line_match(line=line_of(imported, 3), transaction_ids=[one.public_id], by="fin")
        assert "already matched" in raised.value.message

    def test_unknown_or_unrelated_transactions_are_refused(self, world):
        elsewhere = world.post(world.receivable, world.payable, 1_000, date(2026, 11, 2))
        line = line_of(world.load([(date(2026, 11, 2), 1_000, "", "")]), 2)
        for ids in (["txn_nope"], [elsewhere.public_id], [], "txn_x"):
            with pytest.raises(services.InvalidMatch):
                services.line_match(line=line, transaction_ids=ids, by="fin")
        assert not ReconciliationMatch.objects.filter(line=line).exists()

    def test_confirm_and_reject_suggestions(self, world):
        world.other_cash(5_000, date(2026, 11, 2))
        world.other_cash(5_000, date(2026, 11, 3))
        imported = world.load([(date(2026, 11, 3), 5_000, "", ""), (date(2026, 11, 3), 5_000, "", "b")])
        first, second = line_of(imported, 2), line_of(imported, 3)
        services.match_confirm(match=match_of(first), by="fin")
        first.refresh_from_db()
        assert first.state == LineState.MATCHED
        rejected = services.match_reject(match=match_of(second), by="fin", note="wrong one")
        second.refresh_from_db()
        assert rejected.status == MatchStatus.REJECTED and second.state == LineState.UNMATCHED
        with pytest.raises(services.MatchConflict):
            services.match_confirm(match=rejected, by="fin")

    def test_unmatch_frees_the_transactions_and_undoes_a_settlement(self, world):
        payment = world.bacs_payment(31_875, date(2026, 11, 3), "pay_undo0000001")
        imported = world.load([(date(2026, 11, 5), -31_875, "PAY-UNDO0000001", "")])
        line = line_of(imported, 2)
        services.line_unmatch(line=line, by="fin", note="wrong")
        line.refresh_from_db()
        assert line.state == LineState.UNMATCHED
        assert account_balance(account=world.transit).posted_minor == 31_875
        assert account_balance(account=world.cash).posted_minor == 0
        match = ReconciliationMatch.objects.get(line=line)
        assert match.status == MatchStatus.UNMATCHED and match.unsettlement is not None
        again = services.line_match(line=line, transaction_ids=[payment.public_id], by="fin")
        assert again.settlement is not None
        assert account_balance(account=world.transit).posted_minor == 0
        with pytest.raises(services.MatchConflict):
            services.line_unmatch(
                line=line_of(world.load([(date(2026, 11, 9), 1, "Z", "")], opening=68_125), 2), by="f"
            )


class TestReport:
    def test_the_report_explains_the_difference_and_a_period_is_reconciled_then_closed(self, world):
        world.funding(50_000, date(2026, 10, 30), "FUND-OCT001")
        world.other_cash(100_000, date(2026, 10, 1), "Opening")
        world.funding(20_000, date(2026, 11, 30), "FUND-LATE01")  # not yet at the bank
        world.bacs_payment(5_000, date(2026, 11, 27), "pay_transit0001")  # in transit
        imported = world.load(
            [
                (date(2026, 11, 2), 50_000, "FUND-OCT001", ""),
                (date(2026, 11, 10), 333, "", "BANK INTEREST"),  # not in the ledger
            ]
        )
        assert imported.lines_new == 2
        report = selectors.reconciliation_report(
            account=world.recon, period_start=date(2026, 11, 1), period_end=date(2026, 11, 30)
        )
        assert report.bank_balance_minor == 150_333
        assert report.ledger_balance_minor == 170_000
        assert report.unmatched_lines_minor == 333 and report.unmatched_items_minor == 20_000
        # October's receipt, before the first line, matched to a November line.
        assert report.start_difference_minor == -50_000 and report.across_period_end_minor == 50_000
        assert report.unexplained_minor == 0
        assert report.in_transit_minor == -5_000
        with pytest.raises(services.PeriodNotReconcilable):
            services.period_reconcile(
                account=world.recon, period_start=date(2026, 11, 1), period_end=date(2100, 1, 31), by="fin"
            )
        period = services.period_reconcile(
            account=world.recon, period_start=date(2026, 11, 1), period_end=date(2026, 11, 30), by="fin"
        )
        assert period.bank_balance_minor == 150_333
        assert PeriodClose.objects.filter(closed_through=date(2026, 11, 30)).exists()
        with pytest.raises(services.PeriodNotReconcilable):
            services.period_reconcile(
                account=world.recon, period_start=date(2026, 11, 1), period_end=date(2026, 11, 30), by="fin"
            )

    def test_a_waiting_suggestion_stops_the_period_being_reconciled(self, world):
        world.other_cash(5_000, date(2026, 11, 2))
        world.other_cash(5_000, date(2026, 11, 3))
        world.load([(date(2026, 11, 3), 5_000, "", "")])
        with pytest.raises(services.PeriodNotReconcilable) as raised:
            services.period_reconcile(
                account=world.recon, period_start=date(2026, 11, 1), period_end=date(2026, 11, 30), by="fin"
            )
        assert "suggested" in raised.value.message
        assert not PeriodClose.objects.exists()

    def test_the_lines_list_reads_a_fixed_number_of_queries(self, world):
        def run(n):
            for index in range(n):
                world.funding(1_000 + index, date(2026, 11, 2), f"QRY-{world.count:05d}A")
            rows = [
                (date(2026, 11, 2), 1_000 + index, f"QRY-{world.count - n + index + 1:05d}A", "")
                for index in range(n)
            ]
            imported = world.load(rows, opening=world.count * 1000)
            with CaptureQueriesContext(connection) as queries:
                lines = list(selectors.import_lines(statement_import=imported))
                for line in lines:
                    for match in line.matches_in_force:
                        [item.transaction.public_id for item in match.items.all()]
            return len(queries), lines

        small, lines = run(1)
        large, lines = run(8)
        assert small == large
        assert all(line.state == LineState.MATCHED for line in lines)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    ledger=st.lists(
        st.tuples(st.integers(-5_000, 5_000).filter(bool), st.integers(1, 20), st.booleans()), max_size=12
    ),
    bank=st.lists(
        st.tuples(st.integers(-5_000, 5_000).filter(bool), st.integers(1, 20), st.booleans()),
        min_size=1,
        max_size=12,
    ),
)
def test_every_line_is_matched_suggested_or_unmatched_and_matches_add_up(ledger, bank):
    from django.db import transaction as db_transaction

    with db_transaction.atomic():
        world = World()
        for index, (amount, day, referenced) in enumerate(ledger):
            reference = f"REF-{index:04d}Q" if referenced else ""
            if amount > 0:
                world.post(world.cash, world.receivable, amount, date(2026, 11, day), f"In {reference}")
            else:
                world.bacs_payment(
                    -amount,
                    date(2026, 11, day),
                    f"pay_{index:04d}qq" if referenced else "",
                    bacs_file=f"bf{day % 3}",
                )
        rows = []
        for index, (amount, day, referenced) in enumerate(bank):
            reference = (
                f"REF-{index:04d}Q"
                if referenced and amount > 0
                else (f"PAY-{index:04d}QQ" if referenced else "")
            )
            rows.append((date(2026, 11, day), amount, reference, "line"))
        rows.sort(key=lambda row: row[0])
        imported = services.statement_import(account=world.recon, content=csv_file(rows), by="p")
        lines = list(StatementLine.objects.filter(statement_import=imported))
        states = {state: [line for line in lines if line.state == state] for state in LineState.values}
        assert sum(len(group) for group in states.values()) == len(lines) == imported.lines_new
        assert sum(line.amount_minor for line in lines) == sum(row[1] for row in rows)
        for line in states[LineState.MATCHED]:
            match = line.matches.get(status=MatchStatus.MATCHED)
            assert sum(item.amount_minor for item in match.items.all()) == line.amount_minor
        for line in states[LineState.SUGGESTED]:
            assert line.matches.filter(status=MatchStatus.SUGGESTED).exists()
        claimed = list(
            MatchItem.objects.filter(account=world.recon, claimed=True).values_list(
                "transaction_id", flat=True
            )
        )
        assert len(claimed) == len(set(claimed))
        # The ledger still balances, settlements included.
        totals = Account.objects.aggregate(debits=Sum("debits_posted"), credits=Sum("credits_posted"))
        assert totals["debits"] == totals["credits"]
        db_transaction.set_rollback(True)


class TestAwkwardInput:
    def test_a_nul_character_in_a_line_is_refused_naming_the_line(self, world):
        content = b"Date,Amount,Reference,Description,Balance\n02/11/2026,7.77,A\x00B,,1007.77\n"
        with pytest.raises(StatementFileInvalid) as raised:
            services.statement_import(account=world.recon, content=content, by="finance")
        assert raised.value.problems[0]["line"] == 2 and "zero" in raised.value.problems[0]["message"]
        assert not world.recon.imports.exists()

    def test_the_earliest_dates_do_not_break_the_report(self, world):
        report = selectors.reconciliation_report(
            account=world.recon, period_start=date.min, period_end=date(2026, 11, 30)
        )
        assert report.lines_in_period == 0
        with pytest.raises(services.InvalidImport):
            services.period_reconcile(
                account=world.recon, period_start=date.min, period_end=date(2026, 1, 1), by="f"
            )


class TestPeriodsWithoutLines:
    def test_a_period_with_no_movement_on_either_side_is_reconciled(self, world):
        period = services.period_reconcile(
            account=world.recon, period_start=date(2026, 10, 1), period_end=date(2026, 10, 31), by="fin"
        )
        assert period.bank_balance_minor == period.ledger_balance_minor == 0

    def test_a_period_with_ledger_movement_but_no_statement_is_refused(self, world):
        world.other_cash(1_000, date(2026, 10, 5))
        with pytest.raises(services.PeriodNotReconcilable) as raised:
            services.period_reconcile(
                account=world.recon, period_start=date(2026, 10, 1), period_end=date(2026, 10, 31), by="fin"
            )
        assert "import the statement first" in raised.value.message
        assert not PeriodClose.objects.exists()
