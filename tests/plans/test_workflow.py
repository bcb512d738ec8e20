"""The plan workflow: agreement, each agency's approval or return, activation into personal budgets, and a
change mid-year that moves the budgets without rewriting the ledger. Costed with the demo catalogue
(budgets.demo): Adult Social Care (ASC, 4-weekly), the Independent Living Fund (ILF, 4-weekly) and Access to
Work (ATW, monthly)."""

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from budgets.calculator import Per
from budgets.models import Instalment, InstalmentStatus, PersonalBudget, PersonalBudgetStatus
from budgets.services.cash_equivalents import (
    CapSplitRequest,
    CashEquivalentRequest,
    ItemRequest,
    cash_equivalent_calculate,
)
from budgets.services.personal_budgets import (
    PersonalBudgetAlreadySpent,
    PersonalBudgetNotActive,
    instalments_post_due,
    personal_budget_change,
    personal_budget_create,
    personal_budget_money_before,
)
from ledger.models import AccountType, Side, Transaction
from ledger.services import PostingSpec, transaction_post
from people.models import AuditEvent
from plans.models import PlanVersionStatus, StreamApprovalStatus, TimelineEntry
from plans.services import versions, workflow
from plans.services.versions import PlanVersionNotDraft, ReasonRequired
from plans.services.workflow import (
    NotAllowedToAgree,
    NotAllowedToDecide,
    NotAllowedToWithdraw,
    PlanBudgetMismatch,
    PlanCostingInvalid,
    PlanIncomplete,
    PlanVersionNotAgreed,
    PlanVersionNotInProgress,
    StreamApprovalAlreadyDecided,
    StreamNotInPlan,
    add_months,
)
from tests.budgets.helpers import assert_budget_adds_up, assert_ledger_in_step, funds_of
from tests.concurrency import run_in_threads
from tests.ledger.factories import AccountFactory
from tests.people.factories import (
    AgencyOfficerFactory,
    BudgetHolderFactory,
    NavigatorFactory,
    RepresentativeFactory,
    UserFactory,
)
from tests.plans.factories import (
    PERIOD_END,
    PERIOD_START,
    PlanVersionFactory,
    SupportItemFactory,
    demo_catalogue,
    draft_plan,
    officer_of,
)

pytestmark = pytest.mark.django_db

CHANGE_ON = date(2026, 10, 1)


class Clock:
    """ "Today" for the services (timezone.localdate), moved by the test."""

    def __init__(self, today: date) -> None:
        self.today = today


@pytest.fixture
def clock(monkeypatch):
    clock = Clock(date(2026, 3, 16))
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: clock.today)
    return clock


@pytest.fixture
def streams():
    return demo_catalogue()


@pytest.fixture
def holder():
    return BudgetHolderFactory(preferred_name="Alex")


@pytest.fixture
def navigator(holder):
    return holder.navigator


@pytest.fixture
def officers(streams):
    return {code: officer_of(streams[code]) for code in ("ASC", "ILF", "ATW", "DFG")}


def oracle(start, items):
    """The cash equivalent per stream, costed directly with budgets (independently of plans)."""
    result = cash_equivalent_calculate(
        request=CashEquivalentRequest(start=start, end=PERIOD_END, items=items)
    )
    return {stream.stream: stream.amount_minor for stream in result.streams}


CARE_SPLIT = CapSplitRequest(stream="ASC", amount="250.00", per=Per.WEEK, rest="ILF")


def v1_items(taxis="8"):
    return (
        ItemRequest(service_code="ASC-PC", quantity=Decimal("14"), per=Per.WEEK, split=CARE_SPLIT),
        ItemRequest(service_code="ATW-SW", quantity=Decimal("6"), per=Per.WEEK),
        ItemRequest(service_code="ATW-TRAVEL", quantity=Decimal(taxis), per=Per.WEEK),
    )


def v2_items():
    return (
        ItemRequest(service_code="ASC-PC", quantity=Decimal("14"), per=Per.WEEK),
        ItemRequest(service_code="ATW-SW", quantity=Decimal("10"), per=Per.WEEK),
        ItemRequest(service_code="ATW-TRAVEL", quantity=Decimal("8"), per=Per.WEEK),
        ItemRequest(service_code="ASC-DAY", quantity=Decimal("1"), per=Per.WEEK),
    )


