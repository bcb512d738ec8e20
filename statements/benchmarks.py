"""The statements benchmark behind `python manage.py bench statements`.

It measures what statements must do at a council's scale (architecture.md: Celery workers run the
batches, and a large council adds workers, not code):

* pages: the median seconds a page of a long person's statement (72 paid invoice lines, about 12 pages)
  against a short one's (2 lines), each rendered `renders` times as a tagged PDF, interleaved, after one
  untimed render of each that warms the fonts, the stylesheet and the templates; goal: at most 1.5 times
  the short one's, that is, a statement's cost grows with its pages and no faster. The page counts are read
  from the PDFs. (The shortest statement has two pages: its summary tables fill the first.) For
  information, the same ratio in this process's CPU time, which other work on the machine hardly moves;
* a month-end run: the seconds a statement run of `people` person statements (and every active stream's
  agency statement) takes on real Celery workers with 2 worker processes against 1; goal: at least 1.7
  times faster with 2. This needs PostgreSQL (the workers are other processes writing at once; SQLite
  serialises writers) and Redis (`--redis-url`, a database of its own: redis://127.0.0.1:6379/5 by
  default). Each timed run starts `celery -A config worker --concurrency=N --pool=prefork` on a queue of
  its own, pointed at the bench's database (DEBUG off, as in production), starts a statement run, waits
  until `run_progress` has every statement made, then stops the worker. Each concurrency is timed twice, in
  the order 1, 2, 2, 1, and the best of each kept (the run least disturbed by other work on the machine);
  every run is listed under the table with the CPU time its workers took and how busy the machine was.
  Issued statements are never deleted, so the runs are for four periods with the same postings: the
  world's November, ending on 1, 2, 3 and 4 December. Without PostgreSQL or Redis the row says why it was
  not measured, and that is no missed goal.

The world is made through the real services, on a simulated "today" (30 November 2026, inside the demo
plan year), from the demo organisations and streams: each person has a plan engaging Bright Care for
personal care (Adult Social Care up to 250.00 a week, the Independent Living Fund the rest), its
instalments posted, an auto-approval rule for Bright Care, and invoices of up to 20 one-hour visits in
October and November, approved by the rule and paid on 30 November.

By default it runs in a throwaway database (`ledger.benchmarks.bench_database`): ledger rows and issued
statements are append-only, and hundreds of people are not wanted in a real database.
"""

import math
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from unittest import mock
from urllib.parse import quote

from django.conf import settings
from django.db import connection
from django.test.utils import override_settings
from django.utils import timezone

from budgets import demo as budgets_demo
from invoicing import services as invoicing_services
from invoicing.models import Invoice
from ledger.benchmarks import BenchRow
from ledger.money import money_format
from people import demo as people_demo
from people import services as people_services
from people.models import BudgetHolder, Organisation, Role, User
from plans import demo as plans_demo
from plans.models import Engagement
from plans.services import versions, workflow
from plans.services.instalments import plan_instalments_post_due
from statements import selectors, services, tasks
from statements.models import StatementKind, StatementRunItem
from statements.period import Period

PAGE_RATIO_GOAL = 1.5
SPEED_UP_GOAL = 1.7
WORLD_DAY = date(2026, 11, 30)  # the simulated "today" the world is made on
PERIOD = Period(date(2026, 11, 1), date(2026, 11, 30))
PROVIDER = "bright-care"
RATE_MINOR = 2450
LINES_PER_INVOICE = 20
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/5"
WORKER_READY_SECONDS = 60
RUN_TIMEOUT_SECONDS = 1800
POLL_SECONDS = 0.2
STALL_SECONDS = 120  # a run with no statement made for this long has lost its tasks
RUN_LINES = 3  # paid invoice lines of each other person in the runs
# The timed runs: each concurrency twice, ABBA so that drift hits both alike; the best of each is kept, the
# run least disturbed by other work on the machine.
RUN_ORDER = (1, 2, 2, 1)
RUNS_EACH = RUN_ORDER.count(1)


