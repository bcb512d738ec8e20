import re

import pytest
from django.urls import reverse

from people import services
from people.models import ProviderApiKey
from tests.people.factories import (
    AdministratorFactory,
    AgencyOfficerFactory,
    NavigatorFactory,
    ProviderFactory,
    ProviderUserFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

KEYS = reverse("web:api-keys")


def revoke_url(key) -> str:
    return reverse("web:api-key-revoke", args=[key.public_id])


class TestApiKeyList:
    def test_lists_the_providers_keys_with_created_last_used_and_status(self, client):
        member = ProviderUserFactory()
        provider = member.organisation
        live, raw = services.provider_api_key_issue(provider=provider, name="Rota system", issued_by=member)
        revoked, _ = services.provider_api_key_issue(
            provider=provider, name="Old invoicing", issued_by=member
        )
        services.provider_api_key_revoke(key=revoked, revoked_by=member)
        services.provider_api_key_issue(provider=ProviderFactory(), name="Another provider's", issued_by=None)
        services.provider_api_key_authenticate(raw=raw)
        client.force_login(member)

        response = client.get(KEYS)

        html = response.content.decode()
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"]
        assert "Rota system" in html and "Old invoicing" in html
        assert "Another provider" not in html
        assert "Never" not in html.split("Rota system")[1].split("</dl>")[0]
        assert "Active" in html and "Revoked" in html
        assert revoke_url(live) in html and revoke_url(revoked) not in html
        assert len(re.findall(r"<h1[ >]", html)) == 1

    def test_a_colleague_sees_the_same_keys(self, client):
        member = ProviderUserFactory()
        services.provider_api_key_issue(provider=member.organisation, name="Rota system", issued_by=member)
        client.force_login(ProviderUserFactory(organisation=member.organisation))

        assert "Rota system" in client.get(KEYS).content.decode()

    def test_needs_sign_in(self, client):
        assert client.get(KEYS)["Location"].startswith(reverse("web:sign-in"))

    @pytest.mark.parametrize(
        "factory", [UserFactory, AgencyOfficerFactory, NavigatorFactory, AdministratorFactory]
    )
    def test_other_roles_are_refused(self, client, sign_in_verified, factory):
        user = factory()
        if user.needs_second_factor:
            sign_in_verified(client, user)
        else:
            client.force_login(user)

        assert client.get(KEYS).status_code == 403
        assert client.post(KEYS, {"name": "Sneaky"}).status_code == 403
        assert not ProviderApiKey.objects.exists()


class TestApiKeyIssue:
    def test_shows_the_key_once_with_a_warning(self, client):
        member = ProviderUserFactory()
        client.force_login(member)

        response = client.post(KEYS, {"name": "Rota system"})

        html = response.content.decode()
        raw = re.search(r'<code id="new-key">([^<]+)</code>', html).group(1)
        assert response.status_code == 200
        assert "you will not see it again" in html
        assert "no-store" in response["Cache-Control"]
        user, key = services.provider_api_key_authenticate(raw=raw)
        assert user.organisation == member.organisation
        assert key.created_by == member
        assert raw not in client.get(KEYS).content.decode()

    def test_a_blank_name_is_refused_with_the_error_summary(self, client):
        client.force_login(ProviderUserFactory())

        response = client.post(KEYS, {"name": "   "})

        html = response.content.decode()
        assert '<a href="#id_name">Enter a name for the key</a>' in html
        assert not ProviderApiKey.objects.exists()

    def test_a_name_too_long_is_refused(self, client):
        client.force_login(ProviderUserFactory())

        response = client.post(KEYS, {"name": "x" * 101})

        assert "100 characters or fewer" in response.content.decode()
        assert not ProviderApiKey.objects.exists()


class TestApiKeyRevoke:
    def test_asks_for_confirmation_first(self, client):
        member = ProviderUserFactory()
        key, raw = services.provider_api_key_issue(
            provider=member.organisation, name="Rota", issued_by=member
        )
        client.force_login(member)

        response = client.get(revoke_url(key))

        html = response.content.decode()
        assert response.status_code == 200
        assert "Are you sure you want to revoke" in html and "Rota" in html
        assert 'method="post"' in html
        assert services.provider_api_key_authenticate(raw=raw) is not None

    def test_confirming_revokes_at_once(self, client):
        member = ProviderUserFactory()
        key, raw = services.provider_api_key_issue(
            provider=member.organisation, name="Rota", issued_by=member
        )
        client.force_login(member)

        response = client.post(revoke_url(key))

        assert response["Location"] == KEYS
        assert services.provider_api_key_authenticate(raw=raw) is None
        key.refresh_from_db()
        assert key.revoked_by == member
        assert "You revoked the API key Rota" in client.get(KEYS).content.decode()

    def test_revoking_again_says_so(self, client):
        member = ProviderUserFactory()
        key, _ = services.provider_api_key_issue(provider=member.organisation, name="Rota", issued_by=member)
        client.force_login(member)
        client.post(revoke_url(key))

        assert "already revoked" in client.post(revoke_url(key), follow=True).content.decode()
        assert "already revoked" in client.get(revoke_url(key), follow=True).content.decode()

    def test_another_providers_key_is_not_found(self, client):
        key, raw = services.provider_api_key_issue(provider=ProviderFactory(), name="Theirs", issued_by=None)
        client.force_login(ProviderUserFactory())

        assert client.get(revoke_url(key)).status_code == 404
        assert client.post(revoke_url(key)).status_code == 404
        assert services.provider_api_key_authenticate(raw=raw) is not None
