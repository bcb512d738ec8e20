"""Who sees which support plans, and how much of each one (the plans side of `people.access`).

Three kinds of sight, one per kind of viewer:

* **in full**: the budget holder, their representatives (active grants, view or approve), their navigator,
  finance officers and administrators see every version of the person's plan, every item and every figure;
* **an agency's part**: an agency officer sees a version (not a withdrawn one) that one of their agency's
  streams funds: an item of that stream, or a stream approval of it (a round of agreement). To keep that one
  indexed query, a stream that pays only part of a *split* item counts once the version has been agreed (its
  approval row names it); until then the version shows to the agency of the item's own (first) stream. Of a
  version they see, they see the outcomes and informal support (the person's story, shared with every
  agency that funds them), and of the money only their own streams' items, cash-equivalent lines and
  approvals ("nothing of other agencies' money");
* **a provider's engagements**: a provider's users see the *active* version of a person they are engaged
  by (an item whose provider is their organisation), and of it only those items and the outcomes they
  serve: no summary, no informal support, no money other than their agreed rate, no approvals.

Everyone else sees nothing (the API answers 404, as for a record that does not exist).

The querysets (`plan_versions_visible_to`, `support_items_visible_to`, and the budget-holder rules registered
with `people.access.register_visibility` from `PlansConfig.ready()`) and the object checks
(`plan_version_sight`, behind the `plans.*` permissions of `plans/rules.py`) say the same thing; the tests
hold them to it.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import rules
from django.db.models import Q, QuerySet

from budgets.calculator import CashEquivalent, StreamAmount
from budgets.models import FundingStream
from people.access import (
    can_approve_for,
    is_budget_holder_self,
    is_navigator_of,
    is_representative_of,
    register_visibility,
    visible_to,
)
from people.models import BudgetHolder, Representative, Role
from plans.models import (
    InformalSupport,
    Outcome,
    PlanVersion,
    PlanVersionStatus,
    StreamApproval,
    SupportItem,
)

# How many parts of a percentage split the item queryset looks into (the API accepts at most this many).
MAX_SPLIT_PARTS = 10

_SEES_EVERYONE = (Role.FINANCE_OFFICER, Role.ADMINISTRATOR)


def _role(user: Any) -> str | None:
    return getattr(user, "role", None)


def split_stream_codes(split: Any) -> set[str]:
    """The stream codes a stored split names ({} for none): its percentage parts, or its cap and rest."""
    if not isinstance(split, dict):
        return set()
    codes: set[str] = set()
    for part in split.get("percent") or ():
        if isinstance(part, dict) and isinstance(part.get("stream"), str):
            codes.add(part["stream"])
    cap = split.get("cap")
    if isinstance(cap, dict) and isinstance(cap.get("stream"), str):
        codes.add(cap["stream"])
    if isinstance(split.get("rest"), str):
        codes.add(split["rest"])
    return codes


def agency_streams(*, user: Any) -> dict[int, str]:
    """An agency officer's streams, {pk: code} (one query); empty for anyone else."""
    if _role(user) != Role.AGENCY_OFFICER or getattr(user, "organisation_id", None) is None:
        return {}
    return dict(FundingStream.objects.filter(agency_id=user.organisation_id).values_list("pk", "code"))


# What one user sees of one version ------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanVersionSight:
    """What of one plan version one user sees: all of it, an agency's streams, or a provider's items."""

    in_full: bool = False
    stream_ids: frozenset[int] = field(default_factory=frozenset)  # an agency officer's streams
    stream_codes: frozenset[str] = field(default_factory=frozenset)  # the same, by code
    provider_id: int | None = None  # a provider user's organisation

    @property
    def is_agency(self) -> bool:
        return not self.in_full and bool(self.stream_codes)

    @property
    def is_provider(self) -> bool:
        return not self.in_full and self.provider_id is not None

    @property
    def shows_money(self) -> bool:
        """Cash equivalents and stream approvals: in full, or an agency's own streams."""
        return not self.is_provider

    @property
    def shows_story(self) -> bool:
        """The summary, every outcome and the informal support: not to a provider."""
        return not self.is_provider

    def shows_stream(self, code: str) -> bool:
        return self.in_full or (self.is_agency and code in self.stream_codes)

    def shows_item(self, item: SupportItem) -> bool:
        if self.in_full:
            return True
        if self.is_provider:
            return item.provider_id == self.provider_id
        return item.stream_id in self.stream_ids or bool(split_stream_codes(item.split) & self.stream_codes)


