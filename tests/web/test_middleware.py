import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponse
from django.test import RequestFactory

from tests.people.factories import NavigatorFactory, TOTPDeviceFactory, UserFactory
from web.middleware import SecondFactorRequiredMiddleware

pytestmark = pytest.mark.django_db


def call(path: str, user, *, verified: bool = False, method: str = "get"):
    request = getattr(RequestFactory(), method)(path)
    user.is_verified = lambda: verified
    request.user = user
    middleware = SecondFactorRequiredMiddleware(lambda request: HttpResponse("passed"))
    return middleware(request)


class TestSecondFactorRequiredMiddleware:
    @pytest.mark.parametrize("path", ["/", "/settings/tokens/", "/admin/", "/no-such-page/"])
    def test_unverified_staff_are_redirected(self, path):
        device = TOTPDeviceFactory()

        response = call(path, device.user)

        assert response.status_code == 302
        assert response["Location"].startswith("/sign-in/code/?next=")

    def test_staff_without_a_device_go_to_set_up(self):
        response = call("/", NavigatorFactory())

        assert response["Location"].startswith("/sign-in/set-up-authenticator/")

    def test_a_post_is_redirected_without_next(self):
        device = TOTPDeviceFactory()

        response = call("/settings/tokens/", device.user, method="post")

        assert response["Location"] == "/sign-in/code/"

    @pytest.mark.parametrize(
        "path",
        [
            "/api/v1/me/",
            "/api/anything",
            "/static/web/purse.css",
            "/sign-in/",
            "/sign-out/",
            "/sign-in/code/",
            "/sign-in/backup-code/",
            "/sign-in/set-up-authenticator/",
        ],
    )
    def test_exempt_paths_pass(self, path):
        assert call(path, NavigatorFactory()).content == b"passed"

    def test_verified_staff_pass(self):
        assert call("/", NavigatorFactory(), verified=True).content == b"passed"

    def test_non_staff_and_anonymous_pass(self):
        assert call("/", UserFactory()).content == b"passed"
        assert call("/", AnonymousUser()).content == b"passed"
