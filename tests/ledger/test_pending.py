from datetime import date

import pytest

from ledger.models import (
    AccountType,
    PendingOutcome,
    PendingResolution,
    Posting,
    Side,
    Transaction,
    TransactionKind,
)
from ledger.money import InvalidAmount
from ledger.selectors import account_balance
from ledger.services import (
    EffectiveDateTooEarly,
    IdempotencyKeyReused,
    InsufficientFunds,
    InvalidPosting,
    NotPending,
    PendingAlreadyResolved,
    PostingSpec,
    TooFewPostings,
    UnbalancedTransaction,
    pending_post,
    pending_void,
    transaction_reserve,
)
from tests.ledger.factories import EFFECTIVE_ON, AccountFactory, TransferFactory

pytestmark = pytest.mark.django_db

LATER = date(2026, 4, 10)


@pytest.fixture
def held():
    """A person's funds held (credit-normal, never negative) with 100.00 in it."""
    account = AccountFactory(type=AccountType.LIABILITY, allow_negative=False, name="Funds held")
    TransferFactory(debit=AccountFactory(type=AccountType.ASSET), credit=account, amount_minor=10000)
    return account


@pytest.fixture
def provider():
    return AccountFactory(type=AccountType.LIABILITY, name="Provider payable")


def _reserve(held, provider, amount_minor, key="reserve-1"):
    return TransferFactory(
        reserve=True,
        debit=held,
        credit=provider,
        amount_minor=amount_minor,
        idempotency_key=key,
        description="Invoice INV-1001",
    )


class TestTransactionReserve:
    def test_reduces_the_available_balance_but_not_the_posted_balance(self, held, provider):
        pending = _reserve(held, provider, 3000)

        assert pending.kind == TransactionKind.PENDING
        held_balance = account_balance(account=held)
        assert (held_balance.posted_minor, held_balance.available_minor) == (10000, 7000)
        assert held_balance.debits_pending == 3000
        provider_balance = account_balance(account=provider)
        # a pending credit to a credit-normal account does not make money available before it is posted
        assert (provider_balance.posted_minor, provider_balance.available_minor) == (0, 0)
        assert provider_balance.credits_pending == 3000

    def test_refuses_to_reserve_more_than_is_available(self, held, provider):
        _reserve(held, provider, 6000, key="first")

        with pytest.raises(InsufficientFunds):
            _reserve(held, provider, 4001, key="second")

        assert account_balance(account=held).available_minor == 4000

    def test_a_spend_cannot_take_reserved_money(self, held, provider):
        _reserve(held, provider, 6000)

        with pytest.raises(InsufficientFunds):
            TransferFactory(debit=held, credit=provider, amount_minor=4001)

    def test_is_idempotent(self, held, provider):
        first = _reserve(held, provider, 3000)
        again = _reserve(held, provider, 3000)

        assert again.pk == first.pk
        assert account_balance(account=held).available_minor == 7000


