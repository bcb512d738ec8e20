"""Surplus audits, legitimate reserves and reclaim notices (issue 9, "Surplus audit and reclaim").

* `GET /api/v1/streams/{code}/surplus/`: the surplus audit of each person the stream funds today
  (`budgets.selectors.surplus`, with what open notices already cover: `payments.selectors.
  stream_surplus_audit`), a page of people at a time, the most reclaimable first within the page. Finance
  officers, and the officers of the stream's own agency; anyone else 404, as for an unknown stream.
* `GET /api/v1/people/{per}/reserves/` (`?open=true`: only those not released), `POST` the same
  `{"stream": "ASC", "amount": "250.00", "reason": "..."}` (`budgets.services.reserves.reserve_set`), and
  `POST /api/v1/reserves/{rsv}/release/` `{"reason": "..."}`. The person's navigator and finance officers:
  for anyone else the person's reserves are not there (404). Releasing twice is 409
  `reserve_already_released`.
* `GET /api/v1/reclaims/?stream=&person=&status=`: the notices the caller may see, newest first; `POST` the
  same `{"person": "per_...", "stream": "ASC", "amount": "500.00", "reason": "...", "reclaim_on":
  "YYYY-MM-DD"}` (`reclaim_on` optional: the earliest the stream's notice allows) gives notice
  (`payments.services.reclaims.reclaim_notice_raise`): finance, or an officer of the stream's agency (403 for
  anyone else). `GET /api/v1/reclaims/{rcl}/`; `POST .../respond/` `{"response": "..."}` (the budget holder,
  or a representative who may approve); `POST .../withdraw/` `{"reason": "..."}` and `POST .../post/`
  `{"amount": "..."}` (optional, at most the notice's; safe to repeat), finance or that agency.

Who sees a notice: the budget holder, their representatives and their navigator; finance officers and
administrators (as on the person's timeline); the officers of the stream's agency. Anyone else gets 404,
exactly as for a notice that does not exist. Someone who sees a notice but may not act on it gets 403.

Errors: malformed bodies (missing fields, wrong types, a date that cannot be read) are 400; a broken rule is
422 with its pointer (`invalid_amount`, `unknown_stream`, `unknown_person`, `invalid_reserve`,
`invalid_reclaim` at `/amount`, `/reason`, `/reclaim_on` or `/response`); a notice or reserve in the wrong
state is 409 (`reclaim_state_conflict`, `reserve_already_released`). Nothing changes on any error. Every
POST honours `Idempotency-Key`; every answer is `Cache-Control: private, no-store`: it is a person's money.
"""

import datetime
from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponseBase
from django.utils.cache import patch_cache_control
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.cash_equivalents import CashEquivalentProblemSerializer
from api.pagination import CursorPagination
from api.problems import PROBLEM_CONTENT_TYPE
from budgets.models import FundingStream, LegitimateReserve
from budgets.selectors.surplus import stream_holders
from budgets.services import reserves as reserve_services
from ledger.errors import DomainError, DomainErrors
from ledger.money import InvalidAmount, money_format, money_parse
from payments import selectors
from payments.models import ReclaimNotice, ReclaimStatus
from payments.services import reclaims as reclaim_services
from people import selectors as people_selectors
from people.access import may
from people.models import BudgetHolder, Role

_P = PROBLEM_CONTENT_TYPE


class ReclaimRequestInvalid(DomainErrors):
    """Every problem of a request at once, each pointing at its field (422)."""

    code = "invalid_request"
    summary = "This cannot be done"


def _pointed(error: DomainError) -> ReclaimRequestInvalid:
    """A service's error about one field (`InvalidReserve`, `InvalidReclaim`) as a problem pointing at it."""
    field = getattr(error, "field", "")
    return ReclaimRequestInvalid(
        [{"code": error.code, "pointer": f"/{field}" if field else "", "detail": error.message}]
    )


# Who sees what ------------------------------------------------------------------------------------------


def may_audit(user: Any, stream: FundingStream) -> bool:
    """Finance officers, and officers of the stream's own agency (who may reclaim its surpluses)."""
    role = getattr(user, "role", None)
    if role == Role.FINANCE_OFFICER:
        return True
    return (
        role == Role.AGENCY_OFFICER
        and user.organisation_id is not None
        and user.organisation_id == (stream.agency_id)
    )


