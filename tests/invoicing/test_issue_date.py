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
