"""The ledger benchmark behind `python manage.py bench ledger`.

It measures what the ledger's design promises:

* throughput: two-posting transactions per second through `transaction_post` against raw INSERTs of the
  same rows (one transaction row and two posting rows, committed one transaction at a time, the database's
  own triggers included), between accounts picked at random and again with every transaction touching
  one hot account; goal: the service reaches at least half the raw rate on PostgreSQL. For information,
  also against raw SQL that writes every row the service writes (the INSERTs and the accounts' running
  totals) without any of its checks;
* balance reads: p95 time of `account_balance` (the current balance) for an account with 10^3 postings
  against one with 10^6; goal: at most 1.5 times slower, that is, independent of the number of postings.

By default it runs in a throwaway database (created, migrated and dropped again) because ledger rows are
append-only and cannot be cleaned away afterwards.
"""

import statistics
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from random import Random
from tempfile import TemporaryDirectory

from django.db import connection
from django.db.transaction import atomic
from django.test.utils import override_settings
from django.utils import timezone

from ledger.models import Account, AccountType, Side, Transaction, TransactionKind, new_transaction_id
from ledger.selectors import account_balance
from ledger.services import PostingSpec, transaction_post

CURRENCY = "GBP"
LOAD_POSTINGS_PER_TRANSACTION = 1000
THROUGHPUT_GOAL = 0.5
_INSERT_POSTING = (
    "INSERT INTO ledger_posting (transaction_id, account_id, side, amount_minor, effective_on, kind)"
)
READ_RATIO_GOAL = 1.5


@dataclass(frozen=True, kw_only=True)
class BenchRow:
    measure: str
    value: float
    unit: str
    goal: str = ""
    passed: bool | None = None


@dataclass(frozen=True, kw_only=True)
class BenchReport:
    vendor: str
    database: str
    threads: int
    rows: list[BenchRow]

    @property
    def passed(self) -> bool:
        return all(row.passed is not False for row in self.rows)

    def as_table(self) -> str:
        lines = [
            f"Ledger benchmark on {self.vendor} (database {self.database}, {self.threads} thread(s))",
            "",
            f"{'measure':<66} {'value':>12}  {'unit':<6} {'goal':<8} result",
            "-" * 100,
        ]
        for row in self.rows:
            result = "" if row.passed is None else ("PASS" if row.passed else "FAIL")
            lines.append(f"{row.measure:<66} {row.value:>12,.3f}  {row.unit:<6} {row.goal:<8} {result}")
        lines.append("-" * 100)
        lines.append("all goals met" if self.passed else "SOME GOALS MISSED")
        return "\n".join(lines)


def ledger_bench_run(
    *,
    transactions: int,
    threads: int,
    small_postings: int,
    large_postings: int,
    reads: int,
    in_throwaway_database: bool,
    progress: Callable[[str], None] = lambda message: None,
) -> BenchReport:
    """Run every ledger measurement against the current default database and return the report.

    Runs without DEBUG's query log, as production does (DEBUG stores every statement, which would tax the
    service's statements more than the raw baseline's).
    """
    with override_settings(DEBUG=False):
        return _ledger_bench_run(
            transactions=transactions,
            threads=threads,
            small_postings=small_postings,
            large_postings=large_postings,
            reads=reads,
            in_throwaway_database=in_throwaway_database,
            progress=progress,
        )


