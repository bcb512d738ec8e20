"""The surplus and reclaim API (api/reclaims.py): a stream's surplus audit, a person's legitimate reserves,
and reclaim notices (give notice, reply, withdraw, reclaim). Every endpoint; who may and who may not (404 for
whoever may not see the record, 403 for whoever sees it but may not act); each bad input a 422 naming its
field, with nothing changed; state conflicts 409; Idempotency-Key; paging with bounded queries.

The world is the invoicing world: "today" is 20 November 2026. Alex holds 9,000.00 of Adult Social Care (ASC)
money, whose weekly equivalent is 250.00 and threshold 8 weeks (2,000.00): 7,000.00 is reclaimable. ASC gives
4 weeks' notice, so the earliest reclaim day is 18 December 2026. Sam is funded by DFG only.
"""

from datetime import date

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from budgets.models import FundingStream, LegitimateReserve
from budgets.services.personal_budgets import personal_budget_create
from budgets.services.reserves import reserve_set
from ledger.models import Transaction
from payments.models import ReclaimNotice, ReclaimStatus
from payments.services.reclaims import reclaim_notice_raise
from plans.models import TimelineEntry
from tests.api.plans_world import ROLES
from tests.invoicing.world import build_invoicing_world, provider_client
from tests.people.factories import BudgetHolderFactory

pytestmark = pytest.mark.django_db

SURPLUS = "/api/v1/streams/{code}/surplus/"
RESERVES = "/api/v1/people/{per}/reserves/"
RELEASE = "/api/v1/reserves/{rsv}/release/"
RECLAIMS = "/api/v1/reclaims/"
NOTICE = "/api/v1/reclaims/{rcl}/"
EARLIEST = date(2026, 12, 18)


@pytest.fixture
def world(monkeypatch):
    return build_invoicing_world(monkeypatch)


def alex(world):
    return world.base.alex


def sam(world):
    return world.base.sam


def state() -> tuple:
    """What a refused request must leave as it was."""
    return (
        ReclaimNotice.objects.count(),
        sorted(ReclaimNotice.objects.values_list("status", "response", "withdrawal_reason")),
        LegitimateReserve.objects.count(),
        LegitimateReserve.objects.filter(released_at__isnull=False).count(),
        Transaction.objects.count(),
        TimelineEntry.objects.filter(kind__startswith="reclaim.").count(),
    )


def problems(response) -> list[tuple[str, str]]:
    return [(error["code"], error["pointer"]) for error in response.json()["errors"]]


def notice_for(world, holder=None, *, stream="ASC", amount=100_000, by="finance", **kwargs) -> ReclaimNotice:
    return reclaim_notice_raise(
        budget_holder=holder or alex(world),
        stream_code=stream,
        amount_minor=amount,
        reason="Unspent for months.",
        by=world.users[by],
        **kwargs,
    )


def reserve_for(world, *, amount=50_000, by="navigator") -> LegitimateReserve:
    return reserve_set(
        budget_holder=alex(world),
        stream=FundingStream.objects.get(code="ASC"),
        amount_minor=amount,
        reason="Holiday pay for the personal assistant.",
        by=world.users[by],
    )


def raise_body(world, **fields) -> dict:
    return {
        "person": alex(world).public_id,
        "stream": "ASC",
        "amount": "1000.00",
        "reason": "Unspent for months.",
        **fields,
    }


def private(response) -> bool:
    return {"private", "no-store"} <= {part.strip() for part in response["Cache-Control"].split(",")}


# Surplus audits -----------------------------------------------------------------------------------------


