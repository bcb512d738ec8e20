"""Everything that changes people's records. Each function is one database transaction and writes its own
audit row; interfaces (pages, API, commands) check permission with `people.access.may`, then call one."""

import hashlib
import hmac
import math
import re
import secrets
from datetime import timedelta
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import models, transaction
from django.utils import timezone
from django_otp import verify_token as otp_verify_token
from django_otp.models import Device, VerifyNotAllowed
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from ledger.errors import DomainError, DomainErrors
from people import access
from people.models import (
    ORGANISATION_ID_PREFIXES,
    ORGANISATION_ROLES,
    AuditAction,
    AuditEvent,
    BudgetHolder,
    Organisation,
    OrganisationKind,
    PayoutMethod,
    PersonalToken,
    ProviderApiKey,
    ProviderDetails,
    ProviderKind,
    Representative,
    RepresentativePower,
    Role,
    User,
    new_public_id,
)

# Errors -------------------------------------------------------------------------------------------------


class OrganisationMismatch(DomainError):
    code = "organisation_mismatch"
    message = "Agency officers belong to an agency, provider users to a provider, and nobody else to either."


class NotANavigator(DomainError):
    code = "not_a_navigator"
    message = "A budget holder's navigator must be someone with the navigator role."


class NotARepresentative(DomainError):
    code = "not_a_representative"
    message = "Only someone with the representative role can be given a representative's power."


class RepresentativeAlreadyActive(DomainError):
    code = "representative_already_active"
    message = "This person already represents this budget holder. Revoke that first to change their power."
    http_status = 409


class RepresentativeAlreadyRevoked(DomainError):
    code = "representative_already_revoked"
    message = "This representative's power has already been revoked."
    http_status = 409


class NotAllowedToGrant(DomainError):
    code = "not_allowed"
    message = "Only the budget holder, their navigator or an administrator can grant or revoke this power."
    http_status = 403


class PersonalTokenAlreadyRevoked(DomainError):
    code = "token_already_revoked"
    message = "This token has already been revoked."
    http_status = 409


class NotAProvider(DomainError):
    code = "not_a_provider"
    message = "API keys are issued to care providers only."


class ProviderServiceUsernameTaken(DomainError):
    code = "provider_service_username_taken"
    message = "The username for this provider's API account is already someone else's."
    http_status = 409


class ProviderApiKeyAlreadyRevoked(DomainError):
    code = "api_key_already_revoked"
    message = "This API key has already been revoked."
    http_status = 409


class SecondFactorAlreadySetUp(DomainError):
    code = "second_factor_already_set_up"
    message = "An authenticator app is already set up for this account."
    http_status = 409


class SecondFactorNotSetUp(DomainError):
    code = "second_factor_not_set_up"
    message = "Set up an authenticator app first."
    http_status = 409


class SecondFactorCodeWrong(DomainError):
    code = "second_factor_code_wrong"
    message = "That code is not right. Check your authenticator app and enter the 6-digit code it shows now."
    http_status = 401


class SecondFactorThrottled(DomainError):
    """Too many wrong codes in a row: django-otp's back-off says to wait `wait_seconds`."""

    code = "second_factor_throttled"
    http_status = 429

    def __init__(self, *, wait_seconds: int, failures: int) -> None:
        self.wait_seconds = wait_seconds
        self.failures = failures
        unit = "second" if wait_seconds == 1 else "seconds"
        times = "once" if failures == 1 else f"{failures} times"
        super().__init__(
            f"You have entered a wrong code {times} in a row. Wait {wait_seconds} {unit}, then try again."
        )


# Audit --------------------------------------------------------------------------------------------------


def audit_event_record(
    *, actor: AbstractBaseUser | None, action: str, obj: models.Model, detail: dict[str, Any] | None = None
) -> AuditEvent:
    """Append one audit row saying that `actor` (None: the system or an operator) did `action` to `obj`."""
    object_id = getattr(obj, "public_id", None) or str(obj.pk)
    return AuditEvent.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=str(action),
        object_type=obj._meta.label_lower,
        object_id=object_id,
        detail=detail or {},
    )


# Organisations and users --------------------------------------------------------------------------------


