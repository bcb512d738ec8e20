"""The demo world's support plans (api.md, "Demo data"): two people's plans for 2026/27, made through the real
workflow, the agency officers who approve them, and a few notes and messages. Demo only.

Each plan is started by the navigator, written from what the person wants to achieve (outcomes in their
own words, informal support first, then paid support items, some from providers at agreed rates), agreed
by the person and approved by each funding stream's agency officer. The last approval activates the plan,
which makes the personal budgets (one per stream, with their instalment schedules) through `budgets`.
`seed_plans()` then posts every instalment due by `on` to the ledger and tells each person on their
timeline (`plan_instalments_post_due`), and the navigator, Alex and Jordan exchange a few notes and
messages, so that the timeline reads like a real case.

It needs the demo people (`people.demo.seed_people`) and streams (`budgets.demo.seed_streams`) first.
Idempotent: a person who already has a plan is left as it is; the officers are made if missing; posting
instalments twice posts (and tells) each one once.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction

from budgets.models import PersonalBudget, PersonalBudgetStatus
from ledger.money import money_format, money_parse
from people.demo import DemoUser, seed_users
from people.models import BudgetHolder, Organisation, Role, User
from plans.models import PlanVersion, PlanVersionStatus, SupportItem, SupportPlan
from plans.services.instalments import PlanInstalmentPostingResult, plan_instalments_post_due
from plans.services.messages import message_send, note_add
from plans.services.versions import (
    informal_support_add,
    outcome_add,
    plan_version_start,
    support_item_add,
)
from plans.services.workflow import plan_stream_approve, plan_version_agree

DEMO_PLAN_YEAR = (date(2026, 4, 1), date(2027, 3, 31))
DEMO_CURRENCY = "GBP"  # every demo stream's

# An agency officer for each agency; officer-asc and officer-atw come from people.demo. Their agencies come
# from budgets.demo (Independent Living Fund, Work Choice, housing adaptations, Supporting People).
OFFICERS = [
    DemoUser("officer-ilf", Role.AGENCY_OFFICER, "Imran", "Qureshi", organisation_slug="ilf-dwp"),
    DemoUser("officer-wch", Role.AGENCY_OFFICER, "Wendy", "Clarke", organisation_slug="jobcentre-wch"),
    DemoUser("officer-dfg", Role.AGENCY_OFFICER, "Dan", "Fletcher", organisation_slug="dalesford-housing"),
    DemoUser("officer-sp", Role.AGENCY_OFFICER, "Sue", "Parker", organisation_slug="northshire-sp"),
]

# Which demo officer approves each stream's part of a plan.
APPROVERS = {
    "ASC": "officer-asc",
    "ILF": "officer-ilf",
    "ATW": "officer-atw",
    "WCH": "officer-wch",
    "DFG": "officer-dfg",
    "SP": "officer-sp",
}


@dataclass(frozen=True)
class DemoInformalSupport:
    who: str
    what: str
    how_often: str = ""


@dataclass(frozen=True)
class DemoOutcome:
    in_own_words: str
    success_looks_like: str
    informal: tuple[DemoInformalSupport, ...] = ()


@dataclass(frozen=True)
class DemoItem:
    service_code: str
    quantity: str
    per: str
    outcomes: tuple[int, ...]  # positions in the plan's outcomes
    description: str = ""
    split: dict[str, Any] | None = None
    provider_slug: str | None = None
    agreed_rate: str | None = None  # in DEMO_CURRENCY, with its decimals


@dataclass(frozen=True)
class DemoPlan:
    username: str  # the budget holder's own sign-in
    summary: str
    outcomes: tuple[DemoOutcome, ...]
    items: tuple[DemoItem, ...]


PLANS = [
    DemoPlan(
        username="holder",
        summary=(
            "I'm Alex. I live on my own in a flat in Northshire and work three days a week at the garden "
            "centre. Arthritis makes mornings slow and painful, and I get tired quickly, but once I'm up I "
            "like to be busy. My brother Jordan helps me with paperwork and at weekends."
        ),
        outcomes=(
            DemoOutcome(
                "I want to get up and out in the morning without rushing",
                "I'm washed, dressed and have had breakfast by half past eight, and I'm not worn out before "
                "the day starts.",
                informal=(
                    DemoInformalSupport(
                        "Jordan, my brother", "Makes breakfast with me and checks I'm all right", "Weekends"
                    ),
                    DemoInformalSupport(
                        "Mrs Patel next door", "Keeps a spare key and puts my bins out", "Every week"
                    ),
                ),
            ),
            DemoOutcome(
                "I want to keep my job at the garden centre",
                "I work my three days a week, I get there on time, and I can do the potting and the till.",
                informal=(
                    DemoInformalSupport(
                        "My manager, Gill",
                        "Lets me start at ten and sit down for potting work",
                        "Every working day",
                    ),
                ),
            ),
            DemoOutcome(
                "I want to see my friends at the Thursday club",
                "I go to the club most Thursdays and get home safely afterwards.",
                informal=(
                    DemoInformalSupport(
                        "The Thursday club's volunteers",
                        "Meet me at the door and keep me a seat near the front",
                        "Every Thursday",
                    ),
                ),
            ),
        ),
        items=(
            # Personal care: Adult Social Care pays up to 250.00 a week, the Independent Living Fund the rest.
            DemoItem(
                "ASC-PC",
                "14",
                "week",
                outcomes=(0,),
                description="Personal care: morning calls, two hours a day",
                split={"cap": {"stream": "ASC", "amount": "250.00", "per": "week"}, "rest": "ILF"},
                provider_slug="bright-care",
                agreed_rate="24.50",
            ),
            DemoItem(
                "ASC-PA",
                "6",
                "week",
                outcomes=(0, 2),
                description="A personal assistant Alex employs: evenings, and Thursday club",
            ),
            DemoItem(
                "ATW-SW",
                "6",
                "week",
                outcomes=(1,),
                description="Support worker at the garden centre, two hours each working day",
                provider_slug="able-assist",
                agreed_rate="18.00",
            ),
            DemoItem(
                "ATW-TRAVEL",
                "6",
                "week",
                outcomes=(1,),
                description="Taxi to and from work, three days a week",
            ),
        ),
    ),
    DemoPlan(
        username="holder2",
        summary=(
            "I'm Sam. I've just moved into a ground-floor flat and I use a wheelchair. I want to come and go "
            "as I please and run my own home."
        ),
        outcomes=(
            DemoOutcome(
                "I want to get in and out of my flat on my own",
                "I can go out and come home without waiting for someone to help me over the step.",
                informal=(
                    DemoInformalSupport(
                        "Tunde, my cousin",
                        "Helps me over the front step until the ramp is in",
                        "Most days",
                    ),
                ),
            ),
            DemoOutcome(
                "I want to manage my own tenancy and bills",
                "My rent and bills are paid on time and I know who to call when something goes wrong.",
                informal=(
                    DemoInformalSupport(
                        "Northshire Tenants' Forum", "A drop-in for advice about my tenancy", "Monthly"
                    ),
                ),
            ),
        ),
        items=(
            DemoItem(
                "DFG-RAMP",
                "1",
                "once",
                outcomes=(0,),
                description="Access ramp to the front door, supplied and fitted",
                provider_slug="dales-adaptations",
                agreed_rate="2450.00",
            ),
            DemoItem(
                "SP-HS",
                "2",
                "week",
                outcomes=(1,),
                description="Housing-related support: tenancy, bills and letters",
            ),
        ),
    ),
]


@dataclass(frozen=True)
class DemoConversation:
    """A note or message on a person's timeline: `by` (a username), shared or staff-only for a note."""

    username: str  # whose timeline
    by: str
    text: str
    note: bool = False
    shared: bool = True


