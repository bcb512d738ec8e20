"""The Stripe gateway, through the real SDK, against the local Stripe double (`stripe_double.py` here).

No database is needed: the gateway imports no models, and pytest-django's `settings` fixture works without
one. Every test also checks that no connection was attempted to any host but 127.0.0.1.
"""

import ast
import json
import socket
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
import stripe

from payments import stripe_gateway
from payments.stripe_gateway import (
    StripeDisabled,
    StripeRefused,
    StripeUnavailable,
    Transfer,
    WebhookSignatureInvalid,
    account_create,
    account_ready,
    event_verify,
    events_between,
    onboarding_link,
    stripe_client,
    stripe_enabled,
    transfer_create,
    transfer_get,
)
from tests.payments.stripe_double import (
    SECRET_KEY,
    WEBHOOK_SECRET,
    StripeDouble,
    stripe_double,  # noqa: F401 (the fixture, used by `double` below)
    use_stripe_double,
)


@pytest.fixture
def double(settings, stripe_double: StripeDouble) -> StripeDouble:  # noqa: F811 (the fixture imported above)
    """The double, with Purse's STRIPE_* settings pointing at it."""
    return use_stripe_double(settings, stripe_double)


@pytest.fixture(autouse=True)
def nothing_leaves_the_machine(monkeypatch):
    """Refuse, and fail the test for, any connection to a host other than 127.0.0.1 (the double)."""
    hosts: list[str] = []
    real_getaddrinfo = socket.getaddrinfo

    def local_only(host, *args, **kwargs):
        hosts.append(host)
        if host != "127.0.0.1":
            raise OSError(f"the tests may not reach {host}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", local_only)
    yield
    assert {host for host in hosts if host != "127.0.0.1"} == set()


def pay(**overrides) -> Transfer:
    details = {
        "payment_public_id": "pay_0001aaaa",
        "amount_minor": 12_345,
        "currency": "GBP",
        "destination": "acct_missing",
        "run_public_id": "prun_0001",
        "description": "Purse payment pay_0001aaaa",
    }
    return transfer_create(**(details | overrides))


class TestSwitchedOff:
    def test_no_key_means_stripe_disabled_and_no_request(self, settings, stripe_double):  # noqa: F811
        settings.STRIPE_SECRET_KEY = ""
        settings.STRIPE_API_BASE = stripe_double.url
        now = datetime.now(UTC)

        calls = [
            stripe_client,
            lambda: account_create(provider_public_id="org_1", name="Bright Care", email="a@example.org"),
            lambda: onboarding_link(
                account_id="acct_1", refresh_url="https://x/r", return_url="https://x/ok"
            ),
            lambda: account_ready(account_id="acct_1"),
            lambda: pay(),
            lambda: transfer_get(transfer_id="tr_1"),
            lambda: events_between(start=now, end=now),
        ]

        assert stripe_enabled() is False
        for call in calls:
            with pytest.raises(StripeDisabled) as raised:
                call()
            assert raised.value.code == "stripe_disabled"
            assert raised.value.http_status == 409
            assert "STRIPE_SECRET_KEY is not set" in raised.value.message
            assert "Bacs file" in raised.value.message
        assert stripe_double.requests == []

    def test_errors_have_stable_codes_and_statuses(self):
        assert (StripeDisabled.code, StripeDisabled.http_status) == ("stripe_disabled", 409)
        assert (StripeUnavailable.code, StripeUnavailable.http_status) == ("stripe_unavailable", 503)
        assert (StripeRefused.code, StripeRefused.http_status) == ("stripe_refused", 422)
        assert (WebhookSignatureInvalid.code, WebhookSignatureInvalid.http_status) == (
            "invalid_signature",
            400,
        )


