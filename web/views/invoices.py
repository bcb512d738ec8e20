"""The budget holder's and representative's invoice pages: the person's invoices, one invoice in plain
English, approving, querying and rejecting it, and the person's auto-approval rules.

Who decides is the services' business (`invoicing.services`): the person or a representative who may
approve decides any undecided invoice, the person's navigator only one on hold. The pages show the buttons
to the same people, and a view-only representative gets 403 on the POSTs. Approving and stopping or setting
an auto-approval rule move or commit money, so each has an "Are you sure" page first.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views import View
from django.views.generic import TemplateView

from budgets.selectors.catalogue import stream_list
from invoicing import selectors, services
from invoicing.access import auto_approval_rules_visible_to
from invoicing.models import UNDECIDED_STATUSES, AutoApprovalRule, Invoice, InvoiceStatus
from ledger.errors import DomainError
from plans.selectors.plans import outcome_words
from plans.wording import money_display
from web.forms.govuk import GovukForm
from web.forms.invoices import (
    AutoApprovalRuleForm,
    InvoiceFilterForm,
    InvoiceQueryForm,
    InvoiceRejectForm,
)
from web.views.common import PersonPageMixin, add_domain_error, paginate

# The GOV.UK tag colour of each status.
STATUS_TAGS = {
    InvoiceStatus.AWAITING_APPROVAL: "govuk-tag--blue",
    InvoiceStatus.ON_HOLD: "govuk-tag--orange",
    InvoiceStatus.APPROVED: "govuk-tag--green",
    InvoiceStatus.QUERIED: "govuk-tag--purple",
    InvoiceStatus.REJECTED: "govuk-tag--red",
    InvoiceStatus.WITHDRAWN: "govuk-tag--grey",
    InvoiceStatus.PAID: "govuk-tag--turquoise",
}
QUERYABLE = (InvoiceStatus.AWAITING_APPROVAL, InvoiceStatus.ON_HOLD)


# What the pages show of an invoice ----------------------------------------------------------------------


@dataclass
class StreamPart:
    name: str
    agency: str
    amount_minor: int

    @property
    def label(self) -> str:
        """The stream and its agency, without saying the stream's name twice."""
        if not self.agency or self.agency == self.name:
            return self.name
        if self.name in self.agency:
            return self.agency
        return f"{self.name} ({self.agency})"


@dataclass
class Line:
    number: int
    what: str
    note: str  # the provider's own description of the line, when it says more than the item's
    service_date: Any
    quantity: str
    unit: str
    units: str  # the unit's plural, for "more hours of ..."
    per_unit: str  # "an hour", "a day", or "each" for an item without a unit
    unit_price_minor: int
    amount_minor: int
    outcomes: list[str]
    paid_by: list[StreamPart]


@dataclass
class HistoryStep:
    at: Any
    text: str
    reason: str


@dataclass
class InvoicePage:
    """An invoice as the pages show it: lines with what, when, how much and for which outcome, who pays
    what, why it is on hold, and its history."""

    invoice: Invoice
    lines: list[Line]
    paid_by: list[StreamPart]  # the whole invoice, by stream
    findings: list[str]
    history: list[HistoryStep]
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def streams_text(self) -> str:
        names = [part.name for part in self.paid_by]
        if len(names) <= 1:
            return "".join(names)
        return ", ".join(names[:-1]) + " and " + names[-1]


def _quantity(value: Decimal) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text or "0"


def _unit_words(unit: str, quantity: Decimal) -> str:
    if not unit:
        return ""
    if quantity == 1 or unit.endswith("s"):
        return unit
    return unit + "s"


def _history_text(status: str, by_role: str, name: str | None, *, invoice: Invoice, viewer: Any) -> str:
    who = name or "Someone"
    if by_role == "budget_holder" and viewer.is_holder:
        who = "You"
    elif by_role == "provider":
        who = invoice.provider.name
    elif by_role == "rule":
        who = "Your auto-approval rule" if viewer.is_holder else "An auto-approval rule"
    elif by_role == "system":
        who = "Purse"
    elif by_role == "navigator":
        who = f"{who} (navigator)"
    elif by_role == "representative":
        who = f"{who} (representative)"
    if status == "submitted":
        return f"{invoice.provider.name} sent the invoice"
    if status == InvoiceStatus.AWAITING_APPROVAL:
        return "Purse checked it and it is waiting for a decision"
    if status == InvoiceStatus.ON_HOLD:
        return "Purse put it on hold for the navigator to check"
    verbs = {
        InvoiceStatus.APPROVED: "approved it",
        InvoiceStatus.QUERIED: "asked the provider a question",
        InvoiceStatus.REJECTED: "rejected it",
        InvoiceStatus.WITHDRAWN: "withdrew it",
        InvoiceStatus.PAID: "paid it",
    }
    return f"{who} {verbs.get(status, status.replace('_', ' '))}"


