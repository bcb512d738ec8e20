"""The plans API: the shape of each answer, what each kind of viewer sees of a version, the whole workflow
through the API, every kind of error, and bounded query counts. Who may call what is
`test_plans_permissions.py`; the world is `tests.api.plans_world`."""

import json
from datetime import date
from decimal import Decimal

import pytest
from django.db import transaction

from budgets.models import PersonalBudget, PersonalBudgetStatus
from people.models import BudgetHolder
from plans.models import PlanVersion, PlanVersionStatus
from plans.services import workflow
from tests.api.plans_world import CHANGE_ON, World, build_world, client_for, install_clock
from tests.budgets.factories import FundingStreamFactory
from tests.people.factories import (
    AgencyOfficerFactory,
    BudgetHolderFactory,
    FinanceOfficerFactory,
    NavigatorFactory,
)
from tests.plans.factories import (
    OutcomeFactory,
    PlanVersionFactory,
    StreamApprovalFactory,
    SupportItemFactory,
    demo_catalogue,
    officer_of,
)

pytestmark = pytest.mark.django_db

PEOPLE = "/api/v1/people/"


@pytest.fixture(scope="module")
def shared_world(django_db_setup, django_db_blocker):
    """One world for the module, rolled back at the end; each test runs in a savepoint inside it."""
    with pytest.MonkeyPatch.context() as monkeypatch, django_db_blocker.unblock():
        install_clock(monkeypatch)
        with transaction.atomic():
            yield build_world()
            transaction.set_rollback(True)


@pytest.fixture
def clock(monkeypatch):
    return install_clock(monkeypatch)


@pytest.fixture
def world(shared_world, db, clock) -> World:
    return shared_world


def version_url(version: PlanVersion | str) -> str:
    public_id = version if isinstance(version, str) else version.public_id
    return f"/api/v1/plan-versions/{public_id}/"


def problems(response) -> list[tuple[str, str]]:
    return [(error["code"], error["pointer"]) for error in response.json()["errors"]]


# People -------------------------------------------------------------------------------------------------


class TestPeople:
    def test_one_person(self, world):
        navigator = world.users["navigator"]

        response = world.client("navigator").get(f"{PEOPLE}{world.alex.public_id}/")

        assert response.status_code == 200
        assert response.json() == {
            "id": world.alex.public_id,
            "name": "Alex",
            "navigator": {"id": navigator.public_id, "name": navigator.get_full_name()},
        }

    def test_the_list_is_cursor_paginated(self, world):
        client = world.client("finance")

        first = client.get(PEOPLE, {"page_size": 1})
        assert first.status_code == 200
        assert set(first.json()) == {"results", "next", "previous"}
        assert len(first.json()["results"]) == 1
        second = client.get(first.json()["next"])

        assert second.status_code == 200
        assert second.json()["results"][0]["id"] != first.json()["results"][0]["id"]

    def test_a_person_without_a_navigator(self, world):
        holder = BudgetHolderFactory(navigator=None, preferred_name="Kim")

        response = client_for(holder.user).get(f"{PEOPLE}{holder.public_id}/")

        assert response.json()["navigator"] is None
        assert response.json()["name"] == "Kim"


# The plan -----------------------------------------------------------------------------------------------


class TestPlan:
    def test_the_plan_and_its_versions_newest_first(self, world):
        response = world.client("holder").get(f"{PEOPLE}{world.alex.public_id}/plan/")

        assert response.status_code == 200
        assert response.json() == {
            "id": world.v1.plan.public_id,
            "person": world.alex.public_id,
            "versions": [
                {
                    "id": world.v2.public_id,
                    "number": 2,
                    "status": "draft",
                    "starts_on": "2026-04-01",
                    "ends_on": "2027-03-31",
                    "effective_from": "2026-10-01",
                    "review_due_on": None,
                },
                {
                    "id": world.v1.public_id,
                    "number": 1,
                    "status": "active",
                    "starts_on": "2026-04-01",
                    "ends_on": "2027-03-31",
                    "effective_from": "2026-04-01",
                    "review_due_on": world.v1.review_due_on.isoformat(),
                },
            ],
            "active_version": world.v1.public_id,
        }

    def test_a_provider_sees_only_the_active_version(self, world):
        response = world.client("provider_engaged").get(f"{PEOPLE}{world.alex.public_id}/plan/")

        assert [version["id"] for version in response.json()["versions"]] == [world.v1.public_id]
        assert response.json()["active_version"] == world.v1.public_id

    def test_an_agency_sees_the_versions_its_streams_fund(self, world):
        response = world.client("officer_atw").get(f"{PEOPLE}{world.alex.public_id}/plan/")

        assert [version["number"] for version in response.json()["versions"]] == [2, 1]

    def test_a_person_without_a_plan_has_none(self, world):
        holder = BudgetHolderFactory(navigator=world.users["navigator"])

        response = world.client("navigator").get(f"{PEOPLE}{holder.public_id}/plan/")

        assert response.status_code == 404


