"""The accounts Purse reconciles: the council's bank account and its Stripe balance, per currency.

* **Bank** (`bank:<CUR>`): mirrors `payments:cash:bank:<CUR>` (agencies' funding in, Stripe payouts in).
  Bacs payments wait in `payments:clearing:bacs:<CUR>` until the bank statement shows them leaving, so that
  is its transit account; a Bacs file's payments carry its id (`bacs_file`), which the bank pays as one
  line, so that is its batch key. Its identifier is the Bacs account's sort code and number.
* **Stripe** (`stripe:<CUR>`): mirrors `payments:cash:stripe:<CUR>`. Transfers are moved there from clearing
  by Stripe's own webhook (`transfer.paid`), so it has no transit account.
"""

from django.conf import settings
from django.db import transaction

from ledger.errors import DomainError
from ledger.reconciliation import services as reconciliation
from ledger.reconciliation.models import (
    ReconciledPeriod,
    ReconciliationAccount,
    ReconciliationAccountKind,
    ReconciliationMatch,
    StatementImport,
    StatementLine,
)
from payments import accounts
from people.models import Role, User
from people.services import audit_event_record

CURRENCIES = ("GBP",)


def reconciliation_accounts_ensure(
    *, currencies: tuple[str, ...] = CURRENCIES
) -> list[ReconciliationAccount]:
    """Make (or bring up to date) the bank and Stripe reconciliation accounts; idempotent."""
    made = []
    identifier = f"{settings.BACS_SORT_CODE}{settings.BACS_ACCOUNT_NUMBER}"
    for currency in currencies:
        made.append(
            reconciliation.reconciliation_account_ensure(
                key=f"bank:{currency}",
                name=f"Council bank account ({currency})",
                kind=ReconciliationAccountKind.BANK,
                ledger_account=accounts.cash_account(where=accounts.BANK, currency=currency),
                transit_accounts=[accounts.clearing_account(rail="bacs", currency=currency)],
                batch_keys=["bacs_file"],
                identifier=identifier if identifier.isdigit() else "",
            )
        )
        made.append(
            reconciliation.reconciliation_account_ensure(
                key=f"stripe:{currency}",
                name=f"Stripe balance ({currency})",
                kind=ReconciliationAccountKind.STRIPE,
                ledger_account=accounts.cash_account(where="stripe", currency=currency),
            )
        )
    return made


def reconciliation_accounts_present() -> bool:
    return ReconciliationAccount.objects.filter(key__in=[f"bank:{c}" for c in CURRENCIES]).exists()


# What finance officers do, with who and the audit trail -----------------------------------------------------
#
# The ledger's reconciliation services name people by username; these wrappers check the caller may
# reconcile, call them, and append an audit event, all in one database transaction.

RECONCILERS = frozenset({Role.FINANCE_OFFICER, Role.ADMINISTRATOR})


class NotAllowedToReconcile(DomainError):
    code = "not_allowed_to_reconcile"
    http_status = 403
    message = "Only finance officers and administrators reconcile accounts."


def may_reconcile(user: User | None) -> bool:
    return getattr(user, "role", None) in RECONCILERS and bool(getattr(user, "is_active", False))


def _check(user: User) -> str:
    if not may_reconcile(user):
        raise NotAllowedToReconcile()
    return user.username


def statement_import(
    *,
    account: ReconciliationAccount,
    content: bytes,
    by: User,
    file_name: str = "",
    format: str | None = None,
    csv_mapping: dict | None = None,
) -> StatementImport:
    """Import a statement file (see `ledger.reconciliation.services.statement_import`), audited."""
    username = _check(by)
    imported = reconciliation.statement_import(
        account=account,
        content=content,
        by=username,
        file_name=file_name,
        format=format,
        csv_mapping=csv_mapping,
    )
    audit_event_record(
        actor=by,
        action="reconciliation.imported",
        obj=imported,
        detail={
            "account": account.public_id,
            "format": imported.format,
            "lines": imported.lines_in_file,
            "new": imported.lines_new,
            "sha256": imported.sha256,
        },
    )
    return imported


@transaction.atomic
def line_match(
    *, line: StatementLine, transaction_ids: list[str], by: User, note: str = ""
) -> ReconciliationMatch:
    match = reconciliation.line_match(line=line, transaction_ids=transaction_ids, by=_check(by), note=note)
    audit_event_record(
        actor=by,
        action="reconciliation.matched",
        obj=line,
        detail={"match": match.public_id, "ledger_items": list(transaction_ids)},
    )
    return match


@transaction.atomic
def match_confirm(*, match: ReconciliationMatch, by: User) -> ReconciliationMatch:
    match = reconciliation.match_confirm(match=match, by=_check(by))
    audit_event_record(
        actor=by, action="reconciliation.confirmed", obj=match.line, detail={"match": match.public_id}
    )
    return match


@transaction.atomic
def match_reject(*, match: ReconciliationMatch, by: User, note: str = "") -> ReconciliationMatch:
    match = reconciliation.match_reject(match=match, by=_check(by), note=note)
    audit_event_record(
        actor=by,
        action="reconciliation.rejected",
        obj=match.line,
        detail={"match": match.public_id, "note": note},
    )
    return match


@transaction.atomic
def line_unmatch(*, line: StatementLine, by: User, note: str = "") -> StatementLine:
    line = reconciliation.line_unmatch(line=line, by=_check(by), note=note)
    audit_event_record(actor=by, action="reconciliation.unmatched", obj=line, detail={"note": note})
    return line


@transaction.atomic
def period_reconcile(
    *, account: ReconciliationAccount, period_start, period_end, by: User, note: str = ""
) -> ReconciledPeriod:
    period = reconciliation.period_reconcile(
        account=account, period_start=period_start, period_end=period_end, by=_check(by), note=note
    )
    audit_event_record(
        actor=by,
        action="reconciliation.period_reconciled",
        obj=period,
        detail={
            "account": account.public_id,
            "period_start": period_start.isoformat(),
            "period_end": period_end.isoformat(),
        },
    )
    return period


@transaction.atomic
def csv_mapping_save(*, account: ReconciliationAccount, mapping: dict, by: User) -> ReconciliationAccount:
    """Save the bank's CSV column mapping (validated: InvalidCsvMapping), audited."""
    _check(by)
    account = reconciliation.csv_mapping_save(account=account, mapping=mapping)
    audit_event_record(
        actor=by,
        action="reconciliation.csv_mapping_saved",
        obj=account,
        detail={"mapping": account.csv_mapping},
    )
    return account
