"""The person's plan page (outcomes, informal and paid support, spending per outcome as a chart and a table)
and agreeing a version that waits for the person's agreement."""

import re

import pytest
from django.urls import reverse

from invoicing import services as invoicing_services
from invoicing.selectors import outcome_spending
from plans.models import PlanVersionStatus, StreamApproval
from plans.selectors.plans import plan_version_get
from plans.wording import money_display
from tests.invoicing.world import submit
from tests.web.roles import NOT_SEE, SEE, sign_in_role

pytestmark = pytest.mark.django_db


def _sign_in(client, sign_in_verified, world, role):
    return sign_in_role(client, sign_in_verified, world.users[role], role)


def _plan(world) -> str:
    return reverse("web:plan", args=[world.base.alex.public_id])


def _agree(world, version=None) -> str:
    return reverse("web:plan-agree", args=[world.base.alex.public_id, (version or world.base.v2).public_id])


def _approved(world, engagement, number="C-1", **body):
    invoice = submit(engagement, number=number, **body)
    return invoicing_services.invoice_approve(invoice=invoice, by=world.users["holder"])


class TestWhoSeesThePlan:
    @pytest.mark.parametrize("role", SEE)
    def test_the_person_their_side_and_staff_see_it(self, client, sign_in_verified, world, role):
        _sign_in(client, sign_in_verified, world, role)
        response = client.get(_plan(world))
        assert response.status_code == 200
        assert response.content.count(b"<h1") == 1

    @pytest.mark.parametrize("role", NOT_SEE)
    def test_anyone_else_gets_not_found(self, client, sign_in_verified, world, role):
        _sign_in(client, sign_in_verified, world, role)
        assert client.get(_plan(world)).status_code == 404

    def test_anonymous_is_sent_to_sign_in(self, client, world):
        response = client.get(_plan(world))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("web:sign-in"))


class TestWhatThePlanSays:
    def test_outcomes_informal_and_paid_support(self, client, world):
        client.force_login(world.users["holder"])
        html = client.get(_plan(world)).content.decode()
        assert "<title>Your plan - Purse</title>" in html
        assert world.base.outcomes["flat"].in_own_words in html
        assert world.base.outcomes["job"].in_own_words in html
        assert "My sister Jo" in html and "Shopping" in html
        assert world.base.items["care"].description in html
        assert "Bright Care" in html or world.care.provider.name in html
        assert "1 April 2026 to 31 March 2027" in html

    def test_spending_per_outcome_in_an_accessible_chart_and_a_table(self, client, world):
        invoice = _approved(world, world.care)
        client.force_login(world.users["holder"])
        html = client.get(_plan(world)).content.decode()
        spending = outcome_spending(version=plan_version_get(public_id=world.base.v1.public_id))
        svg = re.search(r"<svg class=\"purse-chart\".*?</svg>", html, re.S).group(0)
        assert 'role="img"' in svg and "<title" in svg and "<desc" in svg and "viewBox" in svg
        spent = money_display(invoice.total_minor, currency="GBP")
        assert f"Spent {spent}" in svg  # words on the bar, not colour alone
        table = re.search(
            r'<table class="govuk-table">.*?Planned and spent, by outcome.*?</table>', html, re.S
        )
        assert table is not None
        for row in spending.outcomes:
            assert money_display(row.planned_minor, currency="GBP") in table.group(0)
        assert money_display(spending.planned_total_minor, currency="GBP") in table.group(0)
        assert spent in table.group(0)

    def test_a_person_without_a_plan_is_told_so(self, client, sign_in_verified, world):
        from tests.people.factories import BudgetHolderFactory

        holder = BudgetHolderFactory(navigator=world.users["navigator"])
        client.force_login(holder.user)
        response = client.get(reverse("web:plan", args=[holder.public_id]))
        assert response.status_code == 200
        assert "not have an agreed plan yet" in response.content.decode()


