"""The agency officer's pages: the plans waiting for their agency's approval, one plan as their agency sees
it (approve its part, or return it with a reason), and the people their agency funds.

Only agency officers see these pages (anyone else signed in gets 403). A plan version is shown as the API
shows it to an agency (`plans.access`): the whole story (summary, outcomes, informal support) and, of the
money, only their own streams' items and parts. A version with no stream of theirs, or a stream that is not
theirs, answers 404 as if it did not exist. Officers do not get the person pages, so nothing here links to
them.
"""

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.generic import TemplateView

from budgets.models import Per, Unit
from budgets.selectors.funded import funded_positions_for_agency
from ledger.errors import DomainError
from ledger.money import InvalidAmount, UnknownCurrency, money_parse
from people.models import Role
from plans.access import PlanVersionSight, plan_version_seen, plan_version_sight
from plans.models import PlanVersion, PlanVersionStatus, StreamApproval, SupportItem
from plans.selectors import approvals as approval_selectors
from plans.selectors import plans as plan_selectors
from plans.services import workflow
from plans.services.versions import ReasonRequired
from plans.wording import money_display
from web.forms.officer import ApproveForm, ReturnForm
from web.views.common import add_domain_error, paginate

RECENT_DECISIONS = 10


@method_decorator(never_cache, name="dispatch")
class OfficerPageMixin(LoginRequiredMixin):
    """A page for agency officers only: 403 for anyone else who is signed in."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if request.user.role != Role.AGENCY_OFFICER or request.user.organisation_id is None:
            raise PermissionDenied("Only agency officers can see these pages.")
        return super().dispatch(request, *args, **kwargs)


class ApprovalListView(OfficerPageMixin, TemplateView):
    """The plans waiting for the agency's approval, oldest first, and its latest decisions."""

    template_name = "web/officer/approvals.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        officer = self.request.user
        context.update(
            agency=officer.organisation,
            waiting=paginate(self.request, approval_selectors.stream_approvals_waiting(officer=officer)),
            decided=list(
                approval_selectors.stream_approvals_decided(officer=officer)[: RECENT_DECISIONS + 1]
            ),
            recent=RECENT_DECISIONS,
        )
        context["more_decided"] = len(context["decided"]) > RECENT_DECISIONS
        context["decided"] = context["decided"][:RECENT_DECISIONS]
        return context


class DecidedListView(OfficerPageMixin, TemplateView):
    """Every part the agency has approved or returned, the latest first."""

    template_name = "web/officer/decided.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        officer = self.request.user
        context.update(
            agency=officer.organisation,
            decided=paginate(self.request, approval_selectors.stream_approvals_decided(officer=officer)),
        )
        return context


# One stream's part of one plan version ----------------------------------------------------------------


class ApprovalPageMixin(OfficerPageMixin):
    """A page about one stream's part of one version (`plv`, `stream_code` in the URL): sets `self.version`,
    `self.sight`, `self.approval` (the latest round's part) and `self.waiting`; 404 unless it is theirs."""

    version: PlanVersion
    sight: PlanVersionSight
    approval: StreamApproval
    waiting: bool

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated and request.user.role == Role.AGENCY_OFFICER:
            self.load(kwargs["plv"], kwargs["stream_code"])
        return super().dispatch(request, *args, **kwargs)

    def load(self, plv: str, stream_code: str) -> None:
        try:
            self.version = plan_selectors.plan_version_get(public_id=plv)
        except plan_selectors.PlanVersionNotFound:
            raise Http404("No such plan.") from None
        sight = plan_version_sight(user=self.request.user, version=self.version)
        if sight is None or not sight.is_agency or stream_code not in sight.stream_codes:
            raise Http404("No such plan.")
        parts = approval_selectors.stream_approvals_of_stream(version=self.version, stream_code=stream_code)
        if not parts:
            raise Http404("No such part of the plan.")
        self.sight = sight
        self.approval = parts[0]
        self.earlier = parts[1:]
        self.waiting = approval_selectors.stream_approval_is_waiting(version=self.version, approval=parts[0])

    def part_context(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "person": self.version.plan.budget_holder,
            "approval": self.approval,
            "stream": self.approval.stream,
            "earlier": self.earlier,
            "waiting": self.waiting,
            "detail_url": reverse("web:approval", args=[self.version.public_id, self.approval.stream.code]),
        }

    def not_waiting(self) -> HttpResponse:
        """Back to the plan, which says how its part was decided."""
        messages.info(
            self.request, f"The {self.approval.stream.name} part of this plan is not waiting for a decision."
        )
        return HttpResponseRedirect(self.part_context()["detail_url"])


class ApprovalDetailView(ApprovalPageMixin, TemplateView):
    """The plan as the agency sees it, how its stream's amount was worked out, and the two decisions."""

    template_name = "web/officer/approval.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(self.part_context())
        seen = plan_version_seen(version=self.version, sight=self.sight)
        context.update(
            seen=seen,
            items=[_item_row(item) for item in seen.support_items],
            steps=approval_selectors.stream_explanation_steps(approval=self.approval),
            figures=_figures(self.approval),
        )
        return context