def sees_plan_in_full(user: Any, budget_holder: BudgetHolder) -> bool:
    """The person, an active representative, their navigator, finance or an administrator (0-1 query)."""
    if _role(user) in _SEES_EVERYONE:
        return True
    return bool(
        is_budget_holder_self(user, budget_holder)
        or is_navigator_of(user, budget_holder)
        or is_representative_of(user, budget_holder)
    )


def plan_version_sight(*, user: Any, version: PlanVersion) -> PlanVersionSight | None:
    """What `user` sees of `version`, or None for nothing.

    Reads the version's items (with their streams) and stream approvals: prefetch them, as
    `plans.selectors.plans.plan_version_get` does. At most one query of its own.
    """
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    if sees_plan_in_full(user, version.plan.budget_holder):
        return PlanVersionSight(in_full=True)
    role = _role(user)
    if role == Role.AGENCY_OFFICER:
        if version.status == PlanVersionStatus.WITHDRAWN:
            return None
        streams = agency_streams(user=user)
        funds_it = any(item.stream_id in streams for item in version.support_items.all()) or any(
            approval.stream_id in streams for approval in version.stream_approvals.all()
        )
        if not funds_it:
            return None
        return PlanVersionSight(stream_ids=frozenset(streams), stream_codes=frozenset(streams.values()))
    if role == Role.PROVIDER_USER:
        if version.status != PlanVersionStatus.ACTIVE:
            return None
        engaged = any(item.provider_id == user.organisation_id for item in version.support_items.all())
        return PlanVersionSight(provider_id=user.organisation_id) if engaged else None
    return None


# Predicates for plans/rules.py (each takes (user, obj)) ----------------------------------------------------


def _holder_of(obj: Any) -> BudgetHolder | None:
    if isinstance(obj, PlanVersion):
        return obj.plan.budget_holder
    if isinstance(obj, BudgetHolder):
        return obj
    return None


@rules.predicate
def sees_plan_version(user: Any, version: PlanVersion | None) -> bool:
    return version is not None and plan_version_sight(user=user, version=version) is not None


@rules.predicate
def sees_plan_version_in_full(user: Any, obj: PlanVersion | BudgetHolder | None) -> bool:
    holder = _holder_of(obj)
    return holder is not None and sees_plan_in_full(user, holder)


@rules.predicate
def sees_plan_version_money(user: Any, version: PlanVersion | None) -> bool:
    """In full or an agency's part: not a provider's engagements."""
    if version is None:
        return False
    sight = plan_version_sight(user=user, version=version)
    return sight is not None and sight.shows_money


@rules.predicate
def is_holder_of_plan(user: Any, obj: PlanVersion | BudgetHolder | None) -> bool:
    holder = _holder_of(obj)
    return holder is not None and is_budget_holder_self(user, holder)


@rules.predicate
def is_navigator_of_plan(user: Any, obj: PlanVersion | BudgetHolder | None) -> bool:
    holder = _holder_of(obj)
    return holder is not None and is_navigator_of(user, holder)


@rules.predicate
def may_approve_for_plan(user: Any, obj: PlanVersion | BudgetHolder | None) -> bool:
    """An active representative's grant with the power to approve, for the plan's person."""
    holder = _holder_of(obj)
    return holder is not None and can_approve_for(user, holder)


