"""The invoice pages: a person's invoices, one invoice, approving, querying and rejecting it, and the
person's auto-approval rules, for everyone who may and may not see or decide them."""

import re

import pytest
from django.urls import reverse

from invoicing import services
from invoicing.models import AutoApprovalRule, Invoice, InvoiceEvent, InvoiceStatus
from tests.invoicing.world import submit

pytestmark = pytest.mark.django_db

SEES_ALEX = ["holder", "rep_approve", "rep_view", "navigator", "finance", "admin"]
NOT_ALEX = ["other_holder", "other_navigator", "officer_asc", "provider_engaged", "rep_revoked"]
DECIDES = ["holder", "rep_approve"]


def alex(world) -> str:
    return world.base.alex.public_id


def urls(world, invoice: Invoice) -> dict[str, str]:
    per, inv = invoice.budget_holder.public_id, invoice.public_id
    return {
        "invoices": reverse("web:invoices", args=[per]),
        "invoice": reverse("web:invoice", args=[per, inv]),
        "approve": reverse("web:invoice-approve", args=[per, inv]),
        "query": reverse("web:invoice-query", args=[per, inv]),
        "reject": reverse("web:invoice-reject", args=[per, inv]),
        "auto-approval": reverse("web:auto-approval", args=[per]),
    }


def on_hold(world) -> Invoice:
    """313 hours of Alex's `work`: more than planned, so on hold, but within the budget."""
    invoice = submit(world.work, number="HOLD-1", lines=[("2026-10-05", "313.00")])
    assert invoice.status == InvoiceStatus.ON_HOLD
    return invoice


def state(invoice: Invoice) -> tuple:
    invoice.refresh_from_db()
    return (invoice.status, invoice.query_question, invoice.reservation_id, invoice.events.count())


def error_summary(html: str) -> list[str]:
    assert 'class="govuk-error-summary"' in html
    summary = html.split('class="govuk-error-summary"')[1].split("</ul>")[0]
    return [text.strip() for text in re.findall(r'<li>(?:<a href="#[^"]+">)?([^<]+)(?:</a>)?</li>', summary)]


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]] if response.context else []


class TestWhoSeesThePages:
    @pytest.mark.parametrize("role", SEES_ALEX)
    def test_alexs_side_finance_and_admin_see_the_list_and_the_invoice(self, world, as_role, role):
        invoice = submit(world.care)
        client = as_role(role)

        for name in ("invoices", "invoice", "auto-approval"):
            assert client.get(urls(world, invoice)[name]).status_code == 200, name

    @pytest.mark.parametrize("role", NOT_ALEX)
    @pytest.mark.parametrize("name", ["invoices", "invoice", "approve", "query", "reject", "auto-approval"])
    def test_anyone_else_gets_404_on_every_page_and_post(self, world, as_role, role, name):
        invoice = submit(world.care)
        before = state(invoice)
        client = as_role(role)

        assert client.get(urls(world, invoice)[name]).status_code == 404
        assert client.post(urls(world, invoice)[name], {"question": "x", "reason": "x"}).status_code == 404
        assert state(invoice) == before

    @pytest.mark.parametrize("name", ["invoices", "invoice", "approve", "query", "reject", "auto-approval"])
    def test_someone_signed_out_is_sent_to_sign_in(self, world, client, name):
        invoice = submit(world.care)
        before = state(invoice)

        for response in (client.get(urls(world, invoice)[name]), client.post(urls(world, invoice)[name])):
            assert response.status_code == 302
            assert response["Location"].startswith(reverse("web:sign-in"))
        assert state(invoice) == before

    def test_another_persons_invoice_under_alexs_address_is_404(self, world, as_role):
        sams = submit(world.ramp, lines=[("2026-09-14", "1")])
        client = as_role("finance")  # finance sees every invoice, but not as one of Alex's

        url = reverse("web:invoice", args=[alex(world), sams.public_id])

        assert client.get(url).status_code == 404
        assert (
            client.get(reverse("web:invoice-approve", args=[alex(world), sams.public_id])).status_code == 404
        )

    def test_an_unknown_invoice_is_404(self, world, as_role):
        client = as_role("holder")
        assert client.get(reverse("web:invoice", args=[alex(world), "inv_nothing"])).status_code == 404


