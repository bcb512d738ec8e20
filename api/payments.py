"""Payments (api.md, "For finance": "Payments"): payment runs, the payments they make, Bacs files and the
warnings of payments that did not go through. Finance officers and administrators only.

* `POST /api/v1/payment-runs/` `{"pay_on": "YYYY-MM-DD"}` (optional; the Bacs processing day, by default the
  next working day): starts a run of every approved invoice no payment holds, grouped per provider and paid
  by each provider's rail (`payments.services.runs.payment_run_start`). 202 with the new run, or 200 with
  the run already running (`"resumed": true`: it is sent to the workers again, to carry on from where it
  is). A bad `pay_on` (not a date, passed, not a working day) is 400 `invalid_payment_run` pointing at
  `/pay_on`, and starts nothing.
* `GET /api/v1/payment-runs/` (newest first), `GET /api/v1/payment-runs/{run}/` (progress, the providers it
  could not pay and why, its Bacs file), `GET /api/v1/payment-runs/{run}/payments/` (its payments).
* `GET /api/v1/payments/{payment}/` (a payment and the invoices it pays), `GET /api/v1/payment-warnings/`
  (payments that failed or were reversed and that finance has not acknowledged, newest first) and
  `POST /api/v1/payments/{payment}/acknowledge/` (409 `payment_warning_conflict` for a payment that did not
  fail).
* `GET /api/v1/bacs-files/{bacs_file}/`: the Bacs Standard 18 file itself, byte for byte, as
  `text/plain; charset=us-ascii`, with `X-Content-SHA256`; each download is in the audit trail.
  `POST .../confirm/` (finance uploaded it to the bank: its payments are sent and their invoices paid) and
  `POST .../cancel/` `{"reason": "..."}` (it will not be uploaded: its invoices wait for the next run);
  confirming a cancelled file or cancelling an uploaded one is 409 `bacs_file_state_conflict`, a missing
  reason 400 pointing at `/reason`. Both are safe to repeat.

Everyone else (budget holders, representatives, navigators, agency officers, providers' people and API
keys) is answered 404 on every one of these, exactly as for a run that does not exist, as for statement
runs; no credentials is 401. Every POST honours `Idempotency-Key` (api/idempotency.py). Every answer is
`Cache-Control: private, no-store`: payments carry bank details and move public money.
"""

import datetime
import re
from typing import Any

from django.db.models import Count
from django.http import HttpResponse, HttpResponseBase
from django.urls import reverse
from django.utils.cache import patch_cache_control
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.cash_equivalents import CashEquivalentProblemSerializer
from api.pagination import CursorPagination
from api.problems import PROBLEM_CONTENT_TYPE
from ledger.errors import DomainErrors
from ledger.money import money_format
from payments import selectors
from payments.models import (
    BacsFile,
    BacsFileStatus,
    Payment,
    PaymentRun,
    PaymentRunStatus,
    PaymentStatus,
    Rail,
)
from payments.services import runs as services
from people.models import Role
from people.services import audit_event_record

SHA256_HEADER = "X-Content-SHA256"
BACS_MEDIA_TYPE = "text/plain"
BACS_CHARSET = "us-ascii"
BACS_CURRENCY = "GBP"  # Bacs pays in pounds only
REASON_MAX_LENGTH = 500  # as the payment run pages' form (web/forms/payment_runs.py)

_P = PROBLEM_CONTENT_TYPE
_PAYMENT_STAFF = frozenset({Role.FINANCE_OFFICER, Role.ADMINISTRATOR})
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class PayOnInvalid(DomainErrors):
    """A bad processing day, pointing at it: the same code as the service's `PaymentRunInvalid`."""

    http_status = 400

    def __init__(self, detail: str) -> None:
        super().__init__([{"code": services.PaymentRunInvalid.code, "pointer": "/pay_on", "detail": detail}])


# Who sees what ------------------------------------------------------------------------------------------


def _require_payment_staff(user: Any) -> None:
    """Payments are finance's: anyone else is answered as if there were nothing here (404, not 403)."""
    if getattr(user, "role", None) not in _PAYMENT_STAFF:
        raise NotFound()


def _payment_run(user: Any, public_id: str) -> PaymentRun:
    _require_payment_staff(user)
    try:
        return selectors.run_get(public_id=public_id)
    except selectors.PaymentRunNotFound:
        raise NotFound() from None


