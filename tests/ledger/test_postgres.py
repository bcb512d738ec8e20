"""What only PostgreSQL can show: its triggers, and real concurrency with row locks and commits."""

import threading
import time
from datetime import date

import pytest
from django.db import IntegrityError, connection, transaction

from ledger.models import AccountType, Posting, Side, Transaction
from ledger.selectors import account_balance
from ledger.services import (
    PERIOD_LOCK_KEY,
    AlreadyReversed,
    InsufficientFunds,
    PendingAlreadyResolved,
    PostingSpec,
    pending_post,
    pending_void,
    period_close,
    transaction_post,
    transaction_reverse,
)
from tests.concurrency import run_in_threads
from tests.ledger.factories import AccountFactory, TransferFactory

pytestmark = pytest.mark.postgres

LEDGER_TABLES = ["ledger_transaction", "ledger_posting", "ledger_pendingresolution", "ledger_periodclose"]


def _raw(sql, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.mark.django_db
class TestAppendOnlyTriggers:
    @pytest.mark.parametrize(
        "sql", ["UPDATE ledger_posting SET amount_minor = 1", "DELETE FROM ledger_posting"]
    )
    def test_raw_update_and_delete_of_postings_fail(self, sql):
        TransferFactory(amount_minor=500)

        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
            _raw(sql)

        assert list(Posting.objects.values_list("amount_minor", flat=True)) == [500, 500]

    @pytest.mark.parametrize("table", LEDGER_TABLES)
    def test_raw_update_and_delete_fail_on_every_ledger_table(self, table):
        pending = TransferFactory(reserve=True)
        pending_void(pending=pending, idempotency_key="v", effective_on=date(2026, 4, 2))
        period_close(closed_through=date(2026, 1, 31), closed_by="usr_finance")

        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
            _raw(f"UPDATE {table} SET id = id")
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
            _raw(f"DELETE FROM {table}")

    def test_the_triggers_are_ordinary_enabled_triggers(self):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT tgname, tgenabled FROM pg_trigger WHERE tgname LIKE 'ledger_%%' AND NOT tgisinternal"
            )
            triggers = dict(cursor.fetchall())
        assert len(triggers) == 2 + 2 * len(LEDGER_TABLES)
        assert set(triggers.values()) == {"O"}  # fire in origin mode, not in replica mode


@pytest.mark.django_db(transaction=True)
class TestTruncateTrigger:
    """Committed rows (a TRUNCATE in the transaction that wrote them meets their pending trigger events)."""

    @pytest.mark.parametrize("table", ["ledger_posting", "ledger_periodclose"])
    def test_truncate_fails(self, table):
        TransferFactory()
        period_close(closed_through=date(2026, 1, 31), closed_by="usr_finance")

        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
            _raw(f"TRUNCATE {table}")

        assert Posting.objects.count() == 2


