"""Reconciliation services: importing statement files, matching their lines, and reconciling periods.

Each function that writes is one database transaction (the matching of a large import: one per batch of
lines, so it resumes where it stopped). People are named by their username (`by`).

* `statement_import` reads the whole file first (a bad file is refused whole, `StatementFileInvalid`, with
  each line and reason; nothing is stored), refuses the same file twice on one account (`DuplicateImport`,
  naming the first import) and a file of another account (`WrongAccount`), stores its new lines (lines an
  overlapping statement already brought are skipped and counted) and matches them: there and then for a
  small file, on Celery for a large one (`status` "processing", with `lines_checked` as progress).
* `import_match` runs the automatic passes (`matching`) over the import's lines not yet checked, in
  date order, `RECONCILIATION_BATCH_LINES` at a time. A match of transit transactions (Bacs payments
  recorded, not yet seen leaving the bank) moves their money to the ledger account: one settlement
  transaction per day of each batch, linked from each match.
* `line_match` (by hand), `match_confirm` and `match_reject` (of a suggestion), `line_unmatch`: who and
  when are kept on the match; undoing a match that settled transit money posts the opposite transaction.
* `period_reconcile`: a finance officer marks an account reconciled through a date once the report has no
  unexplained difference and no suggestion waiting; when every account is reconciled through that date the
  ledger is closed through it (`ledger.services.period_close`).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Min
from django.utils import timezone

from ledger import services as ledger_services
from ledger.errors import DomainError
from ledger.models import Account, Posting, Side, Transaction, TransactionKind
from ledger.reconciliation import matching
from ledger.reconciliation.models import (
    IN_FORCE,
    ImportStatus,
    LineState,
    MatchHow,
    MatchItem,
    MatchStatus,
    ReconciledPeriod,
    ReconciliationAccount,
    ReconciliationMatch,
    StatementImport,
    StatementLine,
    new_match_id,
)
from ledger.reconciliation.statement_files import (
    FORMATS,
    MAX_PROBLEMS,
    CsvMapping,
    StatementFile,
    StatementFileInvalid,
    account_identifier,
    problem,
    statement_file_parse,
)

AUTOMATIC = "purse"
FILE_MAX_BYTES = 50 * 1024 * 1024


def _day(value) -> str:
    """ "3 December 2026": how Purse writes a day."""
    return f"{value.day} {value:%B %Y}"


class DuplicateImport(DomainError):
    code = "duplicate_import"
    http_status = 409

    def __init__(self, first: StatementImport) -> None:
        on = _day(timezone.localtime(first.created_at))
        super().__init__(
            f"This file was already imported on {on} as {first.public_id}; nothing was imported again."
        )
        self.first = first


class WrongAccount(DomainError):
    code = "wrong_account"
    http_status = 422


class InvalidImport(DomainError):
    code = "invalid_import"
    http_status = 422

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


class InvalidMatch(DomainError):
    code = "invalid_match"
    http_status = 422

    def __init__(self, message: str, *, field: str = "ledger_items") -> None:
        super().__init__(message)
        self.field = field


class MatchConflict(DomainError):
    code = "match_conflict"
    http_status = 409


class PeriodNotReconcilable(DomainError):
    code = "period_not_reconcilable"
    http_status = 409


def _window() -> int:
    return int(getattr(settings, "RECONCILIATION_DATE_WINDOW_WORKING_DAYS", 3))


def _batch_lines() -> int:
    return int(getattr(settings, "RECONCILIATION_BATCH_LINES", 5000))


def _sync_lines() -> int:
    return int(getattr(settings, "RECONCILIATION_SYNC_LINES", 2000))


# Accounts ------------------------------------------------------------------------------------------------


def reconciliation_account_ensure(
    *,
    key: str,
    name: str,
    kind: str,
    ledger_account: Account,
    transit_accounts: list[Account] = (),
    batch_keys: list[str] = (),
    identifier: str = "",
) -> ReconciliationAccount:
    """The reconciliation account with this key, made or brought up to date (idempotent)."""
    with transaction.atomic():
        account, _ = ReconciliationAccount.objects.select_for_update().get_or_create(
            key=key,
            defaults={
                "name": name,
                "kind": kind,
                "currency": ledger_account.currency,
                "ledger_account": ledger_account,
                "batch_keys": list(batch_keys),
                "identifier": account_identifier(identifier) if identifier else "",
            },
        )
        changed = False
        for attribute, value in (("name", name), ("batch_keys", list(batch_keys))):
            if getattr(account, attribute) != value:
                setattr(account, attribute, value)
                changed = True
        if identifier and account.identifier != account_identifier(identifier):
            account.identifier = account_identifier(identifier)
            changed = True
        if changed:
            account.save()
        if set(account.transit_accounts.values_list("pk", flat=True)) != {
            item.pk for item in transit_accounts
        }:
            account.transit_accounts.set(transit_accounts)
    return account


def csv_mapping_save(*, account: ReconciliationAccount, mapping: dict | CsvMapping) -> ReconciliationAccount:
    """Save the bank's CSV column mapping on the account (validated: InvalidCsvMapping)."""
    checked = mapping if isinstance(mapping, CsvMapping) else CsvMapping.from_dict(mapping)
    account.csv_mapping = checked.to_dict()
    account.save(update_fields=["csv_mapping"])
    return account


