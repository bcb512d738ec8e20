import base64
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from people import services
from people.models import AuditAction, AuditEvent
from tests.people.factories import (
    TEST_PASSWORD,
    AdministratorFactory,
    AgencyOfficerFactory,
    FinanceOfficerFactory,
    NavigatorFactory,
    TOTPDeviceFactory,
    UserFactory,
    totp_code,
)

pytestmark = pytest.mark.django_db

VERIFY = reverse("web:second-factor-verify")
BACKUP = reverse("web:second-factor-backup-code")
SETUP = reverse("web:second-factor-setup")
# A page every signed-in role may see (home itself sends staff on to their own start page).
HOME = reverse("web:tokens")
ROOT = reverse("web:home")


def sign_in(client, user):
    return client.post(reverse("web:sign-in"), {"username": user.username, "password": TEST_PASSWORD})


def wrong_code(device) -> str:
    return f"{(int(totp_code(device)) + 500_000) % 1_000_000:06d}"


class TestStaffWithoutAnAuthenticator:
    @pytest.mark.parametrize(
        "factory", [NavigatorFactory, AgencyOfficerFactory, FinanceOfficerFactory, AdministratorFactory]
    )
    def test_password_leads_to_set_up(self, client, factory):
        user = factory()

        response = sign_in(client, user)

        assert response.status_code == 302
        assert response["Location"].startswith(SETUP)

    def test_set_up_page_shows_a_qr_code_and_the_secret(self, client):
        user = NavigatorFactory()
        sign_in(client, user)

        response = client.get(SETUP)

        html = response.content.decode()
        device = TOTPDevice.objects.get(user=user, confirmed=False)
        assert response.status_code == 200
        assert "<svg" in html and "QR code to scan" in html
        shown = "".join(re.findall(r"<span>([A-Z2-7]{1,4})</span>", html))
        assert shown == base64.b32encode(device.bin_key).decode().rstrip("=")
        assert 'autocomplete="one-time-code"' in html
        assert "no-store" in response["Cache-Control"]

    def test_reloading_the_set_up_page_keeps_the_same_secret(self, client):
        user = NavigatorFactory()
        sign_in(client, user)

        client.get(SETUP)
        client.get(SETUP)

        assert TOTPDevice.objects.filter(user=user).count() == 1

    def test_a_wrong_code_is_refused_with_a_message(self, client):
        user = NavigatorFactory()
        sign_in(client, user)
        client.get(SETUP)
        device = TOTPDevice.objects.get(user=user)

        response = client.post(SETUP, {"code": wrong_code(device)})

        html = response.content.decode()
        assert response.status_code == 200
        assert "That code is not right" in html
        assert 'href="#id_code"' in html
        device.refresh_from_db()
        assert not device.confirmed
        assert client.get(HOME).status_code == 302

    def test_the_right_code_confirms_shows_backup_codes_once_and_lets_them_in(self, client):
        user = NavigatorFactory()
        sign_in(client, user)
        client.get(SETUP)
        device = TOTPDevice.objects.get(user=user)

        response = client.post(SETUP, {"code": totp_code(device), "next": "/settings/tokens/"})

        html = response.content.decode()
        codes = list(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))
        assert response.status_code == 200
        assert len(codes) == services.BACKUP_CODE_COUNT
        assert all(f"<code>{code}</code>" in html for code in codes)
        assert "will not see these codes again" in html
        assert 'href="/settings/tokens/"' in html
        assert "no-store" in response["Cache-Control"]
        assert client.get(HOME).status_code == 200
        # Set up now: the set-up page is closed to them.
        assert client.get(SETUP).status_code == 302


