"""factory_boy factories for people's models. Users get a fast test password, `TEST_PASSWORD`."""

from datetime import timedelta

import factory
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from people.models import (
    ORGANISATION_ID_PREFIXES,
    BudgetHolder,
    Organisation,
    OrganisationKind,
    PersonalToken,
    Representative,
    RepresentativePower,
    Role,
    User,
    new_public_id,
)

TEST_PASSWORD = "correct-horse-battery-staple"


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    kind = OrganisationKind.AGENCY
    name = factory.Sequence(lambda n: f"Organisation {n}")
    slug = factory.Sequence(lambda n: f"organisation-{n}")
    public_id = factory.LazyAttribute(
        lambda o: new_public_id(ORGANISATION_ID_PREFIXES[OrganisationKind(o.kind)])
    )


class AgencyFactory(OrganisationFactory):
    kind = OrganisationKind.AGENCY
    name = factory.Sequence(lambda n: f"Agency {n}")
    slug = factory.Sequence(lambda n: f"agency-{n}")


class ProviderFactory(OrganisationFactory):
    kind = OrganisationKind.PROVIDER
    name = factory.Sequence(lambda n: f"Provider {n}")
    slug = factory.Sequence(lambda n: f"provider-{n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name", locale="en_GB")
    last_name = factory.Faker("last_name", locale="en_GB")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    role = Role.BUDGET_HOLDER
    password = factory.django.Password(TEST_PASSWORD)


class RepresentativeUserFactory(UserFactory):
    role = Role.REPRESENTATIVE


class NavigatorFactory(UserFactory):
    role = Role.NAVIGATOR


class AgencyOfficerFactory(UserFactory):
    role = Role.AGENCY_OFFICER
    organisation = factory.SubFactory(AgencyFactory)


class ProviderUserFactory(UserFactory):
    role = Role.PROVIDER_USER
    organisation = factory.SubFactory(ProviderFactory)


class FinanceOfficerFactory(UserFactory):
    role = Role.FINANCE_OFFICER


class AdministratorFactory(UserFactory):
    role = Role.ADMINISTRATOR


class BudgetHolderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BudgetHolder

    user = factory.SubFactory(UserFactory)
    full_name = factory.LazyAttribute(lambda h: h.user.get_full_name() if h.user else "Pat Jones")
    preferred_name = ""
    navigator = factory.SubFactory(NavigatorFactory)


class RepresentativeFactory(factory.django.DjangoModelFactory):
    """A representative's grant (approve power unless told otherwise)."""

    class Meta:
        model = Representative

    user = factory.SubFactory(RepresentativeUserFactory)
    budget_holder = factory.SubFactory(BudgetHolderFactory)
    power = RepresentativePower.APPROVE
    granted_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=30))


class TOTPDeviceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TOTPDevice

    user = factory.SubFactory(NavigatorFactory)
    name = "Authenticator app"
    confirmed = True


def totp_code(device: TOTPDevice, *, steps_ahead: int = 0) -> str:
    """The code the device's authenticator app shows now (or `steps_ahead` 30-second steps later)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift + steps_ahead)
    return f"{totp.token():06d}"


class PersonalTokenFactory(factory.django.DjangoModelFactory):
    """A token row with a hash of nothing anyone knows: for listing and constraints, not for signing in."""

    class Meta:
        model = PersonalToken

    user = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Token {n}")
    prefix = factory.Sequence(lambda n: f"{n:010x}")
    token_hash = factory.Sequence(lambda n: f"{n:064x}")
