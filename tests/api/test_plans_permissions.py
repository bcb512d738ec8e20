"""The permission matrix of the plans API: every endpoint, every role.

Who may *see* is asked first (404 for what is not yours, exactly as for what does not exist), who may *call*
next (403 for someone who sees it but may not do that), the services' rules after that. A refused call
changes nothing. The world is `tests.api.plans_world`.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import pytest
from django.db import transaction

from people.models import AuditEvent
from plans.models import PlanVersion, TimelineEntry
from plans.services import versions, workflow
from tests.api.plans_world import (
    AGENCIES,
    EDITORS,
    IN_FULL,
    PROVIDERS,
    ROLES,
    World,
    build_world,
    install_clock,
)

pytestmark = pytest.mark.django_db

SEES_ACTIVE = IN_FULL | AGENCIES | PROVIDERS
SEES_DRAFT = IN_FULL | AGENCIES


@pytest.fixture(scope="module")
def shared_world(django_db_setup, django_db_blocker):
    """One world for the module, built once in an outer transaction that is rolled back at the end; each test
    runs inside it (in a savepoint, rolled back after the test), so every test starts from the same world."""
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


@dataclass(frozen=True)
class Endpoint:
    """One call: who sees what it is about, who may make it, and what a permitted call answers."""

    name: str
    method: str
    url: Callable[[World], str]
    sees: frozenset[str]
    may: frozenset[str]
    success: int
    body: Callable[[World], dict] = field(default=lambda world: {})
    setup: Callable[[World, object], None] = field(default=lambda world, clock: None)


def v1(world: World) -> str:
    return f"/api/v1/plan-versions/{world.v1.public_id}/"


def v2(world: World) -> str:
    return f"/api/v1/plan-versions/{world.v2.public_id}/"


def _withdraw_v2(world: World, clock) -> None:
    workflow.plan_version_withdraw(
        version=world.v2, by=world.users["navigator"], reason="Not needed after all."
    )


def _agree_v2(world: World, clock) -> None:
    workflow.plan_version_agree(version=world.v2, agreed_by=world.alex.user)


def _spare_outcome(world: World, clock) -> None:
    versions.outcome_add(version=world.v2, in_own_words="See my friends", by=world.users["navigator"])


def _after_a_month(world: World, clock) -> None:
    clock.today = date(2026, 7, 1)


def _spare_outcome_id(world: World) -> str:
    return world.v2.outcomes.get(in_own_words="See my friends").public_id


def _informal_id(world: World) -> str:
    return world.v2.informal_supports.get().public_id


def _review(world: World) -> dict:
    return {
        "held_on": "2026-06-30",
        "notes": "Going well.",
        "progress": [
            {
                "outcome": world.outcomes["flat"].public_id,
                "progress": "some_progress",
                "note": "Viewing flats",
            },
            {"outcome": world.outcomes["job"].public_id, "progress": "achieved", "note": "Started in May"},
        ],
    }


ENDPOINTS = [
    Endpoint(
        "person",
        "get",
        lambda w: f"/api/v1/people/{w.alex.public_id}/",
        SEES_ACTIVE,
        SEES_ACTIVE,
        200,
    ),
    Endpoint(
        "plan",
        "get",
        lambda w: f"/api/v1/people/{w.alex.public_id}/plan/",
        SEES_ACTIVE,
        SEES_ACTIVE,
        200,
    ),
    Endpoint(
        "start a change",
        "post",
        lambda w: f"/api/v1/people/{w.alex.public_id}/plan/versions/",
        SEES_ACTIVE,
        frozenset({"navigator", "admin"}),
        201,
        body=lambda w: {
            "based_on": w.v1.public_id,
            "effective_from": "2026-11-01",
            "change_reason": "More hours at work.",
        },
        setup=_withdraw_v2,
    ),
    Endpoint("active version", "get", v1, SEES_ACTIVE, SEES_ACTIVE, 200),
    Endpoint("draft version", "get", v2, SEES_DRAFT, SEES_DRAFT, 200),
    Endpoint(
        "add an outcome",
        "post",
        lambda w: v2(w) + "outcomes/",
        SEES_DRAFT,
        EDITORS,
        201,
        body=lambda w: {"in_own_words": "See my friends every week"},
    ),
    Endpoint(
        "change an outcome",
        "patch",
        lambda w: v2(w) + f"outcomes/{w.outcomes['flat'].public_id}/",
        SEES_DRAFT,
        EDITORS,
        200,
        body=lambda w: {"success_looks_like": "I have my own front door key"},
    ),
    Endpoint(
        "remove an outcome",
        "delete",
        lambda w: v2(w) + f"outcomes/{_spare_outcome_id(w)}/",
        SEES_DRAFT,
        EDITORS,
        204,
        setup=_spare_outcome,
    ),
    Endpoint(
        "add informal support",
        "post",
        lambda w: v2(w) + "informal-support/",
        SEES_DRAFT,
        EDITORS,
        201,
        body=lambda w: {"outcome": w.outcomes["job"].public_id, "who": "My friend Sam", "what": "Lifts"},
    ),
    Endpoint(
        "remove informal support",
        "delete",
        lambda w: v2(w) + f"informal-support/{_informal_id(w)}/",
        SEES_DRAFT,
        EDITORS,
        204,
    ),
    Endpoint(
        "add an item",
        "post",
        lambda w: v2(w) + "items/",
        SEES_DRAFT,
        EDITORS,
        201,
        body=lambda w: {
            "service_code": "ASC-DAY",
            "quantity": "1",
            "per": "week",
            "outcomes": [w.outcomes["flat"].public_id],
        },
    ),
    Endpoint(
        "change an item",
        "patch",
        lambda w: v2(w) + f"items/{w.items['work'].public_id}/",
        SEES_DRAFT,
        EDITORS,
        200,
        body=lambda w: {"quantity": "10"},
    ),
    Endpoint(
        "remove an item",
        "delete",
        lambda w: v2(w) + f"items/{w.items['taxi'].public_id}/",
        SEES_DRAFT,
        EDITORS,
        204,
    ),
    Endpoint(
        "agree", "post", lambda w: v2(w) + "agree/", SEES_DRAFT, frozenset({"holder", "rep_approve"}), 200
    ),
    Endpoint(
        "approve a stream",
        "post",
        lambda w: v2(w) + "streams/ASC/approve/",
        SEES_DRAFT,
        frozenset({"officer_asc"}),
        200,
        setup=_agree_v2,
    ),
    Endpoint(
        "return a stream",
        "post",
        lambda w: v2(w) + "streams/ASC/return/",
        SEES_DRAFT,
        frozenset({"officer_asc"}),
        200,
        body=lambda w: {"reason": "Please cost the day service too."},
        setup=_agree_v2,
    ),
    Endpoint(
        "withdraw",
        "post",
        lambda w: v2(w) + "withdraw/",
        SEES_DRAFT,
        frozenset({"navigator"}),
        200,
        body=lambda w: {"reason": "Alex changed their mind."},
    ),
    Endpoint("compare", "get", lambda w: v2(w) + "compare/", SEES_DRAFT, SEES_DRAFT, 200),
    Endpoint("reviews", "get", lambda w: v1(w) + "reviews/", SEES_ACTIVE, IN_FULL, 200),
    Endpoint(
        "record a review",
        "post",
        lambda w: v1(w) + "reviews/",
        SEES_ACTIVE,
        frozenset({"navigator"}),
        201,
        body=_review,
        setup=_after_a_month,
    ),
    Endpoint(
        "bring the review forward",
        "post",
        lambda w: v1(w) + "review-due/",
        SEES_ACTIVE,
        frozenset({"navigator", "holder", "rep_approve"}),
        200,
        body=lambda w: {"due_on": "2026-05-01", "reason": "Alex's job starts sooner."},
    ),
]


def expected_status(endpoint: Endpoint, role: str) -> int:
    if role == "anonymous":
        return 401
    if role not in endpoint.sees:
        return 404
    return endpoint.success if role in endpoint.may else 403


def _changes() -> tuple[int, int, list]:
    return (
        AuditEvent.objects.count(),
        TimelineEntry.objects.count(),
        list(PlanVersion.objects.order_by("pk").values_list("status", "summary", "review_due_on")),
    )


class TestMatrix:
    @pytest.mark.parametrize("role", ROLES)
    @pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda endpoint: endpoint.name)
    def test_every_endpoint_for_every_role(self, world, clock, endpoint, role):
        endpoint.setup(world, clock)
        client = world.client(role)
        before = _changes()

        response = getattr(client, endpoint.method)(endpoint.url(world), endpoint.body(world), format="json")

        expected = expected_status(endpoint, role)
        assert response.status_code == expected, response.content
        if expected >= 400:
            assert response["Content-Type"] == "application/problem+json"
            assert _changes() == before
        if expected == 404:
            assert response.json()["detail"] == "There is nothing here, or it is not yours to see."

    def test_the_matrix_names_every_role(self):
        assert set(ROLES) >= SEES_ACTIVE | {"anonymous"}
        assert len(ENDPOINTS) == 21


class TestNotYoursIsNotFound:
    """Another person's ids answer exactly as ids that do not exist."""

    def test_a_version_of_someone_else(self, world):
        client = world.client("holder")

        theirs = client.get(f"/api/v1/plan-versions/{world.sams.public_id}/")
        nobodys = client.get("/api/v1/plan-versions/plv_0000000000000000/")

        assert theirs.status_code == nobodys.status_code == 404
        assert theirs.json() == nobodys.json()

    def test_a_person_who_is_someone_else(self, world):
        client = world.client("rep_approve")

        theirs = client.get(f"/api/v1/people/{world.sam.public_id}/plan/")
        nobodys = client.get("/api/v1/people/per_0000000000000000/plan/")

        assert theirs.status_code == nobodys.status_code == 404
        assert theirs.json() == nobodys.json()

    def test_someone_elses_outcome_item_and_informal_support_under_your_own_version(self, world):
        client = world.client("navigator")
        sams_outcome = world.sams.outcomes.get().public_id
        sams_item = world.sams.support_items.get().public_id

        assert client.patch(v2(world) + f"outcomes/{sams_outcome}/", {"in_own_words": "x"}).status_code == 404
        assert client.delete(v2(world) + f"items/{sams_item}/").status_code == 404
        assert client.delete(v2(world) + "informal-support/inf_0000000000000000/").status_code == 404

    def test_someone_elses_outcome_in_a_body_is_unknown(self, world):
        sams_outcome = world.sams.outcomes.get().public_id

        response = world.client("navigator").post(
            v2(world) + "items/",
            {"service_code": "ASC-DAY", "quantity": "1", "per": "week", "outcomes": [sams_outcome]},
            format="json",
        )

        assert response.status_code == 422
        assert response.json()["errors"] == [
            {
                "code": "unknown_outcome",
                "pointer": "/outcomes/0",
                "detail": "Choose an outcome of this version of the plan.",
            }
        ]

    def test_someone_elses_version_as_the_base_of_a_change(self, world):
        workflow.plan_version_withdraw(version=world.v2, by=world.users["navigator"], reason="Not needed.")

        response = world.client("navigator").post(
            f"/api/v1/people/{world.alex.public_id}/plan/versions/",
            {"based_on": world.sams.public_id, "effective_from": "2026-11-01", "change_reason": "x"},
            format="json",
        )

        assert response.status_code == 422
        assert response.json()["errors"][0]["code"] == "unknown_plan_version"
        assert response.json()["errors"][0]["pointer"] == "/based_on"

    def test_a_provider_does_not_see_the_draft_it_is_engaged_in(self, world):
        # The draft keeps bright-care's item, but only the active version is the provider's to see.
        client = world.client("provider_engaged")

        assert client.get(v2(world)).status_code == 404
        assert client.get(v1(world)).status_code == 200


