"""Django admin for funding streams and their rate catalogues: how administrators keep them as data.

The admin is an interface like the pages: its forms convert and check (money is entered and shown as a
decimal amount in the stream's currency, never in minor units), and every save goes through
`budgets.services.catalogue`, so the rules and the audit trail are the same as anywhere else. Rates and
on-cost rules are history: existing ones are shown read-only and a change is a new row (a new April rate
from 1 April); an open on-cost rule may only be given its last day. Nothing here can be deleted.
"""

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from budgets.models import FundingStream, OnCostKind, OnCostRule, Rate, Service, SpendingCategory
from budgets.services import catalogue as services
from ledger.errors import DomainError
from ledger.money import CURRENCY_EXPONENTS, InvalidAmount, minor_from_decimal, money_format

# Money in forms -----------------------------------------------------------------------------------------


def _money_field(*, label: str, help_text: str, required: bool = True) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        help_text=help_text,
        required=required,
        max_digits=15,
        error_messages={"invalid": "Enter an amount such as 24.50, with no currency sign or commas."},
    )


def _to_minor(form: forms.Form, field: str, amount: Decimal | None, currency: str) -> int | None:
    """The amount in minor units of `currency`, or None (with an error on the field) if it cannot be."""
    if amount is None:
        return None
    try:
        return minor_from_decimal(amount, currency=currency)
    except InvalidAmount:
        places = CURRENCY_EXPONENTS[currency]
        form.add_error(field, f"{currency} amounts have at most {places} decimal places: {amount} has more.")
        return None


def _show_errors(form: forms.Form, error: DomainError, fields: dict[str, str] | None = None) -> None:
    """Put a service's error on the form field it names (service arguments renamed by `fields`)."""
    name = getattr(error, "field", None)
    name = (fields or {}).get(name, name)
    form.add_error(name if name in form.fields else None, error.message)


def _adopt(unsaved: Model, saved: Model) -> None:
    """Make the admin's unsaved form instance the row a service saved (the admin logs and redirects by it)."""
    for model_field in saved._meta.concrete_fields:
        setattr(unsaved, model_field.attname, getattr(saved, model_field.attname))
    unsaved._state.adding = False
    unsaved._state.db = saved._state.db


