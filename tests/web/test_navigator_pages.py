"""The navigator's pages: caseload, plan editor (with the item's live cost) and reviews, for who may and who
may not, the changes they make and every bad input leaving things as they were."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils.html import escape

from budgets.models import Per
from budgets.selectors.positions import budget_positions_for_holder
from budgets.services.cash_equivalents import CashEquivalentRequest, ItemRequest, cash_equivalent_calculate
from invoicing.models import InvoiceStatus
from plans.models import Outcome, PlanVersion, PlanVersionStatus, Review, SupportItem
from plans.selectors.caseload import caseload_surpluses
from tests.invoicing.world import submit
from tests.people.factories import BudgetHolderFactory
from web.templatetags.purse import money

pytestmark = pytest.mark.django_db

STRANGERS = ("other_holder", "other_navigator", "officer_asc", "officer_unrelated", "provider_engaged")
SEES_NOT_NAVIGATOR = ("holder", "rep_approve", "rep_view", "finance", "admin")


def per(world):
    return world.base.alex.public_id


def url(name, world, *args):
    return reverse(name, args=[per(world), *args])


def errors_shown(response, *texts):
    body = response.content.decode()
    assert response.status_code == 200
    assert "govuk-error-summary" in body
    assert "<title>Error: " in body
    for text in texts:
        assert text in body, text


# Caseload -------------------------------------------------------------------------------------------------


class TestCaseload:
    def test_lists_the_navigators_people_with_what_needs_attention(self, world, as_role):
        on_hold = submit(world.work, lines=[("2026-10-05", "313.00")])
        assert on_hold.status == InvoiceStatus.ON_HOLD
        response = as_role("navigator").get(reverse("web:caseload"))
        body = response.content.decode()
        assert response.status_code == 200
        assert escape(world.base.alex.full_name) in body
        assert escape(world.base.sam.full_name) not in body
        assert f"{url('web:invoices', world)}?status=on_hold" in body
        assert "1 on hold" in body
        # Alex has version 2 in draft: a plan waiting.
        assert "1 plan waiting" in body
        assert "A draft is being written" in body
        # Surplus figures are budgets' own.
        positions = budget_positions_for_holder(budget_holder=world.base.alex)
        for position in positions:
            if position.surplus_minor > 0:
                assert money(position.surplus_minor, position.currency) in body

    def test_surpluses_match_budget_positions(self, world):
        alex = world.base.alex
        found = {
            s.stream_code: s.surplus_minor
            for s in caseload_surpluses(budget_holder_ids=[alex.pk], on=date(2026, 11, 20)).get(alex.pk, [])
        }
        expected = {
            p.stream_code: p.surplus_minor
            for p in budget_positions_for_holder(budget_holder=alex)
            if p.surplus_minor > 0
        }
        assert found == expected

    def test_overdue_reviews_come_first_and_are_counted(self, world, as_role):
        navigator = world.users["navigator"]
        BudgetHolderFactory(navigator=navigator, full_name="Aaron Aardvark")
        PlanVersion.objects.filter(pk=world.base.v1.pk).update(review_due_on=date(2026, 11, 1))
        body = as_role("navigator").get(reverse("web:caseload")).content.decode()
        assert body.index(world.base.alex.full_name) < body.index("Aaron Aardvark")
        assert "1 review due" in body
        assert "1 overdue" in body
        assert "Overdue" in body

    def test_needs_attention_leaves_out_people_with_nothing_to_do(self, world, as_role):
        BudgetHolderFactory(navigator=world.users["navigator"], full_name="Quiet Quentin")
        client = as_role("navigator")
        assert "Quiet Quentin" in client.get(reverse("web:caseload")).content.decode()
        body = client.get(reverse("web:caseload") + "?show=attention").content.decode()
        assert "Quiet Quentin" not in body
        assert escape(world.base.alex.full_name) in body

    @pytest.mark.parametrize(
        "role", ["holder", "rep_approve", "officer_asc", "finance", "admin", "provider_engaged"]
    )
    def test_only_navigators_have_one(self, world, as_role, role):
        assert as_role(role).get(reverse("web:caseload")).status_code == 403

    def test_anonymous_is_sent_to_sign_in(self, world, client):
        response = client.get(reverse("web:caseload"))
        assert response.status_code == 302
        assert reverse("web:sign-in") in response["Location"]

    @pytest.mark.parametrize("query", ["", "?show=attention"])
    def test_query_count_does_not_grow_with_the_caseload(
        self, world, as_role, django_assert_max_num_queries, query
    ):
        client = as_role("navigator")
        navigator = world.users["navigator"]
        with django_assert_max_num_queries(25) as few:
            assert client.get(reverse("web:caseload") + query).status_code == 200
        baseline = len(few)
        for _ in range(8):
            BudgetHolderFactory(navigator=navigator)
        submit(world.work, lines=[("2026-10-05", "313.00")])
        with django_assert_max_num_queries(baseline):
            assert client.get(reverse("web:caseload") + query).status_code == 200


# Who may open the person pages ------------------------------------------------------------------------

PERSON_PAGES = [
    ("web:plan-edit", ()),
    ("web:plan-item-add", ()),
    ("web:plan-withdraw", ()),
    ("web:reviews", ()),
]


class TestAccess:
    @pytest.mark.parametrize("name,args", PERSON_PAGES)
    def test_the_navigator_opens_them(self, world, as_role, name, args):
        assert as_role("navigator").get(url(name, world, *args)).status_code == 200

    @pytest.mark.parametrize("role", STRANGERS)
    @pytest.mark.parametrize("name,args", PERSON_PAGES)
    def test_strangers_get_404(self, world, as_role, role, name, args):
        assert as_role(role).get(url(name, world, *args)).status_code == 404

    @pytest.mark.parametrize("role", SEES_NOT_NAVIGATOR)
    @pytest.mark.parametrize("name,args", PERSON_PAGES)
    def test_others_who_see_the_person_get_403(self, world, as_role, role, name, args):
        assert as_role(role).get(url(name, world, *args)).status_code == 403

    @pytest.mark.parametrize("role", ["rep_view", "holder", "rep_approve"])
    def test_posts_are_refused_too(self, world, as_role, role):
        client = as_role(role)
        before = Outcome.objects.filter(version=world.base.v2).count()
        response = client.post(url("web:plan-edit", world), {"action": "add_outcome", "in_own_words": "Swim"})
        assert response.status_code == 403
        response = client.post(url("web:plan-item-cost", world), {"quantity": "1", "per": "week"})
        assert response.status_code == 403
        assert Outcome.objects.filter(version=world.base.v2).count() == before

    def test_anonymous_is_sent_to_sign_in(self, world, client):
        response = client.get(url("web:plan-edit", world))
        assert response.status_code == 302
        assert reverse("web:sign-in") in response["Location"]

    def test_unknown_person_is_404(self, world, as_role):
        assert as_role("navigator").get(reverse("web:plan-edit", args=["per_nobody"])).status_code == 404


# The plan editor ----------------------------------------------------------------------------------------


def item_post(world, **fields):
    flat = world.outcomes if hasattr(world, "outcomes") else world.base.outcomes
    outcome = next(iter(flat.values())).public_id
    data = {"service": "ASC-PC", "quantity": "2", "per": "week", "outcomes": [outcome], "split_kind": ""}
    data.update(fields)
    return {key: value for key, value in data.items() if value is not None}


class TestPlanEditor:
    def test_shows_the_draft_and_its_cash_equivalent(self, world, as_role):
        from plans.selectors.plans import plan_version_costing

        costing = plan_version_costing(version=world.base.v2)
        body = as_role("navigator").get(url("web:plan-edit", world)).content.decode()
        assert "draft of version 2" in body
        assert money(costing.total_minor, costing.currency) in body
        assert 'aria-labelledby="cost-caption"' in body
        for outcome in world.base.v2.outcomes.all():
            assert outcome.in_own_words in body

    def test_add_an_outcome(self, world, as_role):
        client = as_role("navigator")
        response = client.post(
            url("web:plan-edit", world),
            {"action": "add_outcome", "in_own_words": "Learn to swim", "success_looks_like": "A length"},
        )
        assert response.status_code == 302
        assert Outcome.objects.filter(version=world.base.v2, in_own_words="Learn to swim").exists()
        assert "Outcome added." in client.get(response["Location"]).content.decode()

    def test_an_empty_outcome_is_refused(self, world, as_role):
        before = Outcome.objects.filter(version=world.base.v2).count()
        response = as_role("navigator").post(
            url("web:plan-edit", world), {"action": "add_outcome", "in_own_words": " "}
        )
        errors_shown(response, "Enter what the person wants to achieve", 'href="#id_in_own_words"')
        assert Outcome.objects.filter(version=world.base.v2).count() == before

    def test_change_an_outcome(self, world, as_role):
        outcome = world.base.outcome_in(world.base.v2, "flat")
        client = as_role("navigator")
        assert client.get(url("web:plan-outcome-edit", world, outcome.public_id)).status_code == 200
        response = client.post(
            url("web:plan-outcome-edit", world, outcome.public_id),
            {"in_own_words": "My own flat, by the sea"},
        )
        assert response.status_code == 302
        outcome.refresh_from_db()
        assert outcome.in_own_words == "My own flat, by the sea"
        bad = client.post(url("web:plan-outcome-edit", world, outcome.public_id), {"in_own_words": ""})
        errors_shown(bad, "Enter what the person wants to achieve")
        outcome.refresh_from_db()
        assert outcome.in_own_words == "My own flat, by the sea"

    def test_removing_an_outcome_still_in_use_is_refused(self, world, as_role):
        outcome = world.base.outcome_in(world.base.v2, "flat")
        response = as_role("navigator").post(
            url("web:plan-edit", world), {"action": "remove_outcome", "target": outcome.public_id}
        )
        errors_shown(response, "serving only it")
        assert Outcome.objects.filter(pk=outcome.pk).exists()

    def test_add_and_remove_informal_support(self, world, as_role):
        client = as_role("navigator")
        outcome = world.base.outcome_in(world.base.v2, "job")
        response = client.post(
            url("web:plan-edit", world),
            {
                "action": "add_informal",
                "outcome": outcome.public_id,
                "who": "Dad",
                "what": "Lifts",
                "how_often": "",
            },
        )
        assert response.status_code == 302
        informal = world.base.v2.informal_supports.get(who="Dad")
        bad = client.post(
            url("web:plan-edit", world),
            {"action": "add_informal", "outcome": "out_nope", "who": "", "what": ""},
        )
        errors_shown(bad, "Choose one of the person", "Enter who gives the support")
        assert world.base.v2.informal_supports.filter(who="").count() == 0
        response = client.post(
            url("web:plan-edit", world), {"action": "remove_informal", "target": informal.public_id}
        )
        assert response.status_code == 302
        assert not world.base.v2.informal_supports.filter(who="Dad").exists()

    def test_add_a_catalogue_item(self, world, as_role):
        client = as_role("navigator")
        before = SupportItem.objects.filter(version=world.base.v2).count()
        response = client.post(url("web:plan-item-add", world), item_post(world, description="Evening calls"))
        assert response.status_code == 302, response.content.decode()[:3000]
        item = SupportItem.objects.get(version=world.base.v2, description="Evening calls")
        assert item.quantity == Decimal("2") and item.per == "week" and item.service.service_code == "ASC-PC"
        assert SupportItem.objects.filter(version=world.base.v2).count() == before + 1

    def test_add_an_item_with_its_own_cost_split_by_percent_from_a_provider(self, world, as_role):
        provider = world.care.provider
        response = as_role("navigator").post(
            url("web:plan-item-add", world),
            item_post(
                world,
                service="",
                stream="ASC",
                unit="item",
                unit_cost="12.5",
                description="Gym pass",
                quantity="1",
                per="month",
                split_kind="percent",
                split_stream_1="ASC",
                split_percent_1="60",
                split_stream_2="ILF",
                split_percent_2="40",
                provider=provider.public_id,
                agreed_rate="12.50",
            ),
        )
        assert response.status_code == 302, response.content.decode()[:3000]
        item = SupportItem.objects.get(version=world.base.v2, description="Gym pass")
        assert item.unit_cost_minor == 1250
        assert item.agreed_rate_minor == 1250
        assert item.provider == provider
        assert item.split == {
            "percent": [{"stream": "ASC", "percent": "60"}, {"stream": "ILF", "percent": "40"}]
        }

    @pytest.mark.parametrize(
        "fields,message,field_id",
        [
            ({"quantity": "lots"}, "Enter how many units as a number", "id_quantity"),
            ({"outcomes": None}, "Choose at least one outcome", "id_outcomes"),
            ({"agreed_rate": "20.00"}, "A rate is agreed with a provider", "id_agreed_rate"),
            ({"service": "", "description": "Thing"}, "needs a stream, a unit", "id_stream"),
            (
                {"agreed_rate": "1.234", "provider": None},
                "Enter an amount in pounds and pence",
                "id_agreed_rate",
            ),
            (
                {"split_kind": "cap", "cap_stream": "ASC", "cap_amount": "", "rest_stream": ""},
                "Choose the stream that pays the rest",
                "id_rest_stream",
            ),
        ],
    )
    def test_bad_items_are_refused_and_nothing_changes(self, world, as_role, fields, message, field_id):
        before = list(SupportItem.objects.filter(version=world.base.v2).values_list("pk", "quantity"))
        response = as_role("navigator").post(url("web:plan-item-add", world), item_post(world, **fields))
        errors_shown(response, message, f'href="#{field_id}"')
        assert list(SupportItem.objects.filter(version=world.base.v2).values_list("pk", "quantity")) == before

    def test_change_an_item(self, world, as_role):
        item = world.base.item_in(world.base.v2, "work")
        client = as_role("navigator")
        page = client.get(url("web:plan-item-edit", world, item.public_id)).content.decode()
        assert 'value="6"' in page  # the item's own quantity, to change
        data = item_post(
            world, service="ATW-SW", quantity="8", provider=item.provider.public_id, agreed_rate="18.00"
        )
        data["outcomes"] = [o.public_id for o in item.outcomes.all()]
        response = client.post(url("web:plan-item-edit", world, item.public_id), data)
        assert response.status_code == 302, response.content.decode()[:3000]
        item.refresh_from_db()
        assert item.quantity == Decimal("8")

    def test_remove_an_item(self, world, as_role):
        item = world.base.item_in(world.base.v2, "taxi")
        response = as_role("navigator").post(
            url("web:plan-edit", world), {"action": "remove_item", "target": item.public_id}
        )
        assert response.status_code == 302
        assert not SupportItem.objects.filter(pk=item.pk).exists()

    def test_live_cost_is_the_calculators_and_saves_nothing(self, world, as_role):
        v2 = world.base.v2
        expected = cash_equivalent_calculate(
            request=CashEquivalentRequest(
                start=v2.effective_from,
                end=v2.ends_on,
                items=(ItemRequest(quantity=Decimal("3"), per=Per.WEEK, service_code="ASC-PC"),),
            )
        )
        before = SupportItem.objects.count()
        response = as_role("navigator").post(url("web:plan-item-cost", world), item_post(world, quantity="3"))
        assert response.status_code == 200
        body = response.content.decode()
        assert money(expected.total_minor, expected.currency) in body
        assert "<html" not in body
        assert SupportItem.objects.count() == before

    def test_live_cost_says_what_is_missing(self, world, as_role):
        response = as_role("navigator").post(url("web:plan-item-cost", world), item_post(world, quantity=""))
        assert "cannot be worked out yet" in response.content.decode()

    def test_work_out_the_cost_without_javascript(self, world, as_role):
        before = SupportItem.objects.count()
        response = as_role("navigator").post(
            url("web:plan-item-add", world),
            {**item_post(world, quantity="3", outcomes=None), "action": "cost"},
        )
        body = response.content.decode()
        assert response.status_code == 200
        assert "This item would add" in body
        assert 'id="item-cost" aria-live="polite"' in body
        assert 'value="3"' in body  # what was typed is kept
        assert "govuk-error-summary" not in body  # working out the cost is not sending it
        assert SupportItem.objects.count() == before

    def test_item_form_is_marked_for_the_live_cost(self, world, as_role):
        body = as_role("navigator").get(url("web:plan-item-add", world)).content.decode()
        assert f'data-purse-live-url="{url("web:plan-item-cost", world)}"' in body
        assert 'data-purse-live-target="item-cost"' in body
        assert "Work out the cost" in body


class TestWithdrawAndStart:
    def test_withdraw_asks_first_then_needs_a_reason(self, world, as_role):
        client = as_role("navigator")
        page = client.get(url("web:plan-withdraw", world)).content.decode()
        assert "Are you sure you want to withdraw version 2?" in page
        errors_shown(
            client.post(url("web:plan-withdraw", world), {"reason": " "}),
            "Enter why the draft is being withdrawn",
        )
        world.base.v2.refresh_from_db()
        assert world.base.v2.status == PlanVersionStatus.DRAFT
        response = client.post(url("web:plan-withdraw", world), {"reason": "Alex changed their mind."})
        assert response.status_code == 302
        world.base.v2.refresh_from_db()
        assert world.base.v2.status == PlanVersionStatus.WITHDRAWN

    def test_start_a_change_after_withdrawing(self, world, as_role):
        client = as_role("navigator")
        client.post(url("web:plan-withdraw", world), {"reason": "Start again."})
        page = client.get(url("web:plan-edit", world)).content.decode()
        assert "Start a change to the plan" in page
        bad = client.post(
            url("web:plan-edit", world),
            {"action": "start", "effective_from": "1 1 2030", "change_reason": "More care"},
        )
        errors_shown(bad, "inside the plan")
        bad = client.post(
            url("web:plan-edit", world),
            {"action": "start", "effective_from": "31 2 2027", "change_reason": ""},
        )
        errors_shown(bad, "must be a real date", "Enter why the plan is changing")
        assert not PlanVersion.objects.filter(
            plan=world.base.v1.plan, status=PlanVersionStatus.DRAFT
        ).exists()
        response = client.post(
            url("web:plan-edit", world),
            {"action": "start", "effective_from": "1 12 2026", "change_reason": "More care"},
        )
        assert response.status_code == 302
        draft = PlanVersion.objects.get(plan=world.base.v1.plan, status=PlanVersionStatus.DRAFT)
        assert draft.effective_from == date(2026, 12, 1) and draft.change_reason == "More care"

    def test_starting_while_a_draft_exists_is_refused(self, world, as_role):
        count = PlanVersion.objects.count()
        response = as_role("navigator").post(
            url("web:plan-edit", world),
            {"action": "start", "effective_from": "1 12 2026", "change_reason": "x"},
        )
        errors_shown(response, "already has a version being drafted")
        assert PlanVersion.objects.count() == count


# Reviews ------------------------------------------------------------------------------------------------


def review_post(world, **fields):
    outcomes = list(world.base.v1.outcomes.order_by("position"))
    data = {"action": "record", "held_on": "19 11 2026", "notes": "Going well", "next_review_on": ""}
    for outcome in outcomes:
        data[f"progress_{outcome.public_id}"] = "some_progress"
        data[f"note_{outcome.public_id}"] = "Note for " + outcome.public_id
    data.update(fields)
    return {key: value for key, value in data.items() if value is not None}


class TestReviews:
    def test_record_a_review_after_checking_it(self, world, as_role):
        client = as_role("navigator")
        check = client.post(url("web:reviews", world), review_post(world))
        body = check.content.decode()
        assert check.status_code == 200
        assert "Check the review before you record it" in body
        assert 'name="confirm" value="yes"' in body
        assert not Review.objects.exists()
        response = client.post(url("web:reviews", world), {**review_post(world), "confirm": "yes"})
        assert response.status_code == 302
        review = Review.objects.get()
        assert review.held_on == date(2026, 11, 19)
        assert review.progress.count() == world.base.v1.outcomes.count()
        world.base.v1.refresh_from_db()
        assert world.base.v1.review_due_on == date(2027, 11, 19)
        page = client.get(url("web:reviews", world)).content.decode()
        assert "The review was recorded." in page
        assert "Review on 19 November 2026" in page
        assert "Some progress" in page

    def test_a_missing_rating_is_refused(self, world, as_role):
        outcome = world.base.v1.outcomes.order_by("position").first()
        response = as_role("navigator").post(
            url("web:reviews", world), review_post(world, **{f"progress_{outcome.public_id}": None})
        )
        errors_shown(
            response, "Choose how the person is getting on", f'href="#id_progress_{outcome.public_id}"'
        )
        assert not Review.objects.exists()

    def test_a_review_in_the_future_is_refused_by_the_service(self, world, as_role):
        response = as_role("navigator").post(
            url("web:reviews", world), {**review_post(world, held_on="1 12 2026"), "confirm": "yes"}
        )
        errors_shown(response, "is after today", 'href="#id_held_on"')
        assert not Review.objects.exists()

    def test_bring_the_review_forward(self, world, as_role):
        client = as_role("navigator")
        PlanVersion.objects.filter(pk=world.base.v1.pk).update(review_due_on=date(2027, 1, 31))
        was = date(2027, 1, 31)
        bad = client.post(
            url("web:reviews", world), {"action": "bring_forward", "due_on": "1 1 2026", "reason": "Hospital"}
        )
        errors_shown(bad, "today or later")
        bad = client.post(url("web:reviews", world), {"action": "bring_forward", "due_on": "", "reason": ""})
        errors_shown(bad, "Enter new date for the review", "Enter why the review is needed sooner")
        world.base.v1.refresh_from_db()
        assert world.base.v1.review_due_on == was
        response = client.post(
            url("web:reviews", world),
            {"action": "bring_forward", "due_on": "25 11 2026", "reason": "Hospital stay"},
        )
        assert response.status_code == 302
        world.base.v1.refresh_from_db()
        assert world.base.v1.review_due_on == date(2026, 11, 25)

    def test_view_only_representative_cannot_record(self, world, as_role):
        response = as_role("rep_view").post(
            url("web:reviews", world), {**review_post(world), "confirm": "yes"}
        )
        assert response.status_code == 403
        assert not Review.objects.exists()

    def test_query_count_does_not_grow_with_reviews(self, world, as_role, django_assert_max_num_queries):
        from plans.services.reviews import review_record

        client = as_role("navigator")
        navigator = world.users["navigator"]
        outcomes = list(world.base.v1.outcomes.all())

        def record(day):
            review_record(
                version=world.base.v1,
                held_by=navigator,
                held_on=day,
                notes="",
                progress=[(o.public_id, "achieved", "") for o in outcomes],
            )

        record(date(2026, 6, 1))
        with django_assert_max_num_queries(40) as few:
            client.get(url("web:reviews", world))
        baseline = len(few)
        for month in range(7, 11):
            record(date(2026, month, 1))
        with django_assert_max_num_queries(baseline):
            assert client.get(url("web:reviews", world)).status_code == 200

    def test_editor_query_count_does_not_grow_with_items(self, world, as_role, django_assert_max_num_queries):
        client = as_role("navigator")
        with django_assert_max_num_queries(60) as few:
            client.get(url("web:plan-edit", world))
        baseline = len(few)
        for n in range(4):
            client.post(url("web:plan-item-add", world), item_post(world, description=f"Extra {n}"))
        assert SupportItem.objects.filter(version=world.base.v2, description__startswith="Extra").count() == 4
        with django_assert_max_num_queries(baseline):
            assert client.get(url("web:plan-edit", world)).status_code == 200
