"""A care provider's payouts page: how it is paid now (bank: sort code and the last four digits only;
Stripe: its connected account and whether it is ready), "Set up payouts through Stripe" through the local
Stripe double's onboarding (which completes on GET and sends the browser back), the return page, Stripe
switched off, Stripe failing or refusing (an error summary, nothing changed), and who may see it."""

import html as html_text
import re
from urllib.parse import urlsplit

import pytest
import requests
from django.urls import reverse

from payments import stripe_gateway
from people.models import AuditEvent, Organisation, PayoutMethod, ProviderDetails
from tests.payments.stripe_double import stripe_double  # noqa: F401
from tests.payments.world import build_payments_world
from tests.people.factories import ProviderUserFactory
from tests.web.roles import sign_in_role

pytestmark = pytest.mark.django_db

PAYOUTS = reverse("web:provider-payouts")
RETURN = reverse("web:provider-payouts-return")
SWITCHED_OFF = "Stripe payouts are switched off on this Purse; you are paid by bank transfer"


@pytest.fixture
def world(monkeypatch, settings, stripe_double):  # noqa: F811
    return build_payments_world(monkeypatch, settings, stripe_double=stripe_double)


@pytest.fixture
def able_user(world):
    """A user of able-assist, paid by bank transfer (sort code 20-00-00, account 55779911)."""
    return ProviderUserFactory(
        organisation=Organisation.objects.get(slug="able-assist"), email="pay@able.test"
    )


def _text(response) -> str:
    return html_text.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode())))


def _details(slug: str) -> tuple:
    details = ProviderDetails.objects.get(provider__slug=slug)
    return (details.payout_method, details.sort_code, details.account_number, details.stripe_account_id)


class TestWhoSeesIt:
    def test_a_providers_own_users(self, client, world, able_user):
        for user in (world.users["provider_engaged"], world.users["provider_not_engaged"], able_user):
            client.force_login(user)
            response = client.get(PAYOUTS)
            assert response.status_code == 200
            assert f"How {user.organisation.name} is paid" in _text(response)
            assert response.context["provider"] == user.organisation

    @pytest.mark.parametrize(
        "role", ["holder", "rep_approve", "navigator", "officer_asc", "finance", "admin"]
    )
    def test_anyone_else_gets_not_found(self, client, sign_in_verified, world, role):
        sign_in_role(client, sign_in_verified, world.users[role], role)
        assert client.get(PAYOUTS).status_code == 404
        assert client.get(RETURN).status_code == 404
        assert client.post(PAYOUTS).status_code == 404
        assert not world.stripe.requests_to("POST", "/v1/accounts")

    def test_anonymous_is_sent_to_sign_in(self, client, world):
        response = client.get(PAYOUTS)
        assert response.status_code == 302 and response["Location"].startswith(reverse("web:sign-in"))

    def test_another_providers_payout_details_are_never_shown(self, client, world, able_user):
        client.force_login(world.users["provider_not_engaged"])
        text = _text(client.get(PAYOUTS))
        assert "Not set up yet" in text
        assert world.stripe_account not in text and "9911" not in text and "20-00-00" not in text
        client.force_login(world.users["provider_engaged"])
        text = _text(client.get(PAYOUTS))
        assert "9911" not in text and "Able Assist" not in text

    def test_the_navigation_leads_there(self, client, world):
        client.force_login(world.users["provider_engaged"])
        html = client.get(reverse("web:api-keys")).content.decode()
        assert f'href="{PAYOUTS}"' in html and ">Payouts<" in html


class TestHowTheProviderIsPaid:
    def test_by_bank_transfer_only_the_sort_code_and_last_four_digits(self, client, world, able_user):
        client.force_login(able_user)
        response = client.get(PAYOUTS)
        text = _text(response)
        assert "How you are paid Bank transfer (Bacs)" in text
        assert "Sort code 20-00-00" in text and "Account number Ending 9911" in text
        assert "55779911" not in response.content.decode()
        assert "Set up payouts through Stripe" in text
        assert "Until Stripe's set-up is finished, Purse goes on paying you by bank transfer" in text

    def test_through_stripe_ready(self, client, world):
        client.force_login(world.users["provider_engaged"])
        text = _text(client.get(PAYOUTS))
        assert f"Stripe connected account {world.stripe_account}" in text
        assert "Ready to be paid Ready" in text
        assert "Your Stripe account is set up." in text
        assert "Set up payouts through Stripe" not in text

    def test_through_stripe_not_yet_ready(self, client, world):
        account = world.stripe.add_account(ready=False, name="Bright Care")["id"]
        ProviderDetails.objects.filter(provider__slug="bright-care").update(stripe_account_id=account)
        client.force_login(world.users["provider_engaged"])
        text = _text(client.get(PAYOUTS))
        assert "Ready to be paid Not yet" in text
        assert "Continue setting up payouts through Stripe" in text

    def test_stripe_unreachable_while_looking(self, client, world):
        world.stripe.fail_next(3)  # the first try and the SDK's two retries
        client.force_login(world.users["provider_engaged"])
        response = client.get(PAYOUTS)
        assert response.status_code == 200
        text = _text(response)
        assert "Purse cannot tell just now: Could not look up the provider's Stripe account" in text