@dataclass(frozen=True, kw_only=True)
class StatementsBenchReport:
    vendor: str
    database: str
    rows: list[BenchRow]
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """Every goal measured is met (a goal not measured, for want of PostgreSQL or Redis, is no miss)."""
        return all(row.passed is not False for row in self.rows)

    def row(self, measure: str) -> BenchRow:
        return next(row for row in self.rows if row.measure == measure)

    def as_table(self) -> str:
        lines = [
            f"Statements benchmark on {self.vendor} (database {self.database})",
            "",
            f"{'measure':<66} {'value':>12}  {'unit':<8} {'goal':<8} result",
            "-" * 104,
        ]
        for row in self.rows:
            if row.value is None or (isinstance(row.value, float) and math.isnan(row.value)):
                value, result = f"{'-':>12}", "NOT MEASURED" if row.goal else ""
            else:
                value = f"{row.value:>12,.0f}" if row.unit in ("pages", "stmts") else f"{row.value:>12,.3f}"
                result = "" if row.passed is None else ("PASS" if row.passed else "FAIL")
            lines.append(f"{row.measure:<66} {value}  {row.unit:<8} {row.goal:<8} {result}")
        lines.append("-" * 104)
        lines.extend(self.notes)
        lines.append("all goals met" if self.passed else "SOME GOALS MISSED")
        return "\n".join(lines)


class BenchUnavailable(Exception):
    """A part of the benchmark cannot run here (no PostgreSQL, no Redis); the message says why."""


def statements_bench_run(
    *,
    people: int,
    short_lines: int,
    long_lines: int,
    renders: int,
    workers: bool = True,
    redis_url: str | None = None,
    progress: Callable[[str], None] = lambda message: None,
) -> StatementsBenchReport:
    """Make the world in the current default database, run every measurement, return the report.

    Runs without DEBUG's query log, as production does."""
    with override_settings(DEBUG=False):
        return _statements_bench_run(
            people=people,
            short_lines=short_lines,
            long_lines=long_lines,
            renders=renders,
            workers=workers,
            redis_url=redis_url or DEFAULT_REDIS_URL,
            progress=progress,
        )


def _statements_bench_run(
    *,
    people: int,
    short_lines: int,
    long_lines: int,
    renders: int,
    workers: bool,
    redis_url: str,
    progress: Callable[[str], None],
) -> StatementsBenchReport:
    world = _World(progress=progress)
    progress(f"making the short ({short_lines} line(s)) and long ({long_lines} lines) statements' people")
    short = world.person(lines=short_lines)
    long = world.person(lines=long_lines)
    rows = _page_rows(short=short, long=long, renders=renders, progress=progress)
    run_rows, notes = _run_rows(world, people=people, workers=workers, redis_url=redis_url, progress=progress)
    rows += run_rows
    return StatementsBenchReport(
        vendor=connection.vendor, database=str(connection.settings_dict["NAME"]), rows=rows, notes=notes
    )


# The world ----------------------------------------------------------------------------------------------


@contextmanager
def _on(day: date) -> Iterator[None]:
    """Run the services as if today were `day` (the checks and ledger dates of that day)."""
    with mock.patch.object(timezone, "localdate", lambda *args, **kwargs: day):
        yield


