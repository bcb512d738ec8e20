"""What a provider learns from a refused submission: nothing about items that were never in force."""

from decimal import Decimal

import pytest

from plans.services import versions
from tests.invoicing.world import build_invoicing_world, invoice_body, provider_client
from tests.plans.factories import provider

pytestmark = pytest.mark.django_db


class TestDraftItems:
    def test_an_item_only_in_a_draft_is_unknown_not_unengaged(self, monkeypatch):
        w = build_invoicing_world(monkeypatch)
        draft_item = versions.support_item_add(
            version=w.base.v2,
            by=w.users["navigator"],
            service_code="ASC-DAY",
            quantity=Decimal("1"),
            per="week",
            outcomes=[w.base.outcome_in(w.base.v2, "flat")],
            provider=provider("able-assist"),
            agreed_rate_minor=6450,
        )
        body = invoice_body(w.care)
        body["lines"][0]["support_item"] = draft_item.public_id

        response = provider_client("bright-care").post("/api/v1/invoices/", body, format="json")

        assert response.status_code == 422
        assert [e["code"] for e in response.json()["errors"]] == ["unknown_support_item"]

    def test_an_item_in_force_with_another_provider_is_not_engaged(self, monkeypatch):
        w = build_invoicing_world(monkeypatch)
        body = invoice_body(w.care)
        body["lines"][0]["support_item"] = w.work.support_item_public_id

        response = provider_client("bright-care").post("/api/v1/invoices/", body, format="json")

        assert [e["code"] for e in response.json()["errors"]] == ["not_engaged"]
