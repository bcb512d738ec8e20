"""The demo world's invoices (invoicing/demo.py), seeded through `seed_demo` on a fixed day."""

from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Sum
from django.utils import timezone

from invoicing.models import Invoice, InvoiceEvent, InvoiceStatus, Remittance
from ledger.models import PendingResolution, Transaction, TransactionKind
from plans.models import TimelineEntry

pytestmark = pytest.mark.django_db


def seed(monkeypatch, day: date) -> str:
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: day)
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


class TestDemoInvoices:
    def test_every_status_is_there_on_1_december(self, monkeypatch):
        out = seed(monkeypatch, date(2026, 12, 1))

        statuses = set(Invoice.objects.values_list("status", flat=True))
        assert statuses == set(InvoiceStatus.values)
        assert "Providers' invoices: 13 made now" in out
        on_hold = Invoice.objects.get(status=InvoiceStatus.ON_HOLD)
        assert on_hold.provider.slug == "dales-adaptations"
        assert [finding["code"] for finding in on_hold.findings] == ["over_planned_quantity"]

    def test_the_ledger_agrees_with_the_invoices(self, monkeypatch):
        seed(monkeypatch, date(2026, 12, 1))

        reserved = Invoice.objects.filter(status__in=[InvoiceStatus.APPROVED, InvoiceStatus.PAID])
        assert all(invoice.reservation.kind == TransactionKind.PENDING for invoice in reserved)
        paid = Invoice.objects.filter(status=InvoiceStatus.PAID)
        assert (
            PendingResolution.objects.filter(pending__in=[i.reservation for i in paid]).count()
            == paid.count()
        )
        assert Remittance.objects.aggregate(total=Sum("total_minor"))["total"] == sum(
            i.total_minor for i in paid
        )
        unresolved = Transaction.objects.filter(
            kind=TransactionKind.PENDING, metadata__kind="invoice_reservation", resolution__isnull=True
        )
        assert set(unresolved) == {
            invoice.reservation for invoice in Invoice.objects.filter(status=InvoiceStatus.APPROVED)
        }

    def test_decisions_are_dated_the_day_they_were_made(self, monkeypatch):
        seed(monkeypatch, date(2026, 12, 1))

        august = Invoice.objects.get(invoice_number="BC-2026-08")
        assert august.reservation.effective_on == date(2026, 9, 2)
        assert august.remittance_line.remittance.paid_on == date(2026, 9, 8)
        rule_approved = Invoice.objects.get(invoice_number="AA-1003")
        assert rule_approved.status == InvoiceStatus.APPROVED
        assert InvoiceEvent.objects.filter(invoice=rule_approved, by_role="rule").exists()

    def test_seeding_early_leaves_out_what_has_not_happened_yet(self, monkeypatch):
        seed(monkeypatch, date(2026, 9, 5))

        numbers = set(Invoice.objects.values_list("invoice_number", flat=True))
        assert numbers == {"BC-2026-08", "AA-1001"}
        assert (
            Invoice.objects.get(invoice_number="BC-2026-08").status == InvoiceStatus.APPROVED
        )  # paid on 8 Sept

    def test_seeding_again_changes_nothing(self, monkeypatch):
        seed(monkeypatch, date(2026, 12, 1))
        before = (Invoice.objects.count(), Transaction.objects.count(), TimelineEntry.objects.count())

        out = seed(monkeypatch, date(2026, 12, 1))

        assert (Invoice.objects.count(), Transaction.objects.count(), TimelineEntry.objects.count()) == before
        assert "Providers' invoices: 0 made now" in out