class ApprovalApproveView(ApprovalPageMixin, View):
    """Are you sure (GET), then approve the stream's part (POST) and go back to the list."""

    template_name = "web/officer/approve.html"

    def render_page(self, form: ApproveForm) -> HttpResponse:
        return render(self.request, self.template_name, {**self.part_context(), "form": form})

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not self.waiting:
            return self.not_waiting()
        return self.render_page(ApproveForm())

    def post(self, request: HttpRequest, plv: str, stream_code: str) -> HttpResponse:
        form = ApproveForm(request.POST)
        try:
            approval = workflow.plan_stream_approve(
                version=self.version, stream_code=self.approval.stream.code, approved_by=request.user
            )
        except DomainError as error:
            add_domain_error(form, error)
            self.load(plv, stream_code)  # show the part as it now stands
            return self.render_page(form)
        person = self.version.plan.budget_holder
        amount = money_display(approval.amount_minor, currency=approval.currency)
        message = f"You approved the {approval.stream.name} part of {person.full_name}'s plan: {amount}."
        if approval.version.status == PlanVersionStatus.ACTIVE:
            message += " Every agency has now approved it, so the plan is active."
        else:
            message += " It is still waiting for the other agencies."
        messages.success(request, message)
        return HttpResponseRedirect(reverse("web:approvals"))


class ApprovalReturnView(ApprovalPageMixin, View):
    """Say what needs to change (GET, or POST to change it), check it (POST), then return the stream's part
    (POST with `confirm`): the plan goes back to draft."""

    form_template = "web/officer/return.html"
    confirm_template = "web/officer/return_confirm.html"

    def render_page(self, template: str, form: ReturnForm) -> HttpResponse:
        return render(self.request, template, {**self.part_context(), "form": form})

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not self.waiting:
            return self.not_waiting()
        return self.render_page(self.form_template, ReturnForm())

    def post(self, request: HttpRequest, plv: str, stream_code: str) -> HttpResponse:
        if "change" in request.POST:
            return self.render_page(
                self.form_template, ReturnForm(initial={"reason": request.POST.get("reason", "")})
            )
        form = ReturnForm(request.POST)
        if not form.is_valid():
            return self.render_page(self.form_template, form)
        if "confirm" not in request.POST:
            return self.render_page(self.confirm_template, form)
        try:
            approval = workflow.plan_stream_return(
                version=self.version,
                stream_code=self.approval.stream.code,
                returned_by=request.user,
                reason=form.cleaned_data["reason"],
            )
        except ReasonRequired as error:
            form.add_error("reason", error.message)
            return self.render_page(self.form_template, form)
        except DomainError as error:
            add_domain_error(form, error, fields={"/reason": "reason"})
            self.load(plv, stream_code)
            return self.render_page(self.form_template, form)
        person = self.version.plan.budget_holder
        messages.success(
            request,
            f"You returned the {approval.stream.name} part of {person.full_name}'s plan for changes. "
            "The plan is back in draft: the navigator and the person will see your reason.",
        )
        return HttpResponseRedirect(reverse("web:approvals"))


# The people the agency funds ---------------------------------------------------------------------------


class FundedPeopleView(OfficerPageMixin, TemplateView):
    """The people the agency's streams fund today, with what each has from those streams."""

    template_name = "web/officer/funded_people.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        agency = self.request.user.organisation
        funded = funded_positions_for_agency(agency=agency, page=self.request.GET.get("page"))
        context.update(agency=agency, funded=funded, page_obj=funded.page)
        return context


# Display helpers ----------------------------------------------------------------------------------------

_PER_WORDS = {
    Per.ONCE: "once",
    Per.DAY: "a day",
    Per.WEEK: "a week",
    Per.FOUR_WEEKS: "every 4 weeks",
    Per.MONTH: "a month",
    Per.YEAR: "a year",
}


def _number(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text


def _how_much(item: SupportItem) -> str:
    """'14 hours a week', '1 item once'."""
    unit = item.service.unit if item.service_id else item.unit
    label = Unit(unit).label.lower() if unit in Unit.values else unit
    quantity = _number(item.quantity)
    plural = "" if item.quantity == 1 else "s"
    return f"{quantity} {label}{plural} {_PER_WORDS.get(item.per, item.per)}"


def _paid_by(item: SupportItem) -> str:
    """Which streams pay for the item: one stream, a percentage split, or a cap and the rest."""
    split = item.split or {}
    if split.get("percent"):
        return ", ".join(f"{part['stream']} {part['percent']}%" for part in split["percent"])
    cap = split.get("cap")
    if isinstance(cap, dict):
        per = _PER_WORDS.get(cap.get("per"), "") if cap.get("per") else "over the period"
        return f"{cap.get('stream')} up to {cap.get('amount')} {per}, {split.get('rest')} the rest".replace(
            "  ", " "
        )
    return item.stream.name


def _item_row(item: SupportItem) -> dict[str, Any]:
    return {
        "item": item,
        "how_much": _how_much(item),
        "paid_by": _paid_by(item),
        "outcomes": list(item.outcomes.all()),
    }


_FIGURES = (
    ("subtotal", "Support"),
    ("on_costs", "On-costs"),
    ("contingency", "Contingency"),
    ("contribution", "Contribution"),
)


def _figures(approval: StreamApproval) -> list[tuple[str, int]]:
    """The stored explanation's figures (decimal strings) as (label, minor units); those it cannot read
    are left out rather than shown wrong."""
    explanation = approval.explanation or {}
    figures = []
    for key, label in _FIGURES:
        try:
            figures.append((label, money_parse(explanation.get(key), currency=approval.currency)))
        except (InvalidAmount, UnknownCurrency):
            continue
    return figures