class TestViewOnlyRepresentative:
    def test_sees_the_invoice_without_buttons(self, world, as_role):
        invoice = submit(world.care)
        html = as_role("rep_view").get(urls(world, invoice)["invoice"]).content.decode()

        assert "Invoice INV-1001" in html
        assert urls(world, invoice)["approve"] not in html
        assert urls(world, invoice)["reject"] not in html
        assert "or a representative who may approve, decides this invoice" in html

    @pytest.mark.parametrize("name", ["approve", "query", "reject"])
    def test_gets_403_on_each_decision_and_nothing_changes(self, world, as_role, name):
        invoice = submit(world.care)
        before = state(invoice)
        client = as_role("rep_view")

        assert client.get(urls(world, invoice)[name]).status_code == 403
        data = {"question": "Why?", "reason": "No.", "understood": "on"}
        assert client.post(urls(world, invoice)[name], data).status_code == 403
        assert state(invoice) == before

    def test_sees_the_rules_but_may_not_add_or_stop_one(self, world, as_role):
        rule = services.auto_approval_rule_set(
            budget_holder=world.base.alex,
            provider=world.care.provider,
            max_total_minor=None,
            currency="GBP",
            by=world.users["holder"],
        )
        client = as_role("rep_view")
        revoke = reverse("web:auto-approval-revoke", args=[alex(world), rule.public_id])

        html = client.get(urls(world, submit(world.care))["auto-approval"]).content.decode()
        assert world.care.provider.name in html
        assert revoke not in html
        assert "Add a rule" not in html
        post = {"provider": world.care.provider.public_id, "max_total": "", "confirmed": "yes"}
        assert client.post(reverse("web:auto-approval", args=[alex(world)]), post).status_code == 403
        assert client.get(revoke).status_code == 403
        assert client.post(revoke).status_code == 403
        rule.refresh_from_db()
        assert rule.revoked_at is None


class TestInvoiceList:
    def test_shows_each_invoice_newest_first_with_the_count_waiting(self, world, as_role):
        first = submit(world.care, number="A-1")
        second = submit(world.work, number="B-2")
        held = on_hold(world)
        html = as_role("holder").get(reverse("web:invoices", args=[alex(world)])).content.decode()

        assert "2 invoices are waiting for your decision." in html
        assert "1 invoice is on hold for the navigator to check." in html
        positions = [html.index(f"invoice {number}") for number in ("HOLD-1", "B-2", "A-1")]
        assert positions == sorted(positions)
        assert reverse("web:invoice", args=[alex(world), first.public_id]) in html
        assert "£85.75" in html
        assert "1 November 2026" in html
        assert '<strong class="govuk-tag govuk-tag--blue">Waiting for approval</strong>' in html
        assert '<strong class="govuk-tag govuk-tag--orange">On hold</strong>' in html
        assert second.public_id in html and held.public_id in html
        assert reverse("web:auto-approval", args=[alex(world)]) in html

    def test_filters_by_status_without_javascript(self, world, as_role):
        submit(world.care, number="A-1")
        on_hold(world)
        client = as_role("holder")

        html = client.get(reverse("web:invoices", args=[alex(world)]), {"status": "on_hold"}).content.decode()

        assert "invoice HOLD-1" in html
        assert "invoice A-1" not in html
        assert '<option value="on_hold" selected>' in html
        assert "<title>On hold: Your invoices - Purse</title>" in html

    def test_an_unknown_status_shows_every_invoice(self, world, as_role):
        submit(world.care, number="A-1")
        response = as_role("holder").get(reverse("web:invoices", args=[alex(world)]), {"status": "nonsense"})

        assert response.status_code == 200
        assert "invoice A-1" in response.content.decode()

    def test_says_when_there_are_none(self, world, as_role):
        html = as_role("holder").get(reverse("web:invoices", args=[alex(world)])).content.decode()
        assert "There are no invoices yet" in html
        assert "No invoices are waiting for a decision." in html

    def test_pages_of_twenty_keep_the_filter(self, world, as_role):
        for number in range(23):
            submit(world.care, number=f"P-{number:02d}", lines=[("2026-10-03", "1.00")])
        client = as_role("holder")
        url = reverse("web:invoices", args=[alex(world)])

        first = client.get(url, {"status": "awaiting_approval"}).content.decode()
        second = client.get(url, {"status": "awaiting_approval", "page": "2"}).content.decode()

        assert first.count('class="govuk-summary-card__title"') == 20
        assert "?status=awaiting_approval&amp;page=2" in first
        assert second.count('class="govuk-summary-card__title"') == 3
        assert "invoice P-00" in second and "invoice P-22" not in second
        assert "Showing 21 to 23 of 23 invoices." in second

    def test_query_count_does_not_grow_with_the_invoices(self, world, as_role, django_assert_max_num_queries):
        client = as_role("holder")
        url = reverse("web:invoices", args=[alex(world)])
        submit(world.care, number="Q-0")
        with django_assert_max_num_queries(40) as few:
            client.get(url)
        for number in range(1, 12):
            submit(world.care, number=f"Q-{number}", lines=[("2026-10-03", "1.00")])
        with django_assert_max_num_queries(len(few.captured_queries)):
            assert client.get(url).content.decode().count('class="govuk-summary-card__title"') == 12


