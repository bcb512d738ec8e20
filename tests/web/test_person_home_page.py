"""A person's home page: who may see it, the money available (in words and figures, in total and per
stream), the next instalments, the invoices waiting, and the navigator's contact details."""

import re

import pytest
from django.urls import reverse

from budgets.selectors.positions import budget_positions_for_holder
from invoicing import services as invoicing_services
from plans.wording import money_display
from tests.invoicing.world import TODAY, submit
from tests.web.roles import NOT_SEE, SEE, sign_in_role

pytestmark = pytest.mark.django_db


def _sign_in(client, sign_in_verified, user, role):
    sign_in_role(client, sign_in_verified, user, role)


def _home(world) -> str:
    return reverse("web:person-home", args=[world.base.alex.public_id])


class TestWhoSeesAPersonsHomePage:
    @pytest.mark.parametrize("role", SEE)
    def test_the_person_their_representatives_navigator_finance_and_admin_see_it(
        self, client, sign_in_verified, world, role
    ):
        _sign_in(client, sign_in_verified, world.users[role], role)
        response = client.get(_home(world))
        assert response.status_code == 200

    @pytest.mark.parametrize("role", NOT_SEE)
    def test_anyone_else_gets_not_found(self, client, sign_in_verified, world, role):
        _sign_in(client, sign_in_verified, world.users[role], role)
        assert client.get(_home(world)).status_code == 404

    def test_an_unknown_person_is_not_found(self, client, world):
        client.force_login(world.users["holder"])
        assert client.get(reverse("web:person-home", args=["per_nobody"])).status_code == 404

    def test_anonymous_is_sent_to_sign_in(self, client, world):
        response = client.get(_home(world))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("web:sign-in"))


class TestWhatTheHomePageSays:
    def test_money_available_in_total_and_per_stream_in_words_and_figures(self, client, world):
        client.force_login(world.users["holder"])
        positions = budget_positions_for_holder(budget_holder=world.base.alex, on=TODAY)
        total = sum(p.available_minor for p in positions)

        html = client.get(_home(world)).content.decode()

        assert money_display(total, currency="GBP") in html
        assert "pounds" in html
        for position in positions:
            assert position.stream_name in html
            assert money_display(position.available_minor, currency="GBP") in html

    def test_approved_invoices_lower_what_is_available(self, client, world):
        client.force_login(world.users["holder"])
        invoice = submit(world.care)
        before = client.get(_home(world)).content.decode()
        invoicing_services.invoice_approve(invoice=invoice, by=world.users["holder"])
        positions = budget_positions_for_holder(budget_holder=world.base.alex, on=TODAY)

        after = client.get(_home(world)).content.decode()

        assert before != after
        assert money_display(sum(p.available_minor for p in positions), currency="GBP") in after
        assert "set aside for approved invoices" in after

    def test_invoices_waiting_are_counted_with_a_link(self, client, world):
        submit(world.care, number="INV-1")
        submit(world.work, number="INV-2")
        client.force_login(world.users["holder"])

        html = client.get(_home(world)).content.decode()

        assert "2 invoices are waiting for your decision" in html
        assert reverse("web:invoices", args=[world.base.alex.public_id]) + "?status=awaiting_approval" in html

    def test_no_invoice_banner_when_nothing_waits(self, client, world):
        client.force_login(world.users["holder"])
        assert "waiting for your decision" not in client.get(_home(world)).content.decode()

    def test_the_next_instalments_are_listed(self, client, world):
        client.force_login(world.users["holder"])
        html = client.get(_home(world)).content.decode()
        section = html.split("Next payments in", 1)[1].split("</ul>", 1)[0]
        assert len(re.findall(r"<li>", section)) >= 1
        assert "from Adult Social Care" in section or "from " in section

    def test_the_navigators_name_and_contact_are_on_the_page(self, client, world):
        navigator = world.users["navigator"]
        navigator.phone = "01632 960 123"
        navigator.save()
        client.force_login(world.users["holder"])

        html = client.get(_home(world)).content.decode()

        assert "Your navigator" in html
        assert navigator.get_full_name() in html
        assert 'href="tel:01632960123"' in html
        assert f"mailto:{navigator.email}" in html if navigator.email else True
        assert reverse("web:timeline", args=[world.base.alex.public_id]) + "#message" in html

    def test_a_representative_sees_whose_budget_and_their_power(self, client, world):
        client.force_login(world.users["rep_view"])
        html = client.get(_home(world)).content.decode()
        assert f"You are acting for {world.base.alex.full_name}" in html
        assert "you can see their budget, not make decisions" in html
        assert "navigator" in html

    def test_staff_see_whose_page_it_is_and_no_contact_box(self, client, sign_in_verified, world):
        sign_in_verified(client, world.users["navigator"])
        html = client.get(_home(world)).content.decode()
        assert world.base.alex.public_id in html
        assert "Your navigator" not in html

    def test_the_query_count_does_not_grow_with_invoices(self, client, world, django_assert_max_num_queries):
        client.force_login(world.users["holder"])
        submit(world.care, number="INV-1")
        with django_assert_max_num_queries(25) as few:
            client.get(_home(world))
        for n in range(2, 8):
            submit(world.care, number=f"INV-{n}", lines=[(f"2026-10-{n + 2:02d}", "1.00")])
        with django_assert_max_num_queries(len(few.captured_queries)):
            client.get(_home(world))