@pytest.mark.django_db(transaction=True)
class TestBalanceTrigger:
    def _insert_transaction(self, cursor, key, currency="GBP"):
        cursor.execute(
            "INSERT INTO ledger_transaction (public_id, kind, currency, description, effective_on, metadata,"
            " idempotency_key, request_hash, created_at)"
            " VALUES (%s, 'posted', %s, 'raw', '2026-04-01', '{}', %s, '', now()) RETURNING id",
            [f"txn_raw_{key}", currency, key],
        )
        return cursor.fetchone()[0]

    def _insert_posting(self, cursor, transaction_id, account, side, amount):
        cursor.execute(
            "INSERT INTO ledger_posting (transaction_id, account_id, side, amount_minor, effective_on, kind)"
            " VALUES (%s, %s, %s, %s, '2026-04-01', 'posted')",
            [transaction_id, account.pk, side, amount],
        )

    def test_an_unbalanced_raw_insert_is_refused_at_commit(self):
        debit, credit = AccountFactory(), AccountFactory()
        inserted = []

        with (
            pytest.raises(IntegrityError, match="unbalanced"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            transaction_id = self._insert_transaction(cursor, "unbalanced")
            self._insert_posting(cursor, transaction_id, debit, "debit", 1000)
            self._insert_posting(cursor, transaction_id, credit, "credit", 999)
            inserted.append(transaction_id)  # every statement succeeded; only the commit fails

        assert inserted
        assert not Transaction.objects.exists()

    @pytest.mark.parametrize("postings", [0, 1])
    def test_a_raw_transaction_with_fewer_than_two_postings_is_refused_at_commit(self, postings):
        account = AccountFactory()

        with (
            pytest.raises(IntegrityError, match="at least two"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            transaction_id = self._insert_transaction(cursor, "short")
            for _ in range(postings):
                self._insert_posting(cursor, transaction_id, account, "debit", 1)

        assert not Transaction.objects.exists()

    def test_a_raw_transaction_in_another_currency_is_refused_at_commit(self):
        debit, credit = AccountFactory(currency="EUR"), AccountFactory(currency="EUR")

        with (
            pytest.raises(IntegrityError, match="not in GBP"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            transaction_id = self._insert_transaction(cursor, "currency")
            self._insert_posting(cursor, transaction_id, debit, "debit", 1)
            self._insert_posting(cursor, transaction_id, credit, "credit", 1)

    def test_a_posting_added_later_to_a_balanced_transaction_is_refused(self):
        posted = TransferFactory(amount_minor=100)
        account = AccountFactory()

        with (
            pytest.raises(IntegrityError, match="unbalanced"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            self._insert_posting(cursor, posted.pk, account, "debit", 1)

        assert posted.postings.count() == 2

    def test_a_balanced_raw_insert_commits(self):
        debit, credit = AccountFactory(), AccountFactory()

        with transaction.atomic(), connection.cursor() as cursor:
            transaction_id = self._insert_transaction(cursor, "fine")
            self._insert_posting(cursor, transaction_id, debit, "debit", 5)
            self._insert_posting(cursor, transaction_id, credit, "credit", 5)

        assert Transaction.objects.filter(pk=transaction_id).exists()


@pytest.mark.django_db(transaction=True)
class TestConcurrency:
    def test_eight_threads_spending_from_one_account_never_overspend(self):
        held = AccountFactory(type=AccountType.LIABILITY, allow_negative=False)
        TransferFactory(credit=held, amount_minor=10_000)
        providers = [AccountFactory(type=AccountType.LIABILITY) for _ in range(8)]

        def spend(index):
            outcomes = []
            for attempt in range(10):
                try:
                    transaction_post(
                        idempotency_key=f"spend-{index}-{attempt}",
                        currency="GBP",
                        effective_on=date(2026, 4, 2),
                        description="Invoice",
                        postings=[
                            PostingSpec(account=held, side=Side.DEBIT, amount_minor=150),
                            PostingSpec(account=providers[index], side=Side.CREDIT, amount_minor=150),
                        ],
                    )
                    outcomes.append("paid")
                except InsufficientFunds:
                    outcomes.append("refused")
            return outcomes

        results = run_in_threads(8, spend)

        assert not [r for r in results if isinstance(r, BaseException)], results
        paid = sum(outcome == "paid" for outcomes in results for outcome in outcomes)
        assert paid == 10_000 // 150  # 66 of the 80 attempts fit
        balance = account_balance(account=held)
        assert (balance.posted_minor, balance.available_minor) == (10_000 - paid * 150, 100)
        assert sum(account_balance(account=p).posted_minor for p in providers) == paid * 150
        assert Posting.objects.filter(account=held, side="debit").count() == paid

    def test_the_same_idempotency_key_from_several_threads_makes_one_transaction(self):
        bank, held = AccountFactory(), AccountFactory(type=AccountType.LIABILITY)

        def post(index):
            return transaction_post(
                idempotency_key="one-key",
                currency="GBP",
                effective_on=date(2026, 4, 2),
                description="Instalment",
                postings=[
                    PostingSpec(account=bank, side=Side.DEBIT, amount_minor=700),
                    PostingSpec(account=held, side=Side.CREDIT, amount_minor=700),
                ],
            ).public_id

        results = run_in_threads(6, post)

        assert not [r for r in results if isinstance(r, BaseException)], results
        assert len(set(results)) == 1
        assert Transaction.objects.filter(idempotency_key="one-key").count() == 1
        assert account_balance(account=held).posted_minor == 700

    def test_concurrent_reversals_of_one_transaction_reverse_it_once(self):
        bank = AccountFactory()
        original = TransferFactory(debit=bank, amount_minor=900)

        def reverse(index):
            return transaction_reverse(
                transaction=original,
                idempotency_key=f"rev-{index}",
                effective_on=date(2026, 4, 2),
                reason="x",
            ).public_id

        results = run_in_threads(6, reverse)

        reversals = [r for r in results if isinstance(r, str)]
        refusals = [r for r in results if isinstance(r, AlreadyReversed)]
        assert (len(reversals), len(refusals)) == (1, 5), results
        assert account_balance(account=bank).posted_minor == 0

    def test_concurrent_posts_and_voids_of_one_pending_resolve_it_once(self):
        held = AccountFactory(type=AccountType.LIABILITY, allow_negative=False)
        TransferFactory(credit=held, amount_minor=1000)
        pending = TransferFactory(reserve=True, debit=held, amount_minor=400)

        def resolve(index):
            if index % 2:
                return pending_void(
                    pending=pending, idempotency_key=f"void-{index}", effective_on=date(2026, 4, 2)
                )
            return pending_post(
                pending=pending, idempotency_key=f"post-{index}", effective_on=date(2026, 4, 2)
            )

        results = run_in_threads(6, resolve)

        resolved = [r for r in results if not isinstance(r, BaseException)]
        refusals = [r for r in results if isinstance(r, PendingAlreadyResolved)]
        assert (len(resolved), len(refusals)) == (1, 5), results
        balance = account_balance(account=held)
        assert balance.debits_pending == 0
        assert balance.posted_minor in (600, 1000)  # posted in full, or voided
        assert balance.available_minor == balance.posted_minor

    def test_a_period_close_waits_for_a_posting_in_flight(self):
        in_flight = threading.Event()
        may_finish = threading.Event()
        closed_at = []

        def posting_in_flight():
            try:
                with transaction.atomic():
                    _raw("SELECT pg_advisory_xact_lock_shared(%s)", [PERIOD_LOCK_KEY])
                    in_flight.set()
                    may_finish.wait(10)
            finally:
                connection.close()

        def close():
            try:
                in_flight.wait(10)
                period_close(closed_through=date(2026, 3, 31), closed_by="usr_finance")
                closed_at.append(time.monotonic())
            finally:
                connection.close()

        poster, closer = threading.Thread(target=posting_in_flight), threading.Thread(target=close)
        poster.start()
        closer.start()
        in_flight.wait(10)
        time.sleep(0.3)
        assert not closed_at  # still waiting for the posting's shared lock
        released_at = time.monotonic()
        may_finish.set()
        poster.join(10)
        closer.join(10)
        assert closed_at and closed_at[0] >= released_at
