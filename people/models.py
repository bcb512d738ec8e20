"""Users and their roles, organisations (agencies and providers), budget holders, representatives' grants,
personal API tokens, providers' API keys and the append-only audit trail of changes to any of them.

Rules that need other rows (an agency officer's organisation must be an agency, a budget holder's navigator
must be a navigator, one active grant per representative and budget holder) are checked by the services in
`people.services`; what a single row or the database can hold is enforced here with constraints.
"""

import secrets
import string

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

_ID_ALPHABET = string.ascii_lowercase + string.digits


def new_public_id(prefix: str) -> str:
    """A prefixed opaque identifier (`per_k3j...`): 16 random characters, about 82 bits."""
    return f"{prefix}_" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(16))


# Module-level callables, so that migrations can refer to them as field defaults.
def new_user_id() -> str:
    return new_public_id("usr")


def new_budget_holder_id() -> str:
    return new_public_id("per")


def new_representative_id() -> str:
    return new_public_id("rep")


def new_personal_token_id() -> str:
    return new_public_id("tok")


def new_provider_api_key_id() -> str:
    return new_public_id("key")


def new_audit_event_id() -> str:
    return new_public_id("aud")


class Role(models.TextChoices):
    BUDGET_HOLDER = "budget_holder", "Budget holder"
    REPRESENTATIVE = "representative", "Representative"
    NAVIGATOR = "navigator", "Navigator"
    AGENCY_OFFICER = "agency_officer", "Agency officer"
    PROVIDER_USER = "provider_user", "Care provider"
    FINANCE_OFFICER = "finance_officer", "Finance officer"
    ADMINISTRATOR = "administrator", "Administrator"


# Staff roles see other people's records, so they must sign in with a second factor.
STAFF_ROLES = frozenset({Role.NAVIGATOR, Role.AGENCY_OFFICER, Role.FINANCE_OFFICER, Role.ADMINISTRATOR})
# Roles that belong to an organisation, and the kind of organisation each belongs to.
ORGANISATION_ROLES = {Role.AGENCY_OFFICER: "agency", Role.PROVIDER_USER: "provider"}


class OrganisationKind(models.TextChoices):
    AGENCY = "agency", "Funding agency"
    PROVIDER = "provider", "Care provider"


ORGANISATION_ID_PREFIXES = {OrganisationKind.AGENCY: "agy", OrganisationKind.PROVIDER: "pro"}


