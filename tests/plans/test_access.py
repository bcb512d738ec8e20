"""Who sees which plan versions, support items and budget holders through plans: every role, both sides (the
querysets and the object checks), and the parts of a version each one sees."""

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from budgets.models import FundingStream
from people.access import budget_holders_visible_to, may, visibility_rule_names
from people.models import BudgetHolder
from plans import access as plans_access
from plans.models import (
    Outcome,
    PlanVersion,
    PlanVersionStatus,
    StreamApproval,
    StreamApprovalStatus,
    SupportItem,
    SupportPlan,
)
from tests.budgets.factories import FundingStreamFactory, RateFactory, ServiceFactory
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
)

pytestmark = pytest.mark.django_db

START, END = date(2026, 4, 1), date(2027, 3, 31)


def _version(plan, number, status, **kwargs):
    return PlanVersion.objects.create(
        plan=plan, number=number, status=status, starts_on=START, ends_on=END, effective_from=START, **kwargs
    )


def _item(version, stream, *, provider=None, split=None, outcome=None, public_id=None):
    item = SupportItem.objects.create(
        version=version,
        stream=stream,
        description=f"Support from {stream.code}",
        unit="hour",
        unit_cost_minor=2000,
        quantity=Decimal("5"),
        per="week",
        provider=provider,
        split=split or {},
        **({"public_id": public_id} if public_id else {}),
    )
    if outcome is not None:
        item.outcomes.add(outcome)
    return item


@pytest.fixture
def world():
    """Alex's plan: v1 superseded, v2 active, v3 withdrawn, v4 a draft; Sam's plan funded by another agency.

    Council (ASC), national fund (ILF), Jobcentre (ATW), a district council (DFG) that funds nobody here.
    """
    council, fund, jobcentre, district = AgencyFactory(), AgencyFactory(), AgencyFactory(), AgencyFactory()
    asc = FundingStreamFactory(code="ASC", agency=council)
    ilf = FundingStreamFactory(code="ILF", agency=fund)
    atw = FundingStreamFactory(code="ATW", agency=jobcentre)
    FundingStreamFactory(code="DFG", agency=district)
    RateFactory(service=ServiceFactory(stream=asc, service_code="ASC-PC"))
    bright, able, dales = ProviderFactory(), ProviderFactory(), ProviderFactory()

    navigator, other_navigator = NavigatorFactory(), NavigatorFactory()
    alex = BudgetHolderFactory(navigator=navigator)
    sam = BudgetHolderFactory(navigator=other_navigator)
    revoked = RepresentativeFactory(budget_holder=alex, revoked_at=timezone.now())

    plan = SupportPlan.objects.create(budget_holder=alex)
    v1 = _version(plan, 1, PlanVersionStatus.SUPERSEDED)
    v2 = _version(plan, 2, PlanVersionStatus.ACTIVE, based_on=v1)
    v3 = _version(plan, 3, PlanVersionStatus.WITHDRAWN, based_on=v2)
    v4 = _version(plan, 4, PlanVersionStatus.DRAFT, based_on=v2)
    outcome = Outcome.objects.create(version=v2, in_own_words="Get a paid job")
    _item(v1, asc, provider=bright)
    care = _item(v2, asc, provider=bright, outcome=outcome)
    # Split: ASC pays up to a cap, ILF the rest; agreed, so ILF has an approval row.
    split = _item(
        v2,
        asc,
        provider=able,
        split={"cap": {"stream": "ASC", "amount": "400.00", "per": "week"}, "rest": "ILF"},
    )
    work = _item(v2, atw, outcome=outcome)
    for stream, amount in ((asc, 100), (ilf, 50), (atw, 25)):
        StreamApproval.objects.create(
            version=v2,
            stream=stream,
            amount_minor=amount,
            currency="GBP",
            status=StreamApprovalStatus.APPROVED,
        )
    _item(v3, asc, provider=bright)
    _item(v3, ilf)
    # A draft whose only ILF money is a percentage share of an ASC item: not agreed, so no ILF approval.
    draft_split = _item(
        v4, asc, split={"percent": [{"stream": "ASC", "percent": "60"}, {"stream": "ILF", "percent": "40"}]}
    )

    sams_plan = SupportPlan.objects.create(budget_holder=sam)
    s1 = _version(sams_plan, 1, PlanVersionStatus.ACTIVE)
    sams_item = _item(s1, atw, provider=dales)

    users = {
        "holder": alex.user,
        "other_holder": sam.user,
        "rep_approve": RepresentativeFactory(budget_holder=alex, power="approve").user,
        "rep_view": RepresentativeFactory(budget_holder=alex, power="view").user,
        "rep_revoked": revoked.user,
        "navigator": navigator,
        "other_navigator": other_navigator,
        "officer_asc": AgencyOfficerFactory(organisation=council),
        "officer_ilf": AgencyOfficerFactory(organisation=fund),
        "officer_atw": AgencyOfficerFactory(organisation=jobcentre),
        "officer_unrelated": AgencyOfficerFactory(organisation=district),
        "provider_engaged": ProviderUserFactory(organisation=bright),
        "provider_split": ProviderUserFactory(organisation=able),
        "provider_not_engaged": ProviderUserFactory(organisation=ProviderFactory()),
        "provider_other": ProviderUserFactory(organisation=dales),
        "finance": FinanceOfficerFactory(),
        "admin": AdministratorFactory(),
        "inactive_finance": FinanceOfficerFactory(is_active=False),
        "anonymous": AnonymousUser(),
    }
    return {
        "users": users,
        "alex": alex,
        "sam": sam,
        "versions": {"v1": v1, "v2": v2, "v3": v3, "v4": v4, "s1": s1},
        "items": {"care": care, "split": split, "work": work, "draft_split": draft_split, "sams": sams_item},
    }