class _World:
    """The demo organisations and streams, and people made on demand, each with money and paid invoices."""

    def __init__(self, *, progress: Callable[[str], None]) -> None:
        self.run = uuid.uuid4().hex[:8]
        self.count = 0
        progress("seeding the demo organisations, streams and officers")
        with _on(WORLD_DAY):
            people_demo.seed_people()
            budgets_demo.seed_streams()
            people_demo.seed_users(plans_demo.OFFICERS)
            self.users = {
                user.username: user
                for user in User.objects.filter(username__in=["navigator", *plans_demo.APPROVERS.values()])
            }
            self.provider = Organisation.objects.get(slug=PROVIDER)
            self.provider_user = people_services.user_create(
                username=f"bench-{self.run}-{PROVIDER}",
                password=None,
                role=Role.PROVIDER_USER,
                organisation=self.provider,
            )

    def person(self, *, lines: int) -> BudgetHolder:
        """A new person with money and `lines` invoice lines paid in November (in invoices of 20 lines)."""
        holders = self.people(1)
        self.pay(holders[0], lines=lines)
        return holders[0]

    def people(self, count: int) -> list[BudgetHolder]:
        """`count` new people, each with an active plan and its instalments posted up to WORLD_DAY."""
        holders = []
        with _on(WORLD_DAY):
            for _ in range(count):
                holders.append(self._holder_with_plan())
            plan_instalments_post_due(on=WORLD_DAY)
        return holders

    def _holder_with_plan(self) -> BudgetHolder:
        self.count += 1
        number = self.count
        navigator = self.users["navigator"]
        user = people_services.user_create(
            username=f"bench-{self.run}-{number}",
            password=None,
            role=Role.BUDGET_HOLDER,
            first_name="Robin",
            last_name=f"Bench {number}",
        )
        holder = people_services.budget_holder_create(
            full_name=f"Robin Bench {number}", preferred_name="Robin", user=user, navigator=navigator
        )
        start, end = plans_demo.DEMO_PLAN_YEAR
        version = versions.plan_version_start(
            budget_holder=holder, starts_on=start, ends_on=end, started_by=navigator
        )
        outcome = versions.outcome_add(
            version=version,
            in_own_words="I want to get up and out in the morning without rushing",
            by=navigator,
        )
        versions.support_item_add(
            version=version,
            by=navigator,
            quantity=Decimal("14"),
            per="week",
            outcomes=[outcome],
            service_code="ASC-PC",
            description="Personal care: morning calls, two hours a day",
            split={"cap": {"stream": "ASC", "amount": "250.00", "per": "week"}, "rest": "ILF"},
            provider=self.provider,
            agreed_rate_minor=RATE_MINOR,
        )
        version = workflow.plan_version_agree(version=version, agreed_by=user)
        for approval in version.stream_approvals.select_related("stream").order_by("stream__code"):
            workflow.plan_stream_approve(
                version=version,
                stream_code=approval.stream.code,
                approved_by=self.users[plans_demo.APPROVERS[approval.stream.code]],
            )
        invoicing_services.auto_approval_rule_set(
            budget_holder=holder, provider=self.provider, max_total_minor=None, currency="GBP", by=user
        )
        return holder

    def pay(self, holder: BudgetHolder, *, lines: int) -> None:
        """Invoice `lines` one-hour visits in October and November (approved at once by the person's rule)
        and pay them on WORLD_DAY, in one remittance."""
        engagement = Engagement.objects.current().get(provider=self.provider, budget_holder=holder)
        price = money_format(RATE_MINOR, currency="GBP")
        invoices: list[Invoice] = []
        first_day = date(2026, 10, 1)
        days = (WORLD_DAY - first_day).days
        with _on(WORLD_DAY):
            for start in range(0, lines, LINES_PER_INVOICE):
                count = min(LINES_PER_INVOICE, lines - start)
                request_lines = []
                for index in range(start, start + count):
                    day = first_day + timedelta(days=index % days)
                    request_lines.append(
                        invoicing_services.InvoiceLineRequest(
                            support_item=engagement.support_item_public_id,
                            service_date=day,
                            quantity=Decimal("1.00"),
                            unit_price=price,
                            amount=price,
                            description=f"Morning call on {day:%A} {day.day} {day:%B}, visit {index + 1}",
                        )
                    )
                invoice = invoicing_services.invoice_submit(
                    provider=self.provider,
                    submitted_by=self.provider_user,
                    request=invoicing_services.InvoiceRequest(
                        invoice_number=f"BC-{holder.pk}-{start // LINES_PER_INVOICE + 1}",
                        person=holder.public_id,
                        issued_on=WORLD_DAY,
                        currency="GBP",
                        lines=tuple(request_lines),
                        total=money_format(RATE_MINOR * count, currency="GBP"),
                    ),
                )
                invoices.append(invoice)
            if invoices:
                invoicing_services.remittance_record(
                    provider=self.provider,
                    invoices=invoices,
                    reference=f"BENCH-{self.run}-{holder.public_id}",
                    paid_on=WORLD_DAY,
                    by=None,
                )