def approve_all(version, officers, codes):
    for code in codes:
        workflow.plan_stream_approve(version=version, stream_code=code, approved_by=officers[code])


def ledger_snapshot():
    return {
        transaction.public_id: (
            transaction.effective_on,
            transaction.metadata.get("kind"),
            sorted((p.account_id, p.side, p.amount_minor) for p in transaction.postings.all()),
        )
        for transaction in Transaction.objects.prefetch_related("postings")
    }


def budgets_of(holder):
    return {
        budget.stream.code: budget
        for budget in PersonalBudget.objects.select_related("stream").filter(
            budget_holder=holder, status=PersonalBudgetStatus.ACTIVE
        )
    }


def kinds(holder):
    return list(
        TimelineEntry.objects.filter(budget_holder=holder).order_by("at", "pk").values_list("kind", flat=True)
    )


class TestTheWholeWorkflow:
    def test_agree_return_agree_again_activate_then_change_mid_year(
        self, clock, streams, holder, navigator, officers
    ):
        rep = RepresentativeFactory(budget_holder=holder).user
        draft, _outcomes, items = draft_plan(holder, navigator)

        # Round 1: the person agrees; each stream's agency gets its part.
        workflow.plan_version_agree(version=draft, agreed_by=holder.user)
        draft.refresh_from_db()
        assert (draft.status, draft.agreed_by) == (PlanVersionStatus.AGREED, holder.user)
        round_1 = {a.stream.code: a for a in draft.stream_approvals.select_related("stream")}
        assert set(round_1) == {"ASC", "ILF", "ATW"}
        assert {a.round for a in round_1.values()} == {1}
        assert {code: a.amount_minor for code, a in round_1.items()} == oracle(
            PERIOD_START, v1_items(taxis="10")
        )
        assert round_1["ASC"].explanation["amount"] == f"{Decimal(round_1['ASC'].amount_minor) / 100:.2f}"

        # ASC approves, then Access to Work returns its part: back to draft, the round ends.
        workflow.plan_stream_approve(version=draft, stream_code="ASC", approved_by=officers["ASC"])
        returned = workflow.plan_stream_return(
            version=draft,
            stream_code="ATW",
            returned_by=officers["ATW"],
            reason="Eight taxis a week is enough.",
        )
        draft.refresh_from_db()
        assert (draft.status, draft.agreed_at, draft.agreed_by) == (PlanVersionStatus.DRAFT, None, None)
        assert (returned.status, returned.reason) == (
            StreamApprovalStatus.RETURNED,
            "Eight taxis a week is enough.",
        )
        statuses = dict(draft.stream_approvals.filter(round=1).values_list("stream__code", "status"))
        assert statuses == {"ASC": "cancelled", "ILF": "cancelled", "ATW": "returned"}
        assert not PersonalBudget.objects.filter(budget_holder=holder).exists()

        # Changed as asked, agreed again by the representative: round 2.
        versions.support_item_update(item=items["taxi"], by=navigator, quantity=Decimal("8"))
        workflow.plan_version_agree(version=draft, agreed_by=rep)
        round_2 = {a.stream.code: a for a in draft.stream_approvals.filter(round=2).select_related("stream")}
        expected_v1 = oracle(PERIOD_START, v1_items())
        assert {code: a.amount_minor for code, a in round_2.items()} == expected_v1
        assert {a.status for a in round_2.values()} == {StreamApprovalStatus.PENDING}

        # Every agency approves; the last approval activates the version and makes the budgets.
        workflow.plan_stream_approve(version=draft, stream_code="ILF", approved_by=officers["ILF"])
        workflow.plan_stream_approve(version=draft, stream_code="ATW", approved_by=officers["ATW"])
        draft.refresh_from_db()
        assert draft.status == PlanVersionStatus.AGREED
        assert not PersonalBudget.objects.filter(budget_holder=holder).exists()
        workflow.plan_stream_approve(version=draft, stream_code="ASC", approved_by=officers["ASC"])
        v1 = draft
        v1.refresh_from_db()
        assert v1.status == PlanVersionStatus.ACTIVE
        assert v1.activated_at is not None
        assert v1.review_due_on == date(2026, 6, 16)  # first activation: within 3 months
        budgets = budgets_of(holder)
        assert {code: b.amount_minor for code, b in budgets.items()} == expected_v1
        for code, budget in budgets.items():
            assert (budget.starts_on, budget.ends_on, budget.version) == (PERIOD_START, PERIOD_END, 1)
            assert budget.explanation["source"] == "cash_equivalent"
            assert budget.explanation["calculation"] == round_2[code].explanation
            assert sum(i.amount_minor for i in budget.instalments.all()) == budget.amount_minor
            assert budget.instalments.count() == (12 if code == "ATW" else 14)
        assert kinds(holder) == [
            "plan.version_started",
            "plan.agreed",
            "plan.stream_approved",
            "plan.stream_returned",
            "plan.agreed",
            "plan.stream_approved",
            "plan.stream_approved",
            "plan.stream_approved",
            "plan.activated",
            "budget.created",
            "budget.created",
            "budget.created",
        ]
        asc_entry = TimelineEntry.objects.get(budget_holder=holder, kind="budget.created", stream__code="ASC")
        asc_money = f"£{Decimal(budgets['ASC'].amount_minor) / 100:,.2f}"
        assert asc_entry.for_person == f"Your Adult Social Care budget is now {asc_money} for 2026/27."
        approved = TimelineEntry.objects.filter(kind="plan.stream_approved", stream__code="ATW").last()
        assert approved.for_person == "Your plan was approved by Access to Work on 16 March 2026."
        returned_entry = TimelineEntry.objects.get(kind="plan.stream_returned")
        assert "Eight taxis a week is enough." in returned_entry.for_person
        assert returned_entry.actor == officers["ATW"]

        # Half a year of instalments falls due.
        clock.today = CHANGE_ON
        instalments_post_due(on=CHANGE_ON)
        before = ledger_snapshot()
        assert before
        kept = {
            code: personal_budget_money_before(personal_budget=b, day=CHANGE_ON)
            for code, b in budgets.items()
        }

        # A change from 1 October: ASC pays all the personal care (no more ILF), more support at work, a day
        # service for a new outcome.
        v2 = versions.plan_version_start_from(
            version=v1, started_by=navigator, effective_from=CHANGE_ON, change_reason="A new job in October."
        )
        v2_items_by_id = {item.public_id: item for item in v2.support_items.all()}
        assert set(v2_items_by_id) == {item.public_id for item in items.values()}
        friends = versions.outcome_add(version=v2, in_own_words="See my friends every week", by=navigator)
        versions.support_item_update(item=v2_items_by_id[items["care"].public_id], by=navigator, split=None)
        versions.support_item_update(item=v2_items_by_id[items["work"].public_id], by=navigator, quantity=10)
        versions.support_item_add(
            version=v2,
            by=navigator,
            service_code="ASC-DAY",
            quantity=Decimal("1"),
            per="week",
            outcomes=[friends],
        )
        workflow.plan_version_agree(version=v2, agreed_by=holder.user)
        new_from = oracle(CHANGE_ON, v2_items())
        old_from = oracle(CHANGE_ON, v1_items())
        assert dict(v2.stream_approvals.values_list("stream__code", "amount_minor")) == new_from
        approve_all(v2, officers, ["ATW", "ASC"])

        v1.refresh_from_db()
        v2.refresh_from_db()
        assert (v1.status, v2.status) == (PlanVersionStatus.SUPERSEDED, PlanVersionStatus.ACTIVE)
        assert v1.support_items.count() == 3 and v1.outcomes.count() == 2  # the old version is kept
        assert v2.review_due_on == v1.review_due_on  # inherited: it is within a year
        changed = budgets_of(holder)
        # A stream both versions fund moves by what the change costs from 1 October.
        for code in ("ASC", "ATW"):
            assert changed[code].amount_minor == budgets[code].amount_minor + new_from[code] - old_from[code]
            assert changed[code].amount_minor >= kept[code]
            assert (changed[code].version, changed[code].effective_from) == (2, CHANGE_ON)
            assert changed[code].explanation["rule"] == "changed"
        assert changed["ASC"].amount_minor > budgets["ASC"].amount_minor
        # The stream the plan stops using keeps only what the days before 1 October had.
        assert changed["ILF"].amount_minor == kept["ILF"]
        assert changed["ILF"].explanation["rule"] == "stopped"
        ilf_future = Instalment.objects.filter(
            personal_budget=changed["ILF"], status=InstalmentStatus.SCHEDULED, covers_from__gte=CHANGE_ON
        )
        assert {i.amount_minor for i in ilf_future} == {0}

        # The ledger's history is intact: nothing posted before changed, and the adjustments are new rows.
        after = ledger_snapshot()
        assert {key: after[key] for key in before} == before
        added = {key: value for key, value in after.items() if key not in before}
        assert added and {kind for _, kind, _ in added.values()} == {"budget_adjustment"}
        # Future instalments: the blocks not yet paid for are rescheduled, more for ASC, nothing for ILF.
        for code, grows in (("ASC", True), ("ILF", False)):
            cancelled = list(
                Instalment.objects.filter(personal_budget=budgets[code], status=InstalmentStatus.CANCELLED)
                .order_by("covers_from")
                .values_list("covers_from", "amount_minor")
            )
            scheduled = list(
                Instalment.objects.filter(personal_budget=changed[code], status=InstalmentStatus.SCHEDULED)
                .order_by("covers_from")
                .values_list("covers_from", "amount_minor")
            )
            assert cancelled and [day for day, _ in cancelled] == [day for day, _ in scheduled]
            for (_, old), (_, new) in zip(cancelled, scheduled, strict=True):
                assert new > old if grows else new == 0
        for code in ("ASC", "ATW", "ILF"):
            assert_budget_adds_up(changed[code])
            assert_ledger_in_step(changed[code])
            old_future = Instalment.objects.filter(personal_budget=budgets[code], covers_from__gt=CHANGE_ON)
            assert {i.status for i in old_future} <= {InstalmentStatus.CANCELLED, InstalmentStatus.DUE}
        assert kinds(holder)[-5:] == [
            "plan.stream_approved",
            "plan.activated",
            "budget.changed",
            "budget.changed",
            "budget.changed",
        ]
        ilf_entry = TimelineEntry.objects.filter(kind="budget.changed", stream__code="ILF").get()
        assert ilf_entry.for_person.startswith(
            "Your new plan no longer uses Independent Living Fund from 1 October 2026."
        )

    def test_unchanged_streams_keep_their_budgets_and_a_new_stream_starts_from_the_change(
        self, clock, streams, holder, navigator, officers
    ):
        draft, outcomes, _items = draft_plan(holder, navigator)
        workflow.plan_version_agree(version=draft, agreed_by=holder.user)
        approve_all(draft, officers, ["ASC", "ILF", "ATW"])
        before = budgets_of(holder)
        clock.today = CHANGE_ON

        v2 = versions.plan_version_start_from(
            version=draft, started_by=navigator, effective_from=CHANGE_ON, change_reason="A ramp at home."
        )
        ramp = versions.support_item_add(
            version=v2,
            by=navigator,
            service_code="DFG-RAMP",
            quantity=Decimal("1"),
            per="once",
            outcomes=[v2.outcomes.get(public_id=outcomes["flat"].public_id)],
        )
        workflow.plan_version_agree(version=v2, agreed_by=holder.user)
        approve_all(v2, officers, ["ASC", "ILF", "ATW", "DFG"])

        after = budgets_of(holder)
        for code in ("ASC", "ILF", "ATW"):
            assert after[code].pk == before[code].pk  # nothing changed for them: same budget, same version
        dfg = after["DFG"]
        assert (dfg.starts_on, dfg.ends_on, dfg.amount_minor) == (CHANGE_ON, PERIOD_END, 245_000 + 24_500)
        assert v2.support_items.get(public_id=ramp.public_id).stream.code == "DFG"
        assert kinds(holder)[-2:] == ["plan.activated", "budget.created"]
        entry = TimelineEntry.objects.get(kind="budget.created", stream__code="DFG")
        assert entry.for_person == (
            "Your Disabled Facilities Grant budget is now £2,695.00 for 1 October 2026 to 31 March 2027."
        )

    def test_a_one_off_item_carried_over_is_not_paid_again(self, clock, streams, holder, navigator, officers):
        draft = versions.plan_version_start(
            budget_holder=holder, starts_on=PERIOD_START, ends_on=PERIOD_END, started_by=navigator
        )
        home = versions.outcome_add(version=draft, in_own_words="Get in and out of my home", by=navigator)
        versions.support_item_add(
            version=draft,
            by=navigator,
            service_code="DFG-RAMP",
            quantity=Decimal("1"),
            per="once",
            outcomes=[home],
        )
        workflow.plan_version_agree(version=draft, agreed_by=holder.user)
        approve_all(draft, officers, ["DFG"])
        clock.today = CHANGE_ON
        instalments_post_due(on=CHANGE_ON)
        v2 = versions.plan_version_start_from(
            version=draft, started_by=navigator, effective_from=CHANGE_ON, change_reason="A stairlift too."
        )
        versions.support_item_add(
            version=v2,
            by=navigator,
            service_code="DFG-STAIRLIFT",
            quantity=Decimal("1"),
            per="once",
            outcomes=[v2.outcomes.get()],
        )
        workflow.plan_version_agree(version=v2, agreed_by=holder.user)
        approve_all(v2, officers, ["DFG"])

        dfg = budgets_of(holder)["DFG"]
        # The ramp (2,450.00) and the stairlift (3,250.00), each with the 10% contingency: once each.
        assert dfg.amount_minor == 269_500 + 357_500
        assert_budget_adds_up(dfg)
        assert_ledger_in_step(dfg)

    def test_a_later_version_is_reviewed_at_least_within_a_year(
        self, clock, streams, holder, navigator, officers
    ):
        draft, _, _ = draft_plan(holder, navigator)
        workflow.plan_version_agree(version=draft, agreed_by=holder.user)
        approve_all(draft, officers, ["ASC", "ILF", "ATW"])
        draft.refresh_from_db()
        draft.review_due_on = date(2028, 1, 1)  # as if reviewed long ago and set far off (the data allows it)
        draft.save(update_fields=["review_due_on"])
        v2 = versions.plan_version_start_from(
            version=draft, started_by=navigator, effective_from=PERIOD_START, change_reason="Fewer taxis."
        )
        versions.support_item_update(
            item=v2.support_items.get(service__service_code="ATW-TRAVEL"), by=navigator, quantity=5
        )
        workflow.plan_version_agree(version=v2, agreed_by=holder.user)
        approve_all(v2, officers, ["ASC", "ILF", "ATW"])
        v2.refresh_from_db()
        assert v2.review_due_on == add_months(clock.today, 12)