# One version, as each viewer sees it ------------------------------------------------------------------------


DETAIL_KEYS = {
    "id",
    "plan",
    "person",
    "number",
    "status",
    "based_on",
    "period",
    "effective_from",
    "summary",
    "change_reason",
    "review_due_on",
    "agreed_at",
    "activated_at",
    "outcomes",
    "support_items",
    "cash_equivalent",
    "stream_approvals",
}


def _items(body) -> dict[str, dict]:
    return {item["id"]: item for item in body["support_items"]}


class TestVersionInFull:
    def test_everything(self, world):
        response = world.client("rep_view").get(version_url(world.v1))

        assert response.status_code == 200
        body = response.json()
        assert set(body) == DETAIL_KEYS
        assert body["period"] == {"start": "2026-04-01", "end": "2027-03-31"}
        assert body["status"] == "active"
        assert body["summary"] == "I want my own flat and a job."
        care = _items(body)[world.items["care"].public_id]
        assert care == {
            "id": world.items["care"].public_id,
            "service_code": "ASC-PC",
            "stream": "ASC",
            "description": "Personal care",
            "unit": "hour",
            "unit_cost": "24.50",
            "quantity": "14.00",
            "per": "week",
            "split": {"cap": {"stream": "ASC", "amount": "250.00", "per": "week"}, "rest": "ILF"},
            "provider": {"id": care["provider"]["id"], "name": "Bright Care"},
            "agreed_rate": "24.50",
            "outcomes": [world.outcomes["flat"].public_id],
            "currency": "GBP",
        }
        flat = body["outcomes"][0]
        assert flat["in_own_words"] == "Live in my own flat"
        assert flat["support_items"] == [world.items["care"].public_id]
        assert [(s["who"], s["what"], s["how_often"]) for s in flat["informal_support"]] == [
            ("My sister Jo", "Shopping", "Weekly")
        ]

    def test_money_adds_up_and_matches_the_approvals(self, world):
        body = world.client("finance").get(version_url(world.v1)).json()

        cash = body["cash_equivalent"]
        assert [stream["stream"] for stream in cash["streams"]] == ["ASC", "ATW", "ILF"]
        total = sum(Decimal(stream["amount"]) for stream in cash["streams"])
        assert Decimal(cash["total"]) == total
        approved = {a["stream"]: a["amount"] for a in body["stream_approvals"]}
        assert approved == {stream["stream"]: stream["amount"] for stream in cash["streams"]}
        assert all(a["status"] == "approved" and a["round"] == 1 for a in body["stream_approvals"])
        assert {a["decided_by"]["id"] for a in body["stream_approvals"]} == {
            world.officers[code].public_id for code in ("ASC", "ILF", "ATW")
        }

    def test_a_change_keeps_the_ids_of_what_it_copies(self, world):
        older = world.client("navigator").get(version_url(world.v1)).json()

        newer = world.client("navigator").get(version_url(world.v2)).json()

        assert newer["based_on"] == world.v1.public_id
        assert newer["status"] == "draft"
        assert newer["effective_from"] == CHANGE_ON.isoformat()
        assert newer["change_reason"] == "A new job from October."
        assert [o["id"] for o in newer["outcomes"]] == [o["id"] for o in older["outcomes"]]
        assert list(_items(newer)) == list(_items(older))
        assert newer["stream_approvals"] == []

    def test_a_version_without_items_has_no_cash_equivalent_yet(self, world, clock):
        navigator = NavigatorFactory()
        holder = BudgetHolderFactory(navigator=navigator)
        client = client_for(navigator)
        created = client.post(
            f"{PEOPLE}{holder.public_id}/plan/versions/",
            {"starts_on": "2026-04-01", "ends_on": "2027-03-31"},
            format="json",
        )

        assert created.status_code == 201
        assert created.json()["cash_equivalent"] is None
        assert created.json()["support_items"] == []


