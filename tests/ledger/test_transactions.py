import dataclasses
from datetime import date

import pytest
from django.db import IntegrityError, transaction

from ledger import services
from ledger.errors import DomainError
from ledger.models import Account, AccountType, Posting, Side, Transaction, TransactionKind
from ledger.money import InvalidAmount, UnknownCurrency
from ledger.selectors import TransactionNotFound, account_balance, transaction_get
from ledger.services import (
    CurrencyMismatch,
    IdempotencyKeyReused,
    InsufficientFunds,
    InvalidIdempotencyKey,
    InvalidMetadata,
    InvalidPosting,
    InvalidTransaction,
    PostingSpec,
    TooFewPostings,
    UnbalancedTransaction,
    transaction_post,
    transaction_reserve,
)
from tests.ledger.factories import EFFECTIVE_ON, AccountFactory, TransferFactory

pytestmark = pytest.mark.django_db


def _post(postings, **overrides):
    arguments = {
        "idempotency_key": "key-1",
        "currency": "GBP",
        "effective_on": EFFECTIVE_ON,
        "description": "Instalment from the council",
        "postings": postings,
    }
    return transaction_post(**(arguments | overrides))


def _pair(debit, credit, amount_minor):
    return [
        PostingSpec(account=debit, side=Side.DEBIT, amount_minor=amount_minor),
        PostingSpec(account=credit, side=Side.CREDIT, amount_minor=amount_minor),
    ]


def _totals(account):
    account.refresh_from_db()
    return (account.debits_posted, account.credits_posted, account.debits_pending, account.credits_pending)


class TestTransactionPost:
    def test_posts_a_balanced_transaction_and_moves_both_balances(self):
        bank = AccountFactory(type=AccountType.ASSET)
        held = AccountFactory(type=AccountType.LIABILITY)

        posted = _post(_pair(bank, held, 8575), metadata={"instalment": "ins_1"})

        assert posted.public_id.startswith("txn_")
        assert posted.kind == TransactionKind.POSTED
        assert posted.metadata == {"instalment": "ins_1"}
        assert account_balance(account=bank).posted_minor == 8575
        assert account_balance(account=held).posted_minor == 8575
        postings = list(posted.postings.order_by("pk").values_list("account", "side", "amount_minor"))
        assert postings == [(bank.pk, "debit", 8575), (held.pk, "credit", 8575)]

    def test_copies_the_effective_date_and_kind_onto_postings(self):
        posted = TransferFactory(effective_on=date(2026, 5, 2))

        assert set(posted.postings.values_list("effective_on", "kind")) == {(date(2026, 5, 2), "posted")}

    def test_posts_more_than_two_postings(self):
        bank, asc, ilf = AccountFactory(), AccountFactory(type="liability"), AccountFactory(type="liability")

        _post(
            [
                PostingSpec(account=bank, side="debit", amount_minor=1000),
                PostingSpec(account=asc, side="credit", amount_minor=600),
                PostingSpec(account=ilf, side="credit", amount_minor=400),
            ]
        )

        assert [account_balance(account=a).posted_minor for a in (bank, asc, ilf)] == [1000, 600, 400]

    def test_refuses_an_unbalanced_transaction(self):
        bank, held = AccountFactory(), AccountFactory()

        with pytest.raises(UnbalancedTransaction) as caught:
            _post(
                [
                    PostingSpec(account=bank, side=Side.DEBIT, amount_minor=1000),
                    PostingSpec(account=held, side=Side.CREDIT, amount_minor=999),
                ]
            )

        assert caught.value.code == "unbalanced_transaction"
        assert "10.00" in caught.value.message and "9.99" in caught.value.message
        assert not Transaction.objects.exists()

    def test_refuses_one_posting(self):
        with pytest.raises(TooFewPostings) as caught:
            _post([PostingSpec(account=AccountFactory(), side=Side.DEBIT, amount_minor=1)])
        assert caught.value.code == "too_few_postings"

    def test_refuses_no_postings(self):
        with pytest.raises(TooFewPostings):
            _post([])

    def test_refuses_accounts_in_another_currency(self):
        pounds, euros = AccountFactory(currency="GBP"), AccountFactory(currency="EUR")

        with pytest.raises(CurrencyMismatch) as caught:
            _post(_pair(pounds, euros, 100))

        assert caught.value.code == "currency_mismatch"
        assert euros.public_id in caught.value.message
        assert not Transaction.objects.exists()

    def test_refuses_an_unknown_currency(self):
        with pytest.raises(UnknownCurrency):
            _post(_pair(AccountFactory(), AccountFactory(), 100), currency="XXX")

    @pytest.mark.parametrize("amount", [0, -100, 1.5, "100", True, None])
    def test_refuses_amounts_that_are_not_positive_whole_minor_units(self, amount):
        bank, held = AccountFactory(), AccountFactory()

        with pytest.raises(InvalidAmount) as caught:
            _post(
                [
                    PostingSpec(account=bank, side=Side.DEBIT, amount_minor=amount),
                    PostingSpec(account=held, side=Side.CREDIT, amount_minor=amount),
                ]
            )

        assert caught.value.code == "invalid_amount"

    def test_refuses_an_unknown_side(self):
        with pytest.raises(InvalidPosting):
            _post(
                [
                    PostingSpec(account=AccountFactory(), side="left", amount_minor=1),
                    PostingSpec(account=AccountFactory(), side="credit", amount_minor=1),
                ]
            )

    def test_refuses_an_unsaved_account(self):
        unsaved = Account(key="x", name="x", type="asset", currency="GBP")
        with pytest.raises(InvalidPosting):
            _post(_pair(unsaved, AccountFactory(), 1))

    @pytest.mark.parametrize(
        "overrides",
        [
            {"description": ""},
            {"description": "   "},
            {"effective_on": "2026-04-01"},
        ],
    )
    def test_refuses_a_missing_description_or_a_date_that_is_not_a_date(self, overrides):
        with pytest.raises(InvalidTransaction):
            _post(_pair(AccountFactory(), AccountFactory(), 1), **overrides)

    @pytest.mark.parametrize(
        "metadata", [{"rate": 1.5}, {"nested": [{"x": 0.1}]}, ["not", "a", "dict"], {1: "x"}]
    )
    def test_refuses_metadata_with_floats_or_other_shapes(self, metadata):
        with pytest.raises(InvalidMetadata):
            _post(_pair(AccountFactory(), AccountFactory(), 1), metadata=metadata)

    @pytest.mark.parametrize("key", ["", "k" * 256, None])
    def test_refuses_a_missing_or_overlong_idempotency_key(self, key):
        with pytest.raises(InvalidIdempotencyKey):
            _post(_pair(AccountFactory(), AccountFactory(), 1), idempotency_key=key)

    def test_every_error_is_a_domain_error_with_a_code_and_message(self):
        with pytest.raises(DomainError) as caught:
            _post([])
        assert caught.value.code and caught.value.message
        assert str(caught.value) == caught.value.message