def _payment(user: Any, public_id: str) -> Payment:
    _require_payment_staff(user)
    try:
        return selectors.payment_get(public_id=public_id)
    except selectors.PaymentNotFound:
        raise NotFound() from None


def _bacs_file(user: Any, public_id: str) -> BacsFile:
    _require_payment_staff(user)
    try:
        return selectors.bacs_file_get(public_id=public_id)
    except selectors.BacsFileNotFound:
        raise NotFound() from None


class _Private:
    """Payments carry bank details and move public money: no cache keeps an answer."""

    def finalize_response(self, request: Request, response: HttpResponseBase, *args: Any, **kwargs: Any):
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        if not response.has_header("Cache-Control"):
            patch_cache_control(response, private=True, no_store=True)
        return response


def _run_path(run: PaymentRun) -> str:
    return reverse("api:payment-run-detail", kwargs={"run": run.public_id})


def _absolute(context: dict[str, Any], path: str) -> str:
    return context["request"].build_absolute_uri(path)


def _timestamp_field(**kwargs: Any) -> serializers.DateTimeField:
    return serializers.DateTimeField(default_timezone=datetime.UTC, **kwargs)


@extend_schema_field({"type": "string", "example": "85.75"})
class MoneyField(serializers.CharField):
    """Money as a decimal string with the currency's decimals (beside a `currency`)."""


def _blank_as_null(text: str) -> str | None:
    return text or None


# Bacs files ---------------------------------------------------------------------------------------------


class BacsFileSerializer(serializers.Serializer):
    """A Bacs file as finance sees it (its content is at `download`)."""

    id = serializers.CharField(source="public_id", help_text="bacs_...")
    run = serializers.CharField(source="run.public_id", help_text="The payment run that wrote it (prun_...).")
    filename = serializers.CharField()
    processing_day = serializers.DateField(help_text="The day the bank pays it (a working day).")
    credits = serializers.IntegerField(help_text="How many payments it makes.")
    currency = serializers.SerializerMethodField()
    total = serializers.SerializerMethodField()
    status = serializers.ChoiceField(
        choices=BacsFileStatus.choices,
        help_text="written (waiting for finance to upload it), uploaded or cancelled.",
    )
    sha256 = serializers.CharField(help_text="The SHA-256 of the file, in hex.")
    created_at = _timestamp_field()
    decided_at = _timestamp_field(allow_null=True, help_text="When finance confirmed or cancelled it.")
    download = serializers.SerializerMethodField(help_text="The file itself (text/plain, US-ASCII).")

    def get_currency(self, bacs_file: BacsFile) -> str:
        return BACS_CURRENCY

    @extend_schema_field(MoneyField())
    def get_total(self, bacs_file: BacsFile) -> str:
        return money_format(bacs_file.total_minor, currency=BACS_CURRENCY)

    @extend_schema_field(OpenApiTypes.URI)
    def get_download(self, bacs_file: BacsFile) -> str:
        path = reverse("api:bacs-file-detail", kwargs={"bacs_file": bacs_file.public_id})
        return _absolute(self.context, path)


class BacsFileCancelInputSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=REASON_MAX_LENGTH,
        help_text="Why the file will not be uploaded (kept with the file and on each of its payments).",
    )


# Payment runs -------------------------------------------------------------------------------------------


class PaymentRunSerializer(serializers.Serializer):
    """A payment run as it stands (the list's entries; the detail adds progress, skipped and the file)."""

    id = serializers.CharField(source="public_id", help_text="prun_...")
    status = serializers.ChoiceField(
        choices=PaymentRunStatus.choices,
        help_text="running, waiting_for_upload (its Bacs file), done or done_with_failures.",
    )
    pay_on = serializers.DateField(help_text="The Bacs processing day; Stripe pays at once.")
    created_at = _timestamp_field()
    finished_at = _timestamp_field(allow_null=True)
    currency = serializers.CharField()
    invoices = serializers.IntegerField(help_text="Invoices the run pays.")
    payments = serializers.IntegerField(help_text="Payments it made: one per provider paid.")
    total = serializers.SerializerMethodField(help_text="The money the run pays, all payments together.")
    error = serializers.SerializerMethodField(help_text="Why the run stopped, when it did; else null.")
    url = serializers.SerializerMethodField()

    @extend_schema_field(MoneyField())
    def get_total(self, run: PaymentRun) -> str:
        return money_format(run.total_minor, currency=run.currency)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_error(self, run: PaymentRun) -> str | None:
        return _blank_as_null(run.error)

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, run: PaymentRun) -> str:
        return _absolute(self.context, _run_path(run))


