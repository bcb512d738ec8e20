"""Searching the directory: filters, each ranking rule, pagination, errors and a flat query count."""

from datetime import date
from decimal import Decimal

import pytest

from directory.models import ServiceStatus
from directory.postcodes import InvalidPostcode, UnknownPostcode
from directory.selectors.search import InvalidSearch, ServiceSearch, services_search
from tests.budgets.factories import FundingStreamFactory
from tests.budgets.factories import ServiceFactory as CatalogueServiceFactory
from tests.directory.factories import (
    AttributeFactory,
    CostOptionFactory,
    LocationFactory,
    PostcodeFactory,
    ServiceAtLocationFactory,
    ServiceFactory,
    TaxonomyTermFactory,
)

TODAY = date(2026, 12, 4)
FRESH = date(2026, 11, 1)
STALE = date(2026, 1, 1)
LEEDS = (Decimal("53.799500"), Decimal("-1.549100"))
BRADFORD = (Decimal("53.795000"), Decimal("-1.752000"))
YORK = (Decimal("53.958300"), Decimal("-1.080300"))

pytestmark = pytest.mark.django_db


def names(query: ServiceSearch) -> list[str]:
    return [result.service.name for result in services_search(query=query, today=TODAY).results]


def placed(name: str, at: tuple[Decimal, Decimal], **kwargs):
    service = ServiceFactory(name=name, assured_date=FRESH, **kwargs)
    ServiceAtLocationFactory(service=service, location=LocationFactory(latitude=at[0], longitude=at[1]))
    return service


@pytest.fixture
def postcodes():
    PostcodeFactory(postcode="LS1 5HD", latitude=LEEDS[0], longitude=LEEDS[1])
    PostcodeFactory(postcode="BD1 1HY", latitude=BRADFORD[0], longitude=BRADFORD[1])


class TestStatus:
    def test_only_open_services_by_default_temporarily_closed_after_active(self):
        ServiceFactory(name="A closed", status=ServiceStatus.TEMPORARILY_CLOSED, assured_date=FRESH)
        ServiceFactory(name="B open", assured_date=FRESH)
        ServiceFactory(name="C inactive", status=ServiceStatus.INACTIVE, assured_date=FRESH)
        ServiceFactory(name="D defunct", status=ServiceStatus.DEFUNCT, assured_date=FRESH)

        assert names(ServiceSearch()) == ["B open", "A closed"]

    def test_include_inactive_adds_them_last(self):
        ServiceFactory(name="A defunct", status=ServiceStatus.DEFUNCT, assured_date=FRESH)
        ServiceFactory(name="B inactive", status=ServiceStatus.INACTIVE, assured_date=FRESH)
        ServiceFactory(name="C open", assured_date=FRESH)

        assert names(ServiceSearch(include_inactive=True)) == ["C open", "B inactive", "A defunct"]


class TestTerms:
    def test_a_term_matches_itself_and_descendants_to_4_levels_exact_first(self):
        need = TaxonomyTermFactory(name="Mobility")
        child = TaxonomyTermFactory(name="Wheelchairs", parent=need)
        level_2 = TaxonomyTermFactory(parent=child)
        level_3 = TaxonomyTermFactory(parent=level_2)
        level_4 = TaxonomyTermFactory(parent=level_3)
        level_5 = TaxonomyTermFactory(parent=level_4)
        other = TaxonomyTermFactory(name="Housing")
        for name, term in [
            ("A child", child),
            ("B level 4", level_4),
            ("C too deep", level_5),
            ("D other", other),
            ("E exact", need),
        ]:
            AttributeFactory(service=ServiceFactory(name=name, assured_date=FRESH), taxonomy_term=term)

        assert names(ServiceSearch(term_ids=[need.id])) == ["E exact", "A child", "B level 4"]

    def test_several_terms_match_any(self):
        first, second = TaxonomyTermFactory(), TaxonomyTermFactory()
        AttributeFactory(service=ServiceFactory(name="A", assured_date=FRESH), taxonomy_term=first)
        AttributeFactory(service=ServiceFactory(name="B", assured_date=FRESH), taxonomy_term=second)
        ServiceFactory(name="C", assured_date=FRESH)

        assert names(ServiceSearch(term_ids=[first.id, second.id])) == ["A", "B"]

    def test_an_unknown_term_matches_nothing(self):
        ServiceFactory()

        assert names(ServiceSearch(term_ids=[TaxonomyTermFactory.build().id])) == []

    def test_a_malformed_term_id_is_refused(self):
        with pytest.raises(InvalidSearch) as raised:
            services_search(query=ServiceSearch(term_ids=["not-a-uuid"]), today=TODAY)

        assert raised.value.field == "term_ids"

    def test_term_ids_may_be_strings(self):
        term = TaxonomyTermFactory()
        AttributeFactory(service=ServiceFactory(name="A", assured_date=FRESH), taxonomy_term=term)

        assert names(ServiceSearch(term_ids=[str(term.id)])) == ["A"]