class TestPendingPost:
    def test_posts_in_full(self, held, provider):
        pending = _reserve(held, provider, 3000)

        posted = pending_post(pending=pending, idempotency_key="post-1", effective_on=LATER)

        assert posted.kind == TransactionKind.POSTED
        assert posted.effective_on == LATER
        assert posted.description == pending.description
        assert sorted(posted.postings.values_list("side", "amount_minor")) == [
            ("credit", 3000),
            ("debit", 3000),
        ]
        held_balance = account_balance(account=held)
        assert (held_balance.posted_minor, held_balance.available_minor) == (7000, 7000)
        assert held_balance.debits_pending == 0
        assert account_balance(account=provider).posted_minor == 3000
        resolution = PendingResolution.objects.get(pending=pending)
        assert resolution.outcome == PendingOutcome.POSTED
        assert resolution.posting_transaction == posted

    def test_posts_part_and_releases_the_rest(self, held, provider):
        pending = _reserve(held, provider, 3000)

        pending_post(pending=pending, idempotency_key="post-1", effective_on=LATER, amount_minor=1250)

        held_balance = account_balance(account=held)
        assert (held_balance.posted_minor, held_balance.available_minor) == (8750, 8750)
        provider_balance = account_balance(account=provider)
        assert (provider_balance.posted_minor, provider_balance.credits_pending) == (1250, 0)

    def test_posts_per_posting_amounts_of_a_multi_posting_pending(self, held):
        asc_provider = AccountFactory(type=AccountType.LIABILITY)
        travel_provider = AccountFactory(type=AccountType.LIABILITY)
        pending = transaction_reserve(
            idempotency_key="multi",
            currency="GBP",
            effective_on=EFFECTIVE_ON,
            description="Two invoices",
            postings=[
                PostingSpec(account=held, side=Side.DEBIT, amount_minor=5000),
                PostingSpec(account=asc_provider, side=Side.CREDIT, amount_minor=3000),
                PostingSpec(account=travel_provider, side=Side.CREDIT, amount_minor=2000),
            ],
        )

        posted = pending_post(
            pending=pending, idempotency_key="post", effective_on=LATER, amounts_minor=[3500, 3000, 500]
        )

        assert posted.postings.count() == 3
        assert account_balance(account=held).posted_minor == 6500
        assert account_balance(account=held).available_minor == 6500
        assert account_balance(account=asc_provider).posted_minor == 3000
        assert account_balance(account=travel_provider).posted_minor == 500
        assert account_balance(account=travel_provider).credits_pending == 0

    def test_leaves_out_postings_posted_at_zero(self, held):
        first, second = AccountFactory(type="liability"), AccountFactory(type="liability")
        pending = transaction_reserve(
            idempotency_key="multi",
            currency="GBP",
            effective_on=EFFECTIVE_ON,
            description="Two invoices",
            postings=[
                PostingSpec(account=held, side=Side.DEBIT, amount_minor=5000),
                PostingSpec(account=first, side=Side.CREDIT, amount_minor=3000),
                PostingSpec(account=second, side=Side.CREDIT, amount_minor=2000),
            ],
        )

        posted = pending_post(
            pending=pending, idempotency_key="post", effective_on=LATER, amounts_minor=[3000, 3000, 0]
        )

        assert sorted(posted.postings.values_list("account", flat=True)) == sorted([held.pk, first.pk])
        assert account_balance(account=second).credits_pending == 0

    def test_refuses_unbalanced_per_posting_amounts(self, held):
        first, second = AccountFactory(type="liability"), AccountFactory(type="liability")
        pending = transaction_reserve(
            idempotency_key="multi",
            currency="GBP",
            effective_on=EFFECTIVE_ON,
            description="Two invoices",
            postings=[
                PostingSpec(account=held, side=Side.DEBIT, amount_minor=5000),
                PostingSpec(account=first, side=Side.CREDIT, amount_minor=3000),
                PostingSpec(account=second, side=Side.CREDIT, amount_minor=2000),
            ],
        )

        with pytest.raises(UnbalancedTransaction):
            pending_post(
                pending=pending, idempotency_key="p", effective_on=LATER, amounts_minor=[5000, 3000, 1]
            )
        with pytest.raises(InvalidPosting):
            pending_post(pending=pending, idempotency_key="p", effective_on=LATER, amount_minor=100)
        with pytest.raises(InvalidPosting):
            pending_post(pending=pending, idempotency_key="p", effective_on=LATER, amounts_minor=[1, 1])
        assert not PendingResolution.objects.exists()

    @pytest.mark.parametrize("amount", [3001, -1, 1.5, True])
    def test_refuses_an_amount_outside_what_was_reserved(self, held, provider, amount):
        pending = _reserve(held, provider, 3000)

        with pytest.raises(InvalidAmount):
            pending_post(pending=pending, idempotency_key="post-1", effective_on=LATER, amount_minor=amount)

    def test_refuses_posting_nothing(self, held, provider):
        pending = _reserve(held, provider, 3000)

        with pytest.raises(TooFewPostings) as caught:
            pending_post(pending=pending, idempotency_key="post-1", effective_on=LATER, amount_minor=0)
        assert "void" in caught.value.message

    def test_refuses_one_amount_and_amounts_together(self, held, provider):
        pending = _reserve(held, provider, 3000)
        with pytest.raises(InvalidPosting):
            pending_post(
                pending=pending, idempotency_key="p", effective_on=LATER, amount_minor=1, amounts_minor=[1, 1]
            )

    def test_posts_at_most_once(self, held, provider):
        pending = _reserve(held, provider, 3000)
        pending_post(pending=pending, idempotency_key="post-1", effective_on=LATER, amount_minor=1000)

        with pytest.raises(PendingAlreadyResolved) as caught:
            pending_post(pending=pending, idempotency_key="post-2", effective_on=LATER)

        assert caught.value.code == "pending_already_resolved"
        assert caught.value.http_status == 409
        assert account_balance(account=held).posted_minor == 9000

    def test_replaying_the_post_returns_it_and_changes_nothing(self, held, provider):
        pending = _reserve(held, provider, 3000)
        first = pending_post(pending=pending, idempotency_key="post-1", effective_on=LATER, amount_minor=1000)

        again = pending_post(pending=pending, idempotency_key="post-1", effective_on=LATER, amount_minor=1000)

        assert again.pk == first.pk
        assert account_balance(account=held).posted_minor == 9000
        with pytest.raises(IdempotencyKeyReused):
            pending_post(pending=pending, idempotency_key="post-1", effective_on=LATER, amount_minor=999)

    def test_refuses_a_posted_transaction(self, held, provider):
        posted = TransferFactory(debit=held, credit=provider, amount_minor=100)

        with pytest.raises(NotPending):
            pending_post(pending=posted, idempotency_key="p", effective_on=LATER)

    def test_refuses_a_date_before_the_reservation(self, held, provider):
        pending = _reserve(held, provider, 3000)

        with pytest.raises(EffectiveDateTooEarly):
            pending_post(pending=pending, idempotency_key="p", effective_on=date(2026, 3, 31))


