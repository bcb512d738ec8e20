"""The providers' invoicing API (api.md, "For providers" and "For budget holders"), and auto-approval rules.

* `GET /api/v1/engagements/`: the support items the caller's provider is engaged to deliver (the person's
  side sees the person's engagements; `?person=` narrows).
* `POST /api/v1/invoices/`: a provider submits an invoice; every rule of api.md's table is checked at once
  (`invoicing.services.invoice_submit`). `GET /api/v1/invoices/` (`?status=&person=&issued_after=
  &issued_before=`), `GET /api/v1/invoices/{id}/`, `POST /api/v1/invoices/{id}/withdraw/` (the provider).
* `POST /api/v1/invoices/{id}/approve/`, `.../query/` `{"reason"}`, `.../reject/` `{"reason"}`: the person or
  a representative who may approve; their navigator for an invoice on hold.
* `GET /api/v1/remittances/`: what was paid to the caller's provider (finance and administrators: all); a
  payment that failed or was reversed afterwards keeps its remittance, with `reversed_on` and why.
* `GET|POST /api/v1/people/{per}/auto-approval-rules/`, `POST /api/v1/auto-approval-rules/{aar}/revoke/`:
  the person's standing approvals of a provider's routine invoices.

Whatever the caller may not see answers 404, exactly as what does not exist; what they see but may not do
answers 403. Every POST honours `Idempotency-Key` (api/idempotency.py).
"""

import datetime
from collections.abc import Callable
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.cash_equivalents import CashEquivalentProblemSerializer, DecimalTextField, MoneyTextField
from api.pagination import CursorPagination
from api.plans import _visible_person
from api.problems import PROBLEM_CONTENT_TYPE
from api.timeline import TextField
from invoicing import selectors, services
from invoicing.access import auto_approval_rules_visible_to
from invoicing.models import AutoApprovalRule, Invoice, InvoiceStatus, Remittance
from ledger.errors import DomainErrors
from ledger.money import InvalidAmount, UnknownCurrency, money_format, money_formatter, money_parse
from people.access import may
from people.models import Organisation, OrganisationKind, Role
from plans.models import Engagement


def _money(amount_minor: int, currency: str) -> str:
    return money_format(amount_minor, currency=currency)


def _problem(description: str) -> OpenApiResponse:
    return OpenApiResponse(response=CashEquivalentProblemSerializer, description=description)


_INVOICE = OpenApiParameter(
    "id", OpenApiTypes.STR, OpenApiParameter.PATH, description="An invoice (inv_...)."
)
# Errors are problem details, served as application/problem+json (api/problems.py), not application/json.
_P = PROBLEM_CONTENT_TYPE
_READ = {
    (401, _P): _problem("No or bad credentials."),
    (404, _P): _problem("Not found, or not yours to see."),
}
_WRITE = {
    **_READ,
    (400, _P): _problem("Malformed: bad JSON, wrong types, missing fields."),
    (403, _P): _problem("You see this, but may not do that to it."),
    (409, _P): _problem("The invoice is not in a state that allows it (invalid_invoice_state)."),
    (422, _P): _problem("It breaks a rule; errors lists every problem with a pointer."),
}
_LIST = {
    (401, _P): _READ[(401, _P)],
    (404, _P): _problem("A cursor this list did not give (use next and previous as they are)."),
}
_FILTERED_LIST = {**_LIST, (400, _P): _problem("A bad filter.")}


# Engagements --------------------------------------------------------------------------------------------


class EngagementSerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id", help_text="The engagement (eng_...).")
    support_item = serializers.CharField(source="support_item_public_id", help_text="si_...")
    person = serializers.CharField(source="budget_holder.public_id", help_text="per_...")
    person_name = serializers.CharField(source="budget_holder.full_name")
    provider = serializers.CharField(source="provider.public_id", help_text="pro_...")
    service_code = serializers.CharField(help_text="The catalogue service, or empty for a described item.")
    description = serializers.CharField()
    unit = serializers.CharField()
    agreed_rate = serializers.SerializerMethodField(help_text="Per unit, with the currency's decimals.")
    currency = serializers.CharField()
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    planned_quantity = serializers.DecimalField(max_digits=12, decimal_places=2)
    invoiced_quantity = serializers.DecimalField(
        max_digits=12, decimal_places=2, help_text="On invoices not rejected or withdrawn."
    )
    outcomes = serializers.ListField(
        source="outcome_public_ids", child=serializers.CharField(), help_text="The outcomes it serves."
    )

    def get_agreed_rate(self, engagement: Engagement) -> str:
        return _money(engagement.agreed_rate_minor, engagement.currency)


