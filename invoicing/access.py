"""Who sees which invoices, engagements, auto-approval rules and remittances (invoicing's side of
`people.access`).

* **Invoices**: the provider that sent it (its users and its API keys); the person's side: the budget holder,
  their representatives (active grants, view or approve), their navigator; finance officers and
  administrators. Agency officers see an agency's money in statements, not providers' invoices.
* **Engagements**: the provider engaged, and the person's side as above.
* **Auto-approval rules**: the person's side, finance and administrators (not the provider).
* **Remittances**: the provider paid, finance officers and administrators.

Anyone else sees nothing: the API answers 404, as for a record that does not exist. Who may *act* is the
services' business (`invoicing.services`): the person or a representative who may approve decides, a
navigator only an invoice on hold, the provider alone withdraws.
"""

from typing import Any

import rules
from django.db.models import Q, QuerySet

from invoicing.models import AutoApprovalRule, Invoice, Remittance
from people.access import register_visibility, visible_to
from people.models import Representative, Role
from plans.models import Engagement

_SEES_EVERYONE = (Role.FINANCE_OFFICER, Role.ADMINISTRATOR)


def _role(user: Any) -> str | None:
    return getattr(user, "role", None)


def _person_side(user: Any) -> Q | None:
    """Rows of budget holders the user is, represents or navigates for; everything for finance and admin."""
    if _role(user) in _SEES_EVERYONE:
        return Q()
    represented = Representative.objects.active().filter(user_id=user.pk).values("budget_holder_id")
    condition = Q(budget_holder__user_id=user.pk) | Q(budget_holder_id__in=represented)
    if _role(user) == Role.NAVIGATOR:
        condition |= Q(budget_holder__navigator_id=user.pk)
    return condition


def _provider_side(user: Any) -> Q | None:
    if _role(user) != Role.PROVIDER_USER or getattr(user, "organisation_id", None) is None:
        return None
    return Q(provider_id=user.organisation_id)


def _finance_and_admin(user: Any) -> Q | None:
    return Q() if _role(user) in _SEES_EVERYONE else None


def invoices_visible_to(user: Any) -> QuerySet[Invoice]:
    return visible_to(user, Invoice)


def engagements_visible_to(user: Any) -> QuerySet[Engagement]:
    return visible_to(user, Engagement)


def remittances_visible_to(user: Any) -> QuerySet[Remittance]:
    return visible_to(user, Remittance)


def auto_approval_rules_visible_to(user: Any) -> QuerySet[AutoApprovalRule]:
    return visible_to(user, AutoApprovalRule)


@rules.predicate
def sees_invoice(user: Any, invoice: Invoice | None) -> bool:
    return invoice is not None and invoices_visible_to(user).filter(pk=invoice.pk).exists()


def register() -> None:
    """Register invoicing's visibility rules (from `InvoicingConfig.ready()`)."""
    register_visibility(Invoice, "invoicing.person_side", _person_side)
    register_visibility(Invoice, "invoicing.provider", _provider_side)
    register_visibility(Engagement, "invoicing.person_side", _person_side)
    register_visibility(Engagement, "invoicing.provider", _provider_side)
    register_visibility(AutoApprovalRule, "invoicing.person_side", _person_side)
    register_visibility(Remittance, "invoicing.provider", _provider_side)
    register_visibility(Remittance, "invoicing.finance_and_admin", _finance_and_admin)