class TestVersionForAnAgency:
    def test_its_own_streams_money_only_and_the_whole_story(self, world):
        body = world.client("officer_asc").get(version_url(world.v1)).json()

        assert list(_items(body)) == [world.items["care"].public_id]
        assert [stream["stream"] for stream in body["cash_equivalent"]["streams"]] == ["ASC"]
        assert body["cash_equivalent"]["total"] == body["cash_equivalent"]["streams"][0]["amount"]
        assert [approval["stream"] for approval in body["stream_approvals"]] == ["ASC"]
        # The person's story is shared with every agency that funds them.
        assert body["summary"] == "I want my own flat and a job."
        assert [o["in_own_words"] for o in body["outcomes"]] == ["Live in my own flat", "Get a paid job"]
        assert body["outcomes"][0]["informal_support"][0]["who"] == "My sister Jo"
        # ...but not which items of other agencies serve it.
        assert body["outcomes"][1]["support_items"] == []

    def test_nothing_of_another_agencys_money(self, world):
        full = world.client("finance").get(version_url(world.v1)).json()
        amounts = {s["stream"]: s["amount"] for s in full["cash_equivalent"]["streams"]}

        body = world.client("officer_atw").get(version_url(world.v1)).json()

        text = json.dumps(body)
        assert "ASC" not in text and "ILF" not in text
        assert amounts["ASC"] not in text and amounts["ILF"] not in text
        assert full["cash_equivalent"]["total"] not in text
        assert set(_items(body)) == {world.items["work"].public_id, world.items["taxi"].public_id}
        assert body["cash_equivalent"]["total"] == amounts["ATW"]

    def test_an_agency_that_pays_the_rest_of_a_split_sees_that_item(self, world):
        officer = officer_of(world.officers["ILF"].organisation.funding_streams.get())

        body = client_for(officer).get(version_url(world.v1)).json()

        assert list(_items(body)) == [world.items["care"].public_id]
        assert [stream["stream"] for stream in body["cash_equivalent"]["streams"]] == ["ILF"]
        assert [approval["stream"] for approval in body["stream_approvals"]] == ["ILF"]


class TestVersionForAProvider:
    def test_only_its_items_and_the_outcomes_they_serve_and_no_money(self, world):
        body = world.client("provider_engaged").get(version_url(world.v1)).json()

        assert set(body) == DETAIL_KEYS
        assert list(_items(body)) == [world.items["care"].public_id]
        care = _items(body)[world.items["care"].public_id]
        assert care["agreed_rate"] == "24.50"
        assert care["stream"] is None and care["split"] is None
        assert body["cash_equivalent"] is None
        assert body["stream_approvals"] == []
        assert body["summary"] is None and body["change_reason"] is None
        assert [(o["in_own_words"], o["informal_support"]) for o in body["outcomes"]] == [
            ("Live in my own flat", [])
        ]


# The workflow through the API -----------------------------------------------------------------------------


@pytest.fixture
def fresh(clock):
    """The demo catalogue, a person, their navigator and an approving representative, and nothing else."""
    streams = demo_catalogue()
    navigator = NavigatorFactory()
    holder = BudgetHolderFactory(navigator=navigator, preferred_name="Robin")
    return {
        "holder": holder,
        "navigator": client_for(navigator),
        "person": client_for(holder.user),
        "officers": {code: client_for(officer_of(streams[code])) for code in ("ASC", "ILF", "ATW")},
    }


