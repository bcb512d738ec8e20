"""Statements (api.md, "For finance"): a person's and a funding stream's, live for any period; the statements
issued by month-end runs, kept as they were sent; and the runs themselves.

* `GET /api/v1/people/{per}/statements/?from=&to=`: the person's statement (JSON; `Accept: application/pdf`
  for the tagged PDF). The person, their active representatives, their navigator, finance officers and
  administrators. Agency officers and providers answer 404 even for a person they see elsewhere: an agency
  sees only its own stream's money, through the stream statement.
* `GET /api/v1/streams/{code}/statements/?from=&to=`: the stream's statement (JSON with `people` a page at a
  time, `?cursor=&page_size=`, and `totals` for the whole stream; `Accept: text/csv` for every person's line
  as CSV, streamed batch by batch; `Accept: application/pdf` for the whole-stream PDF). Finance officers
  and administrators, and the officers of the stream's own agency; another agency's stream answers 404,
  exactly as an unknown code.
* Beyond api.md, for finance officers and administrators (everyone else 404):
  `GET|POST /api/v1/statement-runs/` (the runs, newest period first; start the run for a period, by default
  last month: 202, or 200 with the run already started for it), `GET /api/v1/statement-runs/{run}/`
  (progress and the first failures), `POST .../resume/` (send again the statements not yet made) and
  `POST .../retry/` (make the failed ones again), 409 `run_not_resumable` when there is nothing to do.
* Issued statements: `GET /api/v1/people/{per}/statements/issued/`, `GET /api/v1/streams/{code}/statements/
  issued/` (lists) and `GET /api/v1/statements/{stm}/` (the figures as issued and the PDF's SHA-256;
  `Accept: application/pdf` for the PDF exactly as issued, with `ETag` and `X-Content-SHA256`). Who sees an
  issued statement is who sees the live one of the same person or stream.

`from` and `to` are dates, YYYY-MM-DD, both inclusive (the month containing today when both are left out;
with only one, the other is the end or the start of its month); a bad one, an end before the start or more
than 366 days is 400 `invalid_period` pointing at `/from` or `/to` (`statements.period`). A run's period must
have ended (422 `period_not_ended`): what it issues is kept for good. An `Accept` this cannot answer is 406.
Errors are problem details, whatever was asked for. Statements are personal and change as money moves:
every answer is `Cache-Control: private, no-store`, except an issued PDF, which never changes (`private,
no-cache` with its `ETag`, so a client may keep it and ask again with `If-None-Match`).
"""

import base64
import binascii
import datetime
import re
from collections.abc import Iterator
from typing import Any

from django.http import HttpResponse, HttpResponseBase, HttpResponseNotModified, StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.http import parse_etags, quote_etag
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_field,
)
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotAcceptable, NotFound
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from api.cash_equivalents import CashEquivalentProblemSerializer
from api.pagination import CursorPagination
from api.plans import _visible_person
from api.problems import PROBLEM_CONTENT_TYPE
from budgets.models import FundingStream
from budgets.selectors import catalogue as catalogue_selectors
from ledger.errors import DomainError
from people.models import BudgetHolder, Role
from statements import selectors, services
from statements.access import sees_stream_statement
from statements.formats import agency_csv_rows, person_statement_json
from statements.models import IssuedStatement, RunStatus, StatementKind, StatementRun
from statements.period import Period, period_from_text, previous_month

PEOPLE_PAGE_SIZE = 50
PEOPLE_MAX_PAGE_SIZE = 200
CSV_BATCH = 500  # people read at a time for the CSV (read when the request comes, so tests may lower it)
FAILURES_SHOWN = 50
SHA256_HEADER = "X-Content-SHA256"

PDF = "application/pdf"
CSV = "text/csv"
_JSON = "application/json"
_P = PROBLEM_CONTENT_TYPE
_STATEMENT_STAFF = frozenset({Role.FINANCE_OFFICER, Role.ADMINISTRATOR})
# An agency sees only its own stream's money, and a provider none of a person's: not a person's statement.
_NOT_FOR_PERSON_STATEMENTS = frozenset({Role.AGENCY_OFFICER, Role.PROVIDER_USER})


class PeriodNotEnded(DomainError):
    """A run issues statements that are kept for good, so only for a period that is over."""

    code = "period_not_ended"
    message = "A statement run is only for a period that has ended."


# Renderers: the formats a statement comes in ----------------------------------------------------------


