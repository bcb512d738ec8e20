"""The access matrix: every role, for every people permission, including the negative cases."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Q
from django.utils import timezone

from people import access
from people.models import BudgetHolder, Role
from tests.people.factories import (
    AdministratorFactory,
    AgencyOfficerFactory,
    BudgetHolderFactory,
    FinanceOfficerFactory,
    NavigatorFactory,
    PersonalTokenFactory,
    ProviderUserFactory,
    RepresentativeFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

ROLES = [
    "holder",
    "other_holder",
    "navigator",
    "other_navigator",
    "rep_approve",
    "rep_view",
    "rep_revoked",
    "rep_of_other",
    "agency_officer",
    "provider_user",
    "finance",
    "admin",
    "inactive_finance",
    "anonymous",
]


@pytest.fixture
def world():
    navigator = NavigatorFactory()
    other_navigator = NavigatorFactory()
    holder = BudgetHolderFactory(navigator=navigator)
    other_holder = BudgetHolderFactory(navigator=other_navigator)
    rep_revoked = RepresentativeFactory(budget_holder=holder, power="approve", revoked_at=timezone.now())
    users = {
        "holder": holder.user,
        "other_holder": other_holder.user,
        "navigator": navigator,
        "other_navigator": other_navigator,
        "rep_approve": RepresentativeFactory(budget_holder=holder, power="approve").user,
        "rep_view": RepresentativeFactory(budget_holder=holder, power="view").user,
        "rep_revoked": rep_revoked.user,
        "rep_of_other": RepresentativeFactory(budget_holder=other_holder, power="approve").user,
        "agency_officer": AgencyOfficerFactory(),
        "provider_user": ProviderUserFactory(),
        "finance": FinanceOfficerFactory(),
        # The Django superuser flag must not widen what the administrator role may do.
        "admin": AdministratorFactory(is_staff=True, is_superuser=True),
        "inactive_finance": FinanceOfficerFactory(is_active=False),
        "anonymous": AnonymousUser(),
    }
    return {"holder": holder, "other_holder": other_holder, "users": users}


def expect(allowed: set[str]) -> list[tuple[str, bool]]:
    assert allowed <= set(ROLES)
    return [(role, role in allowed) for role in ROLES]


class TestViewBudgetHolder:
    @pytest.mark.parametrize(
        ("who", "allowed"),
        expect({"holder", "navigator", "rep_approve", "rep_view", "finance", "admin"}),
    )
    def test_matrix(self, world, who, allowed):
        assert access.may(world["users"][who], "people.view_budgetholder", world["holder"]) is allowed

    @pytest.mark.parametrize("who", ROLES)
    def test_queryset_agrees_with_the_object_permission(self, world, who):
        user = world["users"][who]
        everyone = BudgetHolder.objects.all()

        visible = set(access.budget_holders_visible_to(user))

        assert visible == {h for h in everyone if access.may(user, "people.view_budgetholder", h)}

    def test_holder_sees_only_themselves(self, world):
        assert list(access.budget_holders_visible_to(world["users"]["holder"])) == [world["holder"]]

    def test_navigator_sees_their_caseload_only(self, world):
        extra = BudgetHolderFactory(navigator=world["users"]["navigator"])

        visible = set(access.budget_holders_visible_to(world["users"]["navigator"]))

        assert visible == {world["holder"], extra}

    def test_finance_and_admin_see_everyone(self, world):
        for who in ("finance", "admin"):
            assert (
                access.budget_holders_visible_to(world["users"][who]).count() == BudgetHolder.objects.count()
            )

    def test_a_holder_with_several_grants_is_listed_once(self, world):
        rep = world["users"]["rep_approve"]
        RepresentativeFactory(user=rep, budget_holder=world["holder"], revoked_at=timezone.now())

        assert list(access.budget_holders_visible_to(rep)) == [world["holder"]]

    def test_cheap_roles_need_no_query(self, world, django_assert_num_queries):
        with django_assert_num_queries(0):
            assert access.may(world["users"]["finance"], "people.view_budgetholder", world["holder"])
            assert access.may(world["users"]["navigator"], "people.view_budgetholder", world["holder"])
            assert access.may(world["users"]["holder"], "people.view_budgetholder", world["holder"])


class TestActForBudgetHolder:
    @pytest.mark.parametrize(("who", "allowed"), expect({"holder", "rep_approve"}))
    def test_matrix(self, world, who, allowed):
        assert access.may(world["users"][who], "people.act_for_budgetholder", world["holder"]) is allowed

    def test_a_view_only_representative_cannot_approve_but_can_see(self, world):
        rep = world["users"]["rep_view"]

        assert access.may(rep, "people.view_budgetholder", world["holder"])
        assert not access.may(rep, "people.act_for_budgetholder", world["holder"])

    def test_an_approving_representative_cannot_act_for_someone_else(self, world):
        assert not access.may(
            world["users"]["rep_approve"], "people.act_for_budgetholder", world["other_holder"]
        )

    def test_grant_stops_working_the_moment_it_is_revoked(self, world):
        rep = world["users"]["rep_approve"]
        grant = rep.representations.get()
        grant.revoked_at = timezone.now()
        grant.save()

        assert not access.may(rep, "people.act_for_budgetholder", world["holder"])
        assert not access.may(rep, "people.view_budgetholder", world["holder"])


class TestChangeAndManageBudgetHolder:
    @pytest.mark.parametrize(("who", "allowed"), expect({"holder", "navigator", "admin"}))
    def test_change_matrix(self, world, who, allowed):
        assert access.may(world["users"][who], "people.change_budgetholder", world["holder"]) is allowed

    @pytest.mark.parametrize(("who", "allowed"), expect({"holder", "navigator", "admin"}))
    def test_manage_representatives_matrix(self, world, who, allowed):
        assert access.may(world["users"][who], "people.manage_representatives", world["holder"]) is allowed


class TestOrganisationPermissions:
    def test_anyone_signed_in_may_see_an_organisation(self, world):
        organisation = world["users"]["provider_user"].organisation

        for who in ROLES:
            expected = who not in ("anonymous", "inactive_finance")
            assert access.may(world["users"][who], "people.view_organisation", organisation) is expected

    def test_only_members_and_admins_may_change_one(self, world):
        organisation = world["users"]["provider_user"].organisation

        allowed = {
            who
            for who in ROLES
            if access.may(world["users"][who], "people.change_organisation", organisation)
        }

        assert allowed == {"provider_user", "admin"}

    def test_an_officer_may_not_change_another_agency(self, world):
        other = AgencyOfficerFactory()

        assert not access.may(
            world["users"]["agency_officer"], "people.change_organisation", other.organisation
        )


class TestPersonalTokenPermission:
    def test_owner_and_admin_only(self, world):
        token = PersonalTokenFactory(user=world["users"]["holder"])

        allowed = {
            who for who in ROLES if access.may(world["users"][who], "people.manage_personaltoken", token)
        }

        assert allowed == {"holder", "admin"}


class TestVisibilityRegistry:
    def test_a_higher_app_can_extend_visibility_for_both_sides(self, world):
        officer = world["users"]["agency_officer"]
        holder = world["holder"]

        def funded_by_my_agency(user):
            return Q(pk=holder.pk) if user.role == Role.AGENCY_OFFICER else None

        access.register_visibility(BudgetHolder, "tests.funded_by_agency", funded_by_my_agency)
        try:
            assert list(access.budget_holders_visible_to(officer)) == [holder]
            assert access.may(officer, "people.view_budgetholder", holder)
            assert not access.may(officer, "people.view_budgetholder", world["other_holder"])
            assert not access.may(officer, "people.act_for_budgetholder", holder)
        finally:
            access.unregister_visibility(BudgetHolder, "tests.funded_by_agency")

        assert not access.may(officer, "people.view_budgetholder", holder)

    def test_people_registers_its_own_rules(self):
        # Higher apps (plans) register theirs too; people's own are exactly these.
        names = access.visibility_rule_names(BudgetHolder)
        assert [name for name in names if name.startswith("people.")] == [
            "people.caseload",
            "people.finance_and_admin",
            "people.representative",
            "people.self",
        ]

    def test_a_model_without_rules_shows_nothing(self, world):
        from people.models import Organisation

        assert not access.visible_to(world["users"]["admin"], Organisation).exists()


class TestMay:
    def test_an_unknown_permission_is_a_programming_error(self, world):
        with pytest.raises(ImproperlyConfigured):
            access.may(world["users"]["admin"], "people.view_budgethodler", world["holder"])

    def test_none_is_nobody(self, world):
        assert not access.may(None, "people.view_budgetholder", world["holder"])

    def test_without_an_object_the_answer_is_no(self, world):
        assert not access.may(world["users"]["holder"], "people.act_for_budgetholder", None)

    def test_a_budget_holder_record_without_a_sign_in_is_nobodys_self(self):
        holder = BudgetHolderFactory(user=None)
        someone = UserFactory()

        assert not access.may(someone, "people.view_budgetholder", holder)