def _draft_through_the_api(fresh) -> dict:
    navigator = fresh["navigator"]
    started = navigator.post(
        f"{PEOPLE}{fresh['holder'].public_id}/plan/versions/",
        {"starts_on": "2026-04-01", "ends_on": "2027-03-31", "summary": "I want to work."},
        format="json",
    )
    assert started.status_code == 201, started.content
    plv = started.json()["id"]
    assert started.json()["status"] == "draft" and started.json()["number"] == 1

    outcome = navigator.post(
        version_url(plv) + "outcomes/",
        {"in_own_words": "Get a paid job", "success_looks_like": "A contract"},
        format="json",
    )
    assert outcome.status_code == 201, outcome.content
    out = outcome.json()["id"]
    assert outcome.json() == {
        "id": out,
        "in_own_words": "Get a paid job",
        "success_looks_like": "A contract",
        "informal_support": [],
        "support_items": [],
    }
    informal = fresh["person"].post(
        version_url(plv) + "informal-support/",
        {"outcome": out, "who": "My dad", "what": "Drives me to interviews", "how_often": "When needed"},
        format="json",
    )
    assert informal.status_code == 201, informal.content
    assert informal.json()["outcome"] == out

    care = navigator.post(
        version_url(plv) + "items/",
        {
            "service_code": "ASC-PC",
            "quantity": "14",
            "per": "week",
            "split": {"cap": {"stream": "ASC", "amount": "250.00", "per": "week"}, "rest": "ILF"},
            "outcomes": [out],
        },
        format="json",
    )
    assert care.status_code == 201, care.content
    coach = navigator.post(
        version_url(plv) + "items/",
        {
            "stream": "ATW",
            "description": "Job coach",
            "unit": "hour",
            "unit_cost": "30.00",
            "quantity": "2",
            "per": "week",
            "outcomes": [out],
            "provider": _provider_id("able-assist"),
            "agreed_rate": "29.50",
        },
        format="json",
    )
    assert coach.status_code == 201, coach.content
    assert coach.json() | {"id": None, "provider": None} == {
        "id": None,
        "service_code": None,
        "stream": "ATW",
        "description": "Job coach",
        "unit": "hour",
        "unit_cost": "30.00",
        "quantity": "2.00",
        "per": "week",
        "split": None,
        "provider": None,
        "agreed_rate": "29.50",
        "outcomes": [out],
        "currency": "GBP",
    }
    assert coach.json()["provider"]["name"] == "Able Assist"
    return {"plv": plv, "out": out, "care": care.json()["id"], "coach": coach.json()["id"]}


def _provider_id(slug: str) -> str:
    from people.models import Organisation

    return Organisation.objects.get(slug=slug).public_id


class TestWorkflow:
    def test_start_write_agree_and_approve_every_stream_makes_it_active(self, fresh):
        ids = _draft_through_the_api(fresh)
        plv = ids["plv"]

        agreed = fresh["person"].post(version_url(plv) + "agree/")
        assert agreed.status_code == 200, agreed.content
        assert agreed.json()["status"] == "agreed"
        assert [(a["stream"], a["status"]) for a in agreed.json()["stream_approvals"]] == [
            ("ASC", "pending"),
            ("ATW", "pending"),
            ("ILF", "pending"),
        ]
        for code in ("ASC", "ATW"):
            approved = fresh["officers"][code].post(version_url(plv) + f"streams/{code}/approve/")
            assert approved.status_code == 200, approved.content
            assert approved.json()["status"] == "agreed"
            assert [(a["stream"], a["status"]) for a in approved.json()["stream_approvals"]] == [
                (code, "approved")
            ]
        last = fresh["officers"]["ILF"].post(version_url(plv) + "streams/ILF/approve/")

        assert last.status_code == 200, last.content
        assert last.json()["status"] == "active"
        plan = fresh["person"].get(f"{PEOPLE}{fresh['holder'].public_id}/plan/").json()
        assert plan["active_version"] == plv
        budgets = PersonalBudget.objects.filter(
            budget_holder=fresh["holder"], status=PersonalBudgetStatus.ACTIVE
        ).values_list("stream__code", flat=True)
        assert sorted(budgets) == ["ASC", "ATW", "ILF"]

    def test_a_return_sends_it_back_to_draft_and_it_can_be_agreed_again(self, fresh):
        ids = _draft_through_the_api(fresh)
        plv = ids["plv"]
        assert fresh["person"].post(version_url(plv) + "agree/").status_code == 200
        assert fresh["officers"]["ATW"].post(version_url(plv) + "streams/ATW/approve/").status_code == 200

        returned = fresh["officers"]["ASC"].post(
            version_url(plv) + "streams/ASC/return/", {"reason": "Fewer hours, please."}, format="json"
        )

        assert returned.status_code == 200, returned.content
        assert returned.json()["status"] == "draft"
        full = fresh["navigator"].get(version_url(plv)).json()
        assert [(a["stream"], a["status"], a["reason"]) for a in full["stream_approvals"]] == [
            ("ASC", "returned", "Fewer hours, please."),
            ("ATW", "cancelled", "ASC returned the plan for changes."),
            ("ILF", "cancelled", "ASC returned the plan for changes."),
        ]
        changed = fresh["navigator"].patch(
            version_url(plv) + f"items/{ids['care']}/", {"quantity": "12"}, format="json"
        )
        assert changed.status_code == 200, changed.content
        assert changed.json()["quantity"] == "12.00"
        again = fresh["person"].post(version_url(plv) + "agree/")
        assert again.status_code == 200
        assert {a["round"] for a in again.json()["stream_approvals"] if a["status"] == "pending"} == {2}

    def test_an_empty_return_reason_is_refused(self, fresh):
        ids = _draft_through_the_api(fresh)
        fresh["person"].post(version_url(ids["plv"]) + "agree/")

        response = fresh["officers"]["ASC"].post(
            version_url(ids["plv"]) + "streams/ASC/return/", {"reason": "  "}, format="json"
        )

        assert response.status_code == 422
        assert response.json()["errors"][0]["code"] == "reason_required"

    def test_drafting_removes_what_it_added(self, fresh):
        ids = _draft_through_the_api(fresh)
        url = version_url(ids["plv"])
        informal = fresh["navigator"].get(url).json()["outcomes"][0]["informal_support"][0]["id"]

        assert fresh["navigator"].delete(url + f"items/{ids['coach']}/").status_code == 204
        assert fresh["navigator"].delete(url + f"informal-support/{informal}/").status_code == 204
        in_use = fresh["navigator"].delete(url + f"outcomes/{ids['out']}/")
        assert in_use.status_code == 409
        assert in_use.json()["errors"][0]["code"] == "outcome_in_use"
        assert fresh["navigator"].delete(url + f"items/{ids['care']}/").status_code == 204
        assert fresh["navigator"].delete(url + f"outcomes/{ids['out']}/").status_code == 204

        body = fresh["navigator"].get(url).json()
        assert body["outcomes"] == [] and body["support_items"] == []

    def test_an_outcome_is_changed_in_the_persons_words(self, fresh):
        ids = _draft_through_the_api(fresh)

        response = fresh["person"].patch(
            version_url(ids["plv"]) + f"outcomes/{ids['out']}/",
            {"in_own_words": "Work in a bakery"},
            format="json",
        )

        assert response.status_code == 200, response.content
        assert response.json()["in_own_words"] == "Work in a bakery"
        assert response.json()["success_looks_like"] == "A contract"
        assert response.json()["support_items"] == [ids["care"], ids["coach"]]