class _DocumentRenderer(BaseRenderer):
    """Chooses the format in content negotiation; the views make the document themselves. What it renders
    is an error's problem details, which go out as JSON (the exception handler sets their content type)."""

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        if isinstance(data, bytes):
            return data
        return JSONRenderer().render(data, _JSON, renderer_context)


class PdfRenderer(_DocumentRenderer):
    media_type = PDF
    format = "pdf"
    charset = None
    render_style = "binary"


class CsvRenderer(_DocumentRenderer):
    media_type = CSV
    format = "csv"
    charset = "utf-8"


class _Private:
    """Statements are personal and change as money moves: no cache keeps an answer unless it says so."""

    def finalize_response(self, request: Request, response: HttpResponseBase, *args: Any, **kwargs: Any):
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        if not response.has_header("Cache-Control"):
            patch_cache_control(response, private=True, no_store=True)
        return response


class _StatementView(_Private, APIView):
    """Says which formats it answers when the Accept header asks for none of them."""

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        try:
            return super().perform_content_negotiation(request, force=force)
        except NotAcceptable:
            formats = ", ".join(renderer.media_type for renderer in self.get_renderers())
            raise NotAcceptable(
                f"This answers {formats}: ask for one of them in the Accept header (or send none for JSON)."
            ) from None


def _wants(request: Request, media_type: str) -> bool:
    return getattr(request, "accepted_media_type", "").split(";")[0].strip() == media_type


def _attachment(response: HttpResponseBase, filename: str) -> HttpResponseBase:
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# Who sees what ----------------------------------------------------------------------------------------


def _role(user: Any) -> str | None:
    return getattr(user, "role", None)


def _statement_person(user: Any, per: str) -> BudgetHolder:
    """The person `per` if the caller may see their statements; 404 (as for nobody) otherwise."""
    if _role(user) in _NOT_FOR_PERSON_STATEMENTS:
        raise NotFound()
    return _visible_person(user, per)


def _sees_stream(user: Any, stream: FundingStream) -> bool:
    return sees_stream_statement(user, stream)


def _statement_stream(user: Any, code: str) -> FundingStream:
    """The stream `code` if the caller may see its statements; 404 (as for an unknown code) otherwise."""
    try:
        stream = catalogue_selectors.stream_get(code=code)
    except catalogue_selectors.UnknownStream:
        raise NotFound() from None
    if not _sees_stream(user, stream):
        raise NotFound()
    return stream


def _require_statement_staff(user: Any) -> None:
    """Runs are finance's: anyone else is answered as if there were nothing here."""
    if _role(user) not in _STATEMENT_STAFF:
        raise NotFound()


def _visible_issued(user: Any, stm: str) -> IssuedStatement:
    try:
        issued = selectors.issued_get(public_id=stm)
    except selectors.IssuedStatementNotFound:
        raise NotFound() from None
    if issued.kind == StatementKind.PERSON:
        _statement_person(user, issued.budget_holder.public_id)
    elif not _sees_stream(user, issued.stream):
        raise NotFound()
    return issued


def _period(request: Request) -> Period:
    return period_from_text(
        request.query_params.get("from"), request.query_params.get("to"), today=timezone.localdate()
    )


def _slug(period: Period) -> str:
    return f"{period.starts_on.isoformat()}-{period.ends_on.isoformat()}"


# Documents' shapes (statements.formats writes them; these serializers document them) -------------------


@extend_schema_field({"type": "string", "example": "85.75"})
class MoneyField(serializers.CharField):
    """Money as a decimal string with the currency's decimals."""


class _LabelledAmountSerializer(serializers.Serializer):
    amount = MoneyField()


class ProviderAmountSerializer(_LabelledAmountSerializer):
    provider = serializers.CharField(help_text='The provider paid, or "Other spending".')


class OutcomeAmountSerializer(_LabelledAmountSerializer):
    outcome = serializers.CharField(help_text="The outcome in the person's own words.")


class CategoryAmountSerializer(_LabelledAmountSerializer):
    category = serializers.CharField(help_text="The spending category of the service paid for.")


