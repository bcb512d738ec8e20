"""Issued statements and statement runs in the admin: to look at, never to change."""

from django.contrib import admin

from people.admin import ReadOnlyAdmin
from statements.models import IssuedStatement, StatementRun, StatementRunItem


@admin.register(IssuedStatement)
class IssuedStatementAdmin(ReadOnlyAdmin):
    list_display = (
        "public_id",
        "kind",
        "budget_holder",
        "stream",
        "starts_on",
        "ends_on",
        "pages",
        "issued_at",
    )
    list_filter = ("kind", "starts_on")
    search_fields = ("public_id", "budget_holder__public_id", "sha256")
    exclude = ("pdf", "figures")
    list_select_related = ("budget_holder", "stream")


@admin.register(StatementRun)
class StatementRunAdmin(ReadOnlyAdmin):
    list_display = ("public_id", "starts_on", "ends_on", "status", "total", "created_at", "finished_at")
    list_filter = ("status",)


@admin.register(StatementRunItem)
class StatementRunItemAdmin(ReadOnlyAdmin):
    list_display = ("run", "kind", "budget_holder", "stream", "status", "attempts", "updated_at")
    list_filter = ("status", "kind")
    list_select_related = ("run", "budget_holder", "stream")
