"""Ledger services: every function that changes the ledger. Each is one database transaction.

Every writer follows the same steps (see `ledger.models` for the design):

1. check the request's shape and arithmetic before touching the database;
2. take the period-close advisory lock (shared; PostgreSQL only), then look the idempotency key up (same
   content returns the earlier result, other content is refused) and check the period is open;
3. check the state the request starts from (not already resolved or reversed) and insert its rows;
4. last, move the accounts' running totals, one conditional UPDATE per account in id order: it locks the
   row and refuses an overspend under that lock. Locks are held only from there to the commit.

Races are decided by the database's unique constraints, not by reads: two requests with one idempotency
key, two resolutions of one pending transaction, two reversals of one transaction. PostgreSQL makes the
second INSERT wait for the first transaction and then fail; the service rolls back to its savepoint, reads
again, and returns the first result or raises the domain error.
"""

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from django.db import IntegrityError, connection
from django.db.transaction import atomic
from django.utils import timezone

from ledger.errors import DomainError
from ledger.models import (
    Account,
    AccountType,
    PendingOutcome,
    PendingResolution,
    PeriodClose,
    Posting,
    Side,
    Transaction,
    TransactionKind,
)
from ledger.money import InvalidAmount, currency_exponent, money_format

# Posting services hold this PostgreSQL advisory lock shared, `period_close` holds it exclusively, so a
# period cannot be closed while a posting dated inside it is being written. Any fixed 64-bit number.
PERIOD_LOCK_KEY = 0x7075727365_01  # "purse" 1


class InvalidTransaction(DomainError):
    code = "invalid_transaction"
    message = "That transaction is not valid."


class InvalidAccount(DomainError):
    code = "invalid_account"
    message = "An account needs a key, a name, a type and a currency."


class InvalidPosting(DomainError):
    code = "invalid_posting"
    message = "A posting needs an account, a side (debit or credit) and a positive amount."


class TooFewPostings(DomainError):
    code = "too_few_postings"
    message = "A transaction needs at least two postings."


class UnbalancedTransaction(DomainError):
    code = "unbalanced_transaction"
    message = "A transaction's debits must equal its credits."


class CurrencyMismatch(DomainError):
    code = "currency_mismatch"
    message = "Every account in a transaction must be in the transaction's currency."


class InvalidIdempotencyKey(DomainError):
    code = "invalid_idempotency_key"
    message = "An idempotency key is a non-empty string of at most 255 characters."


class IdempotencyKeyReused(DomainError):
    code = "idempotency_key_reused"
    message = "That idempotency key was already used for a different request."


class InsufficientFunds(DomainError):
    code = "insufficient_funds"
    message = "There is not enough money available in the account."

    def __init__(self, message: str, *, account_public_id: str, available_minor: int) -> None:
        super().__init__(message)
        self.account_public_id = account_public_id
        self.available_minor = available_minor


class PeriodClosed(DomainError):
    code = "period_closed"
    message = "That date is in a closed period."


class PeriodAlreadyClosed(DomainError):
    code = "period_already_closed"
    message = "A later period is already closed."
    http_status = 409


class PeriodCloseInFuture(DomainError):
    code = "period_close_in_future"
    message = "A period cannot be closed before it has ended."


class EffectiveDateTooEarly(DomainError):
    code = "effective_date_too_early"
    message = "That effective date is before the transaction it follows."


class NotPending(DomainError):
    code = "not_pending"
    message = "Only a pending transaction can be posted or voided."


class PendingAlreadyResolved(DomainError):
    code = "pending_already_resolved"
    message = "That pending transaction has already been posted or voided."
    http_status = 409


class NotReversible(DomainError):
    code = "not_reversible"
    message = "A pending transaction is voided, not reversed."


class AlreadyReversed(DomainError):
    code = "already_reversed"
    message = "That transaction has already been reversed."
    http_status = 409


class AccountKeyConflict(DomainError):
    code = "account_key_conflict"
    message = "An account with that key already exists with different details."
    http_status = 409


class InvalidMetadata(DomainError):
    code = "invalid_metadata"
    message = "Metadata must be a JSON object of strings, whole numbers, booleans, nulls, lists and objects."


@dataclass(frozen=True, kw_only=True)
class PostingSpec:
    """One requested posting: a positive amount of minor units on one side of one account."""

    account: Account
    side: Side | str
    amount_minor: int


