from datetime import date

import pytest

from ledger.models import AccountType, Side, Transaction
from ledger.selectors import account_balance, transaction_get
from ledger.services import (
    AlreadyReversed,
    EffectiveDateTooEarly,
    IdempotencyKeyReused,
    InsufficientFunds,
    InvalidTransaction,
    NotReversible,
    transaction_reverse,
)
from tests.ledger.factories import AccountFactory, TransferFactory

pytestmark = pytest.mark.django_db

LATER = date(2026, 4, 20)


class TestTransactionReverse:
    def test_posts_the_exact_opposite_linked_to_the_original_and_restores_balances(self):
        bank, held = AccountFactory(type=AccountType.ASSET), AccountFactory(type=AccountType.LIABILITY)
        original = TransferFactory(debit=bank, credit=held, amount_minor=4200)

        reversal = transaction_reverse(
            transaction=original, idempotency_key="rev-1", effective_on=LATER, reason="Paid twice"
        )

        assert reversal.reverses == original
        assert transaction_get(public_id=original.public_id).reversed_by == reversal
        assert reversal.effective_on == LATER
        assert "Paid twice" in reversal.description
        assert reversal.metadata == {"reason": "Paid twice"}
        assert sorted(reversal.postings.values_list("account", "side", "amount_minor")) == sorted(
            [(bank.pk, Side.CREDIT, 4200), (held.pk, Side.DEBIT, 4200)]
        )
        for account in (bank, held):
            balance = account_balance(account=account)
            assert (balance.posted_minor, balance.debits_posted, balance.credits_posted) == (0, 4200, 4200)

    def test_reverses_at_most_once(self):
        original = TransferFactory()
        transaction_reverse(transaction=original, idempotency_key="rev-1", effective_on=LATER, reason="x")

        with pytest.raises(AlreadyReversed) as caught:
            transaction_reverse(transaction=original, idempotency_key="rev-2", effective_on=LATER, reason="x")

        assert caught.value.code == "already_reversed"
        assert Transaction.objects.filter(reverses=original).count() == 1

    def test_replaying_the_reversal_returns_it(self):
        original = TransferFactory()
        first = transaction_reverse(
            transaction=original, idempotency_key="rev-1", effective_on=LATER, reason="x"
        )

        again = transaction_reverse(
            transaction=original, idempotency_key="rev-1", effective_on=LATER, reason="x"
        )

        assert again.pk == first.pk
        with pytest.raises(IdempotencyKeyReused):
            transaction_reverse(transaction=original, idempotency_key="rev-1", effective_on=LATER, reason="y")

    def test_a_reversal_can_itself_be_reversed(self):
        bank = AccountFactory()
        original = TransferFactory(debit=bank, amount_minor=100)
        reversal = transaction_reverse(
            transaction=original, idempotency_key="r1", effective_on=LATER, reason="x"
        )

        transaction_reverse(transaction=reversal, idempotency_key="r2", effective_on=LATER, reason="undo")

        assert account_balance(account=bank).posted_minor == 100

    def test_refuses_a_pending_transaction(self):
        pending = TransferFactory(reserve=True)

        with pytest.raises(NotReversible) as caught:
            transaction_reverse(transaction=pending, idempotency_key="r", effective_on=LATER, reason="x")
        assert "void" in caught.value.message

    def test_refuses_when_the_money_has_been_spent(self):
        held = AccountFactory(type=AccountType.LIABILITY, allow_negative=False)
        funding = TransferFactory(credit=held, amount_minor=1000)
        TransferFactory(debit=held, amount_minor=600)

        with pytest.raises(InsufficientFunds):
            transaction_reverse(transaction=funding, idempotency_key="r", effective_on=LATER, reason="x")
        assert account_balance(account=held).posted_minor == 400

    def test_refuses_a_date_before_the_original(self):
        original = TransferFactory(effective_on=date(2026, 4, 1))

        with pytest.raises(EffectiveDateTooEarly):
            transaction_reverse(
                transaction=original, idempotency_key="r", effective_on=date(2026, 3, 31), reason="x"
            )

    def test_needs_a_reason(self):
        with pytest.raises(InvalidTransaction):
            transaction_reverse(
                transaction=TransferFactory(), idempotency_key="r", effective_on=LATER, reason=" "
            )