class TestSettingUpStripe:
    def test_onboarding_through_stripe_and_back(self, client, world, able_user):
        client.force_login(able_user)
        response = client.post(PAYOUTS)

        assert response.status_code == 302
        link = response["Location"]
        assert link.startswith(f"{world.stripe.url}/onboarding/acct_")
        method, sort_code, account_number, account_id = _details("able-assist")
        # Paid by bank until Stripe says the account is ready: never left with no way to be paid.
        assert (method, sort_code, account_number) == (PayoutMethod.BANK, "200000", "55779911")
        assert account_id.startswith("acct_")
        assert urlsplit(link).path == f"/onboarding/{account_id}"
        [asked] = world.stripe.requests_to("POST", "/v1/account_links")
        assert asked.params["refresh_url"] == f"http://testserver{PAYOUTS}"
        assert asked.params["return_url"] == f"http://testserver{RETURN}"
        assert asked.params["type"] == "account_onboarding"
        [made] = world.stripe.requests_to("POST", "/v1/accounts")
        assert made.params["email"] == "pay@able.test"
        assert made.params["business_profile[name]"] == "Able Assist"

        # Back before finishing: not yet.
        text = _text(client.get(RETURN))
        assert "Your Stripe payouts are not set up yet" in text and "Stripe set-up Not finished" in text
        assert _details("able-assist")[0] == PayoutMethod.BANK

        # The double's onboarding page completes it and sends the browser to the return page.
        followed = requests.get(link, allow_redirects=False, timeout=10)
        assert followed.status_code == 302 and followed.headers["Location"] == f"http://testserver{RETURN}"
        text = _text(client.get(RETURN))
        assert "Your Stripe payouts are set up" in text
        assert "Purse pays Able Assist through Stripe from the next payment run" in text
        assert f"Stripe connected account {account_id}" in text
        assert _details("able-assist") == (PayoutMethod.STRIPE, "", "", account_id)
        assert AuditEvent.objects.filter(
            action="provider_details.set", object_id=able_user.organisation.public_id, actor=able_user
        ).exists()
        client.get(RETURN)  # coming back again changes nothing more
        assert _details("able-assist") == (PayoutMethod.STRIPE, "", "", account_id)
        provider_id = able_user.organisation.public_id
        created = AuditEvent.objects.filter(action="stripe.account_created", object_id=provider_id)
        assert created.count() == 1

        # Asked again, the same account is used: no second account.
        client.post(PAYOUTS)
        assert len(world.stripe.requests_to("POST", "/v1/accounts")) == 1
        assert _details("able-assist")[3] == account_id

    def test_switched_off_no_button_and_a_post_changes_nothing(self, client, world, able_user, settings):
        settings.STRIPE_SECRET_KEY = ""
        client.force_login(able_user)
        text = _text(client.get(PAYOUTS))
        assert SWITCHED_OFF in text
        assert "Set up payouts through Stripe" not in text and "Ready to be paid" not in text

        response = client.post(PAYOUTS)
        assert response.status_code == 200
        html = response.content.decode()
        assert "There is a problem" in html and stripe_gateway.StripeDisabled.message in html
        assert _details("able-assist") == (PayoutMethod.BANK, "200000", "55779911", "")
        assert not world.stripe.requests_to("POST", "/v1/accounts")

    def test_a_stripe_provider_with_stripe_switched_off_is_told_so(self, client, world, settings):
        settings.STRIPE_SECRET_KEY = ""
        client.force_login(world.users["provider_engaged"])
        text = _text(client.get(PAYOUTS))
        assert "Stripe payouts are switched off on this Purse, so payment runs cannot pay you" in text
        assert not world.stripe.requests_to("GET", f"/v1/accounts/{world.stripe_account}")

    def test_stripe_unreachable_shows_the_error_and_changes_nothing(self, client, world, able_user):
        world.stripe.fail_next(3)
        client.force_login(able_user)
        response = client.post(PAYOUTS)
        assert response.status_code == 200
        text = _text(response)
        assert "There is a problem" in text
        assert "Could not create the provider's Stripe account: Stripe had a problem" in text
        assert _details("able-assist") == (PayoutMethod.BANK, "200000", "55779911", "")

    def test_no_link_from_stripe_leaves_the_details_as_they_were(self, client, world, able_user, monkeypatch):
        def unavailable(**kwargs):
            raise stripe_gateway.StripeUnavailable(stripe_gateway.StripeUnavailable.message)

        monkeypatch.setattr(stripe_gateway, "onboarding_link", unavailable)
        client.force_login(able_user)
        response = client.post(PAYOUTS)
        assert response.status_code == 200
        assert stripe_gateway.StripeUnavailable.message in _text(response)
        # The account was made on Stripe, but Purse's details are as they were, and no audit row says
        # otherwise.
        assert len(world.stripe.requests_to("POST", "/v1/accounts")) == 1
        assert _details("able-assist") == (PayoutMethod.BANK, "200000", "55779911", "")
        assert not AuditEvent.objects.filter(action="stripe.account_created").exists()

    def test_stripe_refusing_shows_what_stripe_said(self, client, world):
        user = ProviderUserFactory(
            organisation=Organisation.objects.get(slug="able-assist"), email="not-an-email"
        )
        client.force_login(user)
        response = client.post(PAYOUTS)
        assert response.status_code == 200
        text = _text(response)
        assert "There is a problem" in text
        assert "Stripe refused to create the provider's Stripe account: Invalid email address" in text
        assert _details("able-assist") == (PayoutMethod.BANK, "200000", "55779911", "")
