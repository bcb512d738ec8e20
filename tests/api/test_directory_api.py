"""The directory's API: search for anyone signed in, each service in full in Open Referral UK's shape."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from directory.oruk import oruk_loads
from people import services as people_services
from tests.budgets.factories import ServiceFactory as CatalogueServiceFactory
from tests.directory.factories import (
    AddressFactory,
    AttributeFactory,
    CostOptionFactory,
    LocationFactory,
    PostcodeFactory,
    ServiceAtLocationFactory,
    ServiceFactory,
    TaxonomyTermFactory,
)
from tests.people.factories import (
    AdministratorFactory,
    AgencyOfficerFactory,
    FinanceOfficerFactory,
    NavigatorFactory,
    ProviderUserFactory,
    RepresentativeUserFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/directory/services/"


def _client(user) -> APIClient:
    client = APIClient()
    _, raw = people_services.personal_token_issue(user=user, name="test", issued_by=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    return client


@pytest.fixture
def api():
    return _client(UserFactory())


class TestWhoMaySearch:
    @pytest.mark.parametrize(
        "factory",
        [
            UserFactory,
            RepresentativeUserFactory,
            NavigatorFactory,
            ProviderUserFactory,
            AgencyOfficerFactory,
            FinanceOfficerFactory,
            AdministratorFactory,
        ],
    )
    def test_anyone_signed_in(self, factory):
        ServiceFactory(name="Walking group")
        response = _client(factory()).get(URL)
        assert response.status_code == 200
        assert [item["name"] for item in response.json()["results"]] == ["Walking group"]

    def test_nobody_signed_out(self):
        service = ServiceFactory()
        assert APIClient().get(URL).status_code == 401
        assert APIClient().get(f"{URL}{service.id}/").status_code == 401


class TestSearch:
    def test_a_result_says_what_a_person_needs_to_choose(self, api):
        catalogue = CatalogueServiceFactory(stream__code="ASC")
        service = ServiceFactory(name="Day centre", assured_date=date.today() - timedelta(days=200))
        place = ServiceAtLocationFactory(service=service)
        AddressFactory(location=place.location, postal_code="LS1 5HD")
        CostOptionFactory(service=service, amount=Decimal("12.50"), catalogue_service=catalogue)
        PostcodeFactory(postcode="LS1 5HD")
        item = api.get(URL, {"postcode": "ls15hd"}).json()["results"][0]
        assert item["is_free"] is False and item["lowest_cost"] == "12.50" and item["streams"] == ["ASC"]
        assert item["nearest_place"]["postal_code"] == "LS1 5HD" and item["distance_miles"] == "0.0"
        assert item["needs_review"] is True and item["organisation"]["name"] == service.organisation.name

    def test_words_terms_and_free_narrow_the_results(self, api):
        term = TaxonomyTermFactory(name="Befriending")
        befriending = ServiceFactory(name="Befriending scheme")
        AttributeFactory(service=befriending, taxonomy_term=term)
        paid = ServiceFactory(name="Paid befriending")
        CostOptionFactory(service=paid, amount=Decimal("20.00"))
        ServiceFactory(name="Swimming")
        assert {i["name"] for i in api.get(URL, {"q": "befriending"}).json()["results"]} == {
            "Befriending scheme",
            "Paid befriending",
        }
        assert [i["name"] for i in api.get(URL, {"term": str(term.id)}).json()["results"]] == [
            "Befriending scheme"
        ]
        names = {i["name"] for i in api.get(URL, {"q": "befriending", "free": "true"}).json()["results"]}
        assert names == {"Befriending scheme"}

    def test_pages_follow_by_cursor_with_nothing_twice(self, api):
        for number in range(5):
            ServiceFactory(name=f"Group {number}")
        seen, url = [], URL + "?page_size=2"
        while url:
            body = api.get(url).json()
            seen += [item["name"] for item in body["results"]]
            url = body["next"]
        assert seen == [f"Group {number}" for number in range(5)]

    def test_the_query_count_does_not_grow_with_the_page(self, api, django_assert_max_num_queries):
        def world(count):
            for _ in range(count):
                service = ServiceFactory()
                AddressFactory(location=ServiceAtLocationFactory(service=service).location)
                CostOptionFactory(service=service, catalogue_service=CatalogueServiceFactory())

        world(1)
        PostcodeFactory()
        with django_assert_max_num_queries(12) as one:
            api.get(URL, {"postcode": "LS1 5HD"})
        world(30)
        with django_assert_max_num_queries(len(one.captured_queries)):
            assert len(api.get(URL, {"postcode": "LS1 5HD", "page_size": 50}).json()["results"]) == 31


class TestBadQueries:
    @pytest.mark.parametrize(
        ("params", "pointer"),
        [
            ({"max_cost": "lots"}, "/max_cost"),
            ({"max_cost": "-1"}, "/max_cost"),
            ({"term": "not-a-uuid"}, "/term/0"),
            ({"page_size": "500"}, "/page_size"),
            ({"cursor": "nonsense!"}, "/cursor"),
            ({"free": "perhaps"}, "/free"),
        ],
    )
    def test_a_parameter_that_cannot_be_read_is_named(self, api, params, pointer):
        response = api.get(URL, params)
        assert response.status_code == 400
        assert [error["pointer"] for error in response.json()["errors"]] == [pointer]

    def test_a_malformed_or_unknown_postcode_is_named(self, api):
        malformed = api.get(URL, {"postcode": "LEEDS"})
        assert malformed.status_code == 422 and malformed.json()["errors"][0]["code"] == "invalid_postcode"
        unknown = api.get(URL, {"postcode": "ZZ9 9ZZ"})
        assert unknown.status_code == 422 and unknown.json()["errors"][0]["pointer"] == "/postcode"

    def test_a_distance_without_a_postcode_is_named(self, api):
        response = api.get(URL, {"within_miles": "5"})
        assert response.status_code == 422
        assert response.json()["errors"][0]["pointer"] == "/postcode"


class TestOneService:
    def test_it_comes_in_full_as_open_referral_uk_shapes_it(self, api):
        service = ServiceFactory(name="Counselling")
        CostOptionFactory(service=service, amount=Decimal("35.50"))
        ServiceAtLocationFactory(service=service, location=LocationFactory(latitude=Decimal("53.799512")))
        response = api.get(f"{URL}{service.id}/")
        assert response.status_code == 200 and response["Content-Type"] == "application/json"
        assert b'"amount": 35.50' in response.content
        body = oruk_loads(response.content)
        assert body["id"] == str(service.id) and body["organization"]["name"] == service.organisation.name

    def test_an_unknown_one_is_404(self, api):
        assert api.get(f"{URL}00000000-0000-4000-8000-000000000000/").status_code == 404
        assert api.get(f"{URL}not-a-uuid/").status_code == 404