class TestTheVersionWaitingForAgreement:
    @pytest.mark.parametrize("role", ("holder", "rep_approve"))
    def test_those_who_may_act_are_offered_to_agree(self, client, world, role):
        client.force_login(world.users[role])
        html = client.get(_plan(world)).content.decode()
        assert "Waiting for agreement" in html
        assert _agree(world) in html

    @pytest.mark.parametrize("role", ("rep_view", "navigator"))
    def test_others_see_it_without_the_button(self, client, sign_in_verified, world, role):
        _sign_in(client, sign_in_verified, world, role)
        html = client.get(_plan(world)).content.decode()
        assert "Waiting for agreement" in html
        assert _agree(world) not in html


class TestAgreeing:
    def test_the_confirmation_page_summarises_the_version(self, client, world):
        client.force_login(world.users["holder"])
        response = client.get(_agree(world))
        html = response.content.decode()
        assert response.status_code == 200
        assert "Are you sure you want to agree to this plan?" in html
        assert "1 October 2026" in html
        assert "A new job from October." in html
        world.base.v2.refresh_from_db()
        assert world.base.v2.status == PlanVersionStatus.DRAFT  # a GET changes nothing

    @pytest.mark.parametrize("role", ("holder", "rep_approve"))
    def test_agreeing_sends_it_to_the_agencies(self, client, world, role):
        client.force_login(world.users[role])
        response = client.post(_agree(world), follow=True)
        assert response.redirect_chain[-1][0] == _plan(world)
        world.base.v2.refresh_from_db()
        assert world.base.v2.status == PlanVersionStatus.AGREED
        assert world.base.v2.agreed_by == world.users[role]
        assert StreamApproval.objects.filter(version=world.base.v2, status="pending").exists()
        assert "Plan version 2 agreed" in response.content.decode()

    def test_a_second_agreement_shows_the_error_and_changes_nothing(self, client, world):
        client.force_login(world.users["holder"])
        client.post(_agree(world))
        world.base.v2.refresh_from_db()
        agreed_at = world.base.v2.agreed_at
        approvals = StreamApproval.objects.filter(version=world.base.v2).count()
        response = client.post(_agree(world))
        html = response.content.decode()
        assert response.status_code == 200
        assert "govuk-error-summary" in html and "<title>Error: " in html
        world.base.v2.refresh_from_db()
        assert world.base.v2.agreed_at == agreed_at
        assert StreamApproval.objects.filter(version=world.base.v2).count() == approvals

    @pytest.mark.parametrize("role", ("rep_view", "navigator", "finance"))
    def test_those_who_may_not_act_are_refused(self, client, sign_in_verified, world, role):
        _sign_in(client, sign_in_verified, world, role)
        assert client.get(_agree(world)).status_code == 403
        assert client.post(_agree(world)).status_code == 403
        world.base.v2.refresh_from_db()
        assert world.base.v2.status == PlanVersionStatus.DRAFT

    @pytest.mark.parametrize("role", ("other_holder", "other_navigator", "provider_engaged"))
    def test_anyone_else_gets_not_found(self, client, sign_in_verified, world, role):
        _sign_in(client, sign_in_verified, world, role)
        assert client.post(_agree(world)).status_code == 404
        world.base.v2.refresh_from_db()
        assert world.base.v2.status == PlanVersionStatus.DRAFT

    def test_another_persons_version_is_not_found(self, client, world):
        client.force_login(world.users["holder"])
        assert client.get(_agree(world, world.base.sams)).status_code == 404
        assert (
            client.get(reverse("web:plan-agree", args=[world.base.alex.public_id, "plv_nope"])).status_code
            == 404
        )

    def test_anonymous_is_sent_to_sign_in(self, client, world):
        response = client.post(_agree(world))
        assert response.status_code == 302
        world.base.v2.refresh_from_db()
        assert world.base.v2.status == PlanVersionStatus.DRAFT


class TestQueries:
    def test_the_plan_page_does_not_grow_with_invoices(self, client, world, django_assert_max_num_queries):
        _approved(world, world.care)
        client.force_login(world.users["holder"])
        with django_assert_max_num_queries(60) as few:
            client.get(_plan(world))
        for number in range(2, 10):
            _approved(world, world.care, number=f"C-{number}", lines=[(f"2026-10-{number + 10}", "1.00")])
        with django_assert_max_num_queries(len(few.captured_queries)):
            assert client.get(_plan(world)).status_code == 200