class TestActivationRefused:
    def test_a_decrease_that_takes_back_money_already_spent_stops_the_last_approval(
        self, clock, streams, holder, navigator, officers
    ):
        draft, _, items = draft_plan(holder, navigator)
        workflow.plan_version_agree(version=draft, agreed_by=holder.user)
        approve_all(draft, officers, ["ASC", "ILF", "ATW"])
        clock.today = CHANGE_ON
        instalments_post_due(on=CHANGE_ON)
        funds = funds_of(holder, streams["ILF"])
        # Every penny of the Independent Living Fund money paid in so far is spent on care.
        provider_account = AccountFactory(type=AccountType.LIABILITY, currency="GBP")
        transaction_post(
            idempotency_key="care-invoice-1",
            currency="GBP",
            effective_on=date(2026, 9, 30),
            description="Paid to Bright Care",
            postings=[
                PostingSpec(account=funds, side=Side.DEBIT, amount_minor=funds.available_minor),
                PostingSpec(account=provider_account, side=Side.CREDIT, amount_minor=funds.available_minor),
            ],
            metadata={"kind": "payment"},
        )
        v2 = versions.plan_version_start_from(
            version=draft, started_by=navigator, effective_from=CHANGE_ON, change_reason="No more ILF."
        )
        versions.support_item_update(
            item=v2.support_items.get(public_id=items["care"].public_id), by=navigator, split=None
        )
        workflow.plan_version_agree(version=v2, agreed_by=holder.user)
        workflow.plan_stream_approve(version=v2, stream_code="ATW", approved_by=officers["ATW"])

        with pytest.raises(PersonalBudgetAlreadySpent) as error:
            workflow.plan_stream_approve(version=v2, stream_code="ASC", approved_by=officers["ASC"])

        assert (error.value.code, error.value.http_status) == ("personal_budget_already_spent", 409)
        v2.refresh_from_db()
        assert v2.status == PlanVersionStatus.AGREED  # all or nothing: the approval itself is undone too
        assert v2.stream_approvals.get(stream__code="ASC").status == StreamApprovalStatus.PENDING
        assert budgets_of(holder)["ILF"].version == 1


