"""GET /api/v1/people/{id}/timeline/, POST .../notes/ and .../messages/: shapes, who sees and writes what,
pagination, problem details and bounded queries."""

from datetime import UTC, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from people import services as people_services
from plans.models import TimelineEntry
from plans.services.timeline import timeline_record
from tests.plans.timeline_world import EVERY_ENTRY, SHARED_ENTRIES, build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build_world()


def client_for(user) -> APIClient:
    client = APIClient()
    _, raw = people_services.personal_token_issue(user=user, name="test", issued_by=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    return client


def timeline_url(holder) -> str:
    return f"/api/v1/people/{holder.public_id}/timeline/"


def notes_url(holder) -> str:
    return f"/api/v1/people/{holder.public_id}/notes/"


def messages_url(holder) -> str:
    return f"/api/v1/people/{holder.public_id}/messages/"


def assert_problem(response, status, code=None):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["detail"]
    if code:
        assert body["type"].endswith(f"/{code}")
    return body


def read(world, viewer):
    response = client_for(world.users[viewer]).get(timeline_url(world.holder))
    assert response.status_code == 200, response.content
    return response.json()


class TestReadTheTimeline:
    def test_the_shape_for_the_person(self, world):
        body = read(world, "holder")

        assert set(body) == {"results", "next", "previous"}
        message = body["results"][0]
        assert message == {
            "id": world.entries["message"].public_id,
            "at": world.entries["message"].at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "kind": "message",
            "text": "You wrote to Priya Shah",
            "body": "Can we move Thursday's visit?",
            "by": {"name": "Alex Morgan", "role": "budget_holder"},
            "stream": None,
            "corrects": None,
            "corrected_by": None,
        }
        assert message["at"].endswith("Z")

    def test_the_shape_for_staff_adds_the_visibility_and_the_detail(self, world):
        results = read(world, "navigator")["results"]

        by_id = {entry["id"]: entry for entry in results}
        staff_note = by_id[world.entries["plan_staff"].public_id]
        assert staff_note["visibility"] == "staff"
        assert staff_note["text"] == "Checked the assessment"
        assert by_id[world.entries["asc_shared"].public_id] | {} == {
            "id": world.entries["asc_shared"].public_id,
            "at": by_id[world.entries["asc_shared"].public_id]["at"],
            "kind": "plan.stream_approved",
            "text": "Adult Social Care approved",
            "body": "",
            "by": {"name": world.users["officer_asc"].get_full_name(), "role": "agency_officer"},
            "visibility": "shared",
            "stream": "ASC",
            "corrects": None,
            "corrected_by": None,
        }
        assert by_id[world.entries["atw_shared"].public_id]["by"] is None

    @pytest.mark.parametrize(
        ("viewer", "expected"),
        [
            ("holder", SHARED_ENTRIES),
            ("rep", SHARED_ENTRIES),
            ("view_rep", SHARED_ENTRIES),
            ("navigator", EVERY_ENTRY),
            ("finance", EVERY_ENTRY),
            ("admin", EVERY_ENTRY),
            ("officer_asc", ("asc_shared", "asc_staff")),
            ("officer_atw", ("atw_shared",)),
        ],
    )
    def test_each_role_sees_its_entries(self, world, viewer, expected):
        results = read(world, viewer)["results"]
        assert {entry["id"] for entry in results} == world.ids(*expected)
        person_side = viewer in ("holder", "rep", "view_rep")
        assert all(("visibility" in entry) is not person_side for entry in results)

    @pytest.mark.parametrize(
        "viewer", ["other_holder", "other_navigator", "officer_dfg", "provider", "revoked_rep"]
    )
    def test_everyone_else_gets_404(self, world, viewer):
        response = client_for(world.users[viewer]).get(timeline_url(world.holder))
        assert_problem(response, 404, "not_found")

    def test_a_person_who_does_not_exist_is_404_too(self, world):
        response = client_for(world.users["admin"]).get("/api/v1/people/per_doesnotexist0000/timeline/")
        assert_problem(response, 404)

    def test_signed_out_is_401(self, world):
        assert_problem(APIClient().get(timeline_url(world.holder)), 401)

    def test_newest_first_in_pages_following_next(self, world):
        base = timezone.now() - timedelta(days=30)
        for index in range(7):
            timeline_record(
                budget_holder=world.holder,
                kind="note",
                for_person=f"Old {index}",
                at=base - timedelta(hours=index),
            )
        client = client_for(world.users["holder"])

        seen, url = [], timeline_url(world.holder) + "?page_size=4"
        while url:
            page = client.get(url).json()
            assert len(page["results"]) <= 4
            seen += page["results"]
            url = page["next"]

        assert len(seen) == len(SHARED_ENTRIES) + 7
        assert len({entry["id"] for entry in seen}) == len(seen)
        assert [entry["at"] for entry in seen] == sorted((entry["at"] for entry in seen), reverse=True)
        assert [entry["text"] for entry in seen[-7:]] == [f"Old {index}" for index in range(7)]

    def test_entries_at_the_same_moment_are_paged_without_repeats(self, world):
        at = timezone.now() - timedelta(days=1)
        for index in range(9):
            timeline_record(budget_holder=world.holder, kind="note", for_person=f"Same {index}", at=at)
        client = client_for(world.users["navigator"])

        seen, url = [], timeline_url(world.holder) + "?page_size=2"
        while url:
            page = client.get(url).json()
            seen += [entry["id"] for entry in page["results"]]
            url = page["next"]

        assert len(seen) == len(set(seen)) == len(EVERY_ENTRY) + 9

    @pytest.mark.parametrize("viewer", ["rep", "navigator", "officer_asc"])
    def test_a_fixed_number_of_queries_whatever_the_length(self, world, viewer):
        client = client_for(world.users[viewer])

        def queries_for_a_page() -> int:
            with CaptureQueriesContext(connection) as queries:
                assert client.get(timeline_url(world.holder)).status_code == 200
            return len(queries)

        queries_for_a_page()  # the first use of a token records when it was used
        few = queries_for_a_page()
        for index in range(120):
            timeline_record(
                budget_holder=world.holder,
                kind="note",
                for_person=f"Entry {index}",
                stream=world.streams["ASC"],
                actor=world.users["navigator"],
            )
        assert queries_for_a_page() == few
        assert few <= 4  # the token, the person, the audience (a grant or an officer's sight), the page


class TestWriteANote:
    def test_the_navigator_writes_a_staff_note(self, world):
        response = client_for(world.users["navigator"]).post(
            notes_url(world.holder), {"text": "Sister can help on Fridays."}, format="json"
        )

        assert response.status_code == 201, response.content
        body = response.json()
        assert body["kind"] == "note"
        assert body["visibility"] == "staff"
        assert body["body"] == "Sister can help on Fridays."
        assert body["text"] == "Staff note by Priya Shah (navigator)"
        assert body["by"] == {"name": "Priya Shah", "role": "navigator"}
        assert body["id"] not in {entry["id"] for entry in read(world, "holder")["results"]}

    def test_a_shared_note_is_read_by_the_person(self, world):
        response = client_for(world.users["finance"]).post(
            notes_url(world.holder), {"text": "Your statement is ready.", "shared": True}, format="json"
        )

        assert response.status_code == 201, response.content
        mine = {entry["id"]: entry for entry in read(world, "view_rep")["results"]}[response.json()["id"]]
        assert mine["body"] == "Your statement is ready."
        assert "visibility" not in mine

    @pytest.mark.parametrize("writer", ["holder", "rep", "officer_asc"])
    def test_others_who_read_the_timeline_get_403(self, world, writer):
        response = client_for(world.users[writer]).post(
            notes_url(world.holder), {"text": "Hi"}, format="json"
        )
        body = assert_problem(response, 403, "note_not_allowed")
        assert "navigator" in body["detail"]
        assert not TimelineEntry.objects.filter(kind="note").exists()

    @pytest.mark.parametrize("writer", ["provider", "other_navigator", "other_holder"])
    def test_those_who_do_not_read_it_get_404(self, world, writer):
        response = client_for(world.users[writer]).post(
            notes_url(world.holder), {"text": "Hi"}, format="json"
        )
        assert_problem(response, 404)

    def test_a_blank_or_long_text_is_422_with_a_pointer(self, world):
        client = client_for(world.users["navigator"])

        blank = assert_problem(
            client.post(notes_url(world.holder), {"text": "  "}, format="json"), 422, "text_required"
        )
        long = assert_problem(
            client.post(notes_url(world.holder), {"text": "a" * 5001}, format="json"), 422, "text_too_long"
        )

        assert blank["errors"] == [{"code": "text_required", "pointer": "/text", "detail": blank["detail"]}]
        assert "5,000" in long["detail"]

    @pytest.mark.parametrize(
        "payload",
        [
            {},
            {"text": 42},
            {"text": ["a"]},
            {"text": None},
            {"text": "Hi", "shared": "perhaps"},
            {"text": "Hi", "shared": "true"},
            {"text": "Hi", "shared": 1},
        ],
    )
    def test_a_malformed_request_is_400(self, world, payload):
        response = client_for(world.users["navigator"]).post(notes_url(world.holder), payload, format="json")
        body = assert_problem(response, 400, "invalid_request")
        assert body["errors"][0]["pointer"] in ("/text", "/shared")

    def test_not_json_is_400(self, world):
        response = client_for(world.users["navigator"]).post(
            notes_url(world.holder), "not json", content_type="application/json"
        )
        assert_problem(response, 400, "malformed_request")


class TestSendAMessage:
    @pytest.mark.parametrize(
        ("sender", "text"),
        [
            ("holder", "You wrote to Priya Shah, your navigator"),
            ("navigator", "Message from Priya Shah (navigator) to Alex Morgan"),
        ],
    )
    def test_the_person_and_their_navigator_send_messages(self, world, sender, text):
        response = client_for(world.users[sender]).post(
            messages_url(world.holder), {"text": "Can we move Thursday?"}, format="json"
        )

        assert response.status_code == 201, response.content
        body = response.json()
        assert (body["kind"], body["text"], body["body"], body["stream"]) == (
            "message",
            text,
            "Can we move Thursday?",
            None,
        )

    def test_a_view_only_representative_may_send_one(self, world):
        response = client_for(world.users["view_rep"]).post(
            messages_url(world.holder), {"text": "Alex is away next week."}, format="json"
        )
        assert response.status_code == 201, response.content
        assert response.json()["text"].endswith(", your representative")

    @pytest.mark.parametrize("sender", ["officer_asc", "finance", "admin"])
    def test_staff_who_are_not_the_navigator_get_403(self, world, sender):
        response = client_for(world.users[sender]).post(
            messages_url(world.holder), {"text": "Hello"}, format="json"
        )
        assert_problem(response, 403, "message_not_allowed")

    @pytest.mark.parametrize("sender", ["provider", "other_holder", "revoked_rep"])
    def test_those_who_do_not_read_the_timeline_get_404(self, world, sender):
        response = client_for(world.users[sender]).post(
            messages_url(world.holder), {"text": "Hello"}, format="json"
        )
        assert_problem(response, 404)

    def test_an_idempotency_key_makes_a_retry_safe(self, world):
        client = client_for(world.users["holder"])
        first = client.post(
            messages_url(world.holder), {"text": "Hello"}, format="json", HTTP_IDEMPOTENCY_KEY="retry-1"
        )

        again = client.post(
            messages_url(world.holder), {"text": "Hello"}, format="json", HTTP_IDEMPOTENCY_KEY="retry-1"
        )
        different = client.post(
            messages_url(world.holder), {"text": "Bye"}, format="json", HTTP_IDEMPOTENCY_KEY="retry-1"
        )

        assert first.status_code == again.status_code == 201
        assert again.json() == first.json()
        assert_problem(different, 422, "idempotency_key_reused")
        assert TimelineEntry.objects.filter(kind="message", body="Hello").count() == 1


class TestSchema:
    def test_the_endpoints_are_in_the_schema(self, world):
        response = client_for(world.users["holder"]).get("/api/schema/", HTTP_ACCEPT="application/json")
        assert response.status_code == 200
        paths = response.json()["paths"]
        assert "get" in paths["/api/v1/people/{per}/timeline/"]
        assert "post" in paths["/api/v1/people/{per}/notes/"]
        assert "post" in paths["/api/v1/people/{per}/messages/"]
        entry = response.json()["components"]["schemas"]["TimelineEntry"]
        assert "visibility" not in entry["required"]
        assert {"id", "at", "kind", "text", "body", "by", "stream", "corrects"} <= set(entry["required"])