class TestStaffWithAnAuthenticator:
    def test_password_leads_to_the_code_page_keeping_next(self, client):
        device = TOTPDeviceFactory()

        response = client.post(
            reverse("web:sign-in"),
            {"username": device.user.username, "password": TEST_PASSWORD, "next": "/settings/tokens/"},
        )

        assert response["Location"] == VERIFY + "?next=%2Fsettings%2Ftokens%2F"

    def test_code_page_is_accessible_markup(self, client):
        device = TOTPDeviceFactory()
        sign_in(client, device.user)

        html = client.get(VERIFY).content.decode()

        assert len(re.findall(r"<h1[ >]", html)) == 1
        assert "Enter the 6-digit code" in html
        assert '<label class="govuk-label" for="id_code">' in html
        assert 'autocomplete="one-time-code"' in html and 'inputmode="numeric"' in html

    def test_the_right_code_lets_them_in(self, client):
        device = TOTPDeviceFactory()
        sign_in(client, device.user)
        session_key = client.session.session_key

        response = client.post(VERIFY, {"code": totp_code(device), "next": "/settings/tokens/"})

        assert response["Location"] == "/settings/tokens/"
        assert client.get(HOME).status_code == 200
        assert client.session.session_key != session_key

    def test_a_wrong_code_is_refused(self, client):
        device = TOTPDeviceFactory()
        sign_in(client, device.user)

        response = client.post(VERIFY, {"code": wrong_code(device)})

        assert response.status_code == 200
        assert "That code is not right" in response.content.decode()
        assert client.get(HOME)["Location"].startswith(VERIFY)

    def test_repeated_wrong_codes_are_throttled_with_a_clear_message(self, client):
        device = TOTPDeviceFactory()
        sign_in(client, device.user)
        client.post(VERIFY, {"code": wrong_code(device)})

        response = client.post(VERIFY, {"code": totp_code(device)})

        html = response.content.decode()
        assert response.status_code == 429
        assert "You have entered a wrong code once in a row" in html
        assert re.search(r"Wait \d+ seconds?, then try again", html)
        assert client.get(HOME).status_code == 302

    def test_empty_and_silly_codes_never_error(self, client):
        device = TOTPDeviceFactory()
        sign_in(client, device.user)

        for code in ["", "x" * 5000, "\x00", "12345678901234567890"]:
            TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0)
            response = client.post(VERIFY, {"code": code})
            assert response.status_code == 200

    def test_they_cannot_replace_their_authenticator_with_a_password_alone(self, client):
        device = TOTPDeviceFactory()
        sign_in(client, device.user)

        response = client.get(SETUP)

        assert response["Location"].startswith(VERIFY)
        assert client.post(SETUP, {"code": "123456"})["Location"].startswith(VERIFY)
        assert TOTPDevice.objects.filter(user=device.user).count() == 1


class TestBackupCodes:
    def test_a_backup_code_works_once(self, client):
        device = TOTPDeviceFactory()
        codes = services.backup_codes_regenerate(user=device.user)
        sign_in(client, device.user)

        response = client.post(BACKUP, {"code": codes[0]})

        assert response["Location"] == ROOT
        home = client.get(HOME)
        assert home.status_code == 200
        assert f"You have {len(codes) - 1} left" in home.content.decode()
        assert AuditEvent.objects.filter(action=AuditAction.BACKUP_CODE_USED, actor=device.user).count() == 1

        client.post(reverse("web:sign-out"))
        sign_in(client, device.user)
        response = client.post(BACKUP, {"code": codes[0]})

        assert response.status_code == 200
        assert "not right, or it has been used already" in response.content.decode()
        assert client.get(HOME).status_code == 302

    def test_backup_page_accepts_letters(self, client):
        device = TOTPDeviceFactory()
        sign_in(client, device.user)

        html = client.get(BACKUP).content.decode()

        assert 'inputmode="numeric"' not in html
        assert "Enter a backup code" in html


class TestUnverifiedStaff:
    @pytest.mark.parametrize("url_name", ["web:home", "web:tokens"])
    def test_cannot_reach_pages(self, client, url_name):
        device = TOTPDeviceFactory()
        client.force_login(device.user)

        response = client.get(reverse(url_name))

        assert response.status_code == 302
        assert response["Location"].startswith(VERIFY)

    def test_cannot_issue_a_token_by_post(self, client):
        device = TOTPDeviceFactory()
        client.force_login(device.user)

        response = client.post(reverse("web:tokens"), {"name": "sneaky"})

        assert response["Location"] == VERIFY
        assert not device.user.personal_tokens.exists()

    def test_can_still_sign_out(self, client):
        device = TOTPDeviceFactory()
        client.force_login(device.user)

        response = client.post(reverse("web:sign-out"))

        assert response["Location"] == reverse("web:sign-in") + "?signed_out=1"

    def test_a_stale_device_in_the_session_does_not_count(self, client, sign_in_verified):
        user = NavigatorFactory()
        device = sign_in_verified(client, user)
        assert client.get(HOME).status_code == 200

        TOTPDevice.objects.filter(pk=device.pk).update(confirmed=False)

        assert client.get(HOME).status_code == 302


class TestNonStaff:
    def test_budget_holder_is_sent_home_from_the_code_pages(self, client):
        user = UserFactory()
        client.force_login(user)

        for url in (VERIFY, BACKUP, SETUP):
            assert client.get(url)["Location"] == ROOT

    def test_anonymous_is_sent_to_sign_in(self, client):
        response = client.get(VERIFY)

        assert response["Location"].startswith(reverse("web:sign-in"))

    def test_verified_staff_are_sent_on(self, client, sign_in_verified):
        user = NavigatorFactory()
        sign_in_verified(client, user)

        assert client.get(VERIFY + "?next=/settings/tokens/")["Location"] == "/settings/tokens/"

    def test_throttle_timestamp_old_enough_lets_them_in(self, client):
        device = TOTPDeviceFactory(
            throttling_failure_count=5, throttling_failure_timestamp=timezone.now() - timedelta(hours=1)
        )
        sign_in(client, device.user)

        assert client.post(VERIFY, {"code": totp_code(device)})["Location"] == ROOT