# Import --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _NewLine:
    line: StatementLine
    fingerprint: str


def _fingerprints(statement: StatementFile) -> list[str]:
    """What makes a line the same line in two overlapping statements: its own fields, and for identical
    lines, which of them it is (two identical payments on one day are two lines)."""
    seen: dict[str, int] = defaultdict(int)
    fingerprints = []
    for line in statement.lines:
        basis = "\x1f".join(
            (
                line.booked_on.isoformat(),
                str(line.amount_minor),
                line.reference,
                line.description,
                line.bank_id,
                line.kind,
            )
        )
        seen[basis] += 1
        fingerprints.append(hashlib.sha256(f"{basis}\x1f{seen[basis]}".encode()).hexdigest())
    return fingerprints


def _refuse_nul_characters(statement: StatementFile) -> None:
    """A zero character is no text a bank writes (and PostgreSQL cannot store one): name each such line."""
    problems = [
        problem(line.line_number, "The line holds a zero (NUL) character, which is not text: check the file.")
        for line in statement.lines
        if "\x00" in f"{line.reference}{line.description}{line.bank_id}{line.kind}{line.batch}"
    ]
    if problems:
        raise StatementFileInvalid(problems[:MAX_PROBLEMS], more=max(0, len(problems) - MAX_PROBLEMS))