def _audited_stream(user: Any, code: str) -> FundingStream:
    stream = FundingStream.objects.select_related("agency").filter(code=code).first()
    if stream is None or not may_audit(user, stream):
        raise NotFound()
    return stream


notices_visible_to = selectors.reclaim_notices_visible_to


def _visible_notice(user: Any, rcl: str) -> ReclaimNotice:
    notice = notices_visible_to(user).filter(public_id=rcl).first()
    if notice is None:
        raise NotFound()
    return notice


def _reserves_person(user: Any, per: str) -> BudgetHolder:
    """The person `per` if the caller may see and set their reserves; 404 (as for nobody) otherwise."""
    holder = people_selectors.budget_holder_get_by_public_id(public_id=per)
    if holder is None or not may(user, "budgets.set_reserve", holder):
        raise NotFound()
    return holder


def _visible_reserve(user: Any, rsv: str) -> LegitimateReserve:
    reserve = _reserves(LegitimateReserve.objects.filter(public_id=rsv)).first()
    if reserve is None or not may(user, "budgets.set_reserve", reserve.budget_holder):
        raise NotFound()
    return reserve


def _reserves(queryset: QuerySet[LegitimateReserve]) -> QuerySet[LegitimateReserve]:
    return queryset.select_related("budget_holder", "stream", "entered_by", "released_by")


class _Private:
    """A person's money: no cache keeps an answer."""

    def finalize_response(self, request: Request, response: HttpResponseBase, *args: Any, **kwargs: Any):
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        if not response.has_header("Cache-Control"):
            patch_cache_control(response, private=True, no_store=True)
        return response


# Serializers --------------------------------------------------------------------------------------------


@extend_schema_field({"type": "string", "example": "250.00"})
class MoneyField(serializers.CharField):
    """Money as a decimal string with the currency's decimals (beside a `currency`); a number is refused."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


def _money(amount_minor: int | None, currency: str) -> str | None:
    return None if amount_minor is None else money_format(amount_minor, currency=currency)


def _user_id(user: Any) -> str | None:
    return user.public_id if user is not None else None


def _timestamp(**kwargs: Any) -> serializers.DateTimeField:
    return serializers.DateTimeField(default_timezone=datetime.UTC, **kwargs)


def _nullable() -> serializers.CharField:
    return serializers.CharField(allow_null=True)


class SurplusLineSerializer(serializers.Serializer):
    """One person's surplus audit for the stream (money as strings in `currency`)."""

    person = serializers.CharField(help_text="per_...")
    person_name = serializers.CharField()
    stream = serializers.CharField()
    currency = serializers.CharField()
    on = serializers.DateField(help_text="The day audited (today).")
    period_ends_on = serializers.DateField(help_text="The end of the person's budget period.")
    available = MoneyField(help_text="The money the person holds for the stream.")
    weekly_equivalent = MoneyField(help_text="The budget's weekly equivalent.")
    weeks_held = serializers.CharField(
        allow_null=True, help_text="Available / weekly equivalent, to one decimal; null with no budget."
    )
    threshold_weeks = serializers.CharField(help_text="The stream's surplus threshold, in weeks.")
    threshold = MoneyField(help_text="threshold weeks x weekly equivalent: money a person may hold.")
    reserves = MoneyField(help_text="Legitimate reserves not released: never reclaimable.")
    reclaimable = MoneyField(help_text="max(0, available - reserves - threshold).")
    noticed = MoneyField(help_text="What open notices already say will be reclaimed.")
    still_to_notice = MoneyField(
        help_text="max(0, reclaimable - noticed): what notice may still be given for."
    )
    weekly_rate = MoneyField(
        help_text="The average weekly change of the money held over the last 12 weeks (negative: falling)."
    )
    surplus_expected_on = serializers.DateField(
        allow_null=True, help_text="When a surplus arises at that rate, if not yet and within the period."
    )
    forecast_explanation = serializers.CharField(help_text="The forecast, in plain English.")


