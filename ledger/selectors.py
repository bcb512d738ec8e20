"""Ledger selectors: every function that reads the ledger."""

from dataclasses import dataclass
from datetime import date

from django.db.models import Max, Prefetch, Q, QuerySet, Sum

from ledger.errors import DomainError
from ledger.models import (
    Account,
    AccountType,
    PeriodClose,
    Posting,
    Side,
    Transaction,
    TransactionKind,
    balance_available,
    balance_posted,
)


class AccountNotFound(DomainError):
    code = "account_not_found"
    message = "There is no such account."
    http_status = 404


class TransactionNotFound(DomainError):
    code = "transaction_not_found"
    message = "There is no such transaction."
    http_status = 404


@dataclass(frozen=True, kw_only=True)
class AccountBalance:
    """An account's balance on its normal side, in minor units, now (`on` is None) or at the end of a date."""

    account_public_id: str
    currency: str
    on: date | None
    posted_minor: int
    available_minor: int
    debits_posted: int
    credits_posted: int
    debits_pending: int
    credits_pending: int


def account_get(*, public_id: str) -> Account:
    """The account with this public id; raises AccountNotFound."""
    try:
        return Account.objects.get(public_id=public_id)
    except Account.DoesNotExist:
        raise AccountNotFound(f"There is no account {public_id!r}.") from None


def account_get_by_key(*, key: str) -> Account:
    """The account with this key; raises AccountNotFound."""
    try:
        return Account.objects.get(key=key)
    except Account.DoesNotExist:
        raise AccountNotFound(f"There is no account with key {key!r}.") from None


def account_list(*, owner_type: str, owner_id: str) -> QuerySet[Account]:
    """The accounts of one owner, in key order."""
    return Account.objects.filter(owner_type=owner_type, owner_id=owner_id).order_by("key")


def account_balance(*, account: Account, on: date | None = None) -> AccountBalance:
    """The account's posted and available balance now, or at the end of the day `on`.

    Now is one read of the account's row, whatever its number of postings. On a date, postings effective
    on or before it count, and a pending reservation counts from its effective date until the effective
    date of its resolution.
    """
    if on is None:
        totals = Account.objects.filter(pk=account.pk).values(
            "type", "debits_posted", "credits_posted", "debits_pending", "credits_pending"
        )[0]
        account_type = totals.pop("type")
    else:
        account_type = account.type
        totals = _totals_on(account=account, on=on)
    is_debit_normal = AccountType(account_type).is_debit_normal
    return AccountBalance(
        account_public_id=account.public_id,
        currency=account.currency,
        on=on,
        posted_minor=balance_posted(
            is_debit_normal=is_debit_normal,
            debits_posted=totals["debits_posted"],
            credits_posted=totals["credits_posted"],
        ),
        available_minor=balance_available(is_debit_normal=is_debit_normal, **totals),
        **totals,
    )


def _totals_on(*, account: Account, on: date) -> dict[str, int]:
    postings = Posting.objects.filter(account=account, effective_on__lte=on)

    def total(kind: str, side: str, extra: Q | None = None) -> Sum:
        condition = Q(kind=kind, side=side) & (extra or Q())
        return Sum("amount_minor", filter=condition, default=0)

    reserved = postings.aggregate(
        debits_posted=total(TransactionKind.POSTED, Side.DEBIT),
        credits_posted=total(TransactionKind.POSTED, Side.CREDIT),
        debits_pending=total(TransactionKind.PENDING, Side.DEBIT),
        credits_pending=total(TransactionKind.PENDING, Side.CREDIT),
    )
    # Reservations resolved by then no longer count (a resolution is never dated before its pending).
    released = postings.filter(
        kind=TransactionKind.PENDING, transaction__resolution__effective_on__lte=on
    ).aggregate(
        debits_pending=total(TransactionKind.PENDING, Side.DEBIT),
        credits_pending=total(TransactionKind.PENDING, Side.CREDIT),
    )
    reserved["debits_pending"] -= released["debits_pending"]
    reserved["credits_pending"] -= released["credits_pending"]
    return reserved


def account_postings(
    *, account: Account, from_on: date | None = None, through_on: date | None = None
) -> QuerySet[Posting]:
    """The account's postings effective between two dates (both inclusive, either open), oldest first."""
    postings = Posting.objects.filter(account=account)
    if from_on is not None:
        postings = postings.filter(effective_on__gte=from_on)
    if through_on is not None:
        postings = postings.filter(effective_on__lte=through_on)
    return postings.select_related("transaction").order_by("effective_on", "pk")


def transaction_get(*, public_id: str) -> Transaction:
    """The transaction with this public id, with its postings and accounts; raises TransactionNotFound."""
    postings = Prefetch("postings", queryset=Posting.objects.select_related("account").order_by("pk"))
    try:
        return (
            Transaction.objects.select_related("reverses", "reversed_by", "resolution")
            .prefetch_related(postings)
            .get(public_id=public_id)
        )
    except Transaction.DoesNotExist:
        raise TransactionNotFound(f"There is no transaction {public_id!r}.") from None


def period_closed_through() -> date | None:
    """The latest date the ledger is closed through, or None if no period is closed."""
    return PeriodClose.objects.aggregate(latest=Max("closed_through"))["latest"]