class TestWords:
    def test_name_before_term_name_before_description(self):
        ServiceFactory(name="A plain", description="We lend a wheelchair.", assured_date=FRESH)
        AttributeFactory(
            service=ServiceFactory(name="B tagged", description="", assured_date=FRESH),
            taxonomy_term=TaxonomyTermFactory(name="Wheelchair loans"),
        )
        ServiceFactory(name="C Wheelchair repairs", description="", assured_date=FRESH)
        ServiceFactory(name="D unrelated", description="Gardening.", assured_date=FRESH)

        assert names(ServiceSearch(text="WHEELCHAIR")) == ["C Wheelchair repairs", "B tagged", "A plain"]

    def test_every_word_must_match_and_more_matches_rank_higher(self):
        ServiceFactory(name="A swimming", description="Sessions for carers.", assured_date=FRESH)
        ServiceFactory(name="B swimming for carers", description="", assured_date=FRESH)
        ServiceFactory(name="C swimming", description="For everyone.", assured_date=FRESH)

        assert names(ServiceSearch(text="swimming carers")) == ["B swimming for carers", "A swimming"]

    def test_like_wildcards_are_literal(self):
        ServiceFactory(name="A 100% fun", assured_date=FRESH)
        ServiceFactory(name="B 100 fun", assured_date=FRESH)

        assert names(ServiceSearch(text="100%")) == ["A 100% fun"]


class TestCost:
    def test_free_only_and_lowest_cost(self):
        ServiceFactory(name="A no options", assured_date=FRESH)
        free = ServiceFactory(name="B free option", assured_date=FRESH)
        CostOptionFactory(service=free, amount=None)
        CostOptionFactory(service=free, amount=Decimal("12.00"))
        zero = ServiceFactory(name="C zero", assured_date=FRESH)
        CostOptionFactory(service=zero, amount=Decimal("0"))
        paid = ServiceFactory(name="D paid", assured_date=FRESH)
        CostOptionFactory(service=paid, amount=Decimal("7.50"))
        CostOptionFactory(service=paid, amount=Decimal("15.00"))
        expired_free = ServiceFactory(name="E only paid today", assured_date=FRESH)
        CostOptionFactory(service=expired_free, amount=None, valid_to=date(2026, 1, 1))
        CostOptionFactory(service=expired_free, amount=Decimal("3.00"))

        everything = services_search(query=ServiceSearch(), today=TODAY).results
        free_only = names(ServiceSearch(free_only=True))

        assert free_only == ["A no options", "B free option", "C zero"]
        by_name = {result.service.name: result for result in everything}
        assert by_name["A no options"].is_free and by_name["A no options"].lowest_cost == Decimal("0.00")
        assert by_name["B free option"].lowest_cost == Decimal("0.00")
        assert not by_name["D paid"].is_free and by_name["D paid"].lowest_cost == Decimal("7.50")
        assert by_name["E only paid today"].lowest_cost == Decimal("3.00")

    def test_max_cost_keeps_services_whose_lowest_cost_is_at_most_it(self):
        for name, amount in [("A cheap", "9.99"), ("B exactly", "10.00"), ("C dear", "10.01")]:
            CostOptionFactory(service=ServiceFactory(name=name, assured_date=FRESH), amount=Decimal(amount))
        two_prices = ServiceFactory(name="D dear or cheap", assured_date=FRESH)
        CostOptionFactory(service=two_prices, amount=Decimal("80.00"))
        CostOptionFactory(service=two_prices, amount=Decimal("2.00"))

        assert names(ServiceSearch(max_cost=Decimal("10"))) == ["A cheap", "B exactly", "D dear or cheap"]

    def test_stream_filter_and_the_streams_that_can_pay(self):
        social_care = FundingStreamFactory(code="ASC")
        health = FundingStreamFactory(code="CHC")
        both = ServiceFactory(name="A both", assured_date=FRESH)
        CostOptionFactory(
            service=both, amount=Decimal("20"), catalogue_service=CatalogueServiceFactory(stream=health)
        )
        CostOptionFactory(
            service=both, amount=Decimal("18"), catalogue_service=CatalogueServiceFactory(stream=social_care)
        )
        health_only = ServiceFactory(name="B health", assured_date=FRESH)
        CostOptionFactory(
            service=health_only,
            amount=Decimal("20"),
            catalogue_service=CatalogueServiceFactory(stream=health),
        )
        CostOptionFactory(
            service=ServiceFactory(name="C self-funded", assured_date=FRESH), amount=Decimal("5")
        )

        results = services_search(query=ServiceSearch(stream_code="ASC"), today=TODAY).results

        assert [result.service.name for result in results] == ["A both"]
        assert [stream.code for stream in results[0].streams] == ["ASC", "CHC"]


