"""Issuing statements and running month-end statement runs.

**Issuing** makes the statement's PDF and JSON and keeps them (`IssuedStatement`, with the SHA-256 of the
PDF) so that what a person or agency was sent can always be shown again. One statement per person (or
stream) and period: issuing again returns the one already issued, never a second.

**A run** covers one period: every person with money or a budget in it, and every active stream. Starting
it lists its statements (`StatementRunItem`, in batches) and hands them to the Celery workers, one task per
statement (eagerly, in this process, when no broker is configured). Each statement is made and marked done
in one database transaction, so after a crash the run is resumed (`statement_run_resume`) by sending again
only the statements not yet done; a statement already issued is never made twice (the issued statement's
unique constraint holds even when two workers race). A failed statement records its error;
`statement_run_retry` sends only the failed ones again.
"""

import logging

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from budgets.models import FundingStream
from ledger.errors import DomainError
from people.models import BudgetHolder, User
from people.services import audit_event_record
from statements.agency import people_batches
from statements.models import (
    IssuedStatement,
    ItemStatus,
    RunStatus,
    StatementKind,
    StatementRun,
    StatementRunItem,
)
from statements.period import Period, period_check
from statements.selectors import RunProgress, agency_document, person_document, run_progress

logger = logging.getLogger(__name__)
ITEM_BATCH = 1000
AUDIT_RUN_STARTED = "statements.run_started"
AUDIT_RUN_RESUMED = "statements.run_resumed"
AUDIT_RUN_RETRIED = "statements.run_retried"


class RunNotResumable(DomainError):
    code = "run_not_resumable"
    message = "This statement run has nothing left to do."
    http_status = 409


# Issuing ----------------------------------------------------------------------------------------------


def person_statement_issue(
    *, budget_holder: BudgetHolder, period: Period, run: StatementRun | None = None
) -> IssuedStatement:
    """The person's issued statement for the period: the one already issued, or a new one."""
    period_check(period)
    existing = _issued(kind=StatementKind.PERSON, budget_holder=budget_holder, period=period)
    if existing is not None:
        return existing
    document = person_document(budget_holder=budget_holder, period=period)
    return _store(
        kind=StatementKind.PERSON, budget_holder=budget_holder, period=period, run=run, document=document
    )


def agency_statement_issue(
    *, stream: FundingStream, period: Period, run: StatementRun | None = None
) -> IssuedStatement:
    """The stream's issued agency statement for the period: the one already issued, or a new one."""
    period_check(period)
    existing = _issued(kind=StatementKind.AGENCY, stream=stream, period=period)
    if existing is not None:
        return existing
    document = agency_document(stream=stream, period=period)
    return _store(kind=StatementKind.AGENCY, stream=stream, period=period, run=run, document=document)


def _issued(*, kind: str, period: Period, budget_holder=None, stream=None) -> IssuedStatement | None:
    return IssuedStatement.objects.filter(
        kind=kind,
        budget_holder=budget_holder,
        stream=stream,
        starts_on=period.starts_on,
        ends_on=period.ends_on,
    ).first()


def _store(*, kind: str, period: Period, run, document, budget_holder=None, stream=None) -> IssuedStatement:
    try:
        with transaction.atomic():
            return IssuedStatement.objects.create(
                kind=kind,
                budget_holder=budget_holder,
                stream=stream,
                starts_on=period.starts_on,
                ends_on=period.ends_on,
                pdf=document.pdf.content,
                sha256=document.pdf.sha256,
                pages=document.pdf.pages,
                figures=document.data,
                run=run,
            )
    except IntegrityError:
        # Another worker issued it first: theirs is the statement.
        found = _issued(kind=kind, budget_holder=budget_holder, stream=stream, period=period)
        if found is None:
            raise
        return found


# Runs -------------------------------------------------------------------------------------------------


def statement_run_start(*, period: Period, by: User | None) -> tuple[StatementRun, bool]:
    """Start the run for the period, or return the one already started (True when new).

    Lists every statement of the run, then sends them to the workers once the listing is committed.
    """
    period_check(period)
    run = StatementRun.objects.filter(starts_on=period.starts_on, ends_on=period.ends_on).first()
    if run is not None:
        return run, False
    try:
        with transaction.atomic():
            run = StatementRun.objects.create(
                starts_on=period.starts_on, ends_on=period.ends_on, created_by=by, status=RunStatus.PREPARING
            )
            total = _list_items(run, period)
            run.total = total
            run.status = RunStatus.RUNNING
            run.save(update_fields=["total", "status"])
            audit_event_record(
                actor=by,
                action=AUDIT_RUN_STARTED,
                obj=run,
                detail={
                    "from": period.starts_on.isoformat(),
                    "to": period.ends_on.isoformat(),
                    "statements": total,
                },
            )
    except IntegrityError:
        return StatementRun.objects.get(starts_on=period.starts_on, ends_on=period.ends_on), False
    transaction.on_commit(lambda: _dispatch(run.pk))
    return run, True