@transaction.atomic
def organisation_create(
    *,
    kind: str,
    name: str,
    slug: str,
    contact_email: str = "",
    contact_phone: str = "",
    created_by: User | None = None,
) -> Organisation:
    """Create an agency or a provider, with a public id that says which (`agy_...`, `pro_...`)."""
    kind = OrganisationKind(kind)
    organisation = Organisation(
        public_id=new_public_id(ORGANISATION_ID_PREFIXES[kind]),
        kind=kind,
        name=name,
        slug=slug,
        contact_email=contact_email,
        contact_phone=contact_phone,
    )
    organisation.full_clean()
    organisation.save()
    audit_event_record(
        actor=created_by,
        action=AuditAction.ORGANISATION_CREATED,
        obj=organisation,
        detail={"kind": kind.value, "slug": slug},
    )
    return organisation


def _check_organisation_for_role(*, role: str, organisation: Organisation | None) -> None:
    expected_kind = ORGANISATION_ROLES.get(Role(role))
    if expected_kind is None and organisation is not None:
        raise OrganisationMismatch(f"A {Role(role).label.lower()} does not belong to an organisation.")
    if expected_kind is not None and (organisation is None or organisation.kind != expected_kind):
        raise OrganisationMismatch(f"A {Role(role).label.lower()} must belong to a {expected_kind}.")


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str | None,
    role: str,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    phone: str = "",
    organisation: Organisation | None = None,
    is_django_admin: bool = False,
    created_by: User | None = None,
) -> User:
    """Create a user with a role. No password (None) means they cannot sign in with one yet.

    Raises OrganisationMismatch when the organisation does not fit the role.
    """
    _check_organisation_for_role(role=role, organisation=organisation)
    user = User(
        username=username,
        role=role,
        first_name=first_name,
        last_name=last_name,
        email=email,
        phone=phone,
        organisation=organisation,
        is_staff=is_django_admin,
        is_superuser=is_django_admin,
    )
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    audit_event_record(
        actor=created_by,
        action=AuditAction.USER_CREATED,
        obj=user,
        detail={"role": role, "organisation": organisation.public_id if organisation else None},
    )
    return user


@transaction.atomic
def user_role_change(
    *, user: User, role: str, organisation: Organisation | None = None, changed_by: User | None
) -> User:
    """Give `user` a new role (and the organisation it needs, if any).

    Raises OrganisationMismatch when the organisation does not fit the role.
    """
    _check_organisation_for_role(role=role, organisation=organisation)
    user = User.objects.select_for_update().get(pk=user.pk)
    before = {"role": user.role, "organisation": user.organisation.public_id if user.organisation else None}
    user.role = role
    user.organisation = organisation
    user.save(update_fields=["role", "organisation"])
    audit_event_record(
        actor=changed_by,
        action=AuditAction.USER_ROLE_CHANGED,
        obj=user,
        detail={
            "from": before,
            "to": {"role": role, "organisation": organisation.public_id if organisation else None},
        },
    )
    return user


# Budget holders and representatives --------------------------------------------------------------------


def _check_navigator(navigator: User | None) -> None:
    if navigator is not None and navigator.role != Role.NAVIGATOR:
        raise NotANavigator()


@transaction.atomic
def budget_holder_create(
    *,
    full_name: str,
    preferred_name: str = "",
    email: str = "",
    phone: str = "",
    user: User | None = None,
    navigator: User | None = None,
    created_by: User | None = None,
) -> BudgetHolder:
    """Record a budget holder, with their own sign-in (optional) and navigator (optional).

    Raises NotANavigator when `navigator` is not a navigator.
    """
    _check_navigator(navigator)
    budget_holder = BudgetHolder(
        full_name=full_name,
        preferred_name=preferred_name,
        email=email,
        phone=phone,
        user=user,
        navigator=navigator,
    )
    budget_holder.full_clean()
    budget_holder.save()
    audit_event_record(
        actor=created_by,
        action=AuditAction.BUDGET_HOLDER_CREATED,
        obj=budget_holder,
        detail={
            "user": user.public_id if user else None,
            "navigator": navigator.public_id if navigator else None,
        },
    )
    return budget_holder


