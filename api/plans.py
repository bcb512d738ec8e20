"""People and their support plans: read them, draft a version together, agree it, approve each stream's part,
review it.

* `GET /api/v1/people/`, `GET /api/v1/people/{per}/`: the budget holders the caller may see
  (`people.access.budget_holders_visible_to`, which plans extends for the agencies that fund a person's plan
  and the providers engaged by it).
* `GET /api/v1/people/{per}/plan/`: the person's plan and the versions of it the caller sees;
  `POST /api/v1/people/{per}/plan/versions/` starts the first draft, or a change from the active version.
* `GET /api/v1/plan-versions/{plv}/`: one version, cut down to what the caller sees (`plans.access`): in full
  for the person, their representatives, their navigator, finance and administrators; an agency officer sees
  the outcomes and informal support and, of the money, only their own streams' items, cash-equivalent lines
  and approvals; a provider sees only the active version's items it is engaged for (and the outcomes those
  serve), with no totals and no approvals.
* Drafting (the person's navigator, the person, or a representative who may approve):
  `POST .../outcomes/`, `PATCH|DELETE .../outcomes/{out}/`, `POST .../informal-support/`,
  `DELETE .../informal-support/{inf}/`, `POST .../items/`, `PATCH|DELETE .../items/{si}/`.
* Workflow: `POST .../agree/` (the person or an approving representative), `POST .../streams/{code}/approve/`
  and `.../return/` (that stream's agency officers), `POST .../withdraw/` (the navigator).
* `GET .../compare/`: what changed from the version it is based on, filtered like the detail.
* Reviews: `GET|POST .../reviews/` (see: in full; record: the navigator), `POST .../review-due/` (the
  navigator, the person or an approving representative).

Who may see is asked first: a person or version the caller may not see answers 404, exactly as one that does
not exist. Who may call is asked next (403 for someone who sees but may not). The state of the plan and the
business rules are the services' (409, 422). A support item's references (outcomes, provider) and money are
read here: an outcome id that is not of this version answers 422 `unknown_outcome`, a provider id that is not
an organisation 422 `unknown_provider`, money with the wrong decimals 422 `invalid_amount`, all at once.

Workflow actions, reviews brought forward and changes to a version answer the version as the caller sees it
(a second read after the service, so that the answer shows every effect of the change).
"""

from typing import Any

from django.core.exceptions import PermissionDenied
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.cash_equivalents import (
    CashEquivalentProblemSerializer,
    CashEquivalentSplitInputSerializer,
    CashEquivalentStreamSerializer,
    DecimalTextField,
    MoneyTextField,
)
from budgets.calculator import CashEquivalent, CashEquivalentInvalid, Problem
from budgets.models import FundingStream, Per, Unit
from budgets.selectors import catalogue as catalogue_selectors
from ledger.money import InvalidAmount, UnknownCurrency, money_format, money_parse
from people import selectors as people_selectors
from people.access import budget_holders_visible_to, may
from people.models import BudgetHolder, Organisation, User
from plans.access import (
    PlanVersionSight,
    SeenOutcome,
    SeenPlanVersion,
    cash_equivalent_seen,
    plan_version_seen,
    plan_version_sight,
    plan_versions_visible_to,
    split_stream_codes,
)
from plans.models import (
    InformalSupport,
    PlanVersion,
    PlanVersionStatus,
    Progress,
    Review,
    StreamApproval,
    SupportItem,
    SupportPlan,
)
from plans.selectors import compare as compare_selectors
from plans.selectors import plans as plan_selectors
from plans.services import reviews as review_services
from plans.services import versions as version_services
from plans.services import workflow as workflow_services
from plans.services.versions import ProblemsError

MAX_OUTCOMES_PER_ITEM = 50
MAX_PROGRESS_ENTRIES = 200


class SupportItemReferencesInvalid(ProblemsError):
    """A support item's body names outcomes or a provider that are not there, or money it cannot read."""

    code = "support_item_invalid"
    message = "The support item cannot be saved as it stands: see errors for each problem."
    summary = "The support item cannot be saved as it stands"


class UnknownReference(ProblemsError):
    """A body names an outcome or a version that is not there (or not this person's): the problem's code."""

    code = "unknown_reference"
    message = "The request names something that is not there."


# Output -------------------------------------------------------------------------------------------------


def _user_name(user: User) -> str:
    return user.get_full_name() or user.username


class UserRefSerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id")
    name = serializers.SerializerMethodField()

    def get_name(self, user: User) -> str:
        return _user_name(user)


class PersonSerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id", help_text="The person's id (per_...).")
    name = serializers.CharField(source="name_to_use", help_text="What they like to be called.")
    navigator = UserRefSerializer(allow_null=True, help_text="Their single point of contact.")


class PlanVersionSummarySerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id")
    number = serializers.IntegerField()
    status = serializers.ChoiceField(choices=PlanVersionStatus.choices)
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    effective_from = serializers.DateField()
    review_due_on = serializers.DateField(allow_null=True)


class PlanSerializer(serializers.Serializer):
    id = serializers.CharField(source="plan.public_id", help_text="The plan's id (pln_...).")
    person = serializers.CharField(source="plan.budget_holder.public_id")
    versions = PlanVersionSummarySerializer(
        many=True, help_text="The versions the caller sees, newest first."
    )
    active_version = serializers.SerializerMethodField(
        help_text="The active version's id, or null (also null when the caller does not see it)."
    )

    def get_active_version(self, page: dict[str, Any]) -> str | None:
        active = next((v for v in page["versions"] if v.status == PlanVersionStatus.ACTIVE), None)
        return active.public_id if active else None


class InformalSupportSerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id")
    outcome = serializers.CharField(source="outcome.public_id")
    who = serializers.CharField()
    what = serializers.CharField()
    how_often = serializers.CharField()


