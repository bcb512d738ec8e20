"""The agency officer's pages: plans to approve, one plan as the agency sees it, approving and returning a
stream's part, and the people the agency funds."""

import re

import pytest
from django.urls import reverse

from budgets.selectors.positions import budget_positions_for_holder
from plans.models import PlanVersion, PlanVersionStatus, StreamApproval, StreamApprovalStatus, TimelineEntry
from plans.services import workflow
from tests.invoicing.world import build_invoicing_world
from tests.plans.factories import officer_of

pytestmark = pytest.mark.django_db

APPROVALS = reverse("web:approvals")
DECIDED = reverse("web:approvals-decided")
FUNDED = reverse("web:funded-people")


@pytest.fixture
def world(monkeypatch):
    """The invoicing world with Alex's version 2 agreed: ASC, ILF and ATW parts wait for their agencies."""
    world = build_invoicing_world(monkeypatch)
    workflow.plan_version_agree(version=world.base.v2, agreed_by=world.users["holder"])
    return world


def _url(name: str, version: PlanVersion, code: str) -> str:
    return reverse(name, args=[version.public_id, code])


def _part(version: PlanVersion, code: str) -> StreamApproval:
    return StreamApproval.objects.filter(version=version, stream__code=code).order_by("-round").first()


def _text(response) -> str:
    """The page's visible text, roughly: tags stripped, spaces collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def _signed_in(client, sign_in_verified, world, role: str):
    user = world.users[role]
    if user.needs_second_factor:
        sign_in_verified(client, user)
    else:
        client.force_login(user)
    return client


def _ilf_officer(world):
    return officer_of(world.base.officers["ILF"].organisation.funding_streams.get())


NOT_OFFICERS = ("holder", "rep_approve", "rep_view", "navigator", "provider_engaged", "finance", "admin")


class TestWhoMaySeeTheOfficerPages:
    @pytest.mark.parametrize("name", ["web:approvals", "web:approvals-decided", "web:funded-people"])
    def test_anonymous_is_sent_to_sign_in(self, client, world, name):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("web:sign-in"))

    def test_anonymous_is_sent_to_sign_in_from_a_plan(self, client, world):
        for name in ("web:approval", "web:approval-approve", "web:approval-return"):
            response = client.get(_url(name, world.base.v2, "ASC"))
            assert response.status_code == 302
            assert response["Location"].startswith(reverse("web:sign-in"))

    @pytest.mark.parametrize("role", NOT_OFFICERS)
    def test_anyone_but_an_officer_is_refused(self, client, sign_in_verified, world, role):
        _signed_in(client, sign_in_verified, world, role)
        for url in (
            APPROVALS,
            DECIDED,
            FUNDED,
            _url("web:approval", world.base.v2, "ASC"),
            _url("web:approval-approve", world.base.v2, "ASC"),
        ):
            assert client.get(url).status_code == 403, url
        assert client.post(_url("web:approval-approve", world.base.v2, "ASC")).status_code == 403
        assert (
            client.post(_url("web:approval-return", world.base.v2, "ASC"), {"reason": "x", "confirm": "yes"})
        ).status_code == 403
        assert _part(world.base.v2, "ASC").status == StreamApprovalStatus.PENDING

    def test_an_officer_must_pass_the_second_factor(self, client, world):
        client.force_login(world.users["officer_asc"])
        response = client.get(APPROVALS)
        assert response.status_code == 302
        assert "/sign-in/" in response["Location"]

    def test_an_agency_without_a_stream_in_the_plan_gets_404(self, client, sign_in_verified, world):
        sign_in_verified(client, world.users["officer_unrelated"])
        for name in ("web:approval", "web:approval-approve", "web:approval-return"):
            assert client.get(_url(name, world.base.v2, "SP")).status_code == 404
            assert client.get(_url(name, world.base.v2, "ASC")).status_code == 404
        assert client.post(_url("web:approval-approve", world.base.v2, "ASC")).status_code == 404
        assert _part(world.base.v2, "ASC").status == StreamApprovalStatus.PENDING

    def test_another_agencys_stream_of_a_plan_they_fund_gets_404(self, client, sign_in_verified, world):
        sign_in_verified(client, world.users["officer_atw"])
        assert client.get(_url("web:approval", world.base.v2, "ASC")).status_code == 404
        assert client.post(_url("web:approval-approve", world.base.v2, "ASC")).status_code == 404
        response = client.post(
            _url("web:approval-return", world.base.v2, "ASC"), {"reason": "No", "confirm": "yes"}
        )
        assert response.status_code == 404
        assert _part(world.base.v2, "ASC").status == StreamApprovalStatus.PENDING

    def test_a_version_or_stream_that_does_not_exist_gets_404(self, client, sign_in_verified, world):
        sign_in_verified(client, world.users["officer_asc"])
        assert client.get(reverse("web:approval", args=["plv_nope", "ASC"])).status_code == 404
        assert client.get(_url("web:approval", world.base.v2, "NOPE")).status_code == 404

    def test_another_persons_plan_the_agency_does_not_fund_gets_404(self, client, sign_in_verified, world):
        sign_in_verified(client, world.users["officer_asc"])
        assert client.get(_url("web:approval", world.base.sams, "ASC")).status_code == 404
        assert client.get(_url("web:approval", world.base.sams, "DFG")).status_code == 404


class TestPlansToApprove:
    def test_lists_what_waits_for_the_officers_agency(self, client, sign_in_verified, world):
        sign_in_verified(client, world.users["officer_asc"])
        part = _part(world.base.v2, "ASC")

        response = client.get(APPROVALS)

        assert response.status_code == 200
        html = response.content.decode()
        assert _url("web:approval", world.base.v2, "ASC") in html
        text = _text(response)
        assert world.base.alex.full_name in text
        assert "1 plan is waiting" in text
        assert f"£{part.amount_minor // 100:,}.{part.amount_minor % 100:02d}" in text
        assert "1 April 2026 to 31 March 2027, changing from 1 October 2026" in text
        # The ASC part of version 1 was approved: it is among the decisions.
        assert _url("web:approval", world.base.v1, "ASC") in html
        # Nothing of other agencies.
        assert _url("web:approval", world.base.v2, "ATW") not in html
        assert "Access to Work" not in text

    def test_another_agency_sees_its_own_part(self, client, sign_in_verified, world):
        sign_in_verified(client, world.users["officer_atw"])
        html = client.get(APPROVALS).content.decode()
        assert _url("web:approval", world.base.v2, "ATW") in html
        assert _url("web:approval", world.base.v2, "ASC") not in html

    def test_nothing_waits_for_an_unrelated_agency(self, client, sign_in_verified, world):
        sign_in_verified(client, world.users["officer_unrelated"])
        text = _text(client.get(APPROVALS))
        assert "No plans are waiting" in text
        assert "has not approved or returned any plans yet" in text

    def test_nothing_waits_once_decided(self, client, sign_in_verified, world):
        workflow.plan_stream_approve(
            version=world.base.v2, stream_code="ASC", approved_by=world.users["officer_asc"]
        )
        sign_in_verified(client, world.users["officer_asc"])
        assert "No plans are waiting" in _text(client.get(APPROVALS))

    def test_the_page_does_not_link_to_person_pages(self, client, sign_in_verified, world):
        sign_in_verified(client, world.users["officer_asc"])
        for url in (APPROVALS, _url("web:approval", world.base.v2, "ASC"), FUNDED):
            assert "/people/" not in client.get(url).content.decode()

    def test_every_decision_page(self, client, sign_in_verified, world):
        sign_in_verified(client, world.users["officer_asc"])
        response = client.get(DECIDED)
        assert response.status_code == 200
        assert _url("web:approval", world.base.v1, "ASC") in response.content.decode()
        assert "Approved" in _text(response)


class TestApprovalsQueryCount:
    def _more_waiting(self, world, count: int) -> None:
        """`count` more people whose agreed plans wait for ASC (with ATW's part too)."""
        from tests.people.factories import BudgetHolderFactory
        from tests.plans.factories import draft_plan

        for _ in range(count):
            person = BudgetHolderFactory(navigator=world.users["navigator"])
            version, _, _ = draft_plan(person, world.users["navigator"])
            workflow.plan_version_agree(version=version, agreed_by=person.user)

    def test_the_list_does_not_grow_with_more_plans(
        self, client, sign_in_verified, world, django_assert_max_num_queries
    ):
        sign_in_verified(client, world.users["officer_asc"])
        client.get(APPROVALS)
        with django_assert_max_num_queries(14) as few:
            client.get(APPROVALS)
        self._more_waiting(world, 4)
        with django_assert_max_num_queries(len(few.captured_queries)):
            response = client.get(APPROVALS)
        assert "5 plans are waiting" in _text(response)

    def test_the_plan_page_is_bounded(self, client, sign_in_verified, world, django_assert_max_num_queries):
        sign_in_verified(client, world.users["officer_asc"])
        with django_assert_max_num_queries(20):
            assert client.get(_url("web:approval", world.base.v2, "ASC")).status_code == 200


class TestThePlanAsTheAgencySeesIt:
    def test_the_story_the_own_items_and_the_amount(self, client, sign_in_verified, world):
        sign_in_verified(client, world.users["officer_asc"])
        part = _part(world.base.v2, "ASC")

        response = client.get(_url("web:approval", world.base.v2, "ASC"))

        assert response.status_code == 200
        text = _text(response)
        assert "I want my own flat and a job." in text
        assert "Live in my own flat" in text and "Get a paid job" in text
        assert "My sister Jo: Shopping" in text
        assert world.base.items["care"].description in text
        assert "ASC up to 250.00 a week, ILF the rest" in text
        assert world.base.items["work"].description not in text
        assert world.base.items["taxi"].description not in text
        assert "Approve" in text and "Return for changes" in text
        assert _url("web:approval-approve", world.base.v2, "ASC") in response.content.decode()
        amount = f"£{part.amount_minor // 100:,}.{part.amount_minor % 100:02d}"
        assert amount in text
        assert f"{world.base.alex.full_name}'s plan" in text

    def test_nothing_of_another_agencys_money(self, client, sign_in_verified, world):
        asc, ilf = _part(world.base.v2, "ASC"), _part(world.base.v2, "ILF")
        sign_in_verified(client, world.users["officer_atw"])

        text = _text(client.get(_url("web:approval", world.base.v2, "ATW")))

        assert world.base.items["work"].description in text
        assert world.base.items["taxi"].description in text
        # The care item is ASC's and ILF's: not its description, its split or its cost.
        assert world.base.items["care"].description not in text
        assert "ASC" not in text and "ILF" not in text
        for amount_minor in (asc.amount_minor, ilf.amount_minor):
            assert f"{amount_minor // 100:,}.{amount_minor % 100:02d}" not in text
            assert f"{amount_minor // 100}.{amount_minor % 100:02d}" not in text
        # Its own calculation is there.
        assert "ATW: subtotal" in text

    def test_a_decided_part_shows_the_decision_and_no_buttons(self, client, sign_in_verified, world):
        sign_in_verified(client, world.users["officer_asc"])
        response = client.get(_url("web:approval", world.base.v1, "ASC"))
        text = _text(response)
        assert response.status_code == 200
        assert "Approved" in text
        assert "There is nothing for you to decide" in text
        assert _url("web:approval-approve", world.base.v1, "ASC") not in response.content.decode()

    def test_the_confirmation_pages_of_a_decided_part_go_back_to_the_plan(
        self, client, sign_in_verified, world
    ):
        sign_in_verified(client, world.users["officer_asc"])
        for name in ("web:approval-approve", "web:approval-return"):
            response = client.get(_url(name, world.base.v1, "ASC"))
            assert response.status_code == 302
            assert response["Location"] == _url("web:approval", world.base.v1, "ASC")


class TestApprove:
    def test_asks_are_you_sure_first(self, client, sign_in_verified, world):
        sign_in_verified(client, world.users["officer_asc"])

        response = client.get(_url("web:approval-approve", world.base.v2, "ASC"))

        assert response.status_code == 200
        text = _text(response)
        assert "Are you sure you want to approve ASC's part" in text
        assert world.base.alex.full_name in text
        assert _part(world.base.v2, "ASC").status == StreamApprovalStatus.PENDING

    def test_approves_and_says_so(self, client, sign_in_verified, world):
        officer = world.users["officer_asc"]
        sign_in_verified(client, officer)

        response = client.post(_url("web:approval-approve", world.base.v2, "ASC"), follow=True)

        part = _part(world.base.v2, "ASC")
        assert part.status == StreamApprovalStatus.APPROVED
        assert part.decided_by == officer
        world.base.v2.refresh_from_db()
        assert world.base.v2.status == PlanVersionStatus.AGREED
        assert response.redirect_chain[-1][0] == APPROVALS
        text = _text(response)
        assert "You approved the Adult Social Care" in text
        assert "still waiting for the other agencies" in text
        assert TimelineEntry.objects.filter(kind="plan.stream_approved", actor=officer).exists()

    def test_the_last_approval_makes_the_plan_active(self, client, sign_in_verified, world):
        workflow.plan_stream_approve(
            version=world.base.v2, stream_code="ASC", approved_by=world.users["officer_asc"]
        )
        workflow.plan_stream_approve(
            version=world.base.v2, stream_code="ILF", approved_by=_ilf_officer(world)
        )
        sign_in_verified(client, world.users["officer_atw"])

        response = client.post(_url("web:approval-approve", world.base.v2, "ATW"), follow=True)

        world.base.v2.refresh_from_db()
        assert world.base.v2.status == PlanVersionStatus.ACTIVE
        assert "the plan is active" in _text(response)

    def test_already_decided_shows_the_error_and_changes_nothing(self, client, sign_in_verified, world):
        sign_in_verified(client, world.users["officer_asc"])
        page = _url("web:approval-approve", world.base.v2, "ASC")
        client.get(page)  # the officer opens the confirmation page...
        # ...and meanwhile the ATW officer returns the plan, which ends ASC's part of the round.
        workflow.plan_stream_return(
            version=world.base.v2, stream_code="ATW", returned_by=world.users["officer_atw"], reason="Fix it."
        )
        before = list(StreamApproval.objects.order_by("pk").values_list("status", "decided_at"))

        response = client.post(page)

        assert response.status_code == 200
        text = _text(response)
        assert "There is a problem" in text
        assert "only an agreed version" in text
        assert "Error: " in text
        assert list(StreamApproval.objects.order_by("pk").values_list("status", "decided_at")) == before
        assert "Yes, approve" not in text

    def test_approving_twice_is_refused(self, client, sign_in_verified, world):
        officer = world.users["officer_asc"]
        sign_in_verified(client, officer)
        page = _url("web:approval-approve", world.base.v2, "ASC")
        client.post(page)
        decided_at = _part(world.base.v2, "ASC").decided_at

        response = client.post(page)

        assert response.status_code == 200
        assert "already approved" in _text(response)
        assert _part(world.base.v2, "ASC").decided_at == decided_at


class TestReturn:
    def test_asks_what_needs_to_change(self, client, sign_in_verified, world):
        sign_in_verified(client, world.users["officer_asc"])
        response = client.get(_url("web:approval-return", world.base.v2, "ASC"))
        assert response.status_code == 200
        assert 'name="reason"' in response.content.decode()
        assert "What needs to change in the plan?" in _text(response)

    @pytest.mark.parametrize("reason", ["", "   \n "])
    def test_a_reason_is_needed(self, client, sign_in_verified, world, reason):
        sign_in_verified(client, world.users["officer_asc"])
        url = _url("web:approval-return", world.base.v2, "ASC")
        for data in ({"reason": reason}, {"reason": reason, "confirm": "yes"}):
            response = client.post(url, data)
            assert response.status_code == 200
            html = response.content.decode()
            assert "There is a problem" in html
            assert '<a href="#id_reason">Enter what needs to change in the plan</a>' in html
            assert "govuk-textarea--error" in html
            assert "<title>Error: " in html
        assert _part(world.base.v2, "ASC").status == StreamApprovalStatus.PENDING

    def test_a_reason_too_long_is_refused(self, client, sign_in_verified, world):
        sign_in_verified(client, world.users["officer_asc"])
        response = client.post(
            _url("web:approval-return", world.base.v2, "ASC"), {"reason": "x" * 10_001, "confirm": "yes"}
        )
        assert "10000 characters or fewer" in _text(response)
        assert _part(world.base.v2, "ASC").status == StreamApprovalStatus.PENDING

    def test_checks_before_returning(self, client, sign_in_verified, world):
        sign_in_verified(client, world.users["officer_asc"])

        response = client.post(
            _url("web:approval-return", world.base.v2, "ASC"), {"reason": "Cost the care again."}
        )

        assert response.status_code == 200
        text = _text(response)
        assert "Are you sure you want to return" in text
        assert "Cost the care again." in text
        assert 'name="confirm"' in response.content.decode()
        assert _part(world.base.v2, "ASC").status == StreamApprovalStatus.PENDING

    def test_changing_the_reason_goes_back_to_the_form(self, client, sign_in_verified, world):
        sign_in_verified(client, world.users["officer_asc"])
        response = client.post(
            _url("web:approval-return", world.base.v2, "ASC"), {"reason": "Draft words", "change": "yes"}
        )
        html = response.content.decode()
        assert "Draft words</textarea>" in html
        assert "There is a problem" not in html
        assert _part(world.base.v2, "ASC").status == StreamApprovalStatus.PENDING

    def test_returns_the_plan_to_draft(self, client, sign_in_verified, world):
        officer = world.users["officer_asc"]
        sign_in_verified(client, officer)

        response = client.post(
            _url("web:approval-return", world.base.v2, "ASC"),
            {"reason": "Cost the care again.", "confirm": "yes"},
            follow=True,
        )

        part = _part(world.base.v2, "ASC")
        assert part.status == StreamApprovalStatus.RETURNED
        assert part.reason == "Cost the care again."
        assert part.decided_by == officer
        assert _part(world.base.v2, "ATW").status == StreamApprovalStatus.CANCELLED
        world.base.v2.refresh_from_db()
        assert world.base.v2.status == PlanVersionStatus.DRAFT
        assert response.redirect_chain[-1][0] == APPROVALS
        assert "You returned the Adult Social Care part" in _text(response)

    def test_already_ended_shows_the_error_and_changes_nothing(self, client, sign_in_verified, world):
        workflow.plan_stream_return(
            version=world.base.v2, stream_code="ATW", returned_by=world.users["officer_atw"], reason="Fix it."
        )
        sign_in_verified(client, world.users["officer_asc"])

        response = client.post(
            _url("web:approval-return", world.base.v2, "ASC"), {"reason": "Me too.", "confirm": "yes"}
        )

        assert response.status_code == 200
        assert "There is a problem" in _text(response)
        assert _part(world.base.v2, "ASC").status == StreamApprovalStatus.CANCELLED
        assert _part(world.base.v2, "ASC").reason != "Me too."


class TestPeopleWeFund:
    def test_each_person_with_the_agencys_money_only(self, client, sign_in_verified, world):
        sign_in_verified(client, world.users["officer_atw"])
        [atw] = [
            p for p in budget_positions_for_holder(budget_holder=world.base.alex) if p.stream_code == "ATW"
        ]

        response = client.get(FUNDED)

        assert response.status_code == 200
        text = _text(response)
        assert world.base.alex.full_name in text
        assert world.base.sam.full_name not in text
        assert "1 person has a budget" in text
        for amount in (atw.allocated_minor, atw.available_minor):
            assert f"£{amount // 100:,}.{amount % 100:02d}" in text
        assert "Adult Social Care" not in text and "Independent Living Fund" not in text

    def test_an_agency_that_funds_nobody(self, client, sign_in_verified, world):
        sign_in_verified(client, world.users["officer_unrelated"])
        assert "Nobody has a budget" in _text(client.get(FUNDED))

    def test_query_count_does_not_grow_with_people(
        self, client, sign_in_verified, world, django_assert_max_num_queries
    ):
        from tests.budgets.helpers import create
        from tests.people.factories import BudgetHolderFactory

        asc = world.base.officers["ASC"]
        stream = asc.organisation.funding_streams.get(code="ASC")
        sign_in_verified(client, asc)
        client.get(FUNDED)
        with django_assert_max_num_queries(20) as few:
            client.get(FUNDED)
        for _ in range(5):
            create(BudgetHolderFactory(), stream, world.users["navigator"])
        with django_assert_max_num_queries(len(few.captured_queries)):
            response = client.get(FUNDED)
        assert "6 people have a budget" in _text(response)