# Pages --------------------------------------------------------------------------------------------------


def _page_rows(
    *, short: BudgetHolder, long: BudgetHolder, renders: int, progress: Callable[[str], None]
) -> list[BenchRow]:
    progress(f"rendering each statement {renders} time(s), after one to warm up")
    statements = {
        name: selectors.person_statement(budget_holder=holder, period=PERIOD)
        for name, holder in (("short", short), ("long", long))
    }
    pages: dict[str, int] = {}
    wall: dict[str, list[float]] = {name: [] for name in statements}
    cpu: dict[str, list[float]] = {name: [] for name in statements}
    for name, statement in statements.items():  # warm up: fonts, stylesheet, templates
        pages[name] = selectors.person_pdf(statement).pages
    for _ in range(renders):  # interleaved, so that drift hits both
        for name, statement in statements.items():
            started, started_cpu = time.perf_counter(), time.process_time()
            pdf = selectors.person_pdf(statement)
            wall[name].append((time.perf_counter() - started) / pdf.pages)
            cpu[name].append((time.process_time() - started_cpu) / pdf.pages)
    per_page = {name: statistics.median(values) for name, values in wall.items()}
    cpu_per_page = {name: statistics.median(values) for name, values in cpu.items()}
    ratio = per_page["long"] / per_page["short"]
    lines = {name: len(statement.money_out) for name, statement in statements.items()}
    return [
        BenchRow(
            measure=f"pages, short statement ({lines['short']} payment lines)",
            value=pages["short"],
            unit="pages",
        ),
        BenchRow(
            measure=f"pages, long statement ({lines['long']} payment lines)",
            value=pages["long"],
            unit="pages",
        ),
        BenchRow(measure="median seconds a page, short statement", value=per_page["short"], unit="s/page"),
        BenchRow(measure="median seconds a page, long statement", value=per_page["long"], unit="s/page"),
        BenchRow(
            measure="  long / short",
            value=ratio,
            unit="ratio",
            goal=f"<= {PAGE_RATIO_GOAL:g}",
            passed=ratio <= PAGE_RATIO_GOAL,
        ),
        # For information: the same in this process's CPU time, which other processes' load hardly moves.
        BenchRow(
            measure="  long / short, in CPU seconds a page",
            value=cpu_per_page["long"] / cpu_per_page["short"],
            unit="ratio",
        ),
    ]


# A run on real workers ----------------------------------------------------------------------------------

SPEED_UP_MEASURE = "  run with 2 workers: speed-up over 1"


def _run_rows(
    world: _World, *, people: int, workers: bool, redis_url: str, progress: Callable[[str], None]
) -> tuple[list[BenchRow], list[str]]:
    def not_measured(reason: str) -> tuple[list[BenchRow], list[str]]:
        return (
            [BenchRow(measure=SPEED_UP_MEASURE, value=math.nan, unit="ratio", goal=f">= {SPEED_UP_GOAL:g}")],
            [f"The run on Celery workers was not measured: {reason}"],
        )

    if not workers:
        return not_measured("--skip-workers was given.")
    try:
        _check_workers_possible(redis_url)
    except BenchUnavailable as error:
        return not_measured(str(error))

    more = max(people - world.count, 0)  # the short and long statements' people are in the runs too
    progress(f"making {more} more people with money and paid invoices")
    for holder in world.people(more):
        world.pay(holder, lines=RUN_LINES)
    database_url = _database_url()
    timed: dict[int, list[_TimedRun]] = {1: [], 2: []}
    for offset, concurrency in enumerate(RUN_ORDER, start=1):
        period = Period(PERIOD.starts_on, PERIOD.ends_on + timedelta(days=offset))
        progress(f"a run for {period.starts_on} to {period.ends_on} on {concurrency} worker process(es)")
        _analyze()
        timed[concurrency].append(
            _timed_run(
                order=offset,
                period=period,
                concurrency=concurrency,
                database_url=database_url,
                redis_url=redis_url,
            )
        )
    best = {concurrency: min(runs, key=lambda run: run.seconds) for concurrency, runs in timed.items()}
    speed_up = best[1].seconds / best[2].seconds
    in_order = sorted((run for each in timed.values() for run in each), key=lambda run: run.order)
    notes = [f"The runs, in order (the machine has {os.cpu_count()} CPUs):"] + [
        f"  {run.order}. {run.concurrency} worker process(es): {run.seconds:.1f} s; the workers took "
        f"{run.worker_cpu:.1f} CPU seconds (start-up included); the machine's CPUs were "
        f"{_share(run.machine_busy)} busy"
        for run in in_order
    ]
    return [
        BenchRow(measure="statements in each run (people and streams)", value=best[1].total, unit="stmts"),
        BenchRow(measure="  of which person statements", value=best[1].people, unit="stmts"),
        BenchRow(
            measure=f"seconds for the run, 1 worker process (best of {RUNS_EACH})",
            value=best[1].seconds,
            unit="s",
        ),
        BenchRow(
            measure=f"seconds for the run, 2 worker processes (best of {RUNS_EACH})",
            value=best[2].seconds,
            unit="s",
        ),
        BenchRow(
            measure=SPEED_UP_MEASURE,
            value=speed_up,
            unit="ratio",
            goal=f">= {SPEED_UP_GOAL:g}",
            passed=speed_up >= SPEED_UP_GOAL,
        ),
    ], notes


