"""Property-based tests of the whole API from its live OpenAPI schema (schemathesis), with a provider's key.

The schema is read from the running Django app (`GET /api/schema/` through WSGI), and schemathesis
generates requests for every operation from it, valid and invalid, and sends them through WSGI as
bright-care's systems would, with bright-care's API key:

* every operation: no answer is a 5xx (api.md: "A 5xx is a bug") and every answer matches the schema the
  operation documents for its status code;
* the invoicing operations (api/invoicing.py), again with the ids of real records put into the generated
  requests (an invoice of bright-care's, Alex and the support item bright-care is engaged for, an
  auto-approval rule), so that requests get past "not found" into the rules: also, every status code and
  content type is one the schema documents.

The world (tests/invoicing/world.py, with a few of bright-care's invoices and an auto-approval rule) is built
once for the module, in a transaction rolled back at the end; generated requests add to it as they go.
Examples per operation are few, and Hypothesis' deadline is off, so that the module runs in about a minute.
"""

import itertools
import re
import zlib
from datetime import date
from decimal import Decimal

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.test import Client
from django.test.utils import override_settings
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from invoicing import services as invoicing_services
from people import services as people_services
from people.models import Organisation
from tests.invoicing.world import build_invoicing_world, invoice_body, money

PROVIDER = "bright-care"
# The operations of api/invoicing.py.
INVOICING = (
    r"^/api/v1/(invoices|engagements|remittances|auto-approval-rules|people/\{per\}/auto-approval-rules)/"
)
EXAMPLES = 25
AGREED_RATE = "24.50"  # bright-care's for Alex's personal care (tests/invoicing/world.py)
_KEYS = itertools.count()

# Each test's own writes are rolled back after it (the world's stay until the end of the module).
pytestmark = pytest.mark.django_db

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", WSGIHandler())