class EngagementFilterSerializer(serializers.Serializer):
    person = serializers.CharField(required=False, max_length=24)


class EngagementListView(generics.ListAPIView):
    """The support items the caller's provider is engaged to deliver, with what has been invoiced so far."""

    serializer_class = EngagementSerializer
    pagination_class = CursorPagination

    @extend_schema(
        operation_id="engagements_list",
        parameters=[
            OpenApiParameter("person", OpenApiTypes.STR, description="Only this person's (per_...).")
        ],
        responses={200: EngagementSerializer(many=True), **_FILTERED_LIST},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        query = EngagementFilterSerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return selectors.engagement_list(user=self.request.user, person=query.validated_data.get("person"))


# Invoices -----------------------------------------------------------------------------------------------


class InvoiceLineInputSerializer(serializers.Serializer):
    support_item = TextField(max_length=24, help_text="The support item delivered (si_...).")
    service_date = serializers.DateField(help_text="The day the support was delivered.")
    quantity = DecimalTextField(help_text='How many units, as a string ("3.50"), at most 2 decimals.')
    unit_price = MoneyTextField(help_text="Per unit, with the currency's decimals.")
    amount = MoneyTextField(help_text="quantity x unit_price, rounded half up.")
    description = TextField(required=False, allow_blank=True, max_length=500, default="")


class InvoiceInputSerializer(serializers.Serializer):
    invoice_number = TextField(max_length=64, help_text="Your own number, unique among your invoices.")
    person = TextField(max_length=24, help_text="The person supported (per_...).")
    issued_on = serializers.DateField()
    currency = TextField(min_length=3, max_length=3, help_text="ISO 4217, e.g. GBP.")
    lines = InvoiceLineInputSerializer(many=True, allow_empty=False, max_length=services.INVOICE_MAX_LINES)
    total = MoneyTextField(help_text="The sum of the lines' amounts.")


# The invoice as the API writes it. `invoice_bodies` builds it from plain rows (a list page has a thousand
# of them); these serializers document that shape for the OpenAPI schema, and the schemathesis tests hold the
# two to each other.


class InvoiceLineStreamSerializer(serializers.Serializer):
    stream = serializers.CharField(help_text="A funding stream's code.")
    amount = serializers.CharField(help_text="Its part of the line, with the currency's decimals.")


class InvoiceLineSerializer(serializers.Serializer):
    support_item = serializers.CharField()
    service_date = serializers.DateField()
    quantity = serializers.CharField(help_text='A decimal string with 2 decimals ("3.50").')
    unit_price = serializers.CharField()
    amount = serializers.CharField()
    description = serializers.CharField()
    streams = InvoiceLineStreamSerializer(
        many=True, help_text="Who pays for the line: its amount split by stream, adding up to it."
    )
    outcomes = serializers.ListField(child=serializers.CharField())


class InvoiceFindingSerializer(serializers.Serializer):
    code = serializers.CharField()
    pointer = serializers.CharField()
    detail = serializers.CharField()


class InvoiceEventSerializer(serializers.Serializer):
    status = serializers.CharField()
    at = serializers.DateTimeField()
    by = serializers.CharField(
        help_text="provider, budget_holder, representative, navigator, rule or system."
    )
    by_name = serializers.CharField(
        allow_null=True, help_text="Who it was; a provider reads only its own people's names."
    )
    reason = serializers.CharField()


class InvoicePaymentSerializer(serializers.Serializer):
    remittance = serializers.CharField()
    reference = serializers.CharField()
    paid_on = serializers.DateField()
    amount = serializers.CharField()


class InvoiceSerializer(serializers.Serializer):
    id = serializers.CharField()
    invoice_number = serializers.CharField()
    person = serializers.CharField()
    provider = serializers.CharField()
    provider_name = serializers.CharField()
    status = serializers.ChoiceField(choices=InvoiceStatus.choices)
    currency = serializers.CharField()
    total = serializers.CharField()
    issued_on = serializers.DateField()
    submitted_at = serializers.DateTimeField()
    lines = InvoiceLineSerializer(many=True)
    findings = InvoiceFindingSerializer(many=True)
    question = serializers.CharField(help_text="The budget holder's question, if any.")
    history = InvoiceEventSerializer(many=True)
    payment = InvoicePaymentSerializer(allow_null=True)


class InvoiceFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=InvoiceStatus.choices, required=False)
    person = serializers.CharField(required=False, max_length=24)
    issued_after = serializers.DateField(required=False, help_text="Issued on or after this date.")
    issued_before = serializers.DateField(required=False, help_text="Issued on or before this date.")