@transaction.atomic
def budget_holder_assign_navigator(
    *, budget_holder: BudgetHolder, navigator: User | None, assigned_by: User | None
) -> BudgetHolder:
    """Make `navigator` the budget holder's single point of contact (None: nobody for now).

    Raises NotANavigator when `navigator` is not a navigator.
    """
    _check_navigator(navigator)
    budget_holder = (
        BudgetHolder.objects.select_for_update(of=("self",))
        .select_related("navigator")
        .get(pk=budget_holder.pk)
    )
    before = budget_holder.navigator.public_id if budget_holder.navigator else None
    budget_holder.navigator = navigator
    budget_holder.save(update_fields=["navigator"])
    audit_event_record(
        actor=assigned_by,
        action=AuditAction.NAVIGATOR_ASSIGNED,
        obj=budget_holder,
        detail={"from": before, "to": navigator.public_id if navigator else None},
    )
    return budget_holder


def _check_may_manage_representatives(*, acting: User | None, budget_holder: BudgetHolder) -> None:
    # None is the system or an operator at the command line, who is trusted like a migration.
    if acting is not None and not access.may(acting, "people.manage_representatives", budget_holder):
        raise NotAllowedToGrant()


@transaction.atomic
def representative_grant(
    *, budget_holder: BudgetHolder, user: User, power: str, granted_by: User | None
) -> Representative:
    """Let `user` act for the budget holder with `power` (view, or view and approve).

    Raises NotAllowedToGrant, NotARepresentative, RepresentativeAlreadyActive.
    """
    power = RepresentativePower(power)
    _check_may_manage_representatives(acting=granted_by, budget_holder=budget_holder)
    if user.role != Role.REPRESENTATIVE:
        raise NotARepresentative()
    # Lock the budget holder so two grants for the same pair queue; the partial unique index backs this up.
    BudgetHolder.objects.select_for_update().get(pk=budget_holder.pk)
    if Representative.objects.active().filter(user=user, budget_holder=budget_holder).exists():
        raise RepresentativeAlreadyActive()
    representative = Representative.objects.create(
        user=user, budget_holder=budget_holder, power=power, granted_by=granted_by, granted_at=timezone.now()
    )
    audit_event_record(
        actor=granted_by,
        action=AuditAction.REPRESENTATIVE_GRANTED,
        obj=representative,
        detail={"budget_holder": budget_holder.public_id, "user": user.public_id, "power": power.value},
    )
    return representative


@transaction.atomic
def representative_revoke(*, representative: Representative, revoked_by: User | None) -> Representative:
    """End a representative's grant at once. The row stays, with who revoked it and when.

    Raises NotAllowedToGrant, RepresentativeAlreadyRevoked.
    """
    representative = (
        Representative.objects.select_for_update(of=("self",))
        .select_related("budget_holder", "user")
        .get(pk=representative.pk)
    )
    _check_may_manage_representatives(acting=revoked_by, budget_holder=representative.budget_holder)
    if representative.revoked_at is not None:
        raise RepresentativeAlreadyRevoked()
    representative.revoked_at = timezone.now()
    representative.revoked_by = revoked_by
    representative.save(update_fields=["revoked_at", "revoked_by"])
    audit_event_record(
        actor=revoked_by,
        action=AuditAction.REPRESENTATIVE_REVOKED,
        obj=representative,
        detail={
            "budget_holder": representative.budget_holder.public_id,
            "user": representative.user.public_id,
            "power": representative.power,
        },
    )
    return representative


# Secrets shown once: personal tokens and providers' API keys ------------------------------------------

# A secret reads `<scheme>_<prefix>_<secret>`: the prefix finds the row, the SHA-256 of the whole secret
# proves it. Only the prefix and the hash are stored.
_SECRET_PREFIX_BYTES = 5
_SECRET_BYTES = 32
_SECRET_TAIL = r"_(?P<prefix>[0-9a-f]{10})_[A-Za-z0-9_-]{43}\Z"
_LAST_USED_RESOLUTION = timedelta(minutes=1)


def _secret_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode("ascii")).hexdigest()


def _secret_new(*, scheme: str, model: type[models.Model]) -> tuple[str, str]:
    """A fresh `(prefix, raw)` for `model`, whose prefix no row of `model` has yet."""
    while True:
        prefix = secrets.token_hex(_SECRET_PREFIX_BYTES)
        if not model._default_manager.filter(prefix=prefix).exists():
            break
    return prefix, f"{scheme}_{prefix}_{secrets.token_urlsafe(_SECRET_BYTES)}"