class PaymentRunByStatusSerializer(serializers.Serializer):
    """How many of a run's payments are in each state (every state, 0 for none)."""

    pending = serializers.IntegerField(help_text="Waiting to be sent.")
    in_file = serializers.IntegerField(help_text="In the Bacs file, waiting for finance to upload it.")
    sent = serializers.IntegerField(help_text="Sent: the invoices are paid.")
    paid = serializers.IntegerField(help_text="Stripe said the transfer was paid.")
    failed = serializers.IntegerField()
    reversed = serializers.IntegerField()
    cancelled = serializers.IntegerField(help_text="The Bacs file was not uploaded.")


class PaymentRunProgressSerializer(serializers.Serializer):
    total = serializers.IntegerField(help_text="The run's payments.")
    finished = serializers.IntegerField(
        help_text="No longer waiting to be sent (in a file, sent, failed...)."
    )
    percent = serializers.IntegerField(help_text="finished / total, in whole percent (100 for no payments).")
    by_status = PaymentRunByStatusSerializer()


class PaymentRunSkippedSerializer(serializers.Serializer):
    provider = serializers.CharField(help_text="pro_...")
    name = serializers.CharField()
    invoices = serializers.IntegerField(help_text="Its approved invoices the run left waiting.")
    reason = serializers.CharField(help_text="Why it could not be paid, in plain English.")


class PaymentRunDetailSerializer(PaymentRunSerializer):
    """A run, how far it has got (`payments.selectors.run_progress`), whom it could not pay, and its file.

    `context` carries `progress` and `bacs_file` (read by the view: a fixed number of queries)."""

    progress = serializers.SerializerMethodField()
    skipped = serializers.SerializerMethodField(help_text="Providers the run could not pay, and why.")
    bacs_file = serializers.SerializerMethodField(
        help_text="The run's Bacs file, or null (no bank payments)."
    )
    payments_url = serializers.SerializerMethodField(help_text="The run's payments, a page at a time.")

    @extend_schema_field(PaymentRunProgressSerializer)
    def get_progress(self, run: PaymentRun) -> dict[str, Any]:
        progress: selectors.RunProgress = self.context["progress"]
        return {
            "total": progress.total,
            "finished": progress.finished,
            "percent": progress.percent,
            "by_status": {value: progress.by_status.get(value, 0) for value in PaymentStatus.values},
        }

    @extend_schema_field(PaymentRunSkippedSerializer(many=True))
    def get_skipped(self, run: PaymentRun) -> list[dict[str, Any]]:
        return [
            {
                "provider": entry.get("provider", ""),
                "name": entry.get("name", ""),
                "invoices": int(entry.get("invoices", 0)),
                "reason": entry.get("reason", ""),
            }
            for entry in selectors.run_skipped(run=run)
        ]

    @extend_schema_field(BacsFileSerializer(allow_null=True))
    def get_bacs_file(self, run: PaymentRun) -> dict[str, Any] | None:
        bacs_file: BacsFile | None = self.context["bacs_file"]
        if bacs_file is None:
            return None
        bacs_file.run = run  # the run in hand, not read again
        return BacsFileSerializer(bacs_file, context=self.context).data

    @extend_schema_field(OpenApiTypes.URI)
    def get_payments_url(self, run: PaymentRun) -> str:
        return _absolute(self.context, reverse("api:payment-run-payments", kwargs={"run": run.public_id}))


class PaymentRunStartedSerializer(PaymentRunDetailSerializer):
    resumed = serializers.SerializerMethodField(
        help_text="true: a run was already running, and this is it (sent to the workers again to carry on); "
        "false: this run was started now."
    )

    def get_resumed(self, run: PaymentRun) -> bool:
        return bool(self.context["resumed"])


@extend_schema_field(OpenApiTypes.DATE)
class PayOnField(serializers.CharField):
    """A YYYY-MM-DD date, read by the view so that every bad one is `invalid_payment_run` at `/pay_on`."""


class PaymentRunInputSerializer(serializers.Serializer):
    pay_on = PayOnField(
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text="The Bacs processing day: a working day, today or later. Left out (or null): the next "
        "working day, as the bank needs the file the day before.",
    )