class TestInvoiceDetail:
    def test_says_in_plain_english_what_it_is_for_and_who_pays(self, world, as_role):
        invoice = submit(world.care, lines=[("2026-10-03", "3.50"), ("2026-10-04", "1.00")])
        html = as_role("holder").get(urls(world, invoice)["invoice"]).content.decode()

        assert "<title>Invoice INV-1001 from Bright Care" in html or "<title>Invoice INV-1001 from" in html
        assert invoice.provider.name in html
        assert "Invoice number" in html and "INV-1001" in html
        assert "1 November 2026" in html  # issued
        assert "3 October 2026" in html and "4 October 2026" in html  # when
        assert '3.5 hours at <span class="purse-money">£24.50</span> an hour' in html
        assert "1 hour at" in html
        assert "£110.25" in html  # the total
        assert "one hundred and ten pounds and twenty-five pence" in html
        assert world.care.description in html  # the support item's description
        assert "\u2018Live in my own flat\u2019" in html  # the outcome, in the person's words
        assert "Adult Social Care" in html  # who pays
        assert "Support delivered" in html  # the provider's note
        assert f"{invoice.provider.name} sent the invoice" in html  # history
        assert urls(world, invoice)["approve"] in html
        assert urls(world, invoice)["query"] in html
        assert urls(world, invoice)["reject"] in html
        assert html.count("<h1") == 1

    def test_explains_why_an_invoice_is_on_hold(self, world, as_role):
        invoice = on_hold(world)
        html = as_role("holder").get(urls(world, invoice)["invoice"]).content.decode()

        assert "Why it is on hold" in html
        assert "more hours of" in html
        assert "than the plan has left" in html
        assert "si_" not in html.split("Why it is on hold")[1].split("</ul>")[0]

    def test_a_decided_invoice_has_no_buttons(self, world, as_role):
        invoice = submit(world.care)
        services.invoice_reject(invoice=invoice, by=world.users["holder"], reason="Not delivered.")
        html = as_role("holder").get(urls(world, invoice)["invoice"]).content.decode()

        assert "Rejected" in html
        assert "You rejected it: \u2018Not delivered.\u2019" in html
        assert urls(world, invoice)["approve"] not in html

    def test_a_queried_invoice_shows_the_question_and_may_still_be_approved(self, world, as_role):
        invoice = submit(world.care)
        services.invoice_query(invoice=invoice, by=world.users["holder"], reason="Which days?")
        html = as_role("rep_approve").get(urls(world, invoice)["invoice"]).content.decode()

        assert "Which days?" in html
        assert urls(world, invoice)["approve"] in html
        assert urls(world, invoice)["reject"] in html
        assert urls(world, invoice)["query"] not in html

    def test_query_count_does_not_grow_with_the_lines(self, world, as_role, django_assert_max_num_queries):
        client = as_role("holder")
        small = submit(world.care, number="S-1")
        big = submit(world.care, number="S-2", lines=[(f"2026-10-{day:02d}", "1.00") for day in range(1, 16)])
        with django_assert_max_num_queries(60) as few:
            client.get(urls(world, small)["invoice"])
        with django_assert_max_num_queries(len(few.captured_queries)):
            client.get(urls(world, big)["invoice"])


