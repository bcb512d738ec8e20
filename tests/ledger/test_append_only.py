from datetime import date

import pytest
from django.db import transaction
from django.db.models import ProtectedError

from ledger.models import AppendOnlyViolation, PendingResolution, PeriodClose, Posting, Transaction
from ledger.services import pending_void, period_close
from tests.ledger.factories import EFFECTIVE_ON, TransferFactory

pytestmark = pytest.mark.django_db


class TestModelGuards:
    def test_a_saved_transaction_cannot_be_saved_again(self):
        posted = TransferFactory()
        posted.description = "changed"

        with pytest.raises(AppendOnlyViolation) as caught:
            posted.save()

        assert caught.value.code == "append_only"
        posted.refresh_from_db()
        assert posted.description != "changed"

    def test_a_posting_cannot_be_saved_again_or_deleted(self):
        posting = TransferFactory().postings.first()
        posting.amount_minor = 1

        with pytest.raises(AppendOnlyViolation):
            posting.save()
        with pytest.raises(AppendOnlyViolation):
            posting.delete()

    @pytest.mark.parametrize("model", [Transaction, Posting, PendingResolution, PeriodClose])
    def test_querysets_refuse_update_and_delete(self, model):
        TransferFactory()

        with pytest.raises(AppendOnlyViolation):
            model.objects.all().update(id=1)
        with pytest.raises(AppendOnlyViolation):
            model.objects.filter(pk__gt=0).delete()
        with pytest.raises(AppendOnlyViolation):
            model.objects.update(id=1)

    def test_bulk_update_is_refused(self):
        posting = TransferFactory().postings.first()
        posting.amount_minor = 2

        # bulk_update's own atomic(savepoint=False) would doom the test's transaction: give it a savepoint
        with pytest.raises(AppendOnlyViolation), transaction.atomic():
            Posting.objects.bulk_update([posting], ["amount_minor"])
        posting.refresh_from_db()
        assert posting.amount_minor == 1000

    def test_resolutions_and_closes_cannot_be_changed_or_deleted(self):
        resolution = pending_void(
            pending=TransferFactory(reserve=True), idempotency_key="v", effective_on=EFFECTIVE_ON
        )
        close = period_close(closed_through=date(2026, 3, 31), closed_by="usr_finance")

        for row in (resolution, close):
            with pytest.raises(AppendOnlyViolation):
                row.save()
            with pytest.raises(AppendOnlyViolation):
                row.delete()

    def test_an_account_with_postings_cannot_be_deleted(self):
        posted = TransferFactory()
        account = posted.postings.first().account

        with pytest.raises(ProtectedError):
            account.delete()
