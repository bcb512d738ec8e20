"""The invoicing benchmark behind `python manage.py bench invoicing`.

It builds the demo world (api.md, "Demo data": `people.demo.seed_people`, `budgets.demo.seed_streams`,
`plans.demo.seed_plans`, its instalments posted up to today, clamped into the demo plan year 2026/27), gives
bright-care an API key, and measures what the API promises (architecture.md, "Scale"):

* submission throughput: invoices per second through `POST /api/v1/invoices/` with the provider's key (and
  an `Idempotency-Key`, as api.md tells providers to send) against the same submissions through
  `invoicing.services.invoice_submit` directly; goal: HTTP reaches at least 0.3 of the service's rate. For
  information, also over HTTP without an Idempotency-Key;
* the invoice list: median time of `GET /api/v1/invoices/?page_size=50` with the provider's key against
  `json.dumps` of the `.values()` of the same rows the page shows (its 50 invoices, their lines, the lines'
  funding and the invoices' history: one query each); goal: at most 3 times slower. For information, also
  against the 50 invoices' own columns alone (one query), which is a fifth of what the page holds;
* bounded queries: the number of queries of one `POST /api/v1/invoices/` with 1 line against one with 20
  lines, and of one `GET /api/v1/invoices/` with 10 invoices in the table against one with `invoices`
  (1,000 by default); goal: equal.

Every submission is valid and at the agreed rate, with service dates spread from the start of the plan year
up to "today" (never after it). Quantities are kept small enough that the invoiced total stays within the
plan (nothing goes on hold for it) and nothing is approved, so the person's funds never run out.

By default it runs in a throwaway database (`ledger.benchmarks.bench_database`): ledger rows are
append-only, and the demo world and thousands of invoices are not wanted in a real one.
"""

import json
import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone

from budgets import demo as budgets_demo
from invoicing.models import Invoice, InvoiceEvent, InvoiceLine, InvoiceLineFunding
from invoicing.services import InvoiceLineRequest, InvoiceRequest, invoice_submit
from ledger.benchmarks import BenchRow
from ledger.money import money_format
from people import demo as people_demo
from people import services as people_services
from people.models import Organisation, User
from plans import demo as plans_demo
from plans.models import Engagement

PROVIDER = "bright-care"
INVOICES_URL = "/api/v1/invoices/"
PAGE_SIZE = 50
SMALL_TABLE = 10
FEW_LINES, MANY_LINES = 1, 20
ROUNDS = 5  # service and HTTP submissions alternate in this many rounds, so that drift hits both
THROUGHPUT_GOAL = 0.3
LIST_RATIO_GOAL = 3.0
# The throttle stays in the request path (its cache reads and writes are part of the cost), with an
# allowance the benchmark cannot use up.
BENCH_RATE = "1000000/minute"


@dataclass(frozen=True, kw_only=True)
class InvoicingBenchReport:
    vendor: str
    database: str
    lines: int
    rows: list[BenchRow]

    @property
    def passed(self) -> bool:
        return all(row.passed is not False for row in self.rows)

    def row(self, measure: str) -> BenchRow:
        return next(row for row in self.rows if row.measure == measure)

    def as_table(self) -> str:
        lines = [
            f"Invoicing benchmark on {self.vendor} (database {self.database}, {self.lines} line(s) an "
            "invoice, 1 thread)",
            "",
            f"{'measure':<70} {'value':>12}  {'unit':<8} {'goal':<8} result",
            "-" * 106,
        ]
        for row in self.rows:
            result = "" if row.passed is None else ("PASS" if row.passed else "FAIL")
            value = f"{row.value:>12,.0f}" if row.unit == "queries" else f"{row.value:>12,.3f}"
            lines.append(f"{row.measure:<70} {value}  {row.unit:<8} {row.goal:<8} {result}")
        lines.append("-" * 106)
        lines.append("all goals met" if self.passed else "SOME GOALS MISSED")
        return "\n".join(lines)


def invoicing_bench_run(
    *,
    submissions: int,
    lines: int,
    invoices: int,
    reads: int,
    progress: Callable[[str], None] = lambda message: None,
) -> InvoicingBenchReport:
    """Seed the demo world into the current default database, run every measurement, return the report.

    Runs without DEBUG's query log, as production does, on the test client's host, and with a provider
    API allowance the run cannot exhaust.
    """
    rest_framework = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "provider_key": BENCH_RATE,
        },
    }
    with override_settings(
        DEBUG=False, ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"], REST_FRAMEWORK=rest_framework
    ):
        return _invoicing_bench_run(
            submissions=submissions, lines=lines, invoices=invoices, reads=reads, progress=progress
        )