class TestAgree:
    def test_only_the_person_or_an_approving_representative_agrees(self, clock, streams, holder, navigator):
        draft, _, _ = draft_plan(holder, navigator)
        viewer = RepresentativeFactory(budget_holder=holder, power="view").user
        for user in (navigator, viewer, UserFactory(), officer_of(streams["ASC"])):
            with pytest.raises(NotAllowedToAgree) as error:
                workflow.plan_version_agree(version=draft, agreed_by=user)
            assert (error.value.code, error.value.http_status) == ("not_allowed_to_agree", 403)

    def test_needs_an_outcome_and_an_item(self, clock, streams, holder, navigator):
        draft = versions.plan_version_start(
            budget_holder=holder, starts_on=PERIOD_START, ends_on=PERIOD_END, started_by=navigator
        )
        with pytest.raises(PlanIncomplete) as error:
            workflow.plan_version_agree(version=draft, agreed_by=holder.user)
        assert (error.value.code, error.value.http_status) == ("plan_incomplete", 422)
        assert "outcome" in error.value.message and "support item" in error.value.message

    def test_only_a_draft(self, clock, streams, holder, navigator):
        draft, _, _ = draft_plan(holder, navigator)
        workflow.plan_version_agree(version=draft, agreed_by=holder.user)
        with pytest.raises(PlanVersionNotDraft) as error:
            workflow.plan_version_agree(version=draft, agreed_by=holder.user)
        assert (error.value.code, error.value.http_status) == ("plan_version_not_draft", 409)

    def test_items_that_cannot_be_costed_together_are_listed(self, clock, holder, navigator):
        version = PlanVersionFactory(plan__budget_holder=holder)
        SupportItemFactory(version=version, stream__currency="GBP")
        SupportItemFactory(version=version, stream__currency="EUR")
        with pytest.raises(PlanCostingInvalid) as error:
            workflow.plan_version_agree(version=version, agreed_by=holder.user)
        assert (error.value.code, error.value.http_status) == ("currency_mismatch", 422)
        assert error.value.errors[0]["pointer"] == "/support_items/1/stream"

    def test_a_budget_that_does_not_fit_the_period_stops_agreement(self, clock, streams, holder, navigator):
        personal_budget_create(
            budget_holder=holder,
            stream=streams["ATW"],
            starts_on=PERIOD_START,
            ends_on=date(2026, 9, 30),
            amount_minor=10_000,
            explanation={},
            created_by=None,
        )
        draft, _, _ = draft_plan(holder, navigator)
        with pytest.raises(PlanBudgetMismatch) as error:
            workflow.plan_version_agree(version=draft, agreed_by=holder.user)
        assert (error.value.code, error.value.http_status) == ("plan_budget_mismatch", 409)

    def test_a_budget_made_outside_plans_for_the_period_is_taken_over(
        self, clock, streams, holder, navigator, officers
    ):
        outside = personal_budget_create(
            budget_holder=holder,
            stream=streams["ATW"],
            starts_on=PERIOD_START,
            ends_on=PERIOD_END,
            amount_minor=10_000,
            explanation={},
            created_by=None,
        )
        draft, _, _ = draft_plan(holder, navigator)
        workflow.plan_version_agree(version=draft, agreed_by=holder.user)
        approve_all(draft, officers, ["ASC", "ILF", "ATW"])
        atw = budgets_of(holder)["ATW"]
        assert atw.supersedes == outside
        assert atw.amount_minor == oracle(PERIOD_START, v1_items(taxis="10"))["ATW"]
        assert atw.explanation["rule"] == "taken_on"


