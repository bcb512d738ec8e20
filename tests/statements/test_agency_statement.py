"""The agency statement (`statements.agency`): a line for each person one stream funds, totals that are the
sum of the lines, only that stream's money, a fixed number of queries whatever the number of people, and
its CSV (`statements.formats.agency_csv_rows`)."""

import csv
import io
import uuid
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given
from hypothesis import strategies as st

from budgets import accounts as budget_accounts
from budgets.models import FundingStream, Instalment, InstalmentStatus, PersonalBudget
from budgets.services.personal_budgets import instalments_post_due, personal_budget_create
from invoicing import services as invoicing_services
from invoicing.models import InvoiceLineFunding
from ledger import services as ledger
from ledger.models import Account, Posting, Side
from ledger.money import money_format
from ledger.selectors import account_balance
from people.models import BudgetHolder
from statements import formats
from statements.agency import (
    AgencyLine,
    AgencyTotals,
    agency_lines,
    agency_totals,
    funded_people,
    people_batches,
)
from statements.period import Period, month_of
from statements.person import OTHER_SPENDING
from tests.budgets.factories import FundingStreamFactory
from tests.invoicing.world import TODAY, build_invoicing_world, submit
from tests.people.factories import BudgetHolderFactory
from tests.statements.test_statement_figures import (
    PROPERTY_SETTINGS,
    START,
    History,
    make_people,
    operations,
    periods,
    rolled_back,
)

NOVEMBER = month_of(TODAY)
YEAR_END = date(2027, 3, 31)


def all_lines(*, stream: FundingStream, period: Period, size: int = 500) -> list[AgencyLine]:
    """Every person's line, a batch of `size` at a time, as a statement run or a JSON page reads them."""
    return [
        line
        for batch in people_batches(stream=stream, period=period, size=size)
        for line in agency_lines(stream=stream, period=period, people=batch)
    ]


def added_up(lines: list[AgencyLine]) -> AgencyTotals:
    totals = AgencyTotals()
    for line in lines:
        totals.add(line)
    return totals


def funds_of(holder: BudgetHolder, stream: FundingStream) -> Account | None:
    key = budget_accounts.person_funds_key(budget_holder_public_id=holder.public_id, stream_code=stream.code)
    return Account.objects.filter(key=key).first()


def budget_for(
    holder: BudgetHolder, stream: FundingStream, *, starts_on: date, amount_minor: int
) -> PersonalBudget:
    return personal_budget_create(
        budget_holder=holder,
        stream=stream,
        starts_on=starts_on,
        ends_on=YEAR_END,
        amount_minor=amount_minor,
        explanation={},
        created_by=None,
    )


def wages(holder: BudgetHolder, stream: FundingStream, *, amount_minor: int, on: date) -> None:
    """Other spending from the person's funds (wages through a payroll service)."""
    payroll = ledger.account_get_or_create(
        key="payroll:statement-tests",
        name="Payroll service",
        type="liability",
        currency="GBP",
        allow_negative=True,
    )
    ledger.transaction_post(
        idempotency_key=f"wages:{uuid.uuid4().hex}",
        currency="GBP",
        effective_on=on,
        description=f"Wages for {holder.public_id}",
        postings=[
            ledger.PostingSpec(account=funds_of(holder, stream), side=Side.DEBIT, amount_minor=amount_minor),
            ledger.PostingSpec(account=payroll, side=Side.CREDIT, amount_minor=amount_minor),
        ],
        metadata={"kind": "wages"},
    )


def csv_table(*, stream: FundingStream, period: Period, lines: list[AgencyLine]) -> list[list[str]]:
    text = "".join(
        formats.agency_csv_rows(
            stream_code=stream.code,
            period_from=period.starts_on.isoformat(),
            period_to=period.ends_on.isoformat(),
            currency=stream.currency,
            lines=lines,
        )
    )
    assert "\r\n" in text
    return list(csv.reader(io.StringIO(text, newline="")))


# One stream's statement in a world with real invoices ----------------------------------------------------


@pytest.fixture
def world(monkeypatch):
    return build_invoicing_world(monkeypatch)


