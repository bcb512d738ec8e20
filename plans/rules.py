"""Plans' object permissions, built from the predicates in `people.access` and `plans.access` (found by
rules' autodiscovery). Ask them with `people.access.may(user, perm, obj)`.

These say who may *see* and who may *call*; the services in `plans.services` still check the state and the
business rules (only a draft changes, only the person or an approving representative agrees, ...).
"""

import rules

from people.access import is_admin, is_signed_in
from plans.access import (
    is_holder_of_plan,
    is_navigator_of_plan,
    is_officer_of_stream,
    may_approve_for_plan,
    sees_plan_version,
    sees_plan_version_in_full,
    sees_plan_version_money,
)

# See a plan version (PlanVersion): in full, an agency's part of it, or a provider's engagements in it;
# `plans.access.plan_version_sight` says how much.
rules.add_perm("plans.view_planversion", is_signed_in & sees_plan_version)
# Compare a version with the one it is based on (PlanVersion): what changed, and the money per stream.
# Not for providers, who see only their own items of the active version.
rules.add_perm("plans.compare_planversion", is_signed_in & sees_plan_version_money)
# See the reviews of a version (PlanVersion): progress notes about the person's life, so only those who
# see the plan in full.
rules.add_perm("plans.view_review", is_signed_in & sees_plan_version_in_full)
# Start a version of the person's plan (BudgetHolder): the first draft, or a change from the active one.
rules.add_perm("plans.start_planversion", is_signed_in & (is_navigator_of_plan | is_admin))
# Write a draft (PlanVersion): its summary, outcomes, informal support and items. The navigator and the
# person write it together; a representative who may approve may write it with them.
rules.add_perm(
    "plans.change_planversion",
    is_signed_in & (is_holder_of_plan | is_navigator_of_plan | may_approve_for_plan),
)
# Agree a draft (PlanVersion): the person, or a representative who may approve for them.
rules.add_perm("plans.agree_planversion", is_signed_in & (is_holder_of_plan | may_approve_for_plan))
# Approve or return one stream's part of an agreed version (FundingStream): that stream's agency officers.
rules.add_perm("plans.decide_stream", is_signed_in & is_officer_of_stream)
# Withdraw a version before it becomes active (PlanVersion): the person's navigator.
rules.add_perm("plans.withdraw_planversion", is_signed_in & is_navigator_of_plan)
# Record a review of a version (PlanVersion): the person's navigator.
rules.add_perm("plans.add_review", is_signed_in & is_navigator_of_plan)
# Bring the next review forward (PlanVersion): the navigator, the person, or an approving representative.
rules.add_perm(
    "plans.bring_review_forward",
    is_signed_in & (is_navigator_of_plan | is_holder_of_plan | may_approve_for_plan),
)
