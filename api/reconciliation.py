"""Reconciliation (api.md, "For finance": "Reconciliation"): the bank and Stripe accounts Purse reconciles,
their statement imports and lines, matching lines to ledger transactions, the report and reconciled periods.

* `GET /api/v1/reconciliation/accounts/`: the accounts (`id`, `name`, `kind`: `bank` or `stripe`,
  `currency`, `identifier`, the saved CSV mapping). Made on first use (`reconciliation_accounts_ensure`).
  `PUT .../accounts/{id}/csv-mapping/` saves the bank's CSV column mapping (a `CsvMapping` as JSON): a
  mapping of the wrong types is 400, one that cannot be used 422 `invalid_csv_mapping` saying why.
* `POST /api/v1/reconciliation/imports/` (multipart: `account`, `file`, optional `format` and `csv_mapping`,
  a JSON object as text): imports and matches a statement file (`payments.reconciliation.statement_import`).
  201 with the import and its counts (`status` `processing` for a large file, matched on the workers, with
  `lines_checked` as progress). The same file again is 409 `duplicate_import` naming the first import
  (`first_import`); a malformed file, or one whose balances do not add up, is 422 `invalid_statement_file`
  with each problem's `line` (`more` counts those beyond the ones listed). Nothing is imported on any error.
* `GET .../imports/` (newest first), `GET .../imports/{id}/`, `GET .../imports/{id}/lines/?state=`: each line
  with its `match` (what it matched and why) and its `suggestions`, a fixed number of queries a page.
* `GET .../lines/{id}/` (with every match it ever had), `POST .../lines/{id}/match/`
  `{"ledger_items": ["txn_..."], "note": ""}` (to transactions adding up exactly to it), `POST
  .../lines/{id}/unmatch/`, `POST .../matches/{id}/confirm/` and `.../reject/` (a suggestion): each answers
  200 with the line as it now stands; a line already matched, or a suggestion already decided, is 409
  `match_conflict`; ledger items that do not add up, or that are not the account's, 422 `invalid_match`.
* `GET .../accounts/{id}/report/?start=&end=`: the reconciliation report's figures (money as strings);
  `GET`/`POST .../accounts/{id}/periods/` `{"period_start", "period_end", "note"}`: the reconciled periods,
  and marking one reconciled (409 `period_not_reconcilable` saying why not).

Who: finance officers and administrators (`payments.reconciliation.may_reconcile`). Everyone else (budget
holders, representatives, navigators, agency officers, providers' people and API keys) is answered 404 on
every one of these, as for an id that does not exist; no credentials is 401. Malformed input (missing
fields, wrong types) is 400; a broken rule 422, each problem with its pointer. Every POST honours
`Idempotency-Key`; every answer is `Cache-Control: private, no-store`: bank statements are private.
"""

import codecs
import datetime
import json
import re
from typing import Any

from django.db.models import Max, QuerySet
from django.http import HttpResponseBase
from django.urls import reverse
from django.utils.cache import patch_cache_control
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.cash_equivalents import CashEquivalentProblemSerializer
from api.pagination import CursorPagination
from api.problems import PROBLEM_CONTENT_TYPE, problem
from ledger.errors import DomainError, DomainErrors
from ledger.money import money_format
from ledger.reconciliation import selectors, statement_files
from ledger.reconciliation import services as reconciliation_services
from ledger.reconciliation.models import (
    ImportStatus,
    LineState,
    MatchHow,
    MatchStatus,
    ReconciledPeriod,
    ReconciliationAccount,
    ReconciliationAccountKind,
    ReconciliationMatch,
    StatementImport,
    StatementLine,
)
from ledger.reconciliation.statement_files import FORMATS, InvalidCsvMapping, StatementFileInvalid
from payments import reconciliation as services

_P = PROBLEM_CONTENT_TYPE
NOTE_MAX_LENGTH = 2000  # what the services keep of a note
LEDGER_ITEMS_MAX = 500  # as ledger.reconciliation.services.ledger_items_for
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# Periods are of these years: no statement is older, and the report reads the day before a period's start.
EARLIEST = datetime.date(1900, 1, 1)
LATEST = datetime.date(2999, 12, 31)


def _in_range(day: datetime.date) -> str | None:
    """Why `day` cannot be a period's day, or None."""
    if EARLIEST <= day <= LATEST:
        return None
    first, last = EARLIEST.isoformat(), LATEST.isoformat()
    return f"A period's days are from {first} to {last}; {day.isoformat()} is not."


# Who sees what ------------------------------------------------------------------------------------------


def _require_reconciler(user: Any) -> None:
    """Reconciliation is finance's: anyone else is answered as if there were nothing here (404, not 403)."""
    if not services.may_reconcile(user):
        raise NotFound()


def _account(user: Any, public_id: str) -> ReconciliationAccount:
    _require_reconciler(user)
    return selectors.reconciliation_account_get(public_id=public_id)


def _import(user: Any, public_id: str) -> StatementImport:
    _require_reconciler(user)
    return selectors.statement_import_get(public_id=public_id)


def _line(user: Any, public_id: str) -> StatementLine:
    _require_reconciler(user)
    return selectors.statement_line_get(public_id=public_id)


def _match(user: Any, public_id: str) -> ReconciliationMatch:
    _require_reconciler(user)
    return selectors.match_get(public_id=public_id)