def _pay_on(text: str | None) -> datetime.date | None:
    if text is None:
        return None
    if not _DATE.fullmatch(text):
        raise PayOnInvalid("Give the processing day as a date, YYYY-MM-DD (for example 2026-11-23).")
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise PayOnInvalid(f"{text} is not a day of the calendar; give a date as YYYY-MM-DD.") from None


# Payments -----------------------------------------------------------------------------------------------


class PaymentSerializer(serializers.Serializer):
    """One payment to one provider, by one rail. `reference` is what the provider sees on its bank statement
    (the Bacs reference) or in Stripe (the transfer's idempotency key): the payment's id."""

    id = serializers.CharField(source="public_id", help_text="pay_...")
    run = serializers.CharField(source="run.public_id", help_text="prun_...")
    provider = serializers.CharField(source="provider.public_id", help_text="pro_...")
    provider_name = serializers.CharField(source="provider.name")
    rail = serializers.ChoiceField(choices=Rail.choices)
    status = serializers.ChoiceField(choices=PaymentStatus.choices)
    amount = serializers.SerializerMethodField()
    currency = serializers.CharField()
    invoice_count = serializers.IntegerField(help_text="How many invoices it pays.")
    remittance = serializers.SerializerMethodField(
        help_text="The remittance the provider sees (rem_...), once sent; else null."
    )
    reference = serializers.CharField(source="public_id", help_text="The payment reference: its id.")
    stripe_transfer = serializers.SerializerMethodField(help_text="The Stripe transfer (tr_...), or null.")
    error = serializers.SerializerMethodField(help_text="Why it failed, in plain English; else null.")
    sent_at = _timestamp_field(allow_null=True)
    paid_at = _timestamp_field(allow_null=True, help_text="When Stripe said the transfer was paid.")
    failed_at = _timestamp_field(allow_null=True)
    acknowledged_at = _timestamp_field(
        source="warning_acknowledged_at",
        allow_null=True,
        help_text="When finance acknowledged that it failed or was reversed.",
    )

    @extend_schema_field(MoneyField())
    def get_amount(self, payment: Payment) -> str:
        return money_format(payment.amount_minor, currency=payment.currency)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_remittance(self, payment: Payment) -> str | None:
        return payment.remittance.public_id if payment.remittance_id else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_stripe_transfer(self, payment: Payment) -> str | None:
        return _blank_as_null(payment.stripe_transfer_id)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_error(self, payment: Payment) -> str | None:
        return _blank_as_null(payment.error)


class PaymentInvoiceSerializer(serializers.Serializer):
    invoice = serializers.CharField(source="invoice.public_id", help_text="inv_...")
    invoice_number = serializers.CharField(source="invoice.invoice_number")
    amount = serializers.SerializerMethodField(help_text="How much of the invoice this payment pays.")

    @extend_schema_field(MoneyField())
    def get_amount(self, line: Any) -> str:
        return money_format(line.amount_minor, currency=self.context["currency"])


class PaymentDetailSerializer(PaymentSerializer):
    invoices = serializers.SerializerMethodField(help_text="The invoices it pays, by invoice number.")

    @extend_schema_field(PaymentInvoiceSerializer(many=True))
    def get_invoices(self, payment: Payment) -> list[dict[str, Any]]:
        lines = self.context["lines"]
        return PaymentInvoiceSerializer(lines, many=True, context={"currency": payment.currency}).data


def _payment_response(request: Request, payment: Payment) -> Response:
    lines = list(selectors.payment_invoices(payment=payment))
    payment.invoice_count = len(lines)
    body = PaymentDetailSerializer(payment, context={"request": request, "lines": lines}).data
    return Response(body)


# Schema pieces ------------------------------------------------------------------------------------------


def _problem(description: str) -> OpenApiResponse:
    return OpenApiResponse(response=CashEquivalentProblemSerializer, description=description)


_RUN = OpenApiParameter(
    "run", OpenApiTypes.STR, OpenApiParameter.PATH, description="A payment run (prun_...)."
)
_PAYMENT = OpenApiParameter(
    "payment", OpenApiTypes.STR, OpenApiParameter.PATH, description="A payment (pay_...)."
)
_BACS_FILE = OpenApiParameter(
    "bacs_file", OpenApiTypes.STR, OpenApiParameter.PATH, description="A Bacs file (bacs_...)."
)
_NOT_FINANCE = "Not found, or payments are not yours (finance officers and administrators only)."
_READ = {
    (401, _P): _problem("No or bad credentials."),
    (404, _P): _problem(_NOT_FINANCE),
}
_LIST = {**_READ, (404, _P): _problem(f"{_NOT_FINANCE} Or a cursor this list did not give.")}
_WRITE = {**_READ, (400, _P): _problem("Malformed: bad JSON or wrong types.")}


