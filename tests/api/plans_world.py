"""A world for the plans API tests: two people's plans walked through the real services, and everyone who
might ask about them, each with an API client.

Alex (navigator Nia) has version 1 **active** for 2026/27, agreed by Alex and approved by Adult Social Care
(ASC), the Independent Living Fund (ILF) and Access to Work (ATW):

* outcome "Live in my own flat" (informal support: sister Jo, shopping) and outcome "Get a paid job";
* `care`: personal care (ASC-PC, 14 hours a week), ASC up to 250.00 a week and ILF the rest, from
  bright-care at 24.50 an hour, for the flat;
* `work`: a support worker at work (ATW-SW, 6 hours a week) from able-assist at 18.00, for the job;
* `taxi`: travel to work (ATW-TRAVEL, 10 journeys a week), no provider, for the job;

and version 2, a **draft** change from 1 October (a copy of version 1, same ids). Sam (navigator Omar) has an
active plan with one item: a ramp (DFG-RAMP) from dales-adaptations, approved by the Disabled Facilities
Grant (DFG). Supporting People (SP) funds nobody.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from rest_framework.test import APIClient

from people import services as people_services
from people.models import BudgetHolder
from plans.models import Outcome, PlanVersion, SupportItem
from plans.services import versions, workflow
from tests.people.factories import (
    AdministratorFactory,
    BudgetHolderFactory,
    FinanceOfficerFactory,
    NavigatorFactory,
    ProviderFactory,
    ProviderUserFactory,
    RepresentativeFactory,
)
from tests.plans.factories import PERIOD_END, PERIOD_START, demo_catalogue, draft_plan, officer_of, provider

CHANGE_ON = date(2026, 10, 1)
BEFORE_THE_YEAR = date(2026, 3, 16)

ROLES = (
    "holder",
    "other_holder",
    "rep_approve",
    "rep_view",
    "rep_revoked",
    "navigator",
    "other_navigator",
    "officer_asc",
    "officer_atw",
    "officer_unrelated",
    "provider_engaged",
    "provider_not_engaged",
    "finance",
    "admin",
    "anonymous",
)
# Who sees Alex's plan, and how much of it.
IN_FULL = frozenset({"holder", "rep_approve", "rep_view", "navigator", "finance", "admin"})
AGENCIES = frozenset({"officer_asc", "officer_atw"})
PROVIDERS = frozenset({"provider_engaged"})
# Who may write Alex's draft.
EDITORS = frozenset({"holder", "rep_approve", "navigator"})


class Clock:
    """ "Today" for the services (timezone.localdate), moved by the test."""

    def __init__(self, today: date) -> None:
        self.today = today


def install_clock(monkeypatch, today: date = BEFORE_THE_YEAR) -> Clock:
    clock = Clock(today)
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: clock.today)
    return clock


def client_for(user: Any) -> APIClient:
    """An API client signed in as `user` with a personal token (none for the anonymous user)."""
    client = APIClient()
    if isinstance(user, AnonymousUser):
        return client
    _, raw = people_services.personal_token_issue(user=user, name="test", issued_by=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    return client


@dataclass
class World:
    users: dict[str, Any]
    alex: BudgetHolder
    sam: BudgetHolder
    v1: PlanVersion
    v2: PlanVersion
    sams: PlanVersion
    outcomes: dict[str, Outcome]
    items: dict[str, SupportItem]
    officers: dict[str, Any]

    def client(self, role: str) -> APIClient:
        return client_for(self.users[role])

    def outcome_in(self, version: PlanVersion, name: str) -> Outcome:
        return Outcome.objects.get(version=version, public_id=self.outcomes[name].public_id)

    def item_in(self, version: PlanVersion, name: str) -> SupportItem:
        return SupportItem.objects.get(version=version, public_id=self.items[name].public_id)


def build_world() -> World:
    """Build the world of the module docstring (call with the clock before the budget year)."""
    streams = demo_catalogue()
    officers = {code: officer_of(streams[code]) for code in ("ASC", "ILF", "ATW", "DFG", "SP")}
    navigator, other_navigator = NavigatorFactory(first_name="Nia"), NavigatorFactory(first_name="Omar")
    alex = BudgetHolderFactory(navigator=navigator, preferred_name="Alex")
    sam = BudgetHolderFactory(navigator=other_navigator, preferred_name="Sam")

    v1, outcomes, items = draft_plan(alex, navigator)
    workflow.plan_version_agree(version=v1, agreed_by=alex.user)
    for code in ("ASC", "ILF", "ATW"):
        workflow.plan_stream_approve(version=v1, stream_code=code, approved_by=officers[code])
    v1.refresh_from_db()
    v2 = versions.plan_version_start_from(
        version=v1, started_by=navigator, effective_from=CHANGE_ON, change_reason="A new job from October."
    )

    sams = versions.plan_version_start(
        budget_holder=sam, starts_on=PERIOD_START, ends_on=PERIOD_END, started_by=other_navigator
    )
    home = versions.outcome_add(version=sams, in_own_words="Get in and out of my home", by=other_navigator)
    versions.support_item_add(
        version=sams,
        by=other_navigator,
        service_code="DFG-RAMP",
        quantity=Decimal("1"),
        per="once",
        outcomes=[home],
        provider=provider("dales-adaptations"),
        agreed_rate_minor=350000,
    )
    workflow.plan_version_agree(version=sams, agreed_by=sam.user)
    workflow.plan_stream_approve(version=sams, stream_code="DFG", approved_by=officers["DFG"])
    sams.refresh_from_db()

    revoked = RepresentativeFactory(budget_holder=alex, power="approve")
    people_services.representative_revoke(representative=revoked, revoked_by=alex.user)
    users = {
        "holder": alex.user,
        "other_holder": sam.user,
        "rep_approve": RepresentativeFactory(budget_holder=alex, power="approve").user,
        "rep_view": RepresentativeFactory(budget_holder=alex, power="view").user,
        "rep_revoked": revoked.user,
        "navigator": navigator,
        "other_navigator": other_navigator,
        "officer_asc": officers["ASC"],
        "officer_atw": officers["ATW"],
        "officer_unrelated": officers["SP"],
        "provider_engaged": ProviderUserFactory(organisation=provider("bright-care")),
        "provider_not_engaged": ProviderUserFactory(organisation=ProviderFactory()),
        "finance": FinanceOfficerFactory(),
        "admin": AdministratorFactory(),
        "anonymous": AnonymousUser(),
    }
    return World(
        users=users,
        alex=alex,
        sam=sam,
        v1=v1,
        v2=v2,
        sams=sams,
        outcomes=outcomes,
        items=items,
        officers=officers,
    )