CONVERSATIONS = [
    DemoConversation(
        "holder",
        "navigator",
        "Alex prefers phone calls after ten in the morning: the care visits take up the early part of the "
        "day.",
        note=True,
        shared=False,
    ),
    DemoConversation(
        "holder",
        "navigator",
        "Thank you for going through your plan with me. Your first review will be in the new year; call me "
        "any time before then if something isn't working.",
        note=True,
    ),
    DemoConversation(
        "holder",
        "holder",
        "The morning visits from Bright Care are going well. Could Tuesday's visit start half an hour "
        "earlier? I have an early shift.",
    ),
    DemoConversation(
        "holder",
        "navigator",
        "I've asked Bright Care about Tuesdays and I'll let you know by Friday.",
    ),
    DemoConversation(
        "holder",
        "rep",
        "I'm away from 3 to 10 December. Mrs Patel has the spare key if anything comes up.",
    ),
    DemoConversation(
        "holder2",
        "navigator",
        "Dales Adaptations will ring you to arrange a survey for the ramp. They'll bring ID when they visit.",
        note=True,
    ),
]


@dataclass
class DemoPlansResult:
    plans: dict[str, PlanVersion]  # by the holder's username: their active version
    created: list[str]  # usernames whose plan this run made
    instalments: PlanInstalmentPostingResult


