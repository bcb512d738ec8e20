"""The payments API (api/payments.py): starting payment runs and following them, the payments they make, the
Bacs file (download, confirm, cancel), warnings of payments that did not go through; and what providers see
of it, their remittances (api/invoicing.py) and their invoices' `payment`.

The world is tests/payments/world.py (today is Friday 20 November 2026; bright-care is paid through Stripe
Connect, able-assist and dales-adaptations by Bacs; one approved invoice each) against one local Stripe
double (tests/payments/stripe_double.py), built once for the module in a transaction rolled back at the end;
each test runs in a savepoint inside it. `stripe_world` keeps Stripe switched on; `world` switches it off for
the test, so bright-care is skipped with the reason.
"""

import copy
import hashlib
from typing import Any

import jsonschema
import pytest
import stripe
from django.db import connection, transaction
from django.test import TestCase
from django.test.utils import CaptureQueriesContext, override_settings
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from invoicing.models import Invoice, Remittance, RemittanceLine
from payments.models import (
    BacsFile,
    Payment,
    PaymentInvoice,
    PaymentRun,
    PaymentStatus,
    Rail,
)
from payments.services import runs
from payments.stripe_gateway import StripeDisabled
from people.models import AuditEvent, Organisation
from tests.api.plans_world import client_for
from tests.invoicing.world import provider_client
from tests.payments.stripe_double import StripeDouble
from tests.payments.world import PaymentsWorld, approve, build_payments_world, start_run

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"
RUNS = "/api/v1/payment-runs/"
WARNINGS = "/api/v1/payment-warnings/"
REMITTANCES = "/api/v1/remittances/"
MONDAY = "2026-11-23"  # the next working day after "today", Friday 20 November 2026
STAFF = ("finance", "admin")
# Every other signed-in role of the world (tests/api/plans_world.py): payments are not theirs to see.
NOT_STAFF = (
    "holder",
    "other_holder",
    "rep_approve",
    "rep_view",
    "rep_revoked",
    "navigator",
    "other_navigator",
    "officer_asc",
    "officer_atw",
    "officer_unrelated",
    "provider_engaged",
    "provider_not_engaged",
)
BY_STATUS_NONE = {status: 0 for status in PaymentStatus.values}


class _ModuleSettings:
    """What pytest-django's `settings` fixture does, for a module-scoped fixture: each setting given is
    overridden until `restore()`."""

    def __init__(self) -> None:
        self._overrides: list[override_settings] = []

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            return super().__setattr__(name, value)
        override = override_settings(**{name: value})
        override.enable()
        self._overrides.append(override)
        return None

    def restore(self) -> None:
        while self._overrides:
            self._overrides.pop().disable()


_DOUBLE_STATE = ("accounts", "transfers", "events", "requests", "_event_order", "_idempotent", "_onboarding")


@pytest.fixture(scope="module")
def shared_world(django_db_setup, django_db_blocker):
    """The payments world with Stripe on against one local double, built once for the module in a
    transaction rolled back at the end; each test runs in a savepoint inside it."""
    module_settings = _ModuleSettings()
    double = StripeDouble().start()
    try:
        with (
            pytest.MonkeyPatch.context() as monkeypatch,
            django_db_blocker.unblock(),
            override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]),
            transaction.atomic(),
        ):
            # As the `stripe_double` fixture does: the SDK's retry backoff cut to a millisecond.
            monkeypatch.setattr(stripe.HTTPClient, "INITIAL_DELAY", 0.001)
            monkeypatch.setattr(stripe.HTTPClient, "MAX_DELAY", 0.001)
            yield build_payments_world(monkeypatch, module_settings, double)
            transaction.set_rollback(True)
    finally:
        module_settings.restore()
        double.stop()


@pytest.fixture
def stripe_world(shared_world, db) -> PaymentsWorld:
    """Stripe switched on, against the local double (what a test sent to it is forgotten after it)."""
    double = shared_world.stripe
    kept = {name: copy.deepcopy(getattr(double, name)) for name in _DOUBLE_STATE}
    yield shared_world
    for name, value in kept.items():
        setattr(double, name, value)


@pytest.fixture
def world(stripe_world, settings) -> PaymentsWorld:
    """Stripe switched off: bright-care is skipped, the other two go in the Bacs file."""
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_WEBHOOK_SECRET = ""
    return stripe_world


@pytest.fixture(scope="module")
def openapi():
    return SchemaGenerator().get_schema(request=None, public=True)


def assert_matches(openapi, body, component: str) -> None:
    """The body is what the OpenAPI schema says the component is."""
    schema = {"$ref": f"#/components/schemas/{component}", "components": openapi["components"]}
    jsonschema.Draft202012Validator(schema).validate(body)


