"""The reconciliation benchmark behind `python manage.py bench reconciliation`.

It measures what issue 9 asks: the seconds the automatic passes take to match N bank lines (default
100,000) against a ledger holding their transactions, divided by the seconds it takes to parse the same
statement file; goal at most 2. And that matching's memory is flat: the peak traced memory of matching N
lines against matching N/10 (goal at most 1.5: it works through the lines in batches of
`RECONCILIATION_BATCH_LINES`, whatever N is).

The world: about 270 lines a day from 1 April 2026. Of the lines, 60% are Bacs payments shown one by one with
their reference (the ledger's payment on the Bacs transit account), 20% funding received with the agency's
reference, 10% credits the bank gives no reference for (matched by amount and date, one working day
later), 5% one line for a Bacs file of three payments (by exact sum) and 5% of nobody's (left unmatched).
The ledger's transactions are inserted in bulk, as the ledger benchmark loads its postings; the statement is
a CSV file read through a saved column mapping, and imported (stored) before matching is timed.
"""

from __future__ import annotations

import gc
import time
import tracemalloc
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from random import Random

from django.db import connection
from django.db.transaction import atomic
from django.test.utils import override_settings

from ledger.benchmarks import BenchReport, BenchRow
from ledger.models import Account, AccountType, Posting, Side, Transaction, TransactionKind
from ledger.reconciliation import services
from ledger.reconciliation.models import LineState, StatementLine
from ledger.reconciliation.statement_files import CsvMapping, statement_file_parse

RATIO_GOAL = 2.0
MEMORY_GOAL = 1.5
LINES_PER_DAY = 270
MAPPING = CsvMapping(
    date_column="Date",
    amount_column="Amount",
    reference_column="Reference",
    description_column="Description",
    balance_column="Balance",
)
_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


@dataclass
class _World:
    csv: bytes
    lines: int
    transactions: int
    account: object


def _money(minor: int) -> str:
    sign = "-" if minor < 0 else ""
    return f"{sign}{abs(minor) // 100}.{abs(minor) % 100:02d}"


