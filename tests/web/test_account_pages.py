"""Signing out, the session timeout, and resetting a forgotten password by email."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

from tests.people.factories import TEST_PASSWORD, BudgetHolderFactory, NavigatorFactory, ProviderUserFactory

pytestmark = pytest.mark.django_db

SIGN_IN = reverse("web:sign-in")
RESET = reverse("web:password-reset")


class TestSignOut:
    def test_signing_out_ends_the_session_and_says_so(self, client):
        client.force_login(ProviderUserFactory())

        response = client.post(reverse("web:sign-out"), follow=True)

        assert response.redirect_chain[-1][0] == f"{SIGN_IN}?signed_out=1"
        assert "You have signed out." in response.content.decode()
        assert "_auth_user_id" not in client.session

    def test_sign_out_is_not_a_link(self, client):
        client.force_login(ProviderUserFactory())
        assert client.get(reverse("web:sign-out")).status_code == 405


class TestSessionTimeout:
    def test_signed_in_pages_carry_the_session_length_for_the_warning(self, client, settings):
        settings.SESSION_COOKIE_AGE = 900
        client.force_login(ProviderUserFactory())

        html = client.get(reverse("web:home")).content.decode()

        assert 'data-purse-session-seconds="900"' in html
        assert 'id="purse-timeout"' in html
        assert "after 15 minutes without activity" in html

    def test_pages_for_anonymous_people_have_no_timeout(self, client):
        html = client.get(SIGN_IN).content.decode()
        assert "data-purse-session-seconds" not in html
        assert 'id="purse-timeout"' not in html

    def test_keep_alive_restarts_the_session(self, client):
        client.force_login(ProviderUserFactory())
        response = client.post(reverse("web:keep-alive"))
        assert response.status_code == 204
        assert response.cookies["sessionid"]["max-age"]

    def test_keep_alive_refuses_anyone_signed_out_and_a_get(self, client):
        assert client.post(reverse("web:keep-alive")).status_code == 403
        client.force_login(ProviderUserFactory())
        assert client.get(reverse("web:keep-alive")).status_code == 405

    def test_after_timing_out_the_sign_in_page_says_why(self, client, settings):
        settings.SESSION_COOKIE_AGE = 1800
        html = client.get(f"{SIGN_IN}?timed_out=1").content.decode()
        assert "We signed you out because you had not done anything for 30 minutes" in html


def _reset_link(message) -> str:
    return re.search(r"http://testserver(/password-reset/[^/]+/[^/]+/)", message.body).group(1)


class TestPasswordReset:
    def test_the_sign_in_page_links_to_it(self, client):
        assert RESET in client.get(SIGN_IN).content.decode()

    def test_a_known_address_gets_a_link_that_sets_a_new_password(self, client):
        holder = BudgetHolderFactory(user__email="alex@example.org", user__username="alex")

        response = client.post(RESET, {"email": "alex@example.org"})

        assert response["Location"] == reverse("web:password-reset-sent")
        assert len(mail.outbox) == 1
        assert mail.outbox[0].to == ["alex@example.org"]
        assert mail.outbox[0].subject == "Choose a new Purse password"
        # The link redirects once to a URL without the token in it (Django keeps the token in the session).
        form_page = client.get(_reset_link(mail.outbox[0]), follow=True)
        assert "Choose a new password" in form_page.content.decode()
        done = client.post(
            form_page.redirect_chain[-1][0],
            {"new_password1": "a-brand-new-passphrase", "new_password2": "a-brand-new-passphrase"},
        )
        assert done["Location"] == reverse("web:password-reset-complete")
        holder.user.refresh_from_db()
        assert holder.user.check_password("a-brand-new-passphrase")
        assert not holder.user.check_password(TEST_PASSWORD)

    def test_an_unknown_address_gets_the_same_answer_and_no_email(self, client):
        response = client.post(RESET, {"email": "nobody@example.org"})
        assert response["Location"] == reverse("web:password-reset-sent")
        assert mail.outbox == []

    def test_a_malformed_address_shows_an_error_summary(self, client):
        html = client.post(RESET, {"email": "not an address"}).content.decode()
        assert "<title>Error: Reset your password - Purse</title>" in html
        assert '<a href="#id_email">Enter an email address in the right format' in html

    def test_two_different_passwords_are_refused_and_nothing_changes(self, client):
        holder = BudgetHolderFactory(user__email="alex@example.org")
        client.post(RESET, {"email": "alex@example.org"})
        form_page = client.get(_reset_link(mail.outbox[0]), follow=True)

        html = client.post(
            form_page.redirect_chain[-1][0],
            {"new_password1": "a-brand-new-passphrase", "new_password2": "another-passphrase"},
        ).content.decode()

        assert "The two passwords are not the same" in html
        holder.user.refresh_from_db()
        assert holder.user.check_password(TEST_PASSWORD)

    def test_a_used_or_wrong_link_says_so(self, client):
        user = get_user_model().objects.get(pk=BudgetHolderFactory().user.pk)
        url = reverse("web:password-reset-confirm", kwargs={"uidb64": "MQ", "token": "wrong-token"})
        html = client.get(url, follow=True).content.decode()
        assert "This link does not work" in html
        assert user.check_password(TEST_PASSWORD)

    def test_staff_still_need_their_second_factor_after_a_reset(self, client):
        navigator = NavigatorFactory(email="nia@example.org", username="nia")
        client.post(RESET, {"email": "nia@example.org"})
        form_page = client.get(_reset_link(mail.outbox[0]), follow=True)
        client.post(
            form_page.redirect_chain[-1][0],
            {"new_password1": "a-brand-new-passphrase", "new_password2": "a-brand-new-passphrase"},
        )

        response = client.post(SIGN_IN, {"username": "nia", "password": "a-brand-new-passphrase"})

        assert response["Location"].startswith(reverse("web:second-factor-setup"))
        navigator.refresh_from_db()