class InvoiceReasonInputSerializer(serializers.Serializer):
    # Blank or too long is a broken rule (422 reason_required, from the service), not a malformed request.
    reason = TextField(allow_blank=True, trim_whitespace=False)


class WithdrawInputSerializer(serializers.Serializer):
    reason = TextField(required=False, allow_blank=True, trim_whitespace=False, default="")


class InvoiceListView(generics.ListAPIView):
    """Invoices the caller may see, newest first; a provider submits one with POST."""

    serializer_class = InvoiceSerializer
    pagination_class = CursorPagination

    @extend_schema(
        operation_id="invoices_list",
        parameters=[
            OpenApiParameter("status", OpenApiTypes.STR, enum=InvoiceStatus.values),
            OpenApiParameter("person", OpenApiTypes.STR, description="per_..."),
            OpenApiParameter("issued_after", OpenApiTypes.DATE),
            OpenApiParameter("issued_before", OpenApiTypes.DATE),
        ],
        responses={200: InvoiceSerializer(many=True), **_FILTERED_LIST},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        query = InvoiceFilterSerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return selectors.invoice_list(user=self.request.user, **query.validated_data)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(selectors.invoice_rows(invoices=self.get_queryset()))
        return self.get_paginated_response(invoice_bodies(list(page), viewer=request.user))

    @extend_schema(
        operation_id="invoices_create",
        request=InvoiceInputSerializer,
        responses={201: InvoiceSerializer, **_WRITE, (409, _P): _problem("duplicate_invoice")},
    )
    def post(self, request: Request) -> Response:
        user = request.user
        if user.role != Role.PROVIDER_USER or user.organisation_id is None:
            raise PermissionDenied("Only care providers submit invoices.")
        body = InvoiceInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        invoice = services.invoice_submit(
            provider=user.organisation,
            submitted_by=user,
            request=services.InvoiceRequest(
                invoice_number=data["invoice_number"],
                person=data["person"],
                issued_on=data["issued_on"],
                currency=data["currency"],
                total=data["total"],
                lines=tuple(
                    services.InvoiceLineRequest(
                        support_item=line["support_item"],
                        service_date=line["service_date"],
                        quantity=line["quantity"],
                        unit_price=line["unit_price"],
                        amount=line["amount"],
                        description=line["description"],
                    )
                    for line in data["lines"]
                ),
            ),
        )
        return _invoice_response(request, invoice.public_id, status_code=status.HTTP_201_CREATED)


def _invoice_response(request: Request, public_id: str, *, status_code: int = status.HTTP_200_OK) -> Response:
    """The invoice as it now stands (read again, so the answer shows every effect of a change)."""
    invoice = selectors.invoice_get(user=request.user, public_id=public_id)
    rows = list(selectors.invoice_rows(invoices=Invoice.objects.filter(pk=invoice.pk)))
    return Response(invoice_bodies(rows, viewer=request.user)[0], status=status_code)


def _timestamp(value: datetime.datetime) -> str:
    """As DRF writes a UTC timestamp: ISO 8601 with a Z."""
    text = value.astimezone(datetime.UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def invoice_bodies(invoices: list[dict[str, Any]], *, viewer: Any) -> list[dict[str, Any]]:
    """Invoice rows (`invoicing.selectors.invoice_rows`) as InvoiceSerializer documents them, with their
    lines, funding and history (three queries for all of them). A provider reads only its own people's
    names in the history."""
    parts = selectors.invoice_parts(invoice_ids=[invoice["id"] for invoice in invoices])
    provider_viewer = getattr(viewer, "role", None) == Role.PROVIDER_USER
    bodies = []
    formatters: dict[str, Callable[[int], str]] = {}
    for invoice in invoices:
        currency = invoice["currency"]
        if currency not in formatters:
            formatters[currency] = money_formatter(currency)
        money = formatters[currency]
        rows = parts.lines.get(invoice["id"], ())
        lines = [
            {
                "support_item": support_item,
                "service_date": service_date.isoformat(),
                "quantity": f"{quantity:.2f}",
                "unit_price": money(unit_price),
                "amount": money(amount),
                "description": description,
                "streams": [
                    {"stream": code, "amount": money(part)} for code, part in parts.funding.get(pk, ())
                ],
                "outcomes": list(outcomes),
            }
            for pk, support_item, service_date, quantity, unit_price, amount, description, outcomes in rows
        ]
        history = []
        for status_, at, by_role, reason, first, last, username, role in parts.events.get(invoice["id"], ()):
            name = None
            if username is not None and not (provider_viewer and role != Role.PROVIDER_USER):
                name = f"{first} {last}".strip() or username
            history.append(
                {"status": status_, "at": _timestamp(at), "by": by_role, "by_name": name, "reason": reason}
            )
        payment = None
        if invoice["status"] == InvoiceStatus.PAID and invoice["remittance_line__remittance__public_id"]:
            payment = {
                "remittance": invoice["remittance_line__remittance__public_id"],
                "reference": invoice["remittance_line__remittance__reference"],
                "paid_on": invoice["remittance_line__remittance__paid_on"].isoformat(),
                "amount": money(invoice["remittance_line__amount_minor"]),
            }
        bodies.append(
            {
                "id": invoice["public_id"],
                "invoice_number": invoice["invoice_number"],
                "person": invoice["budget_holder__public_id"],
                "provider": invoice["provider__public_id"],
                "provider_name": invoice["provider__name"],
                "status": invoice["status"],
                "currency": currency,
                "total": money(invoice["total_minor"]),
                "issued_on": invoice["issued_on"].isoformat(),
                "submitted_at": _timestamp(invoice["submitted_at"]),
                "lines": lines,
                "findings": [
                    {"code": f["code"], "pointer": f["pointer"], "detail": f["detail"]}
                    for f in invoice["findings"]
                ],
                "question": invoice["query_question"],
                "history": history,
                "payment": payment,
            }
        )
    return bodies


class InvoiceDetailView(APIView):
    """One invoice the caller may see."""

    @extend_schema(
        operation_id="invoices_retrieve", parameters=[_INVOICE], responses={200: InvoiceSerializer, **_READ}
    )
    def get(self, request: Request, id: str) -> Response:
        return _invoice_response(request, id)


class _InvoiceActionView(APIView):
    input_serializer: type[serializers.Serializer] | None = None

    def act(self, invoice: Invoice, user: Any, data: dict[str, Any]) -> None:
        raise NotImplementedError

    def post(self, request: Request, id: str) -> Response:
        invoice = selectors.invoice_get(user=request.user, public_id=id)
        data: dict[str, Any] = {}
        if self.input_serializer is not None:
            body = self.input_serializer(data=request.data)
            body.is_valid(raise_exception=True)
            data = body.validated_data
        self.act(invoice, request.user, data)
        return _invoice_response(request, id)


class InvoiceApproveView(_InvoiceActionView):
    """Approve an invoice: its money is reserved at once (the person or an approving representative; the
    navigator for an invoice on hold)."""

    @extend_schema(
        operation_id="invoices_approve",
        parameters=[_INVOICE],
        request=None,
        responses={200: InvoiceSerializer, **_WRITE},
    )
    def post(self, request: Request, id: str) -> Response:
        return super().post(request, id)

    def act(self, invoice: Invoice, user: Any, data: dict[str, Any]) -> None:
        services.invoice_approve(invoice=invoice, by=user)


class InvoiceQueryView(_InvoiceActionView):
    """Ask the provider a question about an invoice (`{"reason": "..."}`); the provider sees it."""

    input_serializer = InvoiceReasonInputSerializer

    @extend_schema(
        operation_id="invoices_query",
        parameters=[_INVOICE],
        request=InvoiceReasonInputSerializer,
        responses={200: InvoiceSerializer, **_WRITE},
    )
    def post(self, request: Request, id: str) -> Response:
        return super().post(request, id)

    def act(self, invoice: Invoice, user: Any, data: dict[str, Any]) -> None:
        services.invoice_query(invoice=invoice, by=user, reason=data["reason"])


class InvoiceRejectView(_InvoiceActionView):
    """Reject an invoice with a reason the provider sees (`{"reason": "..."}`)."""

    input_serializer = InvoiceReasonInputSerializer

    @extend_schema(
        operation_id="invoices_reject",
        parameters=[_INVOICE],
        request=InvoiceReasonInputSerializer,
        responses={200: InvoiceSerializer, **_WRITE},
    )
    def post(self, request: Request, id: str) -> Response:
        return super().post(request, id)

    def act(self, invoice: Invoice, user: Any, data: dict[str, Any]) -> None:
        services.invoice_reject(invoice=invoice, by=user, reason=data["reason"])


class InvoiceWithdrawView(_InvoiceActionView):
    """The provider withdraws an invoice not yet approved (optionally `{"reason": "..."}`)."""

    input_serializer = WithdrawInputSerializer

    @extend_schema(
        operation_id="invoices_withdraw",
        parameters=[_INVOICE],
        request=WithdrawInputSerializer,
        responses={200: InvoiceSerializer, **_WRITE},
    )
    def post(self, request: Request, id: str) -> Response:
        return super().post(request, id)

    def act(self, invoice: Invoice, user: Any, data: dict[str, Any]) -> None:
        services.invoice_withdraw(invoice=invoice, by=user, reason=data.get("reason", ""))


# Remittances --------------------------------------------------------------------------------------------


class RemittanceInvoiceSerializer(serializers.Serializer):
    invoice = serializers.CharField(source="invoice.public_id")
    invoice_number = serializers.CharField(source="invoice.invoice_number")
    amount = serializers.SerializerMethodField()

    def get_amount(self, line) -> str:
        return _money(line.amount_minor, line.remittance.currency)


class RemittanceSerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id")
    provider = serializers.CharField(source="provider.public_id")
    reference = serializers.CharField(
        help_text="The payment reference on the bank transfer or Stripe payout."
    )
    paid_on = serializers.DateField()
    currency = serializers.CharField()
    total = serializers.SerializerMethodField()
    invoices = RemittanceInvoiceSerializer(source="lines", many=True)
    reversed_on = serializers.DateField(
        allow_null=True,
        help_text="null while the payment stands; the day it failed or was reversed (the money did not "
        "reach you, and the invoices are waiting to be paid again).",
    )
    reversal_reason = serializers.SerializerMethodField(
        help_text="Why the payment did not go through, in plain English; null while it stands."
    )

    def get_total(self, remittance: Remittance) -> str:
        return _money(remittance.total_minor, remittance.currency)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_reversal_reason(self, remittance: Remittance) -> str | None:
        return (remittance.reversal_reason or None) if remittance.reversed_on else None


class RemittanceListView(generics.ListAPIView):
    """What was paid to the caller's provider: when, for which invoices, with the payment reference."""

    serializer_class = RemittanceSerializer
    pagination_class = CursorPagination

    @extend_schema(operation_id="remittances_list", responses={200: RemittanceSerializer(many=True), **_LIST})
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return selectors.remittance_list(user=self.request.user)


# Auto-approval rules ------------------------------------------------------------------------------------


class AutoApprovalRuleSerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id")
    person = serializers.CharField(source="budget_holder.public_id")
    provider = serializers.CharField(source="provider.public_id")
    provider_name = serializers.CharField(source="provider.name")
    max_total = serializers.SerializerMethodField(
        help_text="The largest invoice approved automatically; null: any."
    )
    currency = serializers.CharField()
    created_at = serializers.DateTimeField()
    revoked_at = serializers.DateTimeField(allow_null=True)

    def get_max_total(self, rule: AutoApprovalRule) -> str | None:
        return None if rule.max_total_minor is None else _money(rule.max_total_minor, rule.currency)


class AutoApprovalRulePageSerializer(serializers.Serializer):
    """The list envelope: the person's rules in force, whole; `next` and `previous` are always null."""

    results = AutoApprovalRuleSerializer(many=True)
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)


class AutoApprovalRuleInputSerializer(serializers.Serializer):
    provider = TextField(max_length=24, help_text="The provider (pro_...).")
    max_total = MoneyTextField(required=False, allow_null=True, default=None)
    currency = TextField(min_length=3, max_length=3, required=False, default="GBP")


_PERSON = OpenApiParameter("per", OpenApiTypes.STR, OpenApiParameter.PATH, description="A person (per_...).")


class AutoApprovalRuleListView(APIView):
    """A person's auto-approval rules; the person or an approving representative sets one with POST."""

    @extend_schema(
        operation_id="people_auto_approval_rules_list",
        parameters=[_PERSON],
        responses={200: AutoApprovalRulePageSerializer, **_READ},
    )
    def get(self, request: Request, per: str) -> Response:
        _visible_person(request.user, per)
        rules = selectors.auto_approval_rule_list(user=request.user, person=per).order_by("id")
        return Response(
            {"results": AutoApprovalRuleSerializer(rules, many=True).data, "next": None, "previous": None}
        )

    @extend_schema(
        operation_id="people_auto_approval_rules_create",
        parameters=[_PERSON],
        request=AutoApprovalRuleInputSerializer,
        responses={201: AutoApprovalRuleSerializer, **_WRITE},
    )
    def post(self, request: Request, per: str) -> Response:
        holder = _visible_person(request.user, per)
        if not may(request.user, "people.act_for_budgetholder", holder):
            raise services.NotAllowedToSetRules()
        body = AutoApprovalRuleInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        problems = []
        provider = Organisation.objects.filter(
            public_id=data["provider"], kind=OrganisationKind.PROVIDER
        ).first()
        if provider is None:
            problems.append(
                {
                    "code": "unknown_provider",
                    "pointer": "/provider",
                    "detail": f"There is no provider {data['provider']}.",
                }
            )
        max_total_minor = None
        try:
            if data["max_total"] is not None:
                max_total_minor = money_parse(data["max_total"], currency=data["currency"])
        except UnknownCurrency as error:
            problems.append({"code": error.code, "pointer": "/currency", "detail": error.message})
        except InvalidAmount as error:
            problems.append({"code": error.code, "pointer": "/max_total", "detail": error.message})
        if problems:
            raise _RuleInvalid(problems)
        rule = services.auto_approval_rule_set(
            budget_holder=holder,
            provider=provider,
            max_total_minor=max_total_minor,
            currency=data["currency"],
            by=request.user,
        )
        return Response(AutoApprovalRuleSerializer(rule).data, status=status.HTTP_201_CREATED)


class _RuleInvalid(DomainErrors):
    code = "auto_approval_rule_invalid"
    message = "This rule cannot be set."
    summary = "This rule cannot be set"


class AutoApprovalRuleRevokeView(APIView):
    """Stop an auto-approval rule at once (the person or an approving representative)."""

    @extend_schema(
        operation_id="auto_approval_rules_revoke",
        parameters=[OpenApiParameter("aar", OpenApiTypes.STR, OpenApiParameter.PATH, description="aar_...")],
        request=None,
        responses={200: AutoApprovalRuleSerializer, **_WRITE},
    )
    def post(self, request: Request, aar: str) -> Response:
        rule = (
            auto_approval_rules_visible_to(request.user)
            .select_related("provider", "budget_holder")
            .filter(public_id=aar)
            .first()
        )
        if rule is None:
            raise NotFound()
        rule = services.auto_approval_rule_revoke(rule=rule, by=request.user)
        return Response(AutoApprovalRuleSerializer(rule).data)