class TestApproveAndReturn:
    @pytest.fixture
    def agreed(self, clock, streams, holder, navigator):
        draft, _, _ = draft_plan(holder, navigator)
        return workflow.plan_version_agree(version=draft, agreed_by=holder.user)

    def test_only_an_officer_of_the_streams_agency(self, agreed, streams, officers, navigator):
        for user in (officers["ATW"], navigator, AgencyOfficerFactory()):
            with pytest.raises(NotAllowedToDecide) as error:
                workflow.plan_stream_approve(version=agreed, stream_code="ASC", approved_by=user)
            assert (error.value.code, error.value.http_status) == ("not_allowed_to_decide", 403)
            with pytest.raises(NotAllowedToDecide):
                workflow.plan_stream_return(version=agreed, stream_code="ASC", returned_by=user, reason="No")

    def test_a_stream_the_version_does_not_use(self, agreed, streams, officers):
        with pytest.raises(StreamNotInPlan) as error:
            workflow.plan_stream_approve(version=agreed, stream_code="DFG", approved_by=officers["DFG"])
        assert (error.value.code, error.value.http_status) == ("stream_not_in_plan", 404)
        with pytest.raises(StreamNotInPlan):
            workflow.plan_stream_approve(version=agreed, stream_code="NOPE", approved_by=officers["DFG"])

    def test_a_part_is_decided_once(self, agreed, officers):
        workflow.plan_stream_approve(version=agreed, stream_code="ASC", approved_by=officers["ASC"])
        with pytest.raises(StreamApprovalAlreadyDecided) as error:
            workflow.plan_stream_approve(version=agreed, stream_code="ASC", approved_by=officers["ASC"])
        assert (error.value.code, error.value.http_status) == ("stream_approval_decided", 409)
        with pytest.raises(StreamApprovalAlreadyDecided):
            workflow.plan_stream_return(
                version=agreed, stream_code="ASC", returned_by=officers["ASC"], reason="x"
            )

    def test_only_an_agreed_version(self, clock, streams, holder, navigator, officers):
        draft, _, _ = draft_plan(holder, navigator)
        with pytest.raises(PlanVersionNotAgreed) as error:
            workflow.plan_stream_approve(version=draft, stream_code="ASC", approved_by=officers["ASC"])
        assert (error.value.code, error.value.http_status) == ("plan_version_not_agreed", 409)
        with pytest.raises(PlanVersionNotAgreed):
            workflow.plan_stream_return(
                version=draft, stream_code="ASC", returned_by=officers["ASC"], reason="x"
            )

    def test_a_return_needs_a_reason(self, agreed, officers):
        with pytest.raises(ReasonRequired) as error:
            workflow.plan_stream_return(
                version=agreed, stream_code="ASC", returned_by=officers["ASC"], reason=" "
            )
        assert (error.value.code, error.value.http_status) == ("reason_required", 422)

    def test_an_edit_waits_for_the_return(self, agreed, navigator):
        with pytest.raises(PlanVersionNotDraft):
            versions.outcome_add(version=agreed, in_own_words="More", by=navigator)