# Payment runs -------------------------------------------------------------------------------------------


class PaymentRunPagination(CursorPagination):
    ordering = ("-created_at", "-id")


def _run_body(request: Request, run: PaymentRun, serializer: type = PaymentRunDetailSerializer, **extra):
    """The run as it now stands, read again (eagerly run tasks may have moved it on): three queries."""
    run = selectors.run_get(public_id=run.public_id)
    context = {
        "request": request,
        "progress": selectors.run_progress(run=run),
        "bacs_file": selectors.run_bacs_file(run=run),
        **extra,
    }
    return serializer(run, context=context).data


class PaymentRunListView(_Private, generics.ListAPIView):
    """The payment runs, newest first; POST starts one (or answers the one already running)."""

    serializer_class = PaymentRunSerializer
    pagination_class = PaymentRunPagination

    def get_queryset(self):
        return selectors.run_list()

    @extend_schema(
        operation_id="payment_runs_list",
        responses={200: PaymentRunSerializer(many=True), **_LIST},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        _require_payment_staff(request.user)
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="payment_runs_create",
        request=PaymentRunInputSerializer,
        responses={
            202: OpenApiResponse(
                PaymentRunStartedSerializer,
                description="Started (resumed: false): its payments are being sent. Location is the run.",
            ),
            200: OpenApiResponse(
                PaymentRunStartedSerializer,
                description="A run was already running (resumed: true): this is it, carrying on.",
            ),
            **_WRITE,
            (400, _P): _problem(
                "invalid_payment_run at /pay_on: not a date, a day that has passed or not a working day; "
                "or a malformed body. Nothing is started."
            ),
        },
    )
    def post(self, request: Request) -> Response:
        _require_payment_staff(request.user)
        body = PaymentRunInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        pay_on = _pay_on(body.validated_data.get("pay_on"))
        try:
            started = services.payment_run_start(by=request.user, pay_on=pay_on)
        except services.PaymentRunInvalid as error:
            raise PayOnInvalid(error.message) from None
        data = _run_body(request, started.run, PaymentRunStartedSerializer, resumed=not started.created)
        if not started.created:
            return Response(data)
        location = request.build_absolute_uri(_run_path(started.run))
        return Response(data, status=status.HTTP_202_ACCEPTED, headers={"Location": location})


class PaymentRunView(_Private, APIView):
    """A run's progress and results: payments by state, whom it could not pay and why, its Bacs file."""

    @extend_schema(
        operation_id="payment_runs_retrieve",
        parameters=[_RUN],
        responses={200: PaymentRunDetailSerializer, **_READ},
    )
    def get(self, request: Request, run: str) -> Response:
        return Response(_run_body(request, _payment_run(request.user, run)))


class PaymentPagination(CursorPagination):
    ordering = ("id",)