class TestClient:
    def test_every_base_address_is_the_double_and_posts_are_retried_twice(self, double):
        client = stripe_client()

        # Private to the SDK, but the one place to see where it would send a request.
        addresses = client._requestor.base_addresses
        assert {addresses[name] for name in ("api", "connect", "files", "meter_events")} == {double.url}
        assert client._requestor._options.max_network_retries == 2
        assert stripe_enabled() is True

    def test_requests_carry_the_key_and_the_sdks_api_version(self, double):
        account_create(provider_public_id="org_1", name="Bright Care", email="care@example.org")

        (seen,) = double.requests
        assert seen.headers["authorization"] == f"Bearer {SECRET_KEY}"
        assert seen.headers["stripe-version"] == stripe.api_version
        assert seen.headers["content-type"] == "application/x-www-form-urlencoded"

    def test_a_wrong_key_is_refused_with_a_message_about_the_key(self, double, settings):
        settings.STRIPE_SECRET_KEY = "sk_test_not_the_doubles"

        with pytest.raises(StripeRefused) as raised:
            account_create(provider_public_id="org_1", name="Bright Care", email="care@example.org")

        assert "STRIPE_SECRET_KEY" in raised.value.message
        assert len(double.requests) == 1  # a 401 is not retried


class TestAccounts:
    def test_account_create_makes_an_express_gb_account_for_transfers(self, double):
        account_id = account_create(
            provider_public_id="org_bright", name="Bright Care", email="care@example.org"
        )

        (seen,) = double.requests_to("POST", "/v1/accounts")
        assert seen.params == {
            "type": "express",
            "country": "GB",
            "email": "care@example.org",
            "capabilities[transfers][requested]": "true",
            "business_profile[name]": "Bright Care",
            "metadata[provider]": "org_bright",
        }
        assert seen.headers["idempotency-key"] == "purse-account-org_bright"
        assert account_id.startswith("acct_")
        assert double.accounts[account_id]["metadata"] == {"provider": "org_bright"}

    def test_creating_the_same_providers_account_twice_makes_one(self, double):
        first = account_create(provider_public_id="org_bright", name="Bright Care", email="care@example.org")
        second = account_create(provider_public_id="org_bright", name="Bright Care", email="care@example.org")

        assert first == second
        assert list(double.accounts) == [first]
        assert double.replays == 1

    def test_the_same_provider_with_other_details_is_refused(self, double):
        account_create(provider_public_id="org_bright", name="Bright Care", email="care@example.org")

        with pytest.raises(StripeRefused) as raised:
            account_create(provider_public_id="org_bright", name="Bright Care", email="new@example.org")

        assert "already asked for with a different name or email" in raised.value.message
        assert len(double.accounts) == 1

    def test_onboarding_link_asks_for_account_onboarding(self, double):
        account = double.add_account(ready=False)

        url = onboarding_link(
            account_id=account["id"],
            refresh_url="https://purse.example/providers/stripe/refresh",
            return_url="https://purse.example/providers/stripe/done",
        )

        (seen,) = double.requests_to("POST", "/v1/account_links")
        assert seen.params == {
            "account": account["id"],
            "refresh_url": "https://purse.example/providers/stripe/refresh",
            "return_url": "https://purse.example/providers/stripe/done",
            "type": "account_onboarding",
        }
        assert seen.headers["idempotency-key"]  # the SDK's own, fresh for each link
        assert url.startswith(f"{double.url}/onboarding/{account['id']}")

    def test_an_account_is_ready_once_onboarding_is_complete(self, double):
        account_id = account_create(
            provider_public_id="org_bright", name="Bright Care", email="care@example.org"
        )
        url = onboarding_link(account_id=account_id, refresh_url="https://x/r", return_url="https://x/ok")
        assert account_ready(account_id=account_id) is False

        # The provider follows the link (the double's onboarding page completes it and redirects back).
        answer = requests.get(url, allow_redirects=False, timeout=5)

        assert answer.status_code == 302
        assert answer.headers["Location"] == "https://x/ok"
        assert account_ready(account_id=account_id) is True

    def test_an_account_without_payouts_is_not_ready(self, double):
        account = double.add_account(ready=True)
        account["payouts_enabled"] = False

        assert account_ready(account_id=account["id"]) is False

    def test_an_unknown_account_is_refused(self, double):
        with pytest.raises(StripeRefused) as raised:
            account_ready(account_id="acct_nobody")

        assert "No such account: 'acct_nobody'" in raised.value.message
        assert raised.value.stripe_code == "resource_missing"