class TestWithdraw:
    def test_a_navigator_withdraws_an_agreed_version_and_its_round_ends(
        self, clock, streams, holder, navigator, officers
    ):
        draft, _, _ = draft_plan(holder, navigator)
        workflow.plan_version_agree(version=draft, agreed_by=holder.user)
        workflow.plan_stream_approve(version=draft, stream_code="ASC", approved_by=officers["ASC"])

        withdrawn = workflow.plan_version_withdraw(
            version=draft, by=navigator, reason="Moving to another council."
        )

        assert withdrawn.status == PlanVersionStatus.WITHDRAWN
        assert set(draft.stream_approvals.values_list("status", flat=True)) == {
            StreamApprovalStatus.CANCELLED
        }
        entry = TimelineEntry.objects.get(kind="plan.withdrawn")
        assert entry.body == "Moving to another council."
        # A new first version may start once nothing is in progress.
        versions.plan_version_start(
            budget_holder=holder, starts_on=PERIOD_START, ends_on=PERIOD_END, started_by=navigator
        )

    def test_only_a_navigator_with_a_reason_before_activation(
        self, clock, streams, holder, navigator, officers
    ):
        draft, _, _ = draft_plan(holder, navigator)
        with pytest.raises(NotAllowedToWithdraw) as error:
            workflow.plan_version_withdraw(version=draft, by=holder.user, reason="x")
        assert (error.value.code, error.value.http_status) == ("not_allowed_to_withdraw", 403)
        with pytest.raises(ReasonRequired):
            workflow.plan_version_withdraw(version=draft, by=navigator, reason="")
        workflow.plan_version_agree(version=draft, agreed_by=holder.user)
        approve_all(draft, officers, ["ASC", "ILF", "ATW"])
        with pytest.raises(PlanVersionNotInProgress) as error:
            workflow.plan_version_withdraw(version=draft, by=NavigatorFactory(), reason="x")
        assert (error.value.code, error.value.http_status) == ("plan_version_not_in_progress", 409)