class PersonStatementStreamSerializer(serializers.Serializer):
    stream = serializers.CharField(help_text="The stream's code.")
    name = serializers.CharField()
    opening_balance = MoneyField(help_text="Held at the start of the period.")
    money_in = MoneyField(help_text="instalments + budget_changes + other_money_in.")
    instalments = MoneyField()
    budget_changes = MoneyField(help_text="Signed: a budget change down takes money back.")
    other_money_in = MoneyField()
    money_out = MoneyField()
    reclaimed = MoneyField(help_text="Surplus reclaimed by the agency (not spending).")
    closing_balance = MoneyField(help_text="opening_balance + money_in - money_out - reclaimed.")
    reserved = MoneyField(help_text="Approved invoices not yet paid, at the period end.")
    available = MoneyField(help_text="closing_balance - reserved.")
    personal_budget = serializers.CharField(allow_null=True, help_text="The budget in force then (pb_...).")
    allocated = MoneyField(allow_null=True, help_text="That budget for its whole budget period.")
    weekly_equivalent = MoneyField(allow_null=True)
    weeks_held = serializers.CharField(allow_null=True, help_text="available / weekly_equivalent, 1 decimal.")
    surplus_threshold_weeks = serializers.CharField(allow_null=True)
    surplus = MoneyField(help_text="available above the stream's surplus threshold.")


class SpendingLineSerializer(serializers.Serializer):
    date = serializers.DateField(help_text="The day the money was paid (or set aside).")
    stream = serializers.CharField()
    provider = serializers.CharField(allow_null=True)
    invoice_number = serializers.CharField(allow_null=True)
    service_date = serializers.DateField(allow_null=True)
    description = serializers.CharField()
    category = serializers.CharField(allow_null=True)
    outcomes = serializers.ListField(child=serializers.CharField(), help_text="In the person's own words.")
    amount = MoneyField()


class SupportItemLeftSerializer(serializers.Serializer):
    description = serializers.CharField()
    stream = serializers.CharField(help_text="The stream's name.")
    planned = MoneyField()
    spent = MoneyField()
    left = MoneyField()


class WaitingInvoiceSerializer(serializers.Serializer):
    invoice_number = serializers.CharField()
    provider = serializers.CharField()
    total = MoneyField()
    submitted_on = serializers.DateField()
    status = serializers.CharField(help_text="Its state at the period end, in plain English.")


class PersonStatementSerializer(serializers.Serializer):
    """A person's statement: every figure from the ledger, to the penny (`statements.person`)."""

    person = serializers.CharField(help_text="per_...")
    name = serializers.CharField()
    vars()["from"] = serializers.DateField(help_text="The period's first day.")  # `from` is a keyword
    to = serializers.DateField(help_text="The period's last day (inclusive).")
    currency = serializers.CharField()
    opening_balance = MoneyField()
    money_in = MoneyField()
    money_out = MoneyField()
    reclaimed = MoneyField(help_text="Surplus reclaimed by the agency (not spending).")
    closing_balance = MoneyField()
    reserved = MoneyField()
    available = MoneyField()
    streams = PersonStatementStreamSerializer(many=True)
    money_out_by_provider = ProviderAmountSerializer(many=True)
    money_out_by_outcome = OutcomeAmountSerializer(many=True)
    money_out_lines = SpendingLineSerializer(many=True)
    reserved_lines = SpendingLineSerializer(many=True)
    support_items = SupportItemLeftSerializer(many=True, help_text="What is left on each, at the period end.")
    invoices_waiting = WaitingInvoiceSerializer(
        many=True, help_text="Waiting for a decision at the period end."
    )


class AgencyTotalsSerializer(serializers.Serializer):
    people = serializers.IntegerField(help_text="How many people the stream funds in the period.")
    allocated = MoneyField()
    opening_balance = MoneyField()
    money_in = MoneyField()
    received = MoneyField(help_text="Instalments the agency paid in the period.")
    spent = MoneyField()
    reclaimed = MoneyField(help_text="Surplus reclaimed by the agency (not spending).")
    reserved = MoneyField()
    closing_balance = MoneyField()
    available = MoneyField()
    surplus_reclaimable = MoneyField()
    spent_by_category = CategoryAmountSerializer(many=True)


class AgencyLineSerializer(serializers.Serializer):
    person = serializers.CharField(help_text="per_...")
    name = serializers.CharField()
    personal_budget = serializers.CharField(allow_null=True, help_text="In force at the period end (pb_...).")
    allocated = MoneyField()
    opening_balance = MoneyField()
    money_in = MoneyField()
    received = MoneyField()
    spent = MoneyField()
    reclaimed = MoneyField(help_text="Surplus reclaimed by the agency (not spending).")
    reserved = MoneyField()
    closing_balance = MoneyField()
    available = MoneyField()
    weeks_held = serializers.CharField(allow_null=True)
    surplus_reclaimable = MoneyField()
    spent_by_category = CategoryAmountSerializer(many=True)
    spent_by_outcome = OutcomeAmountSerializer(many=True)


