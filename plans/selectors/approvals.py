"""What waits for an agency officer's decision: their agency's streams' parts of agreed plan versions.

A part waits while its `StreamApproval` is pending and its version is agreed (a pending part of a version
that is no longer agreed does not happen: a return cancels the round's other parts). Decided parts
(approved or returned) are the officer's agency's history. Cancelled parts (another agency returned the
plan) are neither: nobody at this agency decided them.
"""

from typing import Any

from django.db.models import QuerySet

from people.models import Role
from plans.models import PlanVersion, PlanVersionStatus, StreamApproval, StreamApprovalStatus

DECIDED = (StreamApprovalStatus.APPROVED, StreamApprovalStatus.RETURNED)
# The calculator's steps about one item start "Item <number>" (its lines, splits and on-costs).


def _agency_parts(officer: Any) -> QuerySet[StreamApproval]:
    """Every part of every round for the officer's agency's streams (none for anyone else)."""
    if getattr(officer, "role", None) != Role.AGENCY_OFFICER or officer.organisation_id is None:
        return StreamApproval.objects.none()
    return StreamApproval.objects.filter(stream__agency_id=officer.organisation_id).select_related(
        "version__plan__budget_holder", "stream"
    )


def stream_approvals_waiting(*, officer: Any) -> QuerySet[StreamApproval]:
    """The parts waiting for the officer's agency, the version agreed longest ago first."""
    return (
        _agency_parts(officer)
        .filter(status=StreamApprovalStatus.PENDING, version__status=PlanVersionStatus.AGREED)
        .order_by("version__agreed_at", "pk")
    )


def stream_approvals_decided(*, officer: Any) -> QuerySet[StreamApproval]:
    """The parts the officer's agency has approved or returned, the latest decision first."""
    return (
        _agency_parts(officer)
        .filter(status__in=DECIDED)
        .select_related("decided_by")
        .order_by("-decided_at", "-pk")
    )


def stream_approvals_of_stream(*, version: PlanVersion, stream_code: str) -> list[StreamApproval]:
    """A version's parts for one stream, every round, the latest round first (from the prefetched
    `stream_approvals`, as `plans.selectors.plans.plan_version_get` prefetches them: no queries)."""
    parts = [part for part in version.stream_approvals.all() if part.stream.code == stream_code]
    return sorted(parts, key=lambda part: part.round, reverse=True)


def stream_approval_is_waiting(*, version: PlanVersion, approval: StreamApproval | None) -> bool:
    """Whether `approval` (a part of `version`'s latest round) still waits for its agency's decision."""
    if approval is None or version.status != PlanVersionStatus.AGREED:
        return False
    latest = max((part.round for part in version.stream_approvals.all()), default=None)
    return approval.round == latest and approval.status == StreamApprovalStatus.PENDING


def stream_explanation_steps(*, approval: StreamApproval) -> list[str]:
    """The steps of a part's stored explanation: how its stream's amount was worked out (only the steps about
    that stream, as `budgets.services.packages.stream_explanation` stores them)."""
    steps = (approval.explanation or {}).get("steps") or []
    return [text for step in steps if isinstance(step, dict) and (text := step.get("text"))]
