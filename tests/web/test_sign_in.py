import re

import pytest
from django.test import Client
from django.urls import reverse

from tests.people.factories import TEST_PASSWORD, BudgetHolderFactory, UserFactory

pytestmark = pytest.mark.django_db

WRONG = "The username or password is not right"


def sign_in(client, username, password=TEST_PASSWORD, **extra):
    return client.post(reverse("web:sign-in"), {"username": username, "password": password, **extra})


class TestSignInPage:
    def test_page_is_accessible_markup(self, client):
        html = client.get(reverse("web:sign-in")).content.decode()

        assert '<html lang="en-GB"' in html
        assert 'href="#main-content"' in html and 'id="main-content"' in html
        assert len(re.findall(r"<h1[ >]", html)) == 1
        assert '<label class="govuk-label" for="id_username">' in html
        assert '<label class="govuk-label" for="id_password">' in html
        assert 'autocomplete="username"' in html
        assert 'autocomplete="current-password"' in html
        assert "csrfmiddlewaretoken" in html


class TestBudgetHolderSignsIn:
    def test_goes_straight_home_without_a_second_factor(self, client):
        holder = BudgetHolderFactory(user__username="alex", preferred_name="Alex")

        response = sign_in(client, "alex")

        assert response.status_code == 302
        assert response["Location"] == reverse("web:home")
        home = client.get(reverse("web:home"), follow=True).content.decode()
        assert "Hello, Alex" in home
        assert holder.navigator.get_full_name() in home

    def test_next_on_this_site_is_followed(self, client):
        UserFactory(username="alex")

        response = sign_in(client, "alex", next=reverse("web:tokens"))

        assert response["Location"] == reverse("web:tokens")

    def test_next_to_another_site_is_ignored(self, client):
        UserFactory(username="alex")

        response = sign_in(client, "alex", next="https://evil.example/")

        assert response["Location"] == reverse("web:home")


class TestWrongCredentials:
    @pytest.mark.parametrize("case", ["wrong_password", "unknown_user", "inactive_user"])
    def test_one_message_that_does_not_say_which(self, client, case):
        UserFactory(username="alex")
        UserFactory(username="gone", is_active=False)
        username, password = {
            "wrong_password": ("alex", "not-the-password"),
            "unknown_user": ("nobody", TEST_PASSWORD),
            "inactive_user": ("gone", TEST_PASSWORD),
        }[case]

        response = sign_in(client, username, password)

        html = response.content.decode()
        assert response.status_code == 200
        assert WRONG in html
        assert 'class="govuk-error-summary"' in html and 'role="alert"' in html
        assert 'href="#id_username"' in html
        assert "<title>Error: " in html
        assert "_auth_user_id" not in client.session

    def test_missing_fields_get_an_error_each_linked_from_the_summary(self, client):
        response = sign_in(client, "", "")

        html = response.content.decode()
        assert '<a href="#id_username">Enter your username</a>' in html
        assert '<a href="#id_password">Enter your password</a>' in html
        assert 'id="id_username_error"' in html
        assert 'aria-describedby="id_username_error"' in html
        assert 'aria-invalid="true"' in html

    @pytest.mark.parametrize(
        "username", ["x" * 10_000, "nul\x00byte", "' OR 1=1 --", "<script>alert(1)</script>", "ünïcødé"]
    )
    def test_bad_input_never_errors(self, client, username):
        response = sign_in(client, username, "\x00" + "y" * 5000)

        assert response.status_code == 200
        assert "<script>alert(1)</script>" not in response.content.decode()


class TestCsrfAndSignOut:
    def test_sign_in_without_csrf_token_is_refused(self):
        UserFactory(username="alex")
        client = Client(enforce_csrf_checks=True)

        response = sign_in(client, "alex")

        assert response.status_code == 403

    def test_sign_out_is_post_only(self, client):
        user = UserFactory()
        client.force_login(user)

        assert client.get(reverse("web:sign-out")).status_code == 405

        response = client.post(reverse("web:sign-out"))

        assert response.status_code == 302
        assert response["Location"] == reverse("web:sign-in") + "?signed_out=1"
        assert "_auth_user_id" not in client.session

    def test_home_needs_sign_in(self, client):
        response = client.get(reverse("web:home"))

        assert response.status_code == 302
        assert response["Location"].startswith(reverse("web:sign-in"))
