import pytest
from rest_framework.test import APIClient

from people import services as people_services
from tests.people.factories import (
    AgencyOfficerFactory,
    FinanceOfficerFactory,
    NavigatorFactory,
    ProviderUserFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return APIClient()


def _token_for(user):
    _, raw = people_services.personal_token_issue(user=user, name="test", issued_by=user)
    return raw


class TestPersonalTokenAuthentication:
    @pytest.mark.parametrize(
        "factory",
        [UserFactory, NavigatorFactory, AgencyOfficerFactory, ProviderUserFactory, FinanceOfficerFactory],
    )
    def test_a_token_carries_its_owner(self, api, factory):
        user = factory()
        api.credentials(HTTP_AUTHORIZATION=f"Token {_token_for(user)}")

        response = api.get("/api/v1/me/")

        assert response.status_code == 200
        assert response.json()["id"] == user.public_id
        assert response.json()["role"] == user.role
        assert response.json()["username"] == user.username

    def test_organisation_is_shown_for_an_agency_officer(self, api):
        officer = AgencyOfficerFactory()
        api.credentials(HTTP_AUTHORIZATION=f"Token {_token_for(officer)}")

        body = api.get("/api/v1/me/").json()

        assert body["organisation"] == {
            "id": officer.organisation.public_id,
            "kind": "agency",
            "name": officer.organisation.name,
        }

    def test_no_credentials_is_a_401_problem(self, api):
        response = api.get("/api/v1/me/")

        assert response.status_code == 401
        assert response["Content-Type"] == "application/problem+json"
        assert response["WWW-Authenticate"] == "Token"
        assert response.json()["status"] == 401

    def test_a_wrong_token_is_refused(self, api):
        api.credentials(HTTP_AUTHORIZATION="Token purse_notarealtoken")

        response = api.get("/api/v1/me/")

        assert response.status_code == 401
        assert "not valid" in response.json()["detail"]

    def test_a_revoked_token_is_refused_at_once(self, api):
        user = UserFactory()
        token, raw = people_services.personal_token_issue(user=user, name="phone", issued_by=user)
        api.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
        assert api.get("/api/v1/me/").status_code == 200

        people_services.personal_token_revoke(token=token, revoked_by=user)

        assert api.get("/api/v1/me/").status_code == 401

    def test_a_header_with_extra_words_is_a_clear_401(self, api):
        api.credentials(HTTP_AUTHORIZATION="Token one two")

        response = api.get("/api/v1/me/")

        assert response.status_code == 401
        assert "one space" in response.json()["detail"]

    def test_a_token_of_a_deactivated_user_is_refused(self, api):
        user = UserFactory()
        raw = _token_for(user)
        user.is_active = False
        user.save()
        api.credentials(HTTP_AUTHORIZATION=f"Token {raw}")

        assert api.get("/api/v1/me/").status_code == 401


class TestSessionAuthentication:
    def test_a_budget_holder_session_needs_no_second_factor(self, client):
        user = UserFactory()
        client.force_login(user)

        assert client.get("/api/v1/me/").status_code == 200

    def test_staff_without_a_second_factor_are_not_signed_in_to_the_api(self, client):
        client.force_login(NavigatorFactory())

        response = client.get("/api/v1/me/")

        assert response.status_code == 401

    def test_staff_with_a_second_factor_are_signed_in(self, client, sign_in_verified):
        navigator = NavigatorFactory()
        sign_in_verified(client, navigator)

        response = client.get("/api/v1/me/")

        assert response.status_code == 200
        assert response.json()["id"] == navigator.public_id


class TestApiErrors:
    def test_an_unknown_api_address_is_a_404_problem(self, api):
        response = api.get("/api/v1/no-such-thing/")

        assert response.status_code == 404
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["type"].endswith("/not_found")

    def test_a_method_not_allowed_is_a_405_problem(self, api):
        user = UserFactory()
        api.credentials(HTTP_AUTHORIZATION=f"Token {_token_for(user)}")

        response = api.post("/api/v1/me/", {}, format="json")

        assert response.status_code == 405
        assert response["Content-Type"] == "application/problem+json"


class TestSchema:
    def test_the_schema_is_openapi_3_1_and_describes_the_sign_in_schemes(self, api):
        response = api.get("/api/schema/?format=json")

        assert response.status_code == 200
        schema = response.json()
        assert schema["openapi"].startswith("3.1")
        assert "/api/v1/me/" in schema["paths"]
        assert set(schema["components"]["securitySchemes"]) >= {"personalToken", "session"}

    def test_the_schema_is_generated_without_warnings_or_errors(self):
        # What `manage.py check --deploy --fail-level WARNING` (CI) refuses: an enum name collision, say.
        from drf_spectacular.drainage import GENERATOR_STATS
        from drf_spectacular.generators import SchemaGenerator

        GENERATOR_STATS.reset()
        with GENERATOR_STATS.silence():
            SchemaGenerator().get_schema(request=None, public=True)
        assert (GENERATOR_STATS._warn_cache, GENERATOR_STATS._error_cache) == ({}, {})

    def test_the_browsable_docs_page_is_served(self, api):
        assert api.get("/api/docs/").status_code == 200