@rules.predicate
def is_officer_of_stream(user: Any, stream: FundingStream | None) -> bool:
    """The user is an agency officer of the stream's agency."""
    return (
        stream is not None
        and _role(user) == Role.AGENCY_OFFICER
        and getattr(user, "organisation_id", None) is not None
        and stream.agency_id == user.organisation_id
    )


# Querysets ----------------------------------------------------------------------------------------------


def plan_versions_visible_to(user: Any) -> QuerySet[PlanVersion]:
    """Every plan version `user` sees (any part of): the union of the rules registered below."""
    return visible_to(user, PlanVersion)


def support_items_visible_to(user: Any) -> QuerySet[SupportItem]:
    """Every support item `user` sees: the union of the rules registered below."""
    return visible_to(user, SupportItem)


def _person_side(user: Any, holder_field: str) -> Q | None:
    """The person's own side (self, active representatives, caseload) and finance and administrators."""
    if _role(user) in _SEES_EVERYONE:
        return Q()
    represented = Representative.objects.active().filter(user_id=user.pk).values("budget_holder_id")
    condition = Q(**{f"{holder_field}__user_id": user.pk}) | Q(**{f"{holder_field}_id__in": represented})
    if _role(user) == Role.NAVIGATOR:
        condition |= Q(**{f"{holder_field}__navigator_id": user.pk})
    return condition


def _versions_funded_by_agency(user: Any) -> QuerySet[PlanVersion] | None:
    """Non-withdrawn versions with an item of the officer's agency's streams or an approval of one."""
    if _role(user) != Role.AGENCY_OFFICER or getattr(user, "organisation_id", None) is None:
        return None
    agency = user.organisation_id
    return PlanVersion.objects.exclude(status=PlanVersionStatus.WITHDRAWN).filter(
        Q(pk__in=SupportItem.objects.filter(stream__agency_id=agency).values("version_id"))
        | Q(pk__in=StreamApproval.objects.filter(stream__agency_id=agency).values("version_id"))
    )


def _engaged_items(user: Any) -> QuerySet[SupportItem] | None:
    """Items of active versions whose provider is the provider user's organisation."""
    if _role(user) != Role.PROVIDER_USER or getattr(user, "organisation_id", None) is None:
        return None
    return SupportItem.objects.filter(
        provider_id=user.organisation_id, version__status=PlanVersionStatus.ACTIVE
    )


def _version_person_side(user: Any) -> Q | None:
    return _person_side(user, "plan__budget_holder")


def _version_agency(user: Any) -> Q | None:
    versions = _versions_funded_by_agency(user)
    return None if versions is None else Q(pk__in=versions.values("pk"))


def _version_provider(user: Any) -> Q | None:
    items = _engaged_items(user)
    return None if items is None else Q(pk__in=items.values("version_id"))


def _item_person_side(user: Any) -> Q | None:
    return _person_side(user, "version__plan__budget_holder")


def _names_a_stream(codes: Iterable[str]) -> Q:
    """A split naming one of `codes` (as stored: percentage parts, or a cap and a rest)."""
    codes = list(codes)
    condition = Q(split__cap__stream__in=codes) | Q(split__rest__in=codes)
    for index in range(MAX_SPLIT_PARTS):
        condition |= Q(**{f"split__percent__{index}__stream__in": codes})
    return condition


def _item_agency(user: Any) -> Q | None:
    versions = _versions_funded_by_agency(user)
    if versions is None:
        return None
    codes = agency_streams(user=user).values()
    own = Q(stream__agency_id=user.organisation_id)
    if codes:
        own |= _names_a_stream(codes)
    return Q(version_id__in=versions.values("pk")) & own


def _item_provider(user: Any) -> Q | None:
    items = _engaged_items(user)
    return None if items is None else Q(pk__in=items.values("pk"))