class TestWhoSeesWhichPeople:
    LISTS = {
        "holder": {"alex"},
        "other_holder": {"sam"},
        "rep_approve": {"alex"},
        "rep_view": {"alex"},
        "rep_revoked": set(),
        "navigator": {"alex"},
        "other_navigator": {"sam"},
        "officer_asc": {"alex"},
        "officer_atw": {"alex"},
        "officer_unrelated": set(),
        "provider_engaged": {"alex"},
        "provider_not_engaged": set(),
        "finance": {"alex", "sam"},
        "admin": {"alex", "sam"},
    }

    @pytest.mark.parametrize("role", sorted(LISTS))
    def test_the_list(self, world, role):
        names = {world.alex.public_id: "alex", world.sam.public_id: "sam"}

        response = world.client(role).get("/api/v1/people/")

        assert response.status_code == 200
        seen = [person["id"] for person in response.json()["results"]]
        assert len(seen) == len(set(seen))
        assert {names[id_] for id_ in seen if id_ in names} == self.LISTS[role]
        if role not in ("finance", "admin"):
            # The demo world's people (made by the catalogue) are nobody else's to see.
            assert set(seen) <= set(names)

    def test_anonymous(self, world):
        assert world.client("anonymous").get("/api/v1/people/").status_code == 401