class TestChangeCompareAndWithdraw:
    def test_a_change_compared_with_the_active_version(self, world):
        client = world.client("navigator")
        work = world.items["work"].public_id
        client.patch(version_url(world.v2) + f"items/{work}/", {"quantity": "10"}, format="json")
        client.delete(version_url(world.v2) + f"items/{world.items['taxi'].public_id}/")

        response = client.get(version_url(world.v2) + "compare/")

        assert response.status_code == 200, response.content
        body = response.json()
        assert body["older"] == world.v1.public_id and body["newer"] == world.v2.public_id
        assert body["money_from"] == CHANGE_ON.isoformat()
        assert [item["id"] for item in body["support_items"]["removed"]] == [world.items["taxi"].public_id]
        [changed] = body["support_items"]["changed"]
        assert changed["id"] == work
        quantity = next(c for c in changed["changes"] if c["field"] == "quantity")
        assert (quantity["older"], quantity["newer"]) == ("6", "10")
        money = {m["stream"]: m for m in body["money"]}
        assert set(money) == {"ASC", "ATW", "ILF"}
        assert money["ASC"]["difference"] == "0.00"
        assert Decimal(money["ATW"]["difference"]) == Decimal(money["ATW"]["newer"]) - Decimal(
            money["ATW"]["older"]
        )

    def test_an_agency_compares_only_its_own_items_and_money(self, world):
        navigator = world.client("navigator")
        navigator.patch(
            version_url(world.v2) + f"items/{world.items['work'].public_id}/",
            {"quantity": "10"},
            format="json",
        )
        navigator.patch(
            version_url(world.v2) + f"items/{world.items['care'].public_id}/",
            {"quantity": "16"},
            format="json",
        )

        body = world.client("officer_atw").get(version_url(world.v2) + "compare/").json()

        assert [c["id"] for c in body["support_items"]["changed"]] == [world.items["work"].public_id]
        assert [m["stream"] for m in body["money"]] == ["ATW"]
        asc = world.client("officer_asc").get(version_url(world.v2) + "compare/").json()
        [care] = asc["support_items"]["changed"]
        # ASC pays only up to its cap of the split item: its whole cost includes ILF's money.
        assert {c["field"] for c in care["changes"]} == {"quantity"}
        assert [m["stream"] for m in asc["money"]] == ["ASC"]

    def test_start_a_change_from_the_active_version(self, world):
        workflow.plan_version_withdraw(version=world.v2, by=world.users["navigator"], reason="Not needed.")

        response = world.client("navigator").post(
            f"{PEOPLE}{world.alex.public_id}/plan/versions/",
            {"based_on": world.v1.public_id, "effective_from": "2026-11-01", "change_reason": "More hours."},
            format="json",
        )

        assert response.status_code == 201, response.content
        assert response.json()["number"] == 3
        assert response.json()["based_on"] == world.v1.public_id
        assert response.json()["effective_from"] == "2026-11-01"

    def test_another_version_in_progress_is_a_conflict(self, world):
        response = world.client("navigator").post(
            f"{PEOPLE}{world.alex.public_id}/plan/versions/",
            {"based_on": world.v1.public_id, "effective_from": "2026-11-01", "change_reason": "More hours."},
            format="json",
        )

        assert response.status_code == 409
        assert response.json()["errors"][0]["code"] == "plan_version_in_progress"

    def test_withdraw(self, world):
        response = world.client("navigator").post(
            version_url(world.v2) + "withdraw/", {"reason": "Alex changed their mind."}, format="json"
        )

        assert response.status_code == 200
        assert response.json()["status"] == "withdrawn"
        # A withdrawn version is no agency's business any more.
        assert world.client("officer_atw").get(version_url(world.v2)).status_code == 404
        assert world.client("holder").get(version_url(world.v2)).status_code == 200