class _Private:
    """Bank statements and the council's money: no cache keeps an answer."""

    def finalize_response(self, request: Request, response: HttpResponseBase, *args: Any, **kwargs: Any):
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        if not response.has_header("Cache-Control"):
            patch_cache_control(response, private=True, no_store=True)
        return response


# Errors -------------------------------------------------------------------------------------------------


class FieldProblem(DomainErrors):
    """A service's error, pointing at the field of the request it is about."""

    def __init__(self, error: DomainError, *, pointer: str) -> None:
        self.http_status = error.http_status
        super().__init__([{"code": error.code, "pointer": pointer, "detail": error.message}])


class UnknownAccount(DomainError):
    code = "unknown_account"
    http_status = 422


class ParameterInvalid(DomainErrors):
    """A bad query parameter: 400, pointing at it (`/state`, `/start`), as statements' `/from` and `/to`."""

    http_status = 400

    def __init__(self, detail: str, *, parameter: str, code: str = "invalid") -> None:
        super().__init__([{"code": code, "pointer": f"/{parameter}", "detail": detail}])


def _problem_response(error: DomainError, *, errors: list[dict[str, Any]], **members: Any) -> Response:
    """Problem details with members beyond the usual ones (`first_import`, `more`)."""
    body = problem(status_code=error.http_status, detail=error.message, code=error.code, errors=errors)
    body.update(members)
    return Response(body, status=error.http_status, content_type=PROBLEM_CONTENT_TYPE)


def _statement_file_invalid(error: StatementFileInvalid) -> Response:
    errors = [
        {"code": error.code, "pointer": "/file", "detail": item["message"], "line": item["line"]}
        for item in error.problems
    ]
    return _problem_response(error, errors=errors, more=error.more)


def _duplicate_import(error: reconciliation_services.DuplicateImport) -> Response:
    errors = [{"code": error.code, "pointer": "/file", "detail": error.message}]
    return _problem_response(error, errors=errors, first_import=error.first.public_id)


_WIDE_ENCODINGS = ("utf-16", "utf-32")
_WIDE_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def _nul_refusal(content: bytes, *, encoding: str) -> StatementFileInvalid | None:
    """A file with a zero byte in its text, refused naming its line (None when it has none).

    The readers keep a NUL character in a line's reference or description, which PostgreSQL cannot store
    (a 500). No statement format has one in its text; only a UTF-16 or UTF-32 CSV has zero bytes, and those
    are left to the reader."""
    offset = content.find(b"\x00")
    if offset < 0 or content.startswith(_WIDE_BOMS):
        return None
    try:
        name = codecs.lookup(encoding).name if encoding else ""
    except LookupError:
        name = ""
    if name.startswith(_WIDE_ENCODINGS):
        return None
    line = content.count(b"\n", 0, offset) + 1
    reason = (
        "There is a NUL character (a zero byte) here, which no statement file has: the file is damaged or "
        "not a statement. Export it from the bank again."
    )
    return StatementFileInvalid([statement_files.problem(line, reason)])


# Serializers --------------------------------------------------------------------------------------------


@extend_schema_field({"type": "string", "example": "85.75"})
class MoneyField(serializers.Field):
    """Minor units shown as a decimal string with the currency's decimals; the currency is the context's
    (`currency`: every amount of one answer is in the account's currency)."""

    def to_representation(self, value: int) -> str:
        return money_format(value, currency=self.context["currency"])


def _money(amount_minor: int | None, currency: str) -> str | None:
    return None if amount_minor is None else money_format(amount_minor, currency=currency)


def _timestamp_field(**kwargs: Any) -> serializers.DateTimeField:
    return serializers.DateTimeField(default_timezone=datetime.UTC, **kwargs)


def _absolute(context: dict[str, Any], name: str, **kwargs: str) -> str:
    return context["request"].build_absolute_uri(reverse(f"api:{name}", kwargs=kwargs))


class CsvMappingSerializer(serializers.Serializer):
    """How to read one bank's CSV export (`ledger.reconciliation.statement_files.CsvMapping`). Amounts come
    from one signed `amount_column`, or from `paid_in_column` and `paid_out_column`."""

    date_column = serializers.CharField(help_text="The column that holds the date.")
    date_format = serializers.CharField(
        required=False, help_text="How the date is written, as for strftime (default %d/%m/%Y)."
    )
    amount_column = serializers.CharField(
        required=False, allow_blank=True, help_text="A signed amount: + money in, - money out."
    )
    paid_in_column = serializers.CharField(required=False, allow_blank=True)
    paid_out_column = serializers.CharField(required=False, allow_blank=True)
    reference_column = serializers.CharField(required=False, allow_blank=True)
    description_column = serializers.CharField(required=False, allow_blank=True)
    balance_column = serializers.CharField(
        required=False, allow_blank=True, help_text="The running balance after each row (checked)."
    )
    bank_id_column = serializers.CharField(required=False, allow_blank=True)
    value_date_column = serializers.CharField(required=False, allow_blank=True)
    currency_column = serializers.CharField(required=False, allow_blank=True)
    delimiter = serializers.CharField(required=False, trim_whitespace=False, help_text="Default ','.")
    encoding = serializers.CharField(required=False, help_text="Default utf-8-sig.")
    decimal_comma = serializers.BooleanField(required=False, help_text='Reads "1.234,56".')
    skip_lines = serializers.IntegerField(required=False, help_text="Lines above the header to skip.")