class _Bench:
    """The world of one run: the provider, its service account and key, the engagement it invoices."""

    def __init__(self, *, lines_to_submit: int, progress: Callable[[str], None]) -> None:
        self.run = uuid.uuid4().hex[:8]
        self.count = 0
        today = timezone.localdate()
        year_start, year_end = plans_demo.DEMO_PLAN_YEAR
        if today < year_start:
            raise BenchUnavailable(
                f"The demo plan year starts on {year_start.isoformat()}, after today ({today.isoformat()}): "
                "its invoices would all be for future service dates."
            )
        self.on = min(today, year_end)
        progress(f"seeding the demo world, instalments due by {self.on.isoformat()}")
        people_demo.seed_people()
        budgets_demo.seed_streams()
        plans_demo.seed_plans(on=self.on)
        self.provider = Organisation.objects.get(slug=PROVIDER)
        key, raw = people_services.provider_api_key_issue(
            provider=self.provider, name=f"bench {self.run}", issued_by=None
        )
        self.user: User = key.service_user
        self.authorization = f"Bearer {raw}"
        self.client = Client(headers={"Authorization": self.authorization})
        self.engagement = (
            Engagement.objects.current()
            .filter(provider=self.provider, starts_on__lte=self.on)
            .select_related("budget_holder")
            .order_by("id")
            .first()
        )
        if self.engagement is None:
            raise BenchUnavailable(f"The demo world has no engagement of {PROVIDER} in force.")
        last = min(self.on, self.engagement.ends_on)
        self.days = (last - self.engagement.starts_on).days + 1
        self.quantity = _quantity(planned=self.engagement.planned_quantity, lines=lines_to_submit)
        rate = self.engagement.agreed_rate_minor
        self.unit_price = money_format(rate, currency=self.engagement.currency)
        # quantity x unit price, rounded half up to the minor unit (api.md)
        self.amount_minor = int((self.quantity * rate).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        self.amount = money_format(self.amount_minor, currency=self.engagement.currency)

    def request(self, lines: int) -> InvoiceRequest:
        """A new valid submission of `lines` lines (a fresh invoice number each time)."""
        self.count += 1
        number = self.count
        engagement = self.engagement
        total_minor = self.amount_minor * lines
        return InvoiceRequest(
            invoice_number=f"BENCH-{self.run}-{number}",
            person=engagement.budget_holder.public_id,
            issued_on=self.on,
            currency=engagement.currency,
            total=money_format(total_minor, currency=engagement.currency),
            lines=tuple(
                InvoiceLineRequest(
                    support_item=engagement.support_item_public_id,
                    service_date=engagement.starts_on + timedelta(days=(number * 7 + index) % self.days),
                    quantity=self.quantity,
                    unit_price=self.unit_price,
                    amount=self.amount,
                    description=f"Visit {index + 1}",
                )
                for index in range(lines)
            ),
        )

    def submit(self, request: InvoiceRequest) -> None:
        invoice_submit(provider=self.provider, submitted_by=self.user, request=request)

    def post(self, request: InvoiceRequest, *, idempotency_key: bool = True) -> None:
        headers = {"Idempotency-Key": f"bench-{self.run}-{request.invoice_number}"} if idempotency_key else {}
        response = self.client.post(
            INVOICES_URL, _body(request), content_type="application/json", headers=headers, secure=True
        )
        _expect(response, 201)

    def get_page(self) -> bytes:
        response = self.client.get(INVOICES_URL, {"page_size": PAGE_SIZE}, secure=True)
        _expect(response, 200)
        return response.content


class BenchUnavailable(Exception):
    """The benchmark cannot run on this database or on this date."""


def _invoicing_bench_run(
    *, submissions: int, lines: int, invoices: int, reads: int, progress: Callable[[str], None]
) -> InvoicingBenchReport:
    # Every line this run may submit, so that their quantities stay within the plan.
    lines_to_submit = 3 * submissions * lines + max(invoices, SMALL_TABLE) * lines + 4 * MANY_LINES
    bench = _Bench(lines_to_submit=lines_to_submit, progress=progress)
    rows: list[BenchRow] = []

    progress("queries of one POST with 1 line and with 20 lines")
    post_queries = {count: _post_queries(bench, lines=count) for count in (FEW_LINES, MANY_LINES)}
    rows += _equal_rows(
        "queries, POST /api/v1/invoices/",
        [
            (f"{count} line{'s' if count > 1 else ''}", post_queries[count])
            for count in (FEW_LINES, MANY_LINES)
        ],
    )

    while Invoice.objects.count() < SMALL_TABLE:
        bench.submit(bench.request(lines))
    small_table = Invoice.objects.count()
    small_get = _get_queries(bench)

    progress(f"throughput: {submissions:,} submissions of {lines} line(s) each way, in {ROUNDS} rounds")
    elapsed = {"service": 0.0, "http": 0.0, "http_no_key": 0.0}
    writes: dict[str, Callable[[InvoiceRequest], None]] = {
        "service": bench.submit,
        "http": bench.post,
        "http_no_key": lambda request: bench.post(request, idempotency_key=False),
    }
    bench.post(bench.request(lines))  # warm the URLconf, the middleware and the connection
    for round_number in range(ROUNDS):
        size = submissions // ROUNDS + (1 if round_number < submissions % ROUNDS else 0)
        for name, write in writes.items():
            _analyze()
            requests = [bench.request(lines) for _ in range(size)]
            started = time.perf_counter()
            for request in requests:
                write(request)
            elapsed[name] += time.perf_counter() - started
    rates = {name: submissions / seconds for name, seconds in elapsed.items()}
    ratio = rates["http"] / rates["service"]
    rows += [
        BenchRow(measure="invoices/s, invoice_submit (the service)", value=rates["service"], unit="inv/s"),
        BenchRow(
            measure="invoices/s, POST /api/v1/invoices/ with Idempotency-Key",
            value=rates["http"],
            unit="inv/s",
        ),
        BenchRow(
            measure="  HTTP / service",
            value=ratio,
            unit="ratio",
            goal=f">= {THROUGHPUT_GOAL}",
            passed=ratio >= THROUGHPUT_GOAL,
        ),
        BenchRow(
            measure="invoices/s, POST /api/v1/invoices/ without Idempotency-Key",
            value=rates["http_no_key"],
            unit="inv/s",
        ),
        BenchRow(
            measure="  HTTP without Idempotency-Key / service",
            value=rates["http_no_key"] / rates["service"],
            unit="ratio",
        ),
    ]

    remaining = invoices - Invoice.objects.count()
    if remaining > 0:
        progress(f"filling the table up to {invoices:,} invoices")
        for _ in range(remaining):
            bench.submit(bench.request(lines))
    large_table = Invoice.objects.count()
    _analyze()
    large_get = _get_queries(bench)
    rows += _equal_rows(
        "queries, GET /api/v1/invoices/",
        [(f"{small_table:,} invoices in the table", small_get), (f"{large_table:,} invoices", large_get)],
    )

    progress(f"timing {reads} reads of the list and of its rows' values")
    api_ms, values_ms, all_values_ms = _list_medians(bench, reads=reads)
    list_ratio = api_ms / values_ms
    all_ratio = api_ms / all_values_ms
    rows += [
        BenchRow(
            measure=f"median GET /api/v1/invoices/?page_size={PAGE_SIZE} (provider key)",
            value=api_ms,
            unit="ms",
        ),
        BenchRow(
            measure=f"median json.dumps of the {PAGE_SIZE} invoices' .values() (1 query)",
            value=values_ms,
            unit="ms",
        ),
        # For information: these rows are a fifth of what the page shows (no lines, funding or history).
        BenchRow(measure="  GET / json.dumps of the invoices' own rows", value=list_ratio, unit="ratio"),
        BenchRow(
            measure="median json.dumps of every row the page shows (4 queries)",
            value=all_values_ms,
            unit="ms",
        ),
        # The goal: the endpoint against the raw values of the same rows it shows, lines and all.
        BenchRow(
            measure="  GET / json.dumps of the same rows",
            value=all_ratio,
            unit="ratio",
            goal=f"<= {LIST_RATIO_GOAL:g}",
            passed=all_ratio <= LIST_RATIO_GOAL,
        ),
    ]
    return InvoicingBenchReport(
        vendor=connection.vendor, database=str(connection.settings_dict["NAME"]), lines=lines, rows=rows
    )


def _analyze() -> None:
    """Bring PostgreSQL's planner statistics up to date, as autovacuum keeps them in production (untimed).

    The throwaway database grows from empty in seconds, faster than autovacuum analyzes it; with the
    statistics of empty tables the planner picks nested loops that make, for one, the invoiced quantities'
    SUM in `invoice_submit` take ~100 times longer by a few hundred invoices."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def _quantity(*, planned: Decimal, lines: int) -> Decimal:
    """A quantity a line that keeps `lines` such lines within 90% of the planned quantity (0.01 to 1.00)."""
    share = (planned * Decimal("0.9") / max(lines, 1)).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    return min(max(share, Decimal("0.01")), Decimal("1.00"))


def _body(request: InvoiceRequest) -> str:
    return json.dumps(
        {
            "invoice_number": request.invoice_number,
            "person": request.person,
            "issued_on": request.issued_on.isoformat(),
            "currency": request.currency,
            "lines": [
                {
                    "support_item": line.support_item,
                    "service_date": line.service_date.isoformat(),
                    "quantity": str(line.quantity),
                    "unit_price": line.unit_price,
                    "amount": line.amount,
                    "description": line.description,
                }
                for line in request.lines
            ],
            "total": request.total,
        }
    )


def _expect(response: Any, status: int) -> None:
    if response.status_code != status:
        raise AssertionError(
            f"{response.request['REQUEST_METHOD']} {response.request['PATH_INFO']} answered "
            f"{response.status_code}, not {status}: {response.content[:2000]!r}"
        )


def _post_queries(bench: _Bench, *, lines: int) -> int:
    """Queries of one POST of `lines` lines, measured on the second of two (the first warms everything up,
    and notes the key's use, which it does at most once a minute)."""
    bench.post(bench.request(lines))
    request = bench.request(lines)
    with CaptureQueriesContext(connection) as queries:
        bench.post(request)
    return len(queries)


def _get_queries(bench: _Bench) -> int:
    """Queries of one GET of the list's first page, measured on the second of two."""
    bench.get_page()
    with CaptureQueriesContext(connection) as queries:
        bench.get_page()
    return len(queries)


def _equal_rows(prefix: str, measured: list[tuple[str, int]]) -> list[BenchRow]:
    (first_label, first), (second_label, second) = measured
    return [
        BenchRow(measure=f"{prefix}, {first_label}", value=first, unit="queries"),
        BenchRow(
            measure=f"{prefix}, {second_label}",
            value=second,
            unit="queries",
            goal="equal",
            passed=second == first,
        ),
    ]


def _list_medians(bench: _Bench, *, reads: int) -> tuple[float, float, float]:
    """Median milliseconds of the list endpoint, of json.dumps of the page's invoices' own values, and of
    json.dumps of the values of every row the page shows (its invoices, lines, funding and history)."""
    ids = list(
        Invoice.objects.filter(provider=bench.provider)
        .order_by("-id")
        .values_list("id", flat=True)[:PAGE_SIZE]
    )

    def values() -> str:
        rows = Invoice.objects.filter(provider=bench.provider).order_by("-id").values()[:PAGE_SIZE]
        return json.dumps(list(rows), cls=DjangoJSONEncoder)

    def all_values() -> str:
        page = list(Invoice.objects.filter(provider=bench.provider).order_by("-id").values()[:PAGE_SIZE])
        page_ids = [row["id"] for row in page]
        shown = {
            "invoices": page,
            "lines": list(InvoiceLine.objects.filter(invoice_id__in=page_ids).values()),
            "funding": list(InvoiceLineFunding.objects.filter(line__invoice_id__in=page_ids).values()),
            "events": list(InvoiceEvent.objects.filter(invoice_id__in=page_ids).values()),
        }
        return json.dumps(shown, cls=DjangoJSONEncoder)

    page = json.loads(bench.get_page())
    if len(page["results"]) != len(ids):
        raise AssertionError(f"The list's first page has {len(page['results'])} invoices, not {len(ids)}.")
    api: list[float] = []
    raw: list[float] = []
    whole: list[float] = []
    for _ in range(min(20, reads)):  # warm caches and connection
        bench.get_page()
        values()
        all_values()
    for _ in range(reads):
        started = time.perf_counter_ns()
        bench.get_page()
        api.append((time.perf_counter_ns() - started) / 1e6)
        started = time.perf_counter_ns()
        values()
        raw.append((time.perf_counter_ns() - started) / 1e6)
        started = time.perf_counter_ns()
        all_values()
        whole.append((time.perf_counter_ns() - started) / 1e6)
    return statistics.median(api), statistics.median(raw), statistics.median(whole)
