"""The demo world's funding received (payments/demo.py), seeded through `seed_demo` on a fixed day."""

from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Sum
from django.utils import timezone

from budgets.models import Instalment, InstalmentStatus
from ledger.models import Account
from ledger.selectors import account_balance
from payments.models import FundingReceipt

pytestmark = pytest.mark.django_db

DAY = date(2026, 12, 2)  # the instalments due on 1 December are late; those before were paid


def seed(monkeypatch, day: date) -> str:
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: day)
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


class TestDemoFunding:
    def test_the_agencies_paid_what_fell_due_two_weeks_ago_and_the_rest_is_late(self, monkeypatch):
        out = seed(monkeypatch, DAY)

        received = Instalment.objects.filter(status=InstalmentStatus.RECEIVED)
        assert received.exists()
        assert all(instalment.due_on <= DAY - timedelta(days=14) for instalment in received)
        assert all(instalment.received_on is not None for instalment in received)
        late = Instalment.objects.filter(status=InstalmentStatus.DUE, due_on__lt=DAY)
        assert late.exists()
        assert all(instalment.due_on > DAY - timedelta(days=14) for instalment in late)
        receipts = FundingReceipt.objects.count()
        assert f"Funding received: {receipts} payments from the agencies recorded" in out

    def test_the_bank_holds_exactly_what_the_receipts_say(self, monkeypatch):
        seed(monkeypatch, DAY)

        receipts = FundingReceipt.objects.aggregate(total=Sum("amount_minor"))["total"]
        instalments = Instalment.objects.filter(status=InstalmentStatus.RECEIVED).aggregate(
            total=Sum("amount_minor")
        )["total"]
        bank = account_balance(account=Account.objects.get(key="payments:cash:bank:GBP"))
        assert receipts == instalments == bank.posted_minor
        assert bank.posted_minor > 0

    def test_seeding_again_records_nothing_more(self, monkeypatch):
        seed(monkeypatch, DAY)
        first = (FundingReceipt.objects.count(), Instalment.objects.filter(status="received").count())

        seed(monkeypatch, DAY)

        assert (FundingReceipt.objects.count(), Instalment.objects.filter(status="received").count()) == first


class TestDemoReconciliation:
    def test_the_bank_statement_is_imported_and_matched_with_one_suggestion_and_one_charge(self, monkeypatch):
        from ledger.reconciliation.models import ReconciliationAccount, StatementImport, StatementLine

        out = seed(monkeypatch, DAY)

        bank = ReconciliationAccount.objects.get(key="bank:GBP")
        assert ReconciliationAccount.objects.filter(key="stripe:GBP").exists()
        imported = StatementImport.objects.get(account=bank)
        lines = StatementLine.objects.filter(statement_import=imported)
        suggested = lines.get(state="suggested")
        assert suggested.matches.get().how == "reference_amount_differs"
        assert lines.get(state="unmatched").description == "SERVICE CHARGES"
        matched = lines.filter(state="matched").count()
        assert matched == lines.count() - 2 > 0
        assert f"({matched} lines matched, 1 suggested, 1 unmatched" in out

    def test_a_reserve_and_a_reclaim_notice_for_holder(self, monkeypatch):
        from budgets.models import LegitimateReserve
        from payments.models import ReclaimNotice

        out = seed(monkeypatch, DAY)

        reserve = LegitimateReserve.objects.get(budget_holder__user__username="holder")
        assert reserve.entered_by.username == "navigator" and reserve.amount_minor > 0
        notice = ReclaimNotice.objects.get(budget_holder__user__username="holder")
        assert notice.status == "notified" and notice.raised_by.username == "finance"
        assert notice.reclaim_on >= DAY + timedelta(weeks=notice.stream.reclaim_notice_weeks)
        assert "Surplus: finance has given holder notice" in out

    def test_seeding_again_imports_and_reclaims_nothing_more(self, monkeypatch):
        from budgets.models import LegitimateReserve
        from ledger.reconciliation.models import ReconciliationMatch, StatementLine
        from payments.models import ReclaimNotice

        seed(monkeypatch, DAY)
        first = [
            model.objects.count()
            for model in (StatementLine, ReconciliationMatch, LegitimateReserve, ReclaimNotice)
        ]
        seed(monkeypatch, DAY)
        seed(monkeypatch, DAY + timedelta(days=1))  # the next day's statement overlaps: nothing is doubled
        again = [
            model.objects.count()
            for model in (StatementLine, ReconciliationMatch, LegitimateReserve, ReclaimNotice)
        ]
        # Only the next day's service charges are new; the receipts' lines were imported the day before.
        assert again[0] == first[0] + 1 and again[2:] == first[2:]
        assert (
            ReconciliationMatch.objects.filter(status="matched").count()
            == StatementLine.objects.filter(state="matched").count()
        )