def _mapping(raw: dict) -> dict:
    """A CSV mapping from request data: its fields' types checked (400), settings Purse does not know kept,
    so that the domain refuses them by name (422)."""
    checked = CsvMappingSerializer(data=raw)
    if not checked.is_valid():
        raise serializers.ValidationError(checked.errors)
    unknown = {key: value for key, value in raw.items() if key not in checked.fields}
    return {**unknown, **checked.validated_data}


class ReconciliationAccountSerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id", help_text="rca_...")
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=ReconciliationAccountKind.choices)
    currency = serializers.CharField()
    identifier = serializers.CharField(
        help_text="What the bank or Stripe calls the account (sort code and number, IBAN); empty: any file."
    )
    has_csv_mapping = serializers.SerializerMethodField(help_text="Whether a CSV column mapping is saved.")
    csv_mapping = serializers.SerializerMethodField(help_text="The saved CSV column mapping, or null.")
    reconciled_through = serializers.DateField(
        allow_null=True, help_text="The end of the latest reconciled period, or null."
    )

    def get_has_csv_mapping(self, account: ReconciliationAccount) -> bool:
        return bool(account.csv_mapping)

    @extend_schema_field(CsvMappingSerializer(allow_null=True))
    def get_csv_mapping(self, account: ReconciliationAccount) -> dict | None:
        return account.csv_mapping or None


def _accounts() -> QuerySet[ReconciliationAccount]:
    return selectors.reconciliation_accounts().annotate(reconciled_through=Max("periods__period_end"))


class StatementImportSerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id", help_text="imp_...")
    account = serializers.CharField(source="account.public_id", help_text="rca_...")
    format = serializers.ChoiceField(choices=FORMATS)
    status = serializers.ChoiceField(
        choices=ImportStatus.choices,
        help_text="processing (a large file, being matched on the workers: see lines_checked), done or "
        "failed.",
    )
    lines = serializers.IntegerField(source="lines_in_file", help_text="Lines in the file.")
    matched = serializers.IntegerField(help_text="Of the lines this import brought, how many are matched.")
    suggested = serializers.IntegerField(help_text="... have a suggested match waiting for a person.")
    unmatched = serializers.IntegerField(help_text="... are matched to nothing.")
    opening_balance = serializers.SerializerMethodField(help_text="As the file states it, or null.")
    closing_balance = serializers.SerializerMethodField(help_text="As the file states it, or null.")
    currency = serializers.CharField()
    lines_new = serializers.IntegerField(help_text="Lines imported now.")
    lines_already_imported = serializers.IntegerField(
        help_text="Lines an earlier, overlapping statement already brought: skipped, not doubled."
    )
    lines_checked = serializers.IntegerField(
        help_text="Progress: of lines_new, how many the automatic matching has looked at."
    )
    period_start = serializers.DateField(allow_null=True)
    period_end = serializers.DateField(allow_null=True)
    file_name = serializers.CharField()
    sha256 = serializers.CharField(help_text="The SHA-256 of the file, in hex.")
    imported_by = serializers.CharField(help_text="Who imported it (a username).")
    error = serializers.SerializerMethodField(help_text="Why it failed, when it did; else null.")
    created_at = _timestamp_field()
    finished_at = _timestamp_field(allow_null=True, help_text="When its matching finished.")
    url = serializers.SerializerMethodField()
    lines_url = serializers.SerializerMethodField(help_text="Its lines, a page at a time.")

    @extend_schema_field(MoneyField(allow_null=True))
    def get_opening_balance(self, imported: StatementImport) -> str | None:
        return _money(imported.opening_balance_minor, imported.currency)

    @extend_schema_field(MoneyField(allow_null=True))
    def get_closing_balance(self, imported: StatementImport) -> str | None:
        return _money(imported.closing_balance_minor, imported.currency)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_error(self, imported: StatementImport) -> str | None:
        return imported.error or None

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, imported: StatementImport) -> str:
        return _absolute(self.context, "reconciliation-import-detail", imp=imported.public_id)

    @extend_schema_field(OpenApiTypes.URI)
    def get_lines_url(self, imported: StatementImport) -> str:
        return _absolute(self.context, "reconciliation-import-lines", imp=imported.public_id)


class StatementImportInputSerializer(serializers.Serializer):
    account = serializers.CharField(max_length=64, help_text="The reconciliation account (rca_...).")
    file = serializers.FileField(
        allow_empty_file=True, help_text="The statement file, as the bank or Stripe gave it."
    )
    format = serializers.ChoiceField(
        choices=FORMATS, required=False, allow_blank=True, help_text="Detected from the file when left out."
    )
    csv_mapping = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="For a CSV file: its column mapping, a JSON object (see CsvMapping), saved on the account "
        "for next time. Left out: the account's saved mapping.",
    )

    def validate_csv_mapping(self, text: str) -> dict | None:
        if not text:
            return None
        try:
            raw = json.loads(text)
        except ValueError:
            raise serializers.ValidationError("csv_mapping must be a JSON object.", code="invalid") from None
        if not isinstance(raw, dict):
            raise serializers.ValidationError("csv_mapping must be a JSON object.", code="invalid")
        return _mapping(raw)


class MatchLedgerItemSerializer(serializers.Serializer):
    """A ledger transaction a line is matched to, and how much of the line it is."""

    id = serializers.CharField(source="transaction.public_id", help_text="txn_...")
    date = serializers.DateField(source="transaction.effective_on")
    amount = MoneyField(
        source="amount_minor", help_text="Signed, as the account sees it: + money in, - money out."
    )
    description = serializers.CharField(source="transaction.description")
    in_transit = serializers.BooleanField(
        help_text="Money on its way (a Bacs payment): matching it moved it to the account."
    )


