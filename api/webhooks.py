"""`POST /api/v1/webhooks/stripe/`: Stripe's events about Purse's transfers and payouts (api.md, "Payments").

Stripe signs each delivery (`Stripe-Signature`) with the endpoint's secret, `STRIPE_WEBHOOK_SECRET`; the
signature is checked on the raw body, exactly as it arrived, with a 300-second tolerance
(`payments.stripe_gateway.event_verify`), before anything else reads it:

* a missing, wrong or stale signature, webhooks switched off (no secret), or a signed body that is not a
  Stripe event: `400` problem details (`invalid_signature`, `invalid_event`), and nothing is stored;
* a body over 1 MB: `413` (`payload_too_large`); a method but POST: `405`;
* otherwise the event is processed once (`payments.services.events.stripe_event_process`), and the answer is
  `200 {"received": true, "event": id, "processed": bool, "acted": bool, "outcome": "..."}`: `processed`
  is false for an event seen before, which changes nothing, as does a type Purse does not act on;
* if processing breaks a rule (a closed ledger period, say), everything it did is rolled back, the event is
  not stored, and the answer is a `409` problem with the reason: Stripe delivers it again later, and
  `manage.py stripe_events_refetch` fetches it too.

Stripe is the caller: no Purse authentication (the signature is the proof), no CSRF (no session is used),
and none of the per-key rate limits, which would refuse Stripe's bursts after a payment run. It is not in
the public OpenAPI schema: providers and councils build against that, and never call this.
"""

import logging

from django.core.exceptions import RequestDataTooBig
from drf_spectacular.utils import extend_schema
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.problems import PROBLEM_CONTENT_TYPE, problem
from ledger.errors import DomainError
from payments import stripe_gateway
from payments.services import events

logger = logging.getLogger(__name__)

MAX_PAYLOAD_BYTES = 1024 * 1024  # Stripe's events are a few KB; anything near this is not Stripe


class _AlwaysJson(BaseContentNegotiation):
    """Answer JSON whatever `Accept` says: Stripe's own (`*/*; q=0.5, application/xml`) must never be 406."""

    def select_parser(self, request, parsers):
        return None  # the body is read raw, never parsed by DRF

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


def _problem(status_code: int, *, code: str, detail: str) -> Response:
    return Response(
        problem(
            status_code=status_code,
            code=code,
            detail=detail,
            errors=[{"code": code, "pointer": "", "detail": detail}],
        ),
        status=status_code,
        content_type=PROBLEM_CONTENT_TYPE,
    )


@extend_schema(exclude=True)
class StripeWebhookView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []
    parser_classes: list = []
    content_negotiation_class = _AlwaysJson

    def post(self, request: Request) -> Response:
        declared = request.META.get("CONTENT_LENGTH") or "0"
        if declared.isdigit() and int(declared) > MAX_PAYLOAD_BYTES:
            return self._too_large()
        try:
            payload = request._request.body  # the raw bytes Stripe signed
        except RequestDataTooBig:
            return self._too_large()
        if len(payload) > MAX_PAYLOAD_BYTES:
            return self._too_large()
        try:
            event = stripe_gateway.event_verify(
                payload=payload, signature_header=request.headers.get("Stripe-Signature")
            )
        except stripe_gateway.WebhookSignatureInvalid as error:
            logger.info("Stripe webhook refused: %s", error.message)
            return _problem(400, code=error.code, detail=error.message)
        except (AttributeError, TypeError):
            # The signature matched (the SDK checks it first) but the JSON is not an object: `[]`, `"x"`.
            return _problem(
                400,
                code=events.StripeEventInvalid.code,
                detail="The signed payload is not a Stripe event: it is not a JSON object.",
            )
        try:
            outcome = events.stripe_event_process(event=event, source="webhook")
        except events.StripeEventInvalid as error:
            return _problem(400, code=error.code, detail=error.message)
        except DomainError as error:
            # Rolled back, the event included: Stripe's retry or the refetch command processes it later.
            logger.warning(
                "Stripe event %s (%s) was not processed and will be retried: %s",
                event.get("id"),
                event.get("type"),
                error.message,
            )
            return _problem(
                409,
                code=error.code,
                detail=f"The event was not processed, and nothing was changed: {error.message}",
            )
        return Response(
            {
                "received": True,
                "event": outcome.event.event_id,
                "processed": outcome.new,
                "acted": outcome.acted,
                "outcome": outcome.outcome,
            }
        )

    @staticmethod
    def _too_large() -> Response:
        return _problem(
            413,
            code="payload_too_large",
            detail=f"A Stripe event is at most {MAX_PAYLOAD_BYTES // 1024} KB; this request is larger.",
        )
