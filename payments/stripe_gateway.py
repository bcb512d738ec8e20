"""The one module that talks to Stripe, through the official SDK (`stripe.StripeClient`).

Purse pays providers who have a Stripe Connect (Express) account by transfer from the platform balance.
Everything else in Purse calls the functions here and sees plain values (`Transfer`, account ids, event
dicts) and Purse's own errors, never the SDK's objects or exceptions:

- `StripeDisabled`: no `STRIPE_SECRET_KEY`, so no request is attempted at all.
- `StripeUnavailable`: Stripe could not be reached or answered 5xx or 429. Trying again later is safe,
  because every POST carries an idempotency key: a transfer's key is its payment's public id, so a retry
  after a timeout replays Stripe's first answer instead of paying twice.
- `StripeRefused`: Stripe answered and said no (4xx); trying again with the same details will not help.
- `WebhookSignatureInvalid`: a webhook whose `Stripe-Signature` does not prove it came from Stripe.

The SDK retries connection errors, 409s and 5xx itself (`max_network_retries`), reusing the request's
idempotency key; our callers see `StripeUnavailable` only once those retries are spent. Settings are read
on each call, never at import time, so tests can point `STRIPE_API_BASE` at a local double.
"""

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import stripe
from django.conf import settings

from ledger.errors import DomainError

MAX_NETWORK_RETRIES = 2  # safe: every POST carries an idempotency key, so a retry never repeats an effect
TIMEOUT_SECONDS = 20  # per attempt, to connect and to read: a stuck call fails and is retried, not waited on
WEBHOOK_TOLERANCE_SECONDS = 300  # Stripe's default: a signed payload older than this is refused as replayed
EVENTS_PAGE_SIZE = 100  # Stripe's maximum page size

_SAFE_TO_RETRY = "Trying again later is safe: Stripe never carries out the same request twice."


class StripeDisabled(DomainError):
    code = "stripe_disabled"
    message = (
        "Stripe payouts are switched off: STRIPE_SECRET_KEY is not set. "
        "Providers paid by bank transfer are still paid in the Bacs file."
    )
    http_status = 409


class _StripeCallFailed(DomainError):
    """A request Stripe did not carry out; `stripe_code` and `request_id` are Stripe's, for the logs."""

    def __init__(self, message: str, *, stripe_code: str | None = None, request_id: str | None = None):
        super().__init__(message)
        self.stripe_code = stripe_code
        self.request_id = request_id


class StripeUnavailable(_StripeCallFailed):
    """Stripe could not be reached, timed out, failed (5xx) or was rate limiting; retrying is safe."""

    code = "stripe_unavailable"
    message = "Stripe cannot be reached just now. Trying again later is safe: nothing is paid twice."
    http_status = 503


class StripeRefused(_StripeCallFailed):
    """Stripe answered and refused the request (4xx); the message says what Stripe said."""

    code = "stripe_refused"
    message = "Stripe refused the request."
    http_status = 422


class WebhookSignatureInvalid(DomainError):
    code = "invalid_signature"
    message = "The Stripe-Signature header does not match this payload."
    http_status = 400


@dataclass(frozen=True)
class Transfer:
    """A Stripe transfer to a provider's connected account, as Purse needs it."""

    id: str
    amount_minor: int
    currency: str  # ISO 4217 upper case, as everywhere in Purse (Stripe itself uses lower case)
    destination: str
    reversed: bool
    payment: str  # the Purse payment's public id, from the transfer's metadata ("" if Stripe has none)


def stripe_enabled() -> bool:
    """Whether Stripe payouts are switched on (a secret key is configured)."""
    return bool(settings.STRIPE_SECRET_KEY)


def stripe_client() -> stripe.StripeClient:
    """The SDK client for the configured key and base address; raises StripeDisabled without a key."""
    if not stripe_enabled():
        raise StripeDisabled()
    return _client_for(settings.STRIPE_SECRET_KEY, settings.STRIPE_API_BASE)


@functools.lru_cache(maxsize=4)
def _client_for(api_key: str, api_base: str) -> stripe.StripeClient:
    # One client per (key, base), so a payment run reuses connections; the HTTP client keeps one
    # requests.Session per thread, so sharing it between threads is safe. A base replaces every address,
    # not only "api", so that with one set nothing can go to *.stripe.com.
    base = api_base or None
    return stripe.StripeClient(
        api_key,
        base_addresses={"api": base, "connect": base, "files": base, "meter_events": base} if base else None,
        max_network_retries=MAX_NETWORK_RETRIES,
        http_client=stripe.RequestsClient(timeout=TIMEOUT_SECONDS),
    )