def _holder_funded_by_agency(user: Any) -> Q | None:
    versions = _versions_funded_by_agency(user)
    return None if versions is None else Q(pk__in=versions.values("plan__budget_holder_id"))


def _holder_engaged_provider(user: Any) -> Q | None:
    items = _engaged_items(user)
    return None if items is None else Q(pk__in=items.values("version__plan__budget_holder_id"))


def register() -> None:
    """Register plans' visibility rules (from `PlansConfig.ready()`; registering again replaces them)."""
    register_visibility(BudgetHolder, "plans.agency_funds_plan", _holder_funded_by_agency)
    register_visibility(BudgetHolder, "plans.provider_engaged", _holder_engaged_provider)
    register_visibility(PlanVersion, "plans.person_side", _version_person_side)
    register_visibility(PlanVersion, "plans.agency_funds_version", _version_agency)
    register_visibility(PlanVersion, "plans.provider_engaged", _version_provider)
    register_visibility(SupportItem, "plans.person_side", _item_person_side)
    register_visibility(SupportItem, "plans.agency_funds_item", _item_agency)
    register_visibility(SupportItem, "plans.provider_engaged", _item_provider)


# The parts of a version one user sees ---------------------------------------------------------------------


@dataclass(frozen=True)
class SeenOutcome:
    """An outcome as one user sees it: its informal support, and the ids of the items they see serving it."""

    outcome: Outcome
    informal_support: list[InformalSupport]
    support_items: list[str]


@dataclass(frozen=True)
class SeenPlanVersion:
    """A version cut down to what one user sees (from the prefetched version: no queries of its own)."""

    version: PlanVersion
    sight: PlanVersionSight
    outcomes: list[SeenOutcome]
    support_items: list[SupportItem]
    stream_approvals: list[StreamApproval]

    def outcome(self, public_id: str) -> SeenOutcome | None:
        return next((seen for seen in self.outcomes if seen.outcome.public_id == public_id), None)

    def support_item(self, public_id: str) -> SupportItem | None:
        return next((item for item in self.support_items if item.public_id == public_id), None)


def plan_version_seen(*, version: PlanVersion, sight: PlanVersionSight) -> SeenPlanVersion:
    """What `sight` shows of `version`: everything in full; an agency's items and approvals with the whole
    story; a provider's items with the outcomes they serve. Reads the prefetched outcomes, informal support,
    items (with their outcomes) and approvals, as `plans.selectors.plans.plan_version_get` prefetches them."""
    items = sorted(
        (item for item in version.support_items.all() if sight.shows_item(item)),
        key=lambda item: (item.position, item.pk),
    )
    serving: dict[int, list[str]] = {}
    for item in items:
        for outcome in item.outcomes.all():
            serving.setdefault(outcome.pk, []).append(item.public_id)
    informal: dict[int, list[InformalSupport]] = {}
    if sight.shows_story:
        for support in sorted(version.informal_supports.all(), key=lambda support: support.pk):
            informal.setdefault(support.outcome_id, []).append(support)
    outcomes = [
        SeenOutcome(
            outcome=outcome,
            informal_support=informal.get(outcome.pk, []),
            support_items=serving.get(outcome.pk, []),
        )
        for outcome in sorted(version.outcomes.all(), key=lambda outcome: (outcome.position, outcome.pk))
        if sight.shows_story or outcome.pk in serving
    ]
    approvals = [
        approval
        for approval in version.stream_approvals.all()
        if sight.shows_money and sight.shows_stream(approval.stream.code)
    ]
    return SeenPlanVersion(
        version=version, sight=sight, outcomes=outcomes, support_items=items, stream_approvals=approvals
    )


def cash_equivalent_seen(*, sight: PlanVersionSight, result: CashEquivalent) -> list[StreamAmount] | None:
    """The streams of a costed version that `sight` shows (None: no money at all, for a provider)."""
    if not sight.shows_money:
        return None
    return [stream for stream in result.streams if sight.shows_stream(stream.stream)]
