"""The one place that answers "may this user see or change this record?", for the API and the pages alike.

Two sides, kept in step:

* **Objects**: `rules` predicates (below) combined into named object permissions in `people/rules.py`
  (`people.view_budgetholder`, `people.act_for_budgetholder`, ...). Ask with `may(user, perm, obj)`.
  Higher apps register permissions for their own models in their own `rules.py`, built from these
  predicates.
* **Querysets**: a small registry of visibility rules, each `rule(user) -> Q | None` (None: this rule grants
  nothing to this user; `Q()`: every row), per model. A rule must not repeat rows: reach across a
  to-many relation with a `pk__in` subquery, not a join, so callers may order, lock or count freely.
  `visible_to(user, Model)` is the union of every rule registered for the model; `budget_holders_visible_to`
  is that for budget holders. People registers its own rules here (self, representatives, caseload, finance,
  administrators); higher apps (plans, engagements) add theirs from their `AppConfig.ready()` with
  `register_visibility`, so people never imports them. The object permission
  `people.view_budgetholder` falls back to the same registry, so a rule added there is honoured by both.

Always ask through `may()`, not `user.has_perm()`: Django's `has_perm` lets any superuser do anything,
which would let the Django-admin flag bypass these rules (an administrator must not approve a person's
invoices).
"""

from collections.abc import Callable
from typing import Any

import rules
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Model, Q, QuerySet

from people.models import BudgetHolder, Organisation, PersonalToken, Representative, RepresentativePower, Role

VisibilityRule = Callable[[Any], Q | None]

_visibility_rules: dict[str, dict[str, VisibilityRule]] = {}


def register_visibility(model: type[Model], name: str, rule: VisibilityRule) -> None:
    """Add (or replace, by name) a rule `rule(user) -> Q | None` saying which rows of `model` a user sees."""
    _visibility_rules.setdefault(model._meta.label_lower, {})[name] = rule


def unregister_visibility(model: type[Model], name: str) -> None:
    """Remove a visibility rule by name (for tests, and for an app that replaces a rule)."""
    _visibility_rules.get(model._meta.label_lower, {}).pop(name, None)


def visibility_rule_names(model: type[Model]) -> list[str]:
    """The names of the visibility rules registered for `model` (for tests and diagnostics)."""
    return sorted(_visibility_rules.get(model._meta.label_lower, {}))


def _is_signed_in_user(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def visible_to(user: Any, model: type[Model]) -> QuerySet:
    """Every row of `model` that `user` may see: the union of the model's registered visibility rules."""
    queryset = model._default_manager.all()
    if not _is_signed_in_user(user):
        return queryset.none()
    conditions = [
        condition
        for rule in _visibility_rules.get(model._meta.label_lower, {}).values()
        if (condition := rule(user)) is not None
    ]
    if not conditions:
        return queryset.none()
    if any(condition == Q() for condition in conditions):
        return queryset
    combined = conditions[0]
    for condition in conditions[1:]:
        combined |= condition
    return queryset.filter(combined)


def budget_holders_visible_to(user: Any) -> QuerySet[BudgetHolder]:
    """The budget holders `user` may see: self, active grants, caseload; finance and administrators all."""
    return visible_to(user, BudgetHolder)


def may(user: Any, perm: str, obj: Any = None) -> bool:
    """Whether `user` (signed in and active) holds the object permission `perm` on `obj`."""
    if not rules.perm_exists(perm):
        # A misspelt permission would otherwise deny quietly and be hard to find.
        raise ImproperlyConfigured(f"No permission called {perm!r} is registered.")
    if not _is_signed_in_user(user):
        return False
    return rules.has_perm(perm, user, obj)


# Predicates. Each takes (user, obj); obj may be None for a check without an object, which is then False.


@rules.predicate
def is_signed_in(user: Any) -> bool:
    return _is_signed_in_user(user)


def _role(user: Any) -> str | None:
    return getattr(user, "role", None)


@rules.predicate
def is_budget_holder_role(user: Any) -> bool:
    return _role(user) == Role.BUDGET_HOLDER


@rules.predicate
def is_navigator(user: Any) -> bool:
    return _role(user) == Role.NAVIGATOR


@rules.predicate
def is_agency_officer(user: Any) -> bool:
    return _role(user) == Role.AGENCY_OFFICER


@rules.predicate
def is_provider_user(user: Any) -> bool:
    return _role(user) == Role.PROVIDER_USER


@rules.predicate
def is_finance(user: Any) -> bool:
    return _role(user) == Role.FINANCE_OFFICER


@rules.predicate
def is_admin(user: Any) -> bool:
    return _role(user) == Role.ADMINISTRATOR


@rules.predicate
def is_budget_holder_self(user: Any, budget_holder: BudgetHolder | None) -> bool:
    """The budget holder is the user themselves."""
    return (
        budget_holder is not None and budget_holder.user_id is not None and budget_holder.user_id == user.pk
    )


@rules.predicate
def is_representative_of(user: Any, budget_holder: BudgetHolder | None) -> bool:
    """The user holds an active grant (view or approve) for the budget holder."""
    if budget_holder is None:
        return False
    return Representative.objects.active().filter(user_id=user.pk, budget_holder_id=budget_holder.pk).exists()


@rules.predicate
def can_approve_for(user: Any, budget_holder: BudgetHolder | None) -> bool:
    """The user holds an active grant with the power to approve for the budget holder."""
    if budget_holder is None:
        return False
    return (
        Representative.objects.active()
        .filter(user_id=user.pk, budget_holder_id=budget_holder.pk, power=RepresentativePower.APPROVE)
        .exists()
    )


@rules.predicate
def is_navigator_of(user: Any, budget_holder: BudgetHolder | None) -> bool:
    """The user is a navigator and the budget holder is on their caseload."""
    return (
        budget_holder is not None
        and _role(user) == Role.NAVIGATOR
        and budget_holder.navigator_id is not None
        and budget_holder.navigator_id == user.pk
    )


@rules.predicate
def is_visible_budget_holder(user: Any, budget_holder: BudgetHolder | None) -> bool:
    """The budget holder is among `budget_holders_visible_to(user)` (every registered rule; one query)."""
    if budget_holder is None:
        return False
    return budget_holders_visible_to(user).filter(pk=budget_holder.pk).exists()


@rules.predicate
def is_member_of_organisation(user: Any, organisation: Organisation | None) -> bool:
    return organisation is not None and getattr(user, "organisation_id", None) == organisation.pk


@rules.predicate
def is_token_owner(user: Any, token: PersonalToken | None) -> bool:
    return token is not None and token.user_id == user.pk


# People's own visibility rules for budget holders. Higher apps add theirs with register_visibility.


def _holder_self(user: Any) -> Q | None:
    return Q(user_id=user.pk)


def _holder_represented(user: Any) -> Q | None:
    # Only active grants count; a subquery, not a join, so no holder is repeated.
    return Q(pk__in=Representative.objects.active().filter(user_id=user.pk).values("budget_holder_id"))


def _holder_caseload(user: Any) -> Q | None:
    return Q(navigator_id=user.pk) if _role(user) == Role.NAVIGATOR else None


def _holder_everyone_for_finance_and_admin(user: Any) -> Q | None:
    return Q() if _role(user) in (Role.FINANCE_OFFICER, Role.ADMINISTRATOR) else None


register_visibility(BudgetHolder, "people.self", _holder_self)
register_visibility(BudgetHolder, "people.representative", _holder_represented)
register_visibility(BudgetHolder, "people.caseload", _holder_caseload)
register_visibility(BudgetHolder, "people.finance_and_admin", _holder_everyone_for_finance_and_admin)