def account_create(*, provider_public_id: str, name: str, email: str) -> str:
    """Create the provider's Express connected account (GB, transfers) and return its id ("acct_...").

    The idempotency key is the provider's public id, so a retry or a double click makes one account. Stripe
    forgets idempotency keys after 24 hours: store the id and never call this again for a provider who has
    one. Raises StripeDisabled, StripeUnavailable, StripeRefused.
    """
    client = stripe_client()
    with _translated(
        "create the provider's Stripe account",
        same_key_clash="this provider's account was already asked for with a different name or email",
    ):
        account = client.v1.accounts.create(
            params={
                "type": "express",
                "country": "GB",
                "email": email,
                "capabilities": {"transfers": {"requested": True}},
                "business_profile": {"name": name},
                "metadata": {"provider": provider_public_id},
            },
            options={"idempotency_key": f"purse-account-{provider_public_id}"},
        )
    return account.id


def onboarding_link(*, account_id: str, refresh_url: str, return_url: str) -> str:
    """A short-lived Stripe-hosted onboarding page for the account; raises StripeDisabled, StripeUnavailable,
    StripeRefused."""
    client = stripe_client()
    # No idempotency key of ours: each call should give a fresh link. The SDK still sends one of its own
    # (the same on each of its retries), as it does on every POST.
    with _translated("make an onboarding link"):
        link = client.v1.account_links.create(
            params={
                "account": account_id,
                "refresh_url": refresh_url,
                "return_url": return_url,
                "type": "account_onboarding",
            }
        )
    return link.url


def account_ready(*, account_id: str) -> bool:
    """Whether the account can be paid: its transfers capability is active and Stripe pays it out.

    Both are needed: money sent to an account whose payouts are off sits in Stripe, not in the provider's
    bank. Raises StripeDisabled, StripeUnavailable, StripeRefused.
    """
    client = stripe_client()
    with _translated("look up the provider's Stripe account"):
        account = client.v1.accounts.retrieve(account_id).to_dict()
    capabilities = account.get("capabilities") or {}
    return bool(account.get("payouts_enabled")) and capabilities.get("transfers") == "active"


def transfer_create(
    *,
    payment_public_id: str,
    amount_minor: int,
    currency: str,
    destination: str,
    run_public_id: str,
    description: str,
) -> Transfer:
    """Transfer a payment to a provider's connected account, exactly once.

    The idempotency key is the payment's public id, so a retry after a timeout (the SDK's or ours) gets
    Stripe's first answer back and never pays twice; the same id with different details is refused.
    Raises StripeDisabled, StripeUnavailable (safe to retry), StripeRefused.
    """
    if isinstance(amount_minor, bool) or not isinstance(amount_minor, int):
        raise TypeError(f"amount_minor must be an int of minor units, not {type(amount_minor).__name__}")
    client = stripe_client()
    with _translated(
        f"pay {payment_public_id}",
        same_key_clash="the same payment was sent to Stripe with different details",
    ):
        transfer = client.v1.transfers.create(
            params={
                "amount": amount_minor,
                "currency": currency.lower(),
                "destination": destination,
                "transfer_group": run_public_id,
                "description": description,
                "metadata": {"payment": payment_public_id, "run": run_public_id},
            },
            options={"idempotency_key": payment_public_id},
        )
    return _transfer_from(transfer.to_dict())


def transfer_get(*, transfer_id: str) -> Transfer:
    """The transfer as Stripe has it now (for example, whether it was reversed).

    Raises StripeDisabled, StripeUnavailable, StripeRefused.
    """
    client = stripe_client()
    with _translated(f"look up transfer {transfer_id}"):
        transfer = client.v1.transfers.retrieve(transfer_id)
    return _transfer_from(transfer.to_dict())


def events_between(*, start: datetime, end: datetime) -> Iterator[dict[str, Any]]:
    """Every Stripe event created in [start, end] (whole seconds), oldest first, each as a plain dict.

    Stripe lists newest first and pages forward with `starting_after`, so the whole window is fetched
    (page by page) before this returns: memory grows with the window (a few KB an event, fine for tens of
    thousands; use shorter windows beyond that). Fetching first also means a failure part way raises
    here, before the caller has acted on any event of a half-read window. `start` and `end` must be
    timezone-aware. Raises StripeDisabled, StripeUnavailable, StripeRefused.
    """
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("events_between needs timezone-aware datetimes")
    client = stripe_client()
    params = {
        "created": {"gte": int(start.timestamp()), "lte": int(end.timestamp())},
        "limit": EVENTS_PAGE_SIZE,
    }
    with _translated("list Stripe events"):
        newest_first = [event.to_dict() for event in client.v1.events.list(params).auto_paging_iter()]
    return reversed(newest_first)


