from datetime import date, timedelta

import pytest
from django.utils import timezone

from ledger.models import PeriodClose
from ledger.selectors import account_balance, period_closed_through
from ledger.services import (
    PeriodAlreadyClosed,
    PeriodClosed,
    PeriodCloseInFuture,
    pending_post,
    pending_void,
    period_close,
    transaction_reverse,
)
from tests.ledger.factories import AccountFactory, TransferFactory

pytestmark = pytest.mark.django_db

MARCH_END = date(2026, 3, 31)


class TestPeriodClose:
    def test_records_who_closed_what_and_when(self):
        close = period_close(closed_through=MARCH_END, closed_by="usr_finance")

        assert (close.closed_through, close.closed_by) == (MARCH_END, "usr_finance")
        assert close.closed_at is not None
        assert period_closed_through() == MARCH_END

    def test_nothing_is_closed_at_first(self):
        assert period_closed_through() is None

    @pytest.mark.parametrize("effective_on", [MARCH_END, date(2026, 1, 1)])
    def test_refuses_postings_on_or_before_the_closed_date(self, effective_on):
        bank = AccountFactory()
        period_close(closed_through=MARCH_END, closed_by="usr_finance")

        with pytest.raises(PeriodClosed) as caught:
            TransferFactory(debit=bank, effective_on=effective_on)

        assert caught.value.code == "period_closed"
        assert "2026-03-31" in caught.value.message
        assert account_balance(account=bank).posted_minor == 0

    def test_allows_postings_after_the_closed_date(self):
        period_close(closed_through=MARCH_END, closed_by="usr_finance")

        TransferFactory(effective_on=MARCH_END + timedelta(days=1))

    def test_refuses_reservations_and_their_resolutions_in_a_closed_period(self):
        pending = TransferFactory(reserve=True, effective_on=date(2026, 3, 1))
        other = TransferFactory(reserve=True, effective_on=date(2026, 3, 1))
        period_close(closed_through=MARCH_END, closed_by="usr_finance")

        with pytest.raises(PeriodClosed):
            TransferFactory(reserve=True, effective_on=MARCH_END)
        with pytest.raises(PeriodClosed):
            pending_post(pending=pending, idempotency_key="p", effective_on=MARCH_END)
        with pytest.raises(PeriodClosed):
            pending_void(pending=pending, idempotency_key="v", effective_on=MARCH_END)
        # resolved after the close, dated in the open period: allowed
        pending_post(pending=pending, idempotency_key="p2", effective_on=date(2026, 4, 1))
        pending_void(pending=other, idempotency_key="v2", effective_on=date(2026, 4, 1))

    def test_corrections_to_a_closed_period_are_dated_after_it(self):
        original = TransferFactory(effective_on=date(2026, 3, 15))
        period_close(closed_through=MARCH_END, closed_by="usr_finance")

        with pytest.raises(PeriodClosed):
            transaction_reverse(transaction=original, idempotency_key="r", effective_on=MARCH_END, reason="x")
        transaction_reverse(
            transaction=original, idempotency_key="r", effective_on=date(2026, 4, 1), reason="x"
        )

    def test_a_replay_of_a_transaction_made_before_the_close_still_returns_it(self):
        debit, credit = AccountFactory(), AccountFactory()
        arguments = {
            "debit": debit,
            "credit": credit,
            "effective_on": date(2026, 3, 15),
            "idempotency_key": "k",
            "description": "d",
        }
        first = TransferFactory(**arguments)
        period_close(closed_through=MARCH_END, closed_by="usr_finance")

        assert TransferFactory(**arguments).pk == first.pk

    def test_closing_the_same_date_again_returns_the_first_close(self):
        first = period_close(closed_through=MARCH_END, closed_by="usr_finance")

        again = period_close(closed_through=MARCH_END, closed_by="usr_other")

        assert again.pk == first.pk
        assert PeriodClose.objects.count() == 1

    def test_refuses_to_close_an_earlier_date_than_the_latest_close(self):
        period_close(closed_through=MARCH_END, closed_by="usr_finance")

        with pytest.raises(PeriodAlreadyClosed) as caught:
            period_close(closed_through=date(2026, 2, 28), closed_by="usr_finance")
        assert caught.value.code == "period_already_closed"

    def test_moves_forward(self):
        period_close(closed_through=date(2026, 2, 28), closed_by="usr_finance")
        period_close(closed_through=MARCH_END, closed_by="usr_finance")

        assert period_closed_through() == MARCH_END

    def test_refuses_a_date_that_has_not_ended(self):
        tomorrow = timezone.localdate() + timedelta(days=1)

        with pytest.raises(PeriodCloseInFuture):
            period_close(closed_through=tomorrow, closed_by="usr_finance")
        assert not PeriodClose.objects.exists()
