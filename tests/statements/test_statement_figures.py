"""The figures a statement is made of (`statements.figures`), the person's statement built on them
(`statements.person`) and the period a statement covers (`statements.period`).

The property tests drive the ledger services at random over a few people's funds accounts (instalments,
budget changes up and down, reservations for invoices later paid in full or in part or voided, other
spending and its refunds), keep in plain Python what each posting should count as, and check the figures
against `ledger.selectors.account_balance` and that model, for a random period. Each example runs in a
savepoint that is rolled back, so every example starts from the same people and empty accounts.

`History` and the strategies are also used by the agency statement's tests.
"""

import json
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from budgets import accounts as budget_accounts
from budgets.models import FundingStream, PersonalBudget, PersonalBudgetStatus
from budgets.services.personal_budgets import KIND_ADJUSTMENT, KIND_INSTALMENT, personal_budget_change
from invoicing import accounts as invoicing_accounts
from invoicing import services as invoicing_services
from invoicing.models import Invoice, InvoiceLineFunding
from ledger import services as ledger
from ledger.models import Account, Posting, Side, Transaction
from ledger.money import money_allocate, money_format
from ledger.selectors import account_balance
from people.models import BudgetHolder
from plans.models import Engagement
from statements import formats
from statements.figures import Figures, figures_for
from statements.period import (
    LONGEST_PERIOD_DAYS,
    Period,
    PeriodInvalid,
    month_of,
    period_from_text,
    previous_month,
)
from statements.person import NO_OUTCOME, OTHER_SPENDING, Total, person_statement
from tests.budgets.factories import FundingStreamFactory
from tests.invoicing.world import TODAY, build_invoicing_world, submit
from tests.people.factories import BudgetHolderFactory

START = date(2026, 4, 1)
SPAN_DAYS = 90
PROPERTY_SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


# A random history of funds accounts -----------------------------------------------------------------------