def _finding_text(finding: dict[str, Any], *, lines: list[Line], paid_by: dict[str, StreamPart]) -> str:
    code = finding.get("code")
    pointer = finding.get("pointer") or ""
    if code == "over_planned_quantity":
        parts = pointer.split("/")
        line = None
        if len(parts) > 2 and parts[2].isdigit() and int(parts[2]) < len(lines):
            line = lines[int(parts[2])]
        if line is not None:
            return (
                f"It asks for more {line.units or 'units'} of {line.what.lower()} than the plan has left "
                "for the year. The navigator checks whether that is right before anyone pays it."
            )
        return "It asks for more support than the plan has left. The navigator checks it first."
    if code == "insufficient_funds":
        names = ", ".join(part.name for part in paid_by.values()) or "the budget"
        return (
            f"There may not be enough money left in the part of the budget that pays for it ({names}). "
            "The navigator checks it first."
        )
    return finding.get("detail") or "Purse found something to check."


def invoice_page(*, invoice: Invoice, user: Any, viewer: Any) -> InvoicePage:
    """Build the page's view of one invoice in a fixed number of queries."""
    parts = selectors.invoice_parts(invoice_ids=[invoice.pk])
    streams = {stream.code: stream for stream in stream_list(active_only=False)}
    items = {
        engagement.support_item_public_id: engagement
        for engagement in selectors.engagement_list(user=user, person=invoice.budget_holder.public_id)
        .order_by("starts_on")
        .only("support_item_public_id", "description", "unit", "budget_holder", "provider")
    }
    rows = parts.lines.get(invoice.pk, [])
    outcome_ids = {outcome for row in rows for outcome in row[7]}
    words = outcome_words(budget_holder=invoice.budget_holder, public_ids=outcome_ids)

    def stream_part(code: str, amount: int) -> StreamPart:
        stream = streams.get(code)
        return StreamPart(
            name=stream.name if stream else code,
            agency=stream.agency.name if stream and stream.agency_id else "",
            amount_minor=amount,
        )

    totals: dict[str, int] = defaultdict(int)
    lines = []
    for number, (pk, item, service_date, quantity, unit_price, amount, description, outcomes) in enumerate(
        rows, start=1
    ):
        engagement = items.get(item)
        what = engagement.description if engagement else (description or "Support")
        unit = engagement.unit if engagement else ""
        funding = parts.funding.get(pk, [])
        for code, part in funding:
            totals[code] += part
        lines.append(
            Line(
                number=number,
                what=what,
                note=description if description and description != what else "",
                service_date=service_date,
                quantity=_quantity(quantity),
                unit=_unit_words(unit, quantity),
                units=_unit_words(unit, Decimal(2)),
                per_unit=(f"an {unit}" if unit[:1] in "aeiou" or unit == "hour" else f"a {unit}")
                if unit
                else "each",
                unit_price_minor=unit_price,
                amount_minor=amount,
                outcomes=[words[outcome] for outcome in outcomes if outcome in words],
                paid_by=[stream_part(code, part) for code, part in funding if part],
            )
        )
    paid_by = {code: stream_part(code, amount) for code, amount in totals.items() if amount}
    findings = []
    if invoice.status == InvoiceStatus.ON_HOLD:
        findings = [_finding_text(f, lines=lines, paid_by=paid_by) for f in invoice.findings or []]
    history = []
    for status, at, by_role, reason, first, last, username, _role in parts.events.get(invoice.pk, []):
        name = (f"{first or ''} {last or ''}".strip() or username) if username else None
        history.append(
            HistoryStep(
                at=at,
                text=_history_text(status, by_role, name, invoice=invoice, viewer=viewer),
                # Why Purse held it is told above, in plain words; the stored reason names ids.
                reason="" if status == InvoiceStatus.ON_HOLD else reason,
            )
        )
    return InvoicePage(
        invoice=invoice,
        lines=lines,
        paid_by=list(paid_by.values()),
        findings=findings,
        history=history,
    )