def _analyze() -> None:
    """Bring PostgreSQL's planner statistics up to date (untimed): the world grew from nothing in minutes,
    faster than autovacuum analyzes it, and stale statistics would slow whichever run came first."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _check_workers_possible(redis_url: str) -> None:
    if connection.vendor != "postgresql":
        raise BenchUnavailable(
            f"it needs PostgreSQL, not {connection.vendor} (the workers are other processes writing at "
            "once, which SQLite serialises); set DATABASE_URL=postgres://..."
        )
    import redis  # Celery's Redis transport brings it

    try:
        redis.Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=2).ping()
    except redis.RedisError as error:
        raise BenchUnavailable(f"Redis at {redis_url} did not answer ({error}); see --redis-url.") from None


def _database_url() -> str:
    """A DATABASE_URL for the workers: the database this process is using (the throwaway one)."""
    settings_dict = connection.settings_dict
    user = quote(settings_dict.get("USER") or "", safe="")
    password = quote(settings_dict.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "localhost"
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"postgres://{credentials}{host}{port}/{quote(str(settings_dict['NAME']), safe='')}"


@dataclass(frozen=True)
class _TimedRun:
    order: int
    concurrency: int
    seconds: float
    total: int
    people: int
    worker_cpu: float  # CPU seconds of the worker and its pool processes
    machine_busy: float | None  # the share of the machine's CPU time in use during the run


def _share(value: float | None) -> str:
    return "?" if value is None else f"{value:.0%}"


def _cpu_ticks() -> tuple[int, int] | None:
    """(busy, all) CPU time of the whole machine so far, in clock ticks (Linux's /proc/stat)."""
    try:
        fields = [int(value) for value in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle and waiting for I/O
    return sum(fields) - idle, sum(fields)


def _timed_run(
    *, order: int, period: Period, concurrency: int, database_url: str, redis_url: str
) -> _TimedRun:
    """Seconds from starting the run until every statement is made, on a worker of `concurrency`
    processes."""
    queue = f"purse-bench-{uuid.uuid4().hex[:10]}"
    worker = _worker(concurrency=concurrency, queue=queue, database_url=database_url, redis_url=redis_url)
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with _queue(redis_url=redis_url, queue=queue), worker, _broker(redis_url=redis_url, queue=queue):
        ticks_before = _cpu_ticks()
        started = time.perf_counter()
        run, _ = services.statement_run_start(period=period, by=None)
        deadline = started + RUN_TIMEOUT_SECONDS
        moved, made = started, 0
        while True:
            progress = selectors.run_progress(run=run)
            if progress.pending == 0:
                break
            now = time.perf_counter()
            if progress.done + progress.failed > made:
                moved, made = now, progress.done + progress.failed
            if now - moved > STALL_SECONDS:
                raise AssertionError(
                    f"No statement of run {run.public_id} was made in {STALL_SECONDS} s ({progress.pending} "
                    f"waiting): are its tasks reaching the worker's queue {queue!r} on {redis_url}?"
                )
            if now > deadline:
                raise AssertionError(f"The run did not finish in {RUN_TIMEOUT_SECONDS} s: {progress}.")
            time.sleep(POLL_SECONDS)
        elapsed = time.perf_counter() - started
        ticks_after = _cpu_ticks()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)  # the worker, stopped and waited for
    worker_cpu = (children.ru_utime + children.ru_stime) - (
        children_before.ru_utime + children_before.ru_stime
    )
    machine_busy = None
    if ticks_before is not None and ticks_after is not None and ticks_after[1] > ticks_before[1]:
        machine_busy = (ticks_after[0] - ticks_before[0]) / (ticks_after[1] - ticks_before[1])
    if progress.failed:
        raise AssertionError(f"{progress.failed} statement(s) of the run failed: see run {run.public_id}.")
    people = StatementRunItem.objects.filter(run=run, kind=StatementKind.PERSON).count()
    return _TimedRun(
        order=order,
        concurrency=concurrency,
        seconds=elapsed,
        total=progress.total,
        people=people,
        worker_cpu=worker_cpu,
        machine_busy=machine_busy,
    )


@contextmanager
def _queue(*, redis_url: str, queue: str) -> Iterator[None]:
    """The run's queue, removed from Redis afterwards with its bindings (kombu keeps them for good)."""
    import redis

    try:
        yield
    finally:
        client = redis.Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=5)
        client.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")