class TestTransferCreate:
    def test_sends_the_payment_id_as_idempotency_key_and_the_details(self, double):
        provider = double.add_account()

        transfer = pay(destination=provider["id"])

        (seen,) = double.requests_to("POST", "/v1/transfers")
        assert seen.headers["idempotency-key"] == "pay_0001aaaa"
        assert seen.params == {
            "amount": "12345",
            "currency": "gbp",
            "destination": provider["id"],
            "transfer_group": "prun_0001",
            "description": "Purse payment pay_0001aaaa",
            "metadata[payment]": "pay_0001aaaa",
            "metadata[run]": "prun_0001",
        }
        assert transfer == Transfer(
            id=transfer.id,
            amount_minor=12_345,
            currency="GBP",
            destination=provider["id"],
            reversed=False,
            payment="pay_0001aaaa",
        )
        assert list(double.transfers) == [transfer.id]

    def test_a_timeout_after_stripe_paid_is_retried_by_the_sdk_and_pays_once(self, double):
        provider = double.add_account()
        double.timeout_after_create(1)

        transfer = pay(destination=provider["id"])

        posts = double.requests_to("POST", "/v1/transfers")
        assert [seen.headers["idempotency-key"] for seen in posts] == ["pay_0001aaaa", "pay_0001aaaa"]
        assert double.transfer_count == 1
        assert double.replays == 1
        assert list(double.transfers) == [transfer.id]

    def test_when_the_sdks_retries_all_time_out_a_later_retry_still_pays_once(self, double):
        provider = double.add_account()
        double.timeout_after_create(3)  # the first attempt and both of the SDK's retries

        with pytest.raises(StripeUnavailable) as raised:
            pay(destination=provider["id"])
        assert "Trying again later is safe" in raised.value.message
        assert double.transfer_count == 1  # Stripe paid; Purse could not know

        transfer = pay(destination=provider["id"])  # Purse's own retry, later

        assert double.transfer_count == 1
        assert list(double.transfers) == [transfer.id]
        assert len(double.requests_to("POST", "/v1/transfers")) == 4

    def test_server_errors_are_retried_twice_then_unavailable(self, double):
        provider = double.add_account()
        double.fail_next(3, status=500)

        with pytest.raises(StripeUnavailable) as raised:
            pay(destination=provider["id"])

        assert raised.value.code == "stripe_unavailable"
        assert raised.value.http_status == 503
        assert len(double.requests_to("POST", "/v1/transfers")) == 3  # one attempt and two retries
        assert double.transfer_count == 0

    def test_a_server_error_that_clears_within_the_retries_pays_once(self, double):
        provider = double.add_account()
        double.fail_next(2, status=503)

        transfer = pay(destination=provider["id"])

        assert len(double.requests_to("POST", "/v1/transfers")) == 3
        assert list(double.transfers) == [transfer.id]

    def test_rate_limiting_is_unavailable_and_not_retried_by_the_sdk(self, double):
        provider = double.add_account()
        double.fail_next(1, status=429)

        with pytest.raises(StripeUnavailable) as raised:
            pay(destination=provider["id"])

        assert "limiting" in raised.value.message
        assert len(double.requests) == 1

    def test_an_unknown_destination_is_refused_and_not_retried(self, double):
        with pytest.raises(StripeRefused) as raised:
            pay(destination="acct_nobody")

        assert raised.value.code == "stripe_refused"
        assert raised.value.http_status == 422
        assert "No such destination: 'acct_nobody'" in raised.value.message
        assert raised.value.stripe_code == "resource_missing"
        assert len(double.requests) == 1
        assert double.transfer_count == 0

    def test_a_provider_not_yet_onboarded_is_refused(self, double):
        provider = double.add_account(ready=False)

        with pytest.raises(StripeRefused) as raised:
            pay(destination=provider["id"])

        assert "capabilities" in raised.value.message
        assert double.transfer_count == 0

    def test_the_same_payment_with_a_different_amount_is_refused(self, double):
        provider = double.add_account()
        first = pay(destination=provider["id"], amount_minor=12_345)

        with pytest.raises(StripeRefused) as raised:
            pay(destination=provider["id"], amount_minor=12_346)

        assert "the same payment was sent to Stripe with different details" in raised.value.message
        assert list(double.transfers) == [first.id]
        assert double.transfers[first.id]["amount"] == 12_345

    def test_an_amount_that_is_not_an_int_is_refused_before_sending(self, double):
        provider = double.add_account()

        for amount in (123.45, True, "12345"):
            with pytest.raises(TypeError):
                pay(destination=provider["id"], amount_minor=amount)

        assert double.requests == []