def _secret_matches(*, stored_hash: str, raw: str) -> bool:
    return hmac.compare_digest(stored_hash, _secret_hash(raw))


def _last_used_note(*, row: PersonalToken | ProviderApiKey) -> None:
    """Note that `row` was used now, at most once a minute."""
    now = timezone.now()
    if row.last_used_at is None or now - row.last_used_at >= _LAST_USED_RESOLUTION:
        # One cheap UPDATE, not a save(): many requests may use the same secret at once.
        type(row)._default_manager.filter(pk=row.pk).update(last_used_at=now)


# Personal API tokens -----------------------------------------------------------------------------------

_TOKEN_PATTERN = re.compile(r"\Apat" + _SECRET_TAIL)


@transaction.atomic
def personal_token_issue(*, user: User, name: str, issued_by: User | None) -> tuple[PersonalToken, str]:
    """Issue a personal API token for `user`. Returns the row and the raw token, which is never stored."""
    prefix, raw = _secret_new(scheme="pat", model=PersonalToken)
    token = PersonalToken.objects.create(
        user=user, name=name.strip(), prefix=prefix, token_hash=_secret_hash(raw), issued_by=issued_by
    )
    audit_event_record(
        actor=issued_by,
        action=AuditAction.TOKEN_ISSUED,
        obj=token,
        detail={"user": user.public_id, "name": token.name, "prefix": prefix},
    )
    return token, raw


@transaction.atomic
def personal_token_revoke(*, token: PersonalToken, revoked_by: User | None) -> PersonalToken:
    """Revoke a token at once: from now on it is refused.

    Raises PersonalTokenAlreadyRevoked.
    """
    token = PersonalToken.objects.select_for_update(of=("self",)).select_related("user").get(pk=token.pk)
    if token.revoked_at is not None:
        raise PersonalTokenAlreadyRevoked()
    token.revoked_at = timezone.now()
    token.revoked_by = revoked_by
    token.save(update_fields=["revoked_at", "revoked_by"])
    audit_event_record(
        actor=revoked_by,
        action=AuditAction.TOKEN_REVOKED,
        obj=token,
        detail={"user": token.user.public_id, "name": token.name, "prefix": token.prefix},
    )
    return token


def personal_token_authenticate(*, raw: str) -> User | None:
    """The active user whose live token `raw` is, or None. Notes when it was used, at most once a minute."""
    match = _TOKEN_PATTERN.match(raw or "")
    if match is None:
        return None
    token = (
        PersonalToken.objects.select_related("user")
        .filter(prefix=match["prefix"], revoked_at__isnull=True)
        .first()
    )
    if token is None:
        return None
    if not _secret_matches(stored_hash=token.token_hash, raw=raw):
        return None
    if not token.user.is_active:
        return None
    _last_used_note(row=token)
    return token.user


# Providers' API keys ------------------------------------------------------------------------------------

_PROVIDER_KEY_SCHEME = "pk_live"
_PROVIDER_KEY_PATTERN = re.compile(r"\Apk_live" + _SECRET_TAIL)


def provider_service_username(*, provider: Organisation) -> str:
    """The username of the provider's service account, whom its API keys act as."""
    return f"{provider.slug}-api"


def _provider_service_user(*, provider: Organisation, issued_by: User | None) -> User:
    # The account the provider's earlier keys use; else a new provider user with no usable password.
    existing = (
        ProviderApiKey.objects.filter(provider=provider).select_related("service_user").order_by("pk").first()
    )
    if existing is not None:
        return existing.service_user
    username = provider_service_username(provider=provider)
    if User.objects.filter(username=username).exists():
        raise ProviderServiceUsernameTaken()
    return user_create(
        username=username,
        password=None,
        role=Role.PROVIDER_USER,
        first_name=provider.name[:120],
        last_name="(API)",
        organisation=provider,
        created_by=issued_by,
    )