class _NoFields(GovukForm):
    """A form with no fields: a confirmation's POST, which still shows a domain error as a summary."""


# Pages ----------------------------------------------------------------------------------------------------


class InvoiceListView(PersonPageMixin, TemplateView):
    """The person's invoices, newest first, by status, with how many wait for a decision."""

    template_name = "web/invoices/list.html"
    person_tab = "web:invoices"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        form = InvoiceFilterForm(self.request.GET or None)
        status = form.cleaned_data.get("status") if form.is_bound and form.is_valid() else ""
        if form.is_bound and not form.is_valid():
            form = InvoiceFilterForm()  # an unknown status shows every invoice, not an error
        user, per = self.request.user, self.person.public_id
        invoices = selectors.invoice_list(user=user, person=per, status=status or None).order_by("-id")
        page = paginate(self.request, invoices)
        waiting = selectors.invoice_list(user=user, person=per).filter(
            status__in=(InvoiceStatus.AWAITING_APPROVAL, InvoiceStatus.ON_HOLD)
        )
        counts = {row: 0 for row in (InvoiceStatus.AWAITING_APPROVAL, InvoiceStatus.ON_HOLD)}
        for row_status in waiting.values_list("status", flat=True):
            counts[row_status] += 1
        context.update(
            form=form,
            status=status,
            status_label=InvoiceStatus(status).label if status else "",
            page=page,
            invoices=[(invoice, STATUS_TAGS.get(invoice.status, "")) for invoice in page.object_list],
            waiting_count=counts[InvoiceStatus.AWAITING_APPROVAL],
            on_hold_count=counts[InvoiceStatus.ON_HOLD],
            page_query=f"status={status}&" if status else "",
        )
        return context


class _InvoiceMixin(PersonPageMixin):
    """A page about one invoice of the person in the URL (404 for one that is not theirs, or not yours)."""

    person_tab = "web:invoices"
    invoice: Invoice

    def load_invoice(self) -> Invoice:
        try:
            invoice = selectors.invoice_get(user=self.request.user, public_id=self.kwargs["inv"])
        except selectors.InvoiceNotFound:
            raise Http404("No such invoice.") from None
        if invoice.budget_holder_id != self.person.pk:
            raise Http404("No such invoice.")
        return invoice

    def decisions(self, invoice: Invoice) -> dict[str, bool]:
        """Which buttons to show: what the services would allow this viewer (they check it again)."""
        viewer = self.viewer
        decides = viewer.may_act or (viewer.is_navigator and invoice.status == InvoiceStatus.ON_HOLD)
        return {
            "may_approve": decides and invoice.status in UNDECIDED_STATUSES,
            "may_query": decides and invoice.status in QUERYABLE,
            "may_reject": decides and invoice.status in UNDECIDED_STATUSES,
        }

    def invoice_url(self) -> str:
        return reverse("web:invoice", args=[self.person.public_id, self.invoice.public_id])


class InvoiceDetailView(_InvoiceMixin, TemplateView):
    template_name = "web/invoices/detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        self.invoice = self.load_invoice()
        context.update(
            details=invoice_page(invoice=self.invoice, user=self.request.user, viewer=self.viewer),
            invoice=self.invoice,
            status_tag=STATUS_TAGS.get(self.invoice.status, ""),
            is_undecided=self.invoice.status in UNDECIDED_STATUSES,
            **self.decisions(self.invoice),
        )
        return context


