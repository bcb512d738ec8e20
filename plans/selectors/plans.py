"""Reading support plans and their versions, and costing a version with the budgets calculator.

Costing: a version's support items become one `budgets` cash-equivalent request, costed from the day the
version's money applies (`effective_from`, the period's start for a first version) to the end of its period,
against the rate catalogue on that day. That is the money this version asks each stream for; the agencies
approve those amounts and activation turns them into personal budgets (see `plans.services.workflow`).
A version has no contribution field yet, so costing charges none (the person's assessed contribution is for
budgets to add when plans record it).
"""

from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch, QuerySet

from budgets.calculator import CashEquivalent, PercentSplit
from budgets.models import Per
from budgets.services.cash_equivalents import (
    CapSplitRequest,
    CashEquivalentRequest,
    ItemRequest,
    cash_equivalent_calculate,
)
from ledger.errors import DomainError
from ledger.money import money_format
from people.models import BudgetHolder, Organisation
from plans.models import (
    InformalSupport,
    Outcome,
    OutcomeProgress,
    PlanVersion,
    PlanVersionStatus,
    Review,
    StreamApproval,
    SupportItem,
    SupportPlan,
)


class PlanVersionNotFound(DomainError):
    code = "plan_version_not_found"
    message = "There is no such plan version."
    http_status = 404


def plan_for_holder(*, budget_holder: BudgetHolder) -> SupportPlan | None:
    """The person's one plan, or None before their first version is started."""
    return SupportPlan.objects.filter(budget_holder=budget_holder).first()


def plan_version_get(*, public_id: str) -> PlanVersion:
    """One version with everything its detail shows, in a fixed number of queries; raises PlanVersionNotFound.

    Prefetched, in display order: `outcomes` (with their informal support and the items serving them),
    `informal_supports`, `support_items` (with service, stream, provider and outcomes), `stream_approvals`
    (every round, with stream, agency and decider) and `reviews` (newest first, with progress per outcome).
    """
    versions = PlanVersion.objects.select_related(
        "plan__budget_holder__navigator", "based_on", "created_by", "agreed_by"
    ).prefetch_related(
        Prefetch("outcomes", queryset=Outcome.objects.order_by("position", "pk")),
        Prefetch(
            "informal_supports",
            queryset=InformalSupport.objects.select_related("outcome").order_by("outcome__position", "pk"),
        ),
        Prefetch(
            "support_items",
            queryset=SupportItem.objects.select_related("service", "stream__agency", "provider")
            .prefetch_related(Prefetch("outcomes", queryset=Outcome.objects.order_by("position", "pk")))
            .order_by("position", "pk"),
        ),
        Prefetch(
            "stream_approvals",
            queryset=StreamApproval.objects.select_related("stream__agency", "decided_by").order_by(
                "round", "stream__code"
            ),
        ),
        Prefetch(
            "reviews",
            queryset=Review.objects.select_related("held_by")
            .prefetch_related(
                Prefetch(
                    "progress",
                    queryset=OutcomeProgress.objects.select_related("outcome").order_by("outcome__position"),
                )
            )
            .order_by("-held_on", "-pk"),
        ),
    )
    try:
        return versions.get(public_id=public_id)
    except PlanVersion.DoesNotExist:
        raise PlanVersionNotFound(f"There is no plan version {public_id!r}.") from None


def plan_versions(*, plan: SupportPlan) -> QuerySet[PlanVersion]:
    """Every version of a plan, newest first (without their contents)."""
    return PlanVersion.objects.filter(plan=plan).select_related("created_by", "agreed_by").order_by("-number")


def plan_version_active(*, budget_holder: BudgetHolder) -> PlanVersion | None:
    """The person's active version, or None."""
    return (
        PlanVersion.objects.select_related("plan")
        .filter(plan__budget_holder=budget_holder, status=PlanVersionStatus.ACTIVE)
        .first()
    )


def support_items_for_provider(*, provider: Organisation) -> QuerySet[SupportItem]:
    """The items of active versions that `provider` is engaged for, with their version, person and service."""
    return (
        SupportItem.objects.filter(provider=provider, version__status=PlanVersionStatus.ACTIVE)
        .select_related("version__plan__budget_holder", "service", "stream")
        .order_by("version__plan__budget_holder__full_name", "version_id", "position", "pk")
    )


# Costing ------------------------------------------------------------------------------------------------


def plan_version_costing(*, version: PlanVersion, from_on: date | None = None) -> CashEquivalent:
    """Cost a version's items per stream from `from_on` (default: its `effective_from`) to its period's end.

    Uses the catalogue as it stands on `from_on`; charges no contribution (the module docstring says why).
    Lines are in item order (`line.item_index` is the index in `support_items_ordered(version=...)`).
    Raises CashEquivalentInvalid (for example `no_items` for a version without items).
    """
    items = support_items_ordered(version=version)
    request = CashEquivalentRequest(
        start=from_on or version.effective_from,
        end=version.ends_on,
        items=tuple(support_item_request(item) for item in items),
    )
    return cash_equivalent_calculate(request=request)


def support_items_ordered(*, version: PlanVersion) -> list[SupportItem]:
    """A version's items in plan order, with service and stream (the prefetched ones when there are)."""
    cache = getattr(version, "_prefetched_objects_cache", {})
    if "support_items" in cache:
        return sorted(cache["support_items"], key=lambda item: (item.position, item.pk))
    return list(
        SupportItem.objects.filter(version=version)
        .select_related("service", "stream")
        .order_by("position", "pk")
    )


def support_item_request(item: SupportItem) -> ItemRequest:
    """A stored item as one item of a cash-equivalent request."""
    split = split_request(item.split)
    if item.service_id is not None:
        return ItemRequest(
            quantity=item.quantity,
            per=Per(item.per),
            service_code=item.service.service_code,
            description=item.description,
            split=split,
        )
    assert item.unit_cost_minor is not None  # the model's constraint: a service or its own cost
    return ItemRequest(
        quantity=item.quantity,
        per=Per(item.per),
        stream=item.stream.code,
        description=item.description,
        unit_cost=money_format(item.unit_cost_minor, currency=item.stream.currency),
        unit=item.unit,
        split=split,
    )


def split_request(split: dict[str, Any] | None) -> PercentSplit | CapSplitRequest | None:
    """A stored split (as the cash-equivalents API writes it) as the calculator's request; None for none."""
    if not split:
        return None
    if "percent" in split:
        return PercentSplit(
            parts=tuple((part["stream"], Decimal(part["percent"])) for part in split["percent"])
        )
    cap = split["cap"]
    return CapSplitRequest(
        stream=cap["stream"], amount=cap["amount"], per=Per(cap["per"]), rest=split["rest"]
    )


def outcome_words(*, budget_holder: BudgetHolder, public_ids: set[str]) -> dict[str, str]:
    """Each outcome's words as the person wrote them, by public id, from the latest version of their plan
    that has it (outcomes keep their id from version to version). One query."""
    if not public_ids:
        return {}
    rows = (
        Outcome.objects.filter(version__plan__budget_holder=budget_holder, public_id__in=public_ids)
        .order_by("version__number")
        .values_list("public_id", "in_own_words")
    )
    return dict(rows)