class OutcomeSerializer(serializers.Serializer):
    id = serializers.CharField(source="outcome.public_id")
    in_own_words = serializers.CharField(source="outcome.in_own_words")
    success_looks_like = serializers.CharField(source="outcome.success_looks_like")
    informal_support = InformalSupportSerializer(many=True, help_text="Family, friends, community: no cost.")
    support_items = serializers.ListField(
        child=serializers.CharField(), help_text="The ids of the support items (that you see) serving it."
    )


class OrganisationRefSerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id")
    name = serializers.CharField()


def _money(minor: int | None, currency: str) -> str | None:
    return None if minor is None else money_format(minor, currency=currency)


class SupportItemSerializer(serializers.Serializer):
    """A support item; context: `sight` (who is looking) and `unit_costs` (catalogue rates, by item pk)."""

    id = serializers.CharField(source="public_id", help_text="si_...: the same across versions.")
    service_code = serializers.SerializerMethodField()
    stream = serializers.SerializerMethodField(help_text="The stream that funds it; null for providers.")
    description = serializers.CharField()
    unit = serializers.SerializerMethodField()
    unit_cost = serializers.SerializerMethodField(
        help_text="Its own cost, or the catalogue's rate on the day its money applies (null if not costed)."
    )
    quantity = serializers.SerializerMethodField(help_text="How many units each `per`, as a decimal string.")
    per = serializers.ChoiceField(choices=Per.choices)
    split = serializers.SerializerMethodField(
        help_text="How it is split between streams, as in the cash-equivalents API; null if not split "
        "(and for providers)."
    )
    provider = OrganisationRefSerializer(allow_null=True)
    agreed_rate = serializers.SerializerMethodField(help_text="The rate agreed with the provider, or null.")
    outcomes = serializers.SerializerMethodField(help_text="The ids of the outcomes it serves.")
    currency = serializers.CharField(source="stream.currency")

    def _sight(self) -> PlanVersionSight:
        return self.context["sight"]

    def get_service_code(self, item: SupportItem) -> str | None:
        return item.service.service_code if item.service_id else None

    def get_stream(self, item: SupportItem) -> str | None:
        return None if self._sight().is_provider else item.stream.code

    def get_unit(self, item: SupportItem) -> str:
        return item.service.unit if item.service_id else item.unit

    @extend_schema_field({"type": ["string", "null"], "example": "24.50"})
    def get_unit_cost(self, item: SupportItem) -> str | None:
        minor = item.unit_cost_minor if item.service_id is None else self.context["unit_costs"].get(item.pk)
        return _money(minor, item.stream.currency)

    def get_quantity(self, item: SupportItem) -> str:
        return f"{item.quantity}"

    @extend_schema_field({"type": ["object", "null"]})
    def get_split(self, item: SupportItem) -> dict[str, Any] | None:
        return None if self._sight().is_provider or not item.split else item.split

    @extend_schema_field({"type": ["string", "null"], "example": "24.50"})
    def get_agreed_rate(self, item: SupportItem) -> str | None:
        return _money(item.agreed_rate_minor, item.stream.currency)

    def get_outcomes(self, item: SupportItem) -> list[str]:
        return [outcome.public_id for outcome in item.outcomes.all()]


class StreamApprovalSerializer(serializers.Serializer):
    stream = serializers.CharField(source="stream.code")
    round = serializers.IntegerField(help_text="Each agreement opens a round; a return ends it.")
    status = serializers.CharField()
    amount = serializers.SerializerMethodField(help_text="The stream's cash equivalent when it was agreed.")
    currency = serializers.CharField()
    decided_at = serializers.DateTimeField(allow_null=True)
    decided_by = UserRefSerializer(allow_null=True)
    reason = serializers.CharField()

    def get_amount(self, approval: StreamApproval) -> str:
        return money_format(approval.amount_minor, currency=approval.currency)


class PeriodSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()


class VersionCashEquivalentSerializer(serializers.Serializer):
    currency = serializers.CharField()
    total = serializers.CharField(help_text="The sum of the streams shown.")
    streams = CashEquivalentStreamSerializer(many=True)


class PlanVersionSerializer(serializers.Serializer):
    """A version as one caller sees it; context: `costing` (a CashEquivalent, or None)."""

    id = serializers.CharField(source="version.public_id")
    plan = serializers.CharField(source="version.plan.public_id")
    person = serializers.CharField(source="version.plan.budget_holder.public_id")
    number = serializers.IntegerField(source="version.number")
    status = serializers.ChoiceField(source="version.status", choices=PlanVersionStatus.choices)
    based_on = serializers.CharField(source="version.based_on.public_id", allow_null=True, default=None)
    period = serializers.SerializerMethodField()
    effective_from = serializers.DateField(source="version.effective_from")
    summary = serializers.SerializerMethodField(help_text="About the person, in their own words.")
    change_reason = serializers.SerializerMethodField()
    review_due_on = serializers.DateField(source="version.review_due_on", allow_null=True)
    agreed_at = serializers.DateTimeField(source="version.agreed_at", allow_null=True)
    activated_at = serializers.DateTimeField(source="version.activated_at", allow_null=True)
    outcomes = OutcomeSerializer(many=True)
    support_items = serializers.SerializerMethodField()
    cash_equivalent = serializers.SerializerMethodField(
        help_text="Per stream, from the day its money applies; null when the caller sees no money or the "
        "version cannot be costed yet (no items, say)."
    )
    stream_approvals = StreamApprovalSerializer(many=True, help_text="Every round, oldest first.")

    @extend_schema_field(PeriodSerializer)
    def get_period(self, seen: SeenPlanVersion) -> dict[str, str]:
        return PeriodSerializer({"start": seen.version.starts_on, "end": seen.version.ends_on}).data

    @extend_schema_field({"type": ["string", "null"]})
    def get_summary(self, seen: SeenPlanVersion) -> str | None:
        return seen.version.summary if seen.sight.shows_story else None

    @extend_schema_field({"type": ["string", "null"]})
    def get_change_reason(self, seen: SeenPlanVersion) -> str | None:
        return seen.version.change_reason if seen.sight.shows_story else None

    @extend_schema_field(SupportItemSerializer(many=True))
    def get_support_items(self, seen: SeenPlanVersion) -> list[dict[str, Any]]:
        context = {"sight": seen.sight, "unit_costs": _unit_costs(seen.version, self.context["costing"])}
        return SupportItemSerializer(seen.support_items, many=True, context=context).data

    @extend_schema_field(VersionCashEquivalentSerializer(allow_null=True))
    def get_cash_equivalent(self, seen: SeenPlanVersion) -> dict[str, Any] | None:
        costing: CashEquivalent | None = self.context["costing"]
        if costing is None:
            return None
        streams = cash_equivalent_seen(sight=seen.sight, result=costing)
        if streams is None:
            return None
        currency = costing.currency
        return VersionCashEquivalentSerializer(
            {
                "currency": currency,
                "total": money_format(sum(stream.amount_minor for stream in streams), currency=currency),
                "streams": streams,
            },
            context={"currency": currency},
        ).data