class TestIdempotency:
    def test_the_same_request_again_returns_the_first_transaction_and_changes_nothing(self):
        bank, held = AccountFactory(), AccountFactory()
        first = _post(_pair(bank, held, 500), metadata={"a": 1})
        before = (_totals(bank), _totals(held), Posting.objects.count())

        again = _post(_pair(bank, held, 500), metadata={"a": 1})

        assert again.pk == first.pk
        assert again.public_id == first.public_id
        assert (_totals(bank), _totals(held), Posting.objects.count()) == before
        assert Transaction.objects.count() == 1

    def test_the_same_request_with_postings_in_another_order_is_the_same_request(self):
        bank, held = AccountFactory(), AccountFactory()
        first = _post(_pair(bank, held, 500))

        again = _post(list(reversed(_pair(bank, held, 500))))

        assert again.pk == first.pk

    def test_replay_is_returned_even_when_the_money_has_since_gone(self):
        bank = AccountFactory(allow_negative=False)
        income = AccountFactory(type=AccountType.INCOME)
        spending = AccountFactory(type=AccountType.EXPENSE)
        _post(_pair(bank, income, 500), idempotency_key="fund")
        spend = _post(_pair(spending, bank, 500), idempotency_key="spend")

        again = _post(_pair(spending, bank, 500), idempotency_key="spend")

        assert again.pk == spend.pk
        assert account_balance(account=bank).posted_minor == 0

    @pytest.mark.parametrize(
        "change",
        [
            {"description": "Something else"},
            {"effective_on": date(2026, 4, 2)},
            {"metadata": {"a": 2}},
        ],
    )
    def test_the_same_key_with_different_content_is_refused(self, change):
        bank, held = AccountFactory(), AccountFactory()
        _post(_pair(bank, held, 500), metadata={"a": 1})

        with pytest.raises(IdempotencyKeyReused) as caught:
            _post(_pair(bank, held, 500), **({"metadata": {"a": 1}} | change))

        assert caught.value.code == "idempotency_key_reused"
        assert Transaction.objects.count() == 1

    def test_the_same_key_with_a_different_amount_is_refused(self):
        bank, held = AccountFactory(), AccountFactory()
        _post(_pair(bank, held, 500))

        with pytest.raises(IdempotencyKeyReused):
            _post(_pair(bank, held, 501))
        assert account_balance(account=bank).posted_minor == 500

    def test_the_same_key_for_a_reservation_is_refused(self):
        bank, held = AccountFactory(), AccountFactory()
        _post(_pair(bank, held, 500))

        with pytest.raises(IdempotencyKeyReused):
            transaction_reserve(
                idempotency_key="key-1",
                currency="GBP",
                effective_on=EFFECTIVE_ON,
                description="Instalment from the council",
                postings=_pair(bank, held, 500),
            )

    def test_a_key_committed_by_a_concurrent_request_is_replayed_when_the_unique_constraint_fires(
        self, monkeypatch
    ):
        bank, held = AccountFactory(), AccountFactory()
        first = _post(_pair(bank, held, 500))
        # Simulate the race: the read under the locks misses the other request's key (not yet committed
        # then), so the insert meets the unique constraint, and the service reads the key again.
        read = services._lock_and_read
        stale = []

        def read_stale_once(idempotency_key):
            state = read(idempotency_key)
            if not stale:
                stale.append(state)
                return dataclasses.replace(state, transaction_id=None)
            return state

        monkeypatch.setattr(services, "_lock_and_read", read_stale_once)

        again = _post(_pair(bank, held, 500))

        assert stale
        assert again.pk == first.pk
        assert account_balance(account=bank).posted_minor == 500

    def test_a_concurrent_request_with_the_same_key_and_other_content_is_refused(self, monkeypatch):
        bank, held = AccountFactory(), AccountFactory()
        _post(_pair(bank, held, 500))
        read = services._lock_and_read
        stale = []

        def read_stale_once(idempotency_key):
            state = read(idempotency_key)
            if not stale:
                stale.append(state)
                return dataclasses.replace(state, transaction_id=None)
            return state

        monkeypatch.setattr(services, "_lock_and_read", read_stale_once)

        with pytest.raises(IdempotencyKeyReused):
            _post(_pair(bank, held, 600))
        assert account_balance(account=bank).posted_minor == 500

    def test_the_hash_is_stored(self):
        posted = TransferFactory()
        assert len(posted.request_hash) == 64
        int(posted.request_hash, 16)


