"""The navigator's pages: the caseload, the plan editor (with a live cost for a support item) and reviews.

Only navigators see the caseload; only the person's own navigator sees that person's editor and reviews
(anyone else who sees the person's pages gets 403, anyone who does not gets 404). Every change is one call
to a plans service; its domain errors show on the form that asked for it, and nothing changes.
"""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.forms.utils import ErrorDict
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.generic import TemplateView

from budgets.calculator import CashEquivalent, CashEquivalentInvalid
from budgets.models import Per
from budgets.selectors import catalogue as catalogue_selectors
from budgets.services.cash_equivalents import CashEquivalentRequest, ItemRequest, cash_equivalent_calculate
from invoicing.models import InvoiceStatus
from invoicing.selectors import invoice_list
from ledger.errors import DomainError
from ledger.money import money_format
from people import selectors as people_selectors
from people.models import Role
from plans.models import PlanVersion, PlanVersionStatus, SupportItem
from plans.selectors import caseload as caseload_selectors
from plans.selectors import plans as plan_selectors
from plans.services import reviews as review_services
from plans.services import versions as version_services
from plans.services import workflow as workflow_services
from web.forms.navigator import (
    BringForwardForm,
    InformalSupportForm,
    OutcomeForm,
    PlanChangeForm,
    PlanStartForm,
    ReasonForm,
    RemoveForm,
    ReviewForm,
    SupportItemForm,
)
from web.views.common import PersonPageMixin, add_domain_error, paginate

IN_PROGRESS = (PlanVersionStatus.DRAFT, PlanVersionStatus.AGREED)

# Where a support item's problems point (the service's JSON pointers) -> the form's fields.
ITEM_FIELDS = {
    "/service_code": "service",
    "/stream": "stream",
    "/description": "description",
    "/unit": "unit",
    "/unit_cost": "unit_cost",
    "/quantity": "quantity",
    "/per": "per",
    "/outcomes": "outcomes",
    "/provider": "provider",
    "/agreed_rate": "agreed_rate",
    "/split": "split_kind",
    "/split/percent/0": "split_stream_1",
    "/split/percent/0/stream": "split_stream_1",
    "/split/percent/0/percent": "split_percent_1",
    "/split/percent/1": "split_stream_2",
    "/split/percent/1/stream": "split_stream_2",
    "/split/percent/1/percent": "split_percent_2",
    "/split/cap": "cap_amount",
    "/split/cap/stream": "cap_stream",
    "/split/cap/amount": "cap_amount",
    "/split/cap/per": "cap_per",
    "/split/rest": "rest_stream",
}


# The caseload -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseloadRow:
    person: Any
    surpluses: list[caseload_selectors.Surplus]
    on_hold: int


@method_decorator(never_cache, name="dispatch")
class CaseloadView(LoginRequiredMixin, TemplateView):
    """The navigator's people and what needs their attention."""

    template_name = "web/navigator/caseload.html"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if request.user.role != Role.NAVIGATOR:
            raise PermissionDenied("Only navigators have a caseload.")
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        user = self.request.user
        today = timezone.localdate()
        needs_attention = self.request.GET.get("show") == "attention"
        # Invoices are invoicing's (plans may not import it): one grouped query for the whole caseload.
        on_hold = dict(
            invoice_list(user=user, status=InvoiceStatus.ON_HOLD)
            .filter(budget_holder__navigator=user)
            .order_by()
            .values_list("budget_holder_id")
            .annotate(count=Count("pk"))
        )
        people = caseload_selectors.caseload_for_navigator(
            navigator=user, on=today, needs_attention=needs_attention, on_hold_ids=on_hold
        )
        page = paginate(self.request, people)
        surpluses = caseload_selectors.caseload_surpluses(
            budget_holder_ids=[person.pk for person in page], on=today
        )
        context.update(
            today=today,
            soon=today + timedelta(days=caseload_selectors.REVIEW_SOON_DAYS),
            needs_attention=needs_attention,
            page=page,
            rows=[
                CaseloadRow(person, surpluses.get(person.pk, []), on_hold.get(person.pk, 0))
                for person in page
            ],
            summary=caseload_selectors.caseload_summary(navigator=user, on=today, on_hold_ids=on_hold),
            query_prefix="show=attention&" if needs_attention else "",
        )
        return context


