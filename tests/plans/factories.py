"""factory_boy factories for plans' models, and the demo catalogue for tests that cost real plans.

The factories make rows directly (no workflow, no timeline): a draft 2026/27 version by default, items with
their own cost in a factory stream. To walk a plan through agreement, approval and activation, use the
services; `demo_catalogue()` gives them the demo streams and rate catalogue (ASC, ILF, ATW, ...).
"""

from datetime import date
from decimal import Decimal

import factory
from django.db.models import Max

from budgets.demo import seed_streams
from budgets.models import FundingStream
from people.demo import seed_people
from people.models import BudgetHolder, Organisation, User
from plans.models import (
    InformalSupport,
    Outcome,
    PlanVersion,
    PlanVersionStatus,
    Progress,
    Review,
    StreamApproval,
    StreamApprovalStatus,
    SupportItem,
    SupportPlan,
)
from plans.services import versions
from tests.budgets.factories import FundingStreamFactory
from tests.people.factories import AgencyOfficerFactory, BudgetHolderFactory

PERIOD_START = date(2026, 4, 1)
PERIOD_END = date(2027, 3, 31)


class SupportPlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SupportPlan

    budget_holder = factory.SubFactory(BudgetHolderFactory)


def _next_number(version) -> int:
    return (version.plan.versions.aggregate(last=Max("number"))["last"] or 0) + 1


class PlanVersionFactory(factory.django.DjangoModelFactory):
    """A draft for 2026/27, numbered after the plan's last version, started by the person's navigator."""

    class Meta:
        model = PlanVersion

    plan = factory.SubFactory(SupportPlanFactory)
    number = factory.LazyAttribute(_next_number)
    status = PlanVersionStatus.DRAFT
    starts_on = PERIOD_START
    ends_on = PERIOD_END
    effective_from = factory.SelfAttribute("starts_on")
    summary = "I live with my mum and want a place of my own."
    created_by = factory.LazyAttribute(lambda version: version.plan.budget_holder.navigator)


class OutcomeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Outcome

    version = factory.SubFactory(PlanVersionFactory)
    position = factory.Sequence(lambda n: n)
    in_own_words = factory.Sequence(lambda n: f"Outcome {n}: live in my own flat")
    success_looks_like = "I have my own front door key."


class InformalSupportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InformalSupport

    version = factory.SubFactory(PlanVersionFactory)
    outcome = factory.SubFactory(OutcomeFactory, version=factory.SelfAttribute("..version"))
    who = "My sister Jo"
    what = "Takes me shopping"
    how_often = "Every Saturday"


class SupportItemFactory(factory.django.DjangoModelFactory):
    """An item with its own cost (24.50 an hour, 10 hours a week) in a factory stream, serving one outcome of
    its version (a new one unless `outcomes=[...]` is given)."""

    class Meta:
        model = SupportItem
        skip_postgeneration_save = True

    version = factory.SubFactory(PlanVersionFactory)
    position = factory.Sequence(lambda n: n)
    service = None
    stream = factory.SubFactory(FundingStreamFactory)
    description = factory.Sequence(lambda n: f"Support worker {n}")
    unit = "hour"
    unit_cost_minor = 2450
    quantity = Decimal("10")
    per = "week"
    split = factory.LazyFunction(dict)
    provider = None
    agreed_rate_minor = None

    @factory.post_generation
    def outcomes(self, create, extracted, **kwargs):
        if not create:
            return
        if extracted is None:
            extracted = [OutcomeFactory(version=self.version)]
        self.outcomes.set(extracted)


class StreamApprovalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StreamApproval

    version = factory.SubFactory(PlanVersionFactory, status=PlanVersionStatus.AGREED)
    stream = factory.SubFactory(FundingStreamFactory)
    round = 1
    amount_minor = 127_750
    currency = "GBP"
    explanation = factory.LazyFunction(dict)
    status = StreamApprovalStatus.PENDING


class ReviewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Review

    version = factory.SubFactory(PlanVersionFactory, status=PlanVersionStatus.ACTIVE)
    held_on = date(2026, 7, 1)
    held_by = factory.LazyAttribute(lambda review: review.version.plan.budget_holder.navigator)
    notes = "Going well."
    next_review_on = date(2027, 7, 1)


PROGRESS_VALUES = Progress.values


def demo_catalogue() -> dict[str, FundingStream]:
    """The demo agencies, streams and rate catalogues (budgets.demo), by stream code."""
    seed_people()
    return {stream.code: stream for stream in seed_streams()}


def officer_of(stream: FundingStream) -> User:
    """An agency officer of the agency that runs `stream`."""
    return AgencyOfficerFactory(organisation=stream.agency)


def provider(slug: str) -> Organisation:
    """A demo provider organisation by its slug (seed_people makes them)."""
    return Organisation.objects.get(slug=slug)


def draft_plan(holder: BudgetHolder, navigator: User) -> tuple[PlanVersion, dict, dict]:
    """Version 1 for 2026/27 through the real services: personal care split ASC (up to 250.00 a week) and
    ILF from bright-care, a support worker at work from able-assist, and taxis to work."""
    draft = versions.plan_version_start(
        budget_holder=holder,
        starts_on=PERIOD_START,
        ends_on=PERIOD_END,
        started_by=navigator,
        summary="I want my own flat and a job.",
    )
    flat = versions.outcome_add(
        version=draft, in_own_words="Live in my own flat", success_looks_like="My own key", by=navigator
    )
    job = versions.outcome_add(
        version=draft, in_own_words="Get a paid job", success_looks_like="A contract", by=navigator
    )
    versions.informal_support_add(
        version=draft, outcome=flat, who="My sister Jo", what="Shopping", how_often="Weekly", by=navigator
    )
    care = versions.support_item_add(
        version=draft,
        by=navigator,
        service_code="ASC-PC",
        quantity=Decimal("14"),
        per="week",
        outcomes=[flat],
        split={"cap": {"stream": "ASC", "amount": "250.00", "per": "week"}, "rest": "ILF"},
        provider=provider("bright-care"),
        agreed_rate_minor=2450,
    )
    work = versions.support_item_add(
        version=draft,
        by=navigator,
        service_code="ATW-SW",
        quantity=Decimal("6"),
        per="week",
        outcomes=[job],
        provider=provider("able-assist"),
        agreed_rate_minor=1800,
    )
    taxi = versions.support_item_add(
        version=draft,
        by=navigator,
        service_code="ATW-TRAVEL",
        quantity=Decimal("10"),
        per="week",
        outcomes=[job],
    )
    return draft, {"flat": flat, "job": job}, {"care": care, "work": work, "taxi": taxi}
