"""Budgets' permissions, built from the predicates in `people.access` (found by rules' autodiscovery).

Ask them with `people.access.may(user, perm, obj)`.
"""

import rules

from people.access import is_admin, is_agency_officer, is_finance, is_navigator, is_navigator_of, is_signed_in

# Cost a package of services (POST /api/v1/cash-equivalents/): saves nothing, but it is a staff tool.
# Budget holders, representatives and providers may not.
rules.add_perm(
    "budgets.calculate_cash_equivalent",
    is_signed_in & (is_navigator | is_agency_officer | is_finance | is_admin),
)

# Set aside (or release) part of a person's money as a legitimate reserve, which a surplus audit excludes
# from what may be reclaimed: their navigator, or finance (who audit surpluses).
rules.add_perm("budgets.set_reserve", is_signed_in & (is_navigator_of | is_finance))
