import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from people import services as people_services
from plans.models import PlanVersionStatus
from tests.people.factories import ProviderFactory, ProviderUserFactory
from tests.plans.factories import SupportItemFactory

pytestmark = pytest.mark.django_db

ME = "/api/v1/me/"
PEOPLE = "/api/v1/people/"


def client_with_key(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def issue(provider) -> tuple:
    return people_services.provider_api_key_issue(provider=provider, name="Rota", issued_by=None)


def engaged_with(provider):
    """A budget holder whose active plan has an item from `provider`."""
    item = SupportItemFactory(version__status=PlanVersionStatus.ACTIVE, provider=provider)
    return item.version.plan.budget_holder


class TestProviderKeyAuthentication:
    def test_a_key_acts_as_its_providers_service_account(self):
        provider = ProviderFactory(name="Bright Care")
        key, raw = issue(provider)

        response = client_with_key(raw).get(ME)

        assert response.status_code == 200
        body = response.json()
        assert body["id"] == key.service_user.public_id
        assert body["role"] == "provider_user"
        assert body["username"] == f"{provider.slug}-api"
        assert body["organisation"] == {"id": provider.public_id, "kind": "provider", "name": "Bright Care"}

    def test_a_revoked_key_is_refused_at_once(self):
        key, raw = issue(ProviderFactory())
        client = client_with_key(raw)
        assert client.get(ME).status_code == 200

        people_services.provider_api_key_revoke(key=key, revoked_by=None)

        response = client.get(ME)
        assert response.status_code == 401
        assert response["Content-Type"] == "application/problem+json"
        assert "revoked" in response.json()["detail"]
        assert response["WWW-Authenticate"]

    def test_a_wrong_key_is_a_401_problem(self):
        _, raw = issue(ProviderFactory())

        response = client_with_key(raw[:-2] + "xx").get(ME)

        assert response.status_code == 401
        assert response.json()["status"] == 401
        assert response["WWW-Authenticate"]

    def test_a_header_with_extra_words_is_a_clear_401(self):
        _, raw = issue(ProviderFactory())

        response = APIClient().get(ME, HTTP_AUTHORIZATION=f"Bearer {raw} extra")

        assert response.status_code == 401
        assert "one space" in response.json()["detail"]

    def test_a_personal_token_sent_as_bearer_is_refused(self):
        user = ProviderUserFactory()
        _, raw = people_services.personal_token_issue(user=user, name="mine", issued_by=user)

        assert client_with_key(raw).get(ME).status_code == 401


class TestProviderKeyScope:
    def test_a_key_sees_only_the_people_its_provider_is_engaged_by(self):
        provider_a, provider_b = ProviderFactory(), ProviderFactory()
        alex = engaged_with(provider_a)
        sam = engaged_with(provider_b)
        _, raw_a = issue(provider_a)
        _, raw_b = issue(provider_b)

        seen_by_a = [person["id"] for person in client_with_key(raw_a).get(PEOPLE).json()["results"]]
        seen_by_b = [person["id"] for person in client_with_key(raw_b).get(PEOPLE).json()["results"]]

        assert seen_by_a == [alex.public_id]
        assert seen_by_b == [sam.public_id]
        assert client_with_key(raw_a).get(f"{PEOPLE}{sam.public_id}/").status_code == 404
        assert client_with_key(raw_a).get(f"{PEOPLE}{alex.public_id}/").status_code == 200


class TestProviderKeyRateLimit:
    @pytest.fixture(autouse=True)
    def _tiny_rate(self, settings):
        cache.clear()
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {"provider_key": "2/minute"},
        }
        yield
        cache.clear()

    def test_over_the_rate_is_a_429_problem_with_retry_after(self):
        _, raw = issue(ProviderFactory())
        client = client_with_key(raw)

        statuses = [client.get(ME).status_code for _ in range(3)]

        assert statuses == [200, 200, 429]
        response = client.get(ME)
        assert response.status_code == 429
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["type"].endswith("/throttled")
        assert 1 <= int(response["Retry-After"]) <= 60

    def test_each_key_has_its_own_allowance(self):
        provider = ProviderFactory()
        _, first = issue(provider)
        _, second = issue(provider)
        for _ in range(2):
            client_with_key(first).get(ME)

        assert client_with_key(first).get(ME).status_code == 429
        assert client_with_key(second).get(ME).status_code == 200

    def test_personal_tokens_are_not_limited_by_the_key_rate(self):
        user = ProviderUserFactory()
        _, raw = people_services.personal_token_issue(user=user, name="mine", issued_by=user)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")

        assert [client.get(ME).status_code for _ in range(3)] == [200, 200, 200]


class TestSchema:
    def test_the_schema_describes_the_bearer_scheme(self):
        user = ProviderUserFactory()
        _, raw = people_services.personal_token_issue(user=user, name="mine", issued_by=user)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")

        schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

        assert schema["components"]["securitySchemes"]["providerKey"]["scheme"] == "bearer"