class AgencyStatementSerializer(serializers.Serializer):
    """A stream's statement: a line per person it funds, by person id, and the totals of them all."""

    stream = serializers.CharField()
    name = serializers.CharField()
    vars()["from"] = serializers.DateField()
    to = serializers.DateField()
    currency = serializers.CharField()
    totals = AgencyTotalsSerializer(help_text="For the whole stream, not only this page.")
    people = AgencyLineSerializer(many=True)


class AgencyStatementPageSerializer(AgencyStatementSerializer):
    next = serializers.URLField(allow_null=True, help_text="The next page of people, or null.")
    previous = serializers.URLField(allow_null=True, help_text="The previous page of people, or null.")


# Issued statements and runs ---------------------------------------------------------------------------


class IssuedStatementSummarySerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id", help_text="stm_...")
    kind = serializers.ChoiceField(choices=StatementKind.choices)
    person = serializers.SerializerMethodField(help_text="A person's statement: whose (per_...).")
    stream = serializers.SerializerMethodField(help_text="An agency statement: the stream's code.")
    vars()["from"] = serializers.DateField(source="starts_on")
    to = serializers.DateField(source="ends_on")
    pages = serializers.IntegerField(help_text="Pages of the PDF.")
    sha256 = serializers.CharField(help_text="The SHA-256 of the PDF as issued, in hex.")
    issued_at = serializers.DateTimeField(default_timezone=datetime.UTC)
    run = serializers.SerializerMethodField(help_text="The run that issued it (run_...), or null.")
    url = serializers.SerializerMethodField(help_text="The statement: JSON, or the PDF with Accept.")

    def get_person(self, issued: IssuedStatement) -> str | None:
        return issued.budget_holder.public_id if issued.budget_holder_id else None

    def get_stream(self, issued: IssuedStatement) -> str | None:
        return issued.stream.code if issued.stream_id else None

    def get_run(self, issued: IssuedStatement) -> str | None:
        return issued.run.public_id if issued.run_id else None

    def get_url(self, issued: IssuedStatement) -> str:
        path = reverse("api:statement-detail", kwargs={"stm": issued.public_id})
        return self.context["request"].build_absolute_uri(path)


class IssuedStatementSerializer(IssuedStatementSummarySerializer):
    figures = serializers.SerializerMethodField(help_text="The statement's JSON, exactly as issued.")

    @extend_schema_field(
        PolymorphicProxySerializer(
            component_name="IssuedStatementFigures",
            serializers=[PersonStatementSerializer, AgencyStatementSerializer],
            resource_type_field_name=None,
        )
    )
    def get_figures(self, issued: IssuedStatement) -> dict[str, Any]:
        return issued.figures


class StatementRunSerializer(serializers.Serializer):
    """A run and how far it has got (from `statements.selectors.RunProgress`)."""

    id = serializers.CharField(source="run.public_id", help_text="run_...")
    vars()["from"] = serializers.DateField(source="run.starts_on")
    to = serializers.DateField(source="run.ends_on")
    status = serializers.ChoiceField(source="run.status", choices=RunStatus.choices)
    total = serializers.IntegerField(help_text="Statements in the run: a person's each, a stream's each.")
    done = serializers.IntegerField()
    failed = serializers.IntegerField()
    pending = serializers.IntegerField(help_text="Not made yet.")
    percent = serializers.IntegerField(help_text="(done + failed) / total, in whole percent.")
    created_at = serializers.DateTimeField(source="run.created_at", default_timezone=datetime.UTC)
    finished_at = serializers.DateTimeField(
        source="run.finished_at", default_timezone=datetime.UTC, allow_null=True
    )
    url = serializers.SerializerMethodField()

    def get_url(self, progress: selectors.RunProgress) -> str:
        return self.context["request"].build_absolute_uri(_run_path(progress.run))


class StatementRunFailureSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=StatementKind.choices)
    person = serializers.SerializerMethodField(help_text="A person's statement: whose (per_...).")
    stream = serializers.SerializerMethodField(help_text="An agency statement: the stream's code.")
    error = serializers.CharField(help_text="Why it failed, as the worker recorded it.")
    attempts = serializers.IntegerField()
    updated_at = serializers.DateTimeField(default_timezone=datetime.UTC)

    def get_person(self, item: Any) -> str | None:
        return item.budget_holder.public_id if item.budget_holder_id else None

    def get_stream(self, item: Any) -> str | None:
        return item.stream.code if item.stream_id else None


