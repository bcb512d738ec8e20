"""`POST /api/v1/cash-equivalents/`: cost a package of services without saving anything (api.md).

The view reads the request's shape (400 for anything malformed), builds a `CashEquivalentRequest`, makes one
service call and renders the result. Business rules (422, every failure listed) live in
`budgets.services.cash_equivalents` and `budgets.calculator`.

Added to api.md's shape (fields may be added in v1, none removed or renamed):

* request: an item may carry a `split` between streams, by percentages
  (`{"percent": [{"stream": "ASC", "percent": "60"}, {"stream": "ILF", "percent": "40"}]}`) or by a cap
  (`{"cap": {"stream": "ASC", "amount": "400.00", "per": "week"}, "rest": "ILF"}`); a catalogue item may
  carry its own `description`.
* response: `period` {start, end, days}; `contribution` {amount, per, occurrences, occurrences_basis,
  assessed, applied} or null; per stream `contingency_percent`, `gross`, `charges_contribution`,
  `contribution_assessed` (negative, like `contribution`); per line `item` (its index in the request),
  `description`, `unit`, `occurrences_basis`, `line_amount` (the whole item: `amount` is this stream's part
  of a split item), `split`, `on_costs` (this line's total) and `on_cost_lines`; `explanation`, every step
  in order.
"""

import re
from decimal import Decimal
from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from budgets.calculator import (
    OCCURRENCE_DECIMALS,
    CashEquivalent,
    OnCostCharge,
    PercentSplit,
    fraction_display,
)
from budgets.models import Per, Unit
from budgets.services.cash_equivalents import (
    CapSplitRequest,
    CashEquivalentRequest,
    ContributionRequest,
    ItemRequest,
    cash_equivalent_calculate,
)
from ledger.money import money_format
from people.access import may

MAX_ITEMS = 200
_DECIMAL_TEXT = re.compile(r"-?[0-9]{1,20}(\.[0-9]{1,20})?")


class MayCostAPackage(permissions.BasePermission):
    """Asks `budgets.calculate_cash_equivalent` (budgets/rules.py): navigators, agency officers, finance."""

    message = "Only navigators, agency officers, finance officers and administrators may cost a package."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return may(request.user, "budgets.calculate_cash_equivalent")


# Input ---------------------------------------------------------------------------------------------------


@extend_schema_field({"type": "string", "pattern": r"^-?\d+(\.\d+)?$", "example": "10"})
class DecimalTextField(serializers.Field):
    """A decimal number written as a JSON string ("10", "7.5"), read as a Decimal; never a JSON number."""

    default_error_messages = {
        "not_a_string": 'Write this number as a string, like "10" or "7.5", not as a JSON number.',
        "not_a_decimal": 'Write this as a plain decimal number, like "10" or "7.5".',
    }

    def to_internal_value(self, data: Any) -> Decimal:
        if not isinstance(data, str):
            self.fail("not_a_string")
        if not _DECIMAL_TEXT.fullmatch(data):
            self.fail("not_a_decimal")
        return Decimal(data)

    def to_representation(self, value: Decimal) -> str:
        return str(value)


@extend_schema_field({"type": "string", "pattern": r"^-?\d+(\.\d+)?$", "example": "24.50"})
class MoneyTextField(serializers.Field):
    """Money written as a JSON string ("24.50"); its decimals are checked against the currency later (422)."""

    default_error_messages = {
        "not_a_string": 'Write amounts as strings with the currency decimals, like "24.50", not as numbers.',
        "not_a_decimal": 'Write amounts as decimal strings with the currency decimals, like "24.50".',
    }

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("not_a_string")
        if not _DECIMAL_TEXT.fullmatch(data):
            self.fail("not_a_decimal")
        return data

    def to_representation(self, value: str) -> str:
        return value


def _stream_field(**kwargs: Any) -> serializers.CharField:
    return serializers.CharField(max_length=16, help_text="A funding stream's code, such as ASC.", **kwargs)


class CashEquivalentPeriodInputSerializer(serializers.Serializer):
    start = serializers.DateField(help_text="The first day costed.")
    end = serializers.DateField(help_text="The last day costed (included).")


class CashEquivalentContributionInputSerializer(serializers.Serializer):
    amount = MoneyTextField(
        help_text="The person's assessed contribution each `per`, in the package's currency."
    )
    per = serializers.ChoiceField(choices=Per.choices)


