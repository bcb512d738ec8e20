"""Stripe Connect onboarding (`payments.services.runs.stripe_onboarding_start`), against the local double.

A provider asks to be paid through Stripe: Purse makes its Express connected account once (a second call
reuses it), keeps it in the provider's payout details without changing how the provider is paid now, audits
it and gives back the link to Stripe's own onboarding page. Only once Stripe says the account can take
transfers does `stripe_payouts_switch` make the provider paid through Stripe. With Stripe switched off
nothing changes.
"""

import pytest

from payments import stripe_gateway
from payments.services import runs
from people import services as people_services
from people.models import AuditEvent, Organisation, ProviderDetails
from tests.payments.stripe_double import stripe_double, use_stripe_double  # noqa: F401
from tests.people.factories import ProviderFactory, ProviderUserFactory

pytestmark = pytest.mark.django_db

REFRESH = "https://purse.example/provider/payouts/stripe/refresh/"
RETURN = "https://purse.example/provider/payouts/stripe/done/"


@pytest.fixture
def provider():
    provider = ProviderFactory(name="Kind Hands")
    people_services.provider_details_set(
        provider=provider,
        by=None,
        provider_kind="personal_assistant",
        contact_name="Jo Bloggs",
        address="1 High Street, Dalesby",
        postcode="dl1 1aa",
        payout_method="bank",
        bank_account_name="Jo Bloggs",
        sort_code="20-00-00",
        account_number="55779911",
    )
    return Organisation.objects.get(pk=provider.pk)


@pytest.fixture
def user(provider):
    return ProviderUserFactory(organisation=provider, email="jo@kindhands.example")


def test_makes_the_account_once_stores_it_and_gives_the_onboarding_link(
    settings,
    stripe_double,  # noqa: F811
    provider,
    user,
):
    use_stripe_double(settings, stripe_double)

    url = runs.stripe_onboarding_start(provider=provider, by=user, refresh_url=REFRESH, return_url=RETURN)

    [account_id] = stripe_double.accounts
    account = stripe_double.accounts[account_id]
    assert (account["email"], account["business_profile"]["name"], account["metadata"]) == (
        "jo@kindhands.example",
        "Kind Hands",
        {"provider": provider.public_id},
    )
    [created] = stripe_double.requests_to("POST", "/v1/accounts")
    assert created.headers["idempotency-key"] == f"purse-account-{provider.public_id}"
    assert created.params["capabilities[transfers][requested]"] == "true"
    assert url.startswith(f"{stripe_double.url}/onboarding/{account_id}?token=")
    [link] = stripe_double.requests_to("POST", "/v1/account_links")
    assert (link.params["refresh_url"], link.params["return_url"], link.params["type"]) == (
        REFRESH,
        RETURN,
        "account_onboarding",
    )
    details = ProviderDetails.objects.get(provider=provider)
    # Still paid by bank: onboarding is not finished, and a provider is never left with no way to be paid.
    assert (details.payout_method, details.stripe_account_id) == ("bank", account_id)
    assert (details.sort_code, details.account_number, details.bank_account_name) == (
        "200000",
        "55779911",
        "Jo Bloggs",
    )
    [audit] = AuditEvent.objects.filter(action="stripe.account_created")
    assert (audit.actor, audit.object_id, audit.detail) == (user, provider.public_id, {"account": account_id})

    again = runs.stripe_onboarding_start(
        provider=Organisation.objects.get(pk=provider.pk), by=user, refresh_url=REFRESH, return_url=RETURN
    )

    assert list(stripe_double.accounts) == [account_id]
    assert len(stripe_double.requests_to("POST", "/v1/accounts")) == 1
    assert len(stripe_double.requests_to("POST", "/v1/account_links")) == 2
    assert again.startswith(f"{stripe_double.url}/onboarding/{account_id}?token=") and again != url
    assert AuditEvent.objects.filter(action="stripe.account_created").count() == 1


def test_with_stripe_switched_off_nothing_changes(settings, provider, user):
    settings.STRIPE_SECRET_KEY = ""
    before = ProviderDetails.objects.filter(provider=provider).values().get()
    audits = AuditEvent.objects.count()

    with pytest.raises(stripe_gateway.StripeDisabled) as raised:
        runs.stripe_onboarding_start(provider=provider, by=user, refresh_url=REFRESH, return_url=RETURN)

    assert raised.value.code == "stripe_disabled"
    assert ProviderDetails.objects.filter(provider=provider).values().get() == before
    assert AuditEvent.objects.count() == audits


def test_stripe_refusing_changes_nothing(settings, stripe_double, provider, user):  # noqa: F811
    use_stripe_double(settings, stripe_double)
    user.email = "not-an-email"
    before = ProviderDetails.objects.filter(provider=provider).values().get()

    with pytest.raises(stripe_gateway.StripeRefused):
        runs.stripe_onboarding_start(provider=provider, by=user, refresh_url=REFRESH, return_url=RETURN)

    assert stripe_double.accounts == {}
    assert ProviderDetails.objects.filter(provider=provider).values().get() == before


def test_switches_to_stripe_only_once_the_account_is_ready(settings, stripe_double, provider, user):  # noqa: F811
    use_stripe_double(settings, stripe_double)
    runs.stripe_onboarding_start(provider=provider, by=user, refresh_url=REFRESH, return_url=RETURN)
    provider = Organisation.objects.get(pk=provider.pk)
    account_id = ProviderDetails.objects.get(provider=provider).stripe_account_id

    not_yet = runs.stripe_payouts_switch(provider=provider, by=user)

    assert (not_yet.ready, not_yet.switched) == (False, False)
    assert ProviderDetails.objects.get(provider=provider).payout_method == "bank"

    stripe_double.complete_onboarding(account_id)
    switched = runs.stripe_payouts_switch(provider=Organisation.objects.get(pk=provider.pk), by=user)

    assert (switched.ready, switched.switched) == (True, True)
    details = ProviderDetails.objects.get(provider=provider)
    assert (details.payout_method, details.stripe_account_id, details.sort_code, details.account_number) == (
        "stripe",
        account_id,
        "",
        "",
    )
    assert (details.provider_kind, details.contact_name, details.address, details.postcode) == (
        "personal_assistant",
        "Jo Bloggs",
        "1 High Street, Dalesby",
        "DL1 1AA",
    )
    again = runs.stripe_payouts_switch(provider=Organisation.objects.get(pk=provider.pk), by=user)
    assert (again.ready, again.switched) == (True, False)


def test_a_provider_with_no_account_is_not_switched(settings, stripe_double, provider, user):  # noqa: F811
    use_stripe_double(settings, stripe_double)

    state = runs.stripe_payouts_switch(provider=provider, by=user)

    assert (state.ready, state.switched) == (False, False)
    assert stripe_double.requests == []


def test_changing_other_details_keeps_the_connected_account(settings, stripe_double, provider, user):  # noqa: F811
    use_stripe_double(settings, stripe_double)
    runs.stripe_onboarding_start(provider=provider, by=user, refresh_url=REFRESH, return_url=RETURN)
    account_id = ProviderDetails.objects.get(provider=provider).stripe_account_id

    people_services.provider_details_set(
        provider=provider,
        by=None,
        payout_method="bank",
        bank_account_name="Jo Bloggs",
        sort_code="200000",
        account_number="11223344",
    )

    assert ProviderDetails.objects.get(provider=provider).stripe_account_id == account_id