class TestAddMonths:
    @pytest.mark.parametrize(
        ("day", "months", "expected"),
        [
            (date(2026, 3, 16), 3, date(2026, 6, 16)),
            (date(2026, 11, 30), 3, date(2027, 2, 28)),
            (date(2028, 2, 29), 12, date(2029, 2, 28)),
            (date(2026, 12, 31), 12, date(2027, 12, 31)),
        ],
    )
    def test_calendar_months(self, day, months, expected):
        assert add_months(day, months) == expected


def test_edits_write_an_audit_row(clock, streams, holder, navigator):
    draft, _, _ = draft_plan(holder, navigator)
    actions = list(AuditEvent.objects.filter(object_id=draft.public_id).values_list("action", flat=True))
    assert actions == [
        "plan.outcome_added",
        "plan.outcome_added",
        "plan.informal_support_added",
        "plan.support_item_added",
        "plan.support_item_added",
        "plan.support_item_added",
    ]


class TestMoneyBefore:
    def test_is_what_a_budget_change_keeps(self, clock, streams, holder, navigator):
        budget = personal_budget_create(
            budget_holder=holder,
            stream=streams["ASC"],
            starts_on=PERIOD_START,
            ends_on=PERIOD_END,
            amount_minor=365_000,
            explanation={},
            created_by=None,
        )
        clock.today = CHANGE_ON
        instalments_post_due(on=CHANGE_ON)
        day = date(2026, 9, 20)  # inside a posted block, so it counts pro rata
        kept = personal_budget_money_before(personal_budget=budget, day=day)
        changed = personal_budget_change(
            personal_budget=budget,
            amount_minor=400_000,
            effective_from=day,
            explanation={},
            changed_by=navigator,
            reason="Test",
        )
        audit = AuditEvent.objects.get(action="personal_budget.changed", object_id=changed.public_id)
        assert kept == 172_000 == int(Decimal(audit.detail["kept_before_change"]) * 100)
        later = personal_budget_money_before(personal_budget=changed, day=date(2026, 12, 1))
        assert later > kept
        with pytest.raises(PersonalBudgetNotActive) as error:
            personal_budget_money_before(personal_budget=PersonalBudget.objects.get(pk=budget.pk), day=day)
        assert error.value.code == "personal_budget_not_active"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
