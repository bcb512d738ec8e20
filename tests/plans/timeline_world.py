"""A small world for the timeline tests: one person with everyone around them, and entries of every kind.

Alex has an active plan funded by two streams of two agencies (ASC, ATW) and served by one provider; a third
agency (DFG) funds somebody else. Their timeline holds plan-wide entries (shared and staff-only), entries
about each stream (shared and staff-only), a message and a note. Plans are made row by row here (the
timeline only needs them to exist, so that agency officers and providers see the person through
`plans.access`).
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from budgets.models import FundingStream
from people.models import BudgetHolder, Organisation, RepresentativePower, User
from plans.models import PlanVersion, PlanVersionStatus, SupportItem, SupportPlan, TimelineEntry
from plans.services.timeline import timeline_record
from tests.budgets.factories import FundingStreamFactory
from tests.people.factories import (
    AdministratorFactory,
    AgencyFactory,
    AgencyOfficerFactory,
    BudgetHolderFactory,
    FinanceOfficerFactory,
    NavigatorFactory,
    ProviderFactory,
    ProviderUserFactory,
    RepresentativeFactory,
    UserFactory,
)

START, END = date(2026, 4, 1), date(2027, 3, 31)


def active_plan(holder: BudgetHolder, streams: list[FundingStream], *, provider: Organisation | None = None):
    """An active plan version for `holder` with one item per stream (the first one with `provider`)."""
    plan = SupportPlan.objects.create(budget_holder=holder)
    version = PlanVersion.objects.create(
        plan=plan,
        number=1,
        status=PlanVersionStatus.ACTIVE,
        starts_on=START,
        ends_on=END,
        effective_from=START,
    )
    for index, stream in enumerate(streams):
        SupportItem.objects.create(
            version=version,
            stream=stream,
            description=f"Support from {stream.code}",
            unit="hour",
            unit_cost_minor=2000,
            quantity=Decimal("5"),
            per="week",
            provider=provider if index == 0 else None,
        )
    return version


@dataclass
class World:
    holder: BudgetHolder
    users: dict[str, User]
    streams: dict[str, FundingStream]
    entries: dict[str, TimelineEntry] = field(default_factory=dict)

    def ids(self, *names: str) -> set[str]:
        return {self.entries[name].public_id for name in names}


def build_world() -> World:
    asc_agency, atw_agency, dfg_agency = AgencyFactory(), AgencyFactory(), AgencyFactory()
    streams = {
        "ASC": FundingStreamFactory(code="ASC", name="Adult Social Care", agency=asc_agency),
        "ATW": FundingStreamFactory(code="ATW", name="Access to Work", agency=atw_agency),
        "DFG": FundingStreamFactory(code="DFG", name="Disabled Facilities Grant", agency=dfg_agency),
    }
    navigator = NavigatorFactory(first_name="Priya", last_name="Shah")
    holder_user = UserFactory(first_name="Alex", last_name="Morgan")
    holder = BudgetHolderFactory(user=holder_user, full_name="Alex Morgan", navigator=navigator)
    engaged = ProviderFactory()
    active_plan(holder, [streams["ASC"], streams["ATW"]], provider=engaged)
    other_holder = BudgetHolderFactory(navigator=NavigatorFactory())
    active_plan(other_holder, [streams["DFG"]])
    approving = RepresentativeFactory(budget_holder=holder, power=RepresentativePower.APPROVE)
    viewing = RepresentativeFactory(budget_holder=holder, power=RepresentativePower.VIEW)
    revoked = RepresentativeFactory(budget_holder=holder, revoked_at=timezone.now())
    users = {
        "holder": holder_user,
        "rep": approving.user,
        "view_rep": viewing.user,
        "revoked_rep": revoked.user,
        "navigator": navigator,
        "other_navigator": other_holder.navigator,
        "other_holder": other_holder.user,
        "finance": FinanceOfficerFactory(),
        "admin": AdministratorFactory(),
        "officer_asc": AgencyOfficerFactory(organisation=asc_agency),
        "officer_atw": AgencyOfficerFactory(organisation=atw_agency),
        "officer_dfg": AgencyOfficerFactory(organisation=dfg_agency),
        "provider": ProviderUserFactory(organisation=engaged),
    }
    world = World(holder=holder, users=users, streams=streams)
    now = timezone.now()
    specs = [
        # name, kind, visibility, stream, for_person, for_staff, actor
        (
            "plan_shared",
            "plan.agreed",
            "shared",
            None,
            "You agreed your plan",
            "Plan agreed by Alex",
            "holder",
        ),
        ("plan_staff", "plan.note", "staff", None, "Staff only", "Checked the assessment", "navigator"),
        (
            "asc_shared",
            "plan.stream_approved",
            "shared",
            "ASC",
            "Adult Social Care approved",
            "",
            "officer_asc",
        ),
        ("asc_staff", "plan.stream_note", "staff", "ASC", "Staff only", "ASC panel minutes", "officer_asc"),
        ("atw_shared", "plan.stream_approved", "shared", "ATW", "Access to Work approved", "ATW ok", None),
        ("message", "message", "shared", None, "You wrote to Priya Shah", "Message from Alex", "holder"),
    ]
    for offset, (name, kind, visibility, stream, for_person, for_staff, actor) in enumerate(specs):
        world.entries[name] = timeline_record(
            budget_holder=holder,
            kind=kind,
            for_person=for_person,
            for_staff=for_staff,
            actor=users[actor] if actor else None,
            visibility=visibility,
            stream=streams[stream] if stream else None,
            body="Can we move Thursday's visit?" if kind == "message" else "",
            at=now - timedelta(hours=len(specs) - offset),
        )
    # Somebody else's entry, which nobody looking at Alex's timeline sees.
    world.entries["other"] = timeline_record(
        budget_holder=other_holder,
        kind="plan.agreed",
        for_person="You agreed your plan",
        stream=streams["DFG"],
    )
    return world


EVERY_ENTRY = ("plan_shared", "plan_staff", "asc_shared", "asc_staff", "atw_shared", "message")
SHARED_ENTRIES = ("plan_shared", "asc_shared", "atw_shared", "message")
