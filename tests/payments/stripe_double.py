"""A local Stripe for the tests: the real `stripe` SDK makes real HTTP requests to it, and none leaves the
machine.

`StripeDouble` is a threaded HTTP server on 127.0.0.1 (a random port) that speaks Stripe's wire format for
the endpoints Purse uses: form-encoded requests (`metadata[payment]=...`), JSON answers, Stripe's error
bodies (`{"error": {"type", "code", "param", "message"}}`) and its idempotency rules. It enforces what
Stripe enforces (a valid key, known parameters, an existing destination, positive integer amounts,
lower-case currencies, same key means same request) and records every request, so a test asserts what
Purse actually sent. Two rules are stricter than Stripe, to catch Purse's mistakes: every POST must carry
an `Idempotency-Key`, and every transfer must name its payment in `metadata[payment]`.

    POST /v1/accounts          GET /v1/accounts/{id}     POST /v1/account_links
    POST /v1/transfers         GET /v1/transfers/{id}    GET /v1/transfers
    GET  /v1/events            GET /v1/events/{id}
    GET  /onboarding/{id}?...  (the page an account link points at: completes onboarding and redirects
                                to the link's return_url, for browser tests; no key needed)

Use the `stripe_double` fixture with `use_stripe_double(settings, stripe_double)`, which points Purse's
STRIPE_* settings at it. Creating a transfer stores a `transfer.created` event, `complete_onboarding`
an `account.updated` and `reverse_transfer` a `transfer.reversed`, as Stripe would.
"""

import copy
import json
import re
import secrets
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
import stripe

SECRET_KEY = "sk_test_purse_double"
WEBHOOK_SECRET = "whsec_purse_double"
API_VERSION = stripe.api_version  # the version the SDK pins and sends as Stripe-Version

_ID_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def new_id(prefix: str) -> str:
    """A Stripe-looking id: `acct_`, `tr_`, `evt_`, ... and 24 random characters."""
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(24))


class Seen(NamedTuple):
    """One request as it arrived: header names lower-cased, params as the flat form or query fields sent."""

    method: str
    path: str
    headers: dict[str, str]
    params: dict[str, str]


class _Answer(Exception):
    """Ends a request early with this status and JSON body."""

    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


def _refuse(
    message: str,
    *,
    status: int = 400,
    kind: str = "invalid_request_error",
    code: str | None = None,
    param: str | None = None,
) -> _Answer:
    error: dict[str, Any] = {"type": kind, "message": message}
    if code:
        error["code"] = code
    if param:
        error["param"] = param
    return _Answer(status, {"error": error})