# Person pages for their navigator ----------------------------------------------------------------------


class _NavigatorOnly:
    """After PersonPageMixin has found the person: refuse anyone but their own navigator."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.require_navigator()  # type: ignore[attr-defined]
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]


class NavigatorPersonMixin(PersonPageMixin, _NavigatorOnly):
    def render_page(self, template: str, context: dict[str, Any], *, status: int = 200) -> HttpResponse:
        return render(self.request, template, {**self.person_context(), **context}, status=status)

    def redirect(self, name: str, *args: str, message: str | None = None) -> HttpResponse:
        if message:
            messages.success(self.request, message)
        return HttpResponseRedirect(reverse(name, args=[self.person.public_id, *args]))

    def plan_state(self) -> tuple[Any, PlanVersion | None, PlanVersion | None]:
        """The person's plan, its active version and the version in progress (prefetched), if any."""
        plan = plan_selectors.plan_for_holder(budget_holder=self.person)
        if plan is None:
            return None, None, None
        active = plan_selectors.plan_version_active(budget_holder=self.person)
        waiting = plan_selectors.plan_versions(plan=plan).filter(status__in=IN_PROGRESS).first()
        if waiting is not None:
            waiting = plan_selectors.plan_version_get(public_id=waiting.public_id)
        return plan, active, waiting

    def draft(self) -> PlanVersion:
        """The draft being edited; 404 when there is none (its forms have nothing to change)."""
        _, _, waiting = self.plan_state()
        if waiting is None or waiting.status != PlanVersionStatus.DRAFT:
            raise Http404("No draft.")
        return waiting


def _costing(version: PlanVersion | None) -> tuple[CashEquivalent | None, str]:
    """The version's cash equivalent, or why it cannot be worked out yet."""
    if version is None or not version.support_items.all():
        return None, "Add a support item to see what the plan costs."
    try:
        return plan_selectors.plan_version_costing(version=version), ""
    except CashEquivalentInvalid as error:
        return None, error.message


def _stream_names() -> dict[str, str]:
    return {stream.code: stream.name for stream in catalogue_selectors.stream_list()}


@dataclass(frozen=True)
class ItemRow:
    item: SupportItem
    cost_minor: int | None