class TestSurplusAudit:
    def test_finance_sees_each_persons_figures_as_strings(self, world):
        response = world.client("finance").get(SURPLUS.format(code="ASC"))

        assert response.status_code == 200, response.content
        assert private(response)
        data = response.json()
        assert (data["next"], data["previous"]) == (None, None)
        assert data["results"] == [
            {
                "person": alex(world).public_id,
                "person_name": alex(world).full_name,
                "stream": "ASC",
                "currency": "GBP",
                "on": "2026-11-20",
                "period_ends_on": "2027-03-31",
                "available": "9000.00",
                "weekly_equivalent": "250.00",
                "weeks_held": "36.0",
                "threshold_weeks": "8.0",
                "threshold": "2000.00",
                "reserves": "0.00",
                "reclaimable": "7000.00",
                "noticed": "0.00",
                "still_to_notice": "7000.00",
                "weekly_rate": "250.00",
                "surplus_expected_on": None,
                "forecast_explanation": "There is a surplus now.",
            }
        ]

    def test_reserves_and_open_notices_are_taken_off(self, world):
        reserve_for(world, amount=50_000)
        notice_for(world, amount=100_000)

        [row] = world.client("officer_asc").get(SURPLUS.format(code="ASC")).json()["results"]

        assert (row["reserves"], row["reclaimable"], row["noticed"], row["still_to_notice"]) == (
            "500.00",
            "6500.00",
            "1000.00",
            "5500.00",
        )

    def test_an_officer_sees_their_own_agencys_streams_only(self, world):
        client = world.client("officer_atw")
        assert client.get(SURPLUS.format(code="ATW")).status_code == 200
        response = client.get(SURPLUS.format(code="ASC"))
        assert response.status_code == 404
        assert response["Content-Type"] == "application/problem+json"

    @pytest.mark.parametrize(
        "role",
        [
            "holder",
            "other_holder",
            "rep_approve",
            "rep_view",
            "navigator",
            "other_navigator",
            "officer_unrelated",
            "provider_engaged",
            "admin",
        ],
    )
    def test_anyone_else_gets_not_found(self, world, role):
        assert world.client(role).get(SURPLUS.format(code="ASC")).status_code == 404

    def test_a_providers_key_gets_not_found_and_no_credentials_401(self, world):
        assert provider_client("bright-care").get(SURPLUS.format(code="ASC")).status_code == 404
        assert world.client("anonymous").get(SURPLUS.format(code="ASC")).status_code == 401

    def test_an_unknown_stream_is_not_found(self, world):
        assert world.client("finance").get(SURPLUS.format(code="NOPE")).status_code == 404

    def test_paged_by_person_in_a_fixed_number_of_queries(self, world):
        stream = FundingStream.objects.get(code="ASC")

        def add_people(count):
            for _ in range(count):
                personal_budget_create(
                    budget_holder=BudgetHolderFactory(),
                    stream=stream,
                    starts_on=date(2026, 4, 1),
                    ends_on=date(2027, 3, 31),
                    amount_minor=1_300_000,
                    explanation={},
                    created_by=None,
                )

        def queries(client):
            with CaptureQueriesContext(connection) as captured:
                assert client.get(SURPLUS.format(code="ASC"), {"page_size": 3}).status_code == 200
            return len(captured)

        client = world.client("finance")
        add_people(2)
        queries(client)  # the token's first use is recorded once
        few = queries(client)
        add_people(4)
        assert queries(client) == few

        seen, url = [], SURPLUS.format(code="ASC") + "?page_size=3"
        while url:
            page = client.get(url).json()
            assert len(page["results"]) <= 3
            seen += [row["person"] for row in page["results"]]
            url = page["next"]
        assert len(seen) == len(set(seen)) == 7
        assert alex(world).public_id in seen


# Reserves -----------------------------------------------------------------------------------------------