class Organisation(models.Model):
    """A funding agency (a council team, a Jobcentre) or a care provider (an agency, a PA, a supplier)."""

    public_id = models.CharField(max_length=24, unique=True, editable=False)
    kind = models.CharField(max_length=16, choices=OrganisationKind.choices)
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True, help_text="Short name used on the command line.")
    contact_email = models.EmailField(blank=True)
    contact_phone = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="organisation_kind_valid",
                condition=Q(kind__in=OrganisationKind.values),
            ),
            # The public id says what kind of organisation it is (api.md: agy_..., pro_...).
            models.CheckConstraint(
                name="organisation_public_id_matches_kind",
                condition=Q(kind=OrganisationKind.AGENCY, public_id__startswith="agy_")
                | Q(kind=OrganisationKind.PROVIDER, public_id__startswith="pro_"),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_agency(self) -> bool:
        return self.kind == OrganisationKind.AGENCY

    @property
    def is_provider(self) -> bool:
        return self.kind == OrganisationKind.PROVIDER


class ProviderKind(models.TextChoices):
    ORGANISATION = "organisation", "An organisation (a care agency or supplier)"
    PERSONAL_ASSISTANT = "personal_assistant", "An individual personal assistant"


class PayoutMethod(models.TextChoices):
    NONE = "none", "Not set up yet"
    BANK = "bank", "Bank transfer (Bacs)"
    STRIPE = "stripe", "Stripe Connect"


class ProviderDetails(models.Model):
    """A provider's contact and payout details: who they are, where they are, how they are paid.

    Checked by `people.services.provider_details_set`; the database holds the shape of each method.
    """

    provider = models.OneToOneField(Organisation, on_delete=models.PROTECT, related_name="provider_details")
    provider_kind = models.CharField(
        max_length=24, choices=ProviderKind.choices, default=ProviderKind.ORGANISATION
    )
    contact_name = models.CharField(max_length=200, blank=True)
    address = models.TextField(blank=True)
    postcode = models.CharField(max_length=10, blank=True)
    payout_method = models.CharField(max_length=16, choices=PayoutMethod.choices, default=PayoutMethod.NONE)
    bank_account_name = models.CharField(max_length=140, blank=True)
    sort_code = models.CharField(max_length=6, blank=True, help_text="6 digits.")
    account_number = models.CharField(max_length=8, blank=True, help_text="8 digits.")
    stripe_account_id = models.CharField(max_length=64, blank=True, help_text="acct_...")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "provider details"
        constraints = [
            models.CheckConstraint(
                name="provider_details_kind_valid", condition=Q(provider_kind__in=ProviderKind.values)
            ),
            models.CheckConstraint(
                name="provider_details_payout_complete",
                condition=Q(payout_method=PayoutMethod.NONE)
                | Q(
                    payout_method=PayoutMethod.BANK,
                    sort_code__regex=r"^[0-9]{6}$",
                    account_number__regex=r"^[0-9]{8}$",
                )
                & ~Q(bank_account_name="")
                | Q(payout_method=PayoutMethod.STRIPE, stripe_account_id__startswith="acct_"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider}: {self.get_payout_method_display()}"


class PurseUserManager(UserManager):
    """Django's user manager; a superuser made by `createsuperuser` is an administrator."""

    def create_superuser(self, username, email=None, password=None, **extra_fields):
        extra_fields.setdefault("role", Role.ADMINISTRATOR)
        return super().create_superuser(username, email, password, **extra_fields)


class User(AbstractUser):
    """Anyone who signs in: a budget holder, a representative, or a member of staff or of a provider."""

    public_id = models.CharField(max_length=24, unique=True, default=new_user_id, editable=False)
    role = models.CharField(max_length=32, choices=Role.choices, default=Role.BUDGET_HOLDER)
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
        help_text="Agency officers belong to an agency, provider users to a provider; nobody else to either.",
    )
    phone = models.CharField(
        max_length=40, blank=True, help_text="A work telephone number: shown to a navigator's budget holders."
    )

    objects = PurseUserManager()

    class Meta:
        constraints = [
            models.CheckConstraint(name="user_role_valid", condition=Q(role__in=Role.values)),
            models.CheckConstraint(
                name="user_organisation_only_for_organisation_roles",
                condition=Q(role__in=list(ORGANISATION_ROLES), organisation__isnull=False)
                | (~Q(role__in=list(ORGANISATION_ROLES)) & Q(organisation__isnull=True)),
            ),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    def clean(self) -> None:
        super().clean()
        expected_kind = ORGANISATION_ROLES.get(self.role)
        if expected_kind is None:
            if self.organisation_id is not None:
                raise ValidationError(
                    {"organisation": "Only agency officers and provider users belong to one."}
                )
            return
        if self.organisation_id is None:
            raise ValidationError({"organisation": f"Choose the {expected_kind} this person works for."})
        if self.organisation.kind != expected_kind:
            raise ValidationError({"organisation": f"Choose an organisation that is a {expected_kind}."})

    @property
    def is_staff_role(self) -> bool:
        """Whether the role sees other people's records (navigator, agency officer, finance, admin)."""
        return self.role in STAFF_ROLES

    @property
    def needs_second_factor(self) -> bool:
        """Whether signing in takes a second factor: every staff role, and anyone let into Django admin."""
        return self.is_staff_role or self.is_staff or self.is_superuser

    @property
    def display_name(self) -> str:
        return self.first_name or self.get_full_name() or self.username


class BudgetHolder(models.Model):
    """The disabled person whose budget it is. They may or may not sign in themselves."""

    public_id = models.CharField(max_length=24, unique=True, default=new_budget_holder_id, editable=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="budget_holder",
        help_text="Their own sign-in, if they have one.",
    )
    full_name = models.CharField(max_length=200)
    preferred_name = models.CharField(max_length=100, blank=True, help_text="What they like to be called.")
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    navigator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="caseload",
        limit_choices_to={"role": Role.NAVIGATOR},
        help_text="Their single point of contact across all agencies.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        indexes = [models.Index(fields=["navigator", "full_name"], name="budget_holder_caseload")]

    def __str__(self) -> str:
        return self.full_name

    @property
    def name_to_use(self) -> str:
        return self.preferred_name or self.full_name


class RepresentativePower(models.TextChoices):
    VIEW = "view", "View only"
    APPROVE = "approve", "View and approve"


class RepresentativeQuerySet(models.QuerySet):
    def active(self) -> "RepresentativeQuerySet":
        return self.filter(revoked_at__isnull=True)


class Representative(models.Model):
    """A grant letting a user see (and perhaps approve) for a budget holder. Revoked, never deleted."""

    public_id = models.CharField(max_length=24, unique=True, default=new_representative_id, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="representations"
    )
    budget_holder = models.ForeignKey(BudgetHolder, on_delete=models.PROTECT, related_name="representatives")
    power = models.CharField(max_length=16, choices=RepresentativePower.choices)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    granted_at = models.DateTimeField(default=timezone.now)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = RepresentativeQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "budget_holder"],
                condition=Q(revoked_at__isnull=True),
                name="representative_one_active_grant_per_pair",
            ),
            models.CheckConstraint(
                name="representative_power_valid", condition=Q(power__in=RepresentativePower.values)
            ),
            models.CheckConstraint(
                name="representative_revoked_after_granted",
                condition=Q(revoked_at__isnull=True) | Q(revoked_at__gte=models.F("granted_at")),
            ),
            models.CheckConstraint(
                name="representative_revoker_only_when_revoked",
                condition=Q(revoked_at__isnull=False) | Q(revoked_by__isnull=True),
            ),
        ]
        indexes = [models.Index(fields=["user", "revoked_at"], name="representative_by_user")]

    def __str__(self) -> str:
        return f"{self.user} for {self.budget_holder} ({self.get_power_display()})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def may_approve(self) -> bool:
        return self.is_active and self.power == RepresentativePower.APPROVE