@dataclass(frozen=True)
class _Line:
    account: Account
    side: Side
    amount_minor: int


_Result = TypeVar("_Result", Transaction, PendingResolution)


def account_get_or_create(
    *,
    key: str,
    name: str,
    type: AccountType | str,
    currency: str,
    allow_negative: bool,
    owner_type: str = "",
    owner_id: str = "",
) -> Account:
    """Return the account with this key, creating it if there is none.

    Raises UnknownCurrency, InvalidAccount and AccountKeyConflict (the key exists with another type,
    currency, owner or `allow_negative`).
    """
    currency_exponent(currency)
    if not isinstance(key, str) or not key or len(key) > 200:
        raise InvalidAccount("An account key is a non-empty string of at most 200 characters.")
    if not isinstance(name, str) or not name.strip():
        raise InvalidAccount("An account needs a name.")
    try:
        account_type = AccountType(type)
    except ValueError:
        raise InvalidAccount(f"{type!r} is not an account type ({', '.join(AccountType.values)}).") from None
    wanted = {
        "type": account_type.value,
        "currency": currency,
        "owner_type": owner_type,
        "owner_id": owner_id,
        "allow_negative": allow_negative,
    }
    with atomic():
        account, created = Account.objects.get_or_create(key=key, defaults={"name": name, **wanted})
    if not created:
        different = [field for field, value in wanted.items() if getattr(account, field) != value]
        if different:
            raise AccountKeyConflict(
                f"Account {key!r} already exists with a different {', '.join(different)}."
            )
    return account


def transaction_post(
    *,
    idempotency_key: str,
    currency: str,
    effective_on: date,
    description: str,
    postings: Sequence[PostingSpec],
    metadata: dict[str, Any] | None = None,
) -> Transaction:
    """Post a balanced transaction now.

    Raises InvalidIdempotencyKey, IdempotencyKeyReused, UnknownCurrency, InvalidTransaction, InvalidPosting,
    InvalidAmount, TooFewPostings, UnbalancedTransaction, CurrencyMismatch, InvalidMetadata, PeriodClosed
    and InsufficientFunds.
    """
    return _transaction_create(
        kind=TransactionKind.POSTED,
        idempotency_key=idempotency_key,
        currency=currency,
        effective_on=effective_on,
        description=description,
        postings=postings,
        metadata=metadata,
    )


def transaction_reserve(
    *,
    idempotency_key: str,
    currency: str,
    effective_on: date,
    description: str,
    postings: Sequence[PostingSpec],
    metadata: dict[str, Any] | None = None,
) -> Transaction:
    """Reserve a balanced pending transaction: it reduces available balances until posted or voided.

    Raises the same errors as `transaction_post`.
    """
    return _transaction_create(
        kind=TransactionKind.PENDING,
        idempotency_key=idempotency_key,
        currency=currency,
        effective_on=effective_on,
        description=description,
        postings=postings,
        metadata=metadata,
    )