class TestReserves:
    @pytest.mark.parametrize("role", ["navigator", "finance"])
    def test_the_navigator_or_finance_set_one_aside(self, world, role):
        response = world.client(role).post(
            RESERVES.format(per=alex(world).public_id),
            {"stream": "ASC", "amount": "250.00", "reason": "Holiday pay for the PA."},
            format="json",
        )

        assert response.status_code == 201, response.content
        reserve = LegitimateReserve.objects.get()
        assert response.json() == {
            "id": reserve.public_id,
            "person": alex(world).public_id,
            "stream": "ASC",
            "amount": "250.00",
            "currency": "GBP",
            "reason": "Holiday pay for the PA.",
            "entered_by": world.users[role].public_id,
            "created_at": response.json()["created_at"],
            "released": False,
            "released_at": None,
            "released_by": None,
            "release_reason": None,
        }
        assert private(response)
        [row] = world.client("finance").get(SURPLUS.format(code="ASC")).json()["results"]
        assert (row["reserves"], row["reclaimable"]) == ("250.00", "6750.00")

    def test_listed_latest_first_and_open_ones_only_if_asked(self, world):
        first = reserve_for(world, amount=10_000)
        second = reserve_for(world, amount=20_000)
        client = world.client("navigator")
        client.post(RELEASE.format(rsv=first.public_id), {"reason": "Paid."}, format="json")

        everything = client.get(RESERVES.format(per=alex(world).public_id)).json()
        open_only = client.get(RESERVES.format(per=alex(world).public_id), {"open": "true"}).json()

        assert [r["id"] for r in everything["results"]] == [second.public_id, first.public_id]
        assert [r["id"] for r in open_only["results"]] == [second.public_id]

    @pytest.mark.parametrize(
        "role",
        [
            "holder",
            "rep_approve",
            "rep_view",
            "other_holder",
            "other_navigator",
            "officer_asc",
            "provider_engaged",
            "admin",
        ],
    )
    def test_anyone_else_gets_not_found_and_nothing_changes(self, world, role):
        reserve = reserve_for(world)
        client = world.client(role)
        before = state()

        assert client.get(RESERVES.format(per=alex(world).public_id)).status_code == 404
        created = client.post(
            RESERVES.format(per=alex(world).public_id),
            {"stream": "ASC", "amount": "1.00", "reason": "Why"},
            format="json",
        )
        released = client.post(RELEASE.format(rsv=reserve.public_id), {"reason": "Why"}, format="json")

        assert (created.status_code, released.status_code) == (404, 404)
        assert state() == before

    def test_an_unknown_person_or_reserve_is_not_found(self, world):
        client = world.client("finance")
        assert client.get(RESERVES.format(per="per_nobody")).status_code == 404
        assert (
            client.post(RELEASE.format(rsv="rsv_nothing"), {"reason": "Why"}, format="json").status_code
            == 404
        )

    @pytest.mark.parametrize(
        "fields, expected",
        [
            ({"amount": "0.00"}, [("invalid_reserve", "/amount")]),
            ({"amount": "-5.00"}, [("invalid_reserve", "/amount")]),
            ({"amount": "12.345"}, [("invalid_amount", "/amount")]),
            ({"amount": "9000.01"}, [("invalid_reserve", "/amount")]),
            ({"reason": "   "}, [("invalid_reserve", "/reason")]),
            ({"reason": "x" * 501}, [("invalid_reserve", "/reason")]),
            ({"stream": "NOPE"}, [("unknown_stream", "/stream")]),
        ],
    )
    def test_bad_input_is_422_naming_the_field_and_sets_nothing_aside(self, world, fields, expected):
        before = state()
        response = world.client("navigator").post(
            RESERVES.format(per=alex(world).public_id),
            {"stream": "ASC", "amount": "250.00", "reason": "Holiday pay.", **fields},
            format="json",
        )

        assert response.status_code == 422, response.content
        assert response["Content-Type"] == "application/problem+json"
        assert problems(response) == expected
        assert response.json()["detail"]
        assert state() == before

    def test_more_than_the_money_held_says_how_much_may_be_set_aside(self, world):
        reserve_for(world, amount=800_000)
        response = world.client("navigator").post(
            RESERVES.format(per=alex(world).public_id),
            {"stream": "ASC", "amount": "1000.01", "reason": "Repairs."},
            format="json",
        )
        assert response.status_code == 422
        assert "at most 1000.00 more can be set aside" in response.json()["detail"]

    @pytest.mark.parametrize(
        "body", [{"stream": "ASC", "amount": "1.00"}, {"stream": "ASC", "amount": 250, "reason": "Why"}, {}]
    )
    def test_malformed_bodies_are_400(self, world, body):
        before = state()
        response = world.client("navigator").post(
            RESERVES.format(per=alex(world).public_id), body, format="json"
        )
        assert response.status_code == 400
        assert state() == before

    def test_released_with_who_and_why_then_again_is_409(self, world):
        reserve = reserve_for(world)
        client = world.client("finance")

        response = client.post(RELEASE.format(rsv=reserve.public_id), {"reason": "Paid out."}, format="json")

        assert response.status_code == 200, response.content
        data = response.json()
        assert (data["released"], data["released_by"], data["release_reason"]) == (
            True,
            world.users["finance"].public_id,
            "Paid out.",
        )
        assert data["released_at"].endswith("Z")
        before = state()
        again = world.client("navigator").post(
            RELEASE.format(rsv=reserve.public_id), {"reason": "Again."}, format="json"
        )
        assert again.status_code == 409
        assert problems(again) == [("reserve_already_released", "")]
        assert state() == before

    def test_a_release_needs_a_reason(self, world):
        reserve = reserve_for(world)
        before = state()
        blank = world.client("navigator").post(
            RELEASE.format(rsv=reserve.public_id), {"reason": " "}, format="json"
        )
        missing = world.client("navigator").post(RELEASE.format(rsv=reserve.public_id), {}, format="json")
        assert blank.status_code == 422 and problems(blank) == [("invalid_reserve", "/reason")]
        assert missing.status_code == 400
        assert state() == before