def _surplus_row(line: selectors.StreamSurplusLine, names: dict[str, str]) -> dict[str, Any]:
    audit = line.audit
    currency = audit.currency
    return {
        "person": audit.budget_holder_public_id,
        "person_name": names.get(audit.budget_holder_public_id, ""),
        "stream": audit.stream_code,
        "currency": currency,
        "on": audit.on,
        "period_ends_on": audit.period_ends_on,
        "available": _money(audit.available_minor, currency),
        "weekly_equivalent": _money(audit.weekly_equivalent_minor, currency),
        "weeks_held": None if audit.weeks_held is None else str(audit.weeks_held),
        "threshold_weeks": str(audit.threshold_weeks),
        "threshold": _money(audit.threshold_minor, currency),
        "reserves": _money(audit.reserves_minor, currency),
        "reclaimable": _money(audit.reclaimable_minor, currency),
        "noticed": _money(line.noticed_minor, currency),
        "still_to_notice": _money(line.still_to_notice_minor, currency),
        "weekly_rate": _money(audit.weekly_rate_minor, currency),
        "surplus_expected_on": audit.surplus_expected_on,
        "forecast_explanation": audit.forecast_explanation,
    }


class ReserveSerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id", help_text="rsv_...")
    person = serializers.CharField(source="budget_holder.public_id", help_text="per_...")
    stream = serializers.CharField(source="stream.code")
    amount = serializers.SerializerMethodField()
    currency = serializers.CharField()
    reason = serializers.CharField(help_text="What the money is set aside for.")
    entered_by = serializers.CharField(source="entered_by.public_id", help_text="Who set it aside (usr_...).")
    created_at = _timestamp()
    released = serializers.SerializerMethodField(help_text="true once released: no longer set aside.")
    released_at = _timestamp(allow_null=True)
    released_by = serializers.SerializerMethodField(help_text="Who released it (usr_...), or null.")
    release_reason = serializers.SerializerMethodField(help_text="Why it was released, or null.")

    @extend_schema_field(MoneyField())
    def get_amount(self, reserve: LegitimateReserve) -> str:
        return money_format(reserve.amount_minor, currency=reserve.currency)

    def get_released(self, reserve: LegitimateReserve) -> bool:
        return reserve.released_at is not None

    @extend_schema_field(_nullable())
    def get_released_by(self, reserve: LegitimateReserve) -> str | None:
        return _user_id(reserve.released_by)

    @extend_schema_field(_nullable())
    def get_release_reason(self, reserve: LegitimateReserve) -> str | None:
        return reserve.release_reason or None


class ReserveInputSerializer(serializers.Serializer):
    stream = serializers.CharField(max_length=16, help_text="The stream whose money is set aside (its code).")
    amount = MoneyField(max_length=32, help_text="How much, in the stream's currency.")
    reason = serializers.CharField(
        allow_blank=True,
        help_text=f"What it is set aside for ({reserve_services.REASON_MAX_LENGTH} characters at most).",
    )


class ReserveReleaseInputSerializer(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True, help_text="Why the money is no longer set aside.")


class ReclaimWithdrawInputSerializer(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True, help_text="Why nothing will be reclaimed after all.")


class ReclaimNoticeSerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id", help_text="rcl_...")
    person = serializers.CharField(source="budget_holder.public_id", help_text="per_...")
    person_name = serializers.CharField(source="budget_holder.full_name")
    stream = serializers.CharField(source="stream.code")
    agency = serializers.CharField(
        source="stream.agency.name", help_text="The agency the money goes back to."
    )
    currency = serializers.CharField()
    amount = serializers.SerializerMethodField(help_text="What the notice says will be reclaimed.")
    reason = serializers.CharField()
    status = serializers.ChoiceField(
        choices=ReclaimStatus.choices,
        help_text="notified, responded (the budget holder replied), withdrawn or reclaimed.",
    )
    notice_given_on = serializers.DateField()
    reclaim_on = serializers.DateField(help_text="The day from which the money may be reclaimed.")
    raised_by = serializers.CharField(source="raised_by.public_id", help_text="usr_...")
    raised_at = _timestamp()
    response = serializers.SerializerMethodField(help_text="The budget holder's latest reply, or null.")
    responded_by = serializers.SerializerMethodField()
    responded_at = _timestamp(allow_null=True)
    withdrawal_reason = serializers.SerializerMethodField(help_text="Why it was withdrawn, or null.")
    withdrawn_by = serializers.SerializerMethodField()
    withdrawn_at = _timestamp(allow_null=True)
    reclaimed = serializers.SerializerMethodField(help_text="What was reclaimed, once reclaimed; else null.")
    reclaimed_by = serializers.SerializerMethodField()
    reclaimed_at = _timestamp(allow_null=True)
    ledger_transaction = serializers.SerializerMethodField(
        help_text="The ledger transaction of the reclaim (txn_...), or null."
    )

    @extend_schema_field(MoneyField())
    def get_amount(self, notice: ReclaimNotice) -> str:
        return money_format(notice.amount_minor, currency=notice.currency)

    @extend_schema_field(_nullable())
    def get_response(self, notice: ReclaimNotice) -> str | None:
        return notice.response or None

    @extend_schema_field(_nullable())
    def get_responded_by(self, notice: ReclaimNotice) -> str | None:
        return _user_id(notice.responded_by)

    @extend_schema_field(_nullable())
    def get_withdrawal_reason(self, notice: ReclaimNotice) -> str | None:
        return notice.withdrawal_reason or None

    @extend_schema_field(_nullable())
    def get_withdrawn_by(self, notice: ReclaimNotice) -> str | None:
        return _user_id(notice.withdrawn_by)

    @extend_schema_field(MoneyField(allow_null=True))
    def get_reclaimed(self, notice: ReclaimNotice) -> str | None:
        return _money(notice.reclaimed_minor, notice.currency)

    @extend_schema_field(_nullable())
    def get_reclaimed_by(self, notice: ReclaimNotice) -> str | None:
        return _user_id(notice.reclaimed_by)

    @extend_schema_field(_nullable())
    def get_ledger_transaction(self, notice: ReclaimNotice) -> str | None:
        return notice.ledger_transaction or None


class ReclaimNoticeInputSerializer(serializers.Serializer):
    person = serializers.CharField(max_length=32, help_text="The budget holder (per_...).")
    stream = serializers.CharField(max_length=16, help_text="The stream whose money is reclaimed (its code).")
    amount = MoneyField(max_length=32, help_text="At most what is reclaimable less other open notices.")
    reason = serializers.CharField(allow_blank=True, help_text="Why, in words the budget holder understands.")
    reclaim_on = serializers.DateField(
        required=False,
        allow_null=True,
        help_text="The day from which it may be reclaimed: at least the stream's notice weeks from today "
        "(the earliest, when left out).",
    )


class ReclaimRespondInputSerializer(serializers.Serializer):
    response = serializers.CharField(allow_blank=True, help_text="What the budget holder says back.")


class ReclaimPostInputSerializer(serializers.Serializer):
    amount = MoneyField(
        max_length=32,
        required=False,
        allow_null=True,
        help_text="How much to reclaim: at most the notice's amount (all of it, when left out).",
    )


def _amount(text: str | None, *, currency: str, problems: list[dict[str, str]]) -> int | None:
    if text is None:
        return None
    try:
        return money_parse(text, currency=currency)
    except InvalidAmount as error:
        problems.append({"code": error.code, "pointer": "/amount", "detail": error.message})
        return None


# Schema pieces ------------------------------------------------------------------------------------------


def _problem(description: str) -> OpenApiResponse:
    return OpenApiResponse(response=CashEquivalentProblemSerializer, description=description)


_STREAM = OpenApiParameter("code", OpenApiTypes.STR, OpenApiParameter.PATH, description="A stream's code.")
_PERSON = OpenApiParameter("per", OpenApiTypes.STR, OpenApiParameter.PATH, description="A person (per_...).")
_RESERVE = OpenApiParameter(
    "rsv", OpenApiTypes.STR, OpenApiParameter.PATH, description="A reserve (rsv_...)."
)
_NOTICE = OpenApiParameter(
    "rcl", OpenApiTypes.STR, OpenApiParameter.PATH, description="A reclaim notice (rcl_...)."
)
_READ = {
    (401, _P): _problem("No or bad credentials."),
    (404, _P): _problem("Not found, or not yours to see."),
}
_WRITE = {
    **_READ,
    (400, _P): _problem("Malformed: bad JSON, wrong types or a missing field."),
    (422, _P): _problem("It breaks a rule; errors lists every problem with a pointer. Nothing changed."),
}


