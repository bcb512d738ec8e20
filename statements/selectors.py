"""What other apps read of statements: the statements themselves (`person_statement`, `agency_lines`,
`agency_totals`), their documents (JSON data and tagged PDF), issued statements and runs' progress."""

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, QuerySet

from budgets.models import FundingStream
from ledger.errors import DomainError
from people.models import BudgetHolder
from plans.wording import date_display
from statements.agency import (
    AgencyLine,
    AgencyTotals,
    agency_lines,
    agency_totals,
    funded_people,
    people_batches,
)
from statements.formats import agency_line_json, agency_totals_json, person_statement_json
from statements.models import IssuedStatement, ItemStatus, StatementRun, StatementRunItem
from statements.period import Period
from statements.person import PersonStatement, person_statement
from statements.rendering import Pdf, render_pdf

__all__ = [
    "agency_lines",
    "agency_totals",
    "funded_people",
    "people_batches",
    "person_statement",
]


class StatementRunNotFound(DomainError):
    code = "statement_run_not_found"
    message = "There is no such statement run."
    http_status = 404


class IssuedStatementNotFound(DomainError):
    code = "statement_not_found"
    message = "There is no such statement."
    http_status = 404


@dataclass(frozen=True)
class Document:
    data: dict[str, Any]
    pdf: Pdf


def person_title(statement: PersonStatement) -> str:
    period = statement.period
    return (
        f"Statement for {statement.name}, {date_display(period.starts_on)} to {date_display(period.ends_on)}"
    )


def person_pdf(statement: PersonStatement) -> Pdf:
    return render_pdf("statements/person_pdf.html", {"statement": statement}, title=person_title(statement))


def person_document(*, budget_holder: BudgetHolder, period: Period) -> Document:
    statement = person_statement(budget_holder=budget_holder, period=period)
    return Document(data=person_statement_json(statement), pdf=person_pdf(statement))


def agency_title(stream: FundingStream, period: Period) -> str:
    return (
        f"{stream.name} ({stream.code}) statement, "
        f"{date_display(period.starts_on)} to {date_display(period.ends_on)}"
    )


def agency_all_lines(*, stream: FundingStream, period: Period) -> list[AgencyLine]:
    """Every person's line, batch by batch (for the whole-stream PDF and an issued statement)."""
    lines: list[AgencyLine] = []
    for batch in people_batches(stream=stream, period=period):
        lines.extend(agency_lines(stream=stream, period=period, people=batch))
    return lines


def agency_pdf(
    *, stream: FundingStream, period: Period, totals: AgencyTotals, lines: list[AgencyLine]
) -> Pdf:
    return render_pdf(
        "statements/agency_pdf.html",
        {"stream": stream, "period": period, "totals": totals, "lines": lines, "currency": stream.currency},
        title=agency_title(stream, period),
    )


def agency_document(*, stream: FundingStream, period: Period) -> Document:
    totals = agency_totals(stream=stream, period=period)
    lines = agency_all_lines(stream=stream, period=period)
    data = agency_json(stream=stream, period=period, totals=totals, lines=lines)
    return Document(data=data, pdf=agency_pdf(stream=stream, period=period, totals=totals, lines=lines))


def agency_json(
    *, stream: FundingStream, period: Period, totals: AgencyTotals, lines: list[AgencyLine]
) -> dict[str, Any]:
    currency = stream.currency
    return {
        "stream": stream.code,
        "name": stream.name,
        "from": period.starts_on.isoformat(),
        "to": period.ends_on.isoformat(),
        "currency": currency,
        "totals": agency_totals_json(totals, currency),
        "people": [agency_line_json(line, currency) for line in lines],
    }


# Issued statements and runs ---------------------------------------------------------------------------


def issued_for_person(*, budget_holder: BudgetHolder) -> QuerySet[IssuedStatement]:
    return (
        IssuedStatement.objects.filter(budget_holder=budget_holder)
        .select_related("budget_holder", "stream", "run")
        .defer("pdf", "figures")
        .order_by("-ends_on")
    )


def issued_for_stream(*, stream: FundingStream) -> QuerySet[IssuedStatement]:
    return (
        IssuedStatement.objects.filter(stream=stream)
        .select_related("budget_holder", "stream", "run")
        .defer("pdf", "figures")
        .order_by("-ends_on")
    )


def issued_get(*, public_id: str) -> IssuedStatement:
    try:
        return IssuedStatement.objects.select_related("budget_holder", "stream").get(public_id=public_id)
    except IssuedStatement.DoesNotExist:
        raise IssuedStatementNotFound(f"There is no statement {public_id!r}.") from None


def run_get(*, public_id: str) -> StatementRun:
    try:
        return StatementRun.objects.get(public_id=public_id)
    except StatementRun.DoesNotExist:
        raise StatementRunNotFound(f"There is no statement run {public_id!r}.") from None


def run_list() -> QuerySet[StatementRun]:
    return StatementRun.objects.order_by("-starts_on", "-id")


@dataclass(frozen=True)
class RunProgress:
    run: StatementRun
    total: int
    done: int
    failed: int
    pending: int

    @property
    def percent(self) -> int:
        return int(100 * (self.done + self.failed) / self.total) if self.total else 100


def run_progress(*, run: StatementRun) -> RunProgress:
    """How far the run has got: one grouped query over its statements."""
    counts = {
        row["status"]: row["n"]
        for row in StatementRunItem.objects.filter(run=run)
        .values("status")
        .annotate(n=Count("id"))
        .order_by()
    }
    return RunProgress(
        run=run,
        total=run.total,
        done=counts.get(ItemStatus.DONE, 0),
        failed=counts.get(ItemStatus.FAILED, 0),
        pending=counts.get(ItemStatus.PENDING, 0),
    )


def runs_progress(*, runs: list[StatementRun]) -> list[RunProgress]:
    """Each run's progress, for a page of runs: one grouped query for all of them."""
    counts: dict[int, dict[str, int]] = {run.pk: {} for run in runs}
    for row in (
        StatementRunItem.objects.filter(run__in=runs)
        .values("run_id", "status")
        .annotate(n=Count("id"))
        .order_by()
    ):
        counts[row["run_id"]][row["status"]] = row["n"]
    return [
        RunProgress(
            run=run,
            total=run.total,
            done=counts[run.pk].get(ItemStatus.DONE, 0),
            failed=counts[run.pk].get(ItemStatus.FAILED, 0),
            pending=counts[run.pk].get(ItemStatus.PENDING, 0),
        )
        for run in runs
    ]


def run_failures(*, run: StatementRun) -> QuerySet[StatementRunItem]:
    """The run's failed statements, with whose they are and why (to page)."""
    return (
        StatementRunItem.objects.filter(run=run, status=ItemStatus.FAILED)
        .select_related("budget_holder", "stream")
        .order_by("pk")
    )