def pending_post(
    *,
    pending: Transaction,
    idempotency_key: str,
    effective_on: date,
    amount_minor: int | None = None,
    amounts_minor: Sequence[int] | None = None,
    description: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> Transaction:
    """Post a pending transaction, in full or in part, releasing the rest; returns the posted transaction.

    With neither amount, everything is posted. `amount_minor` posts that much of a two-posting pending
    transaction; `amounts_minor` gives an amount (0 up to the pending amount) for each pending posting in
    the order they were made, and must still balance.

    Raises InvalidIdempotencyKey, IdempotencyKeyReused, NotPending, PendingAlreadyResolved, InvalidPosting,
    InvalidAmount, TooFewPostings, UnbalancedTransaction, EffectiveDateTooEarly, InvalidMetadata and
    PeriodClosed.
    """
    _check_key(idempotency_key)
    _check_date(effective_on)
    if pending.kind != TransactionKind.PENDING:
        raise NotPending(f"{pending.public_id} is not pending, so it cannot be posted.")
    pending_postings = _postings_of(pending)
    amounts = _amounts_to_post(pending_postings, amount_minor=amount_minor, amounts_minor=amounts_minor)
    lines = [
        _Line(account=posting.account, side=Side(posting.side), amount_minor=amount)
        for posting, amount in zip(pending_postings, amounts, strict=True)
        if amount > 0
    ]
    if len(lines) < 2:
        raise TooFewPostings(
            "At least two postings must be posted with an amount above zero; to release it all, void it."
        )
    _check_balanced(lines, currency=pending.currency)
    description = pending.description if description is None else description
    _check_description(description)
    metadata = _clean_metadata(metadata)
    request_hash = _request_hash(
        {
            "operation": "pending_post",
            "pending": pending.public_id,
            "effective_on": effective_on.isoformat(),
            "amounts_minor": amounts,
            "description": description,
            "metadata": metadata,
        }
    )

    def write(state: _KeyAndPeriod) -> Transaction:
        existing = _replay(
            Transaction, state=state, idempotency_key=idempotency_key, request_hash=request_hash
        )
        if existing is not None:
            return existing
        _refuse_if_resolved(pending)
        if effective_on < pending.effective_on:
            raise EffectiveDateTooEarly(
                f"{pending.public_id} is effective on {pending.effective_on}; it cannot be posted earlier."
            )
        _check_period_open(effective_on, closed_through=state.closed_through)
        changes = [
            (posting.account_id, TransactionKind.PENDING, posting.side, -posting.amount_minor)
            for posting in pending_postings
        ] + [(line.account.pk, TransactionKind.POSTED, line.side, line.amount_minor) for line in lines]
        posted = _insert_transaction(
            kind=TransactionKind.POSTED,
            currency=pending.currency,
            effective_on=effective_on,
            description=description,
            metadata=metadata,
            idempotency_key=idempotency_key,
            request_hash=request_hash,
            lines=lines,
        )
        PendingResolution.objects.create(
            pending=pending,
            outcome=PendingOutcome.POSTED,
            posting_transaction=posted,
            effective_on=effective_on,
            idempotency_key=idempotency_key,
            request_hash=request_hash,
        )
        _apply_totals(changes, currency=pending.currency)
        return posted

    return _write_idempotently(
        Transaction,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
        write=write,
        explain_conflict=lambda: _refuse_if_resolved(pending),
    )


def pending_void(
    *, pending: Transaction, idempotency_key: str, effective_on: date, reason: str = ""
) -> PendingResolution:
    """Void a pending transaction, releasing everything it reserved; returns its resolution.

    Raises InvalidIdempotencyKey, IdempotencyKeyReused, NotPending, PendingAlreadyResolved,
    EffectiveDateTooEarly, InvalidTransaction (a reason that is not text) and PeriodClosed.
    """
    _check_key(idempotency_key)
    _check_date(effective_on)
    if pending.kind != TransactionKind.PENDING:
        raise NotPending(f"{pending.public_id} is not pending, so it cannot be voided.")
    if not isinstance(reason, str):
        raise InvalidTransaction("A reason is text.")
    pending_postings = _postings_of(pending)
    request_hash = _request_hash(
        {
            "operation": "pending_void",
            "pending": pending.public_id,
            "effective_on": effective_on.isoformat(),
            "reason": reason,
        }
    )

    def write(state: _KeyAndPeriod) -> PendingResolution:
        existing = _replay(
            PendingResolution, state=state, idempotency_key=idempotency_key, request_hash=request_hash
        )
        if existing is not None:
            return existing
        _refuse_if_resolved(pending)
        if effective_on < pending.effective_on:
            raise EffectiveDateTooEarly(
                f"{pending.public_id} is effective on {pending.effective_on}; it cannot be voided earlier."
            )
        _check_period_open(effective_on, closed_through=state.closed_through)
        changes = [
            (posting.account_id, TransactionKind.PENDING, posting.side, -posting.amount_minor)
            for posting in pending_postings
        ]
        voided = PendingResolution.objects.create(
            pending=pending,
            outcome=PendingOutcome.VOIDED,
            effective_on=effective_on,
            reason=reason,
            idempotency_key=idempotency_key,
            request_hash=request_hash,
        )
        _apply_totals(changes, currency=pending.currency)
        return voided

    return _write_idempotently(
        PendingResolution,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
        write=write,
        explain_conflict=lambda: _refuse_if_resolved(pending),
    )


def transaction_reverse(
    *, transaction: Transaction, idempotency_key: str, effective_on: date, reason: str
) -> Transaction:
    """Post the exact reverse of a posted transaction, linked to it; a transaction is reversed at most once.

    Raises InvalidIdempotencyKey, IdempotencyKeyReused, NotReversible (pending), AlreadyReversed,
    EffectiveDateTooEarly, InvalidTransaction, PeriodClosed and InsufficientFunds (the money has been spent).
    """
    _check_key(idempotency_key)
    _check_date(effective_on)
    if transaction.kind != TransactionKind.POSTED:
        raise NotReversible(f"{transaction.public_id} is pending: void it instead of reversing it.")
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidTransaction("Say why the transaction is being reversed.")
    original_postings = _postings_of(transaction)
    lines = [
        _Line(
            account=posting.account,
            side=Side.CREDIT if posting.side == Side.DEBIT else Side.DEBIT,
            amount_minor=posting.amount_minor,
        )
        for posting in original_postings
    ]
    request_hash = _request_hash(
        {
            "operation": "transaction_reverse",
            "transaction": transaction.public_id,
            "effective_on": effective_on.isoformat(),
            "reason": reason,
        }
    )

    def write(state: _KeyAndPeriod) -> Transaction:
        existing = _replay(
            Transaction, state=state, idempotency_key=idempotency_key, request_hash=request_hash
        )
        if existing is not None:
            return existing
        _refuse_if_reversed(transaction)
        if effective_on < transaction.effective_on:
            raise EffectiveDateTooEarly(
                f"{transaction.public_id} is effective on {transaction.effective_on}; "
                "its reversal cannot be earlier."
            )
        _check_period_open(effective_on, closed_through=state.closed_through)
        return _insert_transaction_and_totals(
            kind=TransactionKind.POSTED,
            currency=transaction.currency,
            effective_on=effective_on,
            description=f"Reversal of {transaction.public_id}: {reason}",
            metadata={"reason": reason},
            idempotency_key=idempotency_key,
            request_hash=request_hash,
            lines=lines,
            changes=[
                (line.account.pk, TransactionKind.POSTED, line.side, line.amount_minor) for line in lines
            ],
            reverses=transaction,
        )

    return _write_idempotently(
        Transaction,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
        write=write,
        explain_conflict=lambda: _refuse_if_reversed(transaction),
    )


def period_close(*, closed_through: date, closed_by: str) -> PeriodClose:
    """Close the ledger through a date: nothing may be posted on or before it afterwards.

    Closing the date that is already the latest close returns that close (safe to retry).
    Raises PeriodCloseInFuture and PeriodAlreadyClosed (a later date is already closed).
    """
    _check_date(closed_through)
    if not isinstance(closed_by, str) or not closed_by:
        raise InvalidTransaction("Say who is closing the period.")
    if closed_through > timezone.localdate():
        raise PeriodCloseInFuture(f"{closed_through} has not ended yet, so it cannot be closed.")
    with atomic():
        _take_period_lock(exclusive=True)
        latest = PeriodClose.objects.order_by("-closed_through").first()
        if latest is not None and latest.closed_through == closed_through:
            return latest
        if latest is not None and latest.closed_through > closed_through:
            raise PeriodAlreadyClosed(f"The ledger is already closed through {latest.closed_through}.")
        return PeriodClose.objects.create(closed_through=closed_through, closed_by=closed_by)


# Internals


def _transaction_create(
    *,
    kind: TransactionKind,
    idempotency_key: str,
    currency: str,
    effective_on: date,
    description: str,
    postings: Sequence[PostingSpec],
    metadata: dict[str, Any] | None,
) -> Transaction:
    _check_key(idempotency_key)
    currency_exponent(currency)
    _check_date(effective_on)
    _check_description(description)
    lines = _lines_from_specs(postings)
    for line in lines:
        if line.account.currency != currency:
            raise CurrencyMismatch(
                f"Account {line.account.public_id} is in {line.account.currency}, not {currency}."
            )
    _check_balanced(lines, currency=currency)
    metadata = _clean_metadata(metadata)
    request_hash = _request_hash(
        {
            "operation": "transaction_post" if kind == TransactionKind.POSTED else "transaction_reserve",
            "currency": currency,
            "effective_on": effective_on.isoformat(),
            "description": description,
            "postings": sorted(
                [line.account.public_id, line.side.value, line.amount_minor] for line in lines
            ),
            "metadata": metadata,
        }
    )

    def write(state: _KeyAndPeriod) -> Transaction:
        existing = _replay(
            Transaction, state=state, idempotency_key=idempotency_key, request_hash=request_hash
        )
        if existing is not None:
            return existing
        _check_period_open(effective_on, closed_through=state.closed_through)
        return _insert_transaction_and_totals(
            kind=kind,
            currency=currency,
            effective_on=effective_on,
            description=description,
            metadata=metadata,
            idempotency_key=idempotency_key,
            request_hash=request_hash,
            lines=lines,
            changes=[(line.account.pk, kind, line.side, line.amount_minor) for line in lines],
        )

    return _write_idempotently(
        Transaction, idempotency_key=idempotency_key, request_hash=request_hash, write=write
    )


def _write_idempotently(
    model: type[_Result],
    *,
    idempotency_key: str,
    request_hash: str,
    write: Callable[["_KeyAndPeriod"], _Result],
    explain_conflict: Callable[[], None] | None = None,
) -> _Result:
    """Run `write` in one database transaction (a savepoint inside a caller's) under the period lock.

    A unique constraint that fires means a concurrent request won the race: the same key (return its
    result, or refuse other content), or the same pending resolution or reversal (`explain_conflict` raises
    the domain error). Its rows are committed by then, because PostgreSQL makes the loser's INSERT wait
    for the winner to finish.
    """
    try:
        with atomic():
            return write(_lock_and_read(idempotency_key))
    except IntegrityError:
        state = _read_key_and_period(idempotency_key)
        existing = _replay(model, state=state, idempotency_key=idempotency_key, request_hash=request_hash)
        if existing is not None:
            return existing
        if explain_conflict is not None:
            explain_conflict()
        raise


@dataclass(frozen=True)
class _KeyAndPeriod:
    closed_through: date | None
    transaction_id: int | None  # the transaction made with this key
    void_id: int | None  # the void made with this key


_READ_KEY_AND_PERIOD = (
    "SELECT (SELECT MAX(closed_through) FROM ledger_periodclose),"
    " (SELECT id FROM ledger_transaction WHERE idempotency_key = %(key)s),"
    " (SELECT id FROM ledger_pendingresolution WHERE idempotency_key = %(key)s AND outcome = %(voided)s)"
)


def _lock_and_read(idempotency_key: str) -> _KeyAndPeriod:
    """Take the period lock (shared), then read what every writer needs: one round trip on PostgreSQL.

    The two statements go in one message; PostgreSQL gives each statement of a READ COMMITTED transaction
    its own snapshot, taken when it starts, so the read sees every close committed before the lock was
    granted.
    """
    params = {"key": idempotency_key, "voided": PendingOutcome.VOIDED.value}
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"SELECT pg_advisory_xact_lock_shared({PERIOD_LOCK_KEY}); {_READ_KEY_AND_PERIOD}", params
            )
            cursor.nextset()
        else:  # SQLite runs one writer at a time (BEGIN IMMEDIATE): no lock to take.
            cursor.execute(_READ_KEY_AND_PERIOD, params)
        return _key_and_period(cursor.fetchone())