def statement_import(
    *,
    account: ReconciliationAccount,
    content: bytes,
    by: str,
    file_name: str = "",
    format: str | None = None,
    csv_mapping: dict | None = None,
    match: bool = True,
) -> StatementImport:
    """Import a statement file into the account and match it (see the module docstring); `match=False`
    leaves the lines for `import_match` (the benchmark times the two apart).

    Raises InvalidImport, StatementFileInvalid, InvalidCsvMapping, WrongAccount, DuplicateImport.
    """
    if format in ("", None):
        format = None
    elif format not in FORMATS:
        raise InvalidImport(
            f"'{format}' is not a format Purse reads: use one of {', '.join(FORMATS)}.", field="format"
        )
    if not content:
        raise InvalidImport("The file is empty: choose the statement file to upload.", field="file")
    if len(content) > FILE_MAX_BYTES:
        raise InvalidImport(
            f"The file is larger than {FILE_MAX_BYTES // (1024 * 1024)} MB: split the statement by date.",
            field="file",
        )
    sha256 = hashlib.sha256(content).hexdigest()
    first = StatementImport.objects.filter(account=account, sha256=sha256).first()
    if first is not None:
        raise DuplicateImport(first)
    mapping = None
    if csv_mapping is not None:
        mapping = CsvMapping.from_dict(csv_mapping)
    elif account.csv_mapping:
        mapping = CsvMapping.from_dict(account.csv_mapping)
    statement = statement_file_parse(content, format=format, csv_mapping=mapping, currency=account.currency)
    if not statement.lines:
        raise StatementFileInvalid("The file has no statement lines.")
    _refuse_nul_characters(statement)
    if (
        account.identifier
        and statement.account_identifier
        and account_identifier(statement.account_identifier) != account.identifier
    ):
        raise WrongAccount(
            f"This statement is for account {statement.account_identifier}, not {account.name}: "
            "choose the account it belongs to."
        )
    fingerprints = _fingerprints(statement)
    try:
        with transaction.atomic():
            imported = StatementImport.objects.create(
                account=account,
                format=statement.format,
                file_name=file_name[:255],
                sha256=sha256,
                currency=account.currency,
                opening_balance_minor=statement.opening_balance_minor,
                closing_balance_minor=statement.closing_balance_minor,
                period_start=statement.period_start,
                period_end=statement.period_end,
                lines_in_file=len(statement.lines),
                imported_by=by,
            )
            existing = set(
                StatementLine.objects.filter(account=account, fingerprint__in=fingerprints).values_list(
                    "fingerprint", flat=True
                )
            )
            new = [
                StatementLine(
                    account=account,
                    statement_import=imported,
                    line_number=line.line_number,
                    booked_on=line.booked_on,
                    value_on=line.value_on,
                    amount_minor=line.amount_minor,
                    reference=line.reference[:500],
                    description=line.description,
                    bank_id=line.bank_id[:200],
                    kind=line.kind[:50],
                    batch=line.batch[:100],
                    fingerprint=fingerprint,
                )
                for line, fingerprint in zip(statement.lines, fingerprints, strict=True)
                if fingerprint not in existing
            ]
            StatementLine.objects.bulk_create(new, batch_size=2000)
            imported.lines_new = len(new)
            imported.lines_already_imported = len(statement.lines) - len(new)
            if csv_mapping is not None and statement.format == "csv":
                account.csv_mapping = mapping.to_dict()
                account.save(update_fields=["csv_mapping"])
            if not new:
                imported.status = ImportStatus.DONE
                imported.finished_at = timezone.now()
            imported.save()
    except IntegrityError:
        first = StatementImport.objects.filter(account=account, sha256=sha256).first()
        if first is None:
            raise
        raise DuplicateImport(first) from None
    if imported.status == ImportStatus.PROCESSING and match:
        if imported.lines_new <= _sync_lines():
            import_match(imported.pk)
        else:
            from ledger.reconciliation.tasks import import_match_task

            # Queued once the import is committed (at once when there is no outer transaction).
            pk = imported.pk
            transaction.on_commit(lambda: import_match_task.delay(pk))
    imported.refresh_from_db()
    return imported


def import_match(import_pk: int) -> StatementImport:
    """Run the automatic passes over the import's unchecked lines, batch by batch; safe to run again."""
    imported = StatementImport.objects.select_related("account__ledger_account").get(pk=import_pk)
    if imported.status != ImportStatus.PROCESSING:
        return imported
    while _match_next_batch(imported):
        pass
    with transaction.atomic():
        locked = StatementImport.objects.select_for_update().get(pk=import_pk)
        if locked.status == ImportStatus.PROCESSING:
            locked.status = ImportStatus.DONE
            locked.finished_at = timezone.now()
            locked.lines_checked = locked.lines.exclude(checked_at=None).count()
            locked.save(update_fields=["status", "finished_at", "lines_checked"])
    return locked


def _match_next_batch(imported: StatementImport) -> bool:
    account = imported.account
    with transaction.atomic():
        # One worker at a time per import; a second delivery waits, then finds the batch done.
        StatementImport.objects.select_for_update().filter(pk=imported.pk).first()
        batch = list(
            StatementLine.objects.filter(statement_import=imported, checked_at=None)
            .order_by("booked_on", "pk")
            .values_list("pk", "booked_on", "amount_minor", "reference", "description", "state")[
                : _batch_lines()
            ]
        )
        if not batch:
            return False
        # A line someone matched by hand while the import was waiting is left as they matched it.
        lines = [line[:5] for line in batch if line[5] == LineState.UNMATCHED]
        checked = [(line[0], line[5]) for line in batch]
        decisions: list[matching.Decision] = []
        if lines:
            transit_pks = list(account.transit_accounts.values_list("pk", flat=True))
            reach = timedelta(days=matching.REFERENCE_WINDOW_DAYS)
            candidates = matching.candidates_load(
                account=account,
                start=lines[0][1] - reach,
                end=lines[-1][1] + reach,
                ledger_account_pk=account.ledger_account_id,
                transit_pks=transit_pks,
                batch_keys=list(account.batch_keys or []),
            )
            to_match = [
                matching.LineToMatch(
                    pk=pk,
                    booked_on=booked_on,
                    amount_minor=amount,
                    reference=reference,
                    description=description,
                )
                for pk, booked_on, amount, reference, description in lines
            ]
            decisions = matching.Matcher(
                candidates=candidates, window_working_days=_window(), currency=account.currency
            ).run(to_match)
            booked = {pk: booked_on for pk, booked_on, *_ in lines}
            _write_decisions(
                account,
                decisions,
                booked=booked,
                by=AUTOMATIC,
                batch_key=f"{imported.public_id}:{batch[0][0]}",
            )
        # Each line of the batch is checked, with the state its decision gave it (or the one it had).
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        decided = {decision.line_pk: decision.status for decision in decisions}
        with connection.cursor() as cursor:
            cursor.executemany(
                # A line matched by hand meanwhile keeps its state (and a match of both is refused by the
                # one-match-per-line index, so the batch is done again).
                "UPDATE ledger_statementline "
                "SET state = CASE WHEN state = 'unmatched' THEN %s ELSE state END, checked_at = %s "
                "WHERE id = %s",
                [(decided.get(pk, state), now, pk) for pk, state in checked],
            )
        imported.lines_checked = (
            StatementLine.objects.filter(statement_import=imported).exclude(checked_at=None).count()
        )
        StatementImport.objects.filter(pk=imported.pk).update(lines_checked=imported.lines_checked)
    return True