class PlanEditView(NavigatorPersonMixin, View):
    """The plan editor: start a version, write the draft's outcomes, informal support and items."""

    person_tab = "web:plan-edit"
    template_name = "web/navigator/plan_edit.html"

    def get(self, request: HttpRequest, per: str) -> HttpResponse:
        return self.page()

    def page(self, *, status: int = 200, **forms: Any) -> HttpResponse:
        plan, active, waiting = self.plan_state()
        costing, costing_problem = _costing(waiting)
        names = _stream_names()
        context: dict[str, Any] = {
            "plan": plan,
            "active": active,
            "version": waiting,
            "costing": costing,
            "costing_problem": costing_problem,
            "stream_names": names,
            "streams": [
                (names.get(stream.stream, stream.stream), stream)
                for stream in (costing.streams if costing else ())
            ],
        }
        if waiting is None:
            context["start_form"] = forms.get("start_form") or (
                PlanChangeForm() if active is not None else PlanStartForm()
            )
        elif waiting.status == PlanVersionStatus.DRAFT:
            outcomes = list(waiting.outcomes.all())
            item_costs: dict[int, int] = {}
            if costing is not None:
                for line in costing.lines:
                    item_costs[line.item_index] = line.line_amount_minor
            items = plan_selectors.support_items_ordered(version=waiting)
            context.update(
                outcomes=outcomes,
                items=[ItemRow(item, item_costs.get(index)) for index, item in enumerate(items)],
                returned=[a for a in waiting.stream_approvals.all() if a.status == "returned"],
                outcome_form=forms.get("outcome_form") or OutcomeForm(),
                informal_form=forms.get("informal_form") or InformalSupportForm(outcomes=outcomes),
                remove_form=forms.get("remove_form"),
            )
        # The page's title says "Error:" when the form that was sent has errors.
        context["form"] = next((form for form in forms.values() if form is not None and form.errors), None)
        return self.render_page(self.template_name, context, status=status)

    def post(self, request: HttpRequest, per: str) -> HttpResponse:
        action = request.POST.get("action", "")
        handler = {
            "start": self.start,
            "add_outcome": self.add_outcome,
            "add_informal": self.add_informal,
            "remove_outcome": self.remove,
            "remove_informal": self.remove,
            "remove_item": self.remove,
        }.get(action)
        if handler is None:
            return HttpResponse("Unknown action.", status=400)
        return handler(action)

    def start(self, action: str) -> HttpResponse:
        _, active, waiting = self.plan_state()
        form = (PlanChangeForm if active is not None else PlanStartForm)(self.request.POST)
        if waiting is not None:
            form.is_valid()
            form.add_error(None, version_services.PlanVersionInProgress.message)
            return self.page(start_form=form)
        if not form.is_valid():
            return self.page(start_form=form)
        data = form.cleaned_data
        try:
            if active is not None:
                version_services.plan_version_start_from(
                    version=active,
                    started_by=self.request.user,
                    effective_from=data["effective_from"],
                    change_reason=data["change_reason"],
                )
            else:
                version_services.plan_version_start(
                    budget_holder=self.person,
                    starts_on=data["starts_on"],
                    ends_on=data["ends_on"],
                    started_by=self.request.user,
                    summary=data["summary"],
                )
        except DomainError as error:
            add_domain_error(form, error, fields=_START_FIELDS.get(error.code, {}))
            return self.page(start_form=form)
        return self.redirect("web:plan-edit", message="You started a new draft of the plan.")

    def add_outcome(self, action: str) -> HttpResponse:
        version = self.draft()
        form = OutcomeForm(self.request.POST)
        if not form.is_valid():
            return self.page(outcome_form=form)
        try:
            version_services.outcome_add(version=version, by=self.request.user, **form.cleaned_data)
        except DomainError as error:
            add_domain_error(form, error, fields={"": "in_own_words"})
            return self.page(outcome_form=form)
        return self.redirect("web:plan-edit", message="Outcome added.")

    def add_informal(self, action: str) -> HttpResponse:
        version = self.draft()
        form = InformalSupportForm(self.request.POST, outcomes=list(version.outcomes.all()))
        if not form.is_valid():
            return self.page(informal_form=form)
        data = form.cleaned_data
        try:
            version_services.informal_support_add(
                version=version,
                outcome=form.outcomes[data["outcome"]],
                who=data["who"],
                what=data["what"],
                how_often=data["how_often"],
                by=self.request.user,
            )
        except DomainError as error:
            add_domain_error(form, error)
            return self.page(informal_form=form)
        return self.redirect("web:plan-edit", message="Informal support added.")

    def remove(self, action: str) -> HttpResponse:
        version = self.draft()
        form = RemoveForm(self.request.POST)
        if not form.is_valid():
            raise Http404("Nothing to remove.")
        target = form.cleaned_data["target"]
        rows = {
            "remove_outcome": (version.outcomes.all(), version_services.outcome_remove, "outcome"),
            "remove_informal": (
                version.informal_supports.all(),
                version_services.informal_support_remove,
                "informal_support",
            ),
            "remove_item": (version.support_items.all(), version_services.support_item_remove, "item"),
        }
        candidates, remove, keyword = rows[action]
        row = next((row for row in candidates if row.public_id == target), None)
        if row is None:
            raise Http404("No such row in the draft.")
        try:
            remove(**{keyword: row, "by": self.request.user})
        except DomainError as error:
            add_domain_error(form, error)
            return self.page(remove_form=form)
        return self.redirect("web:plan-edit", message="Removed from the draft.")


_START_FIELDS = {
    "invalid_plan_period": {"": "ends_on"},
    "effective_from_outside_period": {"": "effective_from"},
    "effective_from_before_current": {"": "effective_from"},
    "reason_required": {"": "change_reason"},
}