class StatementRunDetailSerializer(StatementRunSerializer):
    failures = serializers.SerializerMethodField(
        help_text=f"The first {FAILURES_SHOWN} statements that failed, with why."
    )

    @extend_schema_field(StatementRunFailureSerializer(many=True))
    def get_failures(self, progress: selectors.RunProgress) -> list[dict[str, Any]]:
        if not progress.failed:
            return []
        items = selectors.run_failures(run=progress.run)[:FAILURES_SHOWN]
        return StatementRunFailureSerializer(items, many=True).data


@extend_schema_field(OpenApiTypes.DATE)
class PeriodDateField(serializers.CharField):
    """A YYYY-MM-DD date, read by `statements.period` (so a bad one is `invalid_period`, pointing at it)."""


class StatementRunInputSerializer(serializers.Serializer):
    vars()["from"] = PeriodDateField(
        required=False, allow_blank=True, help_text="The period's first day; last month's when left out."
    )
    to = PeriodDateField(
        required=False,
        allow_blank=True,
        help_text="The period's last day; the end of from's month if left out.",
    )


def _run_path(run: StatementRun) -> str:
    return reverse("api:statement-run-detail", kwargs={"run": run.public_id})


# Schema pieces ----------------------------------------------------------------------------------------


def _problem(description: str) -> OpenApiResponse:
    return OpenApiResponse(response=CashEquivalentProblemSerializer, description=description)


_PERSON = OpenApiParameter("per", OpenApiTypes.STR, OpenApiParameter.PATH, description="A person (per_...).")
_STREAM = OpenApiParameter(
    "code", OpenApiTypes.STR, OpenApiParameter.PATH, description="A funding stream's code (ASC)."
)
_STATEMENT = OpenApiParameter(
    "stm", OpenApiTypes.STR, OpenApiParameter.PATH, description="An issued statement (stm_...)."
)
_RUN = OpenApiParameter(
    "run", OpenApiTypes.STR, OpenApiParameter.PATH, description="A statement run (run_...)."
)
_PERIOD = [
    OpenApiParameter(
        "from",
        OpenApiTypes.DATE,
        description="The period's first day, YYYY-MM-DD (inclusive). With `to` left out too: this month.",
    ),
    OpenApiParameter(
        "to",
        OpenApiTypes.DATE,
        description="The period's last day, YYYY-MM-DD (inclusive); at most 366 days after `from`.",
    ),
]
_PAGE = [
    OpenApiParameter("cursor", OpenApiTypes.STR, description="A page of people: from `next` or `previous`."),
    OpenApiParameter(
        "page_size",
        OpenApiTypes.INT,
        description=f"People per page, {PEOPLE_PAGE_SIZE} unless asked, at most {PEOPLE_MAX_PAGE_SIZE}.",
    ),
]
_READ = {
    (401, _P): _problem("No or bad credentials."),
    (404, _P): _problem("Not found, or not yours to see."),
}
_DOCUMENT = {
    **_READ,
    (400, _P): _problem("A bad period: invalid_period, pointing at /from or /to."),
    (406, _P): _problem("The Accept header asks for a format this does not answer."),
}
_LIST = {**_READ, (404, _P): _problem("Not yours to see, or a cursor this list did not give.")}
_RUN_WRITE = {
    **_READ,
    (404, _P): _problem("No such run, or runs are not yours (finance officers and administrators only)."),
    (409, _P): _problem("run_not_resumable: nothing waiting (resume) or nothing failed (retry)."),
}


# Person's statement -----------------------------------------------------------------------------------


class PersonStatementView(_StatementView):
    """A person's statement for a period: JSON, or the tagged PDF (Accept: application/pdf)."""

    renderer_classes = [JSONRenderer, PdfRenderer]

    @extend_schema(
        operation_id="people_statements_retrieve",
        parameters=[_PERSON, *_PERIOD],
        responses={
            (200, _JSON): PersonStatementSerializer,
            (200, PDF): OpenApiResponse(OpenApiTypes.BINARY, description="The tagged PDF (PDF/UA-1)."),
            **_DOCUMENT,
        },
    )
    def get(self, request: Request, per: str) -> HttpResponseBase:
        holder = _statement_person(request.user, per)
        period = _period(request)
        statement = selectors.person_statement(budget_holder=holder, period=period)
        if _wants(request, PDF):
            pdf = selectors.person_pdf(statement)
            response = HttpResponse(pdf.content, content_type=PDF)
            return _attachment(response, f"statement-{holder.public_id}-{_slug(period)}.pdf")
        return Response(person_statement_json(statement))


