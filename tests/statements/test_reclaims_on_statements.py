"""A surplus reclaim appears on the person's statement and on the agency's, as a reclaim, not as spending,
and the closing balance still ties to the ledger (issue 9)."""

import csv
import io
from datetime import date

import pytest

from payments.services import reclaims
from statements.agency import agency_lines, agency_totals, funded_people
from statements.formats import agency_csv_rows, agency_totals_json, person_statement_json
from statements.period import month_of
from statements.person import person_statement
from tests.payments.test_reclaims import clock, funds, raise_notice, world  # noqa: F401
from tests.people.factories import FinanceOfficerFactory

pytestmark = pytest.mark.django_db

JUNE = month_of(date(2026, 6, 15))


@pytest.fixture
def reclaimed(world, clock):  # noqa: F811
    finance = FinanceOfficerFactory()
    notice = raise_notice(world, by=finance)
    clock["today"] = date(2026, 6, 29)
    reclaims.reclaim_post(notice=notice, by=finance)
    clock["today"] = date(2026, 7, 2)
    return world


def test_the_persons_statement_shows_the_reclaim_apart_from_spending(reclaimed):
    holder, _ = reclaimed

    statement = person_statement(budget_holder=holder, period=JUNE)

    assert (statement.opening_minor, statement.money_out_minor, statement.reclaimed_minor) == (
        400_000,
        0,
        100_000,
    )
    assert statement.closing_minor == 300_000 == funds(holder).posted_minor
    body = person_statement_json(statement)
    assert (body["money_out"], body["reclaimed"], body["closing_balance"]) == ("0.00", "1000.00", "3000.00")
    [part] = body["streams"]
    assert part["reclaimed"] == "1000.00"


def test_the_agency_statement_totals_and_lines_show_it(reclaimed):
    _, stream = reclaimed

    totals = agency_totals(stream=stream, period=JUNE)
    [line] = agency_lines(stream=stream, period=JUNE, people=list(funded_people(stream=stream, period=JUNE)))

    assert (totals.spent_minor, totals.reclaimed_minor, totals.closing_minor) == (0, 100_000, 300_000)
    assert (line.figures.money_out_minor, line.figures.reclaimed_minor) == (0, 100_000)
    assert agency_totals_json(totals, "GBP")["reclaimed"] == "1000.00"
    text = "".join(
        agency_csv_rows(
            stream_code="ASC", period_from="2026-06-01", period_to="2026-06-30", currency="GBP", lines=[line]
        )
    )
    header, row = list(csv.reader(io.StringIO(text)))
    cells = dict(zip(header, row, strict=True))
    assert (cells["spent"], cells["reclaimed"], cells["closing_balance"]) == ("0.00", "1000.00", "3000.00")
