import pytest

from invoicing.models import Invoice
from tests.invoicing.world import build_invoicing_world, invoice_body, provider_client

pytestmark = pytest.mark.django_db


class TestIssueDate:
    def test_an_invoice_dated_after_today_is_refused_and_nothing_is_stored(self, monkeypatch):
        w = build_invoicing_world(monkeypatch)
        body = invoice_body(w.care) | {"issued_on": "2026-11-21"}

        response = provider_client("bright-care").post("/api/v1/invoices/", body, format="json")

        assert response.status_code == 422
        assert response.json()["errors"] == [
            {
                "code": "future_issue_date",
                "pointer": "/issued_on",
                "detail": "2026-11-21 is after today: date the invoice the day you send it, or earlier.",
            }
        ]
        assert not Invoice.objects.exists()

    def test_an_invoice_dated_today_is_accepted(self, monkeypatch):
        w = build_invoicing_world(monkeypatch)
        body = invoice_body(w.care) | {"issued_on": "2026-11-20"}

        response = provider_client("bright-care").post("/api/v1/invoices/", body, format="json")

        assert response.status_code == 201, response.json()


class TestHistoryNames:
    def test_a_provider_does_not_read_the_names_of_who_decided(self, monkeypatch):
        w = build_invoicing_world(monkeypatch)
        provider = provider_client("bright-care")
        invoice = provider.post("/api/v1/invoices/", invoice_body(w.care), format="json").json()["id"]
        w.client("rep_approve").post(f"/api/v1/invoices/{invoice}/approve/", {}, format="json")

        seen_by_provider = provider.get(f"/api/v1/invoices/{invoice}/").json()["history"]
        seen_by_holder = w.client("holder").get(f"/api/v1/invoices/{invoice}/").json()["history"]

        assert [(e["status"], e["by"]) for e in seen_by_provider] == [
            ("submitted", "provider"),
            ("approved", "representative"),
        ]
        assert seen_by_provider[1]["by_name"] is None
        assert seen_by_provider[0]["by_name"] == "Bright Care (API)"
        rep = w.users["rep_approve"]
        assert seen_by_holder[1]["by_name"] == rep.get_full_name()
