import re

import pytest
from django.urls import reverse

from people import services
from people.models import PersonalToken
from tests.people.factories import NavigatorFactory, PersonalTokenFactory, UserFactory

pytestmark = pytest.mark.django_db

TOKENS = reverse("web:tokens")


def revoke_url(token) -> str:
    return reverse("web:token-revoke", args=[token.public_id])


class TestTokenList:
    def test_lists_name_created_last_used_and_status(self, client):
        user = UserFactory()
        live, _ = services.personal_token_issue(user=user, name="Budget app", issued_by=user)
        revoked, _ = services.personal_token_issue(user=user, name="Old laptop", issued_by=user)
        services.personal_token_revoke(token=revoked, revoked_by=user)
        PersonalTokenFactory(name="Someone else's")
        client.force_login(user)

        html = client.get(TOKENS).content.decode()

        assert "Budget app" in html and "Old laptop" in html
        assert "Someone else&#x27;s" not in html and "Someone else's" not in html
        assert "Never" in html
        assert "Active" in html and "Revoked" in html
        assert revoke_url(live) in html and revoke_url(revoked) not in html
        assert len(re.findall(r"<h1[ >]", html)) == 1

    def test_needs_sign_in(self, client):
        assert client.get(TOKENS)["Location"].startswith(reverse("web:sign-in"))


class TestTokenIssue:
    def test_shows_the_token_once_with_a_warning(self, client):
        user = UserFactory()
        client.force_login(user)

        response = client.post(TOKENS, {"name": "Budget app"})

        html = response.content.decode()
        raw = re.search(r'<code id="new-token">([^<]+)</code>', html).group(1)
        assert response.status_code == 200
        assert "you will not see it again" in html
        assert "no-store" in response["Cache-Control"]
        assert services.personal_token_authenticate(raw=raw) == user
        assert raw not in client.get(TOKENS).content.decode()
        assert PersonalToken.objects.get(user=user).issued_by == user

    def test_a_blank_name_is_refused_with_the_error_summary(self, client):
        user = UserFactory()
        client.force_login(user)

        response = client.post(TOKENS, {"name": "   "})

        html = response.content.decode()
        assert '<a href="#id_name">Enter a name for the token</a>' in html
        assert 'role="alert"' in html
        assert not PersonalToken.objects.exists()

    def test_a_name_too_long_is_refused(self, client):
        client.force_login(UserFactory())

        response = client.post(TOKENS, {"name": "x" * 101})

        assert "100 characters or fewer" in response.content.decode()
        assert not PersonalToken.objects.exists()

    def test_verified_staff_may_issue(self, client, sign_in_verified):
        user = NavigatorFactory()
        sign_in_verified(client, user)

        assert client.post(TOKENS, {"name": "Caseload script"}).status_code == 200
        assert user.personal_tokens.count() == 1


class TestTokenRevoke:
    def test_asks_for_confirmation_first(self, client):
        user = UserFactory()
        token, raw = services.personal_token_issue(user=user, name="Budget app", issued_by=user)
        client.force_login(user)

        response = client.get(revoke_url(token))

        assert response.status_code == 200
        html = response.content.decode()
        assert "Are you sure you want to revoke" in html and "Budget app" in html
        assert 'method="post"' in html
        token.refresh_from_db()
        assert token.is_active
        assert services.personal_token_authenticate(raw=raw) == user

    def test_confirming_revokes_at_once(self, client):
        user = UserFactory()
        token, raw = services.personal_token_issue(user=user, name="Budget app", issued_by=user)
        client.force_login(user)

        response = client.post(revoke_url(token))

        assert response["Location"] == TOKENS
        assert services.personal_token_authenticate(raw=raw) is None
        assert "You revoked the token Budget app" in client.get(TOKENS).content.decode()

    def test_revoking_again_says_so(self, client):
        user = UserFactory()
        token, _ = services.personal_token_issue(user=user, name="Budget app", issued_by=user)
        client.force_login(user)
        client.post(revoke_url(token))

        response = client.post(revoke_url(token), follow=True)

        assert "already revoked" in response.content.decode()

    def test_someone_elses_token_is_not_found(self, client):
        other = UserFactory()
        token, raw = services.personal_token_issue(user=other, name="Theirs", issued_by=other)
        client.force_login(UserFactory())

        assert client.get(revoke_url(token)).status_code == 404
        assert client.post(revoke_url(token)).status_code == 404
        assert services.personal_token_authenticate(raw=raw) == other

    def test_an_unknown_token_is_not_found(self, client):
        client.force_login(UserFactory())

        assert client.post(reverse("web:token-revoke", args=["tok_nothing"])).status_code == 404
