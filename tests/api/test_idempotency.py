"""Idempotency-Key on every POST (api/idempotency.py, api.md "Conventions"): replays, reuse, callers, expiry,
what is not stored, every route, and the same key sent at once from several threads (PostgreSQL)."""

import io
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from rest_framework.exceptions import APIException
from rest_framework.test import APIClient

from api import timeline
from api.idempotency import IdempotentPostMixin, idempotency_records_purge
from api.models import IdempotencyRecord, IdempotencyState
from people import services as people_services
from plans.models import TimelineEntry
from tests.api.test_cash_equivalents import API_MD_EXAMPLE
from tests.budgets.test_cash_equivalent_service import build_catalogue
from tests.concurrency import run_in_threads
from tests.people.factories import NavigatorFactory
from tests.plans.timeline_world import build_world


@pytest.fixture
def world():
    return build_world()


def client_for(user) -> APIClient:
    client = APIClient()
    _, raw = people_services.personal_token_issue(user=user, name="test", issued_by=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    return client


def messages_url(holder) -> str:
    return f"/api/v1/people/{holder.public_id}/messages/"


def send(client, holder, text="Can we move Thursday?", key="key-1", **extra):
    return client.post(messages_url(holder), {"text": text}, format="json", HTTP_IDEMPOTENCY_KEY=key, **extra)


def messages(text="Can we move Thursday?") -> int:
    return TimelineEntry.objects.filter(kind="message", body=text).count()


def assert_problem(response, status, code):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["type"].endswith(f"/{code}")
    assert response.json()["detail"]


@pytest.mark.django_db
class TestReplay:
    def test_the_same_request_again_answers_the_first_response_and_writes_nothing(self, world):
        client = client_for(world.users["holder"])

        first = send(client, world.holder)
        again = send(client, world.holder)

        assert first.status_code == again.status_code == 201
        assert again.content == first.content
        assert again["Content-Type"] == first["Content-Type"]
        assert again["Idempotent-Replayed"] == "true"
        assert "Idempotent-Replayed" not in first
        assert messages() == 1
        record = IdempotencyRecord.objects.get()
        assert (record.state, record.response_status, record.method) == ("done", 201, "POST")
        assert record.caller == f"user:{world.users['holder'].pk}"

    def test_a_post_that_saves_nothing_is_replayed_too(self):
        build_catalogue()
        client = client_for(NavigatorFactory())
        first = client.post(
            "/api/v1/cash-equivalents/", API_MD_EXAMPLE, format="json", HTTP_IDEMPOTENCY_KEY="c"
        )
        again = client.post(
            "/api/v1/cash-equivalents/", API_MD_EXAMPLE, format="json", HTTP_IDEMPOTENCY_KEY="c"
        )

        assert first.status_code == again.status_code == 200
        assert again.json() == first.json()
        assert again["Idempotent-Replayed"] == "true"

    def test_a_4xx_is_replayed_with_its_status(self, world):
        client = client_for(world.users["holder"])

        first = send(client, world.holder, text="  ")
        again = send(client, world.holder, text="  ")

        assert_problem(first, 422, "text_required")
        assert_problem(again, 422, "text_required")
        assert again.content == first.content
        assert again["Idempotent-Replayed"] == "true"

    def test_the_same_key_with_another_body_is_422(self, world):
        client = client_for(world.users["holder"])
        send(client, world.holder)

        assert_problem(send(client, world.holder, text="Something else"), 422, "idempotency_key_reused")
        assert messages("Something else") == 0

    def test_the_same_key_on_another_path_is_422(self, world):
        client = client_for(world.users["navigator"])
        send(client, world.holder)

        response = client.post(
            f"/api/v1/people/{world.holder.public_id}/notes/",
            {"text": "Can we move Thursday?"},
            format="json",
            HTTP_IDEMPOTENCY_KEY="key-1",
        )

        assert_problem(response, 422, "idempotency_key_reused")
        assert not TimelineEntry.objects.filter(kind="note", body="Can we move Thursday?").exists()

    def test_another_callers_key_is_independent(self, world):
        holder, navigator = client_for(world.users["holder"]), client_for(world.users["navigator"])

        mine = send(holder, world.holder)
        theirs = send(navigator, world.holder)

        assert mine.status_code == theirs.status_code == 201
        assert "Idempotent-Replayed" not in theirs
        assert mine.json()["id"] != theirs.json()["id"]
        assert messages() == 2

    def test_two_tokens_of_one_user_share_the_user_s_keys(self, world):
        user = world.users["holder"]

        send(client_for(user), world.holder)
        again = send(client_for(user), world.holder)

        assert again["Idempotent-Replayed"] == "true"
        assert messages() == 1

    def test_after_24_hours_the_key_starts_afresh(self, world):
        client = client_for(world.users["holder"])
        first = send(client, world.holder)
        IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=24, seconds=1))

        again = send(client, world.holder, text="A new message")

        assert first.status_code == again.status_code == 201
        assert "Idempotent-Replayed" not in again
        assert IdempotencyRecord.objects.get().request_hash != ""
        assert messages() == messages("A new message") == 1

    def test_without_the_header_nothing_changes(self, world):
        client = client_for(world.users["holder"])
        for _ in range(2):
            response = client.post(messages_url(world.holder), {"text": "Hi"}, format="json")
            assert response.status_code == 201
            assert "Idempotent-Replayed" not in response

        assert messages("Hi") == 2
        assert not IdempotencyRecord.objects.exists()

    def test_a_get_is_untouched(self, world):
        response = client_for(world.users["holder"]).get(
            f"/api/v1/people/{world.holder.public_id}/timeline/", HTTP_IDEMPOTENCY_KEY="key-1"
        )

        assert response.status_code == 200
        assert not IdempotencyRecord.objects.exists()

    def test_a_refused_sign_in_is_not_recorded(self, world):
        response = send(APIClient(), world.holder)

        assert response.status_code == 401
        assert not IdempotencyRecord.objects.exists()