class TestPendingVoid:
    def test_releases_everything(self, held, provider):
        pending = _reserve(held, provider, 3000)

        resolution = pending_void(
            pending=pending, idempotency_key="void-1", effective_on=LATER, reason="Withdrawn"
        )

        assert resolution.outcome == PendingOutcome.VOIDED
        assert resolution.posting_transaction is None
        assert resolution.reason == "Withdrawn"
        held_balance = account_balance(account=held)
        assert (held_balance.posted_minor, held_balance.available_minor, held_balance.debits_pending) == (
            10000,
            10000,
            0,
        )
        assert account_balance(account=provider).credits_pending == 0
        assert Transaction.objects.filter(kind=TransactionKind.POSTED).count() == 1  # only the funding

    def test_voids_at_most_once_and_a_voided_pending_cannot_be_posted(self, held, provider):
        pending = _reserve(held, provider, 3000)
        pending_void(pending=pending, idempotency_key="void-1", effective_on=LATER)

        with pytest.raises(PendingAlreadyResolved):
            pending_void(pending=pending, idempotency_key="void-2", effective_on=LATER)
        with pytest.raises(PendingAlreadyResolved):
            pending_post(pending=pending, idempotency_key="post-1", effective_on=LATER)
        assert account_balance(account=held).available_minor == 10000

    def test_a_posted_pending_cannot_be_voided(self, held, provider):
        pending = _reserve(held, provider, 3000)
        pending_post(pending=pending, idempotency_key="post-1", effective_on=LATER)

        with pytest.raises(PendingAlreadyResolved):
            pending_void(pending=pending, idempotency_key="void-1", effective_on=LATER)

    def test_replaying_the_void_returns_it(self, held, provider):
        pending = _reserve(held, provider, 3000)
        first = pending_void(pending=pending, idempotency_key="void-1", effective_on=LATER, reason="x")

        again = pending_void(pending=pending, idempotency_key="void-1", effective_on=LATER, reason="x")

        assert again.pk == first.pk
        assert PendingResolution.objects.count() == 1
        with pytest.raises(IdempotencyKeyReused):
            pending_void(pending=pending, idempotency_key="void-1", effective_on=LATER, reason="other")

    def test_a_void_key_cannot_be_reused_for_a_transaction_nor_the_reverse(self, held, provider):
        pending = _reserve(held, provider, 3000)
        pending_void(pending=pending, idempotency_key="shared-key", effective_on=LATER)

        with pytest.raises(IdempotencyKeyReused):
            TransferFactory(debit=held, credit=provider, amount_minor=1, idempotency_key="shared-key")
        other = _reserve(held, provider, 10, key="reserve-2")
        with pytest.raises(IdempotencyKeyReused):
            pending_void(pending=other, idempotency_key="reserve-2", effective_on=LATER)

    def test_refuses_a_posted_transaction(self, held, provider):
        posted = TransferFactory(debit=held, credit=provider, amount_minor=100)

        with pytest.raises(NotPending):
            pending_void(pending=posted, idempotency_key="v", effective_on=LATER)

    def test_refuses_a_date_before_the_reservation(self, held, provider):
        pending = _reserve(held, provider, 3000)

        with pytest.raises(EffectiveDateTooEarly):
            pending_void(pending=pending, idempotency_key="v", effective_on=date(2026, 3, 1))
        assert not Posting.objects.filter(transaction__resolution__isnull=False).exists()