class OutcomeEditView(NavigatorPersonMixin, View):
    """Change one outcome of the draft."""

    person_tab = "web:plan-edit"

    def outcome(self, out: str) -> tuple[PlanVersion, Any]:
        version = self.draft()
        outcome = next((o for o in version.outcomes.all() if o.public_id == out), None)
        if outcome is None:
            raise Http404("No such outcome.")
        return version, outcome

    def get(self, request: HttpRequest, per: str, out: str) -> HttpResponse:
        _, outcome = self.outcome(out)
        form = OutcomeForm(
            initial={"in_own_words": outcome.in_own_words, "success_looks_like": outcome.success_looks_like}
        )
        return self.render_page("web/navigator/outcome_edit.html", {"form": form, "outcome": outcome})

    def post(self, request: HttpRequest, per: str, out: str) -> HttpResponse:
        _, outcome = self.outcome(out)
        form = OutcomeForm(request.POST)
        if form.is_valid():
            try:
                version_services.outcome_update(outcome=outcome, by=request.user, **form.cleaned_data)
            except DomainError as error:
                add_domain_error(form, error, fields={"": "in_own_words"})
            else:
                return self.redirect("web:plan-edit", message="Outcome changed.")
        return self.render_page("web/navigator/outcome_edit.html", {"form": form, "outcome": outcome})


# Support items and their live cost ----------------------------------------------------------------------


def _item_form(
    version: PlanVersion, data: Any = None, initial: dict[str, Any] | None = None
) -> SupportItemForm:
    """The item form with the catalogue as it stands on the day the version's money applies."""
    rated: list[Any] = []
    streams = list(catalogue_selectors.stream_list())
    for stream in streams:
        rated.extend(catalogue_selectors.stream_services_on(stream=stream, on=version.effective_from))
    providers = list(people_selectors.provider_list())
    return SupportItemForm(
        data,
        initial=initial,
        services=rated,
        streams=streams,
        providers=providers,
        outcomes=list(version.outcomes.all()),
    )


@dataclass(frozen=True)
class ItemCost:
    """What one support item would add to the plan, or why it cannot be worked out yet."""

    total_minor: int | None
    currency: str
    streams: list[tuple[str, int]]
    problems: list[str]
    version: PlanVersion


def item_cost(version: PlanVersion, form: SupportItemForm) -> ItemCost:
    """Cost the item as typed, alone, over the days the version's money applies; saves nothing."""
    needed = ("service", "stream", "unit", "unit_cost", "quantity", "per")
    if any(name in form.errors for name in needed) or not form.is_bound:
        problems = [str(error) for name in needed for error in form.errors.get(name, [])]
        return ItemCost(None, "GBP", [], problems or ["Fill in the item to see its cost."], version)
    changes = form.item_changes()
    split = plan_selectors.split_request(changes["split"])
    if changes["service_code"]:
        request_item = ItemRequest(
            quantity=changes["quantity"],
            per=Per(changes["per"]),
            service_code=changes["service_code"],
            description=changes["description"],
            split=split,
        )
    else:
        stream = form.streams.get(changes["stream_code"] or "")
        if stream is None or changes["unit_cost_minor"] is None or not changes["unit"]:
            return ItemCost(
                None,
                "GBP",
                [],
                ["Choose a service, or give the item's stream, unit and unit cost, to see its cost."],
                version,
            )
        request_item = ItemRequest(
            quantity=changes["quantity"],
            per=Per(changes["per"]),
            stream=stream.code,
            description=changes["description"] or "Support",
            unit_cost=money_format(changes["unit_cost_minor"], currency=stream.currency),
            unit=changes["unit"],
            split=split,
        )
    try:
        result = cash_equivalent_calculate(
            request=CashEquivalentRequest(
                start=version.effective_from, end=version.ends_on, items=(request_item,)
            )
        )
    except CashEquivalentInvalid as error:
        details = [problem.detail for problem in error.problems] or [error.message]
        return ItemCost(None, "GBP", [], details, version)
    names = {code: stream.name for code, stream in form.streams.items()}
    return ItemCost(
        result.total_minor,
        result.currency,
        [(names.get(stream.stream, stream.stream), stream.amount_minor) for stream in result.streams],
        [],
        version,
    )