class TestNoNegativeBalance:
    def test_refuses_a_spend_beyond_the_available_balance_and_names_the_account(self):
        held = AccountFactory(type=AccountType.LIABILITY, allow_negative=False, name="Alex's ASC funds")
        bank = AccountFactory(type=AccountType.ASSET)
        provider = AccountFactory(type=AccountType.LIABILITY)
        _post(_pair(bank, held, 1000), idempotency_key="fund")

        with pytest.raises(InsufficientFunds) as caught:
            _post(_pair(held, provider, 1001), idempotency_key="spend")

        error = caught.value
        assert error.code == "insufficient_funds"
        assert error.account_public_id == held.public_id
        assert error.available_minor == 1000
        assert "Alex's ASC funds" in error.message and "10.00 GBP" in error.message
        assert account_balance(account=held).posted_minor == 1000
        assert account_balance(account=provider).posted_minor == 0

    def test_allows_spending_exactly_to_zero(self):
        held = AccountFactory(type=AccountType.LIABILITY, allow_negative=False)
        _post(_pair(AccountFactory(), held, 1000), idempotency_key="fund")

        _post(_pair(held, AccountFactory(type="liability"), 1000), idempotency_key="spend")

        assert account_balance(account=held).available_minor == 0

    def test_applies_to_debit_normal_accounts_too(self):
        bank = AccountFactory(type=AccountType.ASSET, allow_negative=False)

        with pytest.raises(InsufficientFunds):
            _post(_pair(AccountFactory(type="expense"), bank, 1))

    def test_an_account_that_allows_negative_goes_negative(self):
        bank = AccountFactory(type=AccountType.ASSET, allow_negative=True)

        _post(_pair(AccountFactory(type="expense"), bank, 700))

        assert account_balance(account=bank).posted_minor == -700

    def test_the_database_refuses_a_negative_available_balance_too(self):
        held = AccountFactory(type=AccountType.LIABILITY, allow_negative=False)
        with pytest.raises(IntegrityError), transaction.atomic():
            Account.objects.filter(pk=held.pk).update(debits_posted=1)


class TestTransactionGet:
    def test_gets_a_transaction_with_its_postings(self):
        posted = TransferFactory(amount_minor=250)

        found = transaction_get(public_id=posted.public_id)

        assert found == posted
        assert [p.amount_minor for p in found.postings.all()] == [250, 250]

    def test_raises_not_found(self):
        with pytest.raises(TransactionNotFound):
            transaction_get(public_id="txn_nope")