class ServiceErrorsAsMessages:
    """Show a domain error raised while saving (someone else changed the same thing in the meantime) as a
    message, instead of a server error. Nothing was saved: the admin's view is one transaction."""

    def changeform_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return super().changeform_view(request, *args, **kwargs)
        except DomainError as error:
            self.message_user(request, f"Nothing was saved. {error.message}", messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


class NoDelete:
    """Catalogue rows are history that plans, budgets and the ledger point at: they are never deleted."""

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class HistoryInline(NoDelete):
    """Existing rows are shown read-only; new ones may be added (each saved through a service)."""

    extra = 1

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


def _currency_of(*, stream: FundingStream | None, service: Service | None) -> str:
    if stream is not None:
        return stream.currency
    assert service is not None
    return service.stream.currency


# Forms --------------------------------------------------------------------------------------------------


class FundingStreamForm(forms.ModelForm):
    currency = forms.ChoiceField(
        choices=[(code, code) for code in sorted(CURRENCY_EXPONENTS)],
        initial="GBP",
        help_text="Cannot change once the stream has services, on-cost rules or personal budgets.",
    )

    class Meta:
        model = FundingStream
        fields = [
            "code",
            "name",
            "agency",
            "policy_sector",
            "description",
            "currency",
            "budget_year_start_month",
            "budget_year_start_day",
            "payment_frequency",
            "charges_contribution",
            "contingency_percent",
            "surplus_threshold_weeks",
            "initial_float_weeks",
            "reclaim_notice_weeks",
            "is_active",
        ]
        help_texts = {"code": "Capital letters and digits, like ASC. It cannot be changed later."}

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        checked = [
            "name",
            "agency",
            "policy_sector",
            "currency",
            "budget_year_start_month",
            "budget_year_start_day",
            "payment_frequency",
            "contingency_percent",
            "surplus_threshold_weeks",
            "initial_float_weeks",
            "reclaim_notice_weeks",
        ]
        if self.errors or any(data.get(name) is None for name in checked):
            return data  # the fields' own errors come first
        stream = self.instance if self.instance.pk else None
        try:
            services.stream_check(
                stream=stream,
                code=stream.code if stream else data.get("code", ""),
                **{name: data[name] for name in checked},
            )
        except DomainError as error:
            _show_errors(self, error)
        return data


class SpendingCategoryForm(forms.ModelForm):
    class Meta:
        model = SpendingCategory
        fields = ["code", "name"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        stream = data.get("stream")  # the stream whose page this inline row is on
        if not self.errors and stream is not None:
            try:
                services.spending_category_check(stream=stream, code=data["code"], name=data["name"])
            except DomainError as error:
                _show_errors(self, error)
        return data


class ServiceForm(forms.ModelForm):
    class Meta:
        model = Service
        fields = ["stream", "service_code", "description", "unit", "category", "is_active"]
        help_texts = {
            "service_code": "Capital letters, digits and hyphens, like ASC-PC. It cannot be changed later.",
            "unit": "What one unit of the rate buys. It cannot be changed later.",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "category" in self.fields:
            categories = SpendingCategory.objects.select_related("stream").order_by("stream__code", "name")
            if self.instance.pk:
                categories = categories.filter(stream_id=self.instance.stream_id)
            self.fields["category"].queryset = categories

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        service = self.instance if self.instance.pk else None
        try:
            services.service_check(
                service=service,
                stream=service.stream if service else data["stream"],
                service_code=service.service_code if service else data["service_code"],
                description=data["description"],
                unit=service.unit if service else data["unit"],
                category=data.get("category"),
            )
        except DomainError as error:
            _show_errors(self, error)
        return data


class RateForm(forms.ModelForm):
    """A new rate: the unit cost is entered in the stream's currency (24.50), stored in minor units."""

    unit_cost = _money_field(
        label="Unit cost", help_text="In the stream's currency, for example 24.50 for £24.50 an hour."
    )

    class Meta:
        model = Rate
        fields = ["service", "unit_cost", "valid_from", "valid_to"]
        help_texts = {
            "valid_from": "The first day of the new rate, usually 1 April. It must be after every existing "
            "rate of the service; earlier rates stay as they are."
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        service = data.get("service") or (self.instance.service if self.instance.service_id else None)
        if self.errors or service is None:
            return data
        unit_cost_minor = _to_minor(self, "unit_cost", data["unit_cost"], service.stream.currency)
        if unit_cost_minor is None:
            return data
        try:
            services.rate_check(
                service=service,
                unit_cost_minor=unit_cost_minor,
                valid_from=data["valid_from"],
                valid_to=data.get("valid_to"),
            )
        except DomainError as error:
            _show_errors(self, error, {"unit_cost_minor": "unit_cost"})
        data["unit_cost_minor"] = unit_cost_minor
        return data


class OnCostRuleForm(forms.ModelForm):
    """A new on-cost rule: a percentage, or a yearly amount entered in the stream's currency."""

    amount_per_year = _money_field(
        label="Amount a year",
        help_text="For a fixed yearly rule, in the stream's currency (for example 240.00).",
        required=False,
    )

    class Meta:
        model = OnCostRule
        fields = ["stream", "service", "name", "kind", "percent", "amount_per_year", "valid_from", "valid_to"]
        help_texts = {"percent": "For a percentage rule, for example 12.07 for 12.07%."}

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        stream = data.get("stream") or (self.instance.stream if self.instance.stream_id else None)
        service = data.get("service") or (self.instance.service if self.instance.service_id else None)
        amount_minor = None
        if stream is not None or service is not None:  # with neither, the check below says so
            currency = _currency_of(stream=stream, service=service)
            amount_minor = _to_minor(self, "amount_per_year", data.get("amount_per_year"), currency)
            if self.errors:
                return data
        try:
            services.on_cost_rule_check(
                stream=stream,
                service=service,
                name=data["name"],
                kind=data["kind"],
                percent=data.get("percent"),
                amount_minor_per_year=amount_minor,
                valid_from=data["valid_from"],
                valid_to=data.get("valid_to"),
            )
        except DomainError as error:
            _show_errors(self, error, {"amount_minor_per_year": "amount_per_year"})
        data["amount_minor_per_year"] = amount_minor
        return data


class OnCostRuleEndForm(forms.ModelForm):
    """Ending an open on-cost rule: its last day is the only thing that may change."""

    class Meta:
        model = OnCostRule
        fields = ["valid_to"]
        labels = {"valid_to": "Last day"}
        help_texts = {"valid_to": "The last day the rule applies. Add a new rule for what replaces it."}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["valid_to"].required = True

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        try:
            rule = OnCostRule.objects.get(pk=self.instance.pk)  # as stored, not as this form changed it
            services.on_cost_rule_end_check(rule=rule, valid_to=data["valid_to"])
        except DomainError as error:
            _show_errors(self, error)
        return data


# Read-only displays -------------------------------------------------------------------------------------


def _unit_cost_display(rate: Rate) -> str:
    currency = rate.service.stream.currency
    return f"{money_format(rate.unit_cost_minor, currency=currency)} {currency}"


def _on_cost_amount_display(rule: OnCostRule) -> str:
    if rule.kind == OnCostKind.PERCENTAGE:
        return f"{rule.percent}%"
    currency = _currency_of(stream=rule.stream, service=rule.service)
    return f"{money_format(rule.amount_minor_per_year, currency=currency)} {currency} a year"


# Inlines ------------------------------------------------------------------------------------------------


class SpendingCategoryInline(HistoryInline, admin.TabularInline):
    model = SpendingCategory
    form = SpendingCategoryForm
    fields = ["code", "name"]


class OnCostRuleInline(HistoryInline, admin.TabularInline):
    model = OnCostRule
    form = OnCostRuleForm
    fields = ["name", "kind", "percent", "amount_per_year", "valid_from", "valid_to"]
    verbose_name = "on-cost rule"

    @admin.display(description="Amount a year")
    def amount_per_year(self, rule: OnCostRule) -> str:
        if rule.amount_minor_per_year is None:
            return "-"
        return _on_cost_amount_display(rule)


class StreamOnCostRuleInline(OnCostRuleInline):
    fk_name = "stream"
    verbose_name_plural = "on-cost rules for every service of the stream"


class ServiceOnCostRuleInline(OnCostRuleInline):
    fk_name = "service"
    verbose_name_plural = "on-cost rules for this service (for example a personal assistant's employer costs)"


class RateInline(HistoryInline, admin.TabularInline):
    model = Rate
    form = RateForm
    fields = ["unit_cost", "valid_from", "valid_to"]
    ordering = ["valid_from"]
    verbose_name_plural = "rates (add a new rate from a later date; earlier rates stay as they are)"

    @admin.display(description="Unit cost")
    def unit_cost(self, rate: Rate) -> str:
        return _unit_cost_display(rate)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Rate]:
        return super().get_queryset(request).select_related("service__stream")


def _save_inline_rows(request: HttpRequest, formset: forms.BaseModelFormSet) -> None:
    """Save an inline's new rows through the services (existing rows are read-only and never saved)."""
    unsaved = formset.save(commit=False)
    saved: list[Model] = []
    for form in formset.forms:
        if form.instance not in unsaved:
            continue
        instance, data = form.instance, form.cleaned_data
        if isinstance(instance, SpendingCategory):
            row: Model = services.spending_category_add(
                stream=instance.stream, code=data["code"], name=data["name"], actor=request.user
            )
        elif isinstance(instance, Rate):
            row = services.rate_add(
                service=instance.service,
                unit_cost_minor=data["unit_cost_minor"],
                valid_from=data["valid_from"],
                valid_to=data.get("valid_to"),
                actor=request.user,
            )
        elif isinstance(instance, OnCostRule):
            row = services.on_cost_rule_add(
                stream=instance.stream if instance.stream_id else None,
                service=instance.service if instance.service_id else None,
                name=data["name"],
                kind=data["kind"],
                percent=data.get("percent"),
                amount_minor_per_year=data["amount_minor_per_year"],
                valid_from=data["valid_from"],
                valid_to=data.get("valid_to"),
                actor=request.user,
            )
        else:  # pragma: no cover - every inline here is one of the above
            raise TypeError(f"No service saves {type(instance).__name__} rows.")
        _adopt(instance, row)
        saved.append(instance)
    # The admin's change message reads these.
    formset.new_objects, formset.changed_objects, formset.deleted_objects = saved, [], []


class InlinesOnceSaved:
    """Rates, categories and on-cost rules need their stream's currency and rows: they are added once the
    stream or service exists (save, then add them on its page)."""

    def get_inlines(
        self, request: HttpRequest, obj: Model | None
    ) -> list[type[admin.options.InlineModelAdmin]]:
        return list(self.inlines) if obj is not None else []

    def save_formset(self, request: HttpRequest, form: forms.ModelForm, formset: Any, change: bool) -> None:
        _save_inline_rows(request, formset)


# Model admins -------------------------------------------------------------------------------------------


@admin.register(FundingStream)
class FundingStreamAdmin(ServiceErrorsAsMessages, InlinesOnceSaved, NoDelete, admin.ModelAdmin):
    form = FundingStreamForm
    fields = FundingStreamForm.Meta.fields
    inlines = [SpendingCategoryInline, StreamOnCostRuleInline]
    list_display = ["code", "name", "agency", "policy_sector", "payment_frequency", "currency", "is_active"]
    list_filter = ["policy_sector", "payment_frequency", "is_active"]
    list_select_related = ["agency"]
    search_fields = ["code", "name"]
    ordering = ["code"]

    def get_readonly_fields(self, request: HttpRequest, obj: FundingStream | None = None) -> list[str]:
        return ["code"] if obj is not None else []

    def save_model(
        self, request: HttpRequest, obj: FundingStream, form: forms.ModelForm, change: bool
    ) -> None:
        data = form.cleaned_data
        values = {
            name: data[name]
            for name in [
                "name",
                "agency",
                "policy_sector",
                "description",
                "currency",
                "budget_year_start_month",
                "budget_year_start_day",
                "payment_frequency",
                "charges_contribution",
                "contingency_percent",
                "surplus_threshold_weeks",
                "initial_float_weeks",
                "reclaim_notice_weeks",
            ]
        }
        if change:
            stream = services.stream_update(
                stream=obj, **values, is_active=data["is_active"], actor=request.user
            )
        else:
            stream = services.stream_create(
                code=data["code"], **values, is_active=data["is_active"], actor=request.user
            )
        _adopt(obj, stream)


@admin.register(Service)
class ServiceAdmin(ServiceErrorsAsMessages, InlinesOnceSaved, NoDelete, admin.ModelAdmin):
    form = ServiceForm
    inlines = [RateInline, ServiceOnCostRuleInline]
    list_display = ["service_code", "description", "stream", "unit", "category", "is_active"]
    list_filter = ["stream", "unit", "is_active"]
    list_select_related = ["stream", "category"]
    search_fields = ["service_code", "description"]
    ordering = ["service_code"]

    def get_readonly_fields(self, request: HttpRequest, obj: Service | None = None) -> list[str]:
        return ["stream", "service_code", "unit", "currency"] if obj is not None else []

    def get_fields(self, request: HttpRequest, obj: Service | None = None) -> list[str]:
        fields = ["stream", "service_code", "description", "unit", "category", "is_active"]
        return [*fields[:4], "currency", *fields[4:]] if obj is not None else fields

    @admin.display(description="Currency")
    def currency(self, service: Service) -> str:
        return service.stream.currency

    def save_model(self, request: HttpRequest, obj: Service, form: forms.ModelForm, change: bool) -> None:
        data = form.cleaned_data
        if change:
            service = services.service_update(
                service=obj,
                description=data["description"],
                category=data.get("category"),
                is_active=data["is_active"],
                actor=request.user,
            )
        else:
            service = services.service_create(
                stream=data["stream"],
                service_code=data["service_code"],
                description=data["description"],
                unit=data["unit"],
                category=data.get("category"),
                is_active=data["is_active"],
                actor=request.user,
            )
        _adopt(obj, service)


@admin.register(Rate)
class RateAdmin(ServiceErrorsAsMessages, NoDelete, admin.ModelAdmin):
    """Rates are added, never changed: a rate's page shows it read-only."""

    form = RateForm
    fields = ["service", "unit_cost", "valid_from", "valid_to"]
    list_display = ["service", "unit_cost", "valid_from", "valid_to", "created_at"]
    list_filter = ["service__stream"]
    list_select_related = ["service__stream"]
    search_fields = ["service__service_code", "service__description"]
    ordering = ["service__service_code", "-valid_from"]
    autocomplete_fields = ["service"]

    @admin.display(description="Unit cost")
    def unit_cost(self, rate: Rate) -> str:
        return _unit_cost_display(rate)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Rate]:
        return super().get_queryset(request).select_related("service__stream")

    def has_change_permission(self, request: HttpRequest, obj: Rate | None = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Rate, form: forms.ModelForm, change: bool) -> None:
        data = form.cleaned_data
        rate = services.rate_add(
            service=data["service"],
            unit_cost_minor=data["unit_cost_minor"],
            valid_from=data["valid_from"],
            valid_to=data.get("valid_to"),
            actor=request.user,
        )
        _adopt(obj, rate)


@admin.register(OnCostRule)
class OnCostRuleAdmin(ServiceErrorsAsMessages, NoDelete, admin.ModelAdmin):
    """On-cost rules are added, never rewritten; an open rule may be given its last day."""

    list_display = ["name", "applies_to", "kind", "amount", "valid_from", "valid_to"]
    list_filter = ["kind", "stream", "service__stream"]
    list_select_related = ["stream", "service__stream"]
    search_fields = ["name", "service__service_code", "stream__code"]
    ordering = ["valid_from", "name"]
    autocomplete_fields = ["service"]

    @admin.display(description="Applies to")
    def applies_to(self, rule: OnCostRule) -> str:
        return f"every {rule.stream.code} service" if rule.stream_id else rule.service.service_code

    @admin.display(description="Amount")
    def amount(self, rule: OnCostRule) -> str:
        return _on_cost_amount_display(rule)

    def get_queryset(self, request: HttpRequest) -> QuerySet[OnCostRule]:
        return super().get_queryset(request).select_related("stream", "service__stream")

    def has_change_permission(self, request: HttpRequest, obj: OnCostRule | None = None) -> bool:
        return super().has_change_permission(request, obj) and (obj is None or obj.valid_to is None)

    def get_form(
        self, request: HttpRequest, obj: OnCostRule | None = None, **kwargs: Any
    ) -> type[forms.ModelForm]:
        kwargs["form"] = OnCostRuleEndForm if obj is not None else OnCostRuleForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request: HttpRequest, obj: OnCostRule | None = None) -> list[str]:
        if obj is None:
            return [
                "stream",
                "service",
                "name",
                "kind",
                "percent",
                "amount_per_year",
                "valid_from",
                "valid_to",
            ]
        return ["applies_to", "name", "kind", "amount", "valid_from", "valid_to"]

    def get_readonly_fields(self, request: HttpRequest, obj: OnCostRule | None = None) -> list[str]:
        return ["applies_to", "name", "kind", "amount", "valid_from"] if obj is not None else []

    def save_model(self, request: HttpRequest, obj: OnCostRule, form: forms.ModelForm, change: bool) -> None:
        data = form.cleaned_data
        if change:
            rule = services.on_cost_rule_end(rule=obj, valid_to=data["valid_to"], actor=request.user)
        else:
            rule = services.on_cost_rule_add(
                stream=data.get("stream"),
                service=data.get("service"),
                name=data["name"],
                kind=data["kind"],
                percent=data.get("percent"),
                amount_minor_per_year=data["amount_minor_per_year"],
                valid_from=data["valid_from"],
                valid_to=data.get("valid_to"),
                actor=request.user,
            )
        _adopt(obj, rule)