@pytest.fixture
def asc(world):
    """Adult Social Care in November 2026 funds:

    * Alex (also ILF and ATW): care invoice C-1 (ASC and ILF parts) paid on 25 November, C-2 approved and
      not paid;
    * Bea: a budget from 25 November, no money yet;
    * Cy (also ILF): budgets from Monday 2 November, first instalments paid in (ASC's received on 10
      November), and wages paid from the ASC money;

    and not Dee (ILF only) nor Sam (the Disabled Facilities Grant only)."""
    streams = {stream.code: stream for stream in FundingStream.objects.all()}
    cy, dee = BudgetHolderFactory(full_name="Cy Rees"), BudgetHolderFactory(full_name="Dee Khan")
    budget_for(cy, streams["ASC"], starts_on=date(2026, 11, 2), amount_minor=520_000)
    budget_for(cy, streams["ILF"], starts_on=date(2026, 11, 2), amount_minor=130_000)
    budget_for(dee, streams["ILF"], starts_on=date(2026, 11, 2), amount_minor=777_700)
    instalments_post_due(on=TODAY)
    Instalment.objects.filter(personal_budget__budget_holder=cy, personal_budget__stream__code="ASC").filter(
        status=InstalmentStatus.DUE
    ).update(status=InstalmentStatus.RECEIVED, received_on=date(2026, 11, 10))
    wages(cy, streams["ASC"], amount_minor=12_345, on=date(2026, 11, 18))
    bea = BudgetHolderFactory(full_name="Bea Lowe")
    budget_for(bea, streams["ASC"], starts_on=date(2026, 11, 25), amount_minor=365_000)

    paid = invoicing_services.invoice_approve(
        invoice=submit(world.care, number="C-1", lines=[("2026-10-03", "2.00"), ("2026-10-04", "1.50")]),
        by=world.users["holder"],
    )
    invoicing_services.invoice_approve(
        invoice=submit(world.care, number="C-2", lines=[("2026-10-05", "1.00")]), by=world.users["holder"]
    )
    world.clock.today = date(2026, 11, 25)
    invoicing_services.remittance_record(
        provider=world.care.provider, invoices=[paid], reference="PAY-1", paid_on=world.clock.today, by=None
    )
    return {
        "stream": streams["ASC"],
        "streams": streams,
        "alex": world.base.alex,
        "bea": bea,
        "cy": cy,
        "dee": dee,
    }


def _asc_part(invoice_number: str, code: str = "ASC") -> int:
    return sum(
        InvoiceLineFunding.objects.filter(
            line__invoice__invoice_number=invoice_number, stream__code=code
        ).values_list("amount_minor", flat=True)
    )