@transaction.atomic
def provider_api_key_issue(
    *, provider: Organisation, name: str, issued_by: User | None
) -> tuple[ProviderApiKey, str]:
    """Issue an API key for `provider`'s systems. Returns the row and the raw key, which is never stored.

    The key acts as the provider's service account, made with its first key.
    Raises NotAProvider, ProviderServiceUsernameTaken.
    """
    if not provider.is_provider:
        raise NotAProvider()
    # Lock the provider so that two first keys issued at once make one service account between them.
    Organisation.objects.select_for_update().get(pk=provider.pk)
    service_user = _provider_service_user(provider=provider, issued_by=issued_by)
    prefix, raw = _secret_new(scheme=_PROVIDER_KEY_SCHEME, model=ProviderApiKey)
    key = ProviderApiKey.objects.create(
        provider=provider,
        service_user=service_user,
        name=name.strip(),
        prefix=prefix,
        key_hash=_secret_hash(raw),
        created_by=issued_by,
    )
    audit_event_record(
        actor=issued_by,
        action=AuditAction.PROVIDER_API_KEY_ISSUED,
        obj=key,
        detail={"provider": provider.public_id, "name": key.name, "prefix": prefix},
    )
    return key, raw


@transaction.atomic
def provider_api_key_revoke(*, key: ProviderApiKey, revoked_by: User | None) -> ProviderApiKey:
    """Revoke a provider's API key at once: from now on it is refused.

    Raises ProviderApiKeyAlreadyRevoked.
    """
    key = ProviderApiKey.objects.select_for_update(of=("self",)).select_related("provider").get(pk=key.pk)
    if key.revoked_at is not None:
        raise ProviderApiKeyAlreadyRevoked()
    key.revoked_at = timezone.now()
    key.revoked_by = revoked_by
    key.save(update_fields=["revoked_at", "revoked_by"])
    audit_event_record(
        actor=revoked_by,
        action=AuditAction.PROVIDER_API_KEY_REVOKED,
        obj=key,
        detail={"provider": key.provider.public_id, "name": key.name, "prefix": key.prefix},
    )
    return key


def provider_api_key_authenticate(*, raw: str) -> tuple[User, ProviderApiKey] | None:
    """The service account and live key that `raw` is, or None. Notes when it was used, at most once a minute.

    Refused when revoked, and when the service account is deactivated or no longer a user of the provider.
    """
    match = _PROVIDER_KEY_PATTERN.match(raw or "")
    if match is None:
        return None
    key = (
        ProviderApiKey.objects.select_related("service_user__organisation", "provider")
        .filter(prefix=match["prefix"], revoked_at__isnull=True)
        .first()
    )
    if key is None or not _secret_matches(stored_hash=key.key_hash, raw=raw):
        return None
    user = key.service_user
    if not user.is_active or user.role != Role.PROVIDER_USER or user.organisation_id != key.provider_id:
        return None
    _last_used_note(row=key)
    return user, key


# Second factor (django-otp) ----------------------------------------------------------------------------

TOTP_DEVICE_NAME = "Authenticator app"
BACKUP_DEVICE_NAME = "Backup codes"
BACKUP_CODE_COUNT = 10
_TOTP_CODE = re.compile(r"\A[0-9]{6}\Z")


def _normalise_code(code: str) -> str:
    # People type codes with spaces or dashes ("123 456", "abcd-efgh"); backup codes are lower case.
    return re.sub(r"[\s-]", "", code or "").lower()


def _throttle_error(device: Device) -> SecondFactorThrottled | None:
    allowed, info = device.verify_is_allowed()
    if allowed:
        return None
    if info and info.get("reason") == VerifyNotAllowed.N_FAILED_ATTEMPTS:
        wait = math.ceil((info["locked_until"] - timezone.now()).total_seconds())
        return SecondFactorThrottled(wait_seconds=max(wait, 1), failures=info["failure_count"])
    return SecondFactorThrottled(wait_seconds=1, failures=0)


@transaction.atomic
def totp_device_start(*, user: User) -> TOTPDevice:
    """The authenticator app `user` is setting up: an unconfirmed TOTP device, made once and reused.

    Raises SecondFactorAlreadySetUp when a confirmed one exists (changing it needs another way in).
    """
    User.objects.select_for_update().get(pk=user.pk)
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        raise SecondFactorAlreadySetUp()
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    return device