class TestConcurrentDecisions:
    @pytest.fixture
    def agreed(self, clock, streams, holder, navigator, officers):
        draft, _, _ = draft_plan(holder, navigator)
        workflow.plan_version_agree(version=draft, agreed_by=holder.user)
        workflow.plan_stream_approve(version=draft, stream_code="ASC", approved_by=officers["ASC"])
        return draft

    def test_the_last_two_approvals_at_once_activate_the_version_exactly_once(self, agreed, holder, officers):
        codes = ["ILF", "ATW"]

        results = run_in_threads(
            2,
            lambda index: workflow.plan_stream_approve(
                version=agreed, stream_code=codes[index], approved_by=officers[codes[index]]
            ),
        )

        assert all(not isinstance(result, Exception) for result in results), results
        agreed.refresh_from_db()
        assert agreed.status == PlanVersionStatus.ACTIVE
        assert TimelineEntry.objects.filter(budget_holder=holder, kind="plan.activated").count() == 1
        assert TimelineEntry.objects.filter(budget_holder=holder, kind="budget.created").count() == 3
        assert sorted(
            PersonalBudget.objects.filter(budget_holder=holder).values_list("stream__code", flat=True)
        ) == [
            "ASC",
            "ATW",
            "ILF",
        ]

    def test_an_approval_and_a_return_at_once_one_wins(self, agreed, holder, officers):
        def decide(index):
            if index == 0:
                return workflow.plan_stream_approve(
                    version=agreed, stream_code="ILF", approved_by=officers["ILF"]
                )
            return workflow.plan_stream_return(
                version=agreed, stream_code="ATW", returned_by=officers["ATW"], reason="Fewer taxis."
            )

        results = run_in_threads(2, decide)

        agreed.refresh_from_db()
        approved, returned = results
        # Whichever came first, the return stands: back to draft, the round over, no budgets. The approval
        # either came first (and was then cancelled with the round) or found the version back in draft.
        assert not isinstance(returned, Exception), returned
        assert not isinstance(approved, Exception) or isinstance(approved, PlanVersionNotAgreed), approved
        assert agreed.status == PlanVersionStatus.DRAFT
        statuses = dict(agreed.stream_approvals.values_list("stream__code", "status"))
        assert statuses == {"ASC": "cancelled", "ILF": "cancelled", "ATW": "returned"}
        assert not PersonalBudget.objects.filter(budget_holder=holder).exists()
