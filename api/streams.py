"""Funding streams and their rate catalogues, for anyone signed in: the public shape of the schemes.

`GET /api/v1/streams/` lists the active streams, cursor-paginated by code. `GET /api/v1/streams/{code}/
services/?on=YYYY-MM-DD` lists a stream's catalogue as it stands on a date (today when left out). A stream's
catalogue is short and curated by administrators, so it comes whole, in the list envelope with no further
pages (`next` and `previous` are null), in a fixed number of queries whatever its size.
"""

from datetime import date

from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.pagination import CursorPagination
from budgets.models import FundingStream, OnCostKind, OnCostRule
from budgets.selectors import catalogue as catalogue_selectors
from budgets.selectors.catalogue import RatedService
from ledger.money import money_format

# Serializers --------------------------------------------------------------------------------------------


class AgencySummarySerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id")
    name = serializers.CharField()


class SpendingCategorySerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class StreamSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    agency = AgencySummarySerializer()
    policy_sector = serializers.CharField()
    currency = serializers.CharField()
    budget_year_starts = serializers.SerializerMethodField(
        help_text='The month and day each budget year starts, "MM-DD" ("04-01" is 1 April).'
    )
    payment_frequency = serializers.CharField()
    charges_contribution = serializers.BooleanField()
    contingency_percent = serializers.DecimalField(max_digits=5, decimal_places=2)
    surplus_threshold_weeks = serializers.DecimalField(max_digits=5, decimal_places=1)
    initial_float_weeks = serializers.IntegerField()
    reclaim_notice_weeks = serializers.IntegerField(
        help_text="Weeks of notice a budget holder is given before a surplus is reclaimed (at least 4)."
    )
    spending_categories = serializers.SerializerMethodField()

    def get_budget_year_starts(self, stream: FundingStream) -> str:
        return f"{stream.budget_year_start_month:02d}-{stream.budget_year_start_day:02d}"

    @extend_schema_field(SpendingCategorySerializer(many=True))
    def get_spending_categories(self, stream: FundingStream) -> list[dict[str, str]]:
        # Sorted here, from the prefetched rows, so the order is stable without another query.
        categories = sorted(stream.spending_categories.all(), key=lambda category: category.code)
        return SpendingCategorySerializer(categories, many=True).data


class OnCostRuleSerializer(serializers.Serializer):
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=OnCostKind.choices)
    percent = serializers.DecimalField(
        max_digits=7, decimal_places=4, allow_null=True, help_text="For a percentage rule; otherwise null."
    )
    amount_per_year = serializers.SerializerMethodField(
        help_text="For a fixed yearly rule, in the stream's currency; otherwise null."
    )

    def get_amount_per_year(self, rule: OnCostRule) -> str | None:
        if rule.amount_minor_per_year is None:
            return None
        return money_format(rule.amount_minor_per_year, currency=self.context["currency"])


class RatedServiceSerializer(serializers.Serializer):
    service_code = serializers.CharField(source="service.service_code")
    description = serializers.CharField(source="service.description")
    unit = serializers.CharField(source="service.unit")
    category = SpendingCategorySerializer(source="service.category", allow_null=True)
    unit_cost = serializers.SerializerMethodField(help_text="With exactly the currency's decimals.")
    currency = serializers.CharField(source="service.stream.currency")
    valid_from = serializers.DateField(source="rate.valid_from")
    valid_to = serializers.DateField(
        allow_null=True,
        help_text="The rate's last day: the day before the next rate starts, or its own end; null if open.",
    )
    on_cost_rules = serializers.SerializerMethodField()

    def get_unit_cost(self, rated: RatedService) -> str:
        return money_format(rated.rate.unit_cost_minor, currency=rated.service.stream.currency)

    @extend_schema_field(OnCostRuleSerializer(many=True))
    def get_on_cost_rules(self, rated: RatedService) -> list[dict[str, str | None]]:
        context = {"currency": rated.service.stream.currency}
        return OnCostRuleSerializer(rated.on_cost_rules, many=True, context=context).data


class RatedServicePageSerializer(serializers.Serializer):
    """The list envelope: the whole catalogue in `results`; `next` and `previous` are always null."""

    results = RatedServiceSerializer(many=True)
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)


class CatalogueQuerySerializer(serializers.Serializer):
    on = serializers.DateField(
        required=False,
        input_formats=["iso-8601"],
        help_text="The date the catalogue stands on, YYYY-MM-DD. Today when left out.",
        error_messages={
            "invalid": "The on parameter must be a date written YYYY-MM-DD, for example 2026-04-01.",
        },
    )


# Views --------------------------------------------------------------------------------------------------


class StreamPagination(CursorPagination):
    ordering = "code"


class StreamListView(generics.ListAPIView):
    """The active funding streams, with their agency, rules and spending categories."""

    serializer_class = StreamSerializer
    pagination_class = StreamPagination

    def get_queryset(self):
        return catalogue_selectors.stream_list()

    @extend_schema(operation_id="streams_list")
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)


class StreamServicesView(APIView):
    """A stream's rate catalogue as it stands on a date: each service with the rate in force then."""

    @extend_schema(
        operation_id="streams_services_list",
        parameters=[CatalogueQuerySerializer],
        responses=RatedServicePageSerializer,
    )
    def get(self, request: Request, code: str) -> Response:
        query = CatalogueQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        on: date = query.validated_data.get("on") or timezone.localdate()
        stream = catalogue_selectors.stream_get(code=code)
        rated = catalogue_selectors.stream_services_on(stream=stream, on=on)
        return Response(
            {"results": RatedServiceSerializer(rated, many=True).data, "next": None, "previous": None}
        )
