"""The demo world's people (api.md, "Demo data"): sign-ins, agencies and providers. Demo only.

Every demo sign-in has the password `purse-demo`. Staff must pass a second factor, so each staff demo user
(navigator, officer-asc, officer-atw, finance, admin here; the other agencies' officers from `plans.demo`)
gets an authenticator app already set up with one fixed, public demo secret:

    base32 OB2XE43FFVSGK3LPFV2G65DQFVVWK6JB   (hex 70757273652d64656d6f2d746f74702d6b657921,
                                               the 20 bytes of "purse-demo-totp-key!")

Add it to any authenticator app, or run `python manage.py demo_code <username>` (DEBUG only) to print the
code of the moment. Because the secret is public, the demo must never hold real people's data.

`seed_people()` is idempotent: what exists is left as it is, and only what is missing is created.
"""

import base64
import binascii
from dataclasses import dataclass

from django.db import transaction
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from people import services
from people.models import (
    AuditAction,
    BudgetHolder,
    Organisation,
    OrganisationKind,
    ProviderDetails,
    Representative,
    RepresentativePower,
    Role,
    User,
)

DEMO_PASSWORD = "purse-demo"
DEMO_TOTP_KEY_HEX = b"purse-demo-totp-key!".hex()
DEMO_TOTP_SECRET_BASE32 = base64.b32encode(binascii.unhexlify(DEMO_TOTP_KEY_HEX)).decode("ascii")
DEMO_TOTP_DEVICE_NAME = "Demo authenticator"


@dataclass(frozen=True)
class DemoOrganisation:
    slug: str
    kind: str
    name: str
    contact_email: str
    contact_phone: str


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str
    first_name: str
    last_name: str
    organisation_slug: str | None = None
    is_django_admin: bool = False
    phone: str = ""


ORGANISATIONS = [
    DemoOrganisation(
        "northshire-asc",
        OrganisationKind.AGENCY,
        "Adult Social Care - Northshire County Council",
        "adult.social.care@northshire.example.org",
        "01632 960 100",
    ),
    DemoOrganisation(
        "jobcentre-atw",
        OrganisationKind.AGENCY,
        "Access to Work - Jobcentre Plus",
        "access.to.work@jobcentre.example.org",
        "01632 960 200",
    ),
    DemoOrganisation(
        "bright-care",
        OrganisationKind.PROVIDER,
        "Bright Care",
        "invoices@bright-care.example.org",
        "01632 960 301",
    ),
    DemoOrganisation(
        "able-assist",
        OrganisationKind.PROVIDER,
        "Able Assist",
        "accounts@able-assist.example.org",
        "01632 960 302",
    ),
    DemoOrganisation(
        "dales-adaptations",
        OrganisationKind.PROVIDER,
        "Dales Adaptations",
        "office@dales-adaptations.example.org",
        "01632 960 303",
    ),
]

# Providers' contact and payout details (demo bank details from the reserved test ranges; Bright Care is paid
# through a Stripe connected account, the others by bank transfer).
PROVIDER_DETAILS = {
    "bright-care": {
        "provider_kind": "organisation",
        "contact_name": "Bola Adeyemi, office manager",
        "address": "4 Mill Lane, Northshire",
        "postcode": "NS1 4ML",
        "payout_method": "stripe",
        "stripe_account_id": "acct_1DemoBrightCare",
    },
    "able-assist": {
        "provider_kind": "organisation",
        "contact_name": "Amy Lind, accounts",
        "address": "Unit 2, Station Yard, Northshire",
        "postcode": "NS2 7SY",
        "payout_method": "bank",
        "bank_account_name": "ABLE ASSIST LTD",
        "sort_code": "20-00-00",
        "account_number": "55779911",
    },
    "dales-adaptations": {
        "provider_kind": "organisation",
        "contact_name": "Dev Patel",
        "address": "The Old Forge, Dalesford",
        "postcode": "DF3 9OF",
        "payout_method": "bank",
        "bank_account_name": "DALES ADAPTATIONS",
        "sort_code": "40-11-62",
        "account_number": "31926819",
    },
}