def _ledger_bench_run(
    *,
    transactions: int,
    threads: int,
    small_postings: int,
    large_postings: int,
    reads: int,
    in_throwaway_database: bool,
    progress: Callable[[str], None],
) -> BenchReport:
    run = uuid.uuid4().hex[:10]
    random = Random(run)  # noqa: S311 - picks accounts, nothing secret
    pool = [_bench_account(f"bench:{run}:pool:{n}", AccountType.ASSET) for n in range(20)]
    hot = _bench_account(f"bench:{run}:hot", AccountType.INCOME)
    spread_pairs = [tuple(random.sample(pool, 2)) for _ in range(transactions)]
    hot_pairs = [(random.choice(pool), hot) for _ in range(transactions)]
    rows: list[BenchRow] = []

    for label, pairs in (("spread over 20 accounts", spread_pairs), ("one hot account", hot_pairs)):
        progress(f"throughput, {label}: service")
        service_rate = _throughput(pairs, threads=threads, write=_write_through_service, run=run)
        progress(f"throughput, {label}: raw INSERTs")
        raw_rate = _throughput(pairs, threads=threads, write=_write_raw, run=run)
        progress(f"throughput, {label}: raw INSERTs and UPDATEs")
        raw_totals_rate = _throughput(pairs, threads=threads, write=_write_raw_with_totals, run=run)
        ratio = service_rate / raw_rate
        rows += [
            BenchRow(measure=f"transactions/s, service, {label}", value=service_rate, unit="txn/s"),
            BenchRow(measure=f"transactions/s, raw INSERTs, {label}", value=raw_rate, unit="txn/s"),
            BenchRow(
                measure="  service / raw INSERTs",
                value=ratio,
                unit="ratio",
                goal=f">= {THROUGHPUT_GOAL}",
                passed=ratio >= THROUGHPUT_GOAL,
            ),
            BenchRow(
                measure=f"transactions/s, raw INSERTs + total UPDATEs, {label}",
                value=raw_totals_rate,
                unit="txn/s",
            ),
            BenchRow(
                measure="  service / raw INSERTs + UPDATEs",
                value=service_rate / raw_totals_rate,
                unit="ratio",
            ),
        ]

    progress(f"loading {small_postings:,} and {large_postings:,} postings")
    quick = in_throwaway_database
    small = _loaded_account(f"bench:{run}:small", postings=small_postings, run=run, quick=quick)
    large = _loaded_account(f"bench:{run}:large", postings=large_postings, run=run, quick=quick)
    progress(f"timing {reads} balance reads of each")
    small_p95, large_p95 = _read_p95(small, large, reads=reads)
    read_ratio = large_p95 / small_p95
    rows += [
        BenchRow(measure=f"p95 current balance, {small_postings:,} postings", value=small_p95, unit="ms"),
        BenchRow(measure=f"p95 current balance, {large_postings:,} postings", value=large_p95, unit="ms"),
        BenchRow(
            measure="  large / small",
            value=read_ratio,
            unit="ratio",
            goal=f"<= {READ_RATIO_GOAL}",
            passed=read_ratio <= READ_RATIO_GOAL,
        ),
    ]
    started = time.perf_counter()
    account_balance(account=large, on=date(2100, 1, 1))
    rows.append(
        BenchRow(
            measure=f"balance on a past date, {large_postings:,} postings (sums)",
            value=(time.perf_counter() - started) * 1000,
            unit="ms",
        )
    )
    return BenchReport(
        vendor=connection.vendor, database=str(connection.settings_dict["NAME"]), threads=threads, rows=rows
    )


@contextmanager
def bench_database() -> Iterator[str]:
    """Point the default connection at a new, migrated, empty database for the run, and drop it afterwards."""
    settings = connection.settings_dict
    old_name = settings["NAME"]
    old_test_name = settings["TEST"].get("NAME")
    with TemporaryDirectory(prefix="purse-bench-") as folder:
        if connection.vendor == "sqlite":
            settings["TEST"]["NAME"] = str(Path(folder) / "bench.sqlite3")
        else:
            settings["TEST"]["NAME"] = f"purse_bench_{uuid.uuid4().hex[:8]}"
        try:
            name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
            try:
                yield name
            finally:
                connection.creation.destroy_test_db(old_name, verbosity=0)
        finally:
            settings["TEST"]["NAME"] = old_test_name


def _bench_account(key: str, account_type: AccountType) -> Account:
    return Account.objects.create(
        key=key, name=key, type=account_type, currency=CURRENCY, allow_negative=True, owner_type="bench"
    )


def _throughput(
    pairs: list[tuple[Account, Account]],
    *,
    threads: int,
    write: Callable[[Account, Account, str], None],
    run: str,
) -> float:
    """Transactions per second when `threads` threads write the pairs' transactions, each one committed."""
    chunks = [pairs[index::threads] for index in range(threads)]
    barrier = threading.Barrier(threads + 1)
    failures: list[BaseException] = []

    def worker(chunk: list[tuple[Account, Account]]) -> None:
        try:
            barrier.wait()
            for debit, credit in chunk:
                write(debit, credit, f"bench:{run}:{uuid.uuid4().hex}")
        except BaseException as exc:  # reported below, in the main thread
            failures.append(exc)
        finally:
            connection.close()

    workers = [threading.Thread(target=worker, args=(chunk,)) for chunk in chunks]
    for thread in workers:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in workers:
        thread.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise failures[0]
    return len(pairs) / elapsed


def _write_through_service(debit: Account, credit: Account, key: str) -> None:
    transaction_post(
        idempotency_key=key,
        currency=CURRENCY,
        effective_on=date(2026, 4, 1),
        description="bench",
        postings=[
            PostingSpec(account=debit, side=Side.DEBIT, amount_minor=100),
            PostingSpec(account=credit, side=Side.CREDIT, amount_minor=100),
        ],
    )