@pytest.mark.django_db
class TestTheKey:
    @pytest.mark.parametrize("key", ["", "k" * 256, "café", "tab\there", "new\x7fline"])
    def test_an_invalid_key_is_400(self, world, key):
        response = send(client_for(world.users["holder"]), world.holder, key=key)

        assert_problem(response, 400, "invalid_idempotency_key")
        assert messages() == 0
        assert not IdempotencyRecord.objects.exists()

    @pytest.mark.parametrize("key", ["k" * 255, "a", "order 42 / retry ~!"])
    def test_printable_ascii_up_to_255_characters_is_a_key(self, world, key):
        client = client_for(world.users["holder"])
        send(client, world.holder, key=key)

        assert send(client, world.holder, key=key)["Idempotent-Replayed"] == "true"


@pytest.mark.django_db
class TestWhatIsNotStored:
    def test_a_5xx_is_not_stored_so_a_retry_runs_again(self, world, monkeypatch):
        class Unavailable(APIException):
            status_code = 503

        real = timeline.message_send

        def broken(**kwargs):
            raise Unavailable("Down for a moment.")

        monkeypatch.setattr(timeline, "message_send", broken)
        client = client_for(world.users["holder"])
        failed = send(client, world.holder)
        monkeypatch.setattr(timeline, "message_send", real)
        retried = send(client, world.holder)

        assert failed.status_code == 503
        assert retried.status_code == 201
        assert "Idempotent-Replayed" not in retried
        assert messages() == 1
        assert IdempotencyRecord.objects.get().response_status == 201

    def test_an_unhandled_exception_is_not_stored(self, world, monkeypatch):
        def crash(**kwargs):
            raise RuntimeError("bug")

        monkeypatch.setattr(timeline, "message_send", crash)
        client = client_for(world.users["holder"])

        with pytest.raises(RuntimeError):
            send(client, world.holder)

        assert not IdempotencyRecord.objects.exists()