class SupportItemView(NavigatorPersonMixin, View):
    """Add a support item to the draft (no `si`) or change one; "Work out the cost" shows what it would add
    without saving (the page's JavaScript does the same as fields change, through PlanItemCostView)."""

    person_tab = "web:plan-edit"
    template_name = "web/navigator/item_edit.html"

    def item(self, version: PlanVersion, si: str | None) -> SupportItem | None:
        if si is None:
            return None
        item = next((item for item in version.support_items.all() if item.public_id == si), None)
        if item is None:
            raise Http404("No such support item.")
        return item

    def show(self, version: PlanVersion, item: SupportItem | None, form: SupportItemForm, cost: Any) -> Any:
        return self.render_page(
            self.template_name, {"version": version, "item": item, "form": form, "cost": cost}
        )

    def get(self, request: HttpRequest, per: str, si: str | None = None) -> HttpResponse:
        version = self.draft()
        item = self.item(version, si)
        form = _item_form(version, initial=_item_initial(item) if item else None)
        return self.show(version, item, form, None)

    def post(self, request: HttpRequest, per: str, si: str | None = None) -> HttpResponse:
        version = self.draft()
        item = self.item(version, si)
        form = _item_form(version, request.POST)
        valid = form.is_valid()
        if request.POST.get("action") == "cost":
            # No JavaScript: the same figure as the live region, on the page; nothing is saved. The form
            # comes back as typed, without errors: nothing was sent to be saved yet.
            shown = _item_form(version, request.POST)
            shown._errors = ErrorDict()
            return self.show(version, item, shown, item_cost(version, form))
        if not valid:
            return self.show(version, item, form, None)
        try:
            if item is None:
                version_services.support_item_add(version=version, by=request.user, **form.item_changes())
            else:
                version_services.support_item_update(item=item, by=request.user, **form.item_changes())
        except DomainError as error:
            add_domain_error(form, error, fields=ITEM_FIELDS)
            return self.show(version, item, form, None)
        return self.redirect(
            "web:plan-edit", message="Support item added." if item is None else "Support item changed."
        )


def _item_initial(item: SupportItem) -> dict[str, Any]:
    split = item.split or {}
    initial: dict[str, Any] = {
        "service": item.service.service_code if item.service_id else "",
        "description": item.description,
        "stream": "" if item.service_id else item.stream.code,
        "unit": item.unit,
        "unit_cost": money_format(item.unit_cost_minor, currency=item.stream.currency)
        if item.unit_cost_minor is not None
        else "",
        "quantity": f"{item.quantity.normalize():f}",
        "per": item.per,
        "provider": item.provider.public_id if item.provider_id else "",
        "agreed_rate": money_format(item.agreed_rate_minor, currency=item.stream.currency)
        if item.agreed_rate_minor is not None
        else "",
        "outcomes": [outcome.public_id for outcome in item.outcomes.all()],
        "split_kind": "",
    }
    if "percent" in split:
        initial["split_kind"] = "percent"
        for index, part in enumerate(split["percent"][:2], start=1):
            initial[f"split_stream_{index}"] = part["stream"]
            initial[f"split_percent_{index}"] = part["percent"]
    elif "cap" in split:
        initial.update(
            split_kind="cap",
            cap_stream=split["cap"]["stream"],
            cap_amount=split["cap"]["amount"],
            cap_per=split["cap"]["per"],
            rest_stream=split["rest"],
        )
    return initial


class PlanItemCostView(NavigatorPersonMixin, View):
    """The live cost: the item form's fields in, an HTML fragment with what the item would add out."""

    person_tab = "web:plan-edit"

    def post(self, request: HttpRequest, per: str) -> HttpResponse:
        version = self.draft()
        form = _item_form(version, request.POST)
        form.is_valid()
        return render(request, "web/navigator/item_cost.html", {"cost": item_cost(version, form)})


# Withdrawing a draft ------------------------------------------------------------------------------------


class PlanWithdrawView(NavigatorPersonMixin, View):
    """Are you sure? Then withdraw the version in progress (draft or agreed), with a reason."""

    person_tab = "web:plan-edit"
    template_name = "web/navigator/plan_withdraw.html"

    def waiting(self) -> PlanVersion:
        _, _, waiting = self.plan_state()
        if waiting is None:
            raise Http404("Nothing to withdraw.")
        return waiting

    def get(self, request: HttpRequest, per: str) -> HttpResponse:
        return self.render_page(self.template_name, {"version": self.waiting(), "form": ReasonForm()})

    def post(self, request: HttpRequest, per: str) -> HttpResponse:
        version = self.waiting()
        form = ReasonForm(request.POST)
        if form.is_valid():
            try:
                workflow_services.plan_version_withdraw(
                    version=version, by=request.user, reason=form.cleaned_data["reason"]
                )
            except DomainError as error:
                add_domain_error(
                    form, error, fields={"": "reason"} if error.code == "reason_required" else {}
                )
            else:
                return self.redirect(
                    "web:plan-edit", message=f"Version {version.number} of the plan was withdrawn."
                )
        return self.render_page(self.template_name, {"version": version, "form": form})


