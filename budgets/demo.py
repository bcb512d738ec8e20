"""The demo world's funding streams (api.md, "Demo data"): the six streams of the Right to Control
trailblazer, their agencies, spending categories and rate catalogues. Demo only; the figures are realistic
for England in 2025/26 and 2026/27 but belong to no real council.

`seed_streams()` is idempotent: what exists is left as it is (an administrator may have changed it), and
only what is missing is created, through the same services the admin uses. It needs the agencies that
`people.demo.seed_people()` creates (Adult Social Care, Access to Work), so run that first. The demo people's
personal budgets are made by their support plans (`plans.demo`), not here.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction

from budgets.models import (
    FundingStream,
    OnCostKind,
    OnCostRule,
    PaymentFrequency,
    PolicySector,
    Rate,
    Service,
    SpendingCategory,
    Unit,
)
from budgets.services import catalogue as services
from ledger.money import money_parse
from people import services as people_services
from people.models import Organisation, OrganisationKind


@dataclass(frozen=True)
class DemoAgency:
    slug: str
    name: str
    contact_email: str
    contact_phone: str


@dataclass(frozen=True)
class DemoRate:
    valid_from: date
    unit_cost: str  # in the stream's currency, with its decimals


@dataclass(frozen=True)
class DemoOnCost:
    name: str
    kind: str
    valid_from: date
    percent: str | None = None
    amount_per_year: str | None = None  # in the stream's currency


@dataclass(frozen=True)
class DemoService:
    service_code: str
    description: str
    unit: str
    category: str
    rates: tuple[DemoRate, ...]
    on_costs: tuple[DemoOnCost, ...] = ()


@dataclass(frozen=True)
class DemoStream:
    code: str
    name: str
    agency_slug: str
    policy_sector: str
    payment_frequency: str
    description: str
    categories: tuple[tuple[str, str], ...]
    services: tuple[DemoService, ...]
    charges_contribution: bool = False
    contingency_percent: str = "0.00"
    surplus_threshold_weeks: str = "8.0"
    initial_float_weeks: int = 0
    currency: str = "GBP"


# Agencies this module creates; Adult Social Care (`northshire-asc`) and Access to Work (`jobcentre-atw`)
# come from people.demo.
AGENCIES = [
    DemoAgency(
        "ilf-dwp",
        "Independent Living Fund - national fund (DWP)",
        "ilf@ilf.example.org",
        "01632 960 400",
    ),
    DemoAgency(
        "jobcentre-wch",
        "Work Choice - Jobcentre Plus",
        "work.choice@jobcentre.example.org",
        "01632 960 210",
    ),
    DemoAgency(
        "dalesford-housing",
        "Housing Adaptations - Dalesford District Council",
        "adaptations@dalesford.example.org",
        "01632 960 500",
    ),
    DemoAgency(
        "northshire-sp",
        "Supporting People - Northshire County Council",
        "supporting.people@northshire.example.org",
        "01632 960 110",
    ),
]

APRIL_2025 = date(2025, 4, 1)
APRIL_2026 = date(2026, 4, 1)

# A personal assistant employed directly through a direct payment: what the employer pays on top of wages.
PA_ON_COSTS = (
    DemoOnCost("Holiday pay (5.6 weeks a year)", OnCostKind.PERCENTAGE, APRIL_2025, percent="12.07"),
    DemoOnCost("Employer's National Insurance", OnCostKind.PERCENTAGE, APRIL_2025, percent="15.00"),
    DemoOnCost("Employer's pension contribution", OnCostKind.PERCENTAGE, APRIL_2025, percent="3.00"),
    DemoOnCost(
        "Employer's liability insurance", OnCostKind.FIXED_YEARLY, APRIL_2025, amount_per_year="125.00"
    ),
    DemoOnCost("Payroll service", OnCostKind.FIXED_YEARLY, APRIL_2025, amount_per_year="240.00"),
)

STREAMS = [
    DemoStream(
        code="ASC",
        name="Adult Social Care",
        agency_slug="northshire-asc",
        policy_sector=PolicySector.SOCIAL_CARE,
        payment_frequency=PaymentFrequency.FOUR_WEEKLY,
        description="Care and support assessed by the council; the person may pay an assessed contribution.",
        charges_contribution=True,
        surplus_threshold_weeks="8.0",
        categories=(
            ("personal-care", "Personal care"),
            ("day-opportunities", "Day services and activities"),
            ("personal-assistants", "Employing personal assistants"),
            ("short-breaks", "Short breaks and respite"),
        ),
        services=(
            DemoService(
                "ASC-PC",
                "Personal care",
                Unit.HOUR,
                "personal-care",
                (DemoRate(APRIL_2025, "23.80"), DemoRate(APRIL_2026, "24.50")),
            ),
            DemoService(
                "ASC-DAY",
                "Day service",
                Unit.DAY,
                "day-opportunities",
                (DemoRate(APRIL_2025, "62.40"), DemoRate(APRIL_2026, "64.50")),
            ),
            DemoService(
                "ASC-PA",
                "Personal assistant (employed directly)",
                Unit.HOUR,
                "personal-assistants",
                (DemoRate(APRIL_2025, "13.10"), DemoRate(APRIL_2026, "13.60")),
                on_costs=PA_ON_COSTS,
            ),
            DemoService(
                "ASC-NIGHT",
                "Sleeping night support",
                Unit.NIGHT,
                "personal-care",
                (DemoRate(APRIL_2025, "105.00"), DemoRate(APRIL_2026, "110.00")),
            ),
            DemoService(
                "ASC-RESPITE",
                "Short break in a care home",
                Unit.WEEK,
                "short-breaks",
                (DemoRate(APRIL_2025, "925.00"), DemoRate(APRIL_2026, "960.00")),
            ),
        ),
    ),
    DemoStream(
        code="ILF",
        name="Independent Living Fund",
        agency_slug="ilf-dwp",
        policy_sector=PolicySector.SOCIAL_CARE,
        payment_frequency=PaymentFrequency.FOUR_WEEKLY,
        description="A top-up for personal assistance above the council's threshold.",
        surplus_threshold_weeks="8.0",
        categories=(("personal-assistance", "Personal assistance above the council threshold"),),
        services=(
            DemoService(
                "ILF-PC",
                "Personal care above the council threshold",
                Unit.HOUR,
                "personal-assistance",
                (DemoRate(APRIL_2025, "23.80"), DemoRate(APRIL_2026, "24.50")),
            ),
        ),
    ),
    DemoStream(
        code="ATW",
        name="Access to Work",
        agency_slug="jobcentre-atw",
        policy_sector=PolicySector.EMPLOYMENT,
        payment_frequency=PaymentFrequency.MONTHLY,
        description="Support needed at work: support worker hours, travel to work, communication support.",
        surplus_threshold_weeks="4.0",
        categories=(
            ("support-at-work", "Support workers at work"),
            ("travel-to-work", "Travel to and from work"),
            ("communication-support", "Communication support"),
        ),
        services=(
            DemoService(
                "ATW-SW",
                "Support worker at work",
                Unit.HOUR,
                "support-at-work",
                (DemoRate(APRIL_2025, "18.00"),),
            ),
            DemoService(
                "ATW-TRAVEL",
                "Taxi to or from work",
                Unit.JOURNEY,
                "travel-to-work",
                (DemoRate(APRIL_2025, "14.50"),),
            ),
            DemoService(
                "ATW-BSL",
                "British Sign Language interpreter",
                Unit.HOUR,
                "communication-support",
                (DemoRate(APRIL_2025, "48.00"),),
            ),
        ),
    ),
    DemoStream(
        code="WCH",
        name="Work Choice",
        agency_slug="jobcentre-wch",
        policy_sector=PolicySector.EMPLOYMENT,
        payment_frequency=PaymentFrequency.MONTHLY,
        description="Employment support programme: coaching into work and support once in work.",
        surplus_threshold_weeks="4.0",
        categories=(("employment-support", "Employment support"),),
        services=(
            DemoService(
                "WCH-COACH",
                "Employment coaching",
                Unit.HOUR,
                "employment-support",
                (DemoRate(APRIL_2025, "35.00"),),
            ),
            DemoService(
                "WCH-INWORK",
                "In-work support",
                Unit.HOUR,
                "employment-support",
                (DemoRate(APRIL_2025, "32.00"),),
            ),
        ),
    ),
    DemoStream(
        code="DFG",
        name="Disabled Facilities Grant",
        agency_slug="dalesford-housing",
        policy_sector=PolicySector.HOUSING,
        payment_frequency=PaymentFrequency.ONE_OFF,
        description="Capital grant for adaptations to the home, paid against quotes and on completion.",
        contingency_percent="10.00",
        surplus_threshold_weeks="0.0",
        categories=(("adaptations", "Adaptations to the home"),),
        services=(
            DemoService(
                "DFG-RAMP",
                "Access ramp, supplied and fitted",
                Unit.ITEM,
                "adaptations",
                (DemoRate(APRIL_2025, "2450.00"),),
            ),
            DemoService(
                "DFG-SHOWER",
                "Level-access shower (wet room)",
                Unit.ITEM,
                "adaptations",
                (DemoRate(APRIL_2025, "7200.00"),),
            ),
            DemoService(
                "DFG-STAIRLIFT",
                "Straight stairlift, supplied and fitted",
                Unit.ITEM,
                "adaptations",
                (DemoRate(APRIL_2025, "3250.00"),),
            ),
        ),
    ),
    DemoStream(
        code="SP",
        name="Supporting People",
        agency_slug="northshire-sp",
        policy_sector=PolicySector.HOUSING,
        payment_frequency=PaymentFrequency.QUARTERLY,
        description="Housing-related support to help the person live independently in their own home.",
        surplus_threshold_weeks="6.0",
        categories=(("housing-support", "Housing-related support"),),
        services=(
            DemoService(
                "SP-HS",
                "Housing-related support",
                Unit.HOUR,
                "housing-support",
                (DemoRate(APRIL_2025, "22.40"), DemoRate(APRIL_2026, "23.10")),
            ),
        ),
    ),
]


class DemoAgencyMissing(Exception):
    """An agency the demo streams need is not there: seed the demo people first."""


def _agency(slug: str) -> Organisation:
    agency = Organisation.objects.filter(slug=slug, kind=OrganisationKind.AGENCY).first()
    if agency is not None:
        return agency
    spec = next((spec for spec in AGENCIES if spec.slug == slug), None)
    if spec is None:
        raise DemoAgencyMissing(f"The agency {slug!r} is missing: run people.demo.seed_people() first.")
    return people_services.organisation_create(
        kind=OrganisationKind.AGENCY,
        name=spec.name,
        slug=spec.slug,
        contact_email=spec.contact_email,
        contact_phone=spec.contact_phone,
    )


def _stream(spec: DemoStream) -> FundingStream:
    existing = FundingStream.objects.filter(code=spec.code).first()
    if existing is not None:
        return existing
    return services.stream_create(
        code=spec.code,
        name=spec.name,
        agency=_agency(spec.agency_slug),
        policy_sector=spec.policy_sector,
        payment_frequency=spec.payment_frequency,
        currency=spec.currency,
        charges_contribution=spec.charges_contribution,
        contingency_percent=Decimal(spec.contingency_percent),
        surplus_threshold_weeks=Decimal(spec.surplus_threshold_weeks),
        initial_float_weeks=spec.initial_float_weeks,
        description=spec.description,
    )


def _category(stream: FundingStream, code: str, name: str) -> SpendingCategory:
    existing = SpendingCategory.objects.filter(stream=stream, code=code).first()
    if existing is not None:
        return existing
    return services.spending_category_add(stream=stream, code=code, name=name)


def _service(stream: FundingStream, spec: DemoService) -> None:
    service = Service.objects.filter(service_code=spec.service_code).first()
    if service is None:
        service = services.service_create(
            stream=stream,
            service_code=spec.service_code,
            description=spec.description,
            unit=spec.unit,
            category=SpendingCategory.objects.get(stream=stream, code=spec.category),
        )
    for rate in spec.rates:  # oldest first, as rate_add requires
        if not Rate.objects.filter(service=service, valid_from=rate.valid_from).exists():
            services.rate_add(
                service=service,
                unit_cost_minor=money_parse(rate.unit_cost, currency=stream.currency),
                valid_from=rate.valid_from,
            )
    for on_cost in spec.on_costs:
        if not OnCostRule.objects.filter(
            service=service, name=on_cost.name, valid_from=on_cost.valid_from
        ).exists():
            services.on_cost_rule_add(
                service=service,
                name=on_cost.name,
                kind=on_cost.kind,
                percent=Decimal(on_cost.percent) if on_cost.percent is not None else None,
                amount_minor_per_year=(
                    money_parse(on_cost.amount_per_year, currency=stream.currency)
                    if on_cost.amount_per_year is not None
                    else None
                ),
                valid_from=on_cost.valid_from,
            )


@transaction.atomic
def seed_streams() -> list[FundingStream]:
    """Create the demo agencies, funding streams, spending categories and catalogues, if missing."""
    streams = []
    for spec in STREAMS:
        stream = _stream(spec)
        for code, name in spec.categories:
            _category(stream, code, name)
        for service_spec in spec.services:
            _service(stream, service_spec)
        streams.append(stream)
    return streams