def _write_raw(debit: Account, credit: Account, key: str) -> None:
    ops = connection.ops
    effective_on = ops.adapt_datefield_value(date(2026, 4, 1))
    posted = TransactionKind.POSTED.value
    with atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO ledger_transaction (public_id, kind, currency, description, effective_on,"
            " metadata, idempotency_key, request_hash, created_at)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
            [
                new_transaction_id(),
                posted,
                CURRENCY,
                "bench",
                effective_on,
                ops.adapt_json_value({}, None),
                key,
                "0" * 64,
                ops.adapt_datetimefield_value(timezone.now()),
            ],
        )
        transaction_id = cursor.fetchone()[0]
        cursor.execute(
            f"{_INSERT_POSTING} VALUES (%s, %s, %s, %s, %s, %s), (%s, %s, %s, %s, %s, %s)",
            [
                *(transaction_id, debit.pk, Side.DEBIT.value, 100, effective_on, posted),
                *(transaction_id, credit.pk, Side.CREDIT.value, 100, effective_on, posted),
            ],
        )


def _write_raw_with_totals(debit: Account, credit: Account, key: str) -> None:
    """The raw INSERTs and the two running-total UPDATEs: all the service writes, none of its checks."""
    updates = sorted([(debit.pk, "debits_posted"), (credit.pk, "credits_posted")])  # id order: no deadlocks
    with atomic(), connection.cursor() as cursor:
        _write_raw(debit, credit, key)
        for account_id, column in updates:
            cursor.execute(f"UPDATE ledger_account SET {column} = {column} + 100 WHERE id = %s", [account_id])  # noqa: S608


def _loaded_account(key: str, *, postings: int, run: str, quick: bool) -> Account:
    """An asset account with `postings` debit postings of 1p, loaded in bulk, its running totals set to match.

    Each load transaction has up to 1,000 such postings and one balancing credit to a counter account. On
    PostgreSQL the per-posting balance trigger is disabled for the load, inside its database transaction
    (only where the bench owns a throwaway database); the per-transaction trigger still checks every load
    transaction at commit.
    """
    account = _bench_account(key, AccountType.ASSET)
    counter = _bench_account(f"{key}:counter", AccountType.INCOME)
    effective_on = connection.ops.adapt_datefield_value(date(2020, 1, 1))
    posted = TransactionKind.POSTED.value
    quick = quick and connection.vendor == "postgresql"
    series = (
        "generate_series(1, %s)"
        if connection.vendor == "postgresql"
        else "(WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < %s) SELECT n FROM s)"
    )
    if quick:  # its own transaction: ALTER TABLE refuses to run while trigger events are pending
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE ledger_posting DISABLE TRIGGER ledger_posting_balanced")
    try:
        with atomic(), connection.cursor() as cursor:
            remaining = postings
            while remaining > 0:
                batch = min(remaining, LOAD_POSTINGS_PER_TRANSACTION)
                remaining -= batch
                load = Transaction.objects.create(
                    kind=posted,
                    currency=CURRENCY,
                    description="bench load",
                    effective_on=date(2020, 1, 1),
                    idempotency_key=f"bench:{run}:load:{uuid.uuid4().hex}",
                    request_hash="0" * 64,
                )
                cursor.execute(
                    f"{_INSERT_POSTING} SELECT %s, %s, %s, 1, %s, %s FROM {series} AS series",  # noqa: S608
                    [load.pk, account.pk, Side.DEBIT.value, effective_on, posted, batch],
                )
                cursor.execute(
                    f"{_INSERT_POSTING} VALUES (%s, %s, %s, %s, %s, %s)",
                    [load.pk, counter.pk, Side.CREDIT.value, batch, effective_on, posted],
                )
            Account.objects.filter(pk=account.pk).update(debits_posted=postings)
            Account.objects.filter(pk=counter.pk).update(credits_posted=postings)
    finally:
        if quick:
            with connection.cursor() as cursor:
                cursor.execute("ALTER TABLE ledger_posting ENABLE TRIGGER ledger_posting_balanced")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE ledger_posting")
    return account


def _read_p95(small: Account, large: Account, *, reads: int) -> tuple[float, float]:
    """p95 milliseconds of the current balance of each account, reads interleaved so drift hits both."""
    timings: dict[int, list[float]] = {small.pk: [], large.pk: []}
    for _ in range(min(50, reads)):  # warm caches and connection
        account_balance(account=small)
        account_balance(account=large)
    for _ in range(reads):
        for account in (small, large):
            started = time.perf_counter_ns()
            account_balance(account=account)
            timings[account.pk].append((time.perf_counter_ns() - started) / 1e6)
    return _p95(timings[small.pk]), _p95(timings[large.pk])


def _p95(samples: list[float]) -> float:
    if len(samples) < 2:
        return samples[0]
    return statistics.quantiles(samples, n=20, method="inclusive")[-1]
