"""The person's plan: what it is for, who helps, the paid support and what has been spent against each
outcome; and agreeing a version that waits for the person's agreement."""

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.generic import TemplateView

from budgets.calculator import CashEquivalentInvalid
from invoicing.selectors import outcome_spending
from ledger.errors import DomainError
from plans.models import PlanVersion, PlanVersionStatus
from plans.selectors import plans as plan_selectors
from plans.services.workflow import plan_version_agree
from web.forms.plan import PlanAgreeForm
from web.views.common import PersonPageMixin, add_domain_error

IN_PROGRESS = (PlanVersionStatus.DRAFT, PlanVersionStatus.AGREED)


def _version(public_id: str) -> PlanVersion:
    """A version with its outcomes, informal support and items prefetched."""
    return plan_selectors.plan_version_get(public_id=public_id)


def _outcome_rows(version: PlanVersion) -> list[tuple[Any, list[Any], list[Any]]]:
    """(outcome, its informal support, the items serving it) from the version's prefetched rows."""
    informal: dict[int, list[Any]] = {}
    for support in version.informal_supports.all():
        informal.setdefault(support.outcome_id, []).append(support)
    items: dict[int, list[Any]] = {}
    for item in version.support_items.all():
        for outcome in item.outcomes.all():
            items.setdefault(outcome.pk, []).append(item)
    outcomes = version.outcomes.all()
    return [(outcome, informal.get(outcome.pk, []), items.get(outcome.pk, [])) for outcome in outcomes]


class PlanView(PersonPageMixin, TemplateView):
    template_name = "web/plan/plan.html"
    person_tab = "web:plan"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        plan = plan_selectors.plan_for_holder(budget_holder=self.person)
        versions = list(plan_selectors.plan_versions(plan=plan)) if plan else []
        active = next((v for v in versions if v.status == PlanVersionStatus.ACTIVE), None)
        waiting = next((v for v in versions if v.status in IN_PROGRESS), None)
        active = _version(active.public_id) if active else None
        context.update(
            active=active,
            outcome_rows=_outcome_rows(active) if active else [],
            spending=outcome_spending(version=active) if active else None,
            waiting=_version(waiting.public_id) if waiting else None,
        )
        return context


class PlanAgreeView(PersonPageMixin, TemplateView):
    """Are you sure? (GET), then agree the draft (POST) and go back to the plan."""

    template_name = "web/plan/agree.html"
    person_tab = "web:plan"

    def _load(self) -> PlanVersion:
        self.require_may_act()
        try:
            version = _version(self.kwargs["plv"])
        except plan_selectors.PlanVersionNotFound:
            raise Http404("No such plan version.") from None
        if version.plan.budget_holder_id != self.person.pk:
            raise Http404("No such plan version.")
        return version

    def _costing(self, version: PlanVersion) -> Any:
        if not version.support_items.all():
            return None
        try:
            return plan_selectors.plan_version_costing(version=version)
        except CashEquivalentInvalid:
            return None

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        version = self._load()
        return self.render_to_response(self.get_context_data(version=version, form=PlanAgreeForm()))

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        version = self._load()
        form = PlanAgreeForm(data=request.POST)
        if form.is_valid():
            try:
                plan_version_agree(version=version, agreed_by=request.user)
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(
                    request,
                    f"Plan version {version.number} agreed. Each agency that pays for it will now check "
                    "and approve its part.",
                )
                return redirect(reverse("web:plan", args=[self.person.public_id]))
        version = _version(version.public_id)
        return self.render_to_response(self.get_context_data(version=version, form=form))

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        version = kwargs["version"]
        context.update(costing=self._costing(version), is_draft=version.status == PlanVersionStatus.DRAFT)
        return context