class TestTransferGet:
    def test_reads_the_transfer_as_stripe_has_it_now(self, double):
        provider = double.add_account()
        paid = pay(destination=provider["id"])
        double.reverse_transfer(paid.id)

        transfer = transfer_get(transfer_id=paid.id)

        assert transfer == Transfer(
            id=paid.id,
            amount_minor=12_345,
            currency="GBP",
            destination=provider["id"],
            reversed=True,
            payment="pay_0001aaaa",
        )

    def test_an_unknown_transfer_is_refused(self, double):
        with pytest.raises(StripeRefused) as raised:
            transfer_get(transfer_id="tr_nothing")

        assert "No such transfer" in raised.value.message


class TestEventsBetween:
    START = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    END = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)

    def at(self, moment: datetime) -> int:
        return int(moment.timestamp())

    def test_every_event_in_the_window_oldest_first_across_pages(self, double, monkeypatch):
        monkeypatch.setattr(stripe_gateway, "EVENTS_PAGE_SIZE", 2)
        provider = double.add_account()
        transfer = double.transfer_object(destination=provider["id"], payment="pay_1")
        double.add_event("transfer.created", transfer, created=self.at(self.START) - 1)  # before
        inside = [
            double.add_event("transfer.created", transfer, created=self.at(self.START)),  # on the start
            double.add_event("account.updated", provider, created=self.at(self.START) + 60),
            double.add_event("transfer.reversed", transfer, created=self.at(self.START) + 60),  # same second
            double.add_event(
                "payout.paid", {"id": "po_1", "object": "payout"}, created=self.at(self.END) - 1
            ),
            double.add_event("transfer.updated", transfer, created=self.at(self.END)),  # on the end
        ]
        double.add_event("transfer.created", transfer, created=self.at(self.END) + 1)  # after

        events = list(events_between(start=self.START, end=self.END))

        assert [event["id"] for event in events] == [event["id"] for event in inside]
        pages = double.requests_to("GET", "/v1/events")
        assert len(pages) == 3  # 2 + 2 + 1
        assert pages[0].params == {
            "created[gte]": str(self.at(self.START)),
            "created[lte]": str(self.at(self.END)),
            "limit": "2",
        }
        assert pages[1].params["starting_after"] == inside[3]["id"]
        assert pages[2].params["starting_after"] == inside[1]["id"]
        assert {seen.params["created[gte]"] for seen in pages} == {str(self.at(self.START))}

    def test_events_are_plain_dicts_all_the_way_down(self, double):
        provider = double.add_account()
        transfer = double.transfer_object(destination=provider["id"], payment="pay_1", run="prun_1")
        stored = double.add_event("transfer.created", transfer, created=self.at(self.START))

        (event,) = events_between(start=self.START, end=self.END)

        assert type(event) is dict
        assert type(event["data"]["object"]) is dict
        assert type(event["data"]["object"]["metadata"]) is dict
        assert event == stored

    def test_an_empty_window_is_empty(self, double):
        assert list(events_between(start=self.START, end=self.END)) == []

    def test_a_failure_raises_before_any_event_is_returned(self, double):
        double.add_event(
            "transfer.created", {"id": "tr_1", "object": "transfer"}, created=self.at(self.START)
        )
        double.fail_next(3)

        with pytest.raises(StripeUnavailable):
            events_between(start=self.START, end=self.END)

    def test_naive_datetimes_are_refused(self, double):
        with pytest.raises(ValueError, match="timezone-aware"):
            events_between(start=datetime(2026, 11, 20, 9, 0), end=self.END)
        assert double.requests == []