# Reviews ------------------------------------------------------------------------------------------------


class ReviewsView(NavigatorPersonMixin, View):
    """Past reviews and each outcome's progress; record a review (with a check first); bring one forward."""

    person_tab = "web:reviews"
    template_name = "web/navigator/reviews.html"

    def active(self) -> PlanVersion | None:
        active = plan_selectors.plan_version_active(budget_holder=self.person)
        return plan_selectors.plan_version_get(public_id=active.public_id) if active else None

    def page(self, active: PlanVersion | None, **forms: Any) -> HttpResponse:
        outcomes = list(active.outcomes.all()) if active else []
        history = caseload_selectors.outcome_progress_history(version=active) if active else {}
        reviews = paginate(self.request, caseload_selectors.reviews_for_person(budget_holder=self.person))
        context = {
            "active": active,
            "today": timezone.localdate(),
            "outcomes": [(outcome, history.get(outcome.public_id, [])) for outcome in outcomes],
            "page": reviews,
            "review_form": forms.get("review_form") or (ReviewForm(outcomes=outcomes) if active else None),
            "forward_form": forms.get("forward_form") or (BringForwardForm() if active else None),
            "form": next((form for form in forms.values() if form is not None and form.errors), None),
        }
        return self.render_page(self.template_name, context)

    def get(self, request: HttpRequest, per: str) -> HttpResponse:
        return self.page(self.active())

    def post(self, request: HttpRequest, per: str) -> HttpResponse:
        active = self.active()
        if active is None:
            raise Http404("No active plan to review.")
        action = request.POST.get("action")
        if action == "record":
            return self.record(active)
        if action == "bring_forward":
            return self.bring_forward(active)
        return HttpResponse("Unknown action.", status=400)

    def record(self, active: PlanVersion) -> HttpResponse:
        outcomes = list(active.outcomes.all())
        form = ReviewForm(self.request.POST, outcomes=outcomes)
        if not form.is_valid():
            return self.page(active, review_form=form)
        if self.request.POST.get("confirm") != "yes":
            # A review cannot be taken back: check it first.
            hidden = [
                (name, value)
                for name, values in self.request.POST.lists()
                if name not in ("csrfmiddlewaretoken", "action", "confirm")
                for value in values
            ]
            return self.render_page(
                "web/navigator/review_confirm.html",
                {
                    "active": active,
                    "review": form.cleaned_data,
                    "ratings": form.ratings(),
                    "hidden": hidden,
                },
            )
        fields = {"/held_on": "held_on", "/next_review_on": "next_review_on"}
        for index, outcome in enumerate(outcomes):
            fields[f"/progress/{index}/progress"] = f"progress_{outcome.public_id}"
            fields[f"/progress/{index}/outcome"] = f"progress_{outcome.public_id}"
        try:
            review_services.review_record(
                version=active,
                held_by=self.request.user,
                held_on=form.cleaned_data["held_on"],
                notes=form.cleaned_data["notes"],
                progress=form.progress(),
                next_review_on=form.cleaned_data["next_review_on"],
            )
        except DomainError as error:
            add_domain_error(form, error, fields=fields)
            return self.page(active, review_form=form)
        return self.redirect("web:reviews", message="The review was recorded.")

    def bring_forward(self, active: PlanVersion) -> HttpResponse:
        form = BringForwardForm(self.request.POST)
        if form.is_valid():
            try:
                review_services.plan_review_bring_forward(
                    version=active,
                    due_on=form.cleaned_data["due_on"],
                    requested_by=self.request.user,
                    reason=form.cleaned_data["reason"],
                )
            except DomainError as error:
                add_domain_error(
                    form, error, fields={"": "reason"} if error.code == "reason_required" else {}
                )
            else:
                return self.redirect("web:reviews", message="The review was brought forward.")
        return self.page(active, forward_form=form)