class ReconciliationMatchSerializer(serializers.Serializer):
    """A match of a line, or a suggestion: what it matched and why."""

    id = serializers.CharField(source="public_id", help_text="rcm_...")
    status = serializers.ChoiceField(choices=MatchStatus.choices)
    how = serializers.ChoiceField(choices=MatchHow.choices)
    how_description = serializers.CharField(source="get_how_display", help_text="How, in words.")
    explanation = serializers.CharField(help_text="Why, in plain English.")
    note = serializers.CharField()
    created_by = serializers.CharField(help_text='Who made it: a username, or "purse" (found automatically).')
    created_at = _timestamp_field()
    decided_by = serializers.SerializerMethodField(
        help_text="Who matched, confirmed or rejected it, or null."
    )
    decided_at = _timestamp_field(allow_null=True)
    ledger_items = MatchLedgerItemSerializer(source="items", many=True)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_decided_by(self, match: ReconciliationMatch) -> str | None:
        return match.decided_by or None


class StatementLineSerializer(serializers.Serializer):
    """A statement line, with its match (when matched) and its suggestions (when suggested).

    `context` carries `currency`: every line of one answer is of one account."""

    id = serializers.CharField(source="public_id", help_text="stl_...")
    statement_import = serializers.CharField(source="statement_import.public_id", help_text="imp_...")
    account = serializers.CharField(source="account.public_id", help_text="rca_...")
    line_number = serializers.IntegerField(help_text="The file line or entry number a person finds it by.")
    date = serializers.DateField(source="booked_on", help_text="The day the bank booked it.")
    value_date = serializers.DateField(source="value_on", allow_null=True)
    amount = MoneyField(source="amount_minor", help_text="Signed: + money in, - money out.")
    currency = serializers.CharField(source="account.currency")
    reference = serializers.CharField()
    description = serializers.CharField()
    bank_id = serializers.CharField(help_text="The bank's own id of the line, when the file gives one.")
    kind = serializers.CharField(
        help_text="credit or debit (a bank), or Stripe's type of balance transaction."
    )
    state = serializers.ChoiceField(choices=LineState.choices)
    match = serializers.SerializerMethodField(help_text="The line's match when it is matched; else null.")
    suggestions = serializers.SerializerMethodField(help_text="Suggested matches waiting for a person.")

    @extend_schema_field(ReconciliationMatchSerializer(allow_null=True))
    def get_match(self, line: StatementLine) -> dict | None:
        for match in line.matches_in_force:
            if match.status == MatchStatus.MATCHED:
                return ReconciliationMatchSerializer(match, context=self.context).data
        return None

    @extend_schema_field(ReconciliationMatchSerializer(many=True))
    def get_suggestions(self, line: StatementLine) -> list[dict]:
        suggested = [match for match in line.matches_in_force if match.status == MatchStatus.SUGGESTED]
        return ReconciliationMatchSerializer(suggested, many=True, context=self.context).data


class StatementLineDetailSerializer(StatementLineSerializer):
    """A line and every match and suggestion it ever had (`context["history"]`)."""

    history = serializers.SerializerMethodField(
        help_text="Every match and suggestion the line had, newest first, with who decided each and when."
    )

    @extend_schema_field(ReconciliationMatchSerializer(many=True))
    def get_history(self, line: StatementLine) -> list[dict]:
        return ReconciliationMatchSerializer(self.context["history"], many=True, context=self.context).data


class LineMatchInputSerializer(serializers.Serializer):
    ledger_items = serializers.ListField(
        child=serializers.CharField(max_length=64),
        max_length=LEDGER_ITEMS_MAX,
        help_text="The ledger transactions (txn_...) the line is: their amounts must add up exactly to it.",
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=NOTE_MAX_LENGTH, default="")


class ReconciliationNoteInputSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=NOTE_MAX_LENGTH, default="")


class ReconciliationReportItemSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="The statement line (stl_...) or the ledger transaction (txn_...).")
    date = serializers.DateField(source="on")
    amount = MoneyField(source="amount_minor")
    reference = serializers.CharField()
    description = serializers.CharField()


class ReconciledPeriodSerializer(serializers.Serializer):
    """A period a finance officer marked reconciled, with the figures they saw. `context` carries
    `currency` and `account` (the account's id)."""

    id = serializers.CharField(source="public_id", help_text="rcp_...")
    account = serializers.SerializerMethodField(help_text="rca_...")
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    currency = serializers.SerializerMethodField()
    bank_balance = MoneyField(source="bank_balance_minor", help_text="At the period's end.")
    ledger_balance = MoneyField(source="ledger_balance_minor", help_text="At the period's end.")
    unmatched_lines_amount = MoneyField(source="unmatched_lines_minor")
    unmatched_items_amount = MoneyField(source="unmatched_items_minor")
    note = serializers.CharField()
    reconciled_by = serializers.CharField(help_text="Who marked it reconciled (a username).")
    reconciled_at = _timestamp_field()

    def get_account(self, period: ReconciledPeriod) -> str:
        return self.context["account"]

    def get_currency(self, period: ReconciledPeriod) -> str:
        return self.context["currency"]


