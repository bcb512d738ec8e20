"""The person's statement page: the current budget period per stream, agreeing with the budget positions
to the penny, and every movement, paginated."""

import pytest
from django.urls import reverse

from budgets.selectors.positions import budget_positions_for_holder
from invoicing import services as invoicing_services
from plans.wording import money_display
from tests.invoicing.world import TODAY, submit
from tests.web.roles import NOT_SEE, SEE, sign_in_role

pytestmark = pytest.mark.django_db


def _sign_in(client, sign_in_verified, world, role):
    sign_in_role(client, sign_in_verified, world.users[role], role)


def _statements(world) -> str:
    return reverse("web:statements", args=[world.base.alex.public_id])


def _approve(world, engagement, number, **body):
    return invoicing_services.invoice_approve(
        invoice=submit(engagement, number=number, **body), by=world.users["holder"]
    )


class TestWhoSeesTheStatement:
    @pytest.mark.parametrize("role", SEE)
    def test_the_person_their_side_and_staff_see_it(self, client, sign_in_verified, world, role):
        _sign_in(client, sign_in_verified, world, role)
        response = client.get(_statements(world))
        assert response.status_code == 200
        assert response.content.count(b"<h1") == 1

    @pytest.mark.parametrize("role", NOT_SEE)
    def test_anyone_else_gets_not_found(self, client, sign_in_verified, world, role):
        _sign_in(client, sign_in_verified, world, role)
        assert client.get(_statements(world)).status_code == 404

    def test_anonymous_is_sent_to_sign_in(self, client, world):
        response = client.get(_statements(world))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("web:sign-in"))


class TestWhatTheStatementSays:
    def test_the_figures_agree_with_the_positions_to_the_penny(self, client, world):
        paid = _approve(world, world.care, "C-1")
        _approve(world, world.work, "W-1")
        invoicing_services.remittance_record(
            provider=world.care.provider, invoices=[paid], reference="PAY-1", paid_on=TODAY, by=None
        )
        client.force_login(world.users["holder"])
        response = client.get(_statements(world))
        html = response.content.decode()
        positions = budget_positions_for_holder(budget_holder=world.base.alex, on=TODAY)
        assert [s.position for s in response.context["statements"]] == positions
        for position in positions:
            assert position.stream_name in html
            for amount in (
                position.due_so_far_minor,
                position.spent_minor,
                position.committed_minor,
                position.available_minor,
            ):
                assert money_display(amount, currency=position.currency) in html
        assert "Other changes" not in html
        assert "coming soon" in html

    def test_every_movement_with_date_description_and_amount(self, client, world):
        invoice = _approve(world, world.care, "C-77")
        client.force_login(world.users["holder"])
        html = client.get(_statements(world)).content.decode()
        assert "Set aside for invoice C-77" in html
        assert "Not paid yet" in html
        assert "Payment in from Adult Social Care" in html
        assert "20 November 2026" in html  # the approval's date
        assert invoice.total_minor > 0

    def test_movements_are_paginated(self, client, world):
        for day in range(1, 25):
            _approve(world, world.work, f"W-{day}", lines=[(f"2026-10-{day:02d}", "0.50")])
        client.force_login(world.users["holder"])
        first = client.get(_statements(world))
        assert len(first.context["movements"]) == 20
        assert 'class="govuk-pagination' in first.content.decode()
        second = client.get(_statements(world) + "?page=2")
        assert second.status_code == 200
        assert 0 < len(second.context["movements"]) <= 20
        assert "(page 2)" in second.content.decode()

    def test_a_person_without_a_budget_is_told_so(self, client, world):
        from tests.people.factories import BudgetHolderFactory

        holder = BudgetHolderFactory(navigator=world.users["navigator"])
        client.force_login(holder.user)
        html = client.get(reverse("web:statements", args=[holder.public_id])).content.decode()
        assert "There is no budget for" in html


class TestQueries:
    def test_the_page_does_not_grow_with_movements(self, client, world, django_assert_max_num_queries):
        _approve(world, world.work, "W-1")
        client.force_login(world.users["holder"])
        with django_assert_max_num_queries(40) as few:
            client.get(_statements(world))
        for day in range(2, 30):
            _approve(world, world.work, f"W-{day}", lines=[(f"2026-10-{day:02d}", "0.50")])
        with django_assert_max_num_queries(len(few.captured_queries)):
            assert client.get(_statements(world)).status_code == 200
