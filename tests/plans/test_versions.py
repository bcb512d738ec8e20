"""Drafting plan versions: starting one, changing an active one, and writing outcomes, informal support and
support items (checked against the demo catalogue and the calculator's rules); and the plan selectors."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from budgets.calculator import CashEquivalentInvalid
from budgets.models import Rate, Service
from people.models import AuditEvent, Organisation
from plans.models import (
    InformalSupport,
    Outcome,
    PlanVersion,
    PlanVersionStatus,
    SupportItem,
    SupportPlan,
    TimelineEntry,
)
from plans.selectors.plans import (
    PlanVersionNotFound,
    plan_for_holder,
    plan_version_active,
    plan_version_costing,
    plan_version_get,
    plan_versions,
    support_items_for_provider,
)
from plans.services import versions
from plans.services.versions import (
    EffectiveFromBeforeCurrent,
    EffectiveFromOutsidePeriod,
    InformalSupportInvalid,
    InvalidPlanPeriod,
    OutcomeInUse,
    OutcomeInvalid,
    OutcomeNotInVersion,
    PlanVersionActiveOverlaps,
    PlanVersionInProgress,
    PlanVersionNotActive,
    PlanVersionNotDraft,
    ReasonRequired,
    SupportItemInvalid,
)
from tests.budgets.factories import FundingStreamFactory
from tests.people.factories import AdministratorFactory, AgencyFactory, BudgetHolderFactory, ProviderFactory
from tests.plans.factories import (
    PERIOD_END,
    PERIOD_START,
    InformalSupportFactory,
    OutcomeFactory,
    PlanVersionFactory,
    ReviewFactory,
    StreamApprovalFactory,
    SupportItemFactory,
    demo_catalogue,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def holder():
    return BudgetHolderFactory()


@pytest.fixture
def navigator(holder):
    return holder.navigator


@pytest.fixture
def draft(holder, navigator):
    return versions.plan_version_start(
        budget_holder=holder, starts_on=PERIOD_START, ends_on=PERIOD_END, started_by=navigator
    )


@pytest.fixture
def catalogue():
    return demo_catalogue()


def errors_of(error):
    return sorted((problem["code"], problem["pointer"]) for problem in error.value.errors)


class TestPlanVersionStart:
    def test_makes_the_plan_and_a_first_draft(self, holder, navigator):
        version = versions.plan_version_start(
            budget_holder=holder,
            starts_on=PERIOD_START,
            ends_on=PERIOD_END,
            started_by=navigator,
            summary="I love music.",
        )

        assert version.public_id.startswith("plv_")
        assert version.plan == SupportPlan.objects.get(budget_holder=holder)
        assert (version.number, version.status, version.based_on) == (1, PlanVersionStatus.DRAFT, None)
        assert (version.starts_on, version.ends_on, version.effective_from) == (
            PERIOD_START,
            PERIOD_END,
            PERIOD_START,
        )
        assert (version.summary, version.created_by) == ("I love music.", navigator)
        entry = TimelineEntry.objects.get(budget_holder=holder)
        assert entry.kind == "plan.version_started"
        assert entry.for_person == f"{navigator.display_name} started drafting your support plan for 2026/27."

    def test_one_version_in_progress_at_a_time(self, draft, holder, navigator):
        with pytest.raises(PlanVersionInProgress) as error:
            versions.plan_version_start(
                budget_holder=holder,
                starts_on=date(2027, 4, 1),
                ends_on=date(2028, 3, 31),
                started_by=navigator,
            )
        assert (error.value.code, error.value.http_status) == ("plan_version_in_progress", 409)

    def test_an_active_version_for_the_period_is_changed_instead(self, holder, navigator):
        PlanVersionFactory(plan__budget_holder=holder, status=PlanVersionStatus.ACTIVE)
        with pytest.raises(PlanVersionActiveOverlaps) as error:
            versions.plan_version_start(
                budget_holder=holder,
                starts_on=date(2026, 10, 1),
                ends_on=date(2027, 9, 30),
                started_by=navigator,
            )
        assert (error.value.code, error.value.http_status) == ("plan_version_active_overlaps", 409)
        # Next year's plan may be drafted while this year's is active.
        following = versions.plan_version_start(
            budget_holder=holder, starts_on=date(2027, 4, 1), ends_on=date(2028, 3, 31), started_by=navigator
        )
        assert following.number == 2
        assert "1 April 2027 to 31 March 2028" not in TimelineEntry.objects.last().for_person  # "2027/28"

    def test_the_period_must_run_forwards(self, holder, navigator):
        with pytest.raises(InvalidPlanPeriod) as error:
            versions.plan_version_start(
                budget_holder=holder, starts_on=PERIOD_END, ends_on=PERIOD_START, started_by=navigator
            )
        assert (error.value.code, error.value.http_status) == ("invalid_plan_period", 422)
        with pytest.raises(InvalidPlanPeriod):
            versions.plan_version_start(
                budget_holder=holder, starts_on="2026-04-01", ends_on=PERIOD_END, started_by=navigator
            )
        assert not SupportPlan.objects.exists()


class TestPlanVersionStartFrom:
    @pytest.fixture
    def active(self, holder):
        version = PlanVersionFactory(
            plan__budget_holder=holder, status=PlanVersionStatus.ACTIVE, summary="Me, in my words."
        )
        flat, job = OutcomeFactory(version=version, position=0), OutcomeFactory(version=version, position=1)
        InformalSupportFactory(version=version, outcome=flat)
        provider = ProviderFactory()
        SupportItemFactory(version=version, outcomes=[flat, job], provider=provider, agreed_rate_minor=2300)
        SupportItemFactory(
            version=version,
            outcomes=[job],
            split={"percent": [{"stream": "ASC", "percent": "60"}, {"stream": "ILF", "percent": "40"}]},
        )
        return version

    def test_copies_everything_keeping_public_ids(self, active, navigator):
        draft = versions.plan_version_start_from(
            version=active, started_by=navigator, effective_from=date(2026, 10, 1), change_reason="New job."
        )

        assert (draft.number, draft.based_on, draft.status) == (2, active, PlanVersionStatus.DRAFT)
        assert (draft.starts_on, draft.ends_on, draft.effective_from) == (
            PERIOD_START,
            PERIOD_END,
            date(2026, 10, 1),
        )
        assert (draft.summary, draft.change_reason) == ("Me, in my words.", "New job.")

        def contents(version):
            outcomes = [
                (o.public_id, o.position, o.in_own_words) for o in version.outcomes.order_by("position")
            ]
            informal = [(i.public_id, i.outcome.public_id, i.who) for i in version.informal_supports.all()]
            items = [
                (
                    i.public_id,
                    i.stream_id,
                    i.quantity,
                    i.split,
                    i.provider_id,
                    i.agreed_rate_minor,
                    sorted(o.public_id for o in i.outcomes.all()),
                )
                for i in version.support_items.order_by("position")
            ]
            return outcomes, informal, items

        assert contents(draft) == contents(active)
        # The copies are the draft's own rows: its items serve its outcomes.
        for item in draft.support_items.all():
            assert {o.version_id for o in item.outcomes.all()} == {draft.pk}
        assert {i.outcome.version_id for i in draft.informal_supports.all()} == {draft.pk}
        assert active.outcomes.count() == 2 and active.support_items.count() == 2
        entry = TimelineEntry.objects.get(kind="plan.change_started")
        assert "1 October 2026" in entry.for_person and "New job." in entry.for_person

    def test_from_the_active_version_only(self, holder, navigator):
        superseded = PlanVersionFactory(plan__budget_holder=holder, status=PlanVersionStatus.SUPERSEDED)
        with pytest.raises(PlanVersionNotActive) as error:
            versions.plan_version_start_from(
                version=superseded, started_by=navigator, effective_from=PERIOD_START, change_reason="x"
            )
        assert (error.value.code, error.value.http_status) == ("plan_version_not_active", 409)

    def test_one_change_at_a_time(self, active, navigator):
        versions.plan_version_start_from(
            version=active, started_by=navigator, effective_from=PERIOD_START, change_reason="x"
        )
        with pytest.raises(PlanVersionInProgress):
            versions.plan_version_start_from(
                version=active, started_by=navigator, effective_from=PERIOD_START, change_reason="y"
            )

    def test_needs_a_reason_and_a_day_inside_the_period_not_before_the_current_one(self, active, navigator):
        active.effective_from = date(2026, 7, 1)
        active.save()
        with pytest.raises(ReasonRequired) as error:
            versions.plan_version_start_from(
                version=active, started_by=navigator, effective_from=date(2026, 10, 1), change_reason="  "
            )
        assert (error.value.code, error.value.http_status) == ("reason_required", 422)
        for outside in (date(2027, 4, 1), date(2026, 3, 31)):
            with pytest.raises(EffectiveFromOutsidePeriod) as error:
                versions.plan_version_start_from(
                    version=active, started_by=navigator, effective_from=outside, change_reason="x"
                )
            assert (error.value.code, error.value.http_status) == ("effective_from_outside_period", 422)
        with pytest.raises(EffectiveFromBeforeCurrent) as error:
            versions.plan_version_start_from(
                version=active, started_by=navigator, effective_from=date(2026, 6, 30), change_reason="x"
            )
        assert (error.value.code, error.value.http_status) == ("effective_from_before_current", 422)
        assert PlanVersion.objects.count() == 1


class TestOutcomesAndInformalSupport:
    def test_add_change_and_remove_an_outcome(self, draft, navigator):
        first = versions.outcome_add(version=draft, in_own_words="  Get a job  ", by=navigator)
        second = versions.outcome_add(
            version=draft, in_own_words="See friends", success_looks_like="Weekly", by=navigator
        )
        assert (first.public_id[:4], first.in_own_words, first.position, second.position) == (
            "out_",
            "Get a job",
            0,
            1,
        )

        changed = versions.outcome_update(outcome=first, by=navigator, success_looks_like="A contract")
        assert (changed.in_own_words, changed.success_looks_like) == ("Get a job", "A contract")
        versions.outcome_remove(outcome=second, by=navigator)
        assert list(draft.outcomes.values_list("in_own_words", flat=True)) == ["Get a job"]
        assert AuditEvent.objects.filter(object_id=draft.public_id, action="plan.outcome_removed").exists()

    def test_an_outcome_needs_words(self, draft, navigator):
        with pytest.raises(OutcomeInvalid) as error:
            versions.outcome_add(version=draft, in_own_words="   ", by=navigator)
        assert (error.value.code, error.value.http_status) == ("outcome_invalid", 422)
        outcome = versions.outcome_add(version=draft, in_own_words="Job", by=navigator)
        with pytest.raises(OutcomeInvalid):
            versions.outcome_update(outcome=outcome, by=navigator, in_own_words="")

    def test_an_outcome_still_served_only_by_support_is_kept(self, draft, navigator):
        job = OutcomeFactory(version=draft)
        friends = OutcomeFactory(version=draft)
        informal = InformalSupportFactory(version=draft, outcome=job)
        only_job = SupportItemFactory(version=draft, outcomes=[job])
        both = SupportItemFactory(version=draft, outcomes=[job, friends])

        with pytest.raises(OutcomeInUse) as error:
            versions.outcome_remove(outcome=job, by=navigator)
        assert (error.value.code, error.value.http_status) == ("outcome_in_use", 409)
        assert informal.who in error.value.message and only_job.description in error.value.message

        versions.informal_support_remove(informal_support=informal, by=navigator)
        versions.support_item_remove(item=only_job, by=navigator)
        versions.outcome_remove(outcome=job, by=navigator)
        assert [o.pk for o in both.outcomes.all()] == [friends.pk]

    def test_informal_support(self, draft, navigator):
        job = OutcomeFactory(version=draft)
        informal = versions.informal_support_add(
            version=draft, outcome=job, who="Neighbour", what="Lifts to the bus", by=navigator
        )
        assert (informal.public_id[:4], informal.how_often, informal.outcome) == ("inf_", "", job)
        with pytest.raises(InformalSupportInvalid) as error:
            versions.informal_support_add(version=draft, outcome=job, who=" ", what="x", by=navigator)
        assert (error.value.code, error.value.http_status) == ("informal_support_invalid", 422)
        with pytest.raises(OutcomeNotInVersion) as error:
            versions.informal_support_add(
                version=draft, outcome=OutcomeFactory(), who="Mum", what="Cooks", by=navigator
            )
        assert (error.value.code, error.value.http_status) == ("outcome_not_in_version", 422)


class TestOnlyADraftChanges:
    @pytest.mark.parametrize("status", [s for s in PlanVersionStatus.values if s != PlanVersionStatus.DRAFT])
    def test_every_edit_refuses_a_version_that_is_not_a_draft(self, status, navigator, catalogue):
        version = PlanVersionFactory(status=status)
        outcome = OutcomeFactory(version=version)
        informal = InformalSupportFactory(version=version, outcome=outcome)
        item = SupportItemFactory(version=version, outcomes=[outcome])
        edits = [
            lambda: versions.outcome_add(version=version, in_own_words="x", by=navigator),
            lambda: versions.outcome_update(outcome=outcome, by=navigator, in_own_words="y"),
            lambda: versions.outcome_remove(outcome=outcome, by=navigator),
            lambda: versions.informal_support_add(
                version=version, outcome=outcome, who="a", what="b", by=navigator
            ),
            lambda: versions.informal_support_remove(informal_support=informal, by=navigator),
            lambda: versions.support_item_add(
                version=version,
                by=navigator,
                service_code="ASC-PC",
                quantity=Decimal("1"),
                per="week",
                outcomes=[outcome],
            ),
            lambda: versions.support_item_update(item=item, by=navigator, quantity=Decimal("2")),
            lambda: versions.support_item_remove(item=item, by=navigator),
        ]
        for edit in edits:
            with pytest.raises(PlanVersionNotDraft) as error:
                edit()
            assert (error.value.code, error.value.http_status) == ("plan_version_not_draft", 409)
        assert SupportItem.objects.get(pk=item.pk).quantity == Decimal("10")


class TestSupportItemAdd:
    @pytest.fixture
    def outcome(self, draft):
        return OutcomeFactory(version=draft)

    def test_a_catalogue_service_takes_its_stream_unit_and_cost_from_the_catalogue(
        self, draft, navigator, outcome, catalogue
    ):
        provider = Organisation.objects.get(slug="bright-care")
        item = versions.support_item_add(
            version=draft,
            by=navigator,
            service_code="ASC-PC",
            quantity=Decimal("7.5"),
            per="week",
            outcomes=[outcome],
            provider=provider,
            agreed_rate_minor=2450,
        )

        assert item.public_id.startswith("si_")
        assert (item.service.service_code, item.stream.code, item.description) == (
            "ASC-PC",
            "ASC",
            "Personal care",
        )
        assert (item.unit, item.unit_cost_minor, item.quantity, item.per) == (
            "",
            None,
            Decimal("7.5"),
            "week",
        )
        assert (item.provider, item.agreed_rate_minor, item.split) == (provider, 2450, {})
        assert list(item.outcomes.all()) == [outcome]
        event = AuditEvent.objects.get(action="plan.support_item_added")
        assert (event.actor, event.detail["support_item"]) == (navigator, item.public_id)

    def test_a_described_item_with_its_own_cost(self, draft, navigator, outcome, catalogue):
        item = versions.support_item_add(
            version=draft,
            by=navigator,
            stream_code="ATW",
            description="Job coach",
            unit="hour",
            unit_cost_minor=3000,
            quantity=Decimal("2"),
            per="week",
            outcomes=[outcome],
        )
        assert (item.service, item.stream.code, item.unit, item.unit_cost_minor) == (
            None,
            "ATW",
            "hour",
            3000,
        )

    def test_splits_are_stored_as_the_api_writes_them_and_the_first_stream_funds_it(
        self, draft, navigator, outcome, catalogue
    ):
        percent = versions.support_item_add(
            version=draft,
            by=navigator,
            service_code="ASC-PC",
            quantity=Decimal("10"),
            per="week",
            outcomes=[outcome],
            split={
                "percent": [{"stream": "ILF", "percent": "40.0"}, {"stream": "ASC", "percent": Decimal("60")}]
            },
        )
        cap = versions.support_item_add(
            version=draft,
            by=navigator,
            service_code="ASC-PC",
            quantity=Decimal("14"),
            per="week",
            outcomes=[outcome],
            split={"cap": {"stream": "ASC", "amount": "250.00", "per": "week"}, "rest": "ILF"},
        )
        assert percent.split == {
            "percent": [{"stream": "ILF", "percent": "40"}, {"stream": "ASC", "percent": "60"}]
        }
        assert percent.stream.code == "ILF"
        assert cap.split == {"cap": {"stream": "ASC", "amount": "250.00", "per": "week"}, "rest": "ILF"}
        assert cap.stream.code == "ASC"
        assert (percent.position, cap.position) == (0, 1)

    def test_every_problem_at_once_pointing_into_the_item(self, draft, navigator, catalogue):
        other = OutcomeFactory()
        agency = AgencyFactory()
        with pytest.raises(SupportItemInvalid) as error:
            versions.support_item_add(
                version=draft,
                by=navigator,
                service_code="ASC-PC",
                stream_code="ASC",
                unit="hour",
                unit_cost_minor=100,
                description="x" * 201,
                quantity=Decimal("0"),
                per="fortnight",
                outcomes=[other],
                split={"percent": [{"stream": "ASC", "percent": "70"}, {"stream": "ILF", "percent": "20"}]},
                provider=agency,
                agreed_rate_minor=-1,
            )
        assert (error.value.code, error.value.http_status) == ("support_item_invalid", 422)
        assert errors_of(error) == sorted(
            [
                ("item_ambiguous", "/stream"),
                ("item_ambiguous", "/unit"),
                ("item_ambiguous", "/unit_cost"),
                ("invalid_description", "/description"),
                ("invalid_per", "/per"),
                ("outcome_not_in_version", "/outcomes/0"),
                ("not_a_provider", "/provider"),
                ("invalid_amount", "/agreed_rate"),
                ("invalid_quantity", "/quantity"),
                ("split_percent_not_100", "/split/percent"),
            ]
        )
        assert not SupportItem.objects.exists()

    @pytest.mark.parametrize(
        ("fields", "expected"),
        [
            ({"service_code": "NOPE"}, [("unknown_service", "/service_code")]),
            (
                {"stream_code": "ATW"},
                [("required", "/description"), ("required", "/unit"), ("required", "/unit_cost")],
            ),
            (
                {"stream_code": "NOPE", "description": "x", "unit": "furlong", "unit_cost_minor": 100},
                [("invalid_unit", "/unit"), ("unknown_stream", "/stream")],
            ),
            (
                {"stream_code": "ATW", "description": "x", "unit": "hour", "unit_cost_minor": "12"},
                [("invalid_amount", "/unit_cost")],
            ),
            ({"service_code": "ASC-PC", "quantity": "ten"}, [("invalid_quantity", "/quantity")]),
            ({"service_code": "ASC-PC", "quantity": Decimal("1.234")}, [("invalid_quantity", "/quantity")]),
            ({"service_code": "ASC-PC", "outcomes": []}, [("outcome_required", "/outcomes")]),
            (
                {"service_code": "ASC-PC", "agreed_rate_minor": 2000},
                [("agreed_rate_without_provider", "/agreed_rate")],
            ),
            ({"service_code": "ASC-PC", "split": {"half": "ASC"}}, [("invalid_split", "/split")]),
            ({"service_code": "ASC-PC", "split": ["ASC"]}, [("invalid_split", "/split")]),
            (
                {
                    "service_code": "ASC-PC",
                    "split": {"percent": [{"stream": "ASC", "percent": 60}, {"stream": "ILF"}]},
                },
                [("invalid_percent", "/split/percent/0/percent"), ("invalid_split", "/split/percent/1")],
            ),
            (
                {"service_code": "ASC-PC", "split": {"percent": [{"stream": "ASC", "percent": "150"}]}},
                [("invalid_percent", "/split/percent/0/percent")],
            ),
            (
                {
                    "service_code": "ASC-PC",
                    "split": {
                        "percent": [{"stream": "ASC", "percent": "50"}, {"stream": "ASC", "percent": "50"}]
                    },
                },
                [("split_stream_repeated", "/split/percent/1/stream")],
            ),
            (
                {
                    "service_code": "ASC-PC",
                    "split": {"cap": {"stream": "ASC", "amount": "250", "per": "week"}, "rest": "NOPE"},
                },
                [("invalid_amount", "/split/cap/amount"), ("unknown_stream", "/split/rest")],
            ),
            (
                {
                    "service_code": "ASC-PC",
                    "split": {"cap": {"stream": "ASC", "amount": "250.00", "per": "hourly"}, "rest": "ILF"},
                },
                [("invalid_per", "/split/cap/per")],
            ),
        ],
    )
    def test_problems(self, draft, navigator, outcome, catalogue, fields, expected):
        arguments = {"quantity": Decimal("5"), "per": "week", "outcomes": [outcome], **fields}
        with pytest.raises(SupportItemInvalid) as error:
            versions.support_item_add(version=draft, by=navigator, **arguments)
        assert errors_of(error) == sorted(expected)
        if len(expected) == 1:
            assert error.value.code == expected[0][0]  # one problem names itself, as budgets' errors do

    def test_a_closed_stream_and_a_service_without_a_rate_in_the_period(
        self, draft, navigator, outcome, catalogue
    ):
        catalogue["WCH"].is_active = False
        catalogue["WCH"].save()
        service = Service.objects.get(service_code="DFG-RAMP")
        Rate.objects.filter(service=service).update(valid_to=date(2026, 3, 31))
        with pytest.raises(SupportItemInvalid) as error:
            versions.support_item_add(
                version=draft,
                by=navigator,
                service_code="WCH-COACH",
                quantity=Decimal("1"),
                per="week",
                outcomes=[outcome],
            )
        assert errors_of(error) == [("stream_inactive", "/service_code")]
        with pytest.raises(SupportItemInvalid) as error:
            versions.support_item_add(
                version=draft,
                by=navigator,
                service_code="DFG-RAMP",
                quantity=Decimal("1"),
                per="once",
                outcomes=[outcome],
            )
        assert errors_of(error) == [("rate_not_valid", "/service_code")]


class TestSupportItemUpdate:
    @pytest.fixture
    def item(self, draft, navigator, catalogue):
        outcome = OutcomeFactory(version=draft)
        return versions.support_item_add(
            version=draft,
            by=navigator,
            service_code="ASC-PC",
            description="Morning calls",
            quantity=Decimal("7"),
            per="week",
            outcomes=[outcome],
            provider=Organisation.objects.get(slug="bright-care"),
            agreed_rate_minor=2450,
        )

    def test_changes_what_is_given_and_checks_the_whole_again(self, item, navigator, draft):
        second = OutcomeFactory(version=draft)
        changed = versions.support_item_update(
            item=item,
            by=navigator,
            quantity=Decimal("9"),
            per="day",
            outcomes=[second],
            provider=None,
            agreed_rate_minor=None,
        )
        assert (changed.quantity, changed.per, changed.description, changed.provider) == (
            Decimal("9"),
            "day",
            "Morning calls",
            None,
        )
        assert list(changed.outcomes.all()) == [second]
        with pytest.raises(SupportItemInvalid) as error:
            versions.support_item_update(item=item, by=navigator, agreed_rate_minor=100)
        assert errors_of(error) == [("agreed_rate_without_provider", "/agreed_rate")]
        assert AuditEvent.objects.filter(action="plan.support_item_changed").count() == 1

    def test_moving_to_another_service_or_out_of_the_catalogue(self, item, navigator):
        day = versions.support_item_update(item=item, by=navigator, service_code="ASC-DAY")
        assert (day.service.service_code, day.description, day.stream.code) == (
            "ASC-DAY",
            "Day service",
            "ASC",
        )
        with pytest.raises(SupportItemInvalid) as error:
            versions.support_item_update(item=item, by=navigator, service_code=None)
        # Its description carries over; its own stream, unit and cost are needed.
        assert errors_of(error) == [
            ("required", "/stream"),
            ("required", "/unit"),
            ("required", "/unit_cost"),
        ]
        own = versions.support_item_update(
            item=item,
            by=navigator,
            service_code=None,
            stream_code="ATW",
            description="Coach",
            unit="hour",
            unit_cost_minor=3000,
        )
        assert (own.service, own.stream.code, own.unit_cost_minor, own.unit) == (None, "ATW", 3000, "hour")
        back = versions.support_item_update(item=item, by=navigator, service_code="ASC-PC")
        assert (back.service.service_code, back.unit_cost_minor, back.unit, back.description) == (
            "ASC-PC",
            None,
            "",
            "Personal care",
        )

    def test_unknown_fields_are_a_programming_error(self, item, navigator):
        with pytest.raises(TypeError, match="colour"):
            versions.support_item_update(item=item, by=navigator, colour="red")

    def test_remove(self, item, navigator):
        public_id = item.public_id
        versions.support_item_remove(item=item, by=navigator)
        assert not SupportItem.objects.filter(public_id=public_id).exists()


class TestSelectors:
    def _plan(self, holder, *, items):
        version = PlanVersionFactory(plan__budget_holder=holder, status=PlanVersionStatus.ACTIVE)
        outcomes = [OutcomeFactory(version=version) for _ in range(items)]
        stream = FundingStreamFactory()
        for outcome in outcomes:
            InformalSupportFactory(version=version, outcome=outcome)
            SupportItemFactory(
                version=version, outcomes=outcomes[:2], stream=stream, provider=ProviderFactory()
            )
        StreamApprovalFactory(version=version, stream=stream, status="approved")
        review = ReviewFactory(version=version)
        review.progress.create(outcome=outcomes[0], progress="achieved")
        return version

    def test_plan_version_get_reads_everything_in_a_fixed_number_of_queries(self, holder):
        small = self._plan(holder, items=1)
        large = self._plan(BudgetHolderFactory(), items=8)

        def count(version):
            with CaptureQueriesContext(connection) as queries:
                got = plan_version_get(public_id=version.public_id)
                for item in got.support_items.all():
                    _ = (
                        item.service,
                        item.stream.agency,
                        item.provider,
                        [o.public_id for o in item.outcomes.all()],
                    )
                for outcome in got.outcomes.all():
                    _ = outcome.in_own_words
                for informal in got.informal_supports.all():
                    _ = informal.outcome.public_id
                for approval in got.stream_approvals.all():
                    _ = (approval.stream.agency.name, approval.decided_by)
                for review in got.reviews.all():
                    _ = (review.held_by, [p.outcome.public_id for p in review.progress.all()])
                _ = (got.plan.budget_holder.navigator, got.based_on, got.created_by, got.agreed_by)
            return len(queries)

        assert count(small) == count(large) <= 9

    def test_plan_version_get_not_found(self):
        with pytest.raises(PlanVersionNotFound) as error:
            plan_version_get(public_id="plv_nope")
        assert (error.value.code, error.value.http_status) == ("plan_version_not_found", 404)

    def test_plans_versions_and_the_active_one(self, holder):
        assert plan_for_holder(budget_holder=holder) is None
        assert plan_version_active(budget_holder=holder) is None
        first = PlanVersionFactory(plan__budget_holder=holder, status=PlanVersionStatus.SUPERSEDED)
        second = PlanVersionFactory(plan=first.plan, status=PlanVersionStatus.ACTIVE)
        third = PlanVersionFactory(plan=first.plan)
        assert plan_for_holder(budget_holder=holder) == first.plan
        assert list(plan_versions(plan=first.plan)) == [third, second, first]
        assert plan_version_active(budget_holder=holder) == second

    def test_support_items_for_provider_are_those_of_active_versions(self, holder):
        provider = ProviderFactory()
        active = PlanVersionFactory(plan__budget_holder=holder, status=PlanVersionStatus.ACTIVE)
        engaged = SupportItemFactory(version=active, provider=provider)
        SupportItemFactory(version=active, provider=ProviderFactory())
        SupportItemFactory(version=PlanVersionFactory(plan=active.plan), provider=provider)  # a draft
        assert list(support_items_for_provider(provider=provider)) == [engaged]

    def test_costing_from_the_effective_day_or_a_given_one(self, holder):
        version = PlanVersionFactory(plan__budget_holder=holder, effective_from=date(2026, 10, 1))
        item = SupportItemFactory(version=version, unit_cost_minor=1000, quantity=Decimal("7"), per="day")
        whole = plan_version_costing(version=version, from_on=PERIOD_START)
        rest = plan_version_costing(version=version)
        assert whole.total_minor == 1000 * 7 * 365
        assert rest.total_minor == 1000 * 7 * 182
        assert rest.streams[0].stream == item.stream.code
        assert whole.contribution is None
        with pytest.raises(CashEquivalentInvalid):
            plan_version_costing(version=PlanVersionFactory())


def test_outcome_and_item_public_ids_are_unique_within_a_version_only(holder, navigator):
    active = PlanVersionFactory(plan__budget_holder=holder, status=PlanVersionStatus.ACTIVE)
    SupportItemFactory(version=active)
    draft = versions.plan_version_start_from(
        version=active, started_by=navigator, effective_from=PERIOD_START, change_reason="x"
    )
    assert Outcome.objects.filter(public_id=active.outcomes.get().public_id).count() == 2
    assert SupportItem.objects.filter(public_id=draft.support_items.get().public_id).count() == 2
    assert InformalSupport.objects.count() == 0


class TestAdmin:
    def test_plans_versions_items_and_the_timeline_are_read_only(
        self, client, sign_in_verified, holder, navigator
    ):
        sign_in_verified(client, AdministratorFactory(is_staff=True, is_superuser=True))
        version = versions.plan_version_start(
            budget_holder=holder, starts_on=PERIOD_START, ends_on=PERIOD_END, started_by=navigator
        )
        item = SupportItemFactory(version=version, provider=ProviderFactory(), agreed_rate_minor=2300)
        StreamApprovalFactory(version=version, stream=item.stream)
        ReviewFactory(version=version)
        entry = TimelineEntry.objects.get()
        pages = {
            "supportplan": version.plan,
            "planversion": version,
            "supportitem": item,
            "timelineentry": entry,
        }
        for model, obj in pages.items():
            listing = client.get(reverse(f"admin:plans_{model}_changelist"))
            page = client.get(reverse(f"admin:plans_{model}_change", args=[obj.pk]))
            assert listing.status_code == page.status_code == 200, model
            assert 'name="_save"' not in page.content.decode()
            assert client.get(reverse(f"admin:plans_{model}_add")).status_code == 403
            response = client.post(reverse(f"admin:plans_{model}_delete", args=[obj.pk]), {"post": "yes"})
            assert response.status_code == 403
        content = client.get(reverse("admin:plans_planversion_change", args=[version.pk])).content.decode()
        assert item.public_id in content and "1277.50 GBP" in content