def _chunks(items: list, size: int = 2000):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _write_decisions(
    account: ReconciliationAccount,
    decisions: list[matching.Decision],
    *,
    booked: dict[int, date],
    by: str,
    batch_key: str,
) -> None:
    """Store the passes' decisions: the settlements, then matches, their items and the lines' states.

    Written with plain INSERTs of many rows at once (the benchmark matches 100,000 lines): the rows are the
    models' own, every field given.
    """
    if not decisions:
        return
    transit_by_day: dict[date, int] = defaultdict(int)
    for decision in decisions:
        if decision.status == MatchStatus.MATCHED:
            transit_by_day[booked[decision.line_pk]] += sum(c.transit_minor for c in decision.candidates)
    settlement_by_day = {}
    for day, total in sorted(transit_by_day.items()):
        if total:
            posted = _settle(account, day=day, amounts=[total], key=f"recon:settle:{batch_key}:{day}")
            settlement_by_day[day] = posted.pk
    ops = connection.ops
    now = ops.adapt_datetimefield_value(timezone.now())
    match_rows = []
    public_ids = []
    for decision in decisions:
        matched = decision.status == MatchStatus.MATCHED
        public_id = new_match_id()
        public_ids.append(public_id)
        settles = matched and any(candidate.transit_minor for candidate in decision.candidates)
        match_rows.append(
            (
                public_id,
                account.pk,
                decision.line_pk,
                decision.status,
                decision.how,
                decision.explanation,
                by,
                now,
                by if matched else "",
                now if matched else None,
                "",
                settlement_by_day.get(booked[decision.line_pk]) if settles else None,
            )
        )
    with connection.cursor() as cursor:
        cursor.execute("SELECT MAX(id) FROM ledger_reconciliationmatch")
        before = cursor.fetchone()[0] or 0
        for rows in _chunks(match_rows):
            cursor.executemany(
                "INSERT INTO ledger_reconciliationmatch (public_id, account_id, line_id, status, how, "
                "explanation, created_by, created_at, decided_by, decided_at, note, settlement_id) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                rows,
            )
        # Our rows are the account's after `before` (anyone else's, matched by hand meanwhile, are skipped).
        cursor.execute(
            "SELECT public_id, id FROM ledger_reconciliationmatch WHERE account_id = %s AND id > %s",
            [account.pk, before],
        )
        match_pks = dict(cursor.fetchall())
        item_rows = [
            (
                match_pks[public_id],
                account.pk,
                candidate.pk,
                candidate.amount_minor,
                candidate.transit_minor != 0,
                decision.status == MatchStatus.MATCHED,
            )
            for public_id, decision in zip(public_ids, decisions, strict=True)
            for candidate in decision.candidates
        ]
        for rows in _chunks(item_rows):
            cursor.executemany(
                "INSERT INTO ledger_matchitem "
                "(match_id, account_id, transaction_id, amount_minor, in_transit, claimed) "
                "VALUES (%s, %s, %s, %s, %s, %s)",
                rows,
            )