class TestNavigator:
    def test_sees_no_buttons_on_an_invoice_for_the_person_and_gets_403(self, world, as_role):
        invoice = submit(world.care)
        before = state(invoice)
        client = as_role("navigator")

        assert (
            urls(world, invoice)["approve"]
            not in client.get(urls(world, invoice)["invoice"]).content.decode()
        )
        assert client.get(urls(world, invoice)["approve"]).status_code == 403
        assert client.post(urls(world, invoice)["approve"]).status_code == 403
        assert state(invoice) == before

    def test_decides_an_invoice_on_hold(self, world, as_role):
        invoice = on_hold(world)
        client = as_role("navigator")

        assert urls(world, invoice)["approve"] in client.get(urls(world, invoice)["invoice"]).content.decode()
        response = client.post(urls(world, invoice)["approve"])

        assert response.status_code == 302
        invoice.refresh_from_db()
        assert invoice.status == InvoiceStatus.APPROVED
        assert invoice.events.last().by_role == "navigator"

    def test_may_not_set_auto_approval_rules(self, world, as_role):
        client = as_role("navigator")
        html = client.get(reverse("web:auto-approval", args=[alex(world)])).content.decode()
        assert "Add a rule" not in html
        post = {"provider": world.care.provider.public_id, "confirmed": "yes"}
        assert client.post(reverse("web:auto-approval", args=[alex(world)]), post).status_code == 403
        assert not AutoApprovalRule.objects.exists()


class TestApprove:
    @pytest.mark.parametrize("role", DECIDES)
    def test_asks_first_then_approves_and_sets_the_money_aside(self, world, as_role, role):
        invoice = submit(world.care)
        client = as_role(role)

        confirm = client.get(urls(world, invoice)["approve"])
        html = confirm.content.decode()
        assert confirm.status_code == 200
        assert f"Approve £85.75 to {invoice.provider.name}?" in html
        assert "This sets the money aside from Adult Social Care" in html
        assert Invoice.objects.get(pk=invoice.pk).status == InvoiceStatus.AWAITING_APPROVAL

        response = client.post(urls(world, invoice)["approve"], follow=True)

        assert response.redirect_chain == [(urls(world, invoice)["invoice"], 302)]
        invoice.refresh_from_db()
        assert invoice.status == InvoiceStatus.APPROVED
        assert invoice.reservation_id is not None
        assert (
            f"You approved {invoice.provider.name}'s invoice INV-1001 for £85.75." in messages_of(response)[0]
        )

    def test_approving_twice_does_not_fail_or_approve_again(self, world, as_role):
        invoice = submit(world.care)
        client = as_role("holder")
        client.post(urls(world, invoice)["approve"])
        after_first = state(invoice)

        again = client.post(urls(world, invoice)["approve"], follow=True)
        back = client.get(urls(world, invoice)["approve"], follow=True)

        assert again.status_code == 200 and back.status_code == 200
        assert "Invoice INV-1001 is already approved." in messages_of(again)
        assert state(invoice) == after_first
        assert InvoiceEvent.objects.filter(invoice=invoice, status="approved").count() == 1

    def test_not_enough_money_shows_an_error_and_changes_nothing(self, world, as_role):
        ramp = submit(world.ramp, lines=[("2026-09-14", "1")])
        assert ramp.status == InvoiceStatus.ON_HOLD
        before = state(ramp)
        client = as_role("other_holder")

        response = client.post(urls(world, ramp)["approve"])

        assert response.status_code == 200
        assert any(
            "There is not enough money left" in error for error in error_summary(response.content.decode())
        )
        assert "<title>Error: Approve invoice" in response.content.decode()
        assert state(ramp) == before

    def test_a_rejected_invoice_cannot_be_approved(self, world, as_role):
        invoice = submit(world.care)
        services.invoice_reject(invoice=invoice, by=world.users["holder"], reason="No.")
        before = state(invoice)

        response = as_role("holder").post(urls(world, invoice)["approve"], follow=True)

        assert "Invoice INV-1001 is rejected, so it cannot be approved now." in messages_of(response)
        assert state(invoice) == before