# Surplus audits -----------------------------------------------------------------------------------------


class HolderPagination(CursorPagination):
    ordering = ("id",)


class StreamSurplusView(_Private, generics.GenericAPIView):
    """The surplus audit of each person the stream funds today, a page of people at a time."""

    pagination_class = HolderPagination
    serializer_class = SurplusLineSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator, which has no stream
            return BudgetHolder.objects.none()
        return stream_holders(stream_code=self.kwargs["code"])

    @extend_schema(
        operation_id="streams_surplus_list",
        parameters=[_STREAM],
        responses={200: SurplusLineSerializer(many=True), **_READ},
    )
    def get(self, request: Request, code: str) -> Response:
        stream = _audited_stream(request.user, code)
        holders = self.paginate_queryset(self.get_queryset())
        names = {holder.public_id: holder.full_name for holder in holders}
        lines = selectors.stream_surplus_audit(stream_code=stream.code, holders=holders)
        rows = [_surplus_row(line, names) for line in lines]
        return self.get_paginated_response(SurplusLineSerializer(rows, many=True).data)


# Reserves -----------------------------------------------------------------------------------------------


class ReservePagination(CursorPagination):
    ordering = ("-created_at", "-id")


class PersonReserveListView(_Private, generics.ListAPIView):
    """The person's legitimate reserves, the latest first; POST sets one aside."""

    serializer_class = ReserveSerializer
    pagination_class = ReservePagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return LegitimateReserve.objects.none()
        holder = _reserves_person(self.request.user, self.kwargs["per"])
        reserves = _reserves(LegitimateReserve.objects.filter(budget_holder=holder))
        if self.request.query_params.get("open") in ("true", "1"):
            reserves = reserves.filter(released_at__isnull=True)
        return reserves

    @extend_schema(
        operation_id="people_reserves_list",
        parameters=[
            _PERSON,
            OpenApiParameter("open", OpenApiTypes.BOOL, description="true: only those not released."),
        ],
        responses={200: ReserveSerializer(many=True), **_READ},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="people_reserves_create",
        parameters=[_PERSON],
        request=ReserveInputSerializer,
        responses={
            201: OpenApiResponse(ReserveSerializer, description="Set aside."),
            **_WRITE,
            (422, _P): _problem(
                "unknown_stream at /stream; invalid_amount or invalid_reserve at /amount (nothing, or more "
                "than the person holds beyond their other reserves); invalid_reserve at /reason."
            ),
        },
    )
    def post(self, request: Request, per: str) -> Response:
        holder = _reserves_person(request.user, per)
        body = ReserveInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        stream = FundingStream.objects.filter(code=data["stream"]).first()
        if stream is None:
            raise ReclaimRequestInvalid(
                [
                    {
                        "code": "unknown_stream",
                        "pointer": "/stream",
                        "detail": f"There is no funding stream {data['stream']}.",
                    }
                ]
            )
        problems: list[dict[str, str]] = []
        amount_minor = _amount(data["amount"], currency=stream.currency, problems=problems)
        if problems:
            raise ReclaimRequestInvalid(problems)
        try:
            reserve = reserve_services.reserve_set(
                budget_holder=holder,
                stream=stream,
                amount_minor=amount_minor,
                reason=data["reason"],
                by=request.user,
            )
        except reserve_services.InvalidReserve as error:
            raise _pointed(error) from None
        found = _reserves(LegitimateReserve.objects.filter(pk=reserve.pk)).get()
        return Response(ReserveSerializer(found).data, status=status.HTTP_201_CREATED)