@pytest.mark.django_db
class TestAgencyStatementOfOneStream:
    def test_a_line_for_everyone_the_stream_funds_and_no_one_else(self, world, asc):
        lines = all_lines(stream=asc["stream"], period=NOVEMBER)

        expected = sorted(asc[name].public_id for name in ("alex", "bea", "cy"))
        assert [line.budget_holder_public_id for line in lines] == expected
        assert funded_people(stream=asc["stream"], period=NOVEMBER).count() == 3
        assert {line.name for line in lines} >= {"Bea Lowe", "Cy Rees"}

    def test_the_totals_are_the_sum_of_the_lines_whatever_the_batch(self, world, asc):
        totals = agency_totals(stream=asc["stream"], period=NOVEMBER)

        for size in (1, 2, 500):
            assert totals == added_up(all_lines(stream=asc["stream"], period=NOVEMBER, size=size)), size
        assert totals.people == 3
        assert totals.closing_minor == totals.opening_minor + totals.money_in_minor - totals.spent_minor
        assert totals.available_minor == totals.closing_minor - totals.reserved_minor
        assert sum(totals.by_category.values()) == totals.spent_minor

    def test_each_line_is_the_ledger_balance_of_that_stream_funds(self, world, asc):
        stream = asc["stream"]

        for line in all_lines(stream=stream, period=NOVEMBER):
            holder = BudgetHolder.objects.get(public_id=line.budget_holder_public_id)
            account = funds_of(holder, stream)
            assert line.figures.account_id == account.pk
            at_end = account_balance(account=account, on=NOVEMBER.ends_on)
            before = account_balance(account=account, on=NOVEMBER.starts_on - timedelta(days=1))
            assert line.figures.opening_minor == before.posted_minor
            assert line.figures.closing_minor == at_end.posted_minor
            assert line.figures.available_minor == at_end.available_minor
            assert sum(line.by_category.values()) == line.figures.money_out_minor
            assert sum(line.by_outcome.values()) == line.figures.money_out_minor

    def test_a_budget_with_no_money_yet_has_its_allocation_and_zero_figures(self, world, asc):
        bea = next(
            line
            for line in all_lines(stream=asc["stream"], period=NOVEMBER)
            if line.budget_holder_public_id == asc["bea"].public_id
        )

        budget = PersonalBudget.objects.get(budget_holder=asc["bea"])
        assert not Posting.objects.filter(account=funds_of(asc["bea"], asc["stream"])).exists()
        assert bea.personal_budget_public_id == budget.public_id
        assert bea.allocated_minor == 365_000
        assert (bea.figures.opening_minor, bea.figures.money_in_minor, bea.figures.closing_minor) == (0, 0, 0)
        assert bea.received_minor == 0
        assert bea.by_category == {} and bea.by_outcome == {}

    def test_the_agency_sees_only_its_own_streams_money(self, world, asc):
        stream = asc["stream"]
        lines = {line.budget_holder_public_id: line for line in all_lines(stream=stream, period=NOVEMBER)}
        alex, cy = lines[asc["alex"].public_id], lines[asc["cy"].public_id]

        # Alex's care invoice: only ASC's part of it, under its category and outcome.
        assert alex.figures.money_out_minor == _asc_part("C-1")
        assert alex.by_category == {"Personal care": _asc_part("C-1")}
        assert alex.by_outcome == {"Live in my own flat": _asc_part("C-1")}
        assert alex.figures.reserved_minor == _asc_part("C-2")
        # Cy: ASC's instalment and wages, none of the ILF money.
        asc_in = sum(
            Instalment.objects.filter(
                personal_budget__budget_holder=asc["cy"], personal_budget__stream=stream
            )
            .exclude(status=InstalmentStatus.SCHEDULED)
            .values_list("amount_minor", flat=True)
        )
        assert cy.figures.instalments_minor == cy.figures.money_in_minor == cy.received_minor == asc_in
        assert cy.by_category == {OTHER_SPENDING: 12_345}
        assert cy.by_outcome == {OTHER_SPENDING: 12_345}
        asc_accounts = set(
            Account.objects.filter(key__endswith=f":stream:{stream.code}:funds").values_list("pk", flat=True)
        )
        assert {line.figures.account_id for line in lines.values()} <= asc_accounts
        # The other streams' statements do not show ASC's money either, and the stream that funds Dee alone
        # does not put her on ASC's.
        ilf = asc["streams"]["ILF"]
        ilf_lines = all_lines(stream=ilf, period=NOVEMBER)
        assert asc["dee"].public_id in {line.budget_holder_public_id for line in ilf_lines}
        assert asc["dee"].public_id not in lines
        assert not {line.figures.account_id for line in ilf_lines} & asc_accounts
        ilf_alex = next(line for line in ilf_lines if line.budget_holder_public_id == asc["alex"].public_id)
        assert ilf_alex.by_category == {"Personal care": _asc_part("C-1", "ILF")}
        assert agency_totals(stream=ilf, period=NOVEMBER) == added_up(ilf_lines)
        assert agency_totals(stream=stream, period=NOVEMBER).spent_minor == _asc_part("C-1") + 12_345

    def test_the_csv_has_the_documented_columns_and_one_row_per_person(self, world, asc):
        stream = asc["stream"]
        lines = all_lines(stream=stream, period=NOVEMBER)

        header, *rows = csv_table(stream=stream, period=NOVEMBER, lines=lines)

        assert tuple(header) == formats.CSV_COLUMNS
        assert len(rows) == len(lines) == agency_totals(stream=stream, period=NOVEMBER).people
        for row, line in zip(rows, lines, strict=True):
            cells = dict(zip(header, row, strict=True))
            assert cells["stream"] == "ASC"
            assert (cells["period_from"], cells["period_to"]) == ("2026-11-01", "2026-11-30")
            assert cells["person"] == line.budget_holder_public_id
            assert cells["personal_budget"] == (line.personal_budget_public_id or "")
            assert cells["currency"] == "GBP"
            for column, amount in (
                ("allocated", line.allocated_minor),
                ("opening_balance", line.figures.opening_minor),
                ("money_in", line.figures.money_in_minor),
                ("received", line.received_minor),
                ("spent", line.figures.money_out_minor),
                ("reserved", line.figures.reserved_minor),
                ("closing_balance", line.figures.closing_minor),
                ("available", line.figures.available_minor),
                ("surplus_reclaimable", line.surplus_minor),
                ("reclaimed", line.figures.reclaimed_minor),
            ):
                assert cells[column] == money_format(amount, currency="GBP"), column
            assert cells["weeks_held"] == (str(line.weeks_held) if line.weeks_held is not None else "")
            assert cells["spent_by_category"] == "; ".join(
                f"{label}={money_format(amount, currency='GBP')}"
                for label, amount in line.by_category.items()
            )
        alex = next(row for row in rows if row[3] == asc["alex"].public_id)
        assert alex[-2] == f"Personal care={money_format(_asc_part('C-1'), currency='GBP')}"
        assert (header[-1], alex[-1]) == ("reclaimed", "0.00")

    def test_a_part_payment_is_spent_by_category_only_as_far_as_it_was_paid(self, world):
        invoice = invoicing_services.invoice_approve(
            invoice=submit(world.work, number="W-1"), by=world.users["holder"]
        )  # 63.00, all from Access to Work
        ledger.pending_post(
            pending=invoice.reservation,
            idempotency_key="part-payment:W-1",
            effective_on=TODAY,
            amount_minor=4_000,
            metadata={"kind": "invoice_payment", "invoice": invoice.public_id},
        )
        atw = FundingStream.objects.get(code="ATW")

        alex = next(
            line
            for line in all_lines(stream=atw, period=NOVEMBER)
            if line.budget_holder_public_id == world.base.alex.public_id
        )

        assert alex.figures.money_out_minor == 4_000
        assert alex.by_category == {"Support workers at work": 4_000}
        assert alex.by_outcome == {"Get a paid job": 4_000}
        assert agency_totals(stream=atw, period=NOVEMBER).by_category == {"Support workers at work": 4_000}