class TestEventVerify:
    @pytest.fixture(autouse=True)
    def webhook_secret(self, settings):
        # Checking a webhook needs only the webhook secret: no API key, and no request to Stripe.
        settings.STRIPE_SECRET_KEY = ""
        settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET

    def signed(self, **signing) -> tuple[dict, bytes, str]:
        provider = StripeDouble.account_object(email="care@example.org", name="Bright Care")
        transfer = StripeDouble.transfer_object(destination=provider["id"], payment="pay_1", run="prun_1")
        event = StripeDouble.event("transfer.reversed", transfer)
        payload, header = StripeDouble.webhook(event, **signing)
        return event, payload, header

    def test_a_good_signature_gives_the_event_as_a_dict(self):
        event, payload, header = self.signed()

        verified = event_verify(payload=payload, signature_header=header)

        assert verified == event
        assert type(verified["data"]["object"]) is dict

    def test_a_signature_from_the_sdks_own_scheme_is_what_the_sdk_accepts(self):
        _, payload, header = self.signed()

        assert header.startswith("t=") and ",v1=" in header
        assert stripe.Webhook.construct_event(payload, header, WEBHOOK_SECRET).type == "transfer.reversed"

    def test_a_tampered_payload_is_refused(self):
        _, payload, header = self.signed()
        tampered = json.loads(payload)
        tampered["data"]["object"]["amount"] = 1
        tampered_payload = json.dumps(tampered).encode()

        with pytest.raises(WebhookSignatureInvalid) as raised:
            event_verify(payload=tampered_payload, signature_header=header)

        assert raised.value.code == "invalid_signature"
        assert raised.value.http_status == 400
        assert "does not match" in raised.value.message

    def test_a_payload_signed_with_another_secret_is_refused(self):
        _, payload, header = self.signed(secret="whsec_someone_else")

        with pytest.raises(WebhookSignatureInvalid, match="does not match"):
            event_verify(payload=payload, signature_header=header)

    @pytest.mark.parametrize("header", [None, ""])
    def test_a_missing_header_is_refused(self, header):
        _, payload, _ = self.signed()

        with pytest.raises(WebhookSignatureInvalid, match="no Stripe-Signature header"):
            event_verify(payload=payload, signature_header=header)

    def test_a_malformed_header_is_refused(self):
        _, payload, _ = self.signed()

        with pytest.raises(WebhookSignatureInvalid, match="does not match"):
            event_verify(payload=payload, signature_header="not a signature")

    def test_a_timestamp_older_than_300_seconds_is_refused(self):
        _, payload, header = self.signed(timestamp=int(time.time()) - 301)

        with pytest.raises(WebhookSignatureInvalid) as raised:
            event_verify(payload=payload, signature_header=header)

        assert "more than 300 seconds old" in raised.value.message

    def test_a_timestamp_within_300_seconds_is_accepted(self):
        event, payload, header = self.signed(timestamp=int(time.time()) - 290)

        assert event_verify(payload=payload, signature_header=header) == event

    def test_without_a_webhook_secret_every_webhook_is_refused(self, settings):
        _, payload, header = self.signed()
        settings.STRIPE_WEBHOOK_SECRET = ""

        with pytest.raises(WebhookSignatureInvalid) as raised:
            event_verify(payload=payload, signature_header=header)

        assert raised.value.message == "Stripe webhooks are switched off: STRIPE_WEBHOOK_SECRET is not set."

    def test_a_signed_payload_that_is_not_an_event_is_refused(self):
        payload = b"not json"
        header = StripeDouble.sign(payload)

        with pytest.raises(WebhookSignatureInvalid, match="not a Stripe event"):
            event_verify(payload=payload, signature_header=header)


def test_the_gateway_imports_no_models():
    """It must import before the payments app is installed: only the SDK, settings and DomainError."""
    tree = ast.parse(Path(stripe_gateway.__file__).read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}

    ours = {name for name in imported if name.split(".")[0] in {"django", "ledger", "payments"}}
    assert ours == {"django.conf", "ledger.errors"}
    assert "stripe" in imported