def _transit_by_account(account: ReconciliationAccount) -> Account:
    transit = list(account.transit_accounts.all()[:2])
    if len(transit) != 1:
        raise InvalidMatch(
            "This account's transit money cannot be settled: it has no single transit account."
        )
    return transit[0]


def _settle(
    account: ReconciliationAccount, *, day: date, amounts: list[int], key: str, reverse: bool = False
):
    """Move matched transit money to the ledger account: money out of the bank that was on its way (a
    negative amount, a Bacs payment) is debited to the transit account and credited to the ledger account."""
    total = sum(amounts)
    if not total:
        return None
    transit = _transit_by_account(account)
    out = total < 0
    if reverse:
        out = not out
    debit, credit = (transit, account.ledger_account) if out else (account.ledger_account, transit)
    return ledger_services.transaction_post(
        idempotency_key=key,
        currency=account.currency,
        effective_on=day,
        description=(
            f"{'Undone: ' if reverse else ''}Money on its way through {transit.name} seen on the "
            f"{account.name} statement"
        ),
        postings=[
            ledger_services.PostingSpec(account=debit, side=Side.DEBIT, amount_minor=abs(total)),
            ledger_services.PostingSpec(account=credit, side=Side.CREDIT, amount_minor=abs(total)),
        ],
        metadata={"kind": "reconciliation_settlement", "reconciliation_account": account.public_id},
    )


# Matching by hand ----------------------------------------------------------------------------------------


def _locked_line(line: StatementLine) -> StatementLine:
    return StatementLine.objects.select_for_update().select_related("account__ledger_account").get(pk=line.pk)


def _refresh_state(line: StatementLine) -> None:
    statuses = set(line.matches.filter(status__in=IN_FORCE).values_list("status", flat=True))
    line.state = (
        LineState.MATCHED
        if MatchStatus.MATCHED in statuses
        else LineState.SUGGESTED
        if MatchStatus.SUGGESTED in statuses
        else LineState.UNMATCHED
    )
    line.save(update_fields=["state"])


def ledger_items_for(
    *, account: ReconciliationAccount, transaction_ids: list[str]
) -> list[tuple[Transaction, int, int]]:
    """Each named transaction with its net and transit amounts on the account (InvalidMatch if one is not
    a transaction that moved the account's money)."""
    if not isinstance(transaction_ids, list) or not transaction_ids:
        raise InvalidMatch("Name at least one ledger transaction (its txn_ id) to match the line to.")
    if len(transaction_ids) > 500:
        raise InvalidMatch("A line can be matched to at most 500 ledger transactions at once.")
    if not all(isinstance(item, str) for item in transaction_ids) or len(set(transaction_ids)) != len(
        transaction_ids
    ):
        raise InvalidMatch("Ledger items are transaction ids (txn_...), each named once.")
    found = {item.public_id: item for item in Transaction.objects.filter(public_id__in=transaction_ids)}
    transit_pks = set(account.transit_accounts.values_list("pk", flat=True))
    account_pks = {account.ledger_account_id, *transit_pks}
    nets: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for transaction_pk, account_pk, side, amount in Posting.objects.filter(
        transaction__public_id__in=transaction_ids, account_id__in=account_pks, kind=TransactionKind.POSTED
    ).values_list("transaction_id", "account_id", "side", "amount_minor"):
        signed = amount if side == Side.DEBIT else -amount
        nets[transaction_pk][0] += signed
        if account_pk in transit_pks:
            nets[transaction_pk][1] += signed
    result = []
    for public_id in transaction_ids:
        item = found.get(public_id)
        if item is None or not nets[item.pk][0]:
            raise InvalidMatch(
                f"{public_id} is not a ledger transaction that moved money on {account.name}'s books."
            )
        net, transit = nets[item.pk]
        result.append((item, net, transit))
    return result


def _claim(match: ReconciliationMatch) -> None:
    try:
        with transaction.atomic():
            MatchItem.objects.filter(match=match).update(claimed=True)
    except IntegrityError:
        taken = (
            MatchItem.objects.filter(
                account=match.account,
                claimed=True,
                transaction_id__in=MatchItem.objects.filter(match=match).values("transaction_id"),
            )
            .select_related("transaction", "match__line")
            .first()
        )
        where = f" (line {taken.match.line.public_id})" if taken else ""
        raise MatchConflict(
            f"{taken.transaction.public_id if taken else 'A transaction'} is already matched to another line"
            f"{where}: unmatch it there first."
        ) from None