def _read_key_and_period(idempotency_key: str) -> _KeyAndPeriod:
    """The idempotency key's earlier results and the latest close, without taking the lock."""
    with connection.cursor() as cursor:
        cursor.execute(_READ_KEY_AND_PERIOD, {"key": idempotency_key, "voided": PendingOutcome.VOIDED.value})
        return _key_and_period(cursor.fetchone())


def _key_and_period(row: tuple[Any, Any, Any]) -> _KeyAndPeriod:
    closed_through, transaction_id, void_id = row
    if isinstance(closed_through, str):  # SQLite answers dates as text
        closed_through = date.fromisoformat(closed_through)
    return _KeyAndPeriod(closed_through=closed_through, transaction_id=transaction_id, void_id=void_id)


def _replay(
    model: type[_Result], *, state: _KeyAndPeriod, idempotency_key: str, request_hash: str
) -> _Result | None:
    """The earlier result of this request, None if the key is new; raises IdempotencyKeyReused.

    Transactions and voids share one key space: a key names one request, whatever it asked for.
    """
    if model is Transaction:
        existing_id, used_elsewhere = state.transaction_id, state.void_id is not None
    else:
        existing_id, used_elsewhere = state.void_id, state.transaction_id is not None
    if existing_id is None:
        if used_elsewhere:
            raise IdempotencyKeyReused(f"Idempotency key {idempotency_key!r} was used for another request.")
        return None
    existing = model.objects.get(pk=existing_id)
    if existing.request_hash != request_hash:
        raise IdempotencyKeyReused(
            f"Idempotency key {idempotency_key!r} was used for a different request; use a new key."
        )
    return existing