class StripeDouble:
    """The server, its state (`accounts`, `transfers`, `events`, `requests`) and the tests' controls."""

    def __init__(self) -> None:
        self.accounts: dict[str, dict[str, Any]] = {}
        self.transfers: dict[str, dict[str, Any]] = {}
        self.events: dict[str, dict[str, Any]] = {}
        self.requests: list[Seen] = []
        self.replays = 0  # POSTs answered from the idempotency store
        self._event_order: dict[str, int] = {}
        self._idempotent: dict[str, tuple[str, str, dict[str, str], int, dict[str, Any]]] = {}
        self._onboarding: dict[str, str] = {}  # onboarding token -> return_url
        self._fail_next: list[int] = []
        self._drop_transfer_answers = 0
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # The server

    def start(self) -> "StripeDouble":
        """Listen on 127.0.0.1 at a free port, answering from a daemon thread."""
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.double = self  # type: ignore[attr-defined]
        self._server = server
        # A short poll so that stop() (shutdown) returns at once rather than after serve_forever's 0.5 s.
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.01}, name="stripe-double", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    @property
    def url(self) -> str:
        """The base address to give the SDK (STRIPE_API_BASE), e.g. http://127.0.0.1:54321."""
        assert self._server is not None, "the double is not running"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # Controls

    @property
    def transfer_count(self) -> int:
        return len(self.transfers)

    def fail_next(self, n: int, status: int = 500) -> None:
        """The next `n` requests (of any kind) answer `status` with an api_error body and change nothing."""
        with self._lock:
            self._fail_next.extend([status] * n)

    def timeout_after_create(self, n: int) -> None:
        """The next `n` transfer requests that succeed are carried out, then the connection drops unanswered.

        The SDK sees a connection error, as after a timeout: the case where Purse cannot know whether it
        paid, and a retry with the same idempotency key must not pay again. A retry is a request too, so
        `n=1` is cleared by the SDK's own retry, and `n=3` outlasts its two retries (the first attempt
        creates the transfer, the retries replay it and are dropped as well).
        """
        with self._lock:
            self._drop_transfer_answers += n

    def requests_to(self, method: str, path: str) -> list[Seen]:
        """The requests seen with this method and path (query string excluded)."""
        return [seen for seen in self.requests if seen.method == method and seen.path == path]

    def add_account(
        self,
        *,
        ready: bool = True,
        email: str = "provider@example.org",
        name: str = "A provider",
        provider: str | None = None,
    ) -> dict[str, Any]:
        """Store a connected account directly; `ready` means onboarded (transfers active, payouts on)."""
        account = self.account_object(
            email=email, name=name, metadata={"provider": provider} if provider else {}
        )
        with self._lock:
            self.accounts[account["id"]] = account
            if ready:
                self._set_onboarded(account)
        return account

    def complete_onboarding(self, account_id: str) -> dict[str, Any]:
        """The provider finished onboarding: transfers active, payouts on, `account.updated` stored."""
        with self._lock:
            account = self.accounts[account_id]
            self._set_onboarded(account)
            self.add_event("account.updated", account)
        return account

    def reverse_transfer(self, transfer_id: str) -> dict[str, Any]:
        """Reverse a transfer in full (as a Stripe dashboard user could) and store `transfer.reversed`."""
        with self._lock:
            transfer = self.transfers[transfer_id]
            transfer["reversed"] = True
            transfer["amount_reversed"] = transfer["amount"]
            reversal = {
                "id": new_id("trr_"),
                "object": "transfer_reversal",
                "amount": transfer["amount"],
                "currency": transfer["currency"],
                "created": int(time.time()),
                "transfer": transfer_id,
                "metadata": {},
            }
            transfer["reversals"]["data"].insert(0, reversal)
            transfer["reversals"]["total_count"] += 1
            self.add_event("transfer.reversed", transfer)
        return transfer

    def add_event(self, type: str, data_object: dict[str, Any], created: int | None = None) -> dict[str, Any]:
        """Store an event so `GET /v1/events` lists it; returns it."""
        event = self.event(type, data_object, created=created)
        with self._lock:
            self.events[event["id"]] = event
            self._event_order[event["id"]] = len(self._event_order)
        return event

    # Builders (they store nothing)

    @staticmethod
    def event(type: str, obj: dict[str, Any], created: int | None = None) -> dict[str, Any]:
        """An event in Stripe's shape, with a copy of `obj` as `data.object`."""
        return {
            "id": new_id("evt_"),
            "object": "event",
            "api_version": API_VERSION,
            "created": int(time.time()) if created is None else int(created),
            "data": {"object": copy.deepcopy(obj)},
            "livemode": False,
            "pending_webhooks": 0,
            "request": {"id": None, "idempotency_key": None},
            "type": type,
        }

    @staticmethod
    def account_object(
        *, email: str, name: str, metadata: dict[str, str] | None = None, country: str = "GB"
    ) -> dict[str, Any]:
        """An Express account in Stripe's shape, not yet onboarded."""
        return {
            "id": new_id("acct_"),
            "object": "account",
            "type": "express",
            "country": country,
            "email": email,
            "business_profile": {"name": name},
            "capabilities": {"transfers": "inactive"},
            "charges_enabled": False,
            "payouts_enabled": False,
            "details_submitted": False,
            "default_currency": "gbp",
            "metadata": dict(metadata or {}),
            "created": int(time.time()),
        }

    @staticmethod
    def transfer_object(
        *,
        destination: str,
        amount: int = 1000,
        currency: str = "gbp",
        payment: str | None = None,
        run: str | None = None,
        description: str | None = None,
        reversed: bool = False,
        created: int | None = None,
    ) -> dict[str, Any]:
        """A transfer in Stripe's shape (metadata `payment` and `run` as Purse sets them)."""
        transfer_id = new_id("tr_")
        metadata = {key: value for key, value in (("payment", payment), ("run", run)) if value is not None}
        return {
            "id": transfer_id,
            "object": "transfer",
            "amount": amount,
            "amount_reversed": amount if reversed else 0,
            "balance_transaction": new_id("txn_"),
            "created": int(time.time()) if created is None else created,
            "currency": currency,
            "description": description,
            "destination": destination,
            "destination_payment": new_id("py_"),
            "livemode": False,
            "metadata": metadata,
            "reversals": {
                "object": "list",
                "data": [],
                "has_more": False,
                "total_count": 0,
                "url": f"/v1/transfers/{transfer_id}/reversals",
            },
            "reversed": reversed,
            "source_transaction": None,
            "source_type": "card",
            "transfer_group": run,
        }

    # Webhooks

    @staticmethod
    def sign(payload: bytes, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
        """A `Stripe-Signature` header for `payload`, by the SDK's own scheme (t=..., v1=HMAC-SHA256)."""
        return stripe.WebhookSignature.generate_signature_header(
            payload.decode("utf-8"), secret, timestamp=timestamp
        )

    @staticmethod
    def webhook(
        event: dict[str, Any], *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None
    ) -> tuple[bytes, str]:
        """The body Stripe would POST for `event` and its `Stripe-Signature` header."""
        payload = json.dumps(event).encode("utf-8")
        return payload, StripeDouble.sign(payload, secret=secret, timestamp=timestamp)

    # Answering requests (called from the server's threads)

    def _answer(self, handler: "_Handler") -> None:
        split = urlsplit(handler.path)
        method = handler.command
        path = split.path
        headers = {name.lower(): value for name, value in handler.headers.items()}
        length = int(headers.get("content-length") or 0)
        body = handler.rfile.read(length).decode("utf-8") if length else ""
        params = dict(parse_qsl(body if method == "POST" else split.query, keep_blank_values=True))
        with self._lock:
            self.requests.append(Seen(method, path, headers, params))
            if path.startswith("/onboarding/"):
                self._onboarding_page(handler, path, params)
                return
            try:
                status, answer, extra_headers, drop = self._decide(method, path, headers, params)
            except _Answer as early:
                status, answer, extra_headers, drop = early.status, early.body, early.headers, False
            encoded = json.dumps(answer).encode("utf-8")  # under the lock: the objects may change later
        if drop:
            handler.close_connection = True  # no status line at all: the client sees the connection drop
            return
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(encoded)))
        handler.send_header("Request-Id", new_id("req_"))
        handler.send_header("Stripe-Version", headers.get("stripe-version") or API_VERSION)
        for name, value in extra_headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(encoded)

    def _decide(
        self, method: str, path: str, headers: dict[str, str], params: dict[str, str]
    ) -> tuple[int, dict[str, Any], dict[str, str], bool]:
        """(status, body, extra headers, drop the connection) for one API request; raises _Answer."""
        if self._fail_next:
            status = self._fail_next.pop(0)
            raise _refuse(
                "The Stripe double failed this request on purpose.", status=status, kind="api_error"
            )
        if headers.get("authorization") != f"Bearer {SECRET_KEY}":
            raise _refuse(
                f"Invalid API Key provided: {headers.get('authorization', '(none)')!r}; "
                f"the double accepts only {SECRET_KEY}.",
                status=401,
            )
        if method != "POST":
            return 200, self._route(method, path, params), {}, False
        key = headers.get("idempotency-key")
        if not key:
            raise _refuse("The Stripe double requires an Idempotency-Key header on every POST.")
        if key in self._idempotent:
            first_method, first_path, first_params, status, body = self._idempotent[key]
            if (first_method, first_path, first_params) != (method, path, params):
                raise _refuse(
                    "Keys for idempotent requests can only be used with the same parameters they were "
                    f"first used with. Try using a key other than '{key}' if you meant to execute a "
                    "different request.",
                    kind="idempotency_error",
                )
            self.replays += 1
            extra = {"Idempotent-Replayed": "true", "Original-Request": key}
        else:
            status, body, extra = 200, self._route(method, path, params), {}
            # Stripe keeps the result of a request that ran; one refused at validation is not kept.
            self._idempotent[key] = (method, path, dict(params), status, copy.deepcopy(body))
        drop = path == "/v1/transfers" and self._drop_transfer_answers > 0
        if drop:
            self._drop_transfer_answers -= 1
        return status, body, extra, drop

    def _route(self, method: str, path: str, params: dict[str, str]) -> dict[str, Any]:
        parts = path.strip("/").split("/")
        if parts[0] == "v1" and len(parts) in (2, 3):
            resource = parts[1]
            item = parts[2] if len(parts) == 3 else None
            handler = {
                ("POST", "accounts", False): self._account_create,
                ("GET", "accounts", True): self._account_get,
                ("POST", "account_links", False): self._account_link_create,
                ("POST", "transfers", False): self._transfer_create,
                ("GET", "transfers", True): self._transfer_get,
                ("GET", "transfers", False): self._transfer_list,
                ("GET", "events", True): self._event_get,
                ("GET", "events", False): self._event_list,
            }.get((method, resource, item is not None))
            if handler is not None:
                return handler(params, item) if item is not None else handler(params)
        raise _refuse(
            f"Unrecognized request URL ({method}: {path}). The double implements only what Purse uses.",
            status=404,
        )

    # Accounts

    def _account_create(self, params: dict[str, str]) -> dict[str, Any]:
        fields = _nest(params)
        _only(fields, {"type", "country", "email", "capabilities", "business_profile", "metadata", "expand"})
        if fields.get("type", "express") not in {"express", "standard", "custom"}:
            raise _refuse(f"Invalid type: {fields['type']!r}", param="type")
        country = fields.get("country", "GB")
        if not re.fullmatch(r"[A-Z]{2}", str(country)):
            raise _refuse(f"Invalid country: {country!r}", param="country")
        if "email" in fields and "@" not in str(fields["email"]):
            raise _refuse("Invalid email address", param="email", code="email_invalid")
        capabilities = fields.get("capabilities", {})
        for name, wanted in _mapping(capabilities, "capabilities").items():
            _only(_mapping(wanted, f"capabilities[{name}]"), {"requested"}, prefix=f"capabilities[{name}]")
            if wanted.get("requested") not in {"true", "false"}:
                raise _refuse("Invalid boolean", param=f"capabilities[{name}][requested]")
        business_profile = _mapping(fields.get("business_profile", {}), "business_profile")
        _only(
            business_profile,
            {"name", "url", "mcc", "product_description", "support_email", "support_phone", "support_url"},
            prefix="business_profile",
        )
        metadata = _metadata(fields)
        account = self.account_object(
            email=fields.get("email"), name=business_profile.get("name"), metadata=metadata, country=country
        )
        account["type"] = fields.get("type", "express")
        account["business_profile"] = dict(business_profile)
        account["capabilities"] = {
            name: "inactive" for name, wanted in capabilities.items() if wanted.get("requested") == "true"
        }
        self.accounts[account["id"]] = account
        return account

    def _account_get(self, params: dict[str, str], account_id: str) -> dict[str, Any]:
        if account_id not in self.accounts:
            raise _refuse(
                f"No such account: '{account_id}'", status=404, code="resource_missing", param="account"
            )
        return self.accounts[account_id]

    def _account_link_create(self, params: dict[str, str]) -> dict[str, Any]:
        fields = _nest(params)
        _only(fields, {"account", "refresh_url", "return_url", "type", "collect", "expand"})
        account_id = fields.get("account")
        if not account_id:
            raise _refuse("Missing required param: account.", code="parameter_missing", param="account")
        if account_id not in self.accounts:
            raise _refuse(f"No such account: '{account_id}'", code="resource_missing", param="account")
        if fields.get("type") not in {"account_onboarding", "account_update"}:
            raise _refuse(f"Invalid type: {fields.get('type')!r}", param="type")
        for name in ("refresh_url", "return_url"):
            if not re.match(r"https?://", str(fields.get(name, ""))):
                raise _refuse(f"Not a valid URL: {name}", code="url_invalid", param=name)
        token = secrets.token_urlsafe(16)
        self._onboarding[token] = fields["return_url"]
        now = int(time.time())
        return {
            "object": "account_link",
            "created": now,
            "expires_at": now + 300,
            "url": f"{self.url}/onboarding/{account_id}?{urlencode({'token': token})}",
        }

    def _onboarding_page(self, handler: "_Handler", path: str, params: dict[str, str]) -> None:
        account_id = path.rsplit("/", 1)[-1]
        return_url = self._onboarding.get(params.get("token", ""))
        if account_id not in self.accounts or return_url is None:
            handler.send_error(404, "No such onboarding link")
            return
        self.complete_onboarding(account_id)
        handler.send_response(302)
        handler.send_header("Location", return_url)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    def _set_onboarded(self, account: dict[str, Any]) -> None:
        account["capabilities"]["transfers"] = "active"
        account["payouts_enabled"] = True
        account["charges_enabled"] = True
        account["details_submitted"] = True

    # Transfers

    def _transfer_create(self, params: dict[str, str]) -> dict[str, Any]:
        fields = _nest(params)
        _only(
            fields,
            {
                "amount",
                "currency",
                "destination",
                "description",
                "metadata",
                "transfer_group",
                "source_transaction",
                "source_type",
                "expand",
            },
        )
        for name in ("amount", "currency", "destination"):
            if not fields.get(name):
                raise _refuse(f"Missing required param: {name}.", code="parameter_missing", param=name)
        if not re.fullmatch(r"[1-9][0-9]*", str(fields["amount"])):
            raise _refuse(
                f"Invalid positive integer: {fields['amount']!r}",
                code="parameter_invalid_integer",
                param="amount",
            )
        if not re.fullmatch(r"[a-z]{3}", str(fields["currency"])):
            raise _refuse(
                f"Invalid currency: {fields['currency']!r}. The double expects an ISO code in lower case.",
                param="currency",
            )
        destination = self.accounts.get(str(fields["destination"]))
        if destination is None:
            raise _refuse(
                f"No such destination: '{fields['destination']}'",
                code="resource_missing",
                param="destination",
            )
        if destination["capabilities"].get("transfers") != "active":
            raise _refuse(
                "Your destination account needs to have at least one of the following capabilities enabled: "
                "transfers, crypto_transfers, legacy_payments",
                code="insufficient_capabilities_for_transfer",
                param="destination",
            )
        metadata = _metadata(fields)
        if not metadata.get("payment"):
            raise _refuse(
                "Missing required param: metadata[payment] (Purse names the payment on every transfer).",
                code="parameter_missing",
                param="metadata[payment]",
            )
        transfer = self.transfer_object(
            destination=destination["id"],
            amount=int(fields["amount"]),
            currency=fields["currency"],
            description=fields.get("description"),
        )
        transfer["metadata"] = metadata
        transfer["transfer_group"] = fields.get("transfer_group")
        self.transfers[transfer["id"]] = transfer
        self.add_event("transfer.created", transfer)
        return transfer

    def _transfer_get(self, params: dict[str, str], transfer_id: str) -> dict[str, Any]:
        if transfer_id not in self.transfers:
            raise _refuse(
                f"No such transfer: '{transfer_id}'", status=404, code="resource_missing", param="id"
            )
        return self.transfers[transfer_id]

    def _transfer_list(self, params: dict[str, str]) -> dict[str, Any]:
        fields = _nest(params)
        _only(
            fields,
            {
                "created",
                "destination",
                "transfer_group",
                "limit",
                "starting_after",
                "ending_before",
                "expand",
            },
        )
        # sorted() is stable and dicts keep insertion order, so within one second the newest comes first
        newest_first = sorted(
            reversed(list(self.transfers.values())), key=lambda t: t["created"], reverse=True
        )
        for name in ("destination", "transfer_group"):
            if name in fields:
                newest_first = [t for t in newest_first if t.get(name) == fields[name]]
        newest_first = _created_filter(newest_first, fields)
        return _page(newest_first, fields, url="/v1/transfers")

    # Events

    def _event_get(self, params: dict[str, str], event_id: str) -> dict[str, Any]:
        if event_id not in self.events:
            raise _refuse(f"No such event: '{event_id}'", status=404, code="resource_missing", param="id")
        return self.events[event_id]

    def _event_list(self, params: dict[str, str]) -> dict[str, Any]:
        fields = _nest(params)
        _only(
            fields,
            {
                "created",
                "type",
                "types",
                "limit",
                "starting_after",
                "ending_before",
                "delivery_success",
                "expand",
            },
        )
        newest_first = sorted(
            self.events.values(), key=lambda e: (e["created"], self._event_order[e["id"]]), reverse=True
        )
        if "type" in fields:
            newest_first = [e for e in newest_first if e["type"] == fields["type"]]
        if "types" in fields:
            wanted = set(_mapping(fields["types"], "types").values())
            newest_first = [e for e in newest_first if e["type"] in wanted]
        newest_first = _created_filter(newest_first, fields)
        return _page(newest_first, fields, url="/v1/events")