class ReconciliationReportSerializer(serializers.Serializer):
    """Why the bank's balance and the ledger's differ at the period's end (`ledger.reconciliation.selectors`):
    difference = start_difference + unmatched_lines_amount - unmatched_items_amount + across_period_end
    + unexplained. A period is reconciled only with nothing unexplained and no suggestion waiting."""

    account = serializers.CharField(source="account.public_id", help_text="rca_...")
    currency = serializers.CharField(source="account.currency")
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    started_on = serializers.DateField(
        allow_null=True, help_text="The first statement line ever imported: reconciliation starts there."
    )
    opening_known = serializers.BooleanField(
        help_text="Whether the first statement stated its opening balance (else the ledger's is assumed)."
    )
    bank_opening = MoneyField(source="bank_opening_minor", help_text="The bank's balance the day before.")
    bank_balance = MoneyField(source="bank_balance_minor", help_text="The bank's balance at the end.")
    ledger_opening = MoneyField(source="ledger_opening_minor")
    ledger_balance = MoneyField(source="ledger_balance_minor")
    difference = MoneyField(source="difference_minor", help_text="bank_balance - ledger_balance.")
    lines_in_period = serializers.IntegerField()
    matched_count = serializers.IntegerField()
    matched_amount = MoneyField(source="matched_minor")
    suggested_count = serializers.IntegerField()
    suggested_amount = MoneyField(source="suggested_minor")
    unmatched_count = serializers.IntegerField()
    unmatched_amount = MoneyField(source="unmatched_minor")
    start_difference = MoneyField(
        source="start_difference_minor", help_text="The bank's against the ledger's, at the start."
    )
    unmatched_lines_amount = MoneyField(
        source="unmatched_lines_minor",
        help_text="Bank lines through the end not matched: money the ledger does not show yet.",
    )
    unmatched_items_amount = MoneyField(
        source="unmatched_items_minor",
        help_text="Ledger transactions through the end not matched: money the bank has not moved yet.",
    )
    across_period_end = MoneyField(
        source="across_period_end_minor", help_text="Matches of a line inside to a transaction outside."
    )
    unexplained = MoneyField(source="unexplained_minor", help_text="Must be 0.00 to reconcile the period.")
    in_transit_amount = MoneyField(source="in_transit_minor", help_text="Money on its way (Bacs payments).")
    statement_balance_problem = serializers.SerializerMethodField(
        help_text="When the lines imported do not add up to a statement's closing balance, why; else null."
    )
    unmatched_lines = ReconciliationReportItemSerializer(many=True)
    unmatched_items = ReconciliationReportItemSerializer(many=True)
    in_transit = ReconciliationReportItemSerializer(many=True)
    reconciled = serializers.SerializerMethodField(help_text="The period, when it was marked reconciled.")

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_statement_balance_problem(self, report: selectors.ReconciliationReport) -> str | None:
        return report.statement_balance_problem or None

    @extend_schema_field(ReconciledPeriodSerializer(allow_null=True))
    def get_reconciled(self, report: selectors.ReconciliationReport) -> dict | None:
        if report.reconciled is None:
            return None
        return ReconciledPeriodSerializer(report.reconciled, context=self.context).data


class PeriodReconcileInputSerializer(serializers.Serializer):
    period_start = serializers.DateField()
    period_end = serializers.DateField(help_text="A day that has passed.")
    note = serializers.CharField(required=False, allow_blank=True, max_length=NOTE_MAX_LENGTH, default="")

    def _day(self, day: datetime.date) -> datetime.date:
        problem = _in_range(day)
        if problem:
            raise serializers.ValidationError(problem, code="invalid")
        return day

    validate_period_start = validate_period_end = _day


# Schema pieces ------------------------------------------------------------------------------------------


class StatementFileProblemErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    pointer = serializers.CharField()
    detail = serializers.CharField(help_text='The line and the reason: "Line 14: the amount ..."')
    line = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="invalid_statement_file: the file line or entry number; null for the file as a whole.",
    )


class StatementFileProblemSerializer(serializers.Serializer):
    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    errors = StatementFileProblemErrorSerializer(many=True, required=False)
    more = serializers.IntegerField(
        required=False, help_text="invalid_statement_file: problems found beyond the ones listed."
    )


class DuplicateImportProblemSerializer(CashEquivalentProblemSerializer):
    first_import = serializers.CharField(
        required=False, help_text="duplicate_import: the import that brought this file first (imp_...)."
    )


def _problem(description: str) -> OpenApiResponse:
    return OpenApiResponse(response=CashEquivalentProblemSerializer, description=description)


def _path(name: str, what: str) -> OpenApiParameter:
    return OpenApiParameter(name, OpenApiTypes.STR, OpenApiParameter.PATH, description=what)


_ACCOUNT = _path("rca", "A reconciliation account (rca_...).")
_IMPORT = _path("imp", "A statement import (imp_...).")
_LINE = _path("stl", "A statement line (stl_...).")
_MATCH = _path("rcm", "A match or suggestion (rcm_...).")
_NOT_FINANCE = "Not found, or reconciliation is not yours (finance officers and administrators only)."
_READ = {(401, _P): _problem("No or bad credentials."), (404, _P): _problem(_NOT_FINANCE)}
_LIST = {**_READ, (404, _P): _problem(f"{_NOT_FINANCE} Or a cursor this list did not give.")}
_WRITE = {**_READ, (400, _P): _problem("Malformed: bad JSON, wrong types or a missing field.")}
# What every POST may answer besides (api/idempotency.py); an operation's own descriptions come after.
_POST = {
    **_WRITE,
    (400, _P): _problem("Malformed (bad JSON, wrong types, a missing field), or invalid_idempotency_key."),
    (409, _P): _problem("idempotency_request_in_progress: the first request with this key is still running."),
    (422, _P): _problem("idempotency_key_reused: this Idempotency-Key was sent with a different request."),
}
_MATCH_CONFLICT = {(409, _P): _problem("match_conflict: the line is already matched.")}