def assert_problem(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == status and body["detail"]
    if code is not None:
        assert body["type"].endswith(f"/{code}"), body
    return body


def client(world: PaymentsWorld, role: str) -> APIClient:
    return client_for(world.users[role])


def post_run(api: APIClient, body: Any = None, **extra: Any):
    """POST a run, running at once what it hands to the workers (as the eager Celery of the demo does)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return api.post(RUNS, {} if body is None else body, format="json", **extra)


def run_url(run: Any, suffix: str = "") -> str:
    public_id = run if isinstance(run, str) else run.public_id
    return f"{RUNS}{public_id}/{suffix}"


def payment_of(run: PaymentRun, slug: str) -> Payment:
    return Payment.objects.get(run=run, provider__slug=slug)


def provider(slug: str) -> Organisation:
    return Organisation.objects.get(slug=slug)


def counts() -> dict[str, int]:
    """The rows a payment request could make."""
    return {
        "runs": PaymentRun.objects.count(),
        "payments": Payment.objects.count(),
        "payment_invoices": PaymentInvoice.objects.count(),
        "bacs_files": BacsFile.objects.count(),
        "remittances": Remittance.objects.count(),
        "remittance_lines": RemittanceLine.objects.count(),
    }


def invoice_body(world: PaymentsWorld, slug: str, role: str = "finance") -> dict:
    response = client(world, role).get(f"/api/v1/invoices/{world.invoices[slug].public_id}/")
    assert response.status_code == 200, response.content
    return response.json()


def undo(payment: Payment, *, status: str, reason: str) -> None:
    """What a `transfer.reversed` or `transfer.failed` webhook does to a payment (payments.services)."""
    with transaction.atomic():
        locked = Payment.objects.select_for_update().select_related("run", "provider").get(pk=payment.pk)
        runs.payment_undo(locked, status=status, reason=reason)


def totals(world: PaymentsWorld) -> dict[str, int]:
    return {slug: invoice.total_minor for slug, invoice in world.invoices.items()}


# Starting a run -----------------------------------------------------------------------------------------


class TestStartRun:
    @pytest.mark.parametrize("role", STAFF)
    def test_pays_bright_care_by_stripe_and_the_others_in_the_bacs_file(self, stripe_world, role, openapi):
        world = stripe_world
        assert totals(world) == {"bright-care": 8575, "able-assist": 6300, "dales-adaptations": 175000}

        response = post_run(client(world, role))

        assert response.status_code == 202, response.content
        body = response.json()
        run = PaymentRun.objects.get()
        assert response["Location"] == body["url"] == f"http://testserver{run_url(run)}"
        assert body["resumed"] is False
        bright = payment_of(run, "bright-care")
        transfers = list(world.stripe.transfers.values())
        assert [(t["amount"], t["currency"], t["destination"]) for t in transfers] == [
            (8575, "gbp", world.stripe_account)
        ]
        assert transfers[0]["metadata"]["payment"] == bright.public_id
        posted = [
            seen for seen in world.stripe.requests if (seen.method, seen.path) == ("POST", "/v1/transfers")
        ]
        assert [seen.headers["idempotency-key"] for seen in posted] == [bright.public_id]
        assert (bright.rail, bright.status, bright.stripe_transfer_id) == (
            Rail.STRIPE,
            "sent",
            transfers[0]["id"],
        )
        # The answer is the run as the request left it: in a test its work runs once the request is over
        # (on commit), as it does with a Celery broker; with eager Celery it would already be done.
        assert (body["status"], body["progress"], body["bacs_file"]) == (
            "running",
            {"total": 3, "finished": 0, "percent": 0, "by_status": {**BY_STATUS_NONE, "pending": 3}},
            None,
        )
        assert_matches(openapi, body, "PaymentRunStarted")
        bacs_file = BacsFile.objects.get()
        detail = client(world, role).get(run_url(run))
        assert detail.status_code == 200
        body = detail.json()
        assert body == {
            "id": run.public_id,
            "status": "waiting_for_upload",
            "pay_on": MONDAY,
            "created_at": body["created_at"],
            "finished_at": None,
            "currency": "GBP",
            "invoices": 3,
            "payments": 3,
            "total": "1898.75",
            "error": None,
            "url": f"http://testserver{run_url(run)}",
            "progress": {
                "total": 3,
                "finished": 3,
                "percent": 100,
                "by_status": {**BY_STATUS_NONE, "sent": 1, "in_file": 2},
            },
            "skipped": [],
            "bacs_file": {
                "id": bacs_file.public_id,
                "run": run.public_id,
                "filename": "purse-bacs-2026-11-23-000001.txt",
                "processing_day": MONDAY,
                "credits": 2,
                "currency": "GBP",
                "total": "1813.00",
                "status": "written",
                "sha256": hashlib.sha256(bacs_file.content.encode("ascii")).hexdigest(),
                "created_at": body["bacs_file"]["created_at"],
                "decided_at": None,
                "download": f"http://testserver/api/v1/bacs-files/{bacs_file.public_id}/",
            },
            "payments_url": f"http://testserver{run_url(run, 'payments/')}",
        }
        assert body["created_at"].endswith("Z")
        assert_matches(openapi, body, "PaymentRunDetail")
        assert response["Cache-Control"] == detail["Cache-Control"] == "private, no-store"
        # bright-care's invoice is paid at once, with the payment's id as its reference.
        paid = invoice_body(world, "bright-care")
        assert paid["status"] == "paid"
        assert paid["payment"] == {
            "remittance": bright.remittance.public_id,
            "reference": bright.public_id,
            "paid_on": "2026-11-20",
            "amount": "85.75",
        }
        assert [invoice_body(world, slug)["status"] for slug in ("able-assist", "dales-adaptations")] == [
            "approved",
            "approved",
        ]

    def test_the_run_detail_shows_its_progress_and_its_file(self, stripe_world, openapi):
        world = stripe_world
        started = post_run(client(world, "finance")).json()
        seen_by_finance = client(world, "finance").get(run_url(started["id"])).json()

        response = client(world, "admin").get(run_url(started["id"]))

        assert response.status_code == 200
        body = response.json()
        assert body == seen_by_finance
        assert (body["status"], body["bacs_file"]["status"], body["bacs_file"]["credits"]) == (
            "waiting_for_upload",
            "written",
            2,
        )
        assert body["progress"] == {
            "total": 3,
            "finished": 3,
            "percent": 100,
            "by_status": {**BY_STATUS_NONE, "sent": 1, "in_file": 2},
        }
        assert_matches(openapi, body, "PaymentRunDetail")

    def test_with_stripe_off_bright_care_waits_with_the_reason(self, world):
        response = post_run(client(world, "finance"))

        assert response.status_code == 202
        body = response.json()
        assert body["skipped"] == [
            {
                "provider": provider("bright-care").public_id,
                "name": provider("bright-care").name,
                "invoices": 1,
                "reason": StripeDisabled.message,
            }
        ]
        assert (body["invoices"], body["payments"], body["total"]) == (2, 2, "1813.00")
        detail = client(world, "finance").get(run_url(body["id"])).json()
        assert detail["skipped"] == body["skipped"]
        assert detail["progress"]["by_status"] == {**BY_STATUS_NONE, "in_file": 2}
        assert invoice_body(world, "bright-care")["status"] == "approved"

    @pytest.mark.parametrize(
        ("pay_on", "processing_day"),
        [(None, MONDAY), ("2026-11-20", "2026-11-20"), ("2026-11-24", "2026-11-24")],
    )
    def test_the_processing_day_is_the_one_asked_for_or_the_next_working_day(
        self, world, pay_on, processing_day
    ):
        response = post_run(client(world, "finance"), {} if pay_on is None else {"pay_on": pay_on})

        assert response.status_code == 202, response.content
        assert response.json()["pay_on"] == processing_day
        detail = client(world, "finance").get(run_url(response.json()["id"])).json()
        assert detail["bacs_file"]["processing_day"] == processing_day
        assert BacsFile.objects.get().processing_day.isoformat() == processing_day

    def test_starting_while_one_runs_answers_200_with_that_run(self, world):
        api = client(world, "finance")
        first = api.post(RUNS, {}, format="json")  # its work never runs here: it stays running
        assert (first.status_code, first.json()["status"]) == (202, "running")
        made = counts()

        again = api.post(RUNS, {"pay_on": "2026-11-24"}, format="json")

        assert again.status_code == 200, again.content
        assert again.json()["id"] == first.json()["id"]
        assert (again.json()["resumed"], again.json()["status"]) == (True, "running")
        assert "Location" not in again
        assert counts() == made

    def test_a_run_already_running_carries_on_when_asked_again(self, world):
        api = client(world, "finance")
        first = api.post(RUNS, {}, format="json")  # as after a lost worker
        assert first.json()["progress"]["by_status"]["pending"] == 2

        again = post_run(api)

        assert again.status_code == 200
        assert (again.json()["id"], again.json()["resumed"]) == (first.json()["id"], True)
        detail = api.get(run_url(first.json()["id"])).json()
        assert detail["status"] == "waiting_for_upload"
        assert detail["progress"]["by_status"] == {**BY_STATUS_NONE, "in_file": 2}
        assert PaymentRun.objects.count() == 1

    def test_the_same_idempotency_key_replays_the_first_answer(self, world):
        api = client(world, "finance")

        first = post_run(api, HTTP_IDEMPOTENCY_KEY="run-1")
        again = post_run(api, HTTP_IDEMPOTENCY_KEY="run-1")

        assert first.status_code == 202
        assert (again.status_code, again.content) == (first.status_code, first.content)
        assert again["Idempotent-Replayed"] == "true"
        assert PaymentRun.objects.count() == 1
        other = post_run(api, {"pay_on": "2026-11-24"}, HTTP_IDEMPOTENCY_KEY="run-1")
        assert_problem(other, 422, "idempotency_key_reused")

    @pytest.mark.parametrize(
        ("body", "status", "code", "pointer"),
        [
            ({"pay_on": "2026-13-01"}, 400, "invalid_payment_run", "/pay_on"),  # no such month
            ({"pay_on": "2026-02-30"}, 400, "invalid_payment_run", "/pay_on"),  # no such day
            ({"pay_on": "23/11/2026"}, 400, "invalid_payment_run", "/pay_on"),
            ({"pay_on": "next monday"}, 400, "invalid_payment_run", "/pay_on"),
            ({"pay_on": "2026-11-23T09:00:00Z"}, 400, "invalid_payment_run", "/pay_on"),
            ({"pay_on": ""}, 400, "invalid_payment_run", "/pay_on"),
            ({"pay_on": 20261123}, 400, "invalid_payment_run", "/pay_on"),
            ({"pay_on": "2026-11-19"}, 400, "invalid_payment_run", "/pay_on"),  # yesterday
            ({"pay_on": "2026-11-21"}, 400, "invalid_payment_run", "/pay_on"),  # a Saturday
            ({"pay_on": "2026-12-25"}, 400, "invalid_payment_run", "/pay_on"),  # Christmas Day
            ({"pay_on": ["2026-11-23"]}, 400, "invalid_request", "/pay_on"),
            ({"pay_on": {"day": 23}}, 400, "invalid_request", "/pay_on"),
            ({"pay_on": True}, 400, "invalid_request", "/pay_on"),
            ([], 400, "invalid_request", ""),
            ("2026-11-23", 400, "invalid_request", ""),
        ],
    )
    def test_bad_input_is_a_problem_pointing_at_it_and_starts_nothing(
        self, world, body, status, code, pointer
    ):
        before = counts()

        response = post_run(client(world, "finance"), body)

        problem = assert_problem(response, status, code)
        assert [error["pointer"] for error in problem["errors"]] == [pointer]
        assert counts() == before == {**before, "runs": 0, "payments": 0, "payment_invoices": 0}

    @pytest.mark.parametrize(
        ("pay_on", "detail"),
        [
            ("2026-11-19", "The processing day 19 November 2026 has passed; choose today or later."),
            ("2026-11-21", "21 November 2026 is not a working day; the next one is 23 November 2026."),
            ("2026-12-25", "25 December 2026 is not a working day; the next one is 29 December 2026."),
        ],
    )
    def test_a_day_it_cannot_pay_on_says_why_in_plain_english(self, world, pay_on, detail):
        problem = assert_problem(post_run(client(world, "finance"), {"pay_on": pay_on}), 400)

        assert problem["errors"] == [{"code": "invalid_payment_run", "pointer": "/pay_on", "detail": detail}]
        assert problem["detail"] == detail

    def test_a_malformed_json_body_is_400_and_starts_nothing(self, world):
        response = client(world, "finance").post(RUNS, "{not json", content_type="application/json")

        assert_problem(response, 400, "malformed_request")
        assert PaymentRun.objects.count() == 0


# Lists and queries -------------------------------------------------------------------------------------


def second_run(world: PaymentsWorld) -> PaymentRun:
    """After the first run (its Bacs file uploaded), a second run paying one new invoice of bright-care's."""
    first = start_run(world.users["finance"])
    runs.bacs_file_confirm(bacs_file=first.bacs_file, by=world.users["finance"])
    approve(world, "bright-care", number="BC-2")
    return start_run(world.users["finance"])


def more_payments(run: PaymentRun, how_many: int) -> None:
    """Pad a run with bank payments (each holding an invoice no longer), as a run of many providers has."""
    invoice = Invoice.objects.filter(provider__slug="able-assist").first()
    made = Payment.objects.bulk_create(
        [
            Payment(
                run=run,
                provider=provider("able-assist" if n % 2 else "dales-adaptations"),
                rail=Rail.BACS,
                status=PaymentStatus.CANCELLED,
                currency="GBP",
                amount_minor=100 + n,
                destination="200000 55779911",
                destination_name="Able Assist Ltd",
            )
            for n in range(how_many)
        ]
    )
    PaymentInvoice.objects.bulk_create(
        [
            PaymentInvoice(payment=payment, invoice=invoice, amount_minor=100, holding=False)
            for payment in made
        ]
    )


class TestRunsAndPayments:
    def test_runs_newest_first_a_page_at_a_time(self, stripe_world, openapi):
        world = stripe_world
        second = second_run(world)
        first = PaymentRun.objects.exclude(pk=second.pk).get()
        api = client(world, "finance")

        body = api.get(RUNS).json()

        assert [(run["id"], run["status"], run["payments"], run["total"]) for run in body["results"]] == [
            (second.public_id, "done", 1, "85.75"),
            (first.public_id, "done", 3, "1898.75"),
        ]
        for run in body["results"]:
            assert_matches(openapi, run, "PaymentRun")
        page = api.get(f"{RUNS}?page_size=1").json()
        assert [run["id"] for run in page["results"]] == [second.public_id]
        assert [run["id"] for run in api.get(page["next"]).json()["results"]] == [first.public_id]

    def test_a_cursor_this_list_did_not_give_is_404(self, world):
        assert_problem(client(world, "finance").get(f"{RUNS}?cursor=nonsense"), 404)

    def test_a_run_s_payments_and_a_payment_s_invoices(self, stripe_world, openapi):
        world = stripe_world
        run = start_run(world.users["finance"])
        bright, able, dales = (
            payment_of(run, slug) for slug in ("bright-care", "able-assist", "dales-adaptations")
        )
        api = client(world, "finance")

        body = api.get(run_url(run, "payments/")).json()

        assert [
            (p["id"], p["provider"], p["rail"], p["status"], p["amount"], p["invoice_count"])
            for p in body["results"]
        ] == [
            (payment.public_id, payment.provider.public_id, payment.rail, payment.status, amount, 1)
            for payment, amount in sorted(
                [(bright, "85.75"), (able, "63.00"), (dales, "1750.00")], key=lambda pair: pair[0].pk
            )
        ]
        stripe = next(p for p in body["results"] if p["id"] == bright.public_id)
        assert stripe == {
            "id": bright.public_id,
            "run": run.public_id,
            "provider": provider("bright-care").public_id,
            "provider_name": provider("bright-care").name,
            "rail": "stripe",
            "status": "sent",
            "amount": "85.75",
            "currency": "GBP",
            "invoice_count": 1,
            "remittance": bright.remittance.public_id,
            "reference": bright.public_id,
            "stripe_transfer": bright.stripe_transfer_id,
            "error": None,
            "sent_at": stripe["sent_at"],
            "paid_at": None,
            "failed_at": None,
            "acknowledged_at": None,
        }
        assert stripe["sent_at"].endswith("Z")
        bank = next(p for p in body["results"] if p["id"] == dales.public_id)
        assert (bank["status"], bank["remittance"], bank["stripe_transfer"], bank["sent_at"]) == (
            "in_file",
            None,
            None,
            None,
        )
        for payment in body["results"]:
            assert_matches(openapi, payment, "Payment")

        detail = api.get(f"/api/v1/payments/{dales.public_id}/")

        assert detail.status_code == 200
        assert detail.json() == {
            **bank,
            "invoices": [
                {
                    "invoice": world.invoices["dales-adaptations"].public_id,
                    "invoice_number": "DA-1",
                    "amount": "1750.00",
                }
            ],
        }
        assert_matches(openapi, detail.json(), "PaymentDetail")

    def test_unknown_runs_payments_and_files_are_404(self, world):
        api = client(world, "finance")

        assert_problem(api.get(run_url("prun_nothing")), 404)
        assert_problem(api.get(run_url("prun_nothing", "payments/")), 404)
        assert_problem(api.get("/api/v1/payments/pay_nothing/"), 404)
        assert_problem(api.post("/api/v1/payments/pay_nothing/acknowledge/", {}, format="json"), 404)
        assert_problem(api.get("/api/v1/bacs-files/bacs_nothing/"), 404)
        assert_problem(api.post("/api/v1/bacs-files/bacs_nothing/confirm/", {}, format="json"), 404)
        assert_problem(
            api.post("/api/v1/bacs-files/bacs_nothing/cancel/", {"reason": "x"}, format="json"), 404
        )

    def test_the_queries_do_not_grow_with_the_payments(self, stripe_world, django_assert_max_num_queries):
        world = stripe_world
        run = second_run(world)
        assert run.payment_set.count() == 1
        api = client(world, "finance")
        urls = [run_url(run), run_url(run, "payments/"), RUNS]

        def queries(url: str) -> int:
            with CaptureQueriesContext(connection) as captured:
                assert api.get(url).status_code == 200
            return len(captured)

        at_one = {url: queries(url) for url in urls}
        more_payments(run, 60)
        for url in urls:
            with django_assert_max_num_queries(at_one[url]):
                response = api.get(url)
            assert response.status_code == 200
        assert api.get(run_url(run)).json()["progress"]["total"] == 61
        assert len(api.get(run_url(run, "payments/")).json()["results"]) == 50
        assert at_one[run_url(run)] <= 8 and at_one[run_url(run, "payments/")] <= 6


# The Bacs file ------------------------------------------------------------------------------------------


def bacs_url(bacs_file: BacsFile, suffix: str = "") -> str:
    return f"/api/v1/bacs-files/{bacs_file.public_id}/{suffix}"


class TestBacsFile:
    def test_downloading_it_gives_exactly_the_file_written(self, world):
        run = start_run(world.users["finance"])
        bacs_file = BacsFile.objects.get(run=run)

        response = client(world, "finance").get(bacs_url(bacs_file))

        assert response.status_code == 200
        assert response.content == bacs_file.content.encode("ascii")
        assert response["Content-Type"] == "text/plain; charset=us-ascii"
        assert response["Content-Disposition"] == 'attachment; filename="purse-bacs-2026-11-23-000001.txt"'
        assert (
            response["X-Content-SHA256"] == hashlib.sha256(response.content).hexdigest() == bacs_file.sha256
        )
        assert response["Cache-Control"] == "private, no-store"
        downloaded = AuditEvent.objects.filter(action="bacs_file.downloaded", object_id=bacs_file.public_id)
        assert list(downloaded.values_list("actor", flat=True)) == [world.users["finance"].pk]

    def test_asking_for_it_as_text_gives_it_too(self, world):
        start_run(world.users["finance"])
        bacs_file = BacsFile.objects.get()

        response = client(world, "admin").get(bacs_url(bacs_file), HTTP_ACCEPT="text/plain")

        assert (response.status_code, response.content) == (200, bacs_file.content.encode("ascii"))

    def test_confirming_it_pays_the_invoices_and_the_providers_see_their_remittances(self, world, openapi):
        run = start_run(world.users["finance"])
        bacs_file = BacsFile.objects.get(run=run)
        api = client(world, "finance")

        response = api.post(bacs_url(bacs_file, "confirm/"), {}, format="json")

        assert response.status_code == 200, response.content
        assert (response.json()["id"], response.json()["status"]) == (bacs_file.public_id, "uploaded")
        assert response.json()["decided_at"] is not None
        assert_matches(openapi, response.json(), "BacsFile")
        able, dales = payment_of(run, "able-assist"), payment_of(run, "dales-adaptations")
        assert (able.status, dales.status) == ("sent", "sent")
        for slug, payment, amount in (
            ("able-assist", able, "63.00"),
            ("dales-adaptations", dales, "1750.00"),
        ):
            body = invoice_body(world, slug)
            assert body["status"] == "paid"
            assert body["payment"] == {
                "remittance": payment.remittance.public_id,
                "reference": payment.public_id,
                "paid_on": MONDAY,
                "amount": amount,
            }
        detail = api.get(run_url(run)).json()
        assert (detail["status"], detail["progress"]["by_status"]) == ("done", {**BY_STATUS_NONE, "sent": 2})
        assert detail["finished_at"] is not None
        assert detail["bacs_file"]["status"] == "uploaded"
        # Each provider sees its own remittance, and not the other's.
        for slug, payment, invoice_number, amount in (
            ("able-assist", able, "AA-1", "63.00"),
            ("dales-adaptations", dales, "DA-1", "1750.00"),
        ):
            listed = provider_client(slug).get(REMITTANCES).json()["results"]
            assert listed == [
                {
                    "id": payment.remittance.public_id,
                    "provider": provider(slug).public_id,
                    "reference": payment.public_id,
                    "paid_on": MONDAY,
                    "currency": "GBP",
                    "total": amount,
                    "invoices": [
                        {
                            "invoice": world.invoices[slug].public_id,
                            "invoice_number": invoice_number,
                            "amount": amount,
                        }
                    ],
                    "reversed_on": None,
                    "reversal_reason": None,
                }
            ]
            assert_matches(openapi, listed[0], "Remittance")
        assert provider_client("bright-care").get(REMITTANCES).json()["results"] == []

    def test_confirming_again_changes_nothing(self, world):
        start_run(world.users["finance"])
        bacs_file = BacsFile.objects.get()
        api = client(world, "finance")
        first = api.post(bacs_url(bacs_file, "confirm/"), {}, format="json")
        made = counts()

        again = api.post(bacs_url(bacs_file, "confirm/"), {}, format="json")

        assert (again.status_code, again.json()) == (200, first.json())
        assert counts() == made

    def test_cancelling_it_lets_the_invoices_go_into_the_next_run(self, world):
        run = start_run(world.users["finance"])
        bacs_file = BacsFile.objects.get(run=run)
        api = client(world, "finance")

        response = api.post(
            bacs_url(bacs_file, "cancel/"), {"reason": "  The bank rejected it.  "}, format="json"
        )

        assert response.status_code == 200, response.content
        assert response.json()["status"] == "cancelled"
        cancelled = list(run.payment_set.order_by("pk").values_list("status", "error"))
        assert cancelled == [("cancelled", "The bank rejected it."), ("cancelled", "The bank rejected it.")]
        assert [invoice_body(world, slug)["status"] for slug in ("able-assist", "dales-adaptations")] == [
            "approved",
            "approved",
        ]
        assert invoice_body(world, "able-assist")["payment"] is None
        assert api.get(run_url(run)).json()["status"] == "done"
        assert Remittance.objects.count() == 0

        next_run = post_run(api)

        assert next_run.status_code == 202
        assert next_run.json()["id"] != run.public_id
        assert (next_run.json()["invoices"], next_run.json()["total"]) == (2, "1813.00")
        again = BacsFile.objects.get(run__public_id=next_run.json()["id"])
        assert (again.credits, again.total_minor, again.file_number) == (2, 181300, 2)

    def test_confirming_a_cancelled_file_is_409_and_changes_nothing(self, world):
        start_run(world.users["finance"])
        bacs_file = BacsFile.objects.get()
        api = client(world, "finance")
        api.post(bacs_url(bacs_file, "cancel/"), {"reason": "Wrong day"}, format="json")
        made = counts()

        response = api.post(bacs_url(bacs_file, "confirm/"), {}, format="json")

        problem = assert_problem(response, 409, "bacs_file_state_conflict")
        assert problem["detail"] == f"{bacs_file.filename} was cancelled, so it cannot be confirmed."
        assert BacsFile.objects.get().status == "cancelled"
        assert counts() == made

    def test_cancelling_an_uploaded_file_is_409_and_changes_nothing(self, world):
        start_run(world.users["finance"])
        bacs_file = BacsFile.objects.get()
        api = client(world, "finance")
        api.post(bacs_url(bacs_file, "confirm/"), {}, format="json")
        made = counts()

        response = api.post(bacs_url(bacs_file, "cancel/"), {"reason": "Oops"}, format="json")

        problem = assert_problem(response, 409, "bacs_file_state_conflict")
        assert problem["detail"] == f"{bacs_file.filename} was uploaded, so it cannot be cancelled."
        assert BacsFile.objects.get().status == "uploaded"
        assert set(Payment.objects.values_list("status", flat=True)) == {"sent"}
        assert counts() == made

    @pytest.mark.parametrize(
        ("body", "code"),
        [
            ({}, "required"),
            ({"reason": ""}, "blank"),
            ({"reason": "   "}, "blank"),
            ({"reason": None}, "null"),
            ({"reason": "x" * 501}, "max_length"),
            ({"reason": ["The bank rejected it"]}, "invalid"),
        ],
    )
    def test_a_cancel_without_a_reason_is_400_at_reason_and_changes_nothing(self, world, body, code):
        start_run(world.users["finance"])
        bacs_file = BacsFile.objects.get()
        made = counts()

        response = client(world, "finance").post(bacs_url(bacs_file, "cancel/"), body, format="json")

        problem = assert_problem(response, 400, "invalid_request")
        assert [(error["code"], error["pointer"]) for error in problem["errors"]] == [(code, "/reason")]
        assert BacsFile.objects.get().status == "written"
        assert set(Payment.objects.values_list("status", flat=True)) == {"in_file"}
        assert counts() == made


# Warnings and reversals ---------------------------------------------------------------------------------


class TestWarnings:
    def test_a_reversed_payment_is_a_warning_until_acknowledged_and_the_provider_sees_it(
        self, stripe_world, openapi
    ):
        world = stripe_world
        run = start_run(world.users["finance"])
        bright = payment_of(run, "bright-care")
        remittance = bright.remittance
        api = client(world, "finance")
        assert api.get(WARNINGS).json()["results"] == []

        undo(bright, status="reversed", reason="Stripe reversed the transfer.")

        warnings = api.get(WARNINGS).json()["results"]
        assert [(w["id"], w["status"], w["error"], w["amount"]) for w in warnings] == [
            (bright.public_id, "reversed", "Stripe reversed the transfer.", "85.75")
        ]
        assert warnings[0]["failed_at"] is not None and warnings[0]["acknowledged_at"] is None
        assert warnings[0]["invoice_count"] == 1
        assert_matches(openapi, warnings[0], "Payment")
        # The invoice is waiting to be paid again: no payment.
        unpaid = invoice_body(world, "bright-care")
        assert (unpaid["status"], unpaid["payment"]) == ("approved", None)
        # The provider's remittance says the payment did not go through.
        listed = provider_client("bright-care").get(REMITTANCES).json()["results"]
        assert [
            (r["id"], r["reference"], r["total"], r["reversed_on"], r["reversal_reason"]) for r in listed
        ] == [
            (remittance.public_id, bright.public_id, "85.75", "2026-11-20", "Stripe reversed the transfer.")
        ]
        assert_matches(openapi, listed[0], "Remittance")

        acknowledged = api.post(f"/api/v1/payments/{bright.public_id}/acknowledge/", {}, format="json")

        assert acknowledged.status_code == 200, acknowledged.content
        assert acknowledged.json()["acknowledged_at"] is not None
        assert acknowledged.json()["status"] == "reversed"
        assert api.get(WARNINGS).json()["results"] == []
        again = api.post(f"/api/v1/payments/{bright.public_id}/acknowledge/", {}, format="json")
        assert (again.status_code, again.json()["acknowledged_at"]) == (
            200,
            acknowledged.json()["acknowledged_at"],
        )

    def test_a_reversed_invoice_is_paid_by_the_next_run(self, stripe_world):
        world = stripe_world
        run = start_run(world.users["finance"])
        bright = payment_of(run, "bright-care")
        runs.bacs_file_confirm(bacs_file=run.bacs_file, by=world.users["finance"])
        undo(bright, status="failed", reason="The connected account was closed.")

        response = post_run(client(world, "finance"))

        assert response.status_code == 202
        again = Payment.objects.get(run__public_id=response.json()["id"])
        assert (again.provider.slug, again.status, again.amount_minor) == ("bright-care", "sent", 8575)
        paid = invoice_body(world, "bright-care")
        assert (paid["status"], paid["payment"]["reference"]) == ("paid", again.public_id)
        assert len(world.stripe.transfers) == 2

    def test_acknowledging_a_payment_that_did_not_fail_is_409(self, world):
        run = start_run(world.users["finance"])
        payment = payment_of(run, "able-assist")

        response = client(world, "finance").post(
            f"/api/v1/payments/{payment.public_id}/acknowledge/", {}, format="json"
        )

        assert_problem(response, 409, "payment_warning_conflict")
        assert Payment.objects.get(pk=payment.pk).warning_acknowledged_at is None


# Who sees what ------------------------------------------------------------------------------------------


def call(api: APIClient, method: str, url: str, body: Any):
    if (method, url) == ("post", RUNS):
        return post_run(api, body)
    return api.post(url, body, format="json") if method == "post" else api.get(url)


def every_endpoint(run: PaymentRun, payment: Payment, bacs_file: BacsFile) -> list[tuple[str, str, Any]]:
    return [
        ("get", RUNS, None),
        ("post", RUNS, {}),
        ("get", run_url(run), None),
        ("get", run_url(run, "payments/"), None),
        ("get", f"/api/v1/payments/{payment.public_id}/", None),
        ("post", f"/api/v1/payments/{payment.public_id}/acknowledge/", {}),
        ("get", WARNINGS, None),
        ("get", bacs_url(bacs_file), None),
        ("post", bacs_url(bacs_file, "confirm/"), {}),
        ("post", bacs_url(bacs_file, "cancel/"), {"reason": "Not theirs to say"}),
    ]


@pytest.fixture
def paid_world(world) -> tuple[PaymentsWorld, list[tuple[str, str, Any]]]:
    """A run waiting for its Bacs file, one of its payments failed (so a warning), and a new invoice."""
    run = start_run(world.users["finance"])
    payment = payment_of(run, "able-assist")
    bacs_file = BacsFile.objects.get(run=run)
    undo(payment, status=PaymentStatus.FAILED, reason="The bank account was closed.")
    approve(world, "dales-adaptations", number="DA-2", lines=[("2026-10-04", "0.1")])
    return world, every_endpoint(run, payment, bacs_file)


class TestWhoSeesWhat:
    @pytest.mark.parametrize("role", NOT_STAFF)
    def test_everyone_else_gets_404_on_every_endpoint_and_changes_nothing(self, paid_world, role):
        world, endpoints = paid_world
        api = client(world, role)
        before = counts()
        nobody = assert_problem(client(world, "finance").get(run_url("prun_nothing")), 404)

        for method, url, body in endpoints:
            assert assert_problem(call(api, method, url, body), 404) == nobody, (method, url)

        assert counts() == before
        assert BacsFile.objects.get().status == "written"
        assert Payment.objects.get(status="failed").warning_acknowledged_at is None

    @pytest.mark.parametrize("slug", ["bright-care", "able-assist"])
    def test_a_provider_s_api_key_gets_404_on_every_endpoint(self, paid_world, slug):
        _, endpoints = paid_world
        api = provider_client(slug)
        before = counts()

        for method, url, body in endpoints:
            assert_problem(call(api, method, url, body), 404)

        assert counts() == before
        assert BacsFile.objects.get().status == "written"

    def test_without_credentials_every_endpoint_is_401(self, paid_world):
        _, endpoints = paid_world
        api = APIClient()
        before = counts()

        for method, url, body in endpoints:
            assert_problem(call(api, method, url, body), 401, "not_authenticated")

        assert counts() == before

    @pytest.mark.parametrize("role", STAFF)
    def test_finance_and_administrators_reach_every_endpoint(self, paid_world, role):
        world, endpoints = paid_world
        api = client(world, role)

        statuses = []
        for method, url, body in endpoints:
            statuses.append(call(api, method, url, body).status_code)

        # The run is started (202); the Bacs file is confirmed, then cancelling it is refused (409).
        assert statuses == [200, 202, 200, 200, 200, 200, 200, 200, 200, 409]


# The schema ---------------------------------------------------------------------------------------------


class TestSchema:
    OPERATIONS = {
        ("/api/v1/payment-runs/", "get"): "payment_runs_list",
        ("/api/v1/payment-runs/", "post"): "payment_runs_create",
        ("/api/v1/payment-runs/{run}/", "get"): "payment_runs_retrieve",
        ("/api/v1/payment-runs/{run}/payments/", "get"): "payment_runs_payments_list",
        ("/api/v1/payments/{payment}/", "get"): "payments_retrieve",
        ("/api/v1/payments/{payment}/acknowledge/", "post"): "payments_acknowledge",
        ("/api/v1/payment-warnings/", "get"): "payment_warnings_list",
        ("/api/v1/bacs-files/{bacs_file}/", "get"): "bacs_files_retrieve",
        ("/api/v1/bacs-files/{bacs_file}/confirm/", "post"): "bacs_files_confirm",
        ("/api/v1/bacs-files/{bacs_file}/cancel/", "post"): "bacs_files_cancel",
    }

    def test_every_operation_is_documented_with_its_errors(self, openapi):
        for (path, method), operation_id in self.OPERATIONS.items():
            operation = openapi["paths"][path][method]
            assert operation["operationId"] == operation_id
            assert set(operation["responses"]["401"]["content"]) == {PROBLEM}
            assert set(operation["responses"]["404"]["content"]) == {PROBLEM}
        start = openapi["paths"]["/api/v1/payment-runs/"]["post"]["responses"]
        assert {"200", "202", "400"} <= set(start)
        download = openapi["paths"]["/api/v1/bacs-files/{bacs_file}/"]["get"]["responses"]
        assert set(download["200"]["content"]) == {"text/plain"}
        remittance = openapi["components"]["schemas"]["Remittance"]["properties"]
        assert {"reversed_on", "reversal_reason", "reference", "paid_on", "invoices"} <= set(remittance)