def _settle_match(match: ReconciliationMatch, line: StatementLine) -> None:
    transit = sum(item.amount_minor for item in match.items.filter(in_transit=True))
    if transit:
        match.settlement = _settle(
            match.account, day=line.booked_on, amounts=[transit], key=f"recon:settle:{match.public_id}"
        )
        match.save(update_fields=["settlement"])


def _reject_other_suggestions(line: StatementLine, *, keep: ReconciliationMatch | None, by: str) -> None:
    others = line.matches.filter(status=MatchStatus.SUGGESTED)
    if keep is not None:
        others = others.exclude(pk=keep.pk)
    others.update(
        status=MatchStatus.REJECTED,
        decided_by=by,
        decided_at=timezone.now(),
        note="Another match was chosen.",
    )


@transaction.atomic
def line_match(
    *, line: StatementLine, transaction_ids: list[str], by: str, note: str = ""
) -> ReconciliationMatch:
    """Match the line by hand to ledger transactions whose amounts add up exactly to it."""
    line = _locked_line(line)
    if line.state == LineState.MATCHED:
        raise MatchConflict("This line is already matched: unmatch it first to match it differently.")
    account = line.account
    items = ledger_items_for(account=account, transaction_ids=transaction_ids)
    total = sum(net for _, net, _ in items)
    if total != line.amount_minor:
        raise InvalidMatch(
            f"The transactions add up to {matching.money_words(total, currency=account.currency)}, but the "
            f"line is {matching.money_words(line.amount_minor, currency=account.currency)}: a match must add "
            "up exactly."
        )
    now = timezone.now()
    match = ReconciliationMatch.objects.create(
        account=account,
        line=line,
        status=MatchStatus.MATCHED,
        how=MatchHow.MANUAL,
        explanation=(
            f"Matched by {by} to {len(items)} transaction{'s' if len(items) > 1 else ''} "
            "adding up to the line."
        ),
        created_by=by,
        decided_by=by,
        decided_at=now,
        note=str(note or "")[:2000],
    )
    MatchItem.objects.bulk_create(
        [
            MatchItem(
                match=match, account=account, transaction=item, amount_minor=net, in_transit=bool(transit)
            )
            for item, net, transit in items
        ]
    )
    _claim(match)
    _settle_match(match, line)
    _reject_other_suggestions(line, keep=match, by=by)
    _refresh_state(line)
    return match


@transaction.atomic
def match_confirm(*, match: ReconciliationMatch, by: str) -> ReconciliationMatch:
    """A person confirms a suggestion: it becomes the line's match."""
    line = _locked_line(match.line)
    match = ReconciliationMatch.objects.select_for_update().get(pk=match.pk)
    if match.status != MatchStatus.SUGGESTED:
        raise MatchConflict(f"This suggestion is already {match.get_status_display().lower()}.")
    if line.state == LineState.MATCHED:
        raise MatchConflict("The line is already matched: unmatch it first.")
    total = sum(match.items.values_list("amount_minor", flat=True))
    if total != line.amount_minor:
        raise MatchConflict(
            "This suggestion's amount differs from the line's, so it cannot be confirmed as it is: match the "
            "line by hand to transactions that add up to it."
        )
    match.status = MatchStatus.MATCHED
    match.decided_by = by
    match.decided_at = timezone.now()
    match.save(update_fields=["status", "decided_by", "decided_at"])
    _claim(match)
    _settle_match(match, line)
    _reject_other_suggestions(line, keep=match, by=by)
    _refresh_state(line)
    return match


@transaction.atomic
def match_reject(*, match: ReconciliationMatch, by: str, note: str = "") -> ReconciliationMatch:
    """A person says a suggestion is wrong; the line stays listed (unmatched, unless other suggestions)."""
    line = _locked_line(match.line)
    match = ReconciliationMatch.objects.select_for_update().get(pk=match.pk)
    if match.status != MatchStatus.SUGGESTED:
        raise MatchConflict(f"This suggestion is already {match.get_status_display().lower()}.")
    match.status = MatchStatus.REJECTED
    match.decided_by = by
    match.decided_at = timezone.now()
    match.note = str(note or "")[:2000]
    match.save(update_fields=["status", "decided_by", "decided_at", "note"])
    _refresh_state(line)
    return match


