"""Django admin for personal budgets and their instalments.

Read-only: a budget changes only through the services, which version it, reschedule it and post to the
ledger. The "add" page is a small form that makes a budget through `personal_budget_create`, for use until
approved plans make them. Registered from `BudgetsConfig.ready()` (`budgets/admin.py` is the streams').
"""

from datetime import date
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from budgets.models import FundingStream, Instalment, PersonalBudget
from budgets.services.personal_budgets import personal_budget_create
from ledger.errors import DomainError
from ledger.money import InvalidAmount, UnknownCurrency, minor_from_decimal, money_format
from people.models import BudgetHolder


class InstalmentInline(admin.TabularInline):
    model = Instalment
    fields = [
        "sequence",
        "public_id",
        "due_on",
        "covers_from",
        "covers_to",
        "amount",
        "status",
        "ledger_transaction",
        "received_on",
        "cancelled_at",
    ]
    readonly_fields = fields
    ordering = ["sequence"]
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.display(description="Amount")
    def amount(self, instalment: Instalment) -> str:
        return money_format(instalment.amount_minor, currency=instalment.personal_budget.currency)


class PersonalBudgetCreateForm(forms.Form):
    """Shape of the "create a personal budget" form; the service decides everything else."""

    budget_holder = forms.CharField(
        label="Budget holder", max_length=24, help_text="Their id, such as per_abc123…"
    )
    stream = forms.ModelChoiceField(
        queryset=FundingStream.objects.filter(is_active=True).order_by("code"), label="Funding stream"
    )
    starts_on = forms.DateField(label="Period starts on", help_text="YYYY-MM-DD")
    ends_on = forms.DateField(label="Period ends on", help_text="YYYY-MM-DD, the last day of the period")
    amount = forms.DecimalField(
        label="Amount for the period",
        min_value=Decimal(0),
        max_digits=15,
        decimal_places=3,
        help_text="In the stream's currency, for the whole period, such as 12345.67",
    )
    reason = forms.CharField(
        label="Reason", max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def clean_budget_holder(self) -> BudgetHolder:
        public_id = self.cleaned_data["budget_holder"].strip()
        holder = BudgetHolder.objects.filter(public_id=public_id).first()
        if holder is None:
            raise forms.ValidationError(f"There is no budget holder {public_id!r}.")
        return holder

    def clean(self) -> dict:
        cleaned = super().clean()
        stream, amount = cleaned.get("stream"), cleaned.get("amount")
        if stream is not None and amount is not None:
            try:
                cleaned["amount_minor"] = minor_from_decimal(amount, currency=stream.currency)
            except (InvalidAmount, UnknownCurrency) as error:
                self.add_error("amount", error.message)
        starts_on, ends_on = cleaned.get("starts_on"), cleaned.get("ends_on")
        if isinstance(starts_on, date) and isinstance(ends_on, date) and ends_on < starts_on:
            self.add_error("ends_on", "The period cannot end before it starts.")
        return cleaned


@admin.register(PersonalBudget)
class PersonalBudgetAdmin(admin.ModelAdmin):
    list_display = [
        "public_id",
        "budget_holder",
        "stream",
        "starts_on",
        "ends_on",
        "amount",
        "version",
        "status",
        "effective_from",
    ]
    list_filter = ["status", "stream"]
    list_select_related = ["budget_holder", "stream"]
    search_fields = ["public_id", "budget_holder__public_id", "budget_holder__full_name"]
    date_hierarchy = "starts_on"
    ordering = ["-created_at"]
    fields = [
        "public_id",
        "budget_holder",
        "stream",
        "starts_on",
        "ends_on",
        "currency",
        "amount",
        "version",
        "supersedes",
        "effective_from",
        "status",
        "reason",
        "explanation",
        "created_at",
        "created_by",
    ]
    readonly_fields = fields
    inlines = [InstalmentInline]
    show_full_result_count = False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.display(description="Amount")
    def amount(self, budget: PersonalBudget) -> str:
        return f"{money_format(budget.amount_minor, currency=budget.currency)} {budget.currency}"

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        """Create a personal budget through the service (not a model form: the service makes its schedule)."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = PersonalBudgetCreateForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                budget = personal_budget_create(
                    budget_holder=data["budget_holder"],
                    stream=data["stream"],
                    starts_on=data["starts_on"],
                    ends_on=data["ends_on"],
                    amount_minor=data["amount_minor"],
                    explanation={
                        "source": "admin",
                        "amount": money_format(data["amount_minor"], currency=data["stream"].currency),
                        "currency": data["stream"].currency,
                    },
                    created_by=request.user,
                    reason=data["reason"],
                )
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                self.message_user(
                    request,
                    f"Created {budget.public_id} with {budget.instalments.count()} instalments.",
                    messages.SUCCESS,
                )
                return redirect(reverse("admin:budgets_personalbudget_change", args=[budget.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": "Create a personal budget",
            "opts": self.model._meta,
            "form": form,
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/budgets/personalbudget/create.html", context)


@admin.register(Instalment)
class InstalmentAdmin(admin.ModelAdmin):
    list_display = [
        "public_id",
        "personal_budget",
        "sequence",
        "due_on",
        "covers_from",
        "covers_to",
        "amount",
        "status",
    ]
    list_filter = ["status"]
    list_select_related = ["personal_budget"]
    search_fields = ["public_id", "personal_budget__public_id", "ledger_transaction"]
    date_hierarchy = "due_on"
    ordering = ["-due_on", "-pk"]
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.display(description="Amount")
    def amount(self, instalment: Instalment) -> str:
        return money_format(instalment.amount_minor, currency=instalment.personal_budget.currency)
