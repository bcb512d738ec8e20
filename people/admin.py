"""Django admin for people's records. Tokens and audit events are read-only here: tokens are issued by their
owner (the raw token must be shown once, which admin cannot do) and audit rows are never changed."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from people import services
from people.models import (
    AuditAction,
    AuditEvent,
    BudgetHolder,
    Organisation,
    PersonalToken,
    Representative,
    User,
)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "first_name", "last_name", "role", "organisation", "is_active")
    list_filter = ("role", "is_active", "organisation")
    readonly_fields = ("public_id", "last_login", "date_joined")
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        ("Purse", {"fields": ("public_id", "role", "organisation")}),
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        ("Purse", {"fields": ("role", "organisation", "first_name", "last_name", "email")}),
    )

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        if change and {"role", "organisation"} & set(form.changed_data):
            services.audit_event_record(
                actor=request.user,
                action=AuditAction.USER_ROLE_CHANGED,
                obj=obj,
                detail={
                    "from": {"role": form.initial.get("role")},
                    "to": {
                        "role": obj.role,
                        "organisation": obj.organisation.public_id if obj.organisation else None,
                    },
                    "via": "admin",
                },
            )


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "slug", "public_id")
    list_filter = ("kind",)
    search_fields = ("name", "slug")
    readonly_fields = ("public_id", "created_at")

    def has_add_permission(self, request) -> bool:
        # The public id depends on the kind; services.organisation_create makes it.
        return False


@admin.register(BudgetHolder)
class BudgetHolderAdmin(admin.ModelAdmin):
    list_display = ("full_name", "public_id", "navigator")
    search_fields = ("full_name", "preferred_name", "public_id")
    readonly_fields = ("public_id", "created_at")
    raw_id_fields = ("user", "navigator")


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Representative)
class RepresentativeAdmin(ReadOnlyAdmin):
    list_display = ("user", "budget_holder", "power", "granted_at", "revoked_at")
    list_filter = ("power",)


@admin.register(PersonalToken)
class PersonalTokenAdmin(ReadOnlyAdmin):
    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "revoked_at")
    exclude = ("token_hash",)


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "actor", "action", "object_type", "object_id")
    list_filter = ("action", "object_type")
    search_fields = ("object_id", "action")
    date_hierarchy = "at"