class TestDistance:
    def test_nearer_first_with_the_nearest_place_and_its_distance(self, postcodes):
        placed("A York", YORK)
        placed("B Bradford", BRADFORD)
        leeds_and_york = placed("C Leeds", LEEDS)
        ServiceAtLocationFactory(
            service=leeds_and_york, location=LocationFactory(latitude=YORK[0], longitude=YORK[1])
        )
        ServiceFactory(name="D online only", assured_date=FRESH)

        results = services_search(query=ServiceSearch(postcode="ls1 5hd"), today=TODAY).results

        assert [result.service.name for result in results] == [
            "C Leeds",
            "B Bradford",
            "A York",
            "D online only",
        ]
        assert results[0].distance_miles == Decimal("0.0")
        assert results[0].nearest_location.latitude == LEEDS[0]
        assert results[1].distance_miles == Decimal("8.3")
        assert results[3].distance_miles is None and results[3].nearest_location is None

    def test_within_miles(self, postcodes):
        placed("A Bradford", BRADFORD)
        placed("B Leeds", LEEDS)
        placed("C York", YORK)

        assert names(ServiceSearch(postcode="LS1 5HD", within_miles=Decimal("8.5"))) == [
            "B Leeds",
            "A Bradford",
        ]
        assert names(ServiceSearch(postcode="LS1 5HD", within_miles=Decimal("8"))) == ["B Leeds"]

    def test_an_approximate_outward_code_postcode(self, postcodes):
        placed("A Leeds", LEEDS)
        placed("B Bradford", BRADFORD)

        found = services_search(query=ServiceSearch(postcode="BD1 9ZZ"), today=TODAY)

        assert found.origin.is_approximate is True
        assert [result.service.name for result in found.results] == ["B Bradford", "A Leeds"]

    def test_unknown_and_malformed_postcodes_give_named_errors(self, postcodes):
        with pytest.raises(UnknownPostcode) as unknown:
            services_search(query=ServiceSearch(postcode="ZZ9 9ZZ"), today=TODAY)
        with pytest.raises(InvalidPostcode) as malformed:
            services_search(query=ServiceSearch(postcode="LEEDS"), today=TODAY)

        assert unknown.value.code == "unknown_postcode"
        assert malformed.value.code == "invalid_postcode"

    def test_a_distance_without_a_postcode_is_refused(self):
        with pytest.raises(InvalidSearch) as raised:
            services_search(query=ServiceSearch(within_miles=Decimal("5")), today=TODAY)

        assert raised.value.field == "postcode"