class PersonalTokenQuerySet(models.QuerySet):
    def active(self) -> "PersonalTokenQuerySet":
        return self.filter(revoked_at__isnull=True)


class PersonalToken(models.Model):
    """A user's own API token. Only the SHA-256 of the token is kept; the token is shown once, at issue."""

    public_id = models.CharField(max_length=24, unique=True, default=new_personal_token_id, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="personal_tokens"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(
        max_length=16, unique=True, help_text="Public part of the token, to look it up."
    )
    token_hash = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the whole token, in hex.")
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = PersonalTokenQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="personal_token_revoker_only_when_revoked",
                condition=Q(revoked_at__isnull=False) | Q(revoked_by__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ProviderApiKeyQuerySet(models.QuerySet):
    def active(self) -> "ProviderApiKeyQuerySet":
        return self.filter(revoked_at__isnull=True)


class ProviderApiKey(models.Model):
    """A provider's API key for its own systems. Only the SHA-256 of the key is kept; it is shown once.

    A key signs in as the provider's service account (`service_user`: a provider user of that provider with
    no usable password, made with the first key), so every rule for provider users applies to it unchanged.
    """

    public_id = models.CharField(max_length=24, unique=True, default=new_provider_api_key_id, editable=False)
    provider = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="api_keys",
        limit_choices_to={"kind": OrganisationKind.PROVIDER},
    )
    service_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="provider_api_keys",
        help_text="The provider's service account: whom a request with this key acts as.",
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True, help_text="Public part of the key, to look it up.")
    key_hash = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the whole key, in hex.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = ProviderApiKeyQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="provider_api_key_revoker_only_when_revoked",
                condition=Q(revoked_at__isnull=False) | Q(revoked_by__isnull=True),
            ),
            models.CheckConstraint(
                name="provider_api_key_revoked_after_created",
                condition=Q(revoked_at__isnull=True) | Q(revoked_at__gte=models.F("created_at")),
            ),
        ]
        indexes = [models.Index(fields=["provider", "created_at"], name="provider_api_key_by_provider")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class AuditAction(models.TextChoices):
    """The audit actions people's services write. Other apps write their own action strings."""

    USER_CREATED = "user.created", "User created"
    USER_ROLE_CHANGED = "user.role_changed", "Role changed"
    ORGANISATION_CREATED = "organisation.created", "Organisation created"
    BUDGET_HOLDER_CREATED = "budget_holder.created", "Budget holder created"
    NAVIGATOR_ASSIGNED = "budget_holder.navigator_assigned", "Navigator assigned"
    REPRESENTATIVE_GRANTED = "representative.granted", "Representative granted"
    REPRESENTATIVE_REVOKED = "representative.revoked", "Representative revoked"
    TOKEN_ISSUED = "personal_token.issued", "Personal token issued"
    TOKEN_REVOKED = "personal_token.revoked", "Personal token revoked"
    PROVIDER_API_KEY_ISSUED = "provider_api_key.issued", "Provider API key issued"
    PROVIDER_API_KEY_REVOKED = "provider_api_key.revoked", "Provider API key revoked"
    SECOND_FACTOR_ENROLLED = "second_factor.enrolled", "Authenticator app set up"
    SECOND_FACTOR_VERIFIED = "second_factor.verified", "Second factor passed"
    SECOND_FACTOR_FAILED = "second_factor.failed", "Wrong second-factor code"
    BACKUP_CODE_USED = "second_factor.backup_code_used", "Backup code used"
    BACKUP_CODES_ISSUED = "second_factor.backup_codes_issued", "Backup codes issued"


class AuditEvent(models.Model):
    """Who did what to which record, and when. Append-only: written by services, never changed."""

    public_id = models.CharField(max_length=24, unique=True, default=new_audit_event_id, editable=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty when the system or a command-line operator acted.",
    )
    action = models.CharField(max_length=100)
    object_type = models.CharField(max_length=100, help_text="app_label.model of the record acted on.")
    object_id = models.CharField(max_length=40, help_text="Public id of the record acted on.")
    at = models.DateTimeField(default=timezone.now, editable=False)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["object_type", "object_id", "at"], name="audit_event_object"),
            models.Index(fields=["actor", "at"], name="audit_event_actor"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_id}"