def _backup_codes_replace(*, user: User) -> list[str]:
    device, _ = StaticDevice.objects.get_or_create(
        user=user, name=BACKUP_DEVICE_NAME, defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def totp_device_confirm(*, user: User, code: str) -> tuple[TOTPDevice, list[str]]:
    """Confirm the authenticator app being set up with a code from it; returns it and fresh backup codes.

    Raises SecondFactorAlreadySetUp, SecondFactorNotSetUp, SecondFactorThrottled, SecondFactorCodeWrong.
    """
    code = _normalise_code(code)
    error: DomainError | None = None
    codes: list[str] = []
    with transaction.atomic():
        User.objects.select_for_update().get(pk=user.pk)
        if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
            raise SecondFactorAlreadySetUp()
        device = (
            TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).order_by("pk").first()
        )
        if device is None:
            raise SecondFactorNotSetUp()
        error = _throttle_error(device)
        if error is None:
            if _TOTP_CODE.match(code) and device.verify_token(code):
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                TOTPDevice.objects.filter(user=user, confirmed=False).delete()
                codes = _backup_codes_replace(user=user)
                audit_event_record(actor=user, action=AuditAction.SECOND_FACTOR_ENROLLED, obj=user)
                audit_event_record(
                    actor=user, action=AuditAction.BACKUP_CODES_ISSUED, obj=user, detail={"count": len(codes)}
                )
            else:
                if not _TOTP_CODE.match(code):
                    # Not even the shape of a code: count it as a wrong attempt all the same.
                    device.throttle_increment()
                error = SecondFactorCodeWrong()
    # Raised after the transaction commits, so that django-otp's count of failed attempts is kept.
    if error is not None:
        raise error
    return device, codes


def second_factor_verify(*, user: User, code: str) -> Device:
    """Check a 6-digit code from the user's authenticator app, or one of their backup codes (used once).

    Returns the device that accepted it (for `django_otp.login`). Six digits are tried against the
    authenticator app only and anything else against the backup codes only, so that a mistyped code never
    counts against the device it was not meant for.
    Raises SecondFactorNotSetUp, SecondFactorThrottled, SecondFactorCodeWrong.
    """
    code = _normalise_code(code)
    totp = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()
    if totp is None:
        raise SecondFactorNotSetUp()
    is_totp_code = bool(_TOTP_CODE.match(code))
    device: Device | None = (
        totp if is_totp_code else StaticDevice.objects.filter(user=user, confirmed=True).first()
    )
    wrong = SecondFactorCodeWrong(
        None if is_totp_code else "That backup code is not right, or it has been used already."
    )
    error: DomainError | None = None
    verified: Device | None = None
    with transaction.atomic():
        if device is None:
            error = wrong
        else:
            device = type(device).objects.select_for_update().get(pk=device.pk)
            error = _throttle_error(device)
            if error is None:
                verified = otp_verify_token(user, device.persistent_id, code) if code else None
                if verified is None:
                    if not code:
                        device.throttle_increment()
                    error = wrong
                    audit_event_record(
                        actor=user,
                        action=AuditAction.SECOND_FACTOR_FAILED,
                        obj=user,
                        detail={"method": "totp" if is_totp_code else "backup_code"},
                    )
                elif is_totp_code:
                    audit_event_record(actor=user, action=AuditAction.SECOND_FACTOR_VERIFIED, obj=user)
                else:
                    remaining = StaticToken.objects.filter(device=verified).count()
                    audit_event_record(
                        actor=user,
                        action=AuditAction.BACKUP_CODE_USED,
                        obj=user,
                        detail={"remaining": remaining},
                    )
    if error is not None:
        raise error
    assert verified is not None
    return verified


@transaction.atomic
def backup_codes_regenerate(*, user: User) -> list[str]:
    """Replace the user's backup codes with a fresh set (the old ones stop working). Returns the new codes."""
    User.objects.select_for_update().get(pk=user.pk)
    codes = _backup_codes_replace(user=user)
    audit_event_record(
        actor=user, action=AuditAction.BACKUP_CODES_ISSUED, obj=user, detail={"count": len(codes)}
    )
    return codes


# Providers' contact and payout details ----------------------------------------------------------------


class ProviderDetailsInvalid(DomainErrors):
    """The details break a rule; `errors` lists every problem as {code, pointer, detail}."""

    code = "provider_details_invalid"
    message = "These provider details cannot be saved."
    summary = "These details cannot be saved"


