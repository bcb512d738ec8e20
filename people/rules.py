"""People's object permissions, built from the predicates in `people.access` (found by rules' autodiscovery).

Ask them with `people.access.may(user, perm, obj)`.
"""

import rules

from people.access import (
    can_approve_for,
    is_admin,
    is_budget_holder_self,
    is_finance,
    is_member_of_organisation,
    is_navigator_of,
    is_signed_in,
    is_token_owner,
    is_visible_budget_holder,
)

# See the person's record, plan and money. The cheap checks come first; the last one asks the visibility
# registry (one query), which also holds representatives' grants and whatever higher apps register.
rules.add_perm(
    "people.view_budgetholder",
    is_signed_in
    & (is_budget_holder_self | is_navigator_of | is_finance | is_admin | is_visible_budget_holder),
)
# Decide for the person: approve, query or reject an invoice. The person, or a representative with the
# power to approve; nobody else, not even an administrator.
rules.add_perm("people.act_for_budgetholder", is_signed_in & (is_budget_holder_self | can_approve_for))
# Change the person's details and their navigator.
rules.add_perm(
    "people.change_budgetholder", is_signed_in & (is_budget_holder_self | is_navigator_of | is_admin)
)
# Grant or revoke a representative's power.
rules.add_perm(
    "people.manage_representatives", is_signed_in & (is_budget_holder_self | is_navigator_of | is_admin)
)
# Agencies and providers are public bodies and businesses: anyone signed in may see who they are.
rules.add_perm("people.view_organisation", is_signed_in)
rules.add_perm("people.change_organisation", is_signed_in & (is_member_of_organisation | is_admin))
# See, issue and revoke a personal token: its owner; an administrator may revoke anyone's.
rules.add_perm("people.manage_personaltoken", is_signed_in & (is_token_owner | is_admin))