# Spreadsheet formulas in the CSV -------------------------------------------------------------------------


@pytest.mark.django_db
class TestCsvNames:
    def test_a_name_a_spreadsheet_would_run_as_a_formula_is_prefixed_with_an_apostrophe(self):
        stream = FundingStreamFactory()
        names = ['=HYPERLINK("http://x.test","x")', "+44 1234", "-Ann", "@SUM(A1)", "Plain Name", "Ann = Bo"]
        for name in names:
            budget_for(BudgetHolderFactory(full_name=name), stream, starts_on=START, amount_minor=100_000)
        period = month_of(START)

        lines = all_lines(stream=stream, period=period)
        header, *rows = csv_table(stream=stream, period=period, lines=lines)

        shown = {row[header.index("name")] for row in rows}
        assert len(rows) == len(names)
        assert shown == {
            '\'=HYPERLINK("http://x.test","x")',
            "'+44 1234",
            "'-Ann",
            "'@SUM(A1)",
            "Plain Name",
            "Ann = Bo",
        }
        assert tuple(header) == formats.CSV_COLUMNS


# Queries ------------------------------------------------------------------------------------------------


def _fund_more(stream: FundingStream, count: int) -> None:
    """`count` more people on the stream: a budget from 2 November, its first instalment, some wages, and an
    approved-looking reservation from their funds."""
    payable = ledger.account_get_or_create(
        key="provider:statement-tests:payable",
        name="A provider",
        type="liability",
        currency="GBP",
        allow_negative=True,
    )
    for _ in range(count):
        holder = BudgetHolderFactory()
        budget_for(holder, stream, starts_on=date(2026, 11, 2), amount_minor=520_000)
    instalments_post_due(on=TODAY)
    for holder in BudgetHolder.objects.filter(
        personal_budgets__stream=stream, personal_budgets__starts_on=date(2026, 11, 2)
    ):
        if Posting.objects.filter(account=funds_of(holder, stream), side=Side.DEBIT).exists():
            continue
        wages(holder, stream, amount_minor=1_000, on=date(2026, 11, 19))
        ledger.transaction_reserve(
            idempotency_key=f"reserve:{uuid.uuid4().hex}",
            currency="GBP",
            effective_on=date(2026, 11, 19),
            description="Set aside",
            postings=[
                ledger.PostingSpec(account=funds_of(holder, stream), side=Side.DEBIT, amount_minor=500),
                ledger.PostingSpec(account=payable, side=Side.CREDIT, amount_minor=500),
            ],
            metadata={"kind": "invoice_reservation", "invoice": "inv_notareal1"},
        )


def _queries(function, **arguments) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as captured:
        result = function(**arguments)
    return len(captured.captured_queries), result