class TestCompareWithNothing:
    @pytest.mark.parametrize("role", sorted(SEES_ACTIVE))
    def test_a_first_version_has_nothing_to_compare_with(self, world, role):
        response = world.client(role).get(v1(world) + "compare/")

        # Providers may not compare at all; for the others there is nothing to compare with.
        assert response.status_code == (403 if role in PROVIDERS else 404)


class TestStreamsOfOtherAgencies:
    def test_an_officer_may_not_decide_another_agencys_stream_of_a_version_they_see(self, world):
        workflow.plan_version_agree(version=world.v2, agreed_by=world.alex.user)

        response = world.client("officer_asc").post(v2(world) + "streams/ATW/approve/")

        assert response.status_code == 403

    def test_an_unknown_stream_is_not_found(self, world):
        workflow.plan_version_agree(version=world.v2, agreed_by=world.alex.user)

        response = world.client("officer_asc").post(v2(world) + "streams/NOPE/approve/")

        assert response.status_code == 404

    def test_one_agencys_approval_leaves_the_version_waiting_for_the_others(self, world):
        workflow.plan_version_agree(version=world.v2, agreed_by=world.alex.user)

        response = world.client("officer_atw").post(v2(world) + "streams/ATW/approve/")

        assert response.status_code == 200
        assert response.json()["status"] == "agreed"