ALL_ALEX = {"v1", "v2", "v3", "v4"}

# Which versions each role sees.
VERSIONS = {
    "holder": ALL_ALEX,
    "other_holder": {"s1"},
    "rep_approve": ALL_ALEX,
    "rep_view": ALL_ALEX,
    "rep_revoked": set(),
    "navigator": ALL_ALEX,
    "other_navigator": {"s1"},
    # Not the withdrawn v3, though it had ASC items.
    "officer_asc": {"v1", "v2", "v4"},
    # v2 through its approval row (a split's rest); not the draft v4, whose ILF share is not agreed yet.
    "officer_ilf": {"v2"},
    "officer_atw": {"v2", "s1"},
    "officer_unrelated": set(),
    # Only the active version, however many others name the provider.
    "provider_engaged": {"v2"},
    "provider_split": {"v2"},
    "provider_not_engaged": set(),
    "provider_other": {"s1"},
    "finance": ALL_ALEX | {"s1"},
    "admin": ALL_ALEX | {"s1"},
    "inactive_finance": set(),
    "anonymous": set(),
}


def _names(objects, world_part):
    by_pk = {obj.pk: name for name, obj in world_part.items()}
    return {by_pk[obj.pk] for obj in objects if obj.pk in by_pk}


class TestPlanVersionsVisibleTo:
    @pytest.mark.parametrize("role", sorted(VERSIONS))
    def test_each_role_sees_exactly_its_versions(self, world, role):
        user = world["users"][role]

        visible = plans_access.plan_versions_visible_to(user)

        assert _names(visible, world["versions"]) == VERSIONS[role]
        # No row twice, so callers may count and paginate.
        assert visible.count() == len(VERSIONS[role])

    @pytest.mark.parametrize("role", sorted(VERSIONS))
    def test_the_object_check_agrees_with_the_queryset(self, world, role):
        user = world["users"][role]

        for name, version in world["versions"].items():
            version = _fetched(version)
            assert may(user, "plans.view_planversion", version) is (name in VERSIONS[role]), name
            sight = plans_access.plan_version_sight(user=user, version=version)
            assert (sight is not None) is (name in VERSIONS[role]), name

    def test_an_agency_sees_a_draft_split_share_once_the_version_is_agreed(self, world):
        officer, v4 = world["users"]["officer_ilf"], world["versions"]["v4"]
        assert not plans_access.plan_versions_visible_to(officer).filter(pk=v4.pk).exists()

        StreamApproval.objects.create(
            version=v4, stream=FundingStream.objects.get(code="ILF"), amount_minor=10, currency="GBP"
        )

        assert plans_access.plan_versions_visible_to(officer).filter(pk=v4.pk).exists()
        assert may(officer, "plans.view_planversion", _fetched(v4))

    def test_a_revoked_grant_sees_nothing_a_new_grant_sees_again(self, world):
        revoked = world["users"]["rep_revoked"]
        RepresentativeFactory(user=revoked, budget_holder=world["alex"], power="view")

        assert _names(plans_access.plan_versions_visible_to(revoked), world["versions"]) == ALL_ALEX