every_operation = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None
)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """The invoicing world with bright-care's key, a few of its invoices and an auto-approval rule, built
    once, in a transaction rolled back after the module's tests.

    Generated requests reach the app through WSGI in this thread, so they see the transaction; Django's
    request signals would close its connection after each request, as Django's own test client prevents.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    monkeypatch = pytest.MonkeyPatch()
    throttle = {
        **django_settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"provider_key": "1000000/minute"},
    }
    try:
        with (
            django_db_blocker.unblock(),
            override_settings(
                REST_FRAMEWORK=throttle,
                PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
            ),
            transaction.atomic(),
        ):
            built = build_invoicing_world(monkeypatch)
            provider = Organisation.objects.get(slug=PROVIDER)
            key, raw = people_services.provider_api_key_issue(
                provider=provider, name="schemathesis", issued_by=None
            )
            invoices = [
                invoicing_services.invoice_submit(
                    provider=provider,
                    submitted_by=key.service_user,
                    request=_request(invoice_body(built.care, number=f"ST-{n}", lines=[(day, "1.00")])),
                ).public_id
                for n, day in enumerate(["2026-10-01", "2026-10-02", "2026-10-03", "2026-10-04"])
            ]
            rule = invoicing_services.auto_approval_rule_set(
                budget_holder=built.base.alex,
                provider=provider,
                max_total_minor=10_000,
                currency="GBP",
                by=built.users["holder"],
            )
            yield {
                "authorization": f"Bearer {raw}",
                "invoices": invoices,
                "person": built.base.alex.public_id,
                "support_item": built.care.support_item_public_id,
                "provider": provider.public_id,
                "rule": rule.public_id,
                "plan_version": built.base.v1.public_id,
                "care": built.care,
            }
            transaction.set_rollback(True)
    finally:
        monkeypatch.undo()
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _request(body):
    lines = tuple(
        invoicing_services.InvoiceLineRequest(
            support_item=line["support_item"],
            service_date=date.fromisoformat(line["service_date"]),
            quantity=Decimal(line["quantity"]),
            unit_price=line["unit_price"],
            amount=line["amount"],
            description=line["description"],
        )
        for line in body["lines"]
    )
    return invoicing_services.InvoiceRequest(
        invoice_number=body["invoice_number"],
        person=body["person"],
        issued_on=date.fromisoformat(body["issued_on"]),
        currency=body["currency"],
        total=body["total"],
        lines=lines,
    )


@schema.parametrize()
@every_operation
def test_every_operation_answers_without_a_server_error_as_its_schema_says(case, world):
    case.call_and_validate(
        headers={"Authorization": world["authorization"]},
        checks=[not_a_server_error, response_schema_conformance],
    )


@schema.include(path_regex=INVOICING).parametrize()
@every_operation
def test_invoicing_operations_with_real_ids_answer_only_what_their_schema_documents(case, world):
    # Which invoice, and whether the body gets real ids too, follows from the generated request.
    _with_real_ids(case, world, pick=zlib.crc32(repr((case.body, case.query)).encode()))

    case.call_and_validate(
        headers={"Authorization": world["authorization"]},
        checks=[
            not_a_server_error,
            response_schema_conformance,
            status_code_conformance,
            content_type_conformance,
        ],
    )


def _with_real_ids(case, world, pick: int) -> None:
    """Put real ids where the request names a record: always in the path; half the time in the body too,
    with a usable Idempotency-Key; and a quarter of the time an invoice's lines made to add up (at the agreed
    rate, on a day of the plan), so that generated quantities reach the checks and the database."""
    real = {
        "id": world["invoices"][pick % len(world["invoices"])],
        "per": world["person"],
        "aar": world["rule"],
        "plv": world["plan_version"],
    }
    for name in list(case.path_parameters or {}):
        if name in real:
            case.path_parameters[name] = real[name]
    if pick % 2:
        return
    if case.headers and "Idempotency-Key" in case.headers:
        case.headers["Idempotency-Key"] = f"schemathesis-{next(_KEYS)}"
    if not isinstance(case.body, dict):
        return
    for field, value in (("person", world["person"]), ("provider", world["provider"])):
        if isinstance(case.body.get(field), str):
            case.body[field] = value
    if isinstance(case.body.get("currency"), str):
        case.body["currency"] = "GBP"
    lines = [line for line in case.body.get("lines") or [] if isinstance(line, dict)]
    for line in lines:
        if isinstance(line.get("support_item"), str):
            line["support_item"] = world["support_item"]
    if pick % 4 == 0 and lines and all(_decimal(line.get("quantity")) is not None for line in lines):
        for index, line in enumerate(lines):
            line["service_date"] = f"2026-10-{index % 28 + 1:02d}"
            line["unit_price"] = AGREED_RATE
            line["amount"] = money(_decimal(line["quantity"]) * Decimal(AGREED_RATE))
        case.body["total"] = money(sum(Decimal(line["amount"]) for line in lines))


def _decimal(text):
    try:
        value = Decimal(text) if isinstance(text, str) and text.isascii() else None
    except ArithmeticError:
        return None
    return value if value is not None and value.is_finite() and abs(value) < 10**15 else None


# Schemathesis never puts control characters in a path (many servers refuse them before routing), so this
# one is sent by hand: a NUL in any path parameter, on every operation that has one.
WITH_PATH_PARAMETERS = [
    (method.upper(), path)
    for path, item in schema.raw_schema["paths"].items()
    if "{" in path
    for method in item
    if method in {"get", "post", "patch", "put", "delete"}
]


@pytest.mark.parametrize(("method", "path"), WITH_PATH_PARAMETERS)
def test_a_nul_in_a_path_parameter_names_nothing(method, path, world):
    url = re.sub(r"\{[^}]+\}", "a%00b", path)

    response = Client().generic(
        method, url, "{}", "application/json", HTTP_AUTHORIZATION=world["authorization"]
    )

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


# Found by hand beside the generated requests (which seldom write quantities this long): the largest
# quantity an invoice line holds is stored, one digit more is refused as a broken rule, never a 500.
@pytest.mark.parametrize(
    ("quantity", "status"), [("9999999999.99", 201), ("10000000000", 422), ("123456789012345", 422)]
)
def test_a_quantity_too_large_to_store_is_invalid_quantity(quantity, status, world):
    body = invoice_body(world["care"], number=f"BIG-{quantity}", lines=[("2026-10-05", quantity)])

    response = Client().post(
        "/api/v1/invoices/", body, content_type="application/json", HTTP_AUTHORIZATION=world["authorization"]
    )

    assert response.status_code == status, response.content
    if status == 422:
        assert [error["code"] for error in response.json()["errors"]] == ["invalid_quantity"]