def _unit_costs(version: PlanVersion, costing: CashEquivalent | None) -> dict[int, int]:
    """Catalogue items' unit costs by item pk, from the costing's lines (in `support_items_ordered` order)."""
    if costing is None:
        return {}
    items = plan_selectors.support_items_ordered(version=version)
    return {items[line.item_index].pk: line.unit_cost_minor for line in costing.lines}


class ProgressSerializer(serializers.Serializer):
    outcome = serializers.CharField(source="outcome.public_id")
    progress = serializers.ChoiceField(choices=Progress.choices)
    note = serializers.CharField()


class ReviewSerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id")
    held_on = serializers.DateField()
    held_by = UserRefSerializer()
    notes = serializers.CharField()
    next_review_on = serializers.DateField()
    progress = ProgressSerializer(many=True, source="progress.all")


class ReviewPageSerializer(serializers.Serializer):
    """The list envelope: a version's reviews, newest first, whole; `next` and `previous` are null."""

    results = ReviewSerializer(many=True)
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)


class FieldChangeSerializer(serializers.Serializer):
    field = serializers.CharField()
    older = serializers.JSONField()
    newer = serializers.JSONField()


class CompareChangeSerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id")
    changes = FieldChangeSerializer(many=True)


class CompareOutcomeSerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id")
    in_own_words = serializers.CharField()


class CompareInformalSupportSerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id")
    outcome = serializers.CharField(source="outcome.public_id")
    who = serializers.CharField()
    what = serializers.CharField()


class CompareSupportItemSerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id")
    service_code = serializers.CharField(source="service.service_code", allow_null=True, default=None)
    stream = serializers.CharField(source="stream.code")
    description = serializers.CharField()


class CompareStreamMoneySerializer(serializers.Serializer):
    stream = serializers.CharField()
    currency = serializers.CharField()
    older = serializers.SerializerMethodField()
    newer = serializers.SerializerMethodField()
    difference = serializers.SerializerMethodField()

    def get_older(self, money: compare_selectors.StreamMoney) -> str:
        return money_format(money.older_minor, currency=money.currency)

    def get_newer(self, money: compare_selectors.StreamMoney) -> str:
        return money_format(money.newer_minor, currency=money.currency)

    def get_difference(self, money: compare_selectors.StreamMoney) -> str:
        return money_format(money.difference_minor, currency=money.currency)


class CompareOutcomesSerializer(serializers.Serializer):
    added = CompareOutcomeSerializer(many=True)
    removed = CompareOutcomeSerializer(many=True)
    changed = CompareChangeSerializer(many=True)


class CompareInformalSupportSectionSerializer(serializers.Serializer):
    added = CompareInformalSupportSerializer(many=True)
    removed = CompareInformalSupportSerializer(many=True)
    changed = CompareChangeSerializer(many=True)


class CompareSupportItemsSerializer(serializers.Serializer):
    added = CompareSupportItemSerializer(many=True)
    removed = CompareSupportItemSerializer(many=True)
    changed = CompareChangeSerializer(
        many=True, help_text="Field by field; `cost` is the item's costed amount with its on-costs."
    )


class PlanComparisonSerializer(serializers.Serializer):
    older = serializers.CharField(help_text="The version this one is based on.")
    newer = serializers.CharField()
    money_from = serializers.DateField(
        allow_null=True, help_text="The day both were costed from (null: each over its own period)."
    )
    outcomes = CompareOutcomesSerializer()
    informal_support = CompareInformalSupportSectionSerializer()
    support_items = CompareSupportItemsSerializer()
    money = CompareStreamMoneySerializer(many=True, help_text="Per stream: older, newer and the difference.")


# Input --------------------------------------------------------------------------------------------------