@transaction.atomic
def line_unmatch(*, line: StatementLine, by: str, note: str = "") -> StatementLine:
    """Undo the line's match (and any settlement it made); its transactions are free to match again."""
    line = _locked_line(line)
    match = line.matches.select_for_update().filter(status=MatchStatus.MATCHED).first()
    if match is None:
        suggestions = line.matches.filter(status=MatchStatus.SUGGESTED)
        if not suggestions.exists():
            raise MatchConflict("This line is not matched: there is nothing to undo.")
        suggestions.update(
            status=MatchStatus.REJECTED, decided_by=by, decided_at=timezone.now(), note=str(note or "")[:2000]
        )
        _refresh_state(line)
        return line
    transit = sum(item.amount_minor for item in match.items.filter(in_transit=True))
    if transit:
        match.unsettlement = _settle(
            match.account,
            day=max(line.booked_on, timezone.localdate()),
            amounts=[transit],
            key=f"recon:unsettle:{match.public_id}",
            reverse=True,
        )
    match.status = MatchStatus.UNMATCHED
    match.decided_by = by
    match.decided_at = timezone.now()
    match.note = str(note or "")[:2000]
    match.save(update_fields=["status", "decided_by", "decided_at", "note", "unsettlement"])
    match.items.update(claimed=False)
    _refresh_state(line)
    return line


# Reconciling a period ------------------------------------------------------------------------------------


@transaction.atomic
def period_reconcile(
    *, account: ReconciliationAccount, period_start: date, period_end: date, by: str, note: str = ""
) -> ReconciledPeriod:
    """Mark the account reconciled from `period_start` to `period_end`, then close the ledger through
    `period_end` if every reconciliation account is reconciled through it."""
    from ledger.reconciliation.selectors import reconciliation_report

    if period_end < period_start:
        raise InvalidImport("The period must end on or after the day it starts.", field="period_end")
    if period_start.year < 1900:
        raise InvalidImport("The period must start in 1900 or later.", field="period_start")
    if period_end >= timezone.localdate():
        raise PeriodNotReconcilable("A period can be reconciled only once it has ended.")
    ReconciliationAccount.objects.select_for_update().filter(pk=account.pk).first()
    if ReconciledPeriod.objects.filter(account=account, period_end=period_end).exists():
        raise PeriodNotReconcilable(f"{account.name} is already reconciled through {_day(period_end)}.")
    report = reconciliation_report(account=account, period_start=period_start, period_end=period_end)
    if report.lines_in_period == 0 and report.ledger_moved:
        # A month with no movement on either side (a Stripe balance unused) is reconciled as it is.
        raise PeriodNotReconcilable(
            "No statement lines were imported for this period, but the ledger shows money moving: import "
            "the statement first."
        )
    if report.suggested_count:
        raise PeriodNotReconcilable(
            f"{report.suggested_count} suggested "
            f"match{'es are' if report.suggested_count > 1 else ' is'} waiting: confirm or reject each first."
        )
    if report.unexplained_minor:
        raise PeriodNotReconcilable(
            f"The bank and the ledger differ by {report.money(report.unexplained_minor)} that the unmatched "
            "lines and transactions do not explain: find it first."
        )
    period = ReconciledPeriod.objects.create(
        account=account,
        period_start=period_start,
        period_end=period_end,
        bank_balance_minor=report.bank_balance_minor,
        ledger_balance_minor=report.ledger_balance_minor,
        unmatched_lines_minor=report.unmatched_lines_minor,
        unmatched_items_minor=report.unmatched_items_minor,
        note=str(note or "")[:2000],
        reconciled_by=by,
    )
    accounts = ReconciliationAccount.objects.count()
    through = ReconciledPeriod.objects.filter(period_end__gte=period_end).values("account").distinct().count()
    closed = ledger_services_period_closed_through()
    if through == accounts and (closed is None or closed < period_end):
        ledger_services.period_close(closed_through=period_end, closed_by=by)
    return period


def ledger_services_period_closed_through() -> date | None:
    from ledger.selectors import period_closed_through

    return period_closed_through()


def imports_span(account: ReconciliationAccount) -> tuple[date | None, date | None]:
    span = StatementLine.objects.filter(account=account).aggregate(
        first=Min("booked_on"), last=Max("booked_on")
    )
    return span["first"], span["last"]
