"""The automatic matching passes: statement lines against the ledger's transactions, in memory, per batch.

A **candidate** is a posted transaction that moved money on the reconciliation account's ledger account or
on one of its transit accounts, with its net effect there (debits - credits: + money in, - money out), and
that no match in force has claimed on this reconciliation account. Transactions netting to zero there (a
settlement moving transit money to the ledger account, a transfer between them) are not candidates.

**References** are the identifiers a transaction carries: its id, the string values of its metadata and the
words of its description, each made comparable by keeping letters and digits only, in capitals, and keeping
only words of at least 6 characters with both a letter and a digit ("pay_0a1b2c" and the Bacs "PAY-0A1B2C"
are both "PAY0A1B2C"). A line's references are found the same way in its reference and description; a bank
that cut a long reference short (MT940 keeps 16 characters) still finds it by its first 12 or more.

The passes, in order, each over every line of the batch before the next (so a certain match is never taken
by a weaker one):

1. **reference**: a reference of the line names candidates and exactly one has the line's amount: matched.
2. **batch**: the candidates of one batch (transactions sharing a `batch_keys` metadata value, such as the
   payments of one Bacs file) add up exactly to the line's amount, within the date window: matched when one
   batch does, suggested when several do.
3. **amount and date**: candidates with the line's amount within the window of working days: matched when
   exactly one, suggested (the nearest first) when several.
4. **suggestions**: the line's reference names candidates whose amount differs (the difference is said);
   or several candidates of one day add up to the line's amount.

Anything else stays unmatched, and says so. The passes only decide; `services` writes the matches.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db import connection

from ledger.money import money_format
from ledger.reconciliation.models import MatchHow
from ledger.reconciliation.working_days import working_day_number

REFERENCE_MIN_LENGTH = 6
PREFIX_LENGTH = 12
# How far apart, in calendar days, a line and a transaction its reference names may be (manual matching
# reaches further).
REFERENCE_WINDOW_DAYS = 10
SAME_DAY_SUM_MAX_ITEMS = 50
BATCH_PROCESSING_DAYS = 3

_NOT_ALNUM = re.compile(r"[^A-Z0-9]")


_SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$"}


def money_words(amount_minor: int, *, currency: str) -> str:
    """An amount as a person reads it: "£85.75", "-£12.00", "100.00 CHF"."""
    text = money_format(abs(amount_minor), currency=currency)
    sign = "-" if amount_minor < 0 else ""
    symbol = _SYMBOLS.get(currency)
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{text} {currency}"


_PUNCTUATION = str.maketrans("", "", "_-./")
_UPPER_WORD = re.compile(r"[A-Z0-9][A-Z0-9_\-./]*")


def reference_form(word: str) -> str:
    return _NOT_ALNUM.sub("", word.upper())


def _is_reference(word: str) -> bool:
    # `word` holds only A-Z and 0-9: it has a letter and a digit when it is neither all letters nor digits.
    return len(word) >= REFERENCE_MIN_LENGTH and not word.isdigit() and not word.isalpha()


def references_in(*texts: str) -> set[str]:
    found: set[str] = set()
    for text in texts:
        if not text:
            continue
        for word in _UPPER_WORD.findall(text.upper()):
            normal = word.translate(_PUNCTUATION)
            if len(normal) >= REFERENCE_MIN_LENGTH and not normal.isdigit() and not normal.isalpha():
                found.add(normal)
    return found


@dataclass(slots=True)
class Candidate:
    pk: int
    public_id: str
    effective_on: date
    amount_minor: int
    transit_minor: int
    description: str
    references: set[str]
    batch: str
    day_number: int = 0
    taken: bool = False


@dataclass(slots=True)
class LineToMatch:
    pk: int
    booked_on: date
    amount_minor: int
    reference: str
    description: str
    references: set[str] = field(default_factory=set)
    day_number: int = 0


@dataclass
class Decision:
    line_pk: int
    status: str  # "matched" or "suggested"
    how: str
    explanation: str
    candidates: list[Candidate]


_CANDIDATES_SQL = """
SELECT t.id, t.public_id, t.effective_on, t.description, CAST(t.metadata AS TEXT), n.net, n.transit
FROM (
    SELECT p.transaction_id,
           SUM(CASE WHEN p.side = 'debit' THEN p.amount_minor ELSE -p.amount_minor END) AS net,
           SUM(CASE WHEN p.account_id IN ({transit}) THEN
                   CASE WHEN p.side = 'debit' THEN p.amount_minor ELSE -p.amount_minor END
               ELSE 0 END) AS transit
    FROM ledger_posting p
    WHERE p.account_id IN ({accounts}) AND p.kind = 'posted' AND p.effective_on >= %s AND p.effective_on <= %s
    GROUP BY p.transaction_id
) n
JOIN ledger_transaction t ON t.id = n.transaction_id
WHERE n.net <> 0 AND NOT EXISTS (
    SELECT 1 FROM ledger_matchitem m
    WHERE m.account_id = %s AND m.transaction_id = n.transaction_id AND m.claimed
)
ORDER BY t.effective_on, t.id
"""


def candidates_load(
    *, account, start: date, end: date, ledger_account_pk: int, transit_pks: list[int], batch_keys: list[str]
) -> list[Candidate]:
    """The unclaimed candidates of a reconciliation account effective from `start` to `end`: one query.

    Read with plain SQL (thousands of rows a batch): references are found in the metadata's JSON text as
    written, which holds its string values, and the JSON is decoded only for a batch key.
    """
    account_pks = [int(ledger_account_pk), *(int(pk) for pk in transit_pks)]
    sql = _CANDIDATES_SQL.format(
        transit=", ".join(str(pk) for pk in transit_pks) or "0",
        accounts=", ".join(str(pk) for pk in account_pks),
    )
    ops = connection.ops
    # `m.claimed` as written in the partial unique index's condition, so the database uses that index.
    params = [ops.adapt_datefield_value(start), ops.adapt_datefield_value(end), account.pk]
    candidates: list[Candidate] = []
    dates: dict[object, tuple[date, int]] = {}
    keys = [(key, f'"{key}"') for key in batch_keys]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(5000):
            for pk, public_id, effective_on, description, metadata, net, transit in rows:
                known = dates.get(effective_on)
                if known is None:
                    day = effective_on if isinstance(effective_on, date) else date.fromisoformat(effective_on)
                    known = dates[effective_on] = (day, working_day_number(day))
                batch = ""
                if keys and metadata:
                    for key, quoted in keys:
                        if quoted in metadata:
                            value = json.loads(metadata).get(key)
                            if value:
                                batch = str(value)
                                break
                candidates.append(
                    Candidate(
                        pk=pk,
                        public_id=public_id,
                        effective_on=known[0],
                        amount_minor=int(net),
                        transit_minor=int(transit),
                        description=description,
                        references=references_in(description, metadata or ""),
                        batch=batch,
                        day_number=known[1],
                    )
                )
    return candidates


class Matcher:
    """Runs the passes over one batch of lines against the candidates loaded for them."""

    def __init__(self, *, candidates: list[Candidate], window_working_days: int, currency: str) -> None:
        self.window = window_working_days
        self.currency = currency
        self.by_reference: dict[str, list[Candidate]] = defaultdict(list)
        self.by_prefix: dict[str, list[Candidate]] = defaultdict(list)
        self.by_amount: dict[int, list[Candidate]] = defaultdict(list)
        self.batches: dict[str, list[Candidate]] = defaultdict(list)
        self.by_day: dict[tuple[date, bool], list[Candidate]] = defaultdict(list)
        for candidate in candidates:
            for reference in candidate.references:
                self.by_reference[reference].append(candidate)
                if len(reference) >= PREFIX_LENGTH:
                    self.by_prefix[reference[:PREFIX_LENGTH]].append(candidate)
            self.by_amount[candidate.amount_minor].append(candidate)
            if candidate.batch:
                self.batches[candidate.batch].append(candidate)
            self.by_day[(candidate.effective_on, candidate.amount_minor > 0)].append(candidate)
        # Each batch's sum of members not yet taken, and the batches by that sum (kept up to date by _take).
        self.batch_sums: dict[str, int] = {
            batch: sum(member.amount_minor for member in members) for batch, members in self.batches.items()
        }
        self.batches_by_sum: dict[int, set[str]] = defaultdict(set)
        for batch, total in self.batch_sums.items():
            self.batches_by_sum[total].add(batch)

    def money(self, amount_minor: int) -> str:
        return money_words(amount_minor, currency=self.currency)

    # The passes ---------------------------------------------------------------------------------------

    def run(self, lines: list[LineToMatch]) -> list[Decision]:
        day_numbers: dict[date, int] = {}
        for line in lines:
            line.references = references_in(line.reference, line.description)
            number = day_numbers.get(line.booked_on)
            if number is None:
                number = day_numbers[line.booked_on] = working_day_number(line.booked_on)
            line.day_number = number
        decisions: dict[int, Decision] = {}
        for step in (self._by_reference, self._by_batch, self._by_amount_and_date, self._suggest):
            for line in lines:
                if line.pk in decisions:
                    continue
                decision = step(line)
                if decision is not None:
                    decisions[line.pk] = decision
                    if decision.status == "matched":
                        for candidate in decision.candidates:
                            self._take(candidate)
        return list(decisions.values())

    def _named(self, line: LineToMatch) -> list[Candidate]:
        named: dict[int, Candidate] = {}
        for reference in line.references:
            for candidate in self.by_reference.get(reference, ()):
                named[candidate.pk] = candidate
            if len(reference) >= PREFIX_LENGTH and reference not in self.by_reference:
                for candidate in self.by_prefix.get(reference[:PREFIX_LENGTH], ()):
                    if any(theirs.startswith(reference) for theirs in candidate.references):
                        named[candidate.pk] = candidate
        earliest = line.booked_on - timedelta(days=REFERENCE_WINDOW_DAYS)
        latest = line.booked_on + timedelta(days=REFERENCE_WINDOW_DAYS)
        return [
            candidate
            for candidate in named.values()
            if not candidate.taken and earliest <= candidate.effective_on <= latest
        ]

    def _shared_reference(self, line: LineToMatch, candidate: Candidate) -> str:
        shared = sorted(line.references & candidate.references) or sorted(
            mine for mine in line.references for theirs in candidate.references if theirs.startswith(mine)
        )
        return shared[0] if shared else ""

    def _by_reference(self, line: LineToMatch) -> Decision | None:
        exact = [candidate for candidate in self._named(line) if candidate.amount_minor == line.amount_minor]
        if not exact:
            return None
        exact.sort(key=lambda candidate: (abs(candidate.day_number - line.day_number), candidate.pk))
        chosen = exact[0]
        reference = self._shared_reference(line, chosen)
        extra = f" ({len(exact) - 1} more carry it; the nearest in date was taken)" if len(exact) > 1 else ""
        return Decision(
            line_pk=line.pk,
            status="matched" if len(exact) == 1 else "suggested",
            how=MatchHow.REFERENCE,
            explanation=(
                f"The line's reference {reference} is {chosen.public_id}'s, and both are "
                f"{self.money(line.amount_minor)}{extra}."
            ),
            candidates=[chosen],
        )

    def _within_window(self, line: LineToMatch, candidate: Candidate) -> bool:
        return abs(candidate.day_number - line.day_number) <= self.window

    def _take(self, candidate: Candidate) -> None:
        candidate.taken = True
        if candidate.batch and candidate.batch in self.batch_sums:
            before = self.batch_sums[candidate.batch]
            self.batches_by_sum[before].discard(candidate.batch)
            self.batch_sums[candidate.batch] = before - candidate.amount_minor
            self.batches_by_sum[before - candidate.amount_minor].add(candidate.batch)

    def _by_batch(self, line: LineToMatch) -> Decision | None:
        fitting: list[tuple[str, list[Candidate]]] = []
        for batch in sorted(self.batches_by_sum.get(line.amount_minor, ())):
            free = [member for member in self.batches[batch] if not member.taken]
            if len(free) < 2:
                continue
            # A bank takes a batch on its processing day, up to three working days after it was recorded.
            apart = line.day_number - max(member.day_number for member in free)
            if -self.window <= apart <= self.window + BATCH_PROCESSING_DAYS:
                fitting.append((batch, free))
        if not fitting:
            return None
        batch, free = fitting[0]
        if len(fitting) > 1:
            explanation = (
                f"{len(fitting)} batches add up to {self.money(line.amount_minor)}: {batch} is shown first; "
                "check which one the bank paid."
            )
        else:
            explanation = (
                f"The {len(free)} transactions of batch {batch} add up exactly to the line's "
                f"{self.money(line.amount_minor)}."
            )
        return Decision(
            line_pk=line.pk,
            status="matched" if len(fitting) == 1 else "suggested",
            how=MatchHow.BATCH,
            explanation=explanation,
            candidates=free,
        )

    def _by_amount_and_date(self, line: LineToMatch) -> Decision | None:
        near = [
            candidate
            for candidate in self.by_amount.get(line.amount_minor, ())
            if not candidate.taken and self._within_window(line, candidate)
        ]
        if not near:
            return None
        near.sort(key=lambda candidate: (abs(candidate.day_number - line.day_number), candidate.pk))
        chosen = near[0]
        apart = abs(chosen.day_number - line.day_number)
        days = (
            "the same working day" if apart == 0 else f"{apart} working day{'s' if apart > 1 else ''} apart"
        )
        if len(near) == 1:
            return Decision(
                line_pk=line.pk,
                status="matched",
                how=MatchHow.AMOUNT_DATE,
                explanation=(
                    f"{chosen.public_id} is the only transaction of {self.money(line.amount_minor)} within "
                    f"{self.window} working days of the line ({days})."
                ),
                candidates=[chosen],
            )
        return Decision(
            line_pk=line.pk,
            status="suggested",
            how=MatchHow.AMOUNT_DATE,
            explanation=(
                f"{len(near)} transactions of {self.money(line.amount_minor)} are within {self.window} "
                f"working days of the line; {chosen.public_id} is the nearest ({days}). Confirm it or "
                "choose another."
            ),
            candidates=[chosen],
        )

    def _suggest(self, line: LineToMatch) -> Decision | None:
        named = self._named(line)
        if named:
            named.sort(key=lambda candidate: (abs(candidate.day_number - line.day_number), candidate.pk))
            chosen = named[0]
            difference = line.amount_minor - chosen.amount_minor
            return Decision(
                line_pk=line.pk,
                status="suggested",
                how=MatchHow.REFERENCE_AMOUNT_DIFFERS,
                explanation=(
                    f"The line's reference {self._shared_reference(line, chosen)} is "
                    f"{chosen.public_id}'s, but the line is {self.money(line.amount_minor)} and the "
                    f"transaction {self.money(chosen.amount_minor)}: {self.money(abs(difference))} "
                    f"{'more' if difference > 0 else 'less'}. Find the rest, or match it by hand."
                ),
                candidates=[chosen],
            )
        for offset in range(0, self.window + 1):
            for day in {line.booked_on - timedelta(days=offset), line.booked_on + timedelta(days=offset)}:
                members = [
                    candidate
                    for candidate in self.by_day.get((day, line.amount_minor > 0), ())
                    if not candidate.taken
                ]
                if 2 <= len(members) <= SAME_DAY_SUM_MAX_ITEMS and (
                    sum(member.amount_minor for member in members) == line.amount_minor
                ):
                    return Decision(
                        line_pk=line.pk,
                        status="suggested",
                        how=MatchHow.SAME_DAY_SUM,
                        explanation=(
                            f"The {len(members)} unmatched transactions of {day.isoformat()} add up to the "
                            f"line's {self.money(line.amount_minor)}. Confirm if the bank paid them together."
                        ),
                        candidates=members,
                    )
        return None
