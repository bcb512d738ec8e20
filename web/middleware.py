"""Staff must pass their second factor before they see any page."""

from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import Resolver404, resolve, reverse

from people import selectors

# Pages a signed-in member of staff may reach before their second factor: signing in and out, and the
# second-factor pages themselves.
SECOND_FACTOR_EXEMPT_URL_NAMES = frozenset(
    {
        "web:sign-in",
        "web:sign-out",
        "web:second-factor-verify",
        "web:second-factor-backup-code",
        "web:second-factor-setup",
        "web:password-reset",
        "web:password-reset-sent",
        "web:password-reset-confirm",
        "web:password-reset-complete",
    }
)
# The API's own session authentication refuses unverified staff (api/authentication.py), with a JSON
# answer rather than a redirect.
API_PATH_PREFIX = "/api/"


def second_factor_url(*, user, next_url: str | None = None) -> str:
    """Where a signed-in member of staff goes next: enter a code, or first set up an authenticator app."""
    has_device = selectors.totp_device_get_confirmed(user=user) is not None
    url = reverse("web:second-factor-verify" if has_device else "web:second-factor-setup")
    if next_url:
        url += "?" + urlencode({"next": next_url})
    return url


class SecondFactorRequiredMiddleware:
    """Send staff who signed in with a password but not yet a second factor to the second-factor pages."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._needs_redirect(request):
            next_url = request.get_full_path() if request.method in ("GET", "HEAD") else None
            return HttpResponseRedirect(second_factor_url(user=request.user, next_url=next_url))
        return self.get_response(request)

    def _needs_redirect(self, request: HttpRequest) -> bool:
        path = request.path_info
        static_url = "/" + settings.STATIC_URL.lstrip("/")
        if path.startswith(API_PATH_PREFIX) or path.startswith(static_url):
            return False
        user = request.user
        if not user.is_authenticated or not user.needs_second_factor or user.is_verified():
            return False
        try:
            match = resolve(path)
        except Resolver404:
            return True
        return match.view_name not in SECOND_FACTOR_EXEMPT_URL_NAMES