class ReserveReleaseView(_Private, APIView):
    """The money is no longer set aside: the reserve is kept, marked released, with who, when and why."""

    @extend_schema(
        operation_id="reserves_release",
        parameters=[_RESERVE],
        request=ReserveReleaseInputSerializer,
        responses={
            200: ReserveSerializer,
            **_WRITE,
            (409, _P): _problem("reserve_already_released."),
            (422, _P): _problem("invalid_reserve at /reason: no reason, or a reason too long."),
        },
    )
    def post(self, request: Request, rsv: str) -> Response:
        reserve = _visible_reserve(request.user, rsv)
        body = ReserveReleaseInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            reserve_services.reserve_release(
                reserve=reserve, by=request.user, reason=body.validated_data["reason"]
            )
        except reserve_services.InvalidReserve as error:
            raise _pointed(error) from None
        return Response(ReserveSerializer(_visible_reserve(request.user, rsv)).data)


# Reclaim notices ----------------------------------------------------------------------------------------


class NoticePagination(CursorPagination):
    ordering = ("-raised_at", "-id")


def _notice_response(request: Request, rcl: str, *, created: bool = False) -> Response:
    notice = _visible_notice(request.user, rcl)  # read again, as the service left it
    return Response(
        ReclaimNoticeSerializer(notice).data,
        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
    )


class ReclaimNoticeListView(_Private, generics.ListAPIView):
    """The reclaim notices the caller may see, newest first; POST gives a budget holder notice."""

    serializer_class = ReclaimNoticeSerializer
    pagination_class = NoticePagination

    def get_queryset(self):
        notices = notices_visible_to(self.request.user)
        params = self.request.query_params
        if params.get("stream"):
            notices = notices.filter(stream__code=params["stream"])
        if params.get("person"):
            notices = notices.filter(budget_holder__public_id=params["person"])
        if params.get("status"):
            notices = notices.filter(status=params["status"])
        return notices

    @extend_schema(
        operation_id="reclaims_list",
        parameters=[
            OpenApiParameter("stream", OpenApiTypes.STR, description="Only this stream's (its code)."),
            OpenApiParameter("person", OpenApiTypes.STR, description="Only this person's (per_...)."),
            OpenApiParameter(
                "status", OpenApiTypes.STR, enum=ReclaimStatus.values, description="Only those in this state."
            ),
        ],
        responses={200: ReclaimNoticeSerializer(many=True), **_READ},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="reclaims_create",
        request=ReclaimNoticeInputSerializer,
        responses={
            201: OpenApiResponse(ReclaimNoticeSerializer, description="Notice given (and emailed)."),
            **_WRITE,
            (403, _P): _problem(
                "not_allowed_to_reclaim: only finance, or an officer of the stream's own agency."
            ),
            (422, _P): _problem(
                "unknown_stream at /stream; unknown_person at /person (not funded by the stream today); "
                "invalid_amount or invalid_reclaim at /amount (more than may be reclaimed); invalid_reclaim "
                "at /reason or /reclaim_on (sooner than the stream's notice allows)."
            ),
        },
    )
    def post(self, request: Request) -> Response:
        if getattr(request.user, "role", None) not in (Role.FINANCE_OFFICER, Role.AGENCY_OFFICER):
            raise reclaim_services.NotAllowedToReclaim()
        body = ReclaimNoticeInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        stream = FundingStream.objects.select_related("agency").filter(code=data["stream"]).first()
        if stream is None:
            raise ReclaimRequestInvalid(
                [
                    {
                        "code": "unknown_stream",
                        "pointer": "/stream",
                        "detail": f"There is no funding stream {data['stream']}.",
                    }
                ]
            )
        if not may_audit(request.user, stream):
            raise reclaim_services.NotAllowedToReclaim()
        problems: list[dict[str, str]] = []
        holder = stream_holders(stream_code=stream.code).filter(public_id=data["person"]).first()
        if holder is None:
            problems.append(
                {
                    "code": "unknown_person",
                    "pointer": "/person",
                    "detail": f"{stream.name} funds no person {data['person']} today.",
                }
            )
        amount_minor = _amount(data["amount"], currency=stream.currency, problems=problems)
        if problems:
            raise ReclaimRequestInvalid(problems)
        try:
            notice = reclaim_services.reclaim_notice_raise(
                budget_holder=holder,
                stream_code=stream.code,
                amount_minor=amount_minor,
                reason=data["reason"],
                reclaim_on=data.get("reclaim_on"),
                by=request.user,
            )
        except reclaim_services.InvalidReclaim as error:
            raise _pointed(error) from None
        return _notice_response(request, notice.public_id, created=True)