class TestReviews:
    def test_record_a_review_and_read_it(self, world, clock):
        clock.today = date(2026, 7, 1)
        flat, job = world.outcomes["flat"].public_id, world.outcomes["job"].public_id

        created = world.client("navigator").post(
            version_url(world.v1) + "reviews/",
            {
                "held_on": "2026-06-30",
                "notes": "Going well.",
                "progress": [
                    {"outcome": flat, "progress": "some_progress", "note": "Viewing flats"},
                    {"outcome": job, "progress": "achieved"},
                ],
                "next_review_on": "2027-01-15",
            },
            format="json",
        )

        assert created.status_code == 201, created.content
        review = created.json()
        assert review["held_on"] == "2026-06-30"
        assert review["held_by"]["id"] == world.users["navigator"].public_id
        assert review["next_review_on"] == "2027-01-15"
        assert sorted((p["outcome"], p["progress"], p["note"]) for p in review["progress"]) == sorted(
            [(flat, "some_progress", "Viewing flats"), (job, "achieved", "")]
        )
        listed = world.client("rep_view").get(version_url(world.v1) + "reviews/")
        assert listed.status_code == 200
        assert listed.json() == {"results": [review], "next": None, "previous": None}
        assert world.client("holder").get(version_url(world.v1)).json()["review_due_on"] == "2027-01-15"

    def test_every_outcome_needs_a_rating(self, world, clock):
        clock.today = date(2026, 7, 1)

        response = world.client("navigator").post(
            version_url(world.v1) + "reviews/",
            {
                "held_on": "2026-06-30",
                "notes": "",
                "progress": [{"outcome": world.outcomes["flat"].public_id, "progress": "achieved"}],
            },
            format="json",
        )

        assert response.status_code == 422
        assert ("progress_missing", "/progress") in problems(response)

    def test_an_unknown_rating_is_malformed(self, world, clock):
        response = world.client("navigator").post(
            version_url(world.v1) + "reviews/",
            {
                "held_on": "2026-03-01",
                "notes": "",
                "progress": [{"outcome": world.outcomes["flat"].public_id, "progress": "brilliant"}],
            },
            format="json",
        )

        assert response.status_code == 400
        assert problems(response) == [("invalid_choice", "/progress/0/progress")]

    def test_the_person_brings_the_review_forward(self, world):
        response = world.client("holder").post(
            version_url(world.v1) + "review-due/",
            {"due_on": "2026-04-20", "reason": "I got a job."},
            format="json",
        )

        assert response.status_code == 200, response.content
        assert response.json()["review_due_on"] == "2026-04-20"

    def test_a_review_is_only_brought_forward(self, world):
        response = world.client("holder").post(
            version_url(world.v1) + "review-due/", {"due_on": "2026-12-01", "reason": "Later."}, format="json"
        )

        assert response.status_code == 422
        assert problems(response) == [("review_not_sooner", "/due_on")]