@contextmanager
def _broker(*, redis_url: str, queue: str) -> Iterator[None]:
    """Send this process's tasks to the broker, on `queue`, instead of running them eagerly."""
    app = tasks.statement_run_dispatch.app  # Purse's Celery app (config.celery), which the tasks are bound to
    names = ("broker_url", "task_always_eager", "task_default_queue")
    before = {name: app.conf[name] for name in names}
    app.conf.update(broker_url=redis_url, task_always_eager=False, task_default_queue=queue)
    _forget_connections(app)
    try:
        yield
    finally:
        app.conf.update(before)
        _forget_connections(app)


def _forget_connections(app) -> None:
    """Drop the app's pools of broker connections, made for the broker it had then (sending a task, even
    eagerly, makes them), so that the next task goes to the broker configured now, as after a fork."""
    app._pool = None
    amqp = app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None


@contextmanager
def _worker(*, concurrency: int, queue: str, database_url: str, redis_url: str) -> Iterator[None]:
    """A Celery worker of `concurrency` processes on `queue`, as production runs it (DEBUG off)."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": redis_url,
        "DEBUG": "false",
        "SECRET_KEY": settings.SECRET_KEY,
        "LOG_LEVEL": "WARNING",
    }
    command = [
        *(sys.executable, "-m", "celery", "-A", "config", "worker"),
        f"--concurrency={concurrency}",
        "--pool=prefork",
        *("-Q", queue),
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "--loglevel=INFO",
        f"--hostname={queue}@%h",
    ]
    with tempfile.TemporaryFile(mode="w+") as log:
        worker = subprocess.Popen(  # noqa: S603 - our own command line
            command,
            cwd=Path(settings.BASE_DIR),
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            _wait_until_ready(worker, log)
            yield
        finally:
            _stop(worker)


def _wait_until_ready(worker: subprocess.Popen, log) -> None:
    deadline = time.monotonic() + WORKER_READY_SECONDS
    while time.monotonic() < deadline:
        log.seek(0)
        text = log.read()
        if " ready." in text:
            return
        if worker.poll() is not None:
            raise AssertionError(f"The Celery worker stopped (exit {worker.returncode}):\n{text[-4000:]}")
        time.sleep(0.1)
    log.seek(0)
    raise AssertionError(
        f"The Celery worker was not ready in {WORKER_READY_SECONDS} s:\n{log.read()[-4000:]}"
    )


def _stop(worker: subprocess.Popen) -> None:
    """A warm shutdown (SIGTERM), then SIGKILL to the worker's process group if it hangs."""
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=30)