# Accounts -----------------------------------------------------------------------------------------------


class AccountPagination(CursorPagination):
    ordering = ("name", "id")


class ReconciliationAccountListView(_Private, generics.ListAPIView):
    """The bank and processor accounts Purse reconciles."""

    serializer_class = ReconciliationAccountSerializer
    pagination_class = AccountPagination

    def get_queryset(self):
        return _accounts()

    @extend_schema(
        operation_id="reconciliation_accounts_list",
        responses={200: ReconciliationAccountSerializer(many=True), **_LIST},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        _require_reconciler(request.user)
        if not services.reconciliation_accounts_present():
            services.reconciliation_accounts_ensure()
        return super().get(request, *args, **kwargs)


class CsvMappingView(_Private, APIView):
    """Save the bank's CSV column mapping on the account, for its CSV statements."""

    @extend_schema(
        operation_id="reconciliation_accounts_csv_mapping_update",
        parameters=[_ACCOUNT],
        request=CsvMappingSerializer,
        responses={
            200: OpenApiResponse(ReconciliationAccountSerializer, description="Saved."),
            **_WRITE,
            (422, _P): _problem("invalid_csv_mapping: the mapping cannot be used, and why. Nothing saved."),
        },
    )
    def put(self, request: Request, rca: str) -> Response:
        account = _account(request.user, rca)
        if not isinstance(request.data, dict):
            raise serializers.ValidationError(
                {"non_field_errors": ["The CSV mapping must be a JSON object."]}, code="invalid"
            )
        mapping = _mapping(request.data)
        try:
            services.csv_mapping_save(account=account, mapping=mapping, by=request.user)
        except InvalidCsvMapping as error:
            raise FieldProblem(error, pointer="") from None
        return Response(ReconciliationAccountSerializer(_accounts().get(pk=account.pk)).data)


# Imports ------------------------------------------------------------------------------------------------


class ImportPagination(CursorPagination):
    ordering = ("-created_at", "-id")


def _import_body(request: Request, imported: StatementImport) -> dict[str, Any]:
    """The import as it now stands, with its counts, read again."""
    found = selectors.statement_import_get(public_id=imported.public_id)
    return StatementImportSerializer(found, context={"request": request}).data


class StatementImportListView(_Private, generics.ListAPIView):
    """The statement imports, newest first; POST imports a statement file."""

    serializer_class = StatementImportSerializer
    pagination_class = ImportPagination
    parser_classes = [MultiPartParser, FormParser]

    def get_queryset(self):
        imports = selectors.statement_imports()
        account = self.request.query_params.get("account")
        if account:
            # No id has a NUL character, and PostgreSQL refuses one in a query.
            imports = imports.none() if "\x00" in account else imports.filter(account__public_id=account)
        return imports

    @extend_schema(
        operation_id="reconciliation_imports_list",
        parameters=[
            OpenApiParameter("account", OpenApiTypes.STR, description="Only this account's (rca_...).")
        ],
        responses={200: StatementImportSerializer(many=True), **_LIST},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        _require_reconciler(request.user)
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="reconciliation_imports_create",
        request={"multipart/form-data": StatementImportInputSerializer},
        responses={
            201: OpenApiResponse(
                StatementImportSerializer,
                description="Imported (status done), or being matched on the workers (status processing, "
                "with lines_checked as progress). Location is the import.",
            ),
            **_POST,
            (409, _P): OpenApiResponse(
                DuplicateImportProblemSerializer,
                description="duplicate_import: this file was imported before, as first_import. Nothing "
                "imported.",
            ),
            (415, _P): _problem("Not multipart/form-data (the file is uploaded as a form's file)."),
            (422, _P): OpenApiResponse(
                StatementFileProblemSerializer,
                description="invalid_statement_file: each problem of the file with its line (balances that "
                "do not add up name the first line they stop adding up at); or unknown_account, "
                "wrong_account, invalid_csv_mapping, invalid_import, each with its pointer. Nothing "
                "imported.",
            ),
        },
    )
    def post(self, request: Request) -> Response:
        _require_reconciler(request.user)
        body = StatementImportInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            account = selectors.reconciliation_account_get(public_id=data["account"])
        except selectors.ReconciliationNotFound:
            unknown = UnknownAccount(
                f"There is no reconciliation account {data['account']!r}: give the id (rca_...) of one "
                "that GET /api/v1/reconciliation/accounts/ lists."
            )
            raise FieldProblem(unknown, pointer="/account") from None
        upload = data["file"]
        # Read no more than the service needs to refuse a file too large.
        content = upload.read(reconciliation_services.FILE_MAX_BYTES + 1)
        mapping = data.get("csv_mapping") or account.csv_mapping or {}
        refusal = _nul_refusal(content, encoding=str(mapping.get("encoding") or ""))
        if refusal is not None:
            return _statement_file_invalid(refusal)
        try:
            imported = services.statement_import(
                account=account,
                content=content,
                by=request.user,
                file_name=(upload.name or "").replace("\x00", ""),
                format=data.get("format") or None,
                csv_mapping=data.get("csv_mapping"),
            )
        except reconciliation_services.DuplicateImport as error:
            return _duplicate_import(error)
        except StatementFileInvalid as error:
            return _statement_file_invalid(error)
        except InvalidCsvMapping as error:
            raise FieldProblem(error, pointer="/csv_mapping") from None
        except reconciliation_services.InvalidImport as error:
            raise FieldProblem(error, pointer=f"/{error.field}") from None
        except reconciliation_services.WrongAccount as error:
            raise FieldProblem(error, pointer="/account") from None
        location = request.build_absolute_uri(
            reverse("api:reconciliation-import-detail", kwargs={"imp": imported.public_id})
        )
        return Response(
            _import_body(request, imported), status=status.HTTP_201_CREATED, headers={"Location": location}
        )


class StatementImportView(_Private, APIView):
    """One import: its status, progress and counts."""

    @extend_schema(
        operation_id="reconciliation_imports_retrieve",
        parameters=[_IMPORT],
        responses={200: StatementImportSerializer, **_READ},
    )
    def get(self, request: Request, imp: str) -> Response:
        imported = _import(request.user, imp)
        return Response(StatementImportSerializer(imported, context={"request": request}).data)


# Lines --------------------------------------------------------------------------------------------------


class LinePagination(CursorPagination):
    ordering = ("line_number", "id")


def _state(request: Request) -> str | None:
    state = request.query_params.get("state")
    if state in (None, ""):
        return None
    if state not in LineState.values:
        raise ParameterInvalid(
            f"'state' must be one of {', '.join(LineState.values)}; {state!r} is not.",
            parameter="state",
            code="invalid_choice",
        )
    return state


class StatementImportLineListView(_Private, generics.ListAPIView):
    """The import's lines in file order, each with what it matched and why: a fixed number of queries."""

    serializer_class = StatementLineSerializer
    pagination_class = LinePagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator, which has no import
            return StatementLine.objects.none()
        imported = _import(self.request.user, self.kwargs["imp"])
        self.currency = imported.currency
        return selectors.import_lines(statement_import=imported, state=_state(self.request))

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "currency": getattr(self, "currency", "GBP")}

    @extend_schema(
        operation_id="reconciliation_imports_lines_list",
        parameters=[
            _IMPORT,
            OpenApiParameter(
                "state",
                OpenApiTypes.STR,
                enum=LineState.values,
                description="Only the lines in this state; every line when left out.",
            ),
        ],
        responses={
            200: StatementLineSerializer(many=True),
            **_LIST,
            (400, _P): _problem("invalid_choice at /state: not a state a line is in."),
        },
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


def _line_response(request: Request, public_id: str) -> Response:
    """The line as it now stands, with its history: read again, a fixed number of queries."""
    line = selectors.statement_line_get(public_id=public_id)
    context = {
        "request": request,
        "currency": line.account.currency,
        "history": list(selectors.match_history(line=line)),
    }
    return Response(StatementLineDetailSerializer(line, context=context).data)


class StatementLineView(_Private, APIView):
    """One line, its match or suggestions, and every match it ever had."""

    @extend_schema(
        operation_id="reconciliation_lines_retrieve",
        parameters=[_LINE],
        responses={200: StatementLineDetailSerializer, **_READ},
    )
    def get(self, request: Request, stl: str) -> Response:
        line = _line(request.user, stl)
        return _line_response(request, line.public_id)


class LineMatchView(_Private, APIView):
    """Match the line by hand to ledger transactions whose amounts add up exactly to it."""

    @extend_schema(
        operation_id="reconciliation_lines_match",
        parameters=[_LINE],
        request=LineMatchInputSerializer,
        responses={
            200: OpenApiResponse(StatementLineDetailSerializer, description="Matched: the line as it is."),
            **_POST,
            **_MATCH_CONFLICT,
            (422, _P): _problem(
                "invalid_match at /ledger_items: they do not add up to the line, or one is not a "
                "transaction of the account. Nothing changed."
            ),
        },
    )
    def post(self, request: Request, stl: str) -> Response:
        line = _line(request.user, stl)
        body = LineMatchInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            services.line_match(
                line=line,
                transaction_ids=list(body.validated_data["ledger_items"]),
                by=request.user,
                note=body.validated_data["note"],
            )
        except reconciliation_services.InvalidMatch as error:
            raise FieldProblem(error, pointer=f"/{error.field}") from None
        return _line_response(request, line.public_id)


class LineUnmatchView(_Private, APIView):
    """Undo the line's match (and any settlement it made), or reject its suggestions."""

    @extend_schema(
        operation_id="reconciliation_lines_unmatch",
        parameters=[_LINE],
        request=ReconciliationNoteInputSerializer,
        responses={
            200: OpenApiResponse(StatementLineDetailSerializer, description="Unmatched: the line as it is."),
            **_POST,
            (409, _P): _problem("match_conflict: the line is not matched."),
        },
    )
    def post(self, request: Request, stl: str) -> Response:
        line = _line(request.user, stl)
        body = ReconciliationNoteInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.line_unmatch(line=line, by=request.user, note=body.validated_data["note"])
        return _line_response(request, line.public_id)


class MatchConfirmView(_Private, APIView):
    """A person confirms a suggestion: it becomes the line's match."""

    @extend_schema(
        operation_id="reconciliation_matches_confirm",
        parameters=[_MATCH],
        request=None,
        responses={
            200: OpenApiResponse(StatementLineDetailSerializer, description="Confirmed: the match's line."),
            **_POST,
            (409, _P): _problem(
                "match_conflict: not a suggestion waiting, the line is already matched, or the suggestion's "
                "amount differs from the line's."
            ),
        },
    )
    def post(self, request: Request, rcm: str) -> Response:
        match = _match(request.user, rcm)
        services.match_confirm(match=match, by=request.user)
        return _line_response(request, match.line.public_id)


class MatchRejectView(_Private, APIView):
    """A person says a suggestion is wrong; the line stays to be matched."""

    @extend_schema(
        operation_id="reconciliation_matches_reject",
        parameters=[_MATCH],
        request=ReconciliationNoteInputSerializer,
        responses={
            200: OpenApiResponse(StatementLineDetailSerializer, description="Rejected: the match's line."),
            **_POST,
            (409, _P): _problem("match_conflict: not a suggestion waiting."),
        },
    )
    def post(self, request: Request, rcm: str) -> Response:
        match = _match(request.user, rcm)
        body = ReconciliationNoteInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.match_reject(match=match, by=request.user, note=body.validated_data["note"])
        return _line_response(request, match.line.public_id)


# The report and reconciled periods ----------------------------------------------------------------------


def _date_parameter(request: Request, name: str) -> datetime.date:
    text = request.query_params.get(name)
    if not text:
        raise ParameterInvalid(
            f"Give '{name}' as a date written YYYY-MM-DD, like 2026-11-01.", parameter=name, code="required"
        )
    try:
        if not _DATE.fullmatch(text):
            raise ValueError(text)
        day = datetime.date.fromisoformat(text)
    except ValueError:
        raise ParameterInvalid(
            f"'{name}' must be a date written YYYY-MM-DD, like 2026-11-01; {text!r} is not.", parameter=name
        ) from None
    problem = _in_range(day)
    if problem:
        raise ParameterInvalid(problem, parameter=name)
    return day


class ReconciliationReportView(_Private, APIView):
    """The account's reconciliation report for a period: the difference between the bank and the ledger,
    explained."""

    @extend_schema(
        operation_id="reconciliation_accounts_report",
        parameters=[
            _ACCOUNT,
            OpenApiParameter("start", OpenApiTypes.DATE, required=True, description="Its first day."),
            OpenApiParameter("end", OpenApiTypes.DATE, required=True, description="Its last day."),
        ],
        responses={
            200: ReconciliationReportSerializer,
            **_READ,
            (400, _P): _problem("At /start or /end: missing, not a date, or the end before the start."),
        },
    )
    def get(self, request: Request, rca: str) -> Response:
        account = _account(request.user, rca)
        start, end = _date_parameter(request, "start"), _date_parameter(request, "end")
        if end < start:
            raise ParameterInvalid(
                f"The period ends ({end.isoformat()}) before it starts ({start.isoformat()}): 'end' must be "
                "on or after 'start'.",
                parameter="end",
            )
        report = selectors.reconciliation_report(account=account, period_start=start, period_end=end)
        context = {"request": request, "currency": account.currency, "account": account.public_id}
        return Response(ReconciliationReportSerializer(report, context=context).data)


class PeriodPagination(CursorPagination):
    ordering = ("-period_end", "-id")


class ReconciledPeriodListView(_Private, generics.ListAPIView):
    """The account's reconciled periods, the latest first; POST marks a period reconciled."""

    serializer_class = ReconciledPeriodSerializer
    pagination_class = PeriodPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator, which has no account
            return ReconciledPeriod.objects.none()
        self.account = _account(self.request.user, self.kwargs["rca"])
        return selectors.reconciled_periods(account=self.account)

    def get_serializer_context(self) -> dict[str, Any]:
        account = getattr(self, "account", None)
        return {
            **super().get_serializer_context(),
            "currency": account.currency if account else "GBP",
            "account": account.public_id if account else "",
        }

    @extend_schema(
        operation_id="reconciliation_accounts_periods_list",
        parameters=[_ACCOUNT],
        responses={200: ReconciledPeriodSerializer(many=True), **_LIST},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="reconciliation_accounts_periods_create",
        parameters=[_ACCOUNT],
        request=PeriodReconcileInputSerializer,
        responses={
            201: OpenApiResponse(ReconciledPeriodSerializer, description="Reconciled."),
            **_POST,
            (409, _P): _problem(
                "period_not_reconcilable: not yet ended, already reconciled, no lines imported, a suggestion "
                "waiting, or a difference nothing explains. Nothing changed."
            ),
            (422, _P): _problem("invalid_import at /period_end: the period ends before it starts."),
        },
    )
    def post(self, request: Request, rca: str) -> Response:
        account = _account(request.user, rca)
        body = PeriodReconcileInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            period = services.period_reconcile(
                account=account,
                period_start=data["period_start"],
                period_end=data["period_end"],
                by=request.user,
                note=data["note"],
            )
        except reconciliation_services.InvalidImport as error:
            raise FieldProblem(error, pointer=f"/{error.field}") from None
        context = {"request": request, "currency": account.currency, "account": account.public_id}
        body = ReconciledPeriodSerializer(period, context=context).data
        return Response(body, status=status.HTTP_201_CREATED)