@pytest.mark.django_db
class TestPurge:
    def test_deletes_only_records_older_than_24_hours(self, world):
        client = client_for(world.users["holder"])
        send(client, world.holder, key="old")
        send(client, world.holder, text="Newer", key="new")
        IdempotencyRecord.objects.filter(key="old").update(created_at=timezone.now() - timedelta(hours=25))

        out = io.StringIO()
        call_command("purge_idempotency_records", stdout=out)

        assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]
        assert out.getvalue().strip() == "Deleted 1 expired idempotency record."
        assert idempotency_records_purge() == 0


def _post_routes(patterns=None, prefix=""):
    """Every route of the URLconf whose view answers POST, as (route, view class)."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            yield from _post_routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            view_class = getattr(pattern.callback, "cls", None)
            if view_class is not None and hasattr(view_class, "post"):
                yield prefix + str(pattern.pattern), view_class


class TestEveryPostRoute:
    def test_the_api_has_post_routes(self):
        routes = [route for route, _ in _post_routes() if route.startswith("api/")]
        assert "api/v1/people/<str:per>/messages/" in routes
        assert len(routes) >= 10

    def test_every_drf_post_route_goes_through_the_mechanism(self):
        escaped = [route for route, view in _post_routes() if not issubclass(view, IdempotentPostMixin)]
        assert escaped == []

    @pytest.mark.django_db
    def test_every_api_post_route_replays(self, world):
        client = client_for(world.users["admin"])
        every = [(route, view) for route, view in _post_routes() if route.startswith("api/")]
        # A key is kept per caller, so a route that signs no one in keeps none: only Stripe's webhook,
        # which never sends one (each event's own id is what makes it processed once).
        unsigned = [route for route, view in every if view.authentication_classes == []]
        assert unsigned == ["api/v1/webhooks/stripe/"]
        routes = [route for route, _ in every if route not in unsigned]
        for index, route in enumerate(routes):
            url = "/" + route.replace("<str:", "<").replace("<", "nothing_").replace(">", "")
            key = f"route-{index}"

            first = client.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY=key)
            again = client.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY=key)

            assert first.status_code < 500, (route, first.content)
            assert (again.status_code, again.content) == (first.status_code, first.content), route
            assert again.get("Idempotent-Replayed") == "true", route

    @pytest.mark.django_db
    def test_the_schema_documents_the_header_on_every_post(self, world):
        response = client_for(world.users["admin"]).get("/api/schema/", HTTP_ACCEPT="application/json")

        operations = [
            (path, item["post"]) for path, item in response.json()["paths"].items() if "post" in item
        ]
        assert operations
        for path, operation in operations:
            headers = [p["name"] for p in operation.get("parameters", []) if p["in"] == "header"]
            assert headers.count("Idempotency-Key") == 1, path


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
class TestAtOnce:
    def test_the_same_key_from_three_threads_runs_once(self, world, monkeypatch):
        user = world.users["holder"]
        _, raw = people_services.personal_token_issue(user=user, name="test", issued_by=user)
        real = timeline.message_send

        def slow(**kwargs):
            time.sleep(0.3)  # long enough that the copies arrive while the first is running
            return real(**kwargs)

        monkeypatch.setattr(timeline, "message_send", slow)

        def work(index):
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
            return send(client, world.holder, key="at-once")

        responses = run_in_threads(3, work)

        assert all(not isinstance(response, Exception) for response in responses), responses
        statuses = sorted(response.status_code for response in responses)
        assert statuses[0] == 201
        created = [r for r in responses if r.status_code == 201 and "Idempotent-Replayed" not in r]
        assert len(created) == 1
        for response in responses:
            if response.status_code == 409:
                assert_problem(response, 409, "idempotency_request_in_progress")
                assert response["Retry-After"] == "1"
            else:
                assert response.status_code == 201
                assert response.json() == created[0].json()
        assert messages() == 1
        record = IdempotencyRecord.objects.get()
        assert record.state == IdempotencyState.DONE

        retried = send(client_for(user), world.holder, key="at-once")
        assert retried["Idempotent-Replayed"] == "true"
        assert retried.json() == created[0].json()