@contextmanager
def rolled_back() -> Iterator[None]:
    """Run the block in a savepoint that is always rolled back (so each hypothesis example starts afresh)."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


@dataclass
class People:
    holders: list[BudgetHolder]
    streams: list[FundingStream]


def make_people(*, holders: int, streams: int) -> People:
    return People(
        holders=[BudgetHolderFactory() for _ in range(holders)],
        streams=[FundingStreamFactory() for _ in range(streams)],
    )


@dataclass
class Entry:
    """A posting on a funds account as the model expects the ledger to hold it."""

    account_id: int
    side: str
    amount_minor: int
    on: date
    what: str  # instalment, adjustment, spending, refund, payment, reservation
    pending: bool = False
    resolved_on: date | None = None  # a reservation's resolution, once resolved


@dataclass
class _Reservation:
    transaction: Transaction
    entries: list[Entry]
    invoice: str


@dataclass
class History:
    """Applies operations (from `operations()`) through the ledger services and models what they did."""

    people: People
    funds: dict[tuple[int, int], Account]  # (holder index, stream index) -> funds account
    receivables: list[Account]
    payable: Account
    payroll: Account
    entries: list[Entry] = field(default_factory=list)
    open_reservations: list[_Reservation] = field(default_factory=list)
    spendings: list[tuple[Transaction, Entry]] = field(default_factory=list)
    available: dict[int, int] = field(default_factory=dict)  # account id -> available now

    @classmethod
    def start(cls, people: People) -> "History":
        funds = {
            (h, s): budget_accounts.person_funds_account(
                budget_holder_public_id=holder.public_id, stream_code=stream.code, currency="GBP"
            )
            for h, holder in enumerate(people.holders)
            for s, stream in enumerate(people.streams)
        }
        receivables = [
            budget_accounts.stream_receivable_account(stream_code=s.code, stream_name=s.name, currency="GBP")
            for s in people.streams
        ]
        payable = invoicing_accounts.provider_payable_account(
            provider_public_id="pro_statementtests", provider_name="A provider", currency="GBP"
        )
        payroll = invoicing_accounts.provider_payable_account(
            provider_public_id="pro_payrollservice", provider_name="A payroll service", currency="GBP"
        )
        return cls(
            people=people,
            funds=funds,
            receivables=receivables,
            payable=payable,
            payroll=payroll,
            available={account.pk: account.available_minor for account in funds.values()},
        )

    def stream_code(self, account_id: int) -> str:
        for (_, s), account in self.funds.items():
            if account.pk == account_id:
                return self.people.streams[s].code
        raise KeyError(account_id)

    def accounts_of(self, holder_index: int) -> list[Account]:
        return [account for (h, _), account in self.funds.items() if h == holder_index]

    # applying operations

    def apply(self, operations: list[tuple]) -> None:
        for operation in operations:
            getattr(self, f"_{operation[0]}")(*operation[1:])

    @staticmethod
    def _key() -> str:
        return f"statement-test:{uuid.uuid4().hex}"

    def _move(self, *, debit: Account, credit: Account, amount: int, on: date, metadata: dict) -> Transaction:
        return ledger.transaction_post(
            idempotency_key=self._key(),
            currency="GBP",
            effective_on=on,
            description=f"{metadata.get('kind', 'other spending')} {money_format(amount, currency='GBP')}",
            postings=[
                ledger.PostingSpec(account=debit, side=Side.DEBIT, amount_minor=amount),
                ledger.PostingSpec(account=credit, side=Side.CREDIT, amount_minor=amount),
            ],
            metadata=metadata,
        )

    def _affordable(self, account: Account, amount: int) -> int:
        """As much of `amount` as the account has available now (the ledger refuses more)."""
        return min(amount, max(self.available[account.pk], 0))

    def _instalment(self, slot: tuple[int, int], amount: int, day: int) -> None:
        funds, on = self.funds[slot], START + timedelta(days=day)
        self._move(
            debit=self.receivables[slot[1]],
            credit=funds,
            amount=amount,
            on=on,
            metadata={"kind": KIND_INSTALMENT},
        )
        self.entries.append(Entry(funds.pk, Side.CREDIT, amount, on, "instalment"))
        self.available[funds.pk] += amount

    def _budget_up(self, slot: tuple[int, int], amount: int, day: int) -> None:
        funds, on = self.funds[slot], START + timedelta(days=day)
        self._move(
            debit=self.receivables[slot[1]],
            credit=funds,
            amount=amount,
            on=on,
            metadata={"kind": KIND_ADJUSTMENT},
        )
        self.entries.append(Entry(funds.pk, Side.CREDIT, amount, on, "adjustment"))
        self.available[funds.pk] += amount

    def _budget_down(self, slot: tuple[int, int], amount: int, day: int) -> None:
        funds, on = self.funds[slot], START + timedelta(days=day)
        amount = self._affordable(funds, amount)
        if not amount:
            return
        self._move(
            debit=funds,
            credit=self.receivables[slot[1]],
            amount=amount,
            on=on,
            metadata={"kind": KIND_ADJUSTMENT},
        )
        self.entries.append(Entry(funds.pk, Side.DEBIT, amount, on, "adjustment"))
        self.available[funds.pk] -= amount

    def _spend(self, slot: tuple[int, int], amount: int, day: int, labelled: bool) -> None:
        funds, on = self.funds[slot], START + timedelta(days=day)
        amount = self._affordable(funds, amount)
        if not amount:
            return
        # Wages through a payroll service (labelled) or a purchase with no kind at all.
        posted = self._move(
            debit=funds,
            credit=self.payroll,
            amount=amount,
            on=on,
            metadata={"kind": "wages"} if labelled else {},
        )
        entry = Entry(funds.pk, Side.DEBIT, amount, on, "spending")
        self.entries.append(entry)
        self.spendings.append((posted, entry))
        self.available[funds.pk] -= amount

    def _refund(self, which: int, delay: int) -> None:
        if not self.spendings:
            return
        spent, entry = self.spendings.pop(which % len(self.spendings))
        on = entry.on + timedelta(days=delay)
        ledger.transaction_reverse(
            transaction=spent, idempotency_key=self._key(), effective_on=on, reason="Refund"
        )
        self.entries.append(Entry(entry.account_id, Side.CREDIT, entry.amount_minor, on, "refund"))
        self.available[entry.account_id] += entry.amount_minor

    def _reserve(self, holder_index: int, streams: frozenset[int], amount: int, day: int) -> None:
        on = START + timedelta(days=day)
        parts = []
        for s in sorted(streams):
            funds = self.funds[(holder_index, s)]
            part = self._affordable(funds, amount)
            if part:
                parts.append((funds, part))
        if not parts:
            return
        invoice = f"inv_{uuid.uuid4().hex[:16]}"  # no such invoice: its postings show as whole lines
        reservation = ledger.transaction_reserve(
            idempotency_key=self._key(),
            currency="GBP",
            effective_on=on,
            description=f"Invoice {invoice} (set aside)",
            postings=[ledger.PostingSpec(account=a, side=Side.DEBIT, amount_minor=p) for a, p in parts]
            + [
                ledger.PostingSpec(
                    account=self.payable, side=Side.CREDIT, amount_minor=sum(p for _, p in parts)
                )
            ],
            metadata={"kind": "invoice_reservation", "invoice": invoice},
        )
        entries = [Entry(a.pk, Side.DEBIT, p, on, "reservation", pending=True) for a, p in parts]
        self.entries += entries
        for account, part in parts:
            self.available[account.pk] -= part
        self.open_reservations.append(_Reservation(reservation, entries, invoice))

    def _resolve(self, which: int, how: str, delay: int, percent: int) -> None:
        if not self.open_reservations:
            return
        reservation = self.open_reservations.pop(which % len(self.open_reservations))
        on = reservation.entries[0].on + timedelta(days=delay)
        for entry in reservation.entries:
            entry.resolved_on = on
            self.available[entry.account_id] += entry.amount_minor
        if how == "void":
            ledger.pending_void(pending=reservation.transaction, idempotency_key=self._key(), effective_on=on)
            return
        taken = {
            entry.account_id: entry.amount_minor
            if how == "post"
            else max(1, entry.amount_minor * percent // 100)
            for entry in reservation.entries
        }
        pending_postings = Posting.objects.filter(transaction=reservation.transaction).order_by("pk")
        ledger.pending_post(
            pending=reservation.transaction,
            idempotency_key=self._key(),
            effective_on=on,
            amounts_minor=[
                taken.get(posting.account_id, sum(taken.values())) for posting in pending_postings
            ],
            metadata={"kind": "invoice_payment", "invoice": reservation.invoice},
        )
        for account_id, amount in taken.items():
            self.entries.append(Entry(account_id, Side.DEBIT, amount, on, "payment"))
            self.available[account_id] -= amount

    # what the model expects

    def expected_figures(self, account: Account, period: Period) -> dict[str, int]:
        """The account's figures for the period, from the model (for an account empty at the start)."""
        starts, ends = period.starts_on, period.ends_on
        mine = [e for e in self.entries if e.account_id == account.pk]
        posted = [e for e in mine if not e.pending]
        during = [e for e in posted if starts <= e.on <= ends]

        def total(entries, side, *whats):
            return sum(e.amount_minor for e in entries if e.side == side and (not whats or e.what in whats))

        return {
            "opening_minor": total([e for e in posted if e.on < starts], Side.CREDIT)
            - total([e for e in posted if e.on < starts], Side.DEBIT),
            "instalments_minor": total(during, Side.CREDIT, "instalment"),
            "changes_minor": total(during, Side.CREDIT, "adjustment")
            - total(during, Side.DEBIT, "adjustment"),
            "other_in_minor": total(during, Side.CREDIT, "refund"),
            "money_out_minor": total(during, Side.DEBIT, "spending", "payment"),
            "reserved_minor": sum(
                e.amount_minor
                for e in mine
                if e.pending and e.on <= ends and (e.resolved_on is None or e.resolved_on > ends)
            ),
        }

    def expected_money_out(self, holder_index: int, period: Period) -> Counter:
        ids = {account.pk for account in self.accounts_of(holder_index)}
        return Counter(
            (e.on, self.stream_code(e.account_id), e.amount_minor)
            for e in self.entries
            if e.account_id in ids
            and not e.pending
            and e.side == Side.DEBIT
            and e.what != "adjustment"
            and period.starts_on <= e.on <= period.ends_on
        )

    def expected_set_aside(self, holder_index: int, period: Period) -> Counter:
        ids = {account.pk for account in self.accounts_of(holder_index)}
        ends = period.ends_on
        return Counter(
            (e.on, self.stream_code(e.account_id), e.amount_minor)
            for e in self.entries
            if e.account_id in ids
            and e.pending
            and e.on <= ends
            and (e.resolved_on is None or e.resolved_on > ends)
        )