# Stream's statement -----------------------------------------------------------------------------------


_CURSOR = re.compile(r"[np]:per_[0-9a-z]{1,40}")


def _encode_cursor(direction: str, public_id: str) -> str:
    return base64.urlsafe_b64encode(f"{direction}:{public_id}".encode()).decode().rstrip("=")


def _decode_cursor(text: str) -> tuple[str, str]:
    """(direction, public id) from a cursor this list gave: "n" for the people after the id, "p" before it.
    Anything else is 404, as DRF's cursor pagination answers for the API's other lists."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise NotFound("Invalid cursor.") from None
    if not _CURSOR.fullmatch(raw):
        raise NotFound("Invalid cursor.")
    direction, _, public_id = raw.partition(":")
    return direction, public_id


def _page_size(request: Request) -> int:
    """`page_size` as the API's other lists read it: the default unless a positive whole number, at most
    the maximum."""
    try:
        size = int(request.query_params.get("page_size", ""))
    except ValueError:
        return PEOPLE_PAGE_SIZE
    return min(size, PEOPLE_MAX_PAGE_SIZE) if size > 0 else PEOPLE_PAGE_SIZE


def _people_page(
    request: Request, *, stream: FundingStream, period: Period
) -> tuple[list[BudgetHolder], str | None, str | None]:
    """A page of the stream's people (keyset on public id, one query) and the URLs of the pages beside it."""
    size = _page_size(request)
    cursor = request.query_params.get("cursor")
    direction, position = _decode_cursor(cursor) if cursor else ("n", "")
    people = selectors.funded_people(stream=stream, period=period)
    if direction == "p":
        rows = list(people.filter(public_id__lt=position).order_by("-public_id")[: size + 1])
        has_previous, has_next = len(rows) > size, True
        rows = rows[:size][::-1]
    else:
        rows = list(people.filter(public_id__gt=position)[: size + 1] if position else people[: size + 1])
        has_previous, has_next = bool(position), len(rows) > size
        rows = rows[:size]
    if not rows:
        return rows, None, None
    here = request.build_absolute_uri()

    def link(direction: str, public_id: str) -> str:
        return replace_query_param(here, "cursor", _encode_cursor(direction, public_id))

    return (
        rows,
        link("n", rows[-1].public_id) if has_next else None,
        link("p", rows[0].public_id) if has_previous else None,
    )


class StreamStatementView(_StatementView):
    """A stream's statement: JSON (people a page at a time, totals for all), CSV or PDF (every person)."""

    renderer_classes = [JSONRenderer, CsvRenderer, PdfRenderer]

    @extend_schema(
        operation_id="streams_statements_retrieve",
        parameters=[_STREAM, *_PERIOD, *_PAGE],
        responses={
            (200, _JSON): AgencyStatementPageSerializer,
            (200, CSV): OpenApiResponse(
                OpenApiTypes.STR,
                description="Every person's line, the columns of statements.formats.CSV_COLUMNS (RFC 4180).",
            ),
            (200, PDF): OpenApiResponse(OpenApiTypes.BINARY, description="The whole stream's tagged PDF."),
            **_DOCUMENT,
            (404, _P): _problem("Not found, not yours to see, or a cursor this list did not give."),
        },
    )
    def get(self, request: Request, code: str) -> HttpResponseBase:
        stream = _statement_stream(request.user, code)
        period = _period(request)
        filename = f"{stream.code}-statement-{_slug(period)}"
        if _wants(request, CSV):
            response = StreamingHttpResponse(_csv(stream, period), content_type=f"{CSV}; charset=utf-8")
            return _attachment(response, f"{filename}.csv")
        if _wants(request, PDF):
            totals = selectors.agency_totals(stream=stream, period=period)
            lines = selectors.agency_all_lines(stream=stream, period=period)
            pdf = selectors.agency_pdf(stream=stream, period=period, totals=totals, lines=lines)
            return _attachment(HttpResponse(pdf.content, content_type=PDF), f"{filename}.pdf")
        people, next_url, previous_url = _people_page(request, stream=stream, period=period)
        totals = selectors.agency_totals(stream=stream, period=period)
        lines = selectors.agency_lines(stream=stream, period=period, people=people)
        body = selectors.agency_json(stream=stream, period=period, totals=totals, lines=lines)
        return Response({**body, "next": next_url, "previous": previous_url})