class PlanVersionStartInputSerializer(serializers.Serializer):
    """Either a first draft (`starts_on`, `ends_on`, `summary`) or a change (`based_on`, `effective_from`,
    `change_reason`)."""

    starts_on = serializers.DateField(required=False, help_text="A first draft: the period's first day.")
    ends_on = serializers.DateField(required=False, help_text="A first draft: the period's last day.")
    summary = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    based_on = serializers.CharField(required=False, max_length=24, help_text="A change: the active version.")
    effective_from = serializers.DateField(required=False, help_text="A change: the day it applies from.")
    change_reason = serializers.CharField(required=False, allow_blank=True, max_length=10_000)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        first = [name for name in ("starts_on", "ends_on", "summary") if name in attrs]
        change = [name for name in ("based_on", "effective_from", "change_reason") if name in attrs]
        if first and change:
            raise serializers.ValidationError(
                "Start either a first draft (starts_on, ends_on, summary) or a change (based_on, "
                "effective_from, change_reason), not both.",
                code="version_ambiguous",
            )
        needed = ("based_on", "effective_from", "change_reason") if change else ("starts_on", "ends_on")
        missing = [name for name in needed if name not in attrs]
        if missing:
            raise serializers.ValidationError(
                {name: "This field is required." for name in missing}, code="required"
            )
        return attrs


class OutcomeInputSerializer(serializers.Serializer):
    in_own_words = serializers.CharField(max_length=10_000, help_text="What the person wants to achieve.")
    success_looks_like = serializers.CharField(required=False, allow_blank=True, max_length=10_000)


class InformalSupportInputSerializer(serializers.Serializer):
    outcome = serializers.CharField(max_length=24, help_text="The outcome it serves (out_...).")
    who = serializers.CharField(max_length=200)
    what = serializers.CharField(max_length=10_000)
    how_often = serializers.CharField(required=False, allow_blank=True, max_length=200)


class SupportItemInputSerializer(serializers.Serializer):
    """A support item: like a cash-equivalents item, plus the outcomes it serves, its provider and rate.

    Shapes and types are checked here (400); whether it makes a whole item is the service's (422)."""

    service_code = serializers.CharField(max_length=32, required=False, allow_null=True)
    stream = serializers.CharField(max_length=16, required=False, allow_null=True)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    unit_cost = MoneyTextField(required=False, allow_null=True, help_text="Your own unit cost.")
    unit = serializers.ChoiceField(choices=Unit.choices, required=False, allow_blank=True)
    quantity = DecimalTextField(help_text="How many units each `per`.")
    per = serializers.ChoiceField(choices=Per.choices)
    split = CashEquivalentSplitInputSerializer(required=False, allow_null=True)
    outcomes = serializers.ListField(
        child=serializers.CharField(max_length=24),
        max_length=MAX_OUTCOMES_PER_ITEM,
        help_text="The ids of the outcomes it serves (out_...).",
    )
    provider = serializers.CharField(
        max_length=24, required=False, allow_null=True, help_text="Who provides it (pro_...)."
    )
    agreed_rate = MoneyTextField(required=False, allow_null=True, help_text="The rate agreed with them.")


class ReasonInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=10_000, allow_blank=True)


class ProgressInputSerializer(serializers.Serializer):
    outcome = serializers.CharField(max_length=24)
    progress = serializers.ChoiceField(choices=Progress.choices)
    note = serializers.CharField(required=False, allow_blank=True, max_length=10_000, default="")


class ReviewInputSerializer(serializers.Serializer):
    held_on = serializers.DateField()
    notes = serializers.CharField(allow_blank=True, max_length=50_000)
    progress = ProgressInputSerializer(many=True, max_length=MAX_PROGRESS_ENTRIES)
    next_review_on = serializers.DateField(required=False, allow_null=True)


class ReviewDueInputSerializer(serializers.Serializer):
    due_on = serializers.DateField()
    reason = serializers.CharField(max_length=10_000, allow_blank=True)


# Reading what the caller may see ------------------------------------------------------------------------


def _visible_person(user: Any, per: str) -> BudgetHolder:
    """The budget holder `per` if the caller may see them; 404 (as for nobody) otherwise."""
    holder = budget_holders_visible_to(user).select_related("navigator").filter(public_id=per).first()
    if holder is None:
        raise NotFound()
    return holder


def _visible_version(user: Any, plv: str) -> tuple[PlanVersion, PlanVersionSight]:
    """The version `plv` (prefetched) and what the caller sees of it; 404 (as for none) if nothing."""
    try:
        version = plan_selectors.plan_version_get(public_id=plv)
    except plan_selectors.PlanVersionNotFound:
        raise NotFound() from None
    sight = plan_version_sight(user=user, version=version)
    if sight is None:
        raise NotFound()
    return version, sight


def _require(user: Any, perm: str, obj: Any) -> None:
    if not may(user, perm, obj):
        raise PermissionDenied()


def _costing(version: PlanVersion) -> CashEquivalent | None:
    """The version's costing (providers see no totals from it, but their catalogue items' rates); None when
    it cannot be costed (yet): no items, or a catalogue service without a rate on the day."""
    if not version.support_items.all():
        return None
    try:
        return plan_selectors.plan_version_costing(version=version)
    except CashEquivalentInvalid:
        return None


def _version_body(version: PlanVersion, sight: PlanVersionSight) -> dict[str, Any]:
    seen = plan_version_seen(version=version, sight=sight)
    return PlanVersionSerializer(seen, context={"costing": _costing(version)}).data


def _version_response(user: Any, plv: str, *, status_code: int = status.HTTP_200_OK) -> Response:
    """The version as the caller now sees it (read again, after a change)."""
    version, sight = _visible_version(user, plv)
    return Response(_version_body(version, sight), status=status_code)


# Schema helpers -----------------------------------------------------------------------------------------


def _problem(description: str) -> OpenApiResponse:
    return OpenApiResponse(response=CashEquivalentProblemSerializer, description=description)