class TestQuery:
    def test_asks_the_provider_and_keeps_the_question(self, world, as_role):
        invoice = submit(world.care)
        client = as_role("holder")
        form = client.get(urls(world, invoice)["query"]).content.decode()
        assert 'name="question"' in form

        response = client.post(urls(world, invoice)["query"], {"question": "  Which days was this?  "})

        assert response.status_code == 302 and response["Location"] == urls(world, invoice)["invoice"]
        invoice.refresh_from_db()
        assert invoice.status == InvoiceStatus.QUERIED
        assert invoice.query_question == "Which days was this?"

    @pytest.mark.parametrize(
        ("question", "message"),
        [
            ("", "Enter your question for the provider"),
            ("   \n ", "Enter your question for the provider"),
            ("x" * 2001, "Write 2,000 characters or fewer"),
        ],
    )
    def test_a_bad_question_shows_the_error_and_changes_nothing(self, world, as_role, question, message):
        invoice = submit(world.care)
        before = state(invoice)

        response = as_role("holder").post(urls(world, invoice)["query"], {"question": question})
        html = response.content.decode()

        assert response.status_code == 200
        assert error_summary(html) == [message]
        assert 'href="#id_question"' in html
        assert "govuk-textarea--error" in html
        assert state(invoice) == before

    def test_a_question_the_service_refuses_shows_as_an_error(self, world, as_role, monkeypatch):
        invoice = submit(world.care)
        before = state(invoice)

        def refuse(**kwargs):
            raise services.ReasonRequired("Write the question, in a sentence the provider can act on.")

        monkeypatch.setattr(services, "invoice_query", refuse)
        response = as_role("holder").post(urls(world, invoice)["query"], {"question": "?"})

        assert error_summary(response.content.decode()) == [
            "Write the question, in a sentence the provider can act on."
        ]
        assert state(invoice) == before

    def test_a_queried_invoice_cannot_be_queried_again(self, world, as_role):
        invoice = submit(world.care)
        services.invoice_query(invoice=invoice, by=world.users["holder"], reason="Which days?")
        before = state(invoice)
        client = as_role("holder")

        assert client.get(urls(world, invoice)["query"])["Location"] == urls(world, invoice)["invoice"]
        response = client.post(urls(world, invoice)["query"], {"question": "And again?"}, follow=True)

        assert "Invoice INV-1001 is queried, so it cannot be queried now." in messages_of(response)
        assert state(invoice) == before


class TestReject:
    def test_rejects_with_a_reason_once_confirmed(self, world, as_role):
        invoice = submit(world.care)
        client = as_role("rep_approve")
        page = client.get(urls(world, invoice)["reject"]).content.decode()
        assert "You cannot undo this." in page

        response = client.post(
            urls(world, invoice)["reject"],
            {"reason": "Nobody came that day.", "understood": "on"},
            follow=True,
        )

        invoice.refresh_from_db()
        assert invoice.status == InvoiceStatus.REJECTED
        assert invoice.events.last().reason == "Nobody came that day."
        assert "Nothing will be paid for it" in messages_of(response)[0]

    @pytest.mark.parametrize(
        ("data", "messages"),
        [
            (
                {},
                [
                    "Enter why you are rejecting this invoice",
                    "Confirm that you understand rejecting cannot be undone",
                ],
            ),
            ({"reason": "Not delivered."}, ["Confirm that you understand rejecting cannot be undone"]),
            ({"reason": " ", "understood": "on"}, ["Enter why you are rejecting this invoice"]),
        ],
    )
    def test_bad_input_shows_every_error_and_changes_nothing(self, world, as_role, data, messages):
        invoice = submit(world.care)
        before = state(invoice)

        response = as_role("holder").post(urls(world, invoice)["reject"], data)

        assert response.status_code == 200
        assert error_summary(response.content.decode()) == messages
        assert state(invoice) == before