ITEMS = {
    "holder": {"care", "split", "work", "draft_split"},
    "navigator": {"care", "split", "work", "draft_split"},
    "rep_view": {"care", "split", "work", "draft_split"},
    "rep_revoked": set(),
    "other_navigator": {"sams"},
    "finance": {"care", "split", "work", "draft_split", "sams"},
    # Its own stream's items, and the split that ASC caps.
    "officer_asc": {"care", "split", "draft_split"},
    # Only the split whose rest it pays: not ASC's or ATW's items of the same version.
    "officer_ilf": {"split"},
    "officer_atw": {"work", "sams"},
    "officer_unrelated": set(),
    "provider_engaged": {"care"},
    "provider_split": {"split"},
    "provider_not_engaged": set(),
    "provider_other": {"sams"},
    "anonymous": set(),
}


class TestSupportItemsVisibleTo:
    @pytest.mark.parametrize("role", sorted(ITEMS))
    def test_each_role_sees_exactly_its_items(self, world, role):
        visible = plans_access.support_items_visible_to(world["users"][role])

        assert _names(visible, world["items"]) == ITEMS[role]

    @pytest.mark.parametrize("role", sorted(ITEMS))
    def test_the_sight_of_a_version_shows_the_same_items(self, world, role):
        user = world["users"][role]
        queryset = set(plans_access.support_items_visible_to(user).values_list("pk", flat=True))

        for version in world["versions"].values():
            version = _fetched(version)
            sight = plans_access.plan_version_sight(user=user, version=version)
            if sight is None:
                continue
            for item in version.support_items.all():
                assert sight.shows_item(item) is (item.pk in queryset), (version, item)

    def test_a_percentage_split_in_any_part_is_found(self, world):
        officer = world["users"]["officer_ilf"]
        v2 = world["versions"]["v2"]
        parts = [{"stream": "ATW", "percent": "10"}] * 9 + [{"stream": "ILF", "percent": "10"}]
        tenth = _item(v2, world["items"]["work"].stream, split={"percent": parts})

        assert plans_access.support_items_visible_to(officer).filter(pk=tenth.pk).exists()


BUDGET_HOLDERS = {
    "holder": {"alex"},
    "other_holder": {"sam"},
    "rep_approve": {"alex"},
    "rep_revoked": set(),
    "navigator": {"alex"},
    "other_navigator": {"sam"},
    "officer_asc": {"alex"},
    "officer_ilf": {"alex"},
    "officer_atw": {"alex", "sam"},
    "officer_unrelated": set(),
    "provider_engaged": {"alex"},
    "provider_not_engaged": set(),
    "provider_other": {"sam"},
    "finance": {"alex", "sam"},
    "admin": {"alex", "sam"},
    "anonymous": set(),
}


