"""Funding received from the agencies, and the instalments that are late (issue 8, "Funding received").

* `POST /api/v1/streams/{code}/funding-receipts/` `{"reference": "...", "received_on": "YYYY-MM-DD",
  "instalments": ["ins_...", ...], "amount": "123.45"}` (`amount` optional: what the bank line says, which
  must equal the instalments' sum): records that the stream's agency paid those instalments
  (`payments.services.funding.funding_receipt_record`: the stream's receivable to the bank's cash). 201 with
  the receipt; the same reference again for the same instalments and day is 200 with the first receipt and
  changes nothing; the same reference for anything else is 409 `duplicate_reference` naming the first.
  Malformed input (missing fields, wrong types, a date or amount that cannot be read) is 400; a broken rule
  is 422 with every problem at once, each with its pointer (`unknown_instalment`, `not_due`,
  `already_received`, `amount_mismatch`, `future_date`, `received_too_early`, `invalid_reference`,
  `no_instalments`, `period_closed`...). Nothing changes on any error.
* `GET /api/v1/streams/{code}/funding-receipts/`: the stream's receipts, the latest received first.
* `GET /api/v1/instalments/late/?stream=CODE`: instalments that fell due before today and that the agency
  has not paid, oldest first, each with how many days late it is.

Who: finance officers and administrators record, and see every stream's. An agency officer sees the late
instalments and the receipts of their own agency's streams (`statements.access`, as for agency
statements), and may not record (403); another agency's stream answers 404, exactly as an unknown code, and
so does everyone else (budget holders, representatives, navigators, providers). No credentials is 401.
Lists are cursor-paginated. Every answer is `Cache-Control: private, no-store`: it is public money by person.
"""

import datetime
from typing import Any

from django.utils import timezone
from django.utils.cache import patch_cache_control
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from api.cash_equivalents import CashEquivalentProblemSerializer
from api.pagination import CursorPagination
from api.problems import PROBLEM_CONTENT_TYPE
from budgets.models import FundingStream, Instalment
from budgets.selectors import catalogue as catalogue_selectors
from ledger.money import InvalidAmount, money_format, money_parse
from payments import selectors
from payments.models import FundingReceipt
from payments.services.funding import MAX_INSTALMENTS, REFERENCE_MAX_LENGTH, funding_receipt_record
from people.models import Role
from statements.access import sees_stream_statement, sees_stream_statements, streams_with_statements_for

_P = PROBLEM_CONTENT_TYPE
RECORDERS = frozenset({Role.FINANCE_OFFICER, Role.ADMINISTRATOR})


# Who sees what ----------------------------------------------------------------------------------------


def may_record_funding(user: Any) -> bool:
    return getattr(user, "role", None) in RECORDERS


def visible_streams(user: Any):
    """The streams whose funding `user` sees (none for anyone but finance, administrators and officers)."""
    return streams_with_statements_for(user, FundingStream.objects.all())


def visible_stream(user: Any, code: str) -> FundingStream:
    """The stream `code` if the caller sees its funding; 404 (as for an unknown code) otherwise."""
    try:
        stream = catalogue_selectors.stream_get(code=code)
    except catalogue_selectors.UnknownStream:
        raise NotFound() from None
    if not sees_stream_statement(user, stream):
        raise NotFound()
    return stream


class _Private:
    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any):
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        if not response.has_header("Cache-Control"):
            patch_cache_control(response, private=True, no_store=True)
        return response


# Serializers --------------------------------------------------------------------------------------------


@extend_schema_field({"type": "string", "example": "1000.00"})
class MoneyField(serializers.CharField):
    """Money as a decimal string with the currency's decimals (beside a `currency`)."""


class FundingReceiptInputSerializer(serializers.Serializer):
    reference = serializers.CharField(
        max_length=REFERENCE_MAX_LENGTH, help_text="The agency's payment reference, as on the bank statement."
    )
    received_on = serializers.DateField(help_text="The day the money arrived (YYYY-MM-DD).")
    instalments = serializers.ListField(
        child=serializers.CharField(max_length=64),
        max_length=MAX_INSTALMENTS,
        help_text="The instalments paid (ins_...): the stream's, due and not yet received.",
    )
    amount = MoneyField(
        required=False, allow_null=True, help_text="What the bank line says: must equal the instalments' sum."
    )

    def validate_amount(self, value: str | None) -> int | None:
        if value is None:
            return None
        try:
            return money_parse(value, currency=self.context["currency"])
        except InvalidAmount as error:
            raise serializers.ValidationError(error.message, code="invalid_amount") from None


class FundingReceiptSerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id", help_text="rcv_...")
    stream = serializers.CharField(source="stream.code")
    reference = serializers.CharField()
    received_on = serializers.DateField()
    amount = serializers.SerializerMethodField()
    currency = serializers.CharField()
    instalments = serializers.SerializerMethodField(help_text="The instalments it paid (ins_...).")
    ledger_transaction = serializers.CharField(help_text="The ledger transaction that posted it (txn_...).")
    recorded_by = serializers.SerializerMethodField(help_text="Who recorded it (a user id), or null.")
    recorded_at = serializers.DateTimeField(default_timezone=datetime.UTC)

    @extend_schema_field({"type": "string", "example": "2000.00"})
    def get_amount(self, receipt: FundingReceipt) -> str:
        return money_format(receipt.amount_minor, currency=receipt.currency)

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_instalments(self, receipt: FundingReceipt) -> list[str]:
        # From the prefetched rows, sorted here, so a page costs one query for them all.
        return sorted(instalment.public_id for instalment in receipt.instalments.all())

    def get_recorded_by(self, receipt: FundingReceipt) -> str | None:
        return receipt.recorded_by.public_id if receipt.recorded_by_id else None


class LateInstalmentSerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id", help_text="ins_...")
    person = serializers.CharField(source="personal_budget.budget_holder.public_id", help_text="per_...")
    stream = serializers.CharField(source="personal_budget.stream.code")
    personal_budget = serializers.CharField(source="personal_budget.public_id", help_text="pb_...")
    sequence = serializers.IntegerField()
    due_on = serializers.DateField()
    days_late = serializers.SerializerMethodField(help_text="Days since it fell due, to today.")
    amount = serializers.SerializerMethodField()
    currency = serializers.CharField(source="personal_budget.currency")
    covers_from = serializers.DateField()
    covers_to = serializers.DateField()

    def get_days_late(self, instalment: Instalment) -> int:
        return (self.context["today"] - instalment.due_on).days

    @extend_schema_field({"type": "string", "example": "1000.00"})
    def get_amount(self, instalment: Instalment) -> str:
        return money_format(instalment.amount_minor, currency=instalment.personal_budget.currency)


# Schema pieces ------------------------------------------------------------------------------------------


def _problem(description: str) -> OpenApiResponse:
    return OpenApiResponse(response=CashEquivalentProblemSerializer, description=description)


_STREAM = OpenApiParameter("code", OpenApiTypes.STR, OpenApiParameter.PATH, description="A stream's code.")
_NOT_YOURS = "No such stream, or its funding is not yours to see."
_READ = {(401, _P): _problem("No or bad credentials."), (404, _P): _problem(_NOT_YOURS)}


# Views --------------------------------------------------------------------------------------------------


class ReceiptPagination(CursorPagination):
    ordering = ("-received_on", "-id")


class LatePagination(CursorPagination):
    ordering = ("due_on", "id")


class FundingReceiptListView(_Private, generics.ListAPIView):
    """The stream's funding receipts, the latest received first; POST records one."""

    serializer_class = FundingReceiptSerializer
    pagination_class = ReceiptPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator, which has no stream
            return FundingReceipt.objects.none()
        stream = visible_stream(self.request.user, self.kwargs["code"])
        return selectors.funding_receipts(stream_code=stream.code).prefetch_related("instalments")

    @extend_schema(
        operation_id="streams_funding_receipts_list",
        parameters=[_STREAM],
        responses={200: FundingReceiptSerializer(many=True), **_READ},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="streams_funding_receipts_create",
        parameters=[_STREAM],
        request=FundingReceiptInputSerializer,
        responses={
            201: OpenApiResponse(FundingReceiptSerializer, description="Recorded."),
            200: OpenApiResponse(FundingReceiptSerializer, description="The same receipt, recorded before."),
            (400, _P): _problem("Malformed: bad JSON, wrong types, a date or amount that cannot be read."),
            **_READ,
            (403, _P): _problem("An agency officer sees the stream's funding but does not record it."),
            (409, _P): _problem("duplicate_reference: the reference was recorded for another payment."),
            (422, _P): _problem("Every broken rule at once, each with its pointer."),
        },
    )
    def post(self, request: Request, code: str) -> Response:
        stream = visible_stream(request.user, code)
        if not may_record_funding(request.user):
            raise PermissionDenied("Only finance officers and administrators record funding received.")
        body = FundingReceiptInputSerializer(data=request.data, context={"currency": stream.currency})
        body.is_valid(raise_exception=True)
        data = body.validated_data
        result = funding_receipt_record(
            stream=stream,
            instalments=data["instalments"],
            reference=data["reference"],
            received_on=data["received_on"],
            amount_minor=data.get("amount"),
            by=request.user,
        )
        receipt = selectors.funding_receipts(stream_code=stream.code).prefetch_related("instalments")
        found = receipt.get(pk=result.receipt.pk)
        return Response(
            FundingReceiptSerializer(found, context={"request": request}).data,
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )


class LateInstalmentListView(_Private, generics.ListAPIView):
    """Instalments that fell due before today and that the agency has not paid, oldest first."""

    serializer_class = LateInstalmentSerializer
    pagination_class = LatePagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Instalment.objects.none()
        user = self.request.user
        code = self.request.query_params.get("stream")
        if code:
            return selectors.instalments_late(stream_code=visible_stream(user, code).code)
        if not sees_stream_statements(user):
            raise NotFound()
        return selectors.instalments_late(streams=visible_streams(user))

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "today": timezone.localdate()}

    @extend_schema(
        operation_id="instalments_late_list",
        parameters=[
            OpenApiParameter(
                "stream",
                OpenApiTypes.STR,
                description="Only this stream's (its code); all you see if left out.",
            )
        ],
        responses={200: LateInstalmentSerializer(many=True), **_READ},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)