def event_verify(*, payload: bytes, signature_header: str | None) -> dict[str, Any]:
    """Check a webhook's Stripe-Signature against STRIPE_WEBHOOK_SECRET and return the event as a dict.

    Raises WebhookSignatureInvalid saying why: webhooks switched off, no header, a signature that does not
    match, or a timestamp older than the tolerance (a replayed request).
    """
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        raise WebhookSignatureInvalid("Stripe webhooks are switched off: STRIPE_WEBHOOK_SECRET is not set.")
    if not signature_header:
        raise WebhookSignatureInvalid("The request has no Stripe-Signature header.")
    # Checked in two steps so the error says which it is: the SDK checks the signature before the age.
    try:
        stripe.WebhookSignature.verify_header(payload, signature_header, secret, tolerance=None)
    except stripe.SignatureVerificationError as error:
        raise WebhookSignatureInvalid(
            "The Stripe-Signature header does not match this payload and the webhook secret."
        ) from error
    try:
        event = stripe.Webhook.construct_event(
            payload, signature_header, secret, tolerance=WEBHOOK_TOLERANCE_SECONDS
        )
    except stripe.SignatureVerificationError as error:
        raise WebhookSignatureInvalid(
            f"The Stripe-Signature timestamp is more than {WEBHOOK_TOLERANCE_SECONDS} seconds old: "
            "the request may be a replay."
        ) from error
    except ValueError as error:  # signed, but not JSON, or not a snapshot event
        raise WebhookSignatureInvalid(f"The signed payload is not a Stripe event: {error}") from error
    return event.to_dict()


def _transfer_from(data: dict[str, Any]) -> Transfer:
    destination = data.get("destination")
    if isinstance(destination, dict):  # expanded
        destination = destination["id"]
    return Transfer(
        id=data["id"],
        amount_minor=int(data["amount"]),
        currency=str(data["currency"]).upper(),
        destination=destination or "",
        reversed=bool(data.get("reversed")),
        payment=(data.get("metadata") or {}).get("payment", ""),
    )


@contextmanager
def _translated(
    doing: str, *, same_key_clash: str = "it was already asked for with different details"
) -> Iterator[None]:
    """Turn the SDK's exceptions into Purse's, saying what Purse was trying to do (`doing`) and, for an
    idempotency clash, what the clash means (`same_key_clash`)."""
    try:
        yield
    except stripe.StripeError as error:
        raise _domain_error(error, doing=doing, same_key_clash=same_key_clash) from error


def _domain_error(error: stripe.StripeError, *, doing: str, same_key_clash: str) -> DomainError:
    said = (error.user_message or "").strip() or "no reason given"
    details = {"stripe_code": error.code, "request_id": error.request_id}
    if isinstance(error, stripe.APIConnectionError):
        return StripeUnavailable(
            f"Could not {doing}: Stripe could not be reached or did not answer in time. {_SAFE_TO_RETRY}",
            **details,
        )
    if isinstance(error, stripe.RateLimitError):
        return StripeUnavailable(
            f"Could not {doing}: Stripe is limiting how fast Purse may send requests. Try again in a minute.",
            **details,
        )
    if isinstance(error, stripe.AuthenticationError):
        return StripeRefused(
            f"Could not {doing}: Stripe did not accept Purse's secret key (STRIPE_SECRET_KEY). "
            "Check that it is the platform account's current secret key.",
            **details,
        )
    if isinstance(error, stripe.IdempotencyError):
        return StripeRefused(
            f"Stripe refused to {doing}: {same_key_clash} (Stripe said: {said})",
            **details,
        )
    if isinstance(error, stripe.PermissionError):
        return StripeRefused(
            f"Stripe refused to {doing}: Purse's key is not allowed to do this (Stripe said: {said})",
            **details,
        )
    status = error.http_status
    if status is not None and 400 <= status < 500 and status != 409:
        return StripeRefused(f"Stripe refused to {doing}: {said}", **details)
    # APIError (5xx or an answer that was not Stripe's JSON), a 409 the SDK's retries did not clear, or
    # anything without a status: Stripe did not decide, so trying again is the right thing.
    return StripeUnavailable(
        f"Could not {doing}: Stripe had a problem ({said}). {_SAFE_TO_RETRY}",
        **details,
    )