class _DecisionView(_InvoiceMixin, View):
    """GET: the decision's page (a confirmation or a form); POST: the decision, then back to the invoice."""

    action = ""  # approve, query or reject
    done = ""  # the past tense, for messages
    template_name = ""
    form_class: type | None = None

    def allowed(self, invoice: Invoice) -> bool:
        return self.decisions(invoice)[f"may_{self.action}"]

    def refuse_or_redirect(self) -> HttpResponse | None:
        """403 for someone who may not decide; back to the invoice when its state no longer allows this."""
        viewer = self.viewer
        if not (viewer.may_act or viewer.is_navigator):
            raise PermissionDenied(
                "Only the budget holder, or a representative who may approve, can do this."
            )
        if self.action == "approve" and self.invoice.status in (InvoiceStatus.APPROVED, InvoiceStatus.PAID):
            # Pressed twice, or sent again from the back button: it is done already.
            messages.info(self.request, f"Invoice {self.invoice.invoice_number} is already approved.")
            return HttpResponseRedirect(self.invoice_url())
        if not self.allowed(self.invoice):
            if viewer.is_navigator and not viewer.may_act and self.invoice.status in UNDECIDED_STATUSES:
                raise PermissionDenied(
                    "A navigator decides an invoice only while it is on hold; "
                    "this one is for the budget holder."
                )
            messages.info(
                self.request,
                f"Invoice {self.invoice.invoice_number} is "
                f"{self.invoice.get_status_display().lower()}, so it cannot be {self.done} now.",
            )
            return HttpResponseRedirect(self.invoice_url())
        return None

    def render_page(self, form: Any, *, status: int = 200) -> HttpResponse:
        context = {
            **self.person_context(),
            "invoice": self.invoice,
            "details": invoice_page(invoice=self.invoice, user=self.request.user, viewer=self.viewer),
            "form": form,
            "invoice_url": self.invoice_url(),
            **self.decisions(self.invoice),
        }
        return render(self.request, self.template_name, context, status=status)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.invoice = self.load_invoice()
        refused = self.refuse_or_redirect()
        if refused is not None:
            return refused
        return self.render_page(self.form_class() if self.form_class else None)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.invoice = self.load_invoice()
        refused = self.refuse_or_redirect()
        if refused is not None:
            return refused
        form = (self.form_class or _NoFields)(request.POST)
        if not form.is_valid():
            return self.render_page(form)
        try:
            self.decide(form.cleaned_data)
        except services.NotAllowedToDecide as error:
            raise PermissionDenied(error.message) from None
        except DomainError as error:
            add_domain_error(form, error, fields=self.error_fields)
            return self.render_page(form)
        messages.success(request, self.success_message())
        return HttpResponseRedirect(self.invoice_url())

    error_fields: dict[str, str] = {}

    def decide(self, data: dict[str, Any]) -> None:
        raise NotImplementedError

    def success_message(self) -> str:
        raise NotImplementedError


class InvoiceApproveView(_DecisionView):
    action, done = "approve", "approved"
    template_name = "web/invoices/approve.html"

    def decide(self, data: dict[str, Any]) -> None:
        services.invoice_approve(invoice=self.invoice, by=self.request.user)

    def success_message(self) -> str:
        amount = money_display(self.invoice.total_minor, currency=self.invoice.currency)
        return (
            f"You approved {self.invoice.provider.name}'s invoice {self.invoice.invoice_number} "
            f"for {amount}. The money is set aside to pay it."
        )


class InvoiceQueryView(_DecisionView):
    action, done = "query", "queried"
    template_name = "web/invoices/query.html"
    form_class = InvoiceQueryForm
    error_fields = {"": "question", "/reason": "question"}

    def decide(self, data: dict[str, Any]) -> None:
        services.invoice_query(invoice=self.invoice, by=self.request.user, reason=data["question"])

    def success_message(self) -> str:
        return (
            f"Your question was sent to {self.invoice.provider.name}. Nothing will be paid for invoice "
            f"{self.invoice.invoice_number} until it is approved."
        )


class InvoiceRejectView(_DecisionView):
    action, done = "reject", "rejected"
    template_name = "web/invoices/reject.html"
    form_class = InvoiceRejectForm
    error_fields = {"": "reason", "/reason": "reason"}

    def decide(self, data: dict[str, Any]) -> None:
        services.invoice_reject(invoice=self.invoice, by=self.request.user, reason=data["reason"])

    def success_message(self) -> str:
        return (
            f"You rejected {self.invoice.provider.name}'s invoice {self.invoice.invoice_number}. "
            "Nothing will be paid for it, and the provider has been told why."
        )


# Auto-approval rules ------------------------------------------------------------------------------------