class TestBudgetHoldersVisibleThroughPlans:
    def test_plans_registers_its_rules_for_budget_holders(self):
        names = visibility_rule_names(BudgetHolder)

        assert "plans.agency_funds_plan" in names
        assert "plans.provider_engaged" in names

    @pytest.mark.parametrize("role", sorted(BUDGET_HOLDERS))
    def test_each_role_sees_exactly_its_people(self, world, role):
        user = world["users"][role]
        people = {"alex": world["alex"], "sam": world["sam"]}

        visible = budget_holders_visible_to(user)

        assert _names(visible, people) == BUDGET_HOLDERS[role]
        assert visible.count() == len(BUDGET_HOLDERS[role])
        for name, person in people.items():
            assert may(user, "people.view_budgetholder", person) is (name in BUDGET_HOLDERS[role])

    def test_an_agency_funding_only_a_withdrawn_version_sees_nobody(self, world):
        # v3 (withdrawn) is the only version with an ILF item; ILF's approval on v2 is what shows Alex.
        StreamApproval.objects.filter(stream__code="ILF").delete()

        assert not budget_holders_visible_to(world["users"]["officer_ilf"]).exists()

    def test_a_provider_of_a_superseded_version_only_sees_nobody(self, world):
        v2 = world["versions"]["v2"]
        SupportItem.objects.filter(version=v2, provider__isnull=False).update(provider=None)

        assert not budget_holders_visible_to(world["users"]["provider_engaged"]).exists()

    def test_none_of_them_may_act_for_the_person(self, world):
        for role in ("officer_asc", "provider_engaged"):
            assert not may(world["users"][role], "people.act_for_budgetholder", world["alex"])


class TestWhatEachSightShows:
    def test_in_full(self, world):
        sight = plans_access.plan_version_sight(
            user=world["users"]["rep_view"], version=_fetched(world["versions"]["v2"])
        )

        assert sight.in_full
        assert sight.shows_money and sight.shows_story
        assert sight.shows_stream("ILF") and sight.shows_stream("ATW")

    def test_an_agency_sees_its_own_streams_money_and_the_story(self, world):
        sight = plans_access.plan_version_sight(
            user=world["users"]["officer_asc"], version=_fetched(world["versions"]["v2"])
        )

        assert sight.is_agency and not sight.in_full
        assert sight.shows_money and sight.shows_story
        assert sight.shows_stream("ASC")
        assert not sight.shows_stream("ILF")
        assert not sight.shows_stream("ATW")

    def test_a_provider_sees_its_items_and_no_money(self, world):
        sight = plans_access.plan_version_sight(
            user=world["users"]["provider_engaged"], version=_fetched(world["versions"]["v2"])
        )

        assert sight.is_provider
        assert not sight.shows_money
        assert not sight.shows_story
        assert not sight.shows_stream("ASC")


class TestSplitStreamCodes:
    @pytest.mark.parametrize(
        ("split", "codes"),
        [
            ({}, set()),
            (None, set()),
            (
                {"percent": [{"stream": "ASC", "percent": "60"}, {"stream": "ILF", "percent": "40"}]},
                {"ASC", "ILF"},
            ),
            ({"cap": {"stream": "ASC", "amount": "400.00", "per": "week"}, "rest": "ILF"}, {"ASC", "ILF"}),
            ({"percent": "nonsense", "cap": ["x"], "rest": 3}, set()),
        ],
    )
    def test_reads_both_kinds_of_split(self, split, codes):
        assert plans_access.split_stream_codes(split) == codes


def _fetched(version: PlanVersion) -> PlanVersion:
    """The version as the API reads it: its person, items and approvals prefetched."""
    return (
        PlanVersion.objects.select_related("plan__budget_holder")
        .prefetch_related("support_items__stream", "stream_approvals__stream")
        .get(pk=version.pk)
    )
