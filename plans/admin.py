"""Read-only admin for support plans, their versions and contents, and the case timeline.

A plan changes only through `plans.services` (which lock, check the workflow and write the timeline), so
nothing here adds, changes or deletes; the timeline is append-only in any case.
"""

from django.contrib import admin
from django.http import HttpRequest

from ledger.money import money_format
from plans.models import (
    InformalSupport,
    Outcome,
    PlanVersion,
    Review,
    StreamApproval,
    SupportItem,
    SupportPlan,
    TimelineEntry,
)


class _ReadOnly:
    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class _ReadOnlyInline(_ReadOnly, admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False


class ReadOnlyAdmin(_ReadOnly, admin.ModelAdmin):
    show_full_result_count = False


class VersionInline(_ReadOnlyInline):
    model = PlanVersion
    fields = ["number", "public_id", "status", "starts_on", "ends_on", "effective_from", "review_due_on"]
    readonly_fields = fields
    ordering = ["-number"]
    show_change_link = True


@admin.register(SupportPlan)
class SupportPlanAdmin(ReadOnlyAdmin):
    list_display = ["public_id", "budget_holder", "created_at"]
    list_select_related = ["budget_holder"]
    search_fields = ["public_id", "budget_holder__public_id", "budget_holder__full_name"]
    ordering = ["-created_at"]
    fields = ["public_id", "budget_holder", "created_at"]
    readonly_fields = fields
    inlines = [VersionInline]


class OutcomeInline(_ReadOnlyInline):
    model = Outcome
    fields = ["position", "public_id", "in_own_words", "success_looks_like"]
    readonly_fields = fields
    ordering = ["position"]


class InformalSupportInline(_ReadOnlyInline):
    model = InformalSupport
    fields = ["public_id", "outcome", "who", "what", "how_often"]
    readonly_fields = fields


class SupportItemInline(_ReadOnlyInline):
    model = SupportItem
    fields = [
        "position",
        "public_id",
        "service",
        "stream",
        "description",
        "quantity",
        "per",
        "split",
        "provider",
        "agreed_rate",
    ]
    readonly_fields = fields
    ordering = ["position"]
    show_change_link = True

    @admin.display(description="Agreed rate")
    def agreed_rate(self, item: SupportItem) -> str:
        if item.agreed_rate_minor is None:
            return "-"
        return money_format(item.agreed_rate_minor, currency=item.stream.currency)


class StreamApprovalInline(_ReadOnlyInline):
    model = StreamApproval
    fields = ["round", "stream", "amount", "status", "decided_at", "decided_by", "reason"]
    readonly_fields = fields
    ordering = ["round", "stream__code"]

    @admin.display(description="Amount")
    def amount(self, approval: StreamApproval) -> str:
        return f"{money_format(approval.amount_minor, currency=approval.currency)} {approval.currency}"


class ReviewInline(_ReadOnlyInline):
    model = Review
    fields = ["public_id", "held_on", "held_by", "next_review_on", "notes"]
    readonly_fields = fields
    ordering = ["-held_on"]


@admin.register(PlanVersion)
class PlanVersionAdmin(ReadOnlyAdmin):
    list_display = ["public_id", "plan", "number", "status", "starts_on", "ends_on", "effective_from"]
    list_filter = ["status"]
    list_select_related = ["plan"]
    search_fields = ["public_id", "plan__public_id", "plan__budget_holder__full_name"]
    ordering = ["-created_at"]
    fields = [
        "public_id",
        "plan",
        "number",
        "based_on",
        "status",
        "starts_on",
        "ends_on",
        "effective_from",
        "summary",
        "change_reason",
        "review_due_on",
        "created_at",
        "created_by",
        "agreed_at",
        "agreed_by",
        "activated_at",
    ]
    readonly_fields = fields
    inlines = [OutcomeInline, InformalSupportInline, SupportItemInline, StreamApprovalInline, ReviewInline]


@admin.register(SupportItem)
class SupportItemAdmin(ReadOnlyAdmin):
    list_display = ["public_id", "version", "description", "stream", "quantity", "per", "provider"]
    list_select_related = ["version", "stream", "provider"]
    search_fields = ["public_id", "description", "version__public_id"]
    list_filter = ["stream"]
    ordering = ["-pk"]
    fields = [
        "public_id",
        "version",
        "position",
        "service",
        "stream",
        "description",
        "unit",
        "unit_cost_minor",
        "quantity",
        "per",
        "split",
        "provider",
        "agreed_rate_minor",
        "outcomes",
    ]
    readonly_fields = fields


@admin.register(TimelineEntry)
class TimelineEntryAdmin(ReadOnlyAdmin):
    list_display = ["public_id", "at", "budget_holder", "kind", "visibility", "actor", "stream"]
    list_filter = ["kind", "visibility"]
    list_select_related = ["budget_holder", "actor", "stream"]
    search_fields = ["public_id", "budget_holder__public_id", "kind"]
    date_hierarchy = "at"
    ordering = ["-at", "-id"]
    fields = [
        "public_id",
        "budget_holder",
        "at",
        "kind",
        "visibility",
        "actor",
        "stream",
        "for_person",
        "for_staff",
        "body",
        "detail",
        "corrects",
    ]
    readonly_fields = fields