class ReclaimNoticeView(_Private, APIView):
    """One reclaim notice, with the budget holder's reply and what became of it."""

    @extend_schema(
        operation_id="reclaims_retrieve",
        parameters=[_NOTICE],
        responses={200: ReclaimNoticeSerializer, **_READ},
    )
    def get(self, request: Request, rcl: str) -> Response:
        return _notice_response(request, rcl)


class ReclaimRespondView(_Private, APIView):
    """The budget holder's reply to the notice (the latest is kept; each is on their timeline)."""

    @extend_schema(
        operation_id="reclaims_respond",
        parameters=[_NOTICE],
        request=ReclaimRespondInputSerializer,
        responses={
            200: ReclaimNoticeSerializer,
            **_WRITE,
            (403, _P): _problem(
                "not_allowed_to_respond: only the budget holder or an approving representative."
            ),
            (409, _P): _problem("reclaim_state_conflict: the notice was withdrawn or reclaimed."),
            (422, _P): _problem("invalid_reclaim at /response: no reply, or one too long."),
        },
    )
    def post(self, request: Request, rcl: str) -> Response:
        notice = _visible_notice(request.user, rcl)
        body = ReclaimRespondInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            reclaim_services.reclaim_notice_respond(
                notice=notice, text=body.validated_data["response"], by=request.user
            )
        except reclaim_services.InvalidReclaim as error:
            raise _pointed(error) from None
        return _notice_response(request, rcl)


class ReclaimWithdrawView(_Private, APIView):
    """Nothing will be reclaimed under the notice after all."""

    @extend_schema(
        operation_id="reclaims_withdraw",
        parameters=[_NOTICE],
        request=ReclaimWithdrawInputSerializer,
        responses={
            200: ReclaimNoticeSerializer,
            **_WRITE,
            (403, _P): _problem(
                "not_allowed_to_reclaim: only finance, or an officer of the stream's agency."
            ),
            (409, _P): _problem("reclaim_state_conflict: the notice was withdrawn or reclaimed already."),
            (422, _P): _problem("invalid_reclaim at /reason."),
        },
    )
    def post(self, request: Request, rcl: str) -> Response:
        notice = _visible_notice(request.user, rcl)
        body = ReclaimWithdrawInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            reclaim_services.reclaim_notice_withdraw(
                notice=notice, by=request.user, reason=body.validated_data["reason"]
            )
        except reclaim_services.InvalidReclaim as error:
            raise _pointed(error) from None
        return _notice_response(request, rcl)


class ReclaimPostView(_Private, APIView):
    """Reclaim the money (all the notice said, or less): one balanced ledger transaction. Safe to repeat."""

    @extend_schema(
        operation_id="reclaims_post",
        parameters=[_NOTICE],
        request=ReclaimPostInputSerializer,
        responses={
            200: ReclaimNoticeSerializer,
            **_WRITE,
            (403, _P): _problem(
                "not_allowed_to_reclaim: only finance, or an officer of the stream's agency."
            ),
            (409, _P): _problem(
                "reclaim_state_conflict: the notice was withdrawn, or its date has not come."
            ),
            (422, _P): _problem(
                "invalid_amount or invalid_reclaim at /amount: more than the notice, or than the person now "
                "holds beyond their reserves; invalid_reclaim at /reclaim_on: the ledger period is closed."
            ),
        },
    )
    def post(self, request: Request, rcl: str) -> Response:
        notice = _visible_notice(request.user, rcl)
        body = ReclaimPostInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        problems: list[dict[str, str]] = []
        amount_minor = _amount(body.validated_data.get("amount"), currency=notice.currency, problems=problems)
        if problems:
            raise ReclaimRequestInvalid(problems)
        try:
            reclaim_services.reclaim_post(notice=notice, by=request.user, amount_minor=amount_minor)
        except reclaim_services.InvalidReclaim as error:
            raise _pointed(error) from None
        return _notice_response(request, rcl)