@transaction.atomic
def provider_details_set(
    *,
    provider: Organisation,
    by: User | None,
    provider_kind: str = ProviderKind.ORGANISATION,
    contact_name: str = "",
    address: str = "",
    postcode: str = "",
    payout_method: str = PayoutMethod.NONE,
    bank_account_name: str = "",
    sort_code: str = "",
    account_number: str = "",
    stripe_account_id: str = "",
) -> ProviderDetails:
    """Set a provider's contact and payout details (all of them, replacing what was there, except a Stripe
    connected account, which is kept while the provider is paid another way).

    A UK sort code is 6 digits and an account number 8 (spaces and dashes are dropped); a Stripe connected
    account id starts `acct_`. Raises NotAProvider and ProviderDetailsInvalid (every problem at once).
    """
    if not provider.is_provider:
        raise NotAProvider()
    errors: list[dict[str, str]] = []

    def problem(code: str, field: str, detail: str) -> None:
        errors.append({"code": code, "pointer": f"/{field}", "detail": detail})

    if provider_kind not in ProviderKind.values:
        problem("invalid_choice", "provider_kind", f"Choose one of {', '.join(ProviderKind.values)}.")
    if payout_method not in PayoutMethod.values:
        problem("invalid_choice", "payout_method", f"Choose one of {', '.join(PayoutMethod.values)}.")
    sort_code = re.sub(r"[\s-]", "", sort_code or "")
    account_number = re.sub(r"[\s-]", "", account_number or "")
    if payout_method == PayoutMethod.BANK:
        if not bank_account_name.strip():
            problem("required", "bank_account_name", "Give the name on the bank account.")
        if not re.fullmatch(r"[0-9]{6}", sort_code):
            problem("invalid_sort_code", "sort_code", "A sort code is 6 digits, like 20-00-00.")
        if not re.fullmatch(r"[0-9]{8}", account_number):
            problem("invalid_account_number", "account_number", "An account number is 8 digits.")
    if payout_method == PayoutMethod.STRIPE and not re.fullmatch(
        r"acct_[A-Za-z0-9]{1,59}", stripe_account_id
    ):
        problem("invalid_stripe_account", "stripe_account_id", "A Stripe connected account id starts acct_.")
    if errors:
        raise ProviderDetailsInvalid(errors)
    keep_bank = payout_method == PayoutMethod.BANK
    existing = ProviderDetails.objects.filter(provider=provider).first()
    if payout_method != PayoutMethod.STRIPE:
        # A connected account Purse made for the provider stays theirs while they are paid another way
        # (onboarding may still be under way): it is not a secret, and Stripe would not make it again.
        stripe_account_id = existing.stripe_account_id if existing is not None else ""
    values = {
        "provider_kind": provider_kind,
        "contact_name": contact_name.strip(),
        "address": address.strip(),
        "postcode": postcode.strip().upper(),
        "payout_method": payout_method,
        "bank_account_name": bank_account_name.strip() if keep_bank else "",
        "sort_code": sort_code if keep_bank else "",
        "account_number": account_number if keep_bank else "",
        "stripe_account_id": stripe_account_id,
        "updated_at": timezone.now(),
    }
    details, created = ProviderDetails.objects.update_or_create(provider=provider, defaults=values)
    audit_event_record(
        actor=by,
        action="provider_details.set",
        obj=provider,
        # Never the account number itself in the audit trail: its last two digits are enough to tell.
        detail={
            "provider_kind": provider_kind,
            "payout_method": payout_method,
            "account_ending": account_number[-2:] if keep_bank else "",
            "created": created,
        },
    )
    return details


def provider_stripe_account_record(
    *, provider: Organisation, account_id: str, by: User | None
) -> ProviderDetails:
    """Keep the Stripe connected account Purse made for a provider, without changing how it is paid now
    (it is paid through Stripe only once Stripe says the account can take transfers)."""
    if not provider.is_provider:
        raise NotAProvider()
    if not re.fullmatch(r"acct_[A-Za-z0-9]{1,59}", account_id):
        raise ProviderDetailsInvalid(
            [
                {
                    "code": "invalid_stripe_account",
                    "pointer": "/stripe_account_id",
                    "detail": "A Stripe connected account id starts acct_.",
                }
            ]
        )
    details, _ = ProviderDetails.objects.get_or_create(provider=provider)
    details.stripe_account_id = account_id
    details.updated_at = timezone.now()
    details.save(update_fields=["stripe_account_id", "updated_at"])
    audit_event_record(
        actor=by, action="provider_details.stripe_account", obj=provider, detail={"account": account_id}
    )
    return details