@pytest.mark.django_db
class TestQueries:
    def test_lines_and_totals_take_as_many_queries_for_12_people_as_for_3(self, world, asc):
        stream = asc["stream"]  # Alex (paid and approved invoices), Bea and Cy
        three = list(funded_people(stream=stream, period=NOVEMBER))
        lines_3, _ = _queries(agency_lines, stream=stream, period=NOVEMBER, people=three)
        totals_3, _ = _queries(agency_totals, stream=stream, period=NOVEMBER)

        _fund_more(stream, 9)
        twelve = list(funded_people(stream=stream, period=NOVEMBER))
        lines_12, lines = _queries(agency_lines, stream=stream, period=NOVEMBER, people=twelve)
        totals_12, totals = _queries(agency_totals, stream=stream, period=NOVEMBER)

        assert len(three) == 3 and len(twelve) == 12
        assert lines_12 <= lines_3
        assert totals_12 <= totals_3
        assert totals == added_up(lines)

    def test_a_batch_of_people_reads_in_a_fixed_number_of_queries(
        self, world, asc, django_assert_max_num_queries
    ):
        stream = asc["stream"]
        _fund_more(stream, 9)
        batches = list(people_batches(stream=stream, period=NOVEMBER, size=5))

        assert [len(batch) for batch in batches] == [5, 5, 2]
        for batch in batches:
            with django_assert_max_num_queries(8):  # as agency_lines' docstring says
                agency_lines(stream=stream, period=NOVEMBER, people=batch)


# The totals over random histories -----------------------------------------------------------------------


@pytest.fixture
def people():
    return make_people(holders=4, streams=2)


_budget = st.one_of(st.none(), st.tuples(st.integers(0, 120), st.integers(10_000, 2_000_000)))


@pytest.mark.django_db
class TestAgencyTotalsOverRandomHistories:
    @PROPERTY_SETTINGS
    @given(
        budgets=st.lists(st.tuples(_budget, _budget), min_size=4, max_size=4),
        posted_through=st.integers(0, 80),
        history_operations=operations(holders=4, streams=2, max_size=20),
        period=periods(),
        size=st.integers(1, 3),
        data=st.data(),
    )
    def test_totals_are_the_sum_of_every_batch_of_lines_and_show_one_stream_only(
        self, people, budgets, posted_through, history_operations, period, size, data
    ):
        with rolled_back():
            for holder, wanted in zip(people.holders, budgets, strict=True):
                for stream, budget in zip(people.streams, wanted, strict=True):
                    if budget is not None:
                        budget_for(
                            holder,
                            stream,
                            starts_on=START + timedelta(days=budget[0]),
                            amount_minor=budget[1],
                        )
            instalments_post_due(on=START + timedelta(days=posted_through))
            for instalment in Instalment.objects.filter(status=InstalmentStatus.DUE).order_by("pk"):
                late = data.draw(
                    st.one_of(st.none(), st.integers(0, 20)), label=f"received {instalment.public_id}"
                )
                if late is not None:
                    Instalment.objects.filter(pk=instalment.pk).update(
                        status=InstalmentStatus.RECEIVED, received_on=instalment.due_on + timedelta(days=late)
                    )
            history = History.start(people)
            history.apply(history_operations)

            for s, stream in enumerate(people.streams):
                lines = all_lines(stream=stream, period=period, size=size)
                totals = agency_totals(stream=stream, period=period)

                assert totals == added_up(lines)
                assert sum(totals.by_category.values()) == totals.spent_minor
                mine = {account.pk: (h, account) for (h, t), account in history.funds.items() if t == s}
                # one line for each person with money from the stream by the period end or a budget from it
                # in the period
                with_money = set(
                    Posting.objects.filter(account_id__in=mine, effective_on__lte=period.ends_on).values_list(
                        "account__owner_id", flat=True
                    )
                )
                with_budget = set(
                    PersonalBudget.objects.filter(
                        stream=stream, starts_on__lte=period.ends_on, ends_on__gte=period.starts_on
                    ).values_list("budget_holder__public_id", flat=True)
                )
                assert [line.budget_holder_public_id for line in lines] == sorted(with_money | with_budget)
                for line in lines:
                    assert line.figures.account_id in mine  # this stream's funds, never another's
                    _, account = mine[line.figures.account_id]
                    assert account.owner_id == line.budget_holder_public_id
                    at_end = account_balance(account=account, on=period.ends_on)
                    assert line.figures.closing_minor == at_end.posted_minor
                    assert line.figures.available_minor == at_end.available_minor
                    assert line.figures.opening_minor == (
                        account_balance(account=account, on=period.starts_on - timedelta(days=1)).posted_minor
                    )
                    assert sum(line.by_category.values()) == line.figures.money_out_minor
                    assert sum(line.by_outcome.values()) == line.figures.money_out_minor
                _, *rows = csv_table(stream=stream, period=period, lines=lines)
                assert [row[3] for row in rows] == [line.budget_holder_public_id for line in lines]