class AutoApprovalView(PersonPageMixin, View):
    """The person's auto-approval rules, and a form to add one (with a confirmation before it is saved)."""

    person_tab = "web:invoices"

    def providers(self) -> tuple[list[tuple[str, str]], dict[str, Any]]:
        """The providers engaged for the person's support now: (public id, name) choices, and each one."""
        found: dict[str, Any] = {}
        engagements = selectors.engagement_list(user=self.request.user, person=self.person.public_id)
        for engagement in engagements.order_by("provider__name", "pk"):
            found.setdefault(engagement.provider.public_id, engagement)
        return [(key, e.provider.name) for key, e in found.items()], found

    def render_page(self, form: Any, *, status: int = 200) -> HttpResponse:
        rules = selectors.auto_approval_rule_list(
            user=self.request.user, person=self.person.public_id
        ).order_by("provider__name", "pk")
        context = {
            **self.person_context(),
            "rules": rules,
            "form": form,
        }
        return render(self.request, "web/invoices/auto_approval.html", context, status=status)

    def form(self, data: Any = None) -> AutoApprovalRuleForm:
        choices, _ = self.providers()
        return AutoApprovalRuleForm(data, providers=choices)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.render_page(self.form() if self.viewer.may_act else None)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.require_may_act()
        choices, engagements = self.providers()
        provider_id = request.POST.get("provider", "")
        currency = engagements[provider_id].currency if provider_id in engagements else "GBP"
        form = AutoApprovalRuleForm(request.POST, providers=choices, currency=currency)
        if not form.is_valid():
            return self.render_page(form)
        engagement = engagements[form.cleaned_data["provider"]]
        limit = form.cleaned_data["max_total"]
        if request.POST.get("confirmed") != "yes":
            context = {
                **self.person_context(),
                "form": form,
                "provider": engagement.provider,
                "max_total_minor": limit,
                "currency": currency,
                "replaces": selectors.auto_approval_rule_list(user=request.user, person=self.person.public_id)
                .filter(provider=engagement.provider)
                .exists(),
            }
            return render(request, "web/invoices/auto_approval_confirm.html", context)
        try:
            services.auto_approval_rule_set(
                budget_holder=self.person,
                provider=engagement.provider,
                max_total_minor=limit,
                currency=currency,
                by=request.user,
            )
        except services.NotAllowedToSetRules as error:
            raise PermissionDenied(error.message) from None
        except DomainError as error:
            add_domain_error(form, error, fields={"": "provider", "/max_total": "max_total"})
            return self.render_page(form)
        limit_text = f", up to {money_display(limit, currency=currency)} an invoice" if limit else ""
        messages.success(
            request,
            f"Routine invoices from {engagement.provider.name} will now be approved automatically"
            f"{limit_text}. You can stop this at any time.",
        )
        return HttpResponseRedirect(reverse("web:auto-approval", args=[self.person.public_id]))


class AutoApprovalRevokeView(PersonPageMixin, View):
    """Stop an auto-approval rule, after a confirmation."""

    person_tab = "web:invoices"

    def rule(self) -> AutoApprovalRule:
        """The person's rule in the URL, stopped or not; 404 for another's or none."""
        rule = (
            auto_approval_rules_visible_to(self.request.user)
            .filter(public_id=self.kwargs["aar"], budget_holder=self.person)
            .select_related("provider", "budget_holder")
            .first()
        )
        if rule is None:
            raise Http404("No such rule.")
        return rule

    def done(self, message: str) -> HttpResponse:
        messages.info(self.request, message)
        return HttpResponseRedirect(reverse("web:auto-approval", args=[self.person.public_id]))

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.require_may_act()
        rule = self.rule()
        if rule.revoked_at is not None:
            return self.done("That auto-approval rule has already been stopped.")
        context = {**self.person_context(), "rule": rule, "form": _NoFields()}
        return render(request, "web/invoices/auto_approval_revoke.html", context)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.require_may_act()
        rule = self.rule()
        try:
            services.auto_approval_rule_revoke(rule=rule, by=request.user)
        except services.AutoApprovalRuleAlreadyRevoked:
            return self.done("That auto-approval rule has already been stopped.")
        except services.NotAllowedToSetRules as error:
            raise PermissionDenied(error.message) from None
        messages.success(
            request,
            f"Invoices from {rule.provider.name} will no longer be approved automatically. "
            "You will be asked about each one.",
        )
        return HttpResponseRedirect(reverse("web:auto-approval", args=[self.person.public_id]))