# Bad requests ---------------------------------------------------------------------------------------------


class TestBadRequests:
    def test_a_first_draft_and_a_change_at_once(self, world):
        response = world.client("navigator").post(
            f"{PEOPLE}{world.alex.public_id}/plan/versions/",
            {"starts_on": "2026-04-01", "ends_on": "2027-03-31", "based_on": world.v1.public_id},
            format="json",
        )

        assert response.status_code == 400
        assert response["Content-Type"] == "application/problem+json"
        assert problems(response) == [("version_ambiguous", "")]

    def test_a_change_missing_its_reason_and_day(self, world):
        response = world.client("navigator").post(
            f"{PEOPLE}{world.alex.public_id}/plan/versions/", {"based_on": world.v1.public_id}, format="json"
        )

        assert response.status_code == 400
        assert sorted(problems(response)) == [("required", "/change_reason"), ("required", "/effective_from")]

    def test_numbers_must_be_strings(self, world):
        response = world.client("navigator").post(
            version_url(world.v2) + "items/",
            {"service_code": "ASC-DAY", "quantity": 1, "per": "fortnight", "outcomes": "out_x"},
            format="json",
        )

        assert response.status_code == 400
        assert sorted(problems(response)) == [
            ("invalid_choice", "/per"),
            ("not_a_list", "/outcomes"),
            ("not_a_string", "/quantity"),
        ]

    def test_references_and_money_are_checked_all_at_once(self, world):
        response = world.client("navigator").post(
            version_url(world.v2) + "items/",
            {
                "service_code": "ASC-DAY",
                "quantity": "1",
                "per": "week",
                "outcomes": [world.outcomes["flat"].public_id, "out_nothing"],
                "provider": "pro_nobody",
                "agreed_rate": "24.5",
            },
            format="json",
        )

        assert response.status_code == 422
        assert problems(response) == [
            ("unknown_outcome", "/outcomes/1"),
            ("unknown_provider", "/provider"),
            ("invalid_amount", "/agreed_rate"),
        ]
        assert response.json()["type"].endswith("/support_item_invalid")

    def test_the_services_rules_come_through_with_pointers(self, world):
        agency = world.officers["ASC"].organisation.public_id

        response = world.client("navigator").post(
            version_url(world.v2) + "items/",
            {"service_code": "NOPE-1", "quantity": "1", "per": "week", "outcomes": [], "provider": agency},
            format="json",
        )

        assert response.status_code == 422
        codes = problems(response)
        assert ("outcome_required", "/outcomes") in codes
        assert ("not_a_provider", "/provider") in codes
        assert any(pointer == "/service_code" for _, pointer in codes)

    def test_informal_support_for_an_unknown_outcome(self, world):
        response = world.client("holder").post(
            version_url(world.v2) + "informal-support/",
            {"outcome": "out_nothing", "who": "Jo", "what": "Lifts"},
            format="json",
        )

        assert response.status_code == 422
        assert problems(response) == [("unknown_outcome", "/outcome")]

    def test_only_a_draft_is_changed(self, world):
        response = world.client("navigator").post(
            version_url(world.v1) + "outcomes/", {"in_own_words": "Too late"}, format="json"
        )

        assert response.status_code == 409
        assert response.json()["errors"][0]["code"] == "plan_version_not_draft"

    def test_agreeing_twice_is_a_conflict(self, world):
        client = world.client("holder")
        assert client.post(version_url(world.v2) + "agree/").status_code == 200

        response = client.post(version_url(world.v2) + "agree/")

        assert response.status_code == 409

    def test_approving_a_draft_is_a_conflict(self, world):
        response = world.client("officer_asc").post(version_url(world.v2) + "streams/ASC/approve/")

        assert response.status_code == 409
        assert response.json()["errors"][0]["code"] == "plan_version_not_agreed"

    def test_not_json(self, world):
        response = world.client("navigator").post(
            version_url(world.v2) + "outcomes/", "{not json", content_type="application/json"
        )

        assert response.status_code == 400
        assert response.json()["type"].endswith("/malformed_request")


