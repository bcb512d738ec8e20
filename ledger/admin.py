"""Read-only admin: ledger rows are facts, changed only by the services (see `ledger.models`)."""

from django.contrib import admin

from ledger.models import Account, PendingResolution, PeriodClose, Posting, Transaction


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ["public_id", "key", "name", "type", "currency", "allow_negative"]
    list_filter = ["type", "currency"]
    search_fields = ["public_id", "key", "name", "owner_id"]


class PostingInline(admin.TabularInline):
    model = Posting
    fields = ["account", "side", "amount_minor"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Transaction)
class TransactionAdmin(ReadOnlyAdmin):
    list_display = ["public_id", "kind", "effective_on", "currency", "description", "created_at"]
    list_filter = ["kind", "currency"]
    search_fields = ["public_id", "idempotency_key", "description"]
    date_hierarchy = "effective_on"
    inlines = [PostingInline]
    show_full_result_count = False


@admin.register(PendingResolution)
class PendingResolutionAdmin(ReadOnlyAdmin):
    list_display = ["pending", "outcome", "effective_on", "created_at"]
    list_filter = ["outcome"]


@admin.register(PeriodClose)
class PeriodCloseAdmin(ReadOnlyAdmin):
    list_display = ["closed_through", "closed_by", "closed_at"]