def _csv(stream: FundingStream, period: Period) -> Iterator[bytes]:
    """The CSV as UTF-8 chunks, a batch of people at a time (nothing held but one batch)."""

    def lines() -> Iterator[Any]:
        for batch in selectors.people_batches(stream=stream, period=period, size=CSV_BATCH):
            yield from selectors.agency_lines(stream=stream, period=period, people=batch)

    for chunk in agency_csv_rows(
        stream_code=stream.code,
        period_from=period.starts_on.isoformat(),
        period_to=period.ends_on.isoformat(),
        currency=stream.currency,
        lines=lines(),
    ):
        yield chunk.encode("utf-8")


# Issued statements ------------------------------------------------------------------------------------


class IssuedPagination(CursorPagination):
    ordering = ("-ends_on", "-id")


class PersonIssuedStatementListView(_Private, generics.ListAPIView):
    """The person's issued statements, newest period first."""

    serializer_class = IssuedStatementSummarySerializer
    pagination_class = IssuedPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator, which has no person
            return IssuedStatement.objects.none()
        holder = _statement_person(self.request.user, self.kwargs["per"])
        return selectors.issued_for_person(budget_holder=holder)

    @extend_schema(
        operation_id="people_statements_issued_list",
        parameters=[_PERSON],
        responses={200: IssuedStatementSummarySerializer(many=True), **_LIST},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class StreamIssuedStatementListView(_Private, generics.ListAPIView):
    """The stream's issued agency statements, newest period first."""

    serializer_class = IssuedStatementSummarySerializer
    pagination_class = IssuedPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator, which has no stream
            return IssuedStatement.objects.none()
        stream = _statement_stream(self.request.user, self.kwargs["code"])
        return selectors.issued_for_stream(stream=stream)

    @extend_schema(
        operation_id="streams_statements_issued_list",
        parameters=[_STREAM],
        responses={200: IssuedStatementSummarySerializer(many=True), **_LIST},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class IssuedStatementView(_StatementView):
    """A statement as it was issued: its figures (JSON), or its PDF byte for byte (Accept: PDF)."""

    renderer_classes = [JSONRenderer, PdfRenderer]

    @extend_schema(
        operation_id="statements_retrieve",
        parameters=[
            _STATEMENT,
            OpenApiParameter(
                "If-None-Match",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                description="The PDF's ETag from before: 304 if it is the same PDF (it always is).",
            ),
        ],
        responses={
            (200, _JSON): IssuedStatementSerializer,
            (200, PDF): OpenApiResponse(
                OpenApiTypes.BINARY,
                description=f"The PDF as issued; ETag and {SHA256_HEADER} (hex) are its SHA-256.",
            ),
            (304, PDF): OpenApiResponse(description="The PDF the If-None-Match names: unchanged."),
            **_READ,
            (406, _P): _problem("The Accept header asks for a format this does not answer."),
        },
    )
    def get(self, request: Request, stm: str) -> HttpResponseBase:
        issued = _visible_issued(request.user, stm)
        if not _wants(request, PDF):
            return Response(IssuedStatementSerializer(issued, context={"request": request}).data)
        etag = quote_etag(issued.sha256)
        if _matches(request.headers.get("If-None-Match", ""), etag):
            response: HttpResponseBase = HttpResponseNotModified()
        else:
            response = HttpResponse(bytes(issued.pdf), content_type=PDF)
            response[SHA256_HEADER] = issued.sha256
            response["Repr-Digest"] = f"sha-256=:{base64.b64encode(bytes.fromhex(issued.sha256)).decode()}:"
            subject = issued.budget_holder.public_id if issued.budget_holder_id else issued.stream.code
            name = f"statement-{subject}" if issued.budget_holder_id else f"{subject}-statement"
            period = Period(issued.starts_on, issued.ends_on)
            _attachment(response, f"{name}-{_slug(period)}.pdf")
        response["ETag"] = etag
        patch_cache_control(response, private=True, no_cache=True)
        return response


def _matches(if_none_match: str, etag: str) -> bool:
    """Whether an If-None-Match header names this ETag (or any, `*`)."""
    tags = {tag.removeprefix("W/") for tag in parse_etags(if_none_match)}  # weak comparison, RFC 9110
    return "*" in tags or etag in tags


# Statement runs ---------------------------------------------------------------------------------------


class RunPagination(CursorPagination):
    ordering = ("-starts_on", "-id")


def _run_response(request: Request, run: StatementRun, *, status_code: int = status.HTTP_200_OK, **headers):
    """The run as it now stands (read again: eagerly run tasks may have finished it already)."""
    run.refresh_from_db()
    progress = selectors.run_progress(run=run)
    body = StatementRunDetailSerializer(progress, context={"request": request}).data
    return Response(body, status=status_code, headers=headers or None)


class StatementRunListView(_Private, generics.ListAPIView):
    """The statement runs, newest period first; POST starts the run for a period (by default last month)."""

    serializer_class = StatementRunSerializer
    pagination_class = RunPagination

    def get_queryset(self):
        return selectors.run_list()

    @extend_schema(
        operation_id="statement_runs_list",
        responses={200: StatementRunSerializer(many=True), **_LIST},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        _require_statement_staff(request.user)
        page = self.paginate_queryset(self.get_queryset())
        progress = selectors.runs_progress(runs=list(page))
        return self.get_paginated_response(
            StatementRunSerializer(progress, many=True, context={"request": request}).data
        )

    @extend_schema(
        operation_id="statement_runs_create",
        request=StatementRunInputSerializer,
        responses={
            202: OpenApiResponse(
                StatementRunDetailSerializer, description="Started: its statements are queued."
            ),
            200: OpenApiResponse(StatementRunDetailSerializer, description="The run already started for it."),
            (400, _P): _problem("A bad period: invalid_period, pointing at /from or /to."),
            **_READ,
            (404, _P): _problem("Runs are finance officers' and administrators' only."),
            (422, _P): _problem("period_not_ended: a run is for a period that is over."),
        },
    )
    def post(self, request: Request) -> Response:
        _require_statement_staff(request.user)
        body = StatementRunInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        from_text, to_text = body.validated_data.get("from"), body.validated_data.get("to")
        today = timezone.localdate()
        if from_text or to_text:
            period = period_from_text(from_text, to_text, today=today)
        else:
            period = previous_month(today)
        if period.ends_on >= today:
            raise PeriodNotEnded(
                f"The period ends on {period.ends_on.isoformat()}, which is not over yet, and what a run "
                "issues is kept for good. Start the run once it has ended (for last month, leave out from "
                "and to)."
            )
        run, started = services.statement_run_start(period=period, by=request.user)
        if not started:
            return _run_response(request, run)
        url = request.build_absolute_uri(_run_path(run))
        return _run_response(request, run, status_code=status.HTTP_202_ACCEPTED, Location=url)


class StatementRunView(_StatementView):
    """A run's progress, and the first of its statements that failed, with why."""

    @extend_schema(
        operation_id="statement_runs_retrieve",
        parameters=[_RUN],
        responses={200: StatementRunDetailSerializer, **_READ},
    )
    def get(self, request: Request, run: str) -> Response:
        return _run_response(request, _statement_run(request.user, run))


def _statement_run(user: Any, public_id: str) -> StatementRun:
    _require_statement_staff(user)
    try:
        return selectors.run_get(public_id=public_id)
    except selectors.StatementRunNotFound:
        raise NotFound() from None


class StatementRunResumeView(_StatementView):
    """Send again the run's statements not yet made (after a crash or a lost worker)."""

    @extend_schema(
        operation_id="statement_runs_resume",
        parameters=[_RUN],
        request=None,
        responses={202: StatementRunDetailSerializer, **_RUN_WRITE},
    )
    def post(self, request: Request, run: str) -> Response:
        found = _statement_run(request.user, run)
        services.statement_run_resume(run=found, by=request.user)
        return _run_response(request, found, status_code=status.HTTP_202_ACCEPTED)


class StatementRunRetryView(_StatementView):
    """Make the run's failed statements again; the ones already made are not made twice."""

    @extend_schema(
        operation_id="statement_runs_retry",
        parameters=[_RUN],
        request=None,
        responses={202: StatementRunDetailSerializer, **_RUN_WRITE},
    )
    def post(self, request: Request, run: str) -> Response:
        found = _statement_run(request.user, run)
        services.statement_run_retry(run=found, by=request.user)
        return _run_response(request, found, status_code=status.HTTP_202_ACCEPTED)
