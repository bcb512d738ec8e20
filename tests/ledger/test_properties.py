"""Property tests: whatever valid operations happen, in any order, the ledger stays consistent."""

import uuid
from datetime import date, timedelta

import pytest
from django.db.models import Q, Sum
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)

from ledger.models import Account, AccountType, Posting, Side, Transaction, TransactionKind
from ledger.services import (
    InsufficientFunds,
    PendingAlreadyResolved,
    PostingSpec,
    pending_post,
    pending_void,
    transaction_post,
    transaction_reserve,
    transaction_reverse,
)
from tests.ledger.factories import AccountFactory

START = date(2026, 4, 1)
# (type, allow_negative): the two never-negative accounts are where overspends are refused
ACCOUNT_KINDS = [
    (AccountType.ASSET, True),
    (AccountType.LIABILITY, False),
    (AccountType.ASSET, False),
    (AccountType.INCOME, True),
    (AccountType.EXPENSE, True),
]
COLUMNS = {
    (TransactionKind.POSTED, Side.DEBIT): 0,
    (TransactionKind.POSTED, Side.CREDIT): 1,
    (TransactionKind.PENDING, Side.DEBIT): 2,
    (TransactionKind.PENDING, Side.CREDIT): 3,
}

account_index = st.integers(min_value=0, max_value=len(ACCOUNT_KINDS) - 1)
amounts = st.integers(min_value=1, max_value=5000)
days = st.integers(min_value=0, max_value=30)