class PaymentRunPaymentListView(_Private, generics.ListAPIView):
    """The run's payments, in the order it made them."""

    serializer_class = PaymentSerializer
    pagination_class = PaymentPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator, which has no run
            return Payment.objects.none()
        run = _payment_run(self.request.user, self.kwargs["run"])
        # The Bacs file rides along with each payment: not its content, which is the whole file.
        return selectors.run_payments(run=run).defer("bacs_file__content")

    @extend_schema(
        operation_id="payment_runs_payments_list",
        parameters=[_RUN],
        responses={200: PaymentSerializer(many=True), **_LIST},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


# Payments and warnings ----------------------------------------------------------------------------------


class PaymentView(_Private, APIView):
    """One payment and the invoices it pays."""

    @extend_schema(
        operation_id="payments_retrieve",
        parameters=[_PAYMENT],
        responses={200: PaymentDetailSerializer, **_READ},
    )
    def get(self, request: Request, payment: str) -> Response:
        return _payment_response(request, _payment(request.user, payment))


class PaymentWarningPagination(CursorPagination):
    ordering = ("-failed_at", "-id")


class PaymentWarningListView(_Private, generics.ListAPIView):
    """Payments that failed or were reversed and that finance has not yet acknowledged, newest first. Their
    invoices are approved again and wait for the next run."""

    serializer_class = PaymentSerializer
    pagination_class = PaymentWarningPagination

    def get_queryset(self):
        return selectors.payment_warnings().annotate(invoice_count=Count("lines"))

    @extend_schema(
        operation_id="payment_warnings_list",
        responses={200: PaymentSerializer(many=True), **_LIST},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        _require_payment_staff(request.user)
        return super().get(request, *args, **kwargs)


class PaymentAcknowledgeView(_Private, APIView):
    """Finance has seen that the payment failed or was reversed: it leaves the warnings."""

    @extend_schema(
        operation_id="payments_acknowledge",
        parameters=[_PAYMENT],
        request=None,
        responses={
            200: PaymentDetailSerializer,
            **_READ,
            (409, _P): _problem("payment_warning_conflict: the payment did not fail."),
        },
    )
    def post(self, request: Request, payment: str) -> Response:
        found = _payment(request.user, payment)
        services.payment_warning_acknowledge(payment=found, by=request.user)
        return _payment_response(request, _payment(request.user, payment))


# Bacs files ---------------------------------------------------------------------------------------------


class BacsFileRenderer(BaseRenderer):
    """Chooses the file's format in content negotiation (the view writes the file itself); what it renders
    is an error's problem details, which go out as JSON (the exception handler sets their content type)."""

    media_type = BACS_MEDIA_TYPE
    format = "txt"
    charset = BACS_CHARSET

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        if isinstance(data, bytes):
            return data
        return JSONRenderer().render(data, "application/json", renderer_context)


class BacsFileView(_Private, APIView):
    """The Bacs Standard 18 file, exactly as written, for finance to upload to the bank."""

    renderer_classes = [BacsFileRenderer, JSONRenderer]

    @extend_schema(
        operation_id="bacs_files_retrieve",
        parameters=[_BACS_FILE],
        responses={
            (200, BACS_MEDIA_TYPE): OpenApiResponse(
                OpenApiTypes.STR,
                description=f"The file (US-ASCII, CRLF line ends), as an attachment; {SHA256_HEADER} is its "
                "SHA-256 in hex.",
            ),
            **_READ,
            (406, _P): _problem("The Accept header asks for a format this does not answer."),
        },
    )
    def get(self, request: Request, bacs_file: str) -> HttpResponseBase:
        found = _bacs_file(request.user, bacs_file)
        response = HttpResponse(
            found.content.encode(BACS_CHARSET), content_type=f"{BACS_MEDIA_TYPE}; charset={BACS_CHARSET}"
        )
        response["Content-Disposition"] = f'attachment; filename="{found.filename}"'
        response[SHA256_HEADER] = found.sha256
        audit_event_record(actor=request.user, action="bacs_file.downloaded", obj=found)
        return response


def _bacs_file_response(request: Request, public_id: str) -> Response:
    found = _bacs_file(request.user, public_id)  # read again, as the service left it
    return Response(BacsFileSerializer(found, context={"request": request}).data)


class BacsFileConfirmView(_Private, APIView):
    """Finance uploaded the file to the bank: its payments are sent, their invoices paid and each provider
    gets its remittance. Safe to repeat."""

    @extend_schema(
        operation_id="bacs_files_confirm",
        parameters=[_BACS_FILE],
        request=None,
        responses={
            200: BacsFileSerializer,
            **_READ,
            (409, _P): _problem("bacs_file_state_conflict: the file was cancelled."),
        },
    )
    def post(self, request: Request, bacs_file: str) -> Response:
        found = _bacs_file(request.user, bacs_file)
        services.bacs_file_confirm(bacs_file=found, by=request.user)
        return _bacs_file_response(request, bacs_file)


class BacsFileCancelView(_Private, APIView):
    """The file will not be uploaded: its payments are cancelled and their invoices wait for the next run.
    Safe to repeat."""

    @extend_schema(
        operation_id="bacs_files_cancel",
        parameters=[_BACS_FILE],
        request=BacsFileCancelInputSerializer,
        responses={
            200: BacsFileSerializer,
            **_WRITE,
            (400, _P): _problem("No reason (pointing at /reason), or a malformed body."),
            (409, _P): _problem("bacs_file_state_conflict: the file was uploaded."),
        },
    )
    def post(self, request: Request, bacs_file: str) -> Response:
        found = _bacs_file(request.user, bacs_file)
        body = BacsFileCancelInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.bacs_file_cancel(bacs_file=found, by=request.user, reason=body.validated_data["reason"])
        return _bacs_file_response(request, bacs_file)
