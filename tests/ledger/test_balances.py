from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ledger.models import AccountType, Posting
from ledger.selectors import account_balance, account_postings
from ledger.services import pending_post, pending_void, transaction_reverse
from tests.ledger.factories import AccountFactory, TransferFactory

pytestmark = pytest.mark.django_db

APRIL_1, APRIL_10, APRIL_20, APRIL_30 = (
    date(2026, 4, 1),
    date(2026, 4, 10),
    date(2026, 4, 20),
    date(2026, 4, 30),
)


class TestAccountBalanceNow:
    @pytest.mark.parametrize(
        ("account_type", "debited", "credited", "expected"),
        [
            (AccountType.ASSET, 1000, 300, 700),
            (AccountType.EXPENSE, 1000, 300, 700),
            (AccountType.LIABILITY, 300, 1000, 700),
            (AccountType.INCOME, 300, 1000, 700),
            (AccountType.EQUITY, 300, 1000, 700),
        ],
    )
    def test_posted_balance_is_on_the_accounts_normal_side(self, account_type, debited, credited, expected):
        account = AccountFactory(type=account_type)
        TransferFactory(debit=account, amount_minor=debited)
        TransferFactory(credit=account, amount_minor=credited)

        balance = account_balance(account=account)

        assert balance.posted_minor == balance.available_minor == expected
        assert (balance.debits_posted, balance.credits_posted) == (debited, credited)
        assert balance.currency == "GBP"
        assert balance.account_public_id == account.public_id
        assert balance.on is None

    def test_available_takes_off_only_pending_amounts_that_reduce_it(self):
        bank = AccountFactory(type=AccountType.ASSET)
        TransferFactory(debit=bank, amount_minor=1000)
        TransferFactory(reserve=True, credit=bank, amount_minor=300)  # would reduce an asset
        TransferFactory(reserve=True, debit=bank, amount_minor=200)  # would increase it: not yet available

        balance = account_balance(account=bank)

        assert (balance.posted_minor, balance.available_minor) == (1000, 700)
        assert (balance.debits_pending, balance.credits_pending) == (200, 300)

    def test_reads_one_row_whatever_the_number_of_postings(self):
        bank = AccountFactory()
        for _ in range(30):
            TransferFactory(debit=bank, amount_minor=1)

        with CaptureQueriesContext(connection) as queries:
            balance = account_balance(account=bank)

        assert balance.posted_minor == 30
        assert len(queries) == 1
        assert "ledger_posting" not in queries[0]["sql"]

    def test_reads_fresh_totals_not_the_callers_stale_instance(self):
        bank = AccountFactory()
        TransferFactory(debit=bank, amount_minor=5)

        assert bank.debits_posted == 0  # the instance in hand is stale
        assert account_balance(account=bank).posted_minor == 5


class TestAccountBalanceOnADate:
    def test_counts_postings_effective_on_or_before_the_date(self):
        bank = AccountFactory()
        TransferFactory(debit=bank, amount_minor=100, effective_on=APRIL_1)
        TransferFactory(debit=bank, amount_minor=20, effective_on=APRIL_10)
        TransferFactory(credit=bank, amount_minor=5, effective_on=APRIL_20)

        assert account_balance(account=bank, on=date(2026, 3, 31)).posted_minor == 0
        assert account_balance(account=bank, on=APRIL_1).posted_minor == 100
        assert account_balance(account=bank, on=APRIL_10).posted_minor == 120
        assert account_balance(account=bank, on=APRIL_20).posted_minor == 115
        assert account_balance(account=bank, on=APRIL_20).on == APRIL_20

    def test_a_reservation_counts_from_its_date_until_it_is_posted(self):
        held = AccountFactory(type=AccountType.LIABILITY)
        TransferFactory(credit=held, amount_minor=1000, effective_on=APRIL_1)
        pending = TransferFactory(reserve=True, debit=held, amount_minor=300, effective_on=APRIL_10)
        pending_post(pending=pending, idempotency_key="p", effective_on=APRIL_20, amount_minor=250)

        before = account_balance(account=held, on=APRIL_1)
        reserved = account_balance(account=held, on=APRIL_10)
        posted = account_balance(account=held, on=APRIL_20)

        assert (before.posted_minor, before.available_minor) == (1000, 1000)
        assert (reserved.posted_minor, reserved.available_minor, reserved.debits_pending) == (1000, 700, 300)
        assert (posted.posted_minor, posted.available_minor, posted.debits_pending) == (750, 750, 0)

    def test_a_voided_reservation_stops_counting_on_the_void_date(self):
        held = AccountFactory(type=AccountType.LIABILITY)
        TransferFactory(credit=held, amount_minor=1000, effective_on=APRIL_1)
        pending = TransferFactory(reserve=True, debit=held, amount_minor=300, effective_on=APRIL_10)
        pending_void(pending=pending, idempotency_key="v", effective_on=APRIL_20)

        assert account_balance(account=held, on=APRIL_10).available_minor == 700
        assert account_balance(account=held, on=APRIL_20).available_minor == 1000

    def test_a_reversal_counts_from_its_own_date(self):
        bank = AccountFactory()
        original = TransferFactory(debit=bank, amount_minor=100, effective_on=APRIL_1)
        transaction_reverse(transaction=original, idempotency_key="r", effective_on=APRIL_20, reason="x")

        assert account_balance(account=bank, on=APRIL_10).posted_minor == 100
        assert account_balance(account=bank, on=APRIL_20).posted_minor == 0

    def test_a_date_after_everything_agrees_with_the_current_balance(self):
        held = AccountFactory(type=AccountType.LIABILITY)
        TransferFactory(credit=held, amount_minor=1000, effective_on=APRIL_1)
        TransferFactory(reserve=True, debit=held, amount_minor=300, effective_on=APRIL_10)
        resolved = TransferFactory(reserve=True, debit=held, amount_minor=100, effective_on=APRIL_10)
        pending_void(pending=resolved, idempotency_key="v", effective_on=APRIL_20)

        now = account_balance(account=held)
        later = account_balance(account=held, on=date(2099, 1, 1))

        for field in (
            "posted_minor",
            "available_minor",
            "debits_pending",
            "credits_pending",
            "debits_posted",
        ):
            assert getattr(later, field) == getattr(now, field)


class TestAccountPostings:
    def test_lists_postings_oldest_first_within_dates(self):
        bank = AccountFactory()
        late = TransferFactory(debit=bank, amount_minor=3, effective_on=APRIL_30)
        early = TransferFactory(debit=bank, amount_minor=1, effective_on=APRIL_1)
        middle = TransferFactory(credit=bank, amount_minor=2, effective_on=APRIL_10)

        everything = list(account_postings(account=bank))
        april_10_to_30 = list(account_postings(account=bank, from_on=APRIL_10, through_on=APRIL_20))

        assert [p.transaction for p in everything] == [early, middle, late]
        assert [p.transaction for p in april_10_to_30] == [middle]
        assert all(isinstance(p, Posting) for p in everything)