def _plan_create(spec: DemoPlan, *, holder: BudgetHolder, users: dict[str, User]) -> PlanVersion:
    """Write one person's plan through the services, agree it as them and approve it as each agency."""
    navigator = users["navigator"]
    version = plan_version_start(
        budget_holder=holder,
        starts_on=DEMO_PLAN_YEAR[0],
        ends_on=DEMO_PLAN_YEAR[1],
        started_by=navigator,
        summary=spec.summary,
    )
    outcomes = []
    for outcome_spec in spec.outcomes:
        outcome = outcome_add(
            version=version,
            in_own_words=outcome_spec.in_own_words,
            success_looks_like=outcome_spec.success_looks_like,
            by=navigator,
        )
        outcomes.append(outcome)
        for informal in outcome_spec.informal:
            informal_support_add(
                version=version,
                outcome=outcome,
                who=informal.who,
                what=informal.what,
                how_often=informal.how_often,
                by=navigator,
            )
    for item in spec.items:
        support_item_add(
            version=version,
            by=navigator,
            quantity=Decimal(item.quantity),
            per=item.per,
            outcomes=[outcomes[index] for index in item.outcomes],
            service_code=item.service_code,
            description=item.description,
            split=item.split,
            provider=Organisation.objects.get(slug=item.provider_slug) if item.provider_slug else None,
            agreed_rate_minor=money_parse(item.agreed_rate, currency=DEMO_CURRENCY)
            if item.agreed_rate
            else None,
        )
    version = plan_version_agree(version=version, agreed_by=users[spec.username])
    for approval in version.stream_approvals.select_related("stream").order_by("stream__code"):
        plan_stream_approve(
            version=version,
            stream_code=approval.stream.code,
            approved_by=users[APPROVERS[approval.stream.code]],
        )
    return PlanVersion.objects.get(pk=version.pk)


def _conversation(spec: DemoConversation, *, holder: BudgetHolder, users: dict[str, User]) -> None:
    if spec.note:
        note_add(budget_holder=holder, author=users[spec.by], text=spec.text, shared=spec.shared)
    else:
        message_send(budget_holder=holder, sender=users[spec.by], text=spec.text)


def seed_plans(*, on: date) -> DemoPlansResult:
    """Make the demo agency officers and each demo person's active plan (with its personal budgets), if
    missing; post and tell every instalment due by `on`."""
    seed_users(OFFICERS)
    users = {user.username: user for user in User.objects.filter(username__in=_usernames())}
    created: list[str] = []
    plans: dict[str, PlanVersion] = {}
    for spec in PLANS:
        holder = BudgetHolder.objects.get(user__username=spec.username)
        if SupportPlan.objects.filter(budget_holder=holder).exists():
            plans[spec.username] = _active_or_latest(holder)
            continue
        # One person's plan, and their first notes and messages, all or nothing.
        with transaction.atomic():
            plans[spec.username] = _plan_create(spec, holder=holder, users=users)
            for conversation in CONVERSATIONS:
                if conversation.username == spec.username:
                    _conversation(conversation, holder=holder, users=users)
        created.append(spec.username)
    instalments = plan_instalments_post_due(on=on)
    return DemoPlansResult(plans=plans, created=created, instalments=instalments)


def _usernames() -> set[str]:
    return (
        {spec.username for spec in PLANS}
        | {conversation.by for conversation in CONVERSATIONS}
        | set(APPROVERS.values())
        | {"navigator"}
    )


def _active_or_latest(holder: BudgetHolder) -> PlanVersion:
    versions = PlanVersion.objects.filter(plan__budget_holder=holder)
    return versions.filter(status=PlanVersionStatus.ACTIVE).first() or versions.order_by("-number").first()


def demo_plan_summary(*, username: str) -> list[str]:
    """Lines describing a demo person's plan, for the seed command to print: its budgets and engagements."""
    holder = BudgetHolder.objects.get(user__username=username)
    version = _active_or_latest(holder)
    if version is None:
        return [f"{username}: no plan"]
    budgets = PersonalBudget.objects.filter(
        budget_holder=holder,
        status=PersonalBudgetStatus.ACTIVE,
        starts_on__lte=version.ends_on,
        ends_on__gte=version.starts_on,
    ).select_related("stream")
    amounts = ", ".join(
        f"{budget.stream.code} {money_format(budget.amount_minor, currency=budget.currency)}"
        for budget in budgets.order_by("stream__code")
    )
    lines = [
        f"{username} ({holder.full_name}): plan version {version.number}, "
        f"{version.get_status_display().lower()}, {version.starts_on.isoformat()} to "
        f"{version.ends_on.isoformat()}; budgets {amounts or 'none'}"
    ]
    engaged = (
        SupportItem.objects.filter(version=version, provider__isnull=False)
        .select_related("provider", "stream")
        .order_by("position")
    )
    for item in engaged:
        currency = item.stream.currency
        rate = "no agreed rate"
        if item.agreed_rate_minor is not None:
            rate = f"{money_format(item.agreed_rate_minor, currency=currency)} {currency}"
        lines.append(f"  {item.provider.slug}: {item.public_id} {item.description}, at {rate}")
    return lines