_amounts = st.integers(min_value=1, max_value=60_000)
_days = st.integers(min_value=0, max_value=SPAN_DAYS - 1)


def operations(*, holders: int, streams: int, max_size: int = 30) -> st.SearchStrategy[list[tuple]]:
    """Random operations for `History.apply` on `holders` x `streams` funds accounts: some instalments first
    (so that there is money to spend), then anything, in any order of dates."""
    slot = st.tuples(st.integers(0, holders - 1), st.integers(0, streams - 1))
    instalment = st.tuples(st.just("instalment"), slot, st.integers(1, 150_000), _days)
    spend = st.tuples(st.just("spend"), slot, _amounts, _days, st.booleans())
    reserve = st.tuples(
        st.just("reserve"),
        st.integers(0, holders - 1),
        st.frozensets(st.integers(0, streams - 1), min_size=1),
        _amounts,
        _days,
    )
    resolve = st.tuples(
        st.just("resolve"),
        st.integers(0, 99),
        st.sampled_from(("post", "part", "void")),
        st.integers(0, 30),
        st.integers(1, 99),
    )
    by_kind = {
        "instalment": instalment,
        "budget_up": st.tuples(st.just("budget_up"), slot, _amounts, _days),
        "budget_down": st.tuples(st.just("budget_down"), slot, _amounts, _days),
        "refund": st.tuples(st.just("refund"), st.integers(0, 99), st.integers(0, 20)),
        "spend": spend,
        "reserve": reserve,
        "resolve": resolve,
    }
    # Spending, reserving and resolving come up twice as often as the rest.
    kinds = [*by_kind, "spend", "reserve", "resolve"]
    anything = st.sampled_from(kinds).flatmap(by_kind.__getitem__)
    return st.tuples(
        st.lists(instalment, min_size=4, max_size=8),
        st.lists(anything, min_size=max_size // 2, max_size=max_size - 8),
    ).map(lambda parts: parts[0] + parts[1])


@st.composite
def periods(draw) -> Period:
    """A period from ten days before the history to well after it (resolutions run up to 30 days late)."""
    starts_on = START + timedelta(days=draw(st.integers(-10, SPAN_DAYS + 10)))
    return Period(starts_on, starts_on + timedelta(days=draw(st.integers(0, 100))))


# The figures against the ledger ---------------------------------------------------------------------------


@pytest.fixture
def people() -> People:
    return make_people(holders=3, streams=2)


@pytest.mark.django_db
class TestFiguresAgainstTheLedger:
    @PROPERTY_SETTINGS
    @given(history_operations=operations(holders=3, streams=2), period=periods())
    def test_each_account_ties_to_the_ledger_and_the_model_and_halves_chain(
        self, people, history_operations, period
    ):
        with rolled_back():
            history = History.start(people)
            history.apply(history_operations)
            funds = list(history.funds.values())

            figures = figures_for(account_ids=[account.pk for account in funds], **period.bounds)

            assert set(figures) == {account.pk for account in funds}
            for account in funds:
                found = figures[account.pk]
                at_end = account_balance(account=account, on=period.ends_on)
                before = account_balance(account=account, on=period.starts_on - timedelta(days=1))
                assert found.opening_minor == before.posted_minor
                assert found.closing_minor == at_end.posted_minor
                assert found.available_minor == at_end.available_minor
                assert (
                    found.opening_minor + found.money_in_minor - found.money_out_minor == found.closing_minor
                )
                assert found.closing_minor - found.reserved_minor == found.available_minor
                assert found.money_in_minor == (
                    found.instalments_minor + found.changes_minor + found.other_in_minor
                )
                assert {name: getattr(found, name) for name in history.expected_figures(account, period)} == (
                    history.expected_figures(account, period)
                )
                # the model agrees with the ledger about now, too
                assert account_balance(account=account).available_minor == history.available[account.pk]

            # The period's two halves chain: the first's closing is the second's opening, and they add up.
            if period.days > 1:
                ids = list(figures)
                split = period.starts_on + timedelta(days=period.days // 2 - 1)
                first = figures_for(account_ids=ids, starts_on=period.starts_on, ends_on=split)
                second = figures_for(
                    account_ids=ids, starts_on=split + timedelta(days=1), ends_on=period.ends_on
                )
                for account_id in ids:
                    assert first[account_id].opening_minor == figures[account_id].opening_minor
                    assert first[account_id].closing_minor == second[account_id].opening_minor
                    assert second[account_id].closing_minor == figures[account_id].closing_minor
                    for name in ("instalments_minor", "changes_minor", "other_in_minor", "money_out_minor"):
                        assert getattr(figures[account_id], name) == (
                            getattr(first[account_id], name) + getattr(second[account_id], name)
                        )
                    assert second[account_id].reserved_minor == figures[account_id].reserved_minor

    def test_an_account_with_no_postings_yet_has_zero_figures(self, people):
        account = budget_accounts.person_funds_account(
            budget_holder_public_id=people.holders[0].public_id,
            stream_code=people.streams[0].code,
            currency="GBP",
        )

        figures = figures_for(account_ids=[account.pk], starts_on=START, ends_on=START + timedelta(days=30))

        assert figures == {account.pk: Figures(account_id=account.pk)}


# The person's statement over random histories -----------------------------------------------------------


@pytest.mark.django_db
class TestPersonStatementOverRandomHistories:
    @PROPERTY_SETTINGS
    @given(history_operations=operations(holders=3, streams=2), period=periods())
    def test_parts_lines_and_totals_add_up_and_render_the_same_twice(
        self, people, history_operations, period
    ):
        with rolled_back():
            history = History.start(people)
            history.apply(history_operations)
            figures = figures_for(account_ids=[a.pk for a in history.funds.values()], **period.bounds)

            for index, holder in enumerate(people.holders):
                statement = person_statement(budget_holder=holder, period=period)

                expected_parts = {
                    people.streams[s].code: figures[account.pk]
                    for (h, s), account in history.funds.items()
                    if h == index
                }
                assert {part.stream_code: part.figures for part in statement.streams} == expected_parts
                for name in ("opening_minor", "money_in_minor", "money_out_minor", "closing_minor"):
                    assert getattr(statement, name) == sum(getattr(f, name) for f in expected_parts.values())
                assert statement.reserved_minor == sum(f.reserved_minor for f in expected_parts.values())

                out = statement.money_out
                assert sum(line.amount_minor for line in out) == statement.money_out_minor
                assert sum(total.amount_minor for total in statement.by_provider) == statement.money_out_minor
                assert sum(total.amount_minor for total in statement.by_outcome) == statement.money_out_minor
                assert sum(line.amount_minor for line in statement.set_aside) == statement.reserved_minor
                # No posting here is a real invoice's: each is one whole line, "other spending".
                assert Counter((line.on, line.stream_code, line.amount_minor) for line in out) == (
                    history.expected_money_out(index, period)
                )
                assert Counter(
                    (line.on, line.stream_code, line.amount_minor) for line in statement.set_aside
                ) == (history.expected_set_aside(index, period))
                assert all(
                    line.provider_name == "" and line.outcomes == () for line in out + statement.set_aside
                )
                assert {total.label for total in statement.by_provider} <= {OTHER_SPENDING}
                assert {total.label for total in statement.by_outcome} <= {OTHER_SPENDING}
                assert [line.on for line in out] == sorted(line.on for line in out)

                again = person_statement(budget_holder=holder, period=period)
                assert again == statement
                rendered = formats.person_statement_json(statement)
                assert json.dumps(formats.person_statement_json(again)) == json.dumps(rendered)
                assert rendered["money_out"] == money_format(statement.money_out_minor, currency="GBP")
                assert rendered["closing_balance"] == money_format(statement.closing_minor, currency="GBP")


# The person's statement with real invoices --------------------------------------------------------------


@pytest.fixture
def world(monkeypatch):
    return build_invoicing_world(monkeypatch)


def _approved(world, engagement, number: str, **body: Any) -> Invoice:
    return invoicing_services.invoice_approve(
        invoice=submit(engagement, number=number, **body), by=world.users["holder"]
    )


def _parts(invoice: Invoice) -> list[tuple[str, date, str, int]]:
    return [
        (invoice.invoice_number, part.line.service_date, part.stream.code, part.amount_minor)
        for part in InvoiceLineFunding.objects.filter(line__invoice=invoice, amount_minor__gt=0)
        .select_related("line", "stream")
        .order_by("line__position", "pk")
    ]


NOVEMBER = month_of(TODAY)


@pytest.mark.django_db
class TestPersonStatementWithRealInvoices:
    @pytest.fixture
    def paid(self, world):
        """Alex: C-1 (care, two lines, paid by ASC and ILF) and C-2 (care for two outcomes) paid on 25
        November; W-1 (work, ATW) approved but not paid; W-2 waiting for a decision."""
        flat, job = world.base.outcomes["flat"].public_id, world.base.outcomes["job"].public_id
        first = _approved(world, world.care, "C-1", lines=[("2026-10-03", "2.00"), ("2026-10-04", "1.50")])
        Engagement.objects.filter(pk=world.care.pk).update(outcome_public_ids=[flat, job])
        world.care.refresh_from_db()
        second = _approved(world, world.care, "C-2", lines=[("2026-10-05", "1.50")])  # 36.75: odd pence
        waiting_for_payment = _approved(world, world.work, "W-1")
        waiting = submit(world.work, number="W-2", lines=[("2026-10-06", "1.00")])
        world.clock.today = date(2026, 11, 25)
        invoicing_services.remittance_record(
            provider=world.care.provider,
            invoices=[first, second],
            reference="PAY-1",
            paid_on=world.clock.today,
            by=None,
        )
        return first, second, waiting_for_payment, waiting

    def test_money_out_is_the_invoice_lines_with_provider_outcomes_and_stream_parts(self, world, paid):
        first, second, _, _ = paid
        words = {o.public_id: o.in_own_words for o in world.base.outcomes.values()}

        statement = person_statement(budget_holder=world.base.alex, period=NOVEMBER)

        lines = statement.money_out
        # each payment posting (one per stream) is broken down into its invoice's lines, in line order
        assert sorted(
            (line.invoice_number, line.service_date, line.stream_code, line.amount_minor) for line in lines
        ) == sorted(_parts(first) + _parts(second))
        assert {line.provider_name for line in lines} == {"Bright Care"}
        assert {line.stream_name for line in lines} == {"Adult Social Care", "Independent Living Fund"}
        assert {line.on for line in lines} == {date(2026, 11, 25)}
        assert {line.category_name for line in lines} == {"Personal care"}
        assert {line.outcomes for line in lines if line.invoice_number == "C-1"} == {("Live in my own flat",)}
        assert {line.outcomes for line in lines if line.invoice_number == "C-2"} == {
            ("Live in my own flat", "Get a paid job")
        }
        assert all(line.outcomes == tuple(words[i] for i in line.outcome_ids) for line in lines)
        total_paid = first.total_minor + second.total_minor
        assert sum(line.amount_minor for line in lines) == statement.money_out_minor == total_paid
        assert statement.by_provider == [Total("Bright Care", total_paid)]

    def test_each_stream_part_ties_to_the_ledger(self, world, paid):
        statement = person_statement(budget_holder=world.base.alex, period=NOVEMBER)

        assert {part.stream_code for part in statement.streams} == {"ASC", "ILF", "ATW"}
        for part in statement.streams:
            account = Account.objects.get(
                key=budget_accounts.person_funds_key(
                    budget_holder_public_id=world.base.alex.public_id, stream_code=part.stream_code
                )
            )
            at_end = account_balance(account=account, on=NOVEMBER.ends_on)
            before = account_balance(account=account, on=NOVEMBER.starts_on - timedelta(days=1))
            assert part.figures.opening_minor == before.posted_minor
            assert part.figures.closing_minor == at_end.posted_minor
            assert part.figures.available_minor == at_end.available_minor
            assert part.figures.money_out_minor == sum(
                line.amount_minor for line in statement.money_out if line.stream_code == part.stream_code
            )
            assert part.figures.reserved_minor == sum(
                line.amount_minor for line in statement.set_aside if line.stream_code == part.stream_code
            )
            assert part.personal_budget_public_id is not None
            assert part.allocated_minor > 0

    def test_money_out_by_outcome_splits_a_shared_line_to_the_penny(self, world, paid):
        statement = person_statement(budget_holder=world.base.alex, period=NOVEMBER)

        expected: Counter = Counter()
        for line in statement.money_out:
            for word, share in zip(
                line.outcomes,
                money_allocate(line.amount_minor, weights=[1] * len(line.outcomes)),
                strict=True,
            ):
                expected[word] += share
        assert {total.label: total.amount_minor for total in statement.by_outcome} == dict(expected)
        assert sum(total.amount_minor for total in statement.by_outcome) == statement.money_out_minor
        assert NO_OUTCOME not in expected

    def test_set_aside_is_the_approved_invoice_not_yet_paid_and_waiting_is_the_undecided_one(
        self, world, paid
    ):
        _, _, waiting_for_payment, waiting = paid

        statement = person_statement(budget_holder=world.base.alex, period=NOVEMBER)

        assert [
            (line.invoice_number, line.stream_code, line.amount_minor, line.provider_name, line.outcomes)
            for line in statement.set_aside
        ] == [("W-1", "ATW", waiting_for_payment.total_minor, "Able Assist", ("Get a paid job",))]
        assert statement.reserved_minor == waiting_for_payment.total_minor
        # The world's clock moves dates only; the invoices' history is stamped with the real time, so W-2
        # waits in the month that contains the real now.
        real_month = month_of(timezone.localtime(timezone.now()).date())
        waiting_then = person_statement(budget_holder=world.base.alex, period=real_month).waiting
        assert [(invoice.number, invoice.status) for invoice in waiting_then] == [
            (waiting.invoice_number, "Waiting for approval")
        ]

    def test_the_json_is_the_same_twice_and_shows_the_lines(self, world, paid):
        first = formats.person_statement_json(
            person_statement(budget_holder=world.base.alex, period=NOVEMBER)
        )
        again = formats.person_statement_json(
            person_statement(budget_holder=world.base.alex, period=NOVEMBER)
        )

        assert json.dumps(first, sort_keys=True) == json.dumps(again, sort_keys=True)
        assert {line["provider"] for line in first["money_out_lines"]} == {"Bright Care"}
        assert first["money_out_lines"][0]["outcomes"] == ["Live in my own flat"]
        assert first["money_out"] == money_format(
            sum(
                Invoice.objects.filter(invoice_number__in=["C-1", "C-2"]).values_list(
                    "total_minor", flat=True
                )
            ),
            currency="GBP",
        )

    @pytest.mark.xfail(
        strict=True,
        reason="statements/person.py budgets_in_force picks the budget version in force on the period end "
        "by effective_from only, not by when it was made: a backdated change made later rewrites a past "
        "statement's allocated, weekly equivalent, weeks held and surplus (the module docstring says "
        "the same period gives the same statement whenever it is made)",
    )
    def test_a_past_period_is_not_rewritten_by_a_later_backdated_budget_change(self, world):
        october = month_of(date(2026, 10, 1))
        before = formats.person_statement_json(
            person_statement(budget_holder=world.base.alex, period=october)
        )
        budget = PersonalBudget.objects.get(
            budget_holder=world.base.alex, stream__code="ASC", status=PersonalBudgetStatus.ACTIVE
        )
        personal_budget_change(  # made on 20 November, effective from 1 October
            personal_budget=budget,
            amount_minor=budget.amount_minor + 520_000,
            effective_from=date(2026, 10, 1),
            explanation={},
            changed_by=None,
            reason="A backdated increase",
        )

        after = formats.person_statement_json(person_statement(budget_holder=world.base.alex, period=october))

        assert after == before


# The period a statement covers --------------------------------------------------------------------------


def _pointer(error: PeriodInvalid) -> str:
    assert len(error.errors) == 1
    assert error.errors[0]["code"] == "invalid_period"
    assert error.http_status == 400
    return error.errors[0]["pointer"]


class TestPeriodFromText:
    @pytest.mark.parametrize("empty", [None, ""])
    def test_the_month_containing_today_by_default(self, empty):
        period = period_from_text(empty, empty, today=date(2026, 11, 20))

        assert period == Period(date(2026, 11, 1), date(2026, 11, 30))
        assert period.days == 30
        assert period.slug == "2026-11-01_2026-11-30"

    def test_a_leap_february_by_default(self):
        assert period_from_text(None, None, today=date(2028, 2, 10)) == Period(
            date(2028, 2, 1), date(2028, 2, 29)
        )

    def test_only_from_runs_to_the_end_of_its_month(self):
        assert period_from_text("2027-02-15", None, today=TODAY) == Period(
            date(2027, 2, 15), date(2027, 2, 28)
        )
        assert period_from_text("2026-12-31", "", today=TODAY) == Period(
            date(2026, 12, 31), date(2026, 12, 31)
        )

    def test_only_to_runs_from_the_start_of_its_month(self):
        assert period_from_text(None, "2026-12-10", today=TODAY) == Period(
            date(2026, 12, 1), date(2026, 12, 10)
        )
        assert period_from_text("", "2026-12-01", today=TODAY) == Period(date(2026, 12, 1), date(2026, 12, 1))

    def test_both_given(self):
        assert period_from_text("2026-04-01", "2027-03-31", today=TODAY) == Period(
            date(2026, 4, 1), date(2027, 3, 31)
        )

    @pytest.mark.parametrize(
        ("from_text", "to_text", "pointer"),
        [
            ("2026-13-01", None, "/from"),
            ("2026-02-30", "2026-03-01", "/from"),
            ("1/11/2026", None, "/from"),
            ("yesterday", "also bad", "/from"),
            (None, "2026-11-31", "/to"),
            ("2026-11-01", "30 November", "/to"),
            ("2026-11-01", "2026-11-01T00:00", "/to"),
        ],
    )
    def test_a_bad_date_names_its_parameter(self, from_text, to_text, pointer):
        with pytest.raises(PeriodInvalid) as raised:
            period_from_text(from_text, to_text, today=TODAY)

        assert _pointer(raised.value) == pointer
        assert "YYYY-MM-DD" in raised.value.message

    @pytest.mark.parametrize(
        "text",
        ["20261101", "2026-W45-1", "2026-11-01 ", "\u0662\u0660\u0662\u0666-\u0661\u0661-\u0660\u0661"],
    )
    def test_only_the_yyyy_mm_dd_form_is_a_date(self, text):
        with pytest.raises(PeriodInvalid) as raised:
            period_from_text(text, None, today=TODAY)

        assert _pointer(raised.value) == "/from"

    def test_to_before_from_points_at_to(self):
        with pytest.raises(PeriodInvalid) as raised:
            period_from_text("2026-11-02", "2026-11-01", today=TODAY)

        assert _pointer(raised.value) == "/to"
        assert "before it starts" in raised.value.message

    def test_only_to_before_the_default_from_cannot_happen(self):
        # From defaults to the first of to's month, so it is never after to.
        assert period_from_text(None, "2026-11-01", today=TODAY).days == 1

    def test_at_most_366_days(self):
        assert period_from_text("2024-01-01", "2024-12-31", today=TODAY).days == LONGEST_PERIOD_DAYS

        with pytest.raises(PeriodInvalid) as raised:
            period_from_text("2024-01-01", "2025-01-01", today=TODAY)

        assert _pointer(raised.value) == "/to"
        assert "367" in raised.value.message

    @given(
        starts_on=st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)),
        length=st.integers(min_value=-400, max_value=800),
    )
    def test_any_two_dates_give_that_period_or_say_why_not(self, starts_on, length):
        ends_on = starts_on + timedelta(days=length)
        try:
            period = period_from_text(starts_on.isoformat(), ends_on.isoformat(), today=TODAY)
        except PeriodInvalid as error:
            assert _pointer(error) == "/to"
            assert length < 0 or length + 1 > LONGEST_PERIOD_DAYS
        else:
            assert period == Period(starts_on, ends_on)
            assert 1 <= period.days <= LONGEST_PERIOD_DAYS


class TestMonths:
    def test_month_of_and_previous_month(self):
        assert month_of(date(2026, 12, 31)) == Period(date(2026, 12, 1), date(2026, 12, 31))
        assert previous_month(date(2026, 1, 15)) == Period(date(2025, 12, 1), date(2025, 12, 31))
        assert previous_month(date(2028, 3, 1)) == Period(date(2028, 2, 1), date(2028, 2, 29))