class _Handler(BaseHTTPRequestHandler):
    server_version = "StripeDouble/1"

    def do_GET(self) -> None:
        self.server.double._answer(self)  # type: ignore[attr-defined]

    def do_POST(self) -> None:
        self.server.double._answer(self)  # type: ignore[attr-defined]

    def do_DELETE(self) -> None:
        self.server.double._answer(self)  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests read `double.requests` instead."""


# Stripe's form encoding, decoded


def _nest(flat: dict[str, str]) -> dict[str, Any]:
    """`{"metadata[payment]": "pay_1"}` -> `{"metadata": {"payment": "pay_1"}}` (lists stay indexed dicts)."""
    nested: dict[str, Any] = {}
    for key, value in flat.items():
        names = re.findall(r"[^\[\]]+", key)
        here = nested
        for name in names[:-1]:
            here = here.setdefault(name, {})
            if not isinstance(here, dict):
                raise _refuse(f"Invalid object: {key}", param=key)
        here[names[-1]] = value
    return nested


def _only(fields: dict[str, Any], allowed: set[str], *, prefix: str = "") -> None:
    for name in fields:
        if name not in allowed:
            shown = f"{prefix}[{name}]" if prefix else name
            raise _refuse(f"Received unknown parameter: {shown}", code="parameter_unknown", param=shown)


def _mapping(value: Any, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _refuse(f"Invalid object: {name}", param=name)
    return value


def _metadata(fields: dict[str, Any]) -> dict[str, str]:
    metadata = _mapping(fields.get("metadata", {}), "metadata")
    for key, value in metadata.items():
        if not isinstance(value, str):
            raise _refuse(f"Invalid metadata value for {key!r}", param=f"metadata[{key}]")
        if len(key) > 40 or len(value) > 500:
            raise _refuse("Metadata keys are at most 40 characters, values 500.", param=f"metadata[{key}]")
    return dict(metadata)


def _integer(value: Any, name: str) -> int:
    if not re.fullmatch(r"-?[0-9]+", str(value)):
        raise _refuse(f"Invalid integer: {value!r}", code="parameter_invalid_integer", param=name)
    return int(value)


def _created_filter(items: list[dict[str, Any]], fields: dict[str, Any]) -> list[dict[str, Any]]:
    created = fields.get("created")
    if created is None:
        return items
    if not isinstance(created, dict):
        moment = _integer(created, "created")
        return [item for item in items if item["created"] == moment]
    tests = {
        "gt": lambda at, bound: at > bound,
        "gte": lambda at, bound: at >= bound,
        "lt": lambda at, bound: at < bound,
        "lte": lambda at, bound: at <= bound,
    }
    _only(created, set(tests), prefix="created")
    for op, bound in created.items():
        limit = _integer(bound, f"created[{op}]")
        items = [item for item in items if tests[op](item["created"], limit)]
    return items


def _page(newest_first: list[dict[str, Any]], fields: dict[str, Any], *, url: str) -> dict[str, Any]:
    limit = _integer(fields.get("limit", 10), "limit")
    if not 1 <= limit <= 100:
        raise _refuse("limit must be between 1 and 100", param="limit")
    ids = [item["id"] for item in newest_first]
    if "starting_after" in fields:
        anchor = fields["starting_after"]
        if anchor not in ids:
            raise _refuse(f"No such object: '{anchor}'", code="resource_missing", param="starting_after")
        window = newest_first[ids.index(anchor) + 1 :]
        data, has_more = window[:limit], len(window) > limit
    elif "ending_before" in fields:
        anchor = fields["ending_before"]
        if anchor not in ids:
            raise _refuse(f"No such object: '{anchor}'", code="resource_missing", param="ending_before")
        window = newest_first[: ids.index(anchor)]
        data, has_more = window[-limit:], len(window) > limit
    else:
        data, has_more = newest_first[:limit], len(newest_first) > limit
    return {"object": "list", "data": data, "has_more": has_more, "url": url}


@pytest.fixture
def stripe_double(monkeypatch: pytest.MonkeyPatch) -> Iterator[StripeDouble]:
    """A running `StripeDouble` for one test, stopped afterwards.

    The SDK's retry backoff (0.5 s, then 1 s, with jitter) is cut to a millisecond so that tests of
    retries stay fast; how many retries it makes, and when, is unchanged.
    """
    monkeypatch.setattr(stripe.HTTPClient, "INITIAL_DELAY", 0.001)
    monkeypatch.setattr(stripe.HTTPClient, "MAX_DELAY", 0.001)
    double = StripeDouble().start()
    try:
        yield double
    finally:
        double.stop()


def use_stripe_double(settings: Any, double: StripeDouble) -> StripeDouble:
    """Point Purse's STRIPE_* settings (pytest-django's `settings` fixture) at the double."""
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_API_BASE = double.url
    return double