USERS = [
    DemoUser("holder", Role.BUDGET_HOLDER, "Alex", "Morgan"),
    DemoUser("rep", Role.REPRESENTATIVE, "Jordan", "Morgan"),
    DemoUser("holder2", Role.BUDGET_HOLDER, "Sam", "Okafor"),
    DemoUser("navigator", Role.NAVIGATOR, "Priya", "Shah", phone="01632 960 123"),
    DemoUser("officer-asc", Role.AGENCY_OFFICER, "Chris", "Walker", organisation_slug="northshire-asc"),
    DemoUser("officer-atw", Role.AGENCY_OFFICER, "Dee", "Harris", organisation_slug="jobcentre-atw"),
    DemoUser("finance", Role.FINANCE_OFFICER, "Morgan", "Ellis"),
    DemoUser("admin", Role.ADMINISTRATOR, "Ade", "Min", is_django_admin=True),
]

# (username of their own sign-in, full name, preferred name)
BUDGET_HOLDERS = [
    ("holder", "Alex Morgan", "Alex"),
    ("holder2", "Sam Okafor", "Sam"),
]


def _organisation(spec: DemoOrganisation) -> Organisation:
    existing = Organisation.objects.filter(slug=spec.slug).first()
    if existing is not None:
        return existing
    return services.organisation_create(
        kind=spec.kind,
        name=spec.name,
        slug=spec.slug,
        contact_email=spec.contact_email,
        contact_phone=spec.contact_phone,
    )


def _user(spec: DemoUser) -> User:
    existing = User.objects.filter(username=spec.username).first()
    if existing is not None:
        return existing
    organisation = Organisation.objects.get(slug=spec.organisation_slug) if spec.organisation_slug else None
    return services.user_create(
        username=spec.username,
        password=DEMO_PASSWORD,
        role=spec.role,
        first_name=spec.first_name,
        last_name=spec.last_name,
        email=f"{spec.username}@purse-demo.example.org",
        phone=spec.phone,
        organisation=organisation,
        is_django_admin=spec.is_django_admin,
    )


def _demo_totp_device(user: User) -> None:
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        return
    TOTPDevice.objects.create(user=user, name=DEMO_TOTP_DEVICE_NAME, key=DEMO_TOTP_KEY_HEX, confirmed=True)
    services.audit_event_record(
        actor=None, action=AuditAction.SECOND_FACTOR_ENROLLED, obj=user, detail={"demo_secret": True}
    )


@transaction.atomic
def seed_users(specs: list[DemoUser]) -> dict[str, User]:
    """Create demo sign-ins whose organisations exist, if missing; staff get the demo authenticator.

    For sign-ins of organisations that other apps' demo data makes (the agency officers of `plans.demo`)."""
    users = {spec.username: _user(spec) for spec in specs}
    for user in users.values():
        if user.needs_second_factor:
            _demo_totp_device(user)
    return users


@transaction.atomic
def seed_people() -> dict[str, User]:
    """Create the demo organisations, sign-ins, budget holders and representative, if missing."""
    for spec in ORGANISATIONS:
        organisation = _organisation(spec)
        details = PROVIDER_DETAILS.get(spec.slug)
        if details is not None and not ProviderDetails.objects.filter(provider=organisation).exists():
            services.provider_details_set(provider=organisation, by=None, **details)
    users = seed_users(USERS)

    holders: dict[str, BudgetHolder] = {}
    for username, full_name, preferred_name in BUDGET_HOLDERS:
        user = users[username]
        holder = BudgetHolder.objects.filter(user=user).first()
        if holder is None:
            holder = services.budget_holder_create(
                full_name=full_name,
                preferred_name=preferred_name,
                email=user.email,
                phone="07700 900 123" if username == "holder" else "07700 900 456",
                user=user,
                navigator=users["navigator"],
            )
        holders[username] = holder

    if (
        not Representative.objects.active()
        .filter(user=users["rep"], budget_holder=holders["holder"])
        .exists()
    ):
        services.representative_grant(
            budget_holder=holders["holder"],
            user=users["rep"],
            power=RepresentativePower.APPROVE,
            granted_by=users["holder"],
        )
    return users


class NotADemoUser(Exception):
    """The user has no authenticator set up with the public demo secret."""


def demo_code(*, username: str) -> str:
    """The 6-digit code a demo staff user's authenticator shows right now.

    Raises NotADemoUser unless the user's authenticator uses the public demo secret, so that this can never
    reveal a real person's codes.
    """
    device = (
        TOTPDevice.objects.filter(user__username=username, confirmed=True, key=DEMO_TOTP_KEY_HEX)
        .order_by("pk")
        .first()
    )
    if device is None:
        raise NotADemoUser(username)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"
