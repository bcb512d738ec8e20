"""The directory's tables hold the shape of the Open Referral UK records in the database itself."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from directory.models import Service, ServiceStatus
from tests.directory.factories import (
    AttributeFactory,
    CostOptionFactory,
    LocationFactory,
    PhoneFactory,
    ScheduleFactory,
    ServiceAtLocationFactory,
    ServiceFactory,
)

pytestmark = pytest.mark.django_db


def _refused(make) -> bool:
    try:
        with transaction.atomic():
            make()
    except IntegrityError:
        return True
    return False


class TestServices:
    def test_each_status_of_the_standard_is_kept(self):
        for status in ServiceStatus.values:
            service = ServiceFactory(status=status)
            assert Service.objects.get(pk=service.pk).status == status

    def test_a_status_outside_the_standard_is_refused(self):
        assert _refused(lambda: ServiceFactory(status="closed"))

    def test_the_age_range_must_be_in_order(self):
        assert _refused(lambda: ServiceFactory(minimum_age=18, maximum_age=16))
        assert not _refused(lambda: ServiceFactory(minimum_age=16, maximum_age=16))
        assert not _refused(lambda: ServiceFactory(minimum_age=16, maximum_age=None))


class TestLocations:
    def test_coordinates_come_both_or_neither(self):
        assert _refused(lambda: LocationFactory(latitude=Decimal("53.8"), longitude=None))
        assert not _refused(lambda: LocationFactory(latitude=None, longitude=None))

    def test_coordinates_are_on_the_earth(self):
        assert _refused(lambda: LocationFactory(latitude=Decimal("91"), longitude=Decimal("0")))
        assert _refused(lambda: LocationFactory(latitude=Decimal("0"), longitude=Decimal("-181")))

    def test_a_service_is_at_a_location_once(self):
        place = ServiceAtLocationFactory()
        assert _refused(lambda: ServiceAtLocationFactory(service=place.service, location=place.location))


class TestBelongings:
    def test_a_phone_belongs_to_the_service_or_to_a_contact_not_both(self):
        service = ServiceFactory()
        assert _refused(lambda: PhoneFactory(service=None, contact=None))
        assert not _refused(lambda: PhoneFactory(service=service))

    def test_a_schedule_belongs_to_the_service_or_to_one_of_its_places(self):
        place = ServiceAtLocationFactory()
        assert _refused(lambda: ScheduleFactory(service=place.service, service_at_location=place))
        assert not _refused(lambda: ScheduleFactory(service=None, service_at_location=place))

    def test_a_term_is_applied_to_a_service_once(self):
        attribute = AttributeFactory()
        assert _refused(
            lambda: AttributeFactory(service=attribute.service, taxonomy_term=attribute.taxonomy_term)
        )


class TestCostOptions:
    def test_no_amount_is_free_and_a_negative_one_is_refused(self):
        assert CostOptionFactory().amount is None
        assert _refused(lambda: CostOptionFactory(amount=Decimal("-0.01")))

    def test_the_dates_a_cost_applies_must_be_in_order(self):
        from datetime import date

        assert _refused(lambda: CostOptionFactory(valid_from=date(2026, 5, 1), valid_to=date(2026, 4, 30)))
