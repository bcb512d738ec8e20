"""Rate limits for the API: each provider's API key has its own allowance (`PROVIDER_API_RATE`).

Counts live in Django's cache (the `default` cache: per process with LocMemCache, shared with Redis). Going
over the allowance is a 429 problem with Retry-After (api.problems).
"""

from typing import Any

from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from people.models import ProviderApiKey


class ProviderKeyRateThrottle(SimpleRateThrottle):
    """Requests made with one provider API key, counted by the key's public id; other callers pass."""

    scope = "provider_key"

    def get_rate(self) -> str | None:
        # Read at request time, not import time (DRF's class attribute), so that settings may change.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    # `view` is untyped: importing rest_framework.views here would be circular (it imports the throttles).
    def get_cache_key(self, request: Request, view: Any) -> str | None:
        key = request.auth
        if not isinstance(key, ProviderApiKey):
            return None
        return self.cache_format % {"scope": self.scope, "ident": key.public_id}