# Query counts -------------------------------------------------------------------------------------------


class TestBoundedQueries:
    @pytest.mark.parametrize("extra", [2, 25])
    def test_the_people_list(self, django_assert_max_num_queries, extra):
        finance = FinanceOfficerFactory()
        client = client_for(finance)
        for _ in range(extra):
            BudgetHolderFactory()

        with django_assert_max_num_queries(3):
            response = client.get(PEOPLE)

        assert response.status_code == 200
        # Finance sees everybody (whoever else this module's shared world holds), one page of up to 50.
        assert len(response.json()["results"]) == min(BudgetHolder.objects.count(), 50)

    @pytest.mark.parametrize("extra", [2, 25])
    def test_the_people_list_for_an_agency(self, django_assert_max_num_queries, extra):
        stream = StreamApprovalFactory().stream
        officer = AgencyOfficerFactory(organisation=stream.agency)
        client = client_for(officer)
        for _ in range(extra):
            SupportItemFactory(stream=stream, version=PlanVersionFactory(status=PlanVersionStatus.ACTIVE))

        with django_assert_max_num_queries(3):
            response = client.get(PEOPLE)

        assert len(response.json()["results"]) == extra + 1

    @pytest.mark.parametrize("size", [2, 15])
    @pytest.mark.parametrize("viewer", ["navigator", "officer"])
    def test_one_version(self, django_assert_max_num_queries, size, viewer):
        # Two streams, however many items: the calculator reads each stream's rules once.
        streams = [FundingStreamFactory(), FundingStreamFactory()]
        version = PlanVersionFactory(status=PlanVersionStatus.AGREED)
        outcomes = [OutcomeFactory(version=version) for _ in range(size)]
        for index in range(size):
            SupportItemFactory(version=version, stream=streams[index % 2], outcomes=outcomes[: index + 1])
        for stream in streams:
            StreamApprovalFactory(version=version, stream=stream, amount_minor=100)
        user = (
            version.plan.budget_holder.navigator
            if viewer == "navigator"
            else AgencyOfficerFactory(organisation=streams[0].agency)
        )
        client = client_for(user)

        # The token (2), the version and its contents (7), the costing (3); an officer: their streams and a
        # representative check (2).
        with django_assert_max_num_queries(12 if viewer == "navigator" else 14):
            response = client.get(version_url(version))

        assert response.status_code == 200
        body = response.json()
        assert len(body["support_items"]) == (size if viewer == "navigator" else (size + 1) // 2)
        assert len(body["outcomes"]) == size
        assert len(body["stream_approvals"]) == (2 if viewer == "navigator" else 1)
        assert body["cash_equivalent"] is not None


class TestChangeTheSummary:
    """PATCH plan-versions/{plv}/: the draft's summary, written by the person and their navigator together."""

    @pytest.mark.parametrize("role", ["holder", "navigator", "rep_approve"])
    def test_those_who_write_the_draft_change_its_summary(self, world, role):
        response = world.client(role).patch(
            version_url(world.v2), {"summary": "  I like mornings slow.  "}, format="json"
        )

        assert response.status_code == 200, response.content
        assert response.json()["summary"] == "I like mornings slow."
        assert PlanVersion.objects.get(pk=world.v2.pk).summary == "I like mornings slow."

    @pytest.mark.parametrize(
        ("role", "status_code"),
        [
            ("rep_view", 403),
            ("officer_asc", 403),
            ("other_holder", 404),
            ("other_navigator", 404),
            ("anonymous", 401),
        ],
    )
    def test_others_may_not(self, world, role, status_code):
        client = world.client(role)
        before = PlanVersion.objects.get(pk=world.v2.pk).summary

        response = client.patch(version_url(world.v2), {"summary": "Changed"}, format="json")

        assert response.status_code == status_code
        assert PlanVersion.objects.get(pk=world.v2.pk).summary == before

    def test_an_active_version_cannot_be_changed(self, world):
        response = world.client("navigator").patch(
            version_url(world.v1), {"summary": "Changed"}, format="json"
        )

        assert response.status_code == 409
        assert response.json()["errors"][0]["code"] == "plan_version_not_draft"

    def test_a_summary_that_is_not_text_is_a_400(self, world):
        response = world.client("navigator").patch(version_url(world.v2), {"summary": ["x"]}, format="json")

        assert response.status_code == 400
        assert response.json()["errors"][0]["pointer"] == "/summary"
