"""Reads of people's records. What a user may see is decided in `people.access`; these only fetch."""

from django.db.models import QuerySet
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from people.models import (
    AuditEvent,
    BudgetHolder,
    Organisation,
    OrganisationKind,
    PersonalToken,
    ProviderApiKey,
    Representative,
    User,
)


def user_get_by_username(*, username: str) -> User | None:
    return User.objects.select_related("organisation").filter(username=username).first()


def organisation_get_by_slug(*, slug: str) -> Organisation | None:
    return Organisation.objects.filter(slug=slug).first()


def provider_list() -> QuerySet[Organisation]:
    """Every care provider, by name (for choosing one on a form)."""
    return Organisation.objects.filter(kind=OrganisationKind.PROVIDER).order_by("name")


def organisation_get_by_public_id(*, public_id: str) -> Organisation | None:
    return Organisation.objects.filter(public_id=public_id).first()


def budget_holder_for_user(*, user: User) -> BudgetHolder | None:
    """The budget holder record of the signed-in person themselves, if they are one."""
    return BudgetHolder.objects.select_related("navigator").filter(user_id=user.pk).first()


def budget_holder_get_by_public_id(*, public_id: str) -> BudgetHolder | None:
    return BudgetHolder.objects.select_related("navigator", "user").filter(public_id=public_id).first()


def representatives_for_budget_holder(
    *, budget_holder: BudgetHolder, include_revoked: bool = False
) -> QuerySet[Representative]:
    """The budget holder's representatives, newest grant first (with revoked ones, for the history)."""
    queryset = Representative.objects.filter(budget_holder=budget_holder)
    if not include_revoked:
        queryset = queryset.active()
    return queryset.select_related("user", "granted_by", "revoked_by").order_by("-granted_at", "-pk")


def representations_for_user(*, user: User) -> QuerySet[Representative]:
    """The active grants `user` holds, each with the budget holder it is for."""
    return (
        Representative.objects.active()
        .filter(user=user)
        .select_related("budget_holder")
        .order_by("budget_holder__full_name", "pk")
    )


def personal_tokens_for_user(*, user: User) -> QuerySet[PersonalToken]:
    """The user's own tokens, newest first, revoked ones included (so they can see what was revoked)."""
    return PersonalToken.objects.filter(user=user).order_by("-created_at", "-pk")


def personal_token_get_for_user(*, user: User, public_id: str) -> PersonalToken | None:
    return PersonalToken.objects.filter(user=user, public_id=public_id).first()


def provider_api_keys_for_provider(*, provider: Organisation) -> QuerySet[ProviderApiKey]:
    """The provider's API keys, newest first, revoked ones included (so its users see what was revoked)."""
    return ProviderApiKey.objects.filter(provider=provider).order_by("-created_at", "-pk")


def provider_api_key_get_for_provider(*, provider: Organisation, public_id: str) -> ProviderApiKey | None:
    return ProviderApiKey.objects.filter(provider=provider, public_id=public_id).first()


def audit_events_for_object(*, object_type: str, object_id: str) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(object_type=object_type, object_id=object_id).order_by("at", "pk")


def totp_device_get_confirmed(*, user: User) -> TOTPDevice | None:
    """The user's working authenticator app, if they have set one up."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def backup_codes_remaining(*, user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()