_PERSON = OpenApiParameter("per", OpenApiTypes.STR, OpenApiParameter.PATH, description="A person (per_...).")
_VERSION = OpenApiParameter(
    "plv", OpenApiTypes.STR, OpenApiParameter.PATH, description="A plan version (plv_...)."
)
_OUTCOME = OpenApiParameter(
    "out", OpenApiTypes.STR, OpenApiParameter.PATH, description="An outcome (out_...)."
)
_INFORMAL = OpenApiParameter(
    "inf", OpenApiTypes.STR, OpenApiParameter.PATH, description="Informal support (inf_...)."
)
_ITEM = OpenApiParameter(
    "si", OpenApiTypes.STR, OpenApiParameter.PATH, description="A support item (si_...)."
)
_STREAM = OpenApiParameter(
    "code", OpenApiTypes.STR, OpenApiParameter.PATH, description="A funding stream's code (ASC)."
)
_READ = {
    401: _problem("No or bad credentials."),
    404: _problem("Not found, or not yours to see."),
}
_WRITE = {
    **_READ,
    400: _problem("The request is malformed: wrong types, missing fields, bad dates."),
    403: _problem("You see this, but may not do that to it."),
    409: _problem("The version is not in a state that allows it (plan_version_not_draft, ...)."),
    422: _problem("It breaks a rule; errors lists every problem with a pointer."),
}


# Views: people ------------------------------------------------------------------------------------------


class PersonListView(generics.ListAPIView):
    """The budget holders the caller may see: their own record, those they represent, their caseload, the
    people their agency funds or their organisation serves; everyone for finance and administrators."""

    serializer_class = PersonSerializer

    def get_queryset(self):
        return budget_holders_visible_to(self.request.user).select_related("navigator")

    @extend_schema(
        operation_id="people_list",
        responses={200: PersonSerializer(many=True), 401: _problem("No or bad credentials.")},
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)


class PersonView(APIView):
    """One budget holder the caller may see."""

    @extend_schema(
        operation_id="people_retrieve", parameters=[_PERSON], responses={200: PersonSerializer, **_READ}
    )
    def get(self, request: Request, per: str) -> Response:
        return Response(PersonSerializer(_visible_person(request.user, per)).data)


class PlanView(APIView):
    """The person's plan: its versions that the caller sees, newest first, and which one is active."""

    @extend_schema(
        operation_id="people_plan_retrieve", parameters=[_PERSON], responses={200: PlanSerializer, **_READ}
    )
    def get(self, request: Request, per: str) -> Response:
        holder = _visible_person(request.user, per)
        plan: SupportPlan | None = plan_selectors.plan_for_holder(budget_holder=holder)
        if plan is None:
            raise NotFound()
        versions = plan_selectors.plan_versions(plan=plan).filter(
            pk__in=plan_versions_visible_to(request.user).values("pk")
        )
        return Response(PlanSerializer({"plan": plan, "versions": list(versions)}).data)


class PlanVersionStartView(APIView):
    """Start the person's first draft, or a change from their active version (their navigator, or an
    administrator)."""

    @extend_schema(
        operation_id="people_plan_versions_create",
        parameters=[_PERSON],
        request=PlanVersionStartInputSerializer,
        responses={201: PlanVersionSerializer, **_WRITE},
    )
    def post(self, request: Request, per: str) -> Response:
        holder = _visible_person(request.user, per)
        _require(request.user, "plans.start_planversion", holder)
        body = PlanVersionStartInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        if "based_on" in data:
            version = version_services.plan_version_start_from(
                version=_based_on(holder, data["based_on"]),
                started_by=request.user,
                effective_from=data["effective_from"],
                change_reason=data["change_reason"],
            )
        else:
            version = version_services.plan_version_start(
                budget_holder=holder,
                starts_on=data["starts_on"],
                ends_on=data["ends_on"],
                started_by=request.user,
                summary=data.get("summary", ""),
            )
        return _version_response(request.user, version.public_id, status_code=status.HTTP_201_CREATED)


def _based_on(holder: BudgetHolder, public_id: str) -> PlanVersion:
    try:
        version = plan_selectors.plan_version_get(public_id=public_id)
    except plan_selectors.PlanVersionNotFound:
        version = None
    if version is None or version.plan.budget_holder_id != holder.pk:
        raise UnknownReference(
            [
                Problem(
                    "unknown_plan_version",
                    "/based_on",
                    "Start a change from a version of this person's plan.",
                )
            ]
        )
    return version


class PlanVersionUpdateSerializer(serializers.Serializer):
    """What may change on a draft itself: its summary, about the person in their own words."""

    summary = serializers.CharField(allow_blank=True, max_length=5000, trim_whitespace=True)


# Views: one version -------------------------------------------------------------------------------------


class PlanVersionView(APIView):
    """One plan version, cut down to what the caller sees."""

    @extend_schema(
        operation_id="plan_versions_retrieve",
        parameters=[_VERSION],
        responses={200: PlanVersionSerializer, **_READ},
    )
    def get(self, request: Request, plv: str) -> Response:
        version, sight = _visible_version(request.user, plv)
        return Response(_version_body(version, sight))

    @extend_schema(
        operation_id="plan_versions_partial_update",
        parameters=[_VERSION],
        request=PlanVersionUpdateSerializer,
        responses={200: PlanVersionSerializer, **_WRITE},
    )
    def patch(self, request: Request, plv: str) -> Response:
        version, _ = _visible_version(request.user, plv)
        _require(request.user, "plans.change_planversion", version)
        body = PlanVersionUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        version_services.plan_version_update(version=version, by=request.user, **body.validated_data)
        version, sight = _visible_version(request.user, plv)
        return Response(_version_body(version, sight))