class TestAutoApproval:
    def url(self, world) -> str:
        return reverse("web:auto-approval", args=[alex(world)])

    def test_offers_the_providers_engaged_now(self, world, as_role):
        html = as_role("holder").get(self.url(world)).content.decode()

        assert "There are no rules." in html
        assert world.care.provider.name in html and world.work.provider.name in html
        assert f'value="{world.care.provider.public_id}"' in html
        assert 'value="' + world.ramp.provider.public_id + '"' not in html

    def test_asks_first_then_sets_the_rule(self, world, as_role):
        client = as_role("holder")
        data = {"provider": world.care.provider.public_id, "max_total": "£1,200.5"}

        confirm = client.post(self.url(world), data)
        html = confirm.content.decode()

        assert confirm.status_code == 200
        assert f"Approve {world.care.provider.name}'s routine invoices automatically?" in html
        assert "£1,200.50" in html
        assert not AutoApprovalRule.objects.exists()

        response = client.post(self.url(world), {**data, "confirmed": "yes"}, follow=True)

        rule = AutoApprovalRule.objects.get()
        assert (rule.provider, rule.max_total_minor, rule.revoked_at) == (world.care.provider, 120050, None)
        assert "will now be approved automatically, up to £1,200.50 an invoice" in messages_of(response)[0]
        assert world.care.provider.name in response.content.decode()

    def test_no_limit_is_any_amount(self, world, as_role):
        client = as_role("rep_approve")
        client.post(
            self.url(world), {"provider": world.work.provider.public_id, "max_total": "", "confirmed": "yes"}
        )
        assert AutoApprovalRule.objects.get().max_total_minor is None

    @pytest.mark.parametrize(
        ("data", "messages"),
        [
            ({"max_total": ""}, ["Choose a provider"]),
            ({"provider": "pro_nobody"}, ["Choose one of the providers in your plan"]),
            (
                {"provider": "SAM", "max_total": "lots"},
                ["Enter the largest invoice as an amount in pounds, like 400.00"],
            ),
            ({"provider": "CARE", "max_total": "0"}, ["The largest invoice must be more than £0"]),
            (
                {"provider": "CARE", "max_total": "12.345"},
                ["Enter the largest invoice as an amount in pounds, like 400.00"],
            ),
        ],
    )
    def test_bad_input_shows_the_error_and_sets_nothing(self, world, as_role, data, messages):
        data = dict(data, confirmed="yes")
        if data.get("provider") == "CARE":
            data["provider"] = world.care.provider.public_id
        if data.get("provider") == "SAM":
            data["provider"] = world.ramp.provider.public_id  # engaged, but for Sam

        response = as_role("holder").post(self.url(world), data)
        found = error_summary(response.content.decode())

        assert response.status_code == 200
        assert found[-1] == messages[-1]
        assert not AutoApprovalRule.objects.exists()

    def test_stops_a_rule_after_asking(self, world, as_role):
        rule = services.auto_approval_rule_set(
            budget_holder=world.base.alex,
            provider=world.care.provider,
            max_total_minor=None,
            currency="GBP",
            by=world.users["holder"],
        )
        client = as_role("holder")
        revoke = reverse("web:auto-approval-revoke", args=[alex(world), rule.public_id])
        assert revoke in client.get(self.url(world)).content.decode()

        confirm = client.get(revoke).content.decode()
        assert f"Stop approving {world.care.provider.name}'s invoices automatically?" in confirm
        rule.refresh_from_db()
        assert rule.revoked_at is None

        response = client.post(revoke, follow=True)
        rule.refresh_from_db()
        assert rule.revoked_at is not None
        assert "will no longer be approved automatically" in messages_of(response)[0]

        again = client.post(revoke, follow=True)
        assert "That auto-approval rule has already been stopped." in messages_of(again)
        assert client.get(revoke, follow=True).status_code == 200

    def test_another_persons_rule_is_404(self, world, as_role):
        sams = services.auto_approval_rule_set(
            budget_holder=world.base.sam,
            provider=world.ramp.provider,
            max_total_minor=None,
            currency="GBP",
            by=world.users["other_holder"],
        )
        client = as_role("holder")
        revoke = reverse("web:auto-approval-revoke", args=[alex(world), sams.public_id])

        assert client.get(revoke).status_code == 404
        assert client.post(revoke).status_code == 404
        sams.refresh_from_db()
        assert sams.revoked_at is None

    def test_query_count_does_not_grow_with_the_rules(self, world, as_role, django_assert_max_num_queries):
        client = as_role("holder")
        holder = world.users["holder"]
        services.auto_approval_rule_set(
            budget_holder=world.base.alex,
            provider=world.care.provider,
            max_total_minor=None,
            currency="GBP",
            by=holder,
        )
        with django_assert_max_num_queries(40) as few:
            client.get(self.url(world))
        services.auto_approval_rule_set(
            budget_holder=world.base.alex,
            provider=world.work.provider,
            max_total_minor=100,
            currency="GBP",
            by=holder,
        )
        with django_assert_max_num_queries(len(few.captured_queries)):
            client.get(self.url(world))