def _take_period_lock(*, exclusive: bool) -> None:
    if connection.vendor != "postgresql":
        return  # SQLite runs one writer at a time (BEGIN IMMEDIATE).
    function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(%s)", [PERIOD_LOCK_KEY])


def _check_period_open(effective_on: date, *, closed_through: date | None) -> None:
    if closed_through is not None and effective_on <= closed_through:
        raise PeriodClosed(
            f"The ledger is closed through {closed_through}, so nothing can be dated {effective_on}."
        )


_TOTAL_INDEX = {
    (TransactionKind.POSTED, Side.DEBIT): 0,
    (TransactionKind.POSTED, Side.CREDIT): 1,
    (TransactionKind.PENDING, Side.DEBIT): 2,
    (TransactionKind.PENDING, Side.CREDIT): 3,
}
# One account's running totals move by the deltas only if an account that may not go negative keeps a
# non-negative available balance afterwards: the account's check constraint on the new values, with the
# debit-normal types of AccountType. The UPDATE takes the row lock and, on PostgreSQL, re-evaluates its
# WHERE on the latest committed row once the lock is granted: the funds check is made under the lock.
_UPDATE_TOTALS = """
UPDATE ledger_account
   SET debits_posted = debits_posted + %(dpo)s, credits_posted = credits_posted + %(cpo)s,
       debits_pending = debits_pending + %(dpe)s, credits_pending = credits_pending + %(cpe)s
 WHERE id = %(id)s
   AND (allow_negative
        OR (type IN ('asset', 'expense')
            AND debits_posted + %(dpo)s >= credits_posted + %(cpo)s + credits_pending + %(cpe)s)
        OR (type NOT IN ('asset', 'expense')
            AND credits_posted + %(cpo)s >= debits_posted + %(dpo)s + debits_pending + %(dpe)s))
"""