# Reclaim notices ----------------------------------------------------------------------------------------


class TestGivingNotice:
    @pytest.mark.parametrize("role", ["finance", "officer_asc"])
    def test_finance_or_the_streams_agency_give_notice(self, world, role, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            response = world.client(role).post(
                RECLAIMS, raise_body(world, reclaim_on="2027-01-08"), format="json"
            )

        assert response.status_code == 201, response.content
        notice = ReclaimNotice.objects.get()
        data = response.json()
        assert data == {
            "id": notice.public_id,
            "person": alex(world).public_id,
            "person_name": alex(world).full_name,
            "stream": "ASC",
            "agency": notice.stream.agency.name,
            "currency": "GBP",
            "amount": "1000.00",
            "reason": "Unspent for months.",
            "status": "notified",
            "notice_given_on": "2026-11-20",
            "reclaim_on": "2027-01-08",
            "raised_by": world.users[role].public_id,
            "raised_at": data["raised_at"],
            "response": None,
            "responded_by": None,
            "responded_at": None,
            "withdrawal_reason": None,
            "withdrawn_by": None,
            "withdrawn_at": None,
            "reclaimed": None,
            "reclaimed_by": None,
            "reclaimed_at": None,
            "ledger_transaction": None,
        }
        assert private(response)
        assert TimelineEntry.objects.filter(budget_holder=alex(world), kind="reclaim.notified").count() == 1
        assert len(mail.outbox) == 1

    def test_the_reclaim_day_is_the_earliest_the_stream_allows_when_left_out(self, world):
        response = world.client("finance").post(RECLAIMS, raise_body(world), format="json")
        assert response.status_code == 201
        assert response.json()["reclaim_on"] == EARLIEST.isoformat()

    @pytest.mark.parametrize("role", ["holder", "rep_approve", "navigator", "provider_engaged", "admin"])
    def test_anyone_but_finance_and_officers_is_refused_and_nothing_changes(self, world, role):
        before = state()
        response = world.client(role).post(RECLAIMS, raise_body(world), format="json")
        assert response.status_code == 403
        assert problems(response) == [("not_allowed_to_reclaim", "")]
        assert state() == before

    def test_another_agencys_officer_may_not_reclaim_its_money(self, world):
        before = state()
        response = world.client("officer_atw").post(RECLAIMS, raise_body(world), format="json")
        assert response.status_code == 403
        assert state() == before

    @pytest.mark.parametrize(
        "fields, expected",
        [
            ({"amount": "0.00"}, [("invalid_reclaim", "/amount")]),
            ({"amount": "7000.01"}, [("invalid_reclaim", "/amount")]),
            ({"amount": "10"}, [("invalid_amount", "/amount")]),
            ({"reason": "  "}, [("invalid_reclaim", "/reason")]),
            ({"reclaim_on": "2026-12-17"}, [("invalid_reclaim", "/reclaim_on")]),
            ({"stream": "NOPE"}, [("unknown_stream", "/stream")]),
            ({"person": "per_nobody"}, [("unknown_person", "/person")]),
            (
                {"person": "per_nobody", "amount": "1.234"},
                [("unknown_person", "/person"), ("invalid_amount", "/amount")],
            ),
        ],
    )
    def test_bad_input_is_422_naming_the_field_and_changes_nothing(self, world, fields, expected):
        before = state()
        response = world.client("finance").post(RECLAIMS, raise_body(world, **fields), format="json")
        assert response.status_code == 422, response.content
        assert problems(response) == expected
        assert state() == before
        assert mail.outbox == []

    def test_a_person_the_stream_does_not_fund_is_unknown(self, world):
        response = world.client("finance").post(
            RECLAIMS, raise_body(world, person=sam(world).public_id), format="json"
        )
        assert response.status_code == 422
        assert problems(response) == [("unknown_person", "/person")]

    def test_more_than_is_left_after_other_notices_names_what_is_left(self, world):
        notice_for(world, amount=650_000)
        response = world.client("finance").post(RECLAIMS, raise_body(world, amount="500.01"), format="json")
        assert response.status_code == 422
        assert response.json()["detail"].startswith("At most £500.00 may be reclaimed")

    @pytest.mark.parametrize(
        "fields",
        [{"reclaim_on": "18/12/2026"}, {"amount": 1000}, {"reason": None}],
    )
    def test_malformed_bodies_are_400(self, world, fields):
        before = state()
        response = world.client("finance").post(RECLAIMS, raise_body(world, **fields), format="json")
        assert response.status_code == 400
        assert state() == before

    def test_the_same_idempotency_key_gives_the_first_answer_and_one_notice(self, world):
        client = world.client("finance")
        first = client.post(RECLAIMS, raise_body(world), format="json", HTTP_IDEMPOTENCY_KEY="notice-1")
        again = client.post(RECLAIMS, raise_body(world), format="json", HTTP_IDEMPOTENCY_KEY="notice-1")
        other = client.post(
            RECLAIMS, raise_body(world, amount="2.00"), format="json", HTTP_IDEMPOTENCY_KEY="notice-1"
        )

        assert (first.status_code, again.status_code, other.status_code) == (201, 201, 422)
        assert again.json() == first.json()
        assert again["Idempotent-Replayed"] == "true"
        assert ReclaimNotice.objects.count() == 1


class TestWhoSeesNotices:
    # Who sees Alex's ASC notice and Sam's DFG notice.
    SEES = {
        "holder": {"alex"},
        "rep_approve": {"alex"},
        "rep_view": {"alex"},
        "navigator": {"alex"},
        "other_holder": {"sam"},
        "other_navigator": {"sam"},
        "officer_asc": {"alex"},
        "finance": {"alex", "sam"},
        "rep_revoked": set(),
        "officer_atw": set(),
        "officer_unrelated": set(),
        "provider_engaged": set(),
        "provider_not_engaged": set(),
        "admin": {"alex", "sam"},
    }

    @pytest.mark.parametrize("role", [role for role in ROLES if role != "anonymous"])
    def test_each_role_lists_and_reads_only_the_notices_it_may_see(self, world, role):
        notices = {"alex": notice_for(world), "sam": notice_for(world, sam(world), stream="DFG", amount=1000)}
        client = world.client(role)

        listed = client.get(RECLAIMS)

        assert listed.status_code == 200
        expected = {notices[name].public_id for name in self.SEES[role]}
        assert {row["id"] for row in listed.json()["results"]} == expected
        for notice in notices.values():
            answer = client.get(NOTICE.format(rcl=notice.public_id))
            assert answer.status_code == (200 if notice.public_id in expected else 404), (role, notice)

    def test_a_providers_key_sees_none_and_no_credentials_is_401(self, world):
        notice = notice_for(world)
        key = provider_client("bright-care")
        assert key.get(RECLAIMS).json()["results"] == []
        assert key.get(NOTICE.format(rcl=notice.public_id)).status_code == 404
        assert world.client("anonymous").get(RECLAIMS).status_code == 401

    def test_filtered_by_stream_person_and_status(self, world):
        asc = notice_for(world)
        dfg = notice_for(world, sam(world), stream="DFG", amount=1000)
        withdrawn = notice_for(world, amount=2000)
        withdrawn.status = ReclaimStatus.WITHDRAWN
        withdrawn.save()
        client = world.client("finance")

        def ids(**params):
            return [row["id"] for row in client.get(RECLAIMS, params).json()["results"]]

        assert ids() == [withdrawn.public_id, dfg.public_id, asc.public_id]
        assert ids(stream="DFG") == [dfg.public_id]
        assert ids(person=alex(world).public_id) == [withdrawn.public_id, asc.public_id]
        assert ids(status="withdrawn") == [withdrawn.public_id]
        assert ids(stream="ASC", status="notified") == [asc.public_id]


class TestResponding:
    @pytest.mark.parametrize("role", ["holder", "rep_approve"])
    def test_the_budget_holder_or_an_approving_representative_replies(self, world, role):
        notice = notice_for(world)
        response = world.client(role).post(
            NOTICE.format(rcl=notice.public_id) + "respond/",
            {"response": "I am saving for a wheelchair."},
            format="json",
        )
        assert response.status_code == 200, response.content
        data = response.json()
        assert (data["status"], data["response"], data["responded_by"]) == (
            "responded",
            "I am saving for a wheelchair.",
            world.users[role].public_id,
        )

    @pytest.mark.parametrize("role", ["rep_view", "navigator", "finance", "officer_asc", "admin"])
    def test_who_sees_it_but_may_not_reply_is_403(self, world, role):
        notice = notice_for(world)
        before = state()
        response = world.client(role).post(
            NOTICE.format(rcl=notice.public_id) + "respond/", {"response": "No."}, format="json"
        )
        assert response.status_code == 403
        assert problems(response) == [("not_allowed_to_respond", "")]
        assert state() == before

    @pytest.mark.parametrize("role", ["other_holder", "rep_revoked", "officer_atw", "provider_engaged"])
    def test_who_may_not_see_it_gets_404(self, world, role):
        notice = notice_for(world)
        before = state()
        response = world.client(role).post(
            NOTICE.format(rcl=notice.public_id) + "respond/", {"response": "No."}, format="json"
        )
        assert response.status_code == 404
        assert state() == before

    def test_an_empty_reply_is_422_and_a_missing_one_400(self, world):
        notice = notice_for(world)
        before = state()
        client = world.client("holder")
        blank = client.post(
            NOTICE.format(rcl=notice.public_id) + "respond/", {"response": " "}, format="json"
        )
        missing = client.post(NOTICE.format(rcl=notice.public_id) + "respond/", {}, format="json")
        assert blank.status_code == 422 and problems(blank) == [("invalid_reclaim", "/response")]
        assert missing.status_code == 400
        assert state() == before

    def test_a_withdrawn_notice_takes_no_reply(self, world):
        notice = notice_for(world)
        world.client("finance").post(
            NOTICE.format(rcl=notice.public_id) + "withdraw/", {"reason": "Spent."}, format="json"
        )
        before = state()
        response = world.client("holder").post(
            NOTICE.format(rcl=notice.public_id) + "respond/", {"response": "Thanks."}, format="json"
        )
        assert response.status_code == 409
        assert problems(response) == [("reclaim_state_conflict", "")]
        assert state() == before


class TestWithdrawing:
    @pytest.mark.parametrize("role", ["finance", "officer_asc"])
    def test_finance_or_the_agency_withdraw_with_a_reason(self, world, role):
        notice = notice_for(world)
        response = world.client(role).post(
            NOTICE.format(rcl=notice.public_id) + "withdraw/",
            {"reason": "The money is needed."},
            format="json",
        )
        assert response.status_code == 200, response.content
        data = response.json()
        assert (data["status"], data["withdrawal_reason"], data["withdrawn_by"]) == (
            "withdrawn",
            "The money is needed.",
            world.users[role].public_id,
        )
        again = world.client(role).post(
            NOTICE.format(rcl=notice.public_id) + "withdraw/", {"reason": "Again."}, format="json"
        )
        assert again.status_code == 409

    @pytest.mark.parametrize(
        "role, status_code",
        [
            ("holder", 403),
            ("navigator", 403),
            ("admin", 403),
            ("officer_atw", 404),
            ("provider_engaged", 404),
        ],
    )
    def test_anyone_else_may_not(self, world, role, status_code):
        notice = notice_for(world)
        before = state()
        response = world.client(role).post(
            NOTICE.format(rcl=notice.public_id) + "withdraw/", {"reason": "No."}, format="json"
        )
        assert response.status_code == status_code
        assert state() == before

    def test_a_reason_is_needed(self, world):
        notice = notice_for(world)
        before = state()
        response = world.client("finance").post(
            NOTICE.format(rcl=notice.public_id) + "withdraw/", {"reason": ""}, format="json"
        )
        assert response.status_code == 422
        assert problems(response) == [("invalid_reclaim", "/reason")]
        assert state() == before


class TestReclaiming:
    def post(self, world, notice, role="finance", **body):
        return world.client(role).post(NOTICE.format(rcl=notice.public_id) + "post/", body, format="json")

    def test_not_before_the_day_then_reclaimed_once_however_often_asked(self, world):
        notice = notice_for(world)
        before = state()
        early = self.post(world, notice)
        assert early.status_code == 409
        assert early.json()["detail"].startswith("The notice runs until 18 December 2026")
        assert state() == before

        world.clock.today = EARLIEST
        done = self.post(world, notice)
        again = self.post(world, notice, role="officer_asc")

        assert done.status_code == 200, done.content
        data = done.json()
        assert (data["status"], data["reclaimed"], data["reclaimed_by"]) == (
            "reclaimed",
            "1000.00",
            world.users["finance"].public_id,
        )
        assert data["ledger_transaction"].startswith("txn_")
        assert again.status_code == 200 and again.json() == data
        assert Transaction.objects.filter(metadata__kind="surplus_reclaim").count() == 1

    def test_less_than_the_notice_but_never_more(self, world):
        notice = notice_for(world)
        world.clock.today = EARLIEST
        before = state()
        more = self.post(world, notice, amount="1000.01")
        assert more.status_code == 422 and problems(more) == [("invalid_reclaim", "/amount")]
        bad = self.post(world, notice, amount="ten")
        assert bad.status_code == 422 and problems(bad) == [("invalid_amount", "/amount")]
        assert state() == before
        less = self.post(world, notice, amount="400.00")
        assert less.status_code == 200 and less.json()["reclaimed"] == "400.00"

    def test_a_withdrawn_notice_reclaims_nothing(self, world):
        notice = notice_for(world)
        self_client = world.client("finance")
        self_client.post(
            NOTICE.format(rcl=notice.public_id) + "withdraw/", {"reason": "Spent."}, format="json"
        )
        world.clock.today = EARLIEST
        before = state()
        response = self.post(world, notice)
        assert response.status_code == 409
        assert state() == before

    @pytest.mark.parametrize(
        "role, status_code",
        [
            ("holder", 403),
            ("admin", 403),
            ("rep_approve", 403),
            ("navigator", 403),
            ("officer_atw", 404),
            ("other_holder", 404),
            ("provider_engaged", 404),
        ],
    )
    def test_anyone_else_may_not(self, world, role, status_code):
        notice = notice_for(world)
        world.clock.today = EARLIEST
        before = state()
        assert self.post(world, notice, role=role).status_code == status_code
        assert state() == before
