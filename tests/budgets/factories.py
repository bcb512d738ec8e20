"""factory_boy factories for budgets' catalogue: funding streams, spending categories, services, rates and
on-cost rules. Money is integer minor units; dates default to the 2026/27 budget year."""

from datetime import date
from decimal import Decimal

import factory

from budgets.models import (
    FundingStream,
    OnCostKind,
    OnCostRule,
    PolicySector,
    Rate,
    Service,
    SpendingCategory,
    Unit,
)
from tests.people.factories import AgencyFactory

BUDGET_YEAR_START = date(2026, 4, 1)


class FundingStreamFactory(factory.django.DjangoModelFactory):
    """A stream in GBP with no contingency and no contribution unless told otherwise."""

    class Meta:
        model = FundingStream

    code = factory.Sequence(lambda n: f"S{n:03d}")
    name = factory.LazyAttribute(lambda stream: f"Stream {stream.code}")
    agency = factory.SubFactory(AgencyFactory)
    policy_sector = PolicySector.SOCIAL_CARE
    currency = "GBP"
    charges_contribution = False
    contingency_percent = Decimal("0")


class SpendingCategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SpendingCategory

    stream = factory.SubFactory(FundingStreamFactory)
    code = factory.Sequence(lambda n: f"category-{n}")
    name = factory.Sequence(lambda n: f"Category {n}")


class ServiceFactory(factory.django.DjangoModelFactory):
    """A catalogue service (per hour unless told otherwise); give it a price with `RateFactory`."""

    class Meta:
        model = Service

    stream = factory.SubFactory(FundingStreamFactory)
    service_code = factory.Sequence(lambda n: f"SVC-{n}")
    description = factory.Sequence(lambda n: f"Service {n}")
    unit = Unit.HOUR
    category = None
    is_active = True


class RateFactory(factory.django.DjangoModelFactory):
    """A service's unit cost from the start of the 2026/27 budget year, open-ended."""

    class Meta:
        model = Rate

    service = factory.SubFactory(ServiceFactory)
    unit_cost_minor = 2450
    valid_from = BUDGET_YEAR_START
    valid_to = None


class OnCostRuleFactory(factory.django.DjangoModelFactory):
    """A service's percentage on-cost; `fixed_yearly=True` makes it a yearly sum instead."""

    class Meta:
        model = OnCostRule

    service = factory.SubFactory(ServiceFactory)
    stream = None
    name = factory.Sequence(lambda n: f"On-cost {n}")
    kind = OnCostKind.PERCENTAGE
    percent = Decimal("12.07")
    amount_minor_per_year = None
    valid_from = BUDGET_YEAR_START
    valid_to = None

    class Params:
        fixed_yearly = factory.Trait(kind=OnCostKind.FIXED_YEARLY, percent=None, amount_minor_per_year=15000)


class StreamOnCostRuleFactory(OnCostRuleFactory):
    """An on-cost attached to a whole stream: it applies to every line the stream pays for."""

    service = None
    stream = factory.SubFactory(FundingStreamFactory)