def _apply_totals(changes: list[tuple[int, str, str, int]], *, currency: str) -> None:
    """Add each (account, kind, side, delta) to the accounts' running totals; raises InsufficientFunds.

    Accounts are updated (so locked) in id order, so concurrent writers cannot deadlock, and last in the
    service, so each lock is held only until the commit that follows.
    """
    with connection.cursor() as cursor:
        for params in _total_updates(changes):
            cursor.execute(_UPDATE_TOTALS, params)
            if cursor.rowcount != 1:
                _refuse_overspend(params["id"], currency=currency)


def _total_updates(changes: list[tuple[int, str, str, int]]) -> list[dict[str, int]]:
    """The UPDATE parameters for each account the changes touch, in account-id order."""
    deltas: dict[int, list[int]] = {}
    for account_id, kind, side, delta in changes:
        deltas.setdefault(account_id, [0, 0, 0, 0])[_TOTAL_INDEX[(kind, side)]] += delta
    return [
        {"id": account_id, "dpo": dpo, "cpo": cpo, "dpe": dpe, "cpe": cpe}
        for account_id, (dpo, cpo, dpe, cpe) in sorted(deltas.items())
    ]


def _refuse_overspend(account_id: int, *, currency: str) -> None:
    account = Account.objects.get(pk=account_id)
    available = money_format(account.available_minor, currency=currency)
    raise InsufficientFunds(
        f"{account.name} ({account.public_id}) has {available} {currency} available, "
        f"which is not enough for this.",
        account_public_id=account.public_id,
        available_minor=account.available_minor,
    )