class LedgerMachine(RuleBasedStateMachine):
    """Drives the services at random and checks them against a model kept here in plain Python."""

    posted = Bundle("posted")
    pendings = Bundle("pendings")

    def __init__(self):
        super().__init__()
        self.accounts = [
            AccountFactory(type=kind, allow_negative=negative) for kind, negative in ACCOUNT_KINDS
        ]
        # expected [debits_posted, credits_posted, debits_pending, credits_pending] per account
        self.expected = {account.pk: [0, 0, 0, 0] for account in self.accounts}
        self.resolved = []
        self.last_request = None

    # the model

    def _available_after(self, changes):
        totals = {pk: list(values) for pk, values in self.expected.items()}
        for account_pk, kind, side, delta in changes:
            totals[account_pk][COLUMNS[(kind, side)]] += delta
        return totals

    def _overspends(self, totals):
        for account in self.accounts:
            debits_posted, credits_posted, debits_pending, credits_pending = totals[account.pk]
            if AccountType(account.type).is_debit_normal:
                available = debits_posted - credits_posted - credits_pending
            else:
                available = credits_posted - debits_posted - debits_pending
            if not account.allow_negative and available < 0:
                return True
        return False

    def _apply(self, service, changes, **arguments):
        totals = self._available_after(changes)
        if self._overspends(totals):
            with pytest.raises(InsufficientFunds):
                service(**arguments)
            return None
        result = service(**arguments)
        self.expected = totals
        return result

    @staticmethod
    def _key():
        return f"prop-{uuid.uuid4().hex}"

    # the operations

    def _transfer(self, service, kind, debit, credit, amount, day):
        postings = [
            PostingSpec(account=self.accounts[debit], side=Side.DEBIT, amount_minor=amount),
            PostingSpec(account=self.accounts[credit], side=Side.CREDIT, amount_minor=amount),
        ]
        arguments = {
            "idempotency_key": self._key(),
            "currency": "GBP",
            "effective_on": START + timedelta(days=day),
            "description": "property test",
            "postings": postings,
        }
        changes = [(spec.account.pk, kind, spec.side, amount) for spec in postings]
        made = self._apply(service, changes, **arguments)
        if made is None:
            return multiple()
        self.last_request = (service, arguments, made)
        return made

    @rule(target=posted, debit=account_index, credit=account_index, amount=amounts, day=days)
    def post(self, debit, credit, amount, day):
        return self._transfer(transaction_post, TransactionKind.POSTED, debit, credit, amount, day)

    @rule(target=pendings, debit=account_index, credit=account_index, amount=amounts, day=days)
    def reserve(self, debit, credit, amount, day):
        return self._transfer(transaction_reserve, TransactionKind.PENDING, debit, credit, amount, day)

    @rule(target=posted, pending=consumes(pendings), share=st.integers(min_value=1, max_value=100))
    def post_pending(self, pending, share):
        postings = list(pending.postings.order_by("pk"))
        amount = max(1, postings[0].amount_minor * share // 100)
        changes = [(p.account_id, TransactionKind.PENDING, p.side, -p.amount_minor) for p in postings]
        changes += [(p.account_id, TransactionKind.POSTED, p.side, amount) for p in postings]
        made = self._apply(
            pending_post,
            changes,
            pending=pending,
            idempotency_key=self._key(),
            effective_on=pending.effective_on + timedelta(days=1),
            amount_minor=amount,
        )
        self.resolved.append(pending)
        return made

    @rule(pending=consumes(pendings))
    def void_pending(self, pending):
        changes = [
            (p.account_id, TransactionKind.PENDING, p.side, -p.amount_minor) for p in pending.postings.all()
        ]
        self._apply(
            pending_void,
            changes,
            pending=pending,
            idempotency_key=self._key(),
            effective_on=pending.effective_on,
        )
        self.resolved.append(pending)

    @rule(target=posted, original=consumes(posted))
    def reverse(self, original):
        changes = [
            (
                p.account_id,
                TransactionKind.POSTED,
                Side.CREDIT if p.side == Side.DEBIT else Side.DEBIT,
                p.amount_minor,
            )
            for p in original.postings.all()
        ]
        made = self._apply(
            transaction_reverse,
            changes,
            transaction=original,
            idempotency_key=self._key(),
            effective_on=original.effective_on,
            reason="property test",
        )
        return multiple() if made is None else made

    @precondition(lambda self: self.resolved)
    @rule(data=st.data())
    def resolve_again(self, data):
        pending = data.draw(st.sampled_from(self.resolved))
        with pytest.raises(PendingAlreadyResolved):
            pending_void(pending=pending, idempotency_key=self._key(), effective_on=pending.effective_on)

    @precondition(lambda self: self.last_request is not None)
    @rule()
    def replay(self):
        service, arguments, made = self.last_request
        assert service(**arguments).pk == made.pk  # the model is unchanged: replay changes nothing

    # what must always hold

    @invariant()
    def totals_match_the_model_and_the_postings(self):
        for account in Account.objects.filter(pk__in=self.expected):
            totals = [
                account.debits_posted,
                account.credits_posted,
                account.debits_pending,
                account.credits_pending,
            ]
            assert totals == self.expected[account.pk]
            outstanding = Q(kind=TransactionKind.PENDING, transaction__resolution__isnull=True)
            sums = Posting.objects.filter(account=account).aggregate(
                debits_posted=Sum("amount_minor", filter=Q(kind="posted", side="debit"), default=0),
                credits_posted=Sum("amount_minor", filter=Q(kind="posted", side="credit"), default=0),
                debits_pending=Sum("amount_minor", filter=outstanding & Q(side="debit"), default=0),
                credits_pending=Sum("amount_minor", filter=outstanding & Q(side="credit"), default=0),
            )
            assert totals == [
                sums["debits_posted"],
                sums["credits_posted"],
                sums["debits_pending"],
                sums["credits_pending"],
            ]
            if not account.allow_negative:
                assert account.available_minor >= 0

    @invariant()
    def every_transaction_balances(self):
        ours = Posting.objects.filter(account__in=self.expected).values("transaction")
        for transaction in Transaction.objects.filter(pk__in=ours).annotate(
            debits=Sum("postings__amount_minor", filter=Q(postings__side="debit")),
            credits=Sum("postings__amount_minor", filter=Q(postings__side="credit")),
        ):
            assert transaction.debits == transaction.credits
            assert transaction.postings.count() >= 2


@pytest.mark.django_db
class TestLedgerProperties:
    def test_any_sequence_of_operations_keeps_every_balance_equal_to_its_postings(self):
        run_state_machine_as_test(
            LedgerMachine,
            settings=settings(
                max_examples=20,
                stateful_step_count=20,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow],
            ),
        )