class TestRankingOrder:
    def test_relevance_before_distance(self, postcodes):
        term = TaxonomyTermFactory()
        far_exact = placed("A far exact", YORK)
        AttributeFactory(service=far_exact, taxonomy_term=term)
        near_child = placed("B near child", LEEDS)
        AttributeFactory(service=near_child, taxonomy_term=TaxonomyTermFactory(parent=term))

        assert names(ServiceSearch(term_ids=[term.id], postcode="LS1 5HD")) == ["A far exact", "B near child"]

    def test_distance_before_staleness(self, postcodes):
        near_stale = placed("A near stale", LEEDS)
        near_stale.assured_date = STALE
        near_stale.save()
        placed("B far fresh", BRADFORD)

        assert names(ServiceSearch(postcode="LS1 5HD")) == ["A near stale", "B far fresh"]

    def test_fresh_before_stale_then_most_recently_reviewed_then_name(self):
        ServiceFactory(name="A never reviewed", assured_date=None)
        ServiceFactory(name="B stale", assured_date=STALE)
        ServiceFactory(name="C fresh, older", assured_date=date(2026, 7, 1))
        ServiceFactory(name="D fresh, newest", assured_date=FRESH)
        ServiceFactory(name="E fresh, newest", assured_date=FRESH)

        results = services_search(query=ServiceSearch(), today=TODAY).results

        assert [result.service.name for result in results] == [
            "D fresh, newest",
            "E fresh, newest",
            "C fresh, older",
            "B stale",
            "A never reviewed",
        ]
        assert [result.is_stale for result in results] == [False, False, False, True, True]
        assert results[0].last_reviewed_date == FRESH


class TestPagination:
    def test_pages_are_stable_and_cover_every_service_once(self):
        for _ in range(7):
            ServiceFactory(name="Same name", assured_date=FRESH)
        ServiceFactory(name="Other", assured_date=FRESH)

        pages = [
            services_search(query=ServiceSearch(page=page, page_size=3), today=TODAY) for page in (1, 2, 3)
        ]
        again = services_search(query=ServiceSearch(page=2, page_size=3), today=TODAY)

        ids = [result.service.id for page in pages for result in page.results]
        assert len(ids) == 8 and len(set(ids)) == 8
        assert [r.service.id for r in again.results] == [r.service.id for r in pages[1].results]
        assert (pages[0].total, pages[0].page_count, pages[0].has_next, pages[2].has_next) == (
            8,
            3,
            True,
            False,
        )
        assert services_search(query=ServiceSearch(page=4, page_size=3), today=TODAY).results == ()

    @pytest.mark.parametrize(
        ("page", "page_size", "field"), [(0, 10, "page"), (1, 0, "page_size"), (1, 51, "page_size")]
    )
    def test_bad_pages_are_refused(self, page, page_size, field):
        with pytest.raises(InvalidSearch) as raised:
            services_search(query=ServiceSearch(page=page, page_size=page_size), today=TODAY)

        assert raised.value.field == field

    def test_a_negative_max_cost_is_refused(self):
        with pytest.raises(InvalidSearch) as raised:
            services_search(query=ServiceSearch(max_cost=Decimal("-1")), today=TODAY)

        assert raised.value.field == "max_cost"


class TestQueryCount:
    @pytest.mark.parametrize("count", [2, 30])
    def test_queries_do_not_grow_with_services(self, count, postcodes, django_assert_max_num_queries):
        stream = FundingStreamFactory()
        parent = TaxonomyTermFactory(name="Support")
        child = TaxonomyTermFactory(name="Support at home", parent=parent)
        for index in range(count):
            service = placed(f"Support {index}", LEEDS)
            ServiceAtLocationFactory(
                service=service, location=LocationFactory(latitude=BRADFORD[0], longitude=BRADFORD[1])
            )
            CostOptionFactory(
                service=service, amount=Decimal("5"), catalogue_service=CatalogueServiceFactory(stream=stream)
            )
            CostOptionFactory(service=service, amount=None)
            AttributeFactory(service=service, taxonomy_term=child if index % 2 else parent)

        query = ServiceSearch(
            text="support",
            term_ids=[parent.id],
            max_cost=Decimal("10"),
            stream_code=stream.code,
            postcode="LS1 5HD",
            within_miles=Decimal("20"),
            page_size=50,
        )
        # locate 1, descendants (2 here), count 1, page 1, places 1, addresses 1, cost options 1.
        with django_assert_max_num_queries(8):
            found = services_search(query=query, today=TODAY)

        assert found.total == count
        assert all(result.streams == (stream,) for result in found.results)