# PostgreSQL's hot path: the transaction, its postings and the accounts' totals in one round trip. The
# statements run in order in one message, so the totals are still updated (locked) last and in id order.
_PG_INSERT_TRANSACTION = """
WITH new_transaction AS (
    INSERT INTO ledger_transaction (public_id, kind, currency, description, effective_on, metadata,
                                    idempotency_key, request_hash, reverses_id, created_at)
    VALUES (%(public_id)s, %(kind)s, %(currency)s, %(description)s, %(effective_on)s, %(metadata)s::jsonb,
            %(idempotency_key)s, %(request_hash)s, %(reverses_id)s, %(created_at)s)
    RETURNING id
), new_postings AS (
    INSERT INTO ledger_posting (transaction_id, account_id, side, amount_minor, effective_on, kind)
    SELECT new_transaction.id, line.account_id, line.side, line.amount_minor, %(effective_on)s, %(kind)s
      FROM new_transaction, (VALUES {lines}) AS line (account_id, side, amount_minor)
)
SELECT id FROM new_transaction
"""


def _insert_transaction_and_totals(
    *,
    kind: TransactionKind,
    currency: str,
    effective_on: date,
    description: str,
    metadata: dict[str, Any],
    idempotency_key: str,
    request_hash: str,
    lines: list[_Line],
    changes: list[tuple[int, str, str, int]],
    reverses: Transaction | None = None,
) -> Transaction:
    """Insert a transaction with its postings, then move the totals; raises InsufficientFunds."""
    if connection.vendor != "postgresql":
        created = _insert_transaction(
            kind=kind,
            currency=currency,
            effective_on=effective_on,
            description=description,
            metadata=metadata,
            idempotency_key=idempotency_key,
            request_hash=request_hash,
            lines=lines,
            reverses=reverses,
        )
        _apply_totals(changes, currency=currency)
        return created

    created = Transaction(
        kind=kind,
        currency=currency,
        effective_on=effective_on,
        description=description,
        metadata=metadata,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
        reverses=reverses,
    )
    params: dict[str, Any] = {
        "public_id": created.public_id,
        "kind": kind.value,
        "currency": currency,
        "description": description,
        "effective_on": effective_on,
        "metadata": json.dumps(metadata),
        "idempotency_key": idempotency_key,
        "request_hash": request_hash,
        "reverses_id": reverses.pk if reverses is not None else None,
        "created_at": created.created_at,
    }
    values = []
    for index, line in enumerate(lines):
        values.append(f"(%(account_{index})s::bigint, %(side_{index})s, %(amount_{index})s::bigint)")
        params.update(
            {
                f"account_{index}": line.account.pk,
                f"side_{index}": line.side.value,
                f"amount_{index}": line.amount_minor,
            }
        )
    updates = _total_updates(changes)
    statements = [_PG_INSERT_TRANSACTION.format(lines=", ".join(values))]
    for index, update in enumerate(updates):
        statements.append(_UPDATE_TOTALS.replace("%(", f"%(u{index}_"))
        params.update({f"u{index}_{name}": value for name, value in update.items()})
    with connection.cursor() as cursor:
        cursor.execute(";".join(statements), params)
        created.pk = cursor.fetchone()[0]
        for update in updates:
            cursor.nextset()
            if cursor.rowcount != 1:
                _refuse_overspend(update["id"], currency=currency)
    created._state.adding = False
    created._state.db = connection.alias
    return created


def _insert_transaction(
    *,
    kind: TransactionKind,
    currency: str,
    effective_on: date,
    description: str,
    metadata: dict[str, Any],
    idempotency_key: str,
    request_hash: str,
    lines: list[_Line],
    reverses: Transaction | None = None,
) -> Transaction:
    created = Transaction.objects.create(
        kind=kind,
        currency=currency,
        effective_on=effective_on,
        description=description,
        metadata=metadata,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
        reverses=reverses,
    )
    Posting.objects.bulk_create(
        Posting(
            transaction=created,
            account=line.account,
            side=line.side,
            amount_minor=line.amount_minor,
            effective_on=effective_on,
            kind=kind,
        )
        for line in lines
    )
    return created


def _postings_of(transaction: Transaction) -> list[Posting]:
    return list(Posting.objects.filter(transaction=transaction).select_related("account").order_by("pk"))


def _refuse_if_reversed(transaction: Transaction) -> None:
    reversal = Transaction.objects.filter(reverses=transaction).values_list("public_id", flat=True).first()
    if reversal is not None:
        raise AlreadyReversed(f"{transaction.public_id} was already reversed by {reversal}.")