def _list_items(run: StatementRun, period: Period) -> int:
    total = 0
    streams = list(FundingStream.objects.filter(is_active=True).order_by("code"))
    StatementRunItem.objects.bulk_create(
        [StatementRunItem(run=run, kind=StatementKind.AGENCY, stream=stream) for stream in streams]
    )
    total += len(streams)
    seen: set[int] = set()
    for stream in streams:
        for batch in people_batches(stream=stream, period=period, size=ITEM_BATCH):
            new = [holder for holder in batch if holder.pk not in seen]
            seen.update(holder.pk for holder in new)
            StatementRunItem.objects.bulk_create(
                [StatementRunItem(run=run, kind=StatementKind.PERSON, budget_holder=holder) for holder in new]
            )
            total += len(new)
    return total


def statement_run_resume(*, run: StatementRun, by: User | None) -> RunProgress:
    """Send again the statements of the run not yet made (after a crash or a lost worker)."""
    progress = run_progress(run=run)
    if progress.pending == 0:
        raise RunNotResumable(
            f"Statement run {run.public_id} has no statements waiting: {progress.done} done, "
            f"{progress.failed} failed. Retry the failed ones instead."
        )
    audit_event_record(actor=by, action=AUDIT_RUN_RESUMED, obj=run, detail={"pending": progress.pending})
    transaction.on_commit(lambda: _dispatch(run.pk))
    return progress


def statement_run_retry(*, run: StatementRun, by: User | None) -> RunProgress:
    """Send again only the run's failed statements (the done ones are not made again)."""
    with transaction.atomic():
        retried = StatementRunItem.objects.filter(run=run, status=ItemStatus.FAILED).update(
            status=ItemStatus.PENDING, updated_at=timezone.now()
        )
        if not retried:
            raise RunNotResumable(f"Statement run {run.public_id} has no failed statements to retry.")
        StatementRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING, finished_at=None)
        audit_event_record(actor=by, action=AUDIT_RUN_RETRIED, obj=run, detail={"retried": retried})
    transaction.on_commit(lambda: _dispatch(run.pk))
    run.refresh_from_db()
    return run_progress(run=run)


def _dispatch(run_pk: int) -> None:
    from statements import tasks  # the Celery tasks sit above the services that they call

    tasks.statement_run_dispatch.delay(run_pk)


def run_pending_item_ids(run_pk: int, *, after: int = 0, limit: int = ITEM_BATCH) -> list[int]:
    return list(
        StatementRunItem.objects.filter(run_id=run_pk, status=ItemStatus.PENDING, pk__gt=after)
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )


def run_item_make(item_pk: int) -> str:
    """Make one statement of a run (a worker's task); returns its status. Safe to run twice."""
    item = StatementRunItem.objects.select_related("run", "budget_holder", "stream").get(pk=item_pk)
    if item.status != ItemStatus.PENDING:
        return item.status
    run = item.run
    period = Period(run.starts_on, run.ends_on)
    try:
        with transaction.atomic():
            if item.kind == StatementKind.PERSON:
                issued = person_statement_issue(budget_holder=item.budget_holder, period=period, run=run)
            else:
                issued = agency_statement_issue(stream=item.stream, period=period, run=run)
            updated = StatementRunItem.objects.filter(pk=item.pk, status=ItemStatus.PENDING).update(
                status=ItemStatus.DONE,
                issued=issued,
                attempts=F("attempts") + 1,
                error="",
                updated_at=timezone.now(),
            )
    except Exception as error:  # any failure of one statement is recorded; the run goes on
        logger.exception("Statement run %s: statement %s failed", run.public_id, item.pk)
        StatementRunItem.objects.filter(pk=item.pk, status=ItemStatus.PENDING).update(
            status=ItemStatus.FAILED,
            attempts=F("attempts") + 1,
            error=f"{type(error).__name__}: {error}"[:2000],
            updated_at=timezone.now(),
        )
        _finish_if_done(run)
        return ItemStatus.FAILED
    _finish_if_done(run)
    return ItemStatus.DONE if updated else StatementRunItem.objects.get(pk=item.pk).status


def _finish_if_done(run: StatementRun) -> None:
    if StatementRunItem.objects.filter(run=run, status=ItemStatus.PENDING).exists():
        return
    failed = StatementRunItem.objects.filter(run=run, status=ItemStatus.FAILED).exists()
    StatementRun.objects.filter(pk=run.pk, finished_at__isnull=True).update(
        status=RunStatus.DONE_WITH_FAILURES if failed else RunStatus.DONE, finished_at=timezone.now()
    )
