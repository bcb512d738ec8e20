"""What every page shares: whose budget a person page is about and who is looking, turning domain errors into
form errors, and pagination.

Person pages live under `/people/<per>/`. The budget holder, their representatives, their navigator,
finance officers and administrators see them; anyone else (another budget holder, another navigator, an
agency officer, a provider) gets 404, as if the person did not exist. Who may *change* something is asked
separately with `people.access.may` (a view-only representative sees the pages but not the buttons).
"""

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache

from ledger.errors import DomainError
from people import access, selectors
from people.models import BudgetHolder, Representative, RepresentativePower, Role
from plans.selectors.timeline import TimelineAudience, timeline_audience
from web.navigation import person_tabs

PAGE_SIZE = 20


@dataclass(frozen=True)
class Viewer:
    """Who is looking at a person's pages, and what they may do there."""

    is_holder: bool  # the budget holder themselves
    representation: Representative | None  # the grant a representative acts under
    is_staff: bool  # the navigator, finance or an administrator
    is_navigator: bool  # this person's own navigator
    may_act: bool  # may decide for the person (approve, query or reject an invoice; agree a plan)

    @property
    def is_representative(self) -> bool:
        return self.representation is not None

    @property
    def is_view_only(self) -> bool:
        return self.representation is not None and self.representation.power == RepresentativePower.VIEW


def person_for(request: HttpRequest, per: str) -> tuple[BudgetHolder, Viewer]:
    """The budget holder `per` and how the signed-in user sees them; 404 when the pages are not theirs."""
    holder = selectors.budget_holder_get_by_public_id(public_id=per)
    if holder is None:
        raise Http404("No such person.")
    user = request.user
    audience = timeline_audience(budget_holder=holder, viewer=user)
    if audience not in (TimelineAudience.PERSON, TimelineAudience.STAFF):
        raise Http404("No such person.")
    is_holder = holder.user_id is not None and holder.user_id == user.pk
    representation = None
    if audience == TimelineAudience.PERSON and not is_holder:
        representation = selectors.representations_for_user(user=user).filter(budget_holder=holder).first()
    viewer = Viewer(
        is_holder=is_holder,
        representation=representation,
        is_staff=audience == TimelineAudience.STAFF,
        is_navigator=user.role == Role.NAVIGATOR and holder.navigator_id == user.pk,
        may_act=access.may(user, "people.act_for_budgetholder", holder),
    )
    return holder, viewer


@method_decorator(never_cache, name="dispatch")
class PersonPageMixin(LoginRequiredMixin):
    """A page about one budget holder (`per` in the URL): sets `self.person` and `self.viewer`, and gives the
    templates `person`, `viewer`, the navigator to contact and the tab that is current (`person_tab`)."""

    person_tab = ""  # the URL name of this page's tab, as in web.navigation.PERSON_TABS
    person: BudgetHolder
    viewer: Viewer

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.person, self.viewer = person_for(request, kwargs["per"])
        return super().dispatch(request, *args, **kwargs)

    def require_may_act(self) -> None:
        """Refuse (403) someone who sees the person's pages but may not decide for them."""
        if not self.viewer.may_act:
            raise PermissionDenied(
                "Only the budget holder, or a representative who may approve, can do this."
            )

    def require_navigator(self) -> None:
        """Refuse (403) anyone but the person's own navigator."""
        if not self.viewer.is_navigator:
            raise PermissionDenied("Only the person's navigator can do this.")

    def person_context(self) -> dict[str, Any]:
        """What the person layout (web/person/base.html) needs."""
        return {
            "person": self.person,
            "viewer": self.viewer,
            "navigator": self.person.navigator,
            "person_tab_items": person_tabs(person=self.person, viewer=self.viewer, current=self.person_tab),
        }

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)  # type: ignore[misc]
        context.update(self.person_context())
        return context


def paginate(request: HttpRequest, items: Any, *, per_page: int = PAGE_SIZE, param: str = "page") -> Page:
    """One page of `items` (a queryset or list), by `?page=` (or `param`, for a second list on a page); an
    impossible page number shows the nearest."""
    return Paginator(items, per_page).get_page(request.GET.get(param))


def add_domain_error(form: forms.Form, error: DomainError, *, fields: dict[str, str] | None = None) -> None:
    """Show a domain error on a form: each problem of a many-problem error on the field its JSON pointer names
    (through `fields`, pointer -> field name, or the pointer's last part when that is a field), the rest
    at the top."""
    fields = fields or {}
    problems = getattr(error, "errors", None) or [{"pointer": "", "detail": error.message}]
    for problem in problems:
        pointer = problem.get("pointer") or ""
        name = fields.get(pointer) or pointer.rsplit("/", 1)[-1]
        form.add_error(name if name in form.fields else None, problem.get("detail") or error.message)