class OutcomeListView(APIView):
    """Add an outcome to a draft: what the person wants to achieve, in their own words."""

    @extend_schema(
        operation_id="plan_versions_outcomes_create",
        parameters=[_VERSION],
        request=OutcomeInputSerializer,
        responses={201: OutcomeSerializer, **_WRITE},
    )
    def post(self, request: Request, plv: str) -> Response:
        version, _ = _visible_version(request.user, plv)
        _require(request.user, "plans.change_planversion", version)
        body = OutcomeInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        outcome = version_services.outcome_add(version=version, by=request.user, **body.validated_data)
        return _outcome_response(request.user, plv, outcome.public_id, status.HTTP_201_CREATED)


def _outcome_response(user: Any, plv: str, out: str, status_code: int) -> Response:
    version, sight = _visible_version(user, plv)
    seen = plan_version_seen(version=version, sight=sight).outcome(out)
    if seen is None:  # pragma: no cover - only if it was removed between the change and this read
        raise NotFound()
    return Response(OutcomeSerializer(seen).data, status=status_code)


class OutcomeView(APIView):
    """Change or remove an outcome of a draft."""

    def _outcome(self, request: Request, plv: str, out: str) -> tuple[PlanVersion, SeenOutcome]:
        version, sight = _visible_version(request.user, plv)
        _require(request.user, "plans.change_planversion", version)
        seen = plan_version_seen(version=version, sight=sight).outcome(out)
        if seen is None:
            raise NotFound()
        return version, seen

    @extend_schema(
        operation_id="plan_versions_outcomes_partial_update",
        parameters=[_VERSION, _OUTCOME],
        request=OutcomeInputSerializer(partial=True),
        responses={200: OutcomeSerializer, **_WRITE},
    )
    def patch(self, request: Request, plv: str, out: str) -> Response:
        _, seen = self._outcome(request, plv, out)
        body = OutcomeInputSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        version_services.outcome_update(outcome=seen.outcome, by=request.user, **body.validated_data)
        return _outcome_response(request.user, plv, out, status.HTTP_200_OK)

    @extend_schema(
        operation_id="plan_versions_outcomes_destroy",
        parameters=[_VERSION, _OUTCOME],
        request=None,
        responses={204: None, **_WRITE},
    )
    def delete(self, request: Request, plv: str, out: str) -> Response:
        _, seen = self._outcome(request, plv, out)
        version_services.outcome_remove(outcome=seen.outcome, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InformalSupportListView(APIView):
    """Record family, friends' or community support towards an outcome of a draft."""

    @extend_schema(
        operation_id="plan_versions_informal_support_create",
        parameters=[_VERSION],
        request=InformalSupportInputSerializer,
        responses={201: InformalSupportSerializer, **_WRITE},
    )
    def post(self, request: Request, plv: str) -> Response:
        version, _ = _visible_version(request.user, plv)
        _require(request.user, "plans.change_planversion", version)
        body = InformalSupportInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        outcome = next((o for o in version.outcomes.all() if o.public_id == data["outcome"]), None)
        if outcome is None:
            raise UnknownReference(
                [Problem("unknown_outcome", "/outcome", "Choose an outcome of this version of the plan.")]
            )
        informal = version_services.informal_support_add(
            version=version,
            outcome=outcome,
            who=data["who"],
            what=data["what"],
            how_often=data.get("how_often", ""),
            by=request.user,
        )
        return Response(InformalSupportSerializer(informal).data, status=status.HTTP_201_CREATED)


class InformalSupportView(APIView):
    """Remove informal support from a draft."""

    @extend_schema(
        operation_id="plan_versions_informal_support_destroy",
        parameters=[_VERSION, _INFORMAL],
        request=None,
        responses={204: None, **_WRITE},
    )
    def delete(self, request: Request, plv: str, inf: str) -> Response:
        version, _ = _visible_version(request.user, plv)
        _require(request.user, "plans.change_planversion", version)
        informal: InformalSupport | None = next(
            (support for support in version.informal_supports.all() if support.public_id == inf), None
        )
        if informal is None:
            raise NotFound()
        version_services.informal_support_remove(informal_support=informal, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _item_changes(version: PlanVersion, data: dict[str, Any], item: SupportItem | None) -> dict[str, Any]:
    """The service's keyword arguments for an item's body: references resolved, money read in the currency
    of the item's stream. Raises SupportItemReferencesInvalid listing every reference it cannot resolve."""
    problems: list[Problem] = []
    changes: dict[str, Any] = {}
    for field, name in (
        ("service_code", "service_code"),
        ("stream", "stream_code"),
        ("description", "description"),
        ("unit", "unit"),
        ("quantity", "quantity"),
        ("per", "per"),
    ):
        if field in data:
            changes[name] = data[field]
    if "split" in data:
        changes["split"] = _split_json(data["split"])
    if "outcomes" in data:
        by_id = {outcome.public_id: outcome for outcome in version.outcomes.all()}
        changes["outcomes"] = []
        for index, public_id in enumerate(data["outcomes"]):
            if public_id in by_id:
                changes["outcomes"].append(by_id[public_id])
            else:
                problems.append(
                    Problem(
                        "unknown_outcome",
                        f"/outcomes/{index}",
                        "Choose an outcome of this version of the plan.",
                    )
                )
    if "provider" in data:
        provider: Organisation | None = None
        if data["provider"] is not None:
            provider = people_selectors.organisation_get_by_public_id(public_id=data["provider"])
            if provider is None:
                problems.append(
                    Problem("unknown_provider", "/provider", "There is no provider with that id.")
                )
        changes["provider"] = provider
    currency = _item_currency(version, data, item)
    for field, name in (("unit_cost", "unit_cost_minor"), ("agreed_rate", "agreed_rate_minor")):
        if field not in data:
            continue
        if data[field] is None:
            changes[name] = None
        elif currency is None:
            # An unknown stream or service: the service reports it; no amount can be read without it.
            changes[name] = 0
        else:
            try:
                changes[name] = money_parse(data[field], currency=currency)
            except (InvalidAmount, UnknownCurrency) as error:
                problems.append(Problem("invalid_amount", f"/{field}", error.message))
    if problems:
        raise SupportItemReferencesInvalid(problems)
    return changes


def _split_json(split: dict[str, Any] | None) -> dict[str, Any] | None:
    """A split as validated by the cash-equivalents serializer, back to its JSON text form."""
    if not split:
        return None
    if "percent" in split:
        return {"percent": [{"stream": p["stream"], "percent": f"{p['percent']}"} for p in split["percent"]]}
    return {"cap": dict(split["cap"]), "rest": split["rest"]}


def _item_currency(version: PlanVersion, data: dict[str, Any], item: SupportItem | None) -> str | None:
    """The currency the item's money is in: its service's or stream's (as asked, else as it is)."""
    if data.get("service_code"):
        rated = catalogue_selectors.services_rated_on(
            service_codes=[data["service_code"]], on=version.effective_from
        ).get(data["service_code"])
        return rated.service.stream.currency if rated is not None else None
    if data.get("stream"):
        try:
            stream: FundingStream = catalogue_selectors.stream_get(code=data["stream"])
        except catalogue_selectors.UnknownStream:
            return None
        return stream.currency
    return item.stream.currency if item is not None else None


class SupportItemListView(APIView):
    """Add paid support to a draft."""

    @extend_schema(
        operation_id="plan_versions_items_create",
        parameters=[_VERSION],
        request=SupportItemInputSerializer,
        responses={201: SupportItemSerializer, **_WRITE},
    )
    def post(self, request: Request, plv: str) -> Response:
        version, _ = _visible_version(request.user, plv)
        _require(request.user, "plans.change_planversion", version)
        body = SupportItemInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        item = version_services.support_item_add(
            version=version, by=request.user, **_item_changes(version, body.validated_data, None)
        )
        return _item_response(request.user, plv, item.public_id, status.HTTP_201_CREATED)


def _item_response(user: Any, plv: str, si: str, status_code: int) -> Response:
    version, sight = _visible_version(user, plv)
    item = plan_version_seen(version=version, sight=sight).support_item(si)
    if item is None:  # pragma: no cover - only if it was removed between the change and this read
        raise NotFound()
    context = {"sight": sight, "unit_costs": _unit_costs(version, _costing(version))}
    return Response(SupportItemSerializer(item, context=context).data, status=status_code)


class SupportItemView(APIView):
    """Change or remove a draft's support item."""

    def _item(self, request: Request, plv: str, si: str) -> tuple[PlanVersion, SupportItem]:
        version, sight = _visible_version(request.user, plv)
        _require(request.user, "plans.change_planversion", version)
        item = plan_version_seen(version=version, sight=sight).support_item(si)
        if item is None:
            raise NotFound()
        return version, item

    @extend_schema(
        operation_id="plan_versions_items_partial_update",
        parameters=[_VERSION, _ITEM],
        request=SupportItemInputSerializer(partial=True),
        responses={200: SupportItemSerializer, **_WRITE},
    )
    def patch(self, request: Request, plv: str, si: str) -> Response:
        version, item = self._item(request, plv, si)
        body = SupportItemInputSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        version_services.support_item_update(
            item=item, by=request.user, **_item_changes(version, body.validated_data, item)
        )
        return _item_response(request.user, plv, si, status.HTTP_200_OK)

    @extend_schema(
        operation_id="plan_versions_items_destroy",
        parameters=[_VERSION, _ITEM],
        request=None,
        responses={204: None, **_WRITE},
    )
    def delete(self, request: Request, plv: str, si: str) -> Response:
        _, item = self._item(request, plv, si)
        version_services.support_item_remove(item=item, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# Views: workflow ----------------------------------------------------------------------------------------


class PlanVersionAgreeView(APIView):
    """The person (or a representative who may approve for them) agrees a draft: each stream's part goes to
    its agency."""

    @extend_schema(
        operation_id="plan_versions_agree",
        parameters=[_VERSION],
        request=None,
        responses={200: PlanVersionSerializer, **_WRITE},
    )
    def post(self, request: Request, plv: str) -> Response:
        version, _ = _visible_version(request.user, plv)
        _require(request.user, "plans.agree_planversion", version)
        workflow_services.plan_version_agree(version=version, agreed_by=request.user)
        return _version_response(request.user, plv)


def _stream_for_decision(user: Any, plv: str, code: str) -> tuple[PlanVersion, str]:
    version, _ = _visible_version(user, plv)
    try:
        stream = catalogue_selectors.stream_get(code=code)
    except catalogue_selectors.UnknownStream:
        raise NotFound() from None
    _require(user, "plans.decide_stream", stream)
    return version, stream.code


class StreamApproveView(APIView):
    """An officer of the stream's agency approves its part of an agreed version; the last approval of a
    round makes the version active."""

    @extend_schema(
        operation_id="plan_versions_streams_approve",
        parameters=[_VERSION, _STREAM],
        request=None,
        responses={200: PlanVersionSerializer, **_WRITE},
    )
    def post(self, request: Request, plv: str, code: str) -> Response:
        version, stream_code = _stream_for_decision(request.user, plv, code)
        workflow_services.plan_stream_approve(
            version=version, stream_code=stream_code, approved_by=request.user
        )
        return _version_response(request.user, plv)


class StreamReturnView(APIView):
    """An officer of the stream's agency returns its part for changes, with a reason: back to draft."""

    @extend_schema(
        operation_id="plan_versions_streams_return",
        parameters=[_VERSION, _STREAM],
        request=ReasonInputSerializer,
        responses={200: PlanVersionSerializer, **_WRITE},
    )
    def post(self, request: Request, plv: str, code: str) -> Response:
        version, stream_code = _stream_for_decision(request.user, plv, code)
        body = ReasonInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        workflow_services.plan_stream_return(
            version=version,
            stream_code=stream_code,
            returned_by=request.user,
            reason=body.validated_data["reason"],
        )
        return _version_response(request.user, plv)


class PlanVersionWithdrawView(APIView):
    """The person's navigator withdraws a draft or agreed version, with a reason."""

    @extend_schema(
        operation_id="plan_versions_withdraw",
        parameters=[_VERSION],
        request=ReasonInputSerializer,
        responses={200: PlanVersionSerializer, **_WRITE},
    )
    def post(self, request: Request, plv: str) -> Response:
        version, _ = _visible_version(request.user, plv)
        _require(request.user, "plans.withdraw_planversion", version)
        body = ReasonInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        workflow_services.plan_version_withdraw(
            version=version, by=request.user, reason=body.validated_data["reason"]
        )
        return _version_response(request.user, plv)


# Views: compare and reviews -----------------------------------------------------------------------------


class PlanVersionCompareView(APIView):
    """What changed from the version this one is based on: outcomes, informal support and items added,
    removed and changed, and the money per stream; an agency officer sees only their own streams' items and
    money. 404 for a first version (nothing to compare with)."""

    @extend_schema(
        operation_id="plan_versions_compare",
        parameters=[_VERSION],
        responses={200: PlanComparisonSerializer, **_READ, 403: _problem("Not for providers.")},
    )
    def get(self, request: Request, plv: str) -> Response:
        version, sight = _visible_version(request.user, plv)
        _require(request.user, "plans.compare_planversion", version)
        if version.based_on is None:
            raise NotFound()
        comparison = compare_selectors.plan_version_compare(older=version.based_on, newer=version)
        return Response(PlanComparisonSerializer(_comparison_seen(comparison, sight)).data)


def _item_money_is_theirs(sight: PlanVersionSight, item: SupportItem) -> bool:
    """Whether every stream paying for the item is one the caller sees (so its cost is theirs to see)."""
    return sight.in_full or ({item.stream.code} | split_stream_codes(item.split)) <= sight.stream_codes


def _comparison_seen(comparison: compare_selectors.PlanComparison, sight: PlanVersionSight) -> dict[str, Any]:
    """A comparison cut down like the detail: an agency sees its streams' items and money, every outcome."""
    shows = sight.shows_item

    def item_changes(change: compare_selectors.SupportItemChange) -> dict[str, Any]:
        hidden = set() if _item_money_is_theirs(sight, change.newer) else {"cost"}
        return {
            "public_id": change.public_id,
            "changes": [c for c in change.changes if c.field not in hidden],
        }

    return {
        "older": comparison.older.public_id,
        "newer": comparison.newer.public_id,
        "money_from": comparison.money_from,
        "outcomes": {
            "added": comparison.outcomes_added,
            "removed": comparison.outcomes_removed,
            "changed": comparison.outcomes_changed,
        },
        "informal_support": {
            "added": comparison.informal_support_added,
            "removed": comparison.informal_support_removed,
            "changed": comparison.informal_support_changed,
        },
        "support_items": {
            "added": [item for item in comparison.support_items_added if shows(item)],
            "removed": [item for item in comparison.support_items_removed if shows(item)],
            "changed": [
                item_changes(change)
                for change in comparison.support_items_changed
                if shows(change.older) or shows(change.newer)
            ],
        },
        "money": [money for money in comparison.money if sight.shows_stream(money.stream)],
    }


class ReviewListView(APIView):
    """A version's reviews (those who see the plan in full), and recording one (the person's navigator)."""

    @extend_schema(
        operation_id="plan_versions_reviews_list",
        parameters=[_VERSION],
        responses={200: ReviewPageSerializer, **_READ, 403: _problem("Only those who see the plan in full.")},
    )
    def get(self, request: Request, plv: str) -> Response:
        version, _ = _visible_version(request.user, plv)
        _require(request.user, "plans.view_review", version)
        reviews: list[Review] = list(version.reviews.all())
        return Response(
            {"results": ReviewSerializer(reviews, many=True).data, "next": None, "previous": None}
        )

    @extend_schema(
        operation_id="plan_versions_reviews_create",
        parameters=[_VERSION],
        request=ReviewInputSerializer,
        responses={201: ReviewSerializer, **_WRITE},
    )
    def post(self, request: Request, plv: str) -> Response:
        version, _ = _visible_version(request.user, plv)
        _require(request.user, "plans.add_review", version)
        body = ReviewInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        review = review_services.review_record(
            version=version,
            held_by=request.user,
            held_on=data["held_on"],
            notes=data["notes"],
            progress=[(entry["outcome"], entry["progress"], entry["note"]) for entry in data["progress"]],
            next_review_on=data.get("next_review_on"),
        )
        return Response(ReviewSerializer(review).data, status=status.HTTP_201_CREATED)


class ReviewDueView(APIView):
    """Bring the next review forward (the navigator, the person, or a representative who may approve)."""

    @extend_schema(
        operation_id="plan_versions_review_due",
        parameters=[_VERSION],
        request=ReviewDueInputSerializer,
        responses={200: PlanVersionSerializer, **_WRITE},
    )
    def post(self, request: Request, plv: str) -> Response:
        version, _ = _visible_version(request.user, plv)
        _require(request.user, "plans.bring_review_forward", version)
        body = ReviewDueInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        review_services.plan_review_bring_forward(
            version=version,
            due_on=body.validated_data["due_on"],
            requested_by=request.user,
            reason=body.validated_data["reason"],
        )
        return _version_response(request.user, plv)