class CashEquivalentPercentPartSerializer(serializers.Serializer):
    stream = _stream_field()
    percent = DecimalTextField(help_text="This stream's percentage of the item; a split's add up to 100.")


class CashEquivalentCapSerializer(serializers.Serializer):
    stream = _stream_field()
    amount = MoneyTextField(help_text="The most this stream pays for the item each `per`.")
    per = serializers.ChoiceField(choices=Per.choices)


class CashEquivalentSplitInputSerializer(serializers.Serializer):
    percent = CashEquivalentPercentPartSerializer(many=True, required=False, allow_empty=False, max_length=10)
    cap = CashEquivalentCapSerializer(required=False)
    rest = _stream_field(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        has_percent, has_cap, has_rest = "percent" in attrs, "cap" in attrs, "rest" in attrs
        if has_percent == has_cap:
            raise serializers.ValidationError(
                'Split an item either by "percent" or by a "cap" and a "rest" stream, not both or neither.',
                code="split_ambiguous",
            )
        if has_cap and not has_rest:
            raise serializers.ValidationError(
                {"rest": "Name the stream that pays the rest above the cap."}, code="required"
            )
        if has_percent and has_rest:
            raise serializers.ValidationError(
                {"rest": 'A "rest" stream goes with a "cap"; a percentage split has none.'},
                code="split_ambiguous",
            )
        return attrs


class CashEquivalentItemInputSerializer(serializers.Serializer):
    service_code = serializers.CharField(
        max_length=32,
        required=False,
        help_text="A catalogue service; its rate on the period's start applies.",
    )
    stream = _stream_field(required=False)
    description = serializers.CharField(
        max_length=200,
        required=False,
        help_text="What the item is: needed with your own cost; a catalogue service's by default.",
    )
    unit_cost = MoneyTextField(required=False, help_text="Your own unit cost, in the stream's currency.")
    unit = serializers.ChoiceField(choices=Unit.choices, required=False)
    quantity = DecimalTextField(help_text="How many units each `per`.")
    per = serializers.ChoiceField(choices=Per.choices)
    split = CashEquivalentSplitInputSerializer(required=False)

    _OWN_FIELDS = ("stream", "description", "unit_cost", "unit")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "service_code" in attrs:
            extra = [name for name in ("stream", "unit_cost", "unit") if name in attrs]
            if extra:
                raise serializers.ValidationError(
                    {
                        name: "A catalogue item takes its stream, unit cost and unit from the catalogue: "
                        "leave this out, or leave out service_code to give your own cost."
                        for name in extra
                    },
                    code="item_ambiguous",
                )
            return attrs
        if not any(name in attrs for name in self._OWN_FIELDS):
            raise serializers.ValidationError(
                "Give either service_code (a catalogue service), or stream, description, unit_cost and unit "
                "(your own cost).",
                code="required",
            )
        missing = [name for name in self._OWN_FIELDS if name not in attrs]
        if missing:
            raise serializers.ValidationError(
                {
                    name: "An item with its own cost needs stream, description, unit_cost and unit."
                    for name in missing
                },
                code="required",
            )
        return attrs


class CashEquivalentPackageSerializer(serializers.Serializer):
    """A package of services to cost over a period."""

    period = CashEquivalentPeriodInputSerializer()
    contribution = CashEquivalentContributionInputSerializer(required=False, allow_null=True)
    items = CashEquivalentItemInputSerializer(many=True, allow_empty=False, max_length=MAX_ITEMS)


def _package(data: dict[str, Any]) -> CashEquivalentRequest:
    contribution = data.get("contribution")
    return CashEquivalentRequest(
        start=data["period"]["start"],
        end=data["period"]["end"],
        items=tuple(_item(item) for item in data["items"]),
        contribution=ContributionRequest(amount=contribution["amount"], per=Per(contribution["per"]))
        if contribution
        else None,
    )


def _item(item: dict[str, Any]) -> ItemRequest:
    split: PercentSplit | CapSplitRequest | None = None
    if "split" in item:
        asked = item["split"]
        if "percent" in asked:
            split = PercentSplit(parts=tuple((part["stream"], part["percent"]) for part in asked["percent"]))
        else:
            cap = asked["cap"]
            split = CapSplitRequest(
                stream=cap["stream"], amount=cap["amount"], per=Per(cap["per"]), rest=asked["rest"]
            )
    return ItemRequest(
        quantity=item["quantity"],
        per=Per(item["per"]),
        service_code=item.get("service_code"),
        stream=item.get("stream"),
        description=item.get("description", ""),
        unit_cost=item.get("unit_cost"),
        unit=item.get("unit"),
        split=split,
    )


# Output --------------------------------------------------------------------------------------------------


@extend_schema_field({"type": "string", "pattern": r"^-?\d+(\.\d+)?$", "example": "85.75"})
class MinorUnitsField(serializers.Field):
    """Integer minor units shown as money in the result's currency ("85.75"); `negative` shows it as -x."""

    def __init__(self, *, negative: bool = False, **kwargs: Any) -> None:
        self.negative = negative
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, value: int) -> str:
        return money_format(-value if self.negative else value, currency=self.context["currency"])


