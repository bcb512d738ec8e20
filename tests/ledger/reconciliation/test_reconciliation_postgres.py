"""Reconciliation under real concurrency, on PostgreSQL: row locks and unique constraints decide races."""

from datetime import date

import pytest

from ledger.reconciliation import services
from ledger.reconciliation.models import (
    ImportStatus,
    LineState,
    ReconciliationMatch,
    StatementImport,
    StatementLine,
)
from ledger.selectors import account_balance
from tests.concurrency import run_in_threads
from tests.ledger.reconciliation.test_matching import World, csv_file

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_workers_matching_one_import_match_each_line_once(settings):
    settings.RECONCILIATION_BATCH_LINES = 2
    settings.RECONCILIATION_SYNC_LINES = 0
    world = World()
    for day in range(1, 9):
        world.bacs_payment(1_000 + day, date(2026, 11, day), f"pay_race{day:04d}", bacs_file=f"bacs_{day}")
    rows = [(date(2026, 11, day), -(1_000 + day), f"PAY-RACE{day:04d}", "") for day in range(1, 9)]
    # Outside a test transaction the import queues its task at once; run it eagerly, then race two more.
    settings.CELERY_TASK_ALWAYS_EAGER = True
    imported = StatementImport.objects.none()
    from unittest import mock

    with mock.patch("ledger.reconciliation.tasks.import_match_task.delay"):
        imported = services.statement_import(account=world.recon, content=csv_file(rows), by="finance")
    assert imported.status == ImportStatus.PROCESSING

    results = run_in_threads(2, lambda _: services.import_match(imported.pk).status)

    assert results == ["done", "done"]
    assert StatementLine.objects.filter(state=LineState.MATCHED).count() == 8
    assert ReconciliationMatch.objects.count() == 8
    assert account_balance(account=world.transit).posted_minor == 0


def test_one_transaction_matched_by_hand_to_two_lines_at_once_goes_to_one():
    world = World()
    receipt = world.other_cash(1_000, date(2026, 11, 2))
    world.other_cash(1_000, date(2026, 11, 20))  # keeps the automatic pass from matching either line
    world.other_cash(1_000, date(2026, 11, 21))
    imported = services.statement_import(
        account=world.recon,
        content=csv_file([(date(2026, 11, 10), 1_000, "", "a"), (date(2026, 11, 10), 1_000, "", "b")]),
        by="finance",
    )
    lines = list(StatementLine.objects.filter(statement_import=imported).order_by("line_number"))
    assert all(line.state == LineState.UNMATCHED for line in lines)

    results = run_in_threads(
        2, lambda index: services.line_match(line=lines[index], transaction_ids=[receipt.public_id], by="f")
    )

    conflicts = [result for result in results if isinstance(result, services.MatchConflict)]
    assert len(conflicts) == 1, results
    assert StatementLine.objects.filter(state=LineState.MATCHED).count() == 1


def test_the_same_file_imported_twice_at_once_is_imported_once():
    world = World()
    content = csv_file([(date(2026, 11, 2), 777, "X", "")])

    results = run_in_threads(
        3, lambda _: services.statement_import(account=world.recon, content=content, by="finance")
    )

    assert sum(isinstance(result, services.DuplicateImport) for result in results) == 2, results
    assert StatementImport.objects.count() == 1 and StatementLine.objects.count() == 1