def _world(lines: int, *, run: str) -> _World:
    """The ledger's transactions (in bulk) and the statement file of `lines` lines that mirrors them."""
    random = Random(f"{run}:{lines}")  # noqa: S311 - test data
    cash, transit, other = (
        Account.objects.create(
            key=f"bench:{run}:{lines}:{name}",
            name=f"bench {name}",
            type=account_type,
            currency="GBP",
            allow_negative=True,
            owner_type="bench",
        )
        for name, account_type in (
            ("cash", AccountType.ASSET),
            ("transit", AccountType.LIABILITY),
            ("other", AccountType.ASSET),
        )
    )
    account = services.reconciliation_account_ensure(
        key=f"bench:{run}:{lines}",
        name=f"Bench bank {lines}",
        kind="bank",
        ledger_account=cash,
        transit_accounts=[transit],
        batch_keys=["bacs_file"],
    )
    services.csv_mapping_save(account=account, mapping=MAPPING)
    start = date(2026, 4, 1)
    statement: list[tuple[date, int, str, str]] = []
    balance = 10_000_000
    pending: list[tuple[Transaction, list[tuple[Account, str, int]]]] = []

    def add(on: date, postings: list[tuple[Account, str, int]], description: str, metadata: dict) -> None:
        pending.append(
            (
                Transaction(
                    kind=TransactionKind.POSTED,
                    currency="GBP",
                    description=description,
                    effective_on=on,
                    metadata=metadata,
                    idempotency_key=f"bench:{run}:{lines}:{len(pending)}",
                    request_hash="0" * 64,
                ),
                postings,
            )
        )

    for index in range(lines):
        on = start + timedelta(days=index // LINES_PER_DAY)
        booked = on + timedelta(days=1) if on.weekday() < 4 else on + timedelta(days=7 - on.weekday())
        roll = random.random()
        amount = 1_000 + index * 3 + random.randint(0, 2)  # distinct amounts: no accidental collisions
        if roll < 0.6:
            code = "".join(random.choice(_ALPHABET) for _ in range(14))
            add(
                on,
                [(other, Side.DEBIT, amount), (transit, Side.CREDIT, amount)],
                f"Payment pay_{code.lower()}",
                {"payment": f"pay_{code.lower()}", "bacs_file": f"bacs_{run}_{on.isoformat()}"},
            )
            line = (booked, -amount, f"PAY-{code}", "BACS PAYMENT")
        elif roll < 0.8:
            reference = f"FUND-{index:07d}X"
            add(
                on,
                [(cash, Side.DEBIT, amount), (other, Side.CREDIT, amount)],
                f"Funding {reference}",
                {"reference": reference},
            )
            line = (on, amount, reference, "COUNCIL")
        elif roll < 0.9:
            add(on, [(cash, Side.DEBIT, amount), (other, Side.CREDIT, amount)], "Money in", {})
            line = (booked, amount, "", "CREDIT")
        elif roll < 0.95:
            batch = f"bacs_{run}_b{index}"
            parts = [amount, amount + 1, amount + 2]
            for number, part in enumerate(parts):
                add(
                    on,
                    [(other, Side.DEBIT, part), (transit, Side.CREDIT, part)],
                    f"Payment {batch}-{number}",
                    {"payment": f"pay_{index}x{number}", "bacs_file": batch},
                )
            line = (booked, -sum(parts), "", "BACS CONTRA")
        else:
            line = (on, amount if random.random() < 0.5 else -amount, "", "UNKNOWN")
        statement.append(line)
    statement.sort(key=lambda line: line[0])
    text = ["Date,Amount,Reference,Description,Balance"]
    for booked, amount, reference, description in statement:
        balance += amount
        text.append(f"{booked:%d/%m/%Y},{_money(amount)},{reference},{description},{_money(balance)}")
    with atomic():
        for chunk_start in range(0, len(pending), 5000):
            chunk = pending[chunk_start : chunk_start + 5000]
            Transaction.objects.bulk_create([item for item, _ in chunk], batch_size=1000)
            Posting.objects.bulk_create(
                [
                    Posting(
                        transaction=item,
                        account=posting_account,
                        side=side,
                        amount_minor=amount,
                        effective_on=item.effective_on,
                        kind=TransactionKind.POSTED,
                    )
                    for item, postings in chunk
                    for posting_account, side, amount in postings
                ],
                batch_size=2000,
            )
        totals = {
            (posting_account.pk, side): 0 for posting_account in (cash, transit, other) for side in Side
        }
        for _, postings in pending:
            for posting_account, side, amount in postings:
                totals[(posting_account.pk, side)] += amount
        for posting_account in (cash, transit, other):
            Account.objects.filter(pk=posting_account.pk).update(
                debits_posted=totals[(posting_account.pk, Side.DEBIT)],
                credits_posted=totals[(posting_account.pk, Side.CREDIT)],
            )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE ledger_posting")
            cursor.execute("ANALYZE ledger_transaction")
    return _World(
        csv=("\n".join(text) + "\n").encode(), lines=lines, transactions=len(pending), account=account
    )


def _timed(work: Callable[[], object]) -> tuple[float, object]:
    gc.collect()
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


def _import(world: _World):
    return services.statement_import(
        account=world.account, content=world.csv, by="bench", file_name="bench.csv", match=False
    )


def reconciliation_bench_run(
    *, lines: int, progress: Callable[[str], None] = lambda message: None
) -> BenchReport:
    with override_settings(DEBUG=False):
        return _run(lines=lines, progress=progress)


def _run(*, lines: int, progress: Callable[[str], None]) -> BenchReport:
    run = uuid.uuid4().hex[:8]
    progress(f"building a ledger and a statement of {lines:,} lines")
    world = _world(lines, run=run)
    progress("parsing the statement")
    parse_seconds = min(
        _timed(lambda: statement_file_parse(world.csv, format="csv", csv_mapping=MAPPING))[0]
        for _ in range(2)
    )
    progress("importing it (storing the lines, not timed)")
    imported = _import(world)
    progress("matching it")
    match_seconds, _ = _timed(lambda: services.import_match(imported.pk))
    counts = {
        state: StatementLine.objects.filter(statement_import=imported, state=state).count()
        for state in LineState.values
    }

    small_lines = max(1, lines // 10)
    progress(f"memory: matching {small_lines:,} lines against {lines:,}")
    peaks = []
    for size in (small_lines, lines):
        sized = _world(size, run=f"{run}m")
        sized_import = _import(sized)
        gc.collect()
        tracemalloc.start()
        services.import_match(sized_import.pk)
        peaks.append(tracemalloc.get_traced_memory()[1] / 1e6)
        tracemalloc.stop()
    ratio = match_seconds / parse_seconds
    memory_ratio = peaks[1] / peaks[0]
    rows = [
        BenchRow(
            measure=f"statement lines (ledger transactions: {world.transactions:,})",
            value=lines,
            unit="lines",
        ),
        BenchRow(measure="seconds to parse the CSV statement", value=parse_seconds, unit="s"),
        BenchRow(measure="seconds to match its lines automatically", value=match_seconds, unit="s"),
        BenchRow(
            measure="  matching / parsing",
            value=ratio,
            unit="x",
            goal=f"<= {RATIO_GOAL}",
            passed=ratio <= RATIO_GOAL,
        ),
        BenchRow(measure="lines matched", value=counts[LineState.MATCHED], unit="lines"),
        BenchRow(measure="lines suggested", value=counts[LineState.SUGGESTED], unit="lines"),
        BenchRow(measure="lines unmatched", value=counts[LineState.UNMATCHED], unit="lines"),
        BenchRow(measure=f"peak traced MB matching {small_lines:,} lines", value=peaks[0], unit="MB"),
        BenchRow(measure=f"peak traced MB matching {lines:,} lines", value=peaks[1], unit="MB"),
        BenchRow(
            measure="  memory ratio (flat)",
            value=memory_ratio,
            unit="x",
            goal=f"<= {MEMORY_GOAL}",
            passed=memory_ratio <= MEMORY_GOAL,
        ),
    ]
    settings_dict = connection.settings_dict
    return BenchReport(vendor=connection.vendor, database=str(settings_dict["NAME"]), threads=1, rows=rows)
