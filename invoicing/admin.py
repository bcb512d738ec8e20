"""Invoices in the Django admin: read-only (every change goes through the services, with its history)."""

from django.contrib import admin

from invoicing.models import AutoApprovalRule, Invoice, InvoiceEvent, InvoiceLine, Remittance


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class InvoiceLineInline(admin.TabularInline):
    model = InvoiceLine
    fields = (
        "position",
        "support_item_public_id",
        "service_date",
        "quantity",
        "unit_price_minor",
        "amount_minor",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False


class InvoiceEventInline(admin.TabularInline):
    model = InvoiceEvent
    fields = ("status", "at", "by", "by_role", "reason")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = (
        "public_id",
        "invoice_number",
        "provider",
        "budget_holder",
        "status",
        "total_minor",
        "issued_on",
    )
    list_filter = ("status",)
    search_fields = ("public_id", "invoice_number")
    list_select_related = ("provider", "budget_holder")
    inlines = [InvoiceLineInline, InvoiceEventInline]


@admin.register(AutoApprovalRule)
class AutoApprovalRuleAdmin(ReadOnlyAdmin):
    list_display = ("public_id", "budget_holder", "provider", "max_total_minor", "created_at", "revoked_at")
    list_select_related = ("budget_holder", "provider")


@admin.register(Remittance)
class RemittanceAdmin(ReadOnlyAdmin):
    list_display = ("public_id", "provider", "reference", "paid_on", "total_minor")
    list_select_related = ("provider",)