def _refuse_if_resolved(pending: Transaction) -> None:
    resolution = PendingResolution.objects.filter(pending=pending).first()
    if resolution is not None:
        raise PendingAlreadyResolved(
            f"{pending.public_id} was already {resolution.outcome} on {resolution.effective_on}."
        )


def _amounts_to_post(
    pending_postings: list[Posting], *, amount_minor: int | None, amounts_minor: Sequence[int] | None
) -> list[int]:
    if amount_minor is not None and amounts_minor is not None:
        raise InvalidPosting("Give either one amount or an amount for each posting, not both.")
    if amount_minor is not None:
        if len(pending_postings) != 2:
            raise InvalidPosting(
                "One amount can post only a two-posting pending transaction; give one amount per posting."
            )
        amounts = [amount_minor, amount_minor]
    elif amounts_minor is not None:
        amounts = list(amounts_minor)
        if len(amounts) != len(pending_postings):
            raise InvalidPosting(
                f"Give one amount for each of the {len(pending_postings)} postings, not {len(amounts)}."
            )
    else:
        return [posting.amount_minor for posting in pending_postings]
    for posting, amount in zip(pending_postings, amounts, strict=True):
        if not isinstance(amount, int) or isinstance(amount, bool) or not 0 <= amount <= posting.amount_minor:
            raise InvalidAmount(
                f"Each amount posted is a whole number of minor units from 0 to the {posting.amount_minor} "
                f"reserved, not {amount!r}."
            )
    return amounts


def _lines_from_specs(postings: Sequence[PostingSpec]) -> list[_Line]:
    if isinstance(postings, str | bytes) or not isinstance(postings, Iterable):
        raise InvalidTransaction("Postings are a list of PostingSpec.")
    lines = []
    for spec in postings:
        if not isinstance(spec, PostingSpec):
            raise InvalidPosting(f"{spec!r} is not a PostingSpec.")
        if not isinstance(spec.account, Account) or spec.account.pk is None:
            raise InvalidPosting("Each posting needs a saved account.")
        try:
            side = Side(spec.side)
        except ValueError:
            raise InvalidPosting(f"{spec.side!r} is not a side: use debit or credit.") from None
        amount = spec.amount_minor
        if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
            raise InvalidAmount(
                f"A posting's amount must be a whole number of minor units above zero, not {amount!r}."
            )
        lines.append(_Line(account=spec.account, side=side, amount_minor=amount))
    if len(lines) < 2:
        raise TooFewPostings(f"A transaction needs at least two postings, not {len(lines)}.")
    return lines


def _check_balanced(lines: list[_Line], *, currency: str) -> None:
    debits = sum(line.amount_minor for line in lines if line.side == Side.DEBIT)
    credits = sum(line.amount_minor for line in lines if line.side == Side.CREDIT)
    if debits != credits:
        raise UnbalancedTransaction(
            f"Debits total {money_format(debits, currency=currency)} and credits "
            f"{money_format(credits, currency=currency)} {currency}; they must be equal."
        )


def _check_key(idempotency_key: str) -> None:
    if not isinstance(idempotency_key, str) or not idempotency_key or len(idempotency_key) > 255:
        raise InvalidIdempotencyKey()


def _check_date(value: date) -> None:
    if not isinstance(value, date) or isinstance(value, datetime):
        raise InvalidTransaction(f"An effective date is a date, not {value!r}.")


def _check_description(description: str) -> None:
    if not isinstance(description, str) or not description.strip():
        raise InvalidTransaction("A transaction needs a description.")


def _clean_metadata(metadata: dict[str, Any] | None) -> dict[str, Any]:
    if metadata is None:
        return {}
    if not isinstance(metadata, dict):
        raise InvalidMetadata()
    _check_json_value(metadata)
    return metadata


def _check_json_value(value: Any) -> None:
    # Floats are refused: money and quantities travel as integers or decimal strings, never floats.
    if value is None or isinstance(value, str | bool | int):
        return
    if isinstance(value, list):
        for item in value:
            _check_json_value(item)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidMetadata(f"Metadata keys are strings, not {key!r}.")
            _check_json_value(item)
        return
    raise InvalidMetadata(f"{value!r} cannot be stored in metadata (floats never are).")


def _request_hash(content: dict[str, Any]) -> str:
    """SHA-256 of the request's canonical JSON (sorted keys, no spaces)."""
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