@extend_schema_field({"type": "string", "pattern": r"^\d+(\.\d+)?$", "example": "12.07"})
class PercentTextField(serializers.Field):
    """A percentage as people write it ("12.07", "5")."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, value: Decimal) -> str:
        return f"{value.normalize():f}"


class CashEquivalentPeriodSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    days = serializers.IntegerField()


class CashEquivalentContributionSerializer(serializers.Serializer):
    amount = MinorUnitsField(source="amount_minor", help_text="The contribution each `per`.")
    per = serializers.CharField()
    occurrences = serializers.CharField(source="occurrences.display")
    occurrences_basis = serializers.CharField(source="occurrences.basis")
    assessed = MinorUnitsField(source="assessed_minor", help_text="Amount x occurrences, rounded once.")
    applied = MinorUnitsField(
        source="applied_minor", help_text="What the streams take: never more than their gross."
    )


class CashEquivalentStreamSerializer(serializers.Serializer):
    stream = serializers.CharField()
    subtotal = MinorUnitsField(source="subtotal_minor", help_text="The sum of this stream's lines.")
    on_costs = MinorUnitsField(source="on_costs_minor", help_text="The sum of its lines' on-costs.")
    contingency = MinorUnitsField(source="contingency_minor")
    contribution = MinorUnitsField(
        source="contribution_minor",
        negative=True,
        help_text="The contribution it takes, as a negative amount.",
    )
    amount = MinorUnitsField(
        source="amount_minor", help_text="subtotal + on_costs + contingency + contribution."
    )
    contingency_percent = PercentTextField()
    gross = MinorUnitsField(source="gross_minor", help_text="subtotal + on_costs + contingency.")
    charges_contribution = serializers.BooleanField()
    contribution_assessed = MinorUnitsField(
        source="contribution_assessed_minor",
        negative=True,
        help_text="Its share of the contribution assessed, before the cap at its gross.",
    )


class CashEquivalentSplitSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["percent", "cap", "rest"])
    percent = PercentTextField(allow_null=True)
    cap = MinorUnitsField(source="cap_minor", allow_null=True, help_text="The cap over the whole period.")
    description = serializers.CharField(source="text")


class CashEquivalentOnCostSerializer(serializers.Serializer):
    name = serializers.CharField()
    kind = serializers.CharField()
    source = serializers.ChoiceField(
        choices=["service", "stream"], help_text="The service's rule or the stream's."
    )
    percent = PercentTextField(allow_null=True)
    amount_per_year = MinorUnitsField(source="amount_minor_per_year", allow_null=True)
    basis = MinorUnitsField(source="basis_minor", allow_null=True, help_text="What a percentage is taken of.")
    years = serializers.SerializerMethodField(help_text="The period in years, for a fixed yearly sum.")
    amount_before_split = MinorUnitsField(source="whole_minor")
    amount = MinorUnitsField(source="amount_minor", help_text="This line's share.")
    description = serializers.CharField(source="text")

    def get_years(self, charge: OnCostCharge) -> str | None:
        if charge.years is None:
            return None
        return fraction_display(charge.years, places=OCCURRENCE_DECIMALS)


class CashEquivalentLineSerializer(serializers.Serializer):
    item = serializers.IntegerField(source="item_index", help_text="Which request item this line costs.")
    service_code = serializers.CharField(allow_null=True)
    stream = serializers.CharField()
    description = serializers.CharField()
    unit = serializers.CharField()
    unit_cost = MinorUnitsField(source="unit_cost_minor")
    quantity = DecimalTextField(read_only=True)
    per = serializers.CharField()
    occurrences = serializers.CharField(source="occurrences.display")
    occurrences_basis = serializers.CharField(source="occurrences.basis")
    amount = MinorUnitsField(source="amount_minor", help_text="This stream's amount for the item.")
    line_amount = MinorUnitsField(source="line_amount_minor", help_text="The whole item, before any split.")
    split = CashEquivalentSplitSerializer(allow_null=True)
    on_costs = MinorUnitsField(source="on_costs_minor")
    on_cost_lines = CashEquivalentOnCostSerializer(source="on_costs", many=True)


class CashEquivalentStepSerializer(serializers.Serializer):
    step = serializers.CharField(source="kind")
    text = serializers.CharField()
    amount = MinorUnitsField(source="amount_minor", allow_null=True)
    stream = serializers.CharField(allow_null=True)
    item = serializers.IntegerField(source="item_index", allow_null=True)


class CashEquivalentSerializer(serializers.Serializer):
    """A package's cash equivalent: an amount per stream, the lines it comes from and every step."""

    currency = serializers.CharField()
    total = MinorUnitsField(source="total_minor")
    streams = CashEquivalentStreamSerializer(many=True)
    lines = CashEquivalentLineSerializer(many=True)
    period = CashEquivalentPeriodSerializer()
    contribution = CashEquivalentContributionSerializer(allow_null=True)
    explanation = CashEquivalentStepSerializer(source="steps", many=True)


class CashEquivalentProblemErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    pointer = serializers.CharField()
    detail = serializers.CharField()


class CashEquivalentProblemSerializer(serializers.Serializer):
    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    errors = CashEquivalentProblemErrorSerializer(many=True, required=False)


# The view ------------------------------------------------------------------------------------------------

_EXAMPLE = {
    "period": {"start": "2026-04-01", "end": "2027-03-31"},
    "contribution": {"amount": "20.00", "per": "week"},
    "items": [
        {"service_code": "ASC-PC", "quantity": "10", "per": "week"},
        {
            "stream": "ATW",
            "description": "Support worker",
            "unit_cost": "18.00",
            "unit": "hour",
            "quantity": "6",
            "per": "week",
        },
        {"service_code": "DFG-RAMP", "quantity": "1", "per": "once"},
        {
            "service_code": "ASC-PC",
            "quantity": "30",
            "per": "week",
            "split": {"cap": {"stream": "ASC", "amount": "400.00", "per": "week"}, "rest": "ILF"},
        },
    ],
}


def _problem(description: str) -> OpenApiResponse:
    return OpenApiResponse(response=CashEquivalentProblemSerializer, description=description)


class CashEquivalentView(APIView):
    """Cost a package of services over a period, per funding stream, with every step; saves nothing."""

    permission_classes = [permissions.IsAuthenticated, MayCostAPackage]

    @extend_schema(
        operation_id="cash_equivalents_create",
        summary="Cost a package of services (saves nothing)",
        description=(
            "Each item names a catalogue service (its rate on the period's start applies) or gives its own "
            "stream, unit cost and unit, and may be split between streams by percentages or a cap. Answers "
            "the amount per stream (subtotal + on-costs + contingency - contribution) and every step. "
            "Malformed requests answer 400; requests that break a rule answer 422 listing every problem."
        ),
        request=CashEquivalentPackageSerializer,
        responses={
            200: CashEquivalentSerializer,
            400: _problem("The request is malformed: wrong types, missing fields, bad dates."),
            401: _problem("No or bad credentials."),
            403: _problem("Only navigators, agency officers, finance officers and administrators."),
            422: _problem("The package breaks a rule; errors lists every problem with a pointer."),
        },
        examples=[OpenApiExample("A year of support from three streams", value=_EXAMPLE, request_only=True)],
    )
    def post(self, request: Request) -> Response:
        serializer = CashEquivalentPackageSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result: CashEquivalent = cash_equivalent_calculate(request=_package(serializer.validated_data))
        output = CashEquivalentSerializer(result, context={"currency": result.currency})
        return Response(output.data, status=status.HTTP_200_OK)
