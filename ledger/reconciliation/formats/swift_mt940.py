"""SWIFT MT940 customer statements, read with the `mt940` package (all its opt-in fixes on).

A file may hold several statements (one `:20:` block each, e.g. one per day): they must be of one account
and currency and follow on (each opening balance the closing before it); each is checked opening (`:60F:` or
`:60M:`) + its lines = closing (`:62F:` or `:62M:`), and a failure names the closing balance's line. The
SWIFT envelope (`{1:...}{2:...}{4:` ... `-}`) is allowed around it.

A line is a `:61:`; its `line_number` is the file line of that `:61:`. The amount is signed by its mark (C and
RD in, D and RC out). `booked_on` is the entry date when given, else the value date; `value_on` the value
date. `reference` is the `:61:` customer reference (unless NONREF), else the `:86:` information; `description`
the `:86:` information (when not already the reference) and the supplementary details; `bank_id` the bank
reference after `//`. The period is the first line's date (or the opening balance's) to the closing balance's
date.
"""

from __future__ import annotations

import decimal
import re
from dataclasses import dataclass, field
from datetime import date

import mt940

from ledger.money import currency_exponent
from ledger.reconciliation.statement_files import (
    LineProblem,
    Problems,
    StatementFile,
    StatementFileInvalid,
    StatementLineIn,
    account_identifier,
    amount_text,
    balance_problem,
    check_file_currency,
    decimal_amount_minor,
    known_currency,
    line_kind,
    problem,
)

_ENVELOPE_BLOCK = re.compile(r"\{[1-35]:(?:[^{}]|\{[^{}]*\})*\}")
_LINE_61 = re.compile(r":61:(\d{2})(\d{2})(\d{2})(\d{4})?(R?[DC])[A-Z]?(\S*)", re.ASCII | re.IGNORECASE)
_AMOUNT_61 = re.compile(r"(\d[\d,]*)")
_BALANCE = re.compile(r":6[0245][FM]?:([CD])(\d{2})(\d{2})(\d{2})([A-Z]{3})(.*)", re.ASCII)
_SWIFT_AMOUNT = re.compile(r"\d+,\d*", re.ASCII)
_NON_REFERENCES = {"", "NONREF", "NOTPROVIDED"}
_DETAILS_WIDTH = 65


@dataclass
class _Block:
    """Where one statement (`:20:` block) is in the file."""

    first_line: int
    statement_lines: list[int] = field(default_factory=list)
    closing_line: int | None = None


def _clean_lines(text: str) -> list[str]:
    """The file's lines without the SWIFT envelope, one for one (so line numbers stay the file's)."""
    lines = text.split("\n")
    cleaned = []
    for raw in lines:
        line = raw.rstrip("\r")
        if line.startswith("{"):
            line = _ENVELOPE_BLOCK.sub("", line)
            line = line.removeprefix("{4:")
        stripped = line.strip()
        if stripped.startswith("-}") or stripped == "}":
            line = ""
        cleaned.append(line)
    return cleaned


def _check_dates(year: str, month: str, day: str) -> bool:
    try:
        date(2000 + int(year), int(month), int(day))
    except ValueError:
        return False
    return True


def _scan(lines: list[str], problems: Problems) -> list[_Block]:
    """The blocks of the file, and problems the mt940 package would not name by line."""
    blocks: list[_Block] = []
    currency = ""
    exponent = None  # of the currency of the balance above, to check each amount's decimals
    for number, line in enumerate(lines, start=1):
        if line.startswith(":20:"):
            blocks.append(_Block(first_line=number))
            continue
        if line.startswith(":61:"):
            match = _LINE_61.match(line)
            if not match:
                problems.add(number, f"This statement line cannot be read: '{line[:40]}'.")
            elif not _check_dates(match[1], match[2], match[3]):
                problems.add(
                    number, f"The value date '{match[1]}{match[2]}{match[3]}' is not a real date (YYMMDD)."
                )
            elif match[4] and not _check_dates(match[1], match[4][:2], match[4][2:]):
                problems.add(number, f"The entry date '{match[4]}' is not a real date (MMDD).")
            else:
                amount = _AMOUNT_61.match(match[6])
                if not amount or not _SWIFT_AMOUNT.fullmatch(amount[1]):
                    problems.add(
                        number,
                        f"The amount '{amount[1] if amount else match[6][:15]}' is not an MT940 amount "
                        "(digits with one decimal comma, such as 1234,56).",
                    )
                elif exponent is not None and len(amount[1].split(",")[1].rstrip("0")) > exponent:
                    problems.add(
                        number, f"The amount '{amount[1]}' has more decimals than {currency} allows."
                    )
            if blocks:
                blocks[-1].statement_lines.append(number)
            continue
        if re.match(r":6[0245][FM]?:", line):
            match = _BALANCE.match(line)
            if not match:
                problems.add(number, f"This balance cannot be read: '{line[:40]}'.")
            elif not _check_dates(match[2], match[3], match[4]):
                problems.add(
                    number, f"The balance date '{match[2]}{match[3]}{match[4]}' is not a real date (YYMMDD)."
                )
            elif not _SWIFT_AMOUNT.fullmatch(match[6].strip()):
                problems.add(
                    number,
                    f"The balance '{match[6].strip()}' is not an MT940 amount (digits with one decimal "
                    "comma).",
                )
            elif known_currency(match[5]):
                currency, exponent = match[5], currency_exponent(match[5])
            if blocks and line.startswith(":62") and blocks[-1].closing_line is None:
                blocks[-1].closing_line = number
    return blocks


def _details(text: str | None) -> str:
    """The :86: information on one line: a line cut at the full width joins the next without a space."""
    if not text:
        return ""
    parts = [part.strip() for part in text.replace("\r", "").split("\n")]
    joined = ""
    previous_full = False
    for raw, part in zip(text.replace("\r", "").split("\n"), parts, strict=True):
        if not part:
            continue
        joined += ("" if previous_full or not joined else " ") + part
        previous_full = len(raw.rstrip()) >= _DETAILS_WIDTH
    return joined


def _tag_line(lines: list[str], value: str) -> int | None:
    first = value.strip().split("\n")[0].strip()
    for number, line in enumerate(lines, start=1):
        if first and first in line:
            return number
    return None


def parse_mt940(content: bytes, *, currency: str) -> StatementFile:
    """Read an MT940 file; raises StatementFileInvalid."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = content.decode("latin-1")
    lines = _clean_lines(text)
    problems = Problems()
    blocks = _scan(lines, problems)
    if not blocks:
        raise StatementFileInvalid(
            "This is not an MT940 statement: it has no :20: (statement reference) tag."
        )
    problems.raise_if_any()
    try:
        statements = mt940.parse_statements("\n".join(lines), options=mt940.Options.all())
    except RuntimeError as exc:
        value = exc.args[2] if len(exc.args) > 2 and isinstance(exc.args[2], str) else ""
        tag = exc.args[1] if len(exc.args) > 1 else None
        line = _tag_line(lines, value)
        written = re.match(r":\w+:", lines[line - 1]) if line else None
        name = written[0] if written else f":{getattr(tag, 'id', '')}:"
        raise StatementFileInvalid(
            [problem(line, f"The {name} tag cannot be read: '{value[:60]}'.")]
        ) from None
    except (ValueError, TypeError, KeyError, decimal.InvalidOperation) as exc:
        raise StatementFileInvalid(f"The MT940 file cannot be read: {exc}.") from None
    if len(statements) != len(blocks):  # pragma: no cover - both split at :20:
        raise StatementFileInvalid("The MT940 file's statements cannot be told apart.")

    account = None
    file_currency = None
    opening_minor = closing_minor = previous_closing = None
    period_start = period_end = None
    result: list[StatementLineIn] = []
    for statement, block in zip(statements, blocks, strict=True):
        data = statement.data
        opening = (
            data.get("final_opening_balance")
            or data.get("opening_balance")
            or data.get("intermediate_opening_balance")
        )
        closing = (
            data.get("final_closing_balance")
            or data.get("closing_balance")
            or data.get("intermediate_closing_balance")
        )
        this_account = account_identifier(data.get("account_identification") or "")
        if not this_account:
            problems.add(block.first_line, "The statement starting here does not say its account (:25:).")
        if opening is None:
            problems.add(block.first_line, "The statement starting here has no opening balance (:60F:).")
        if closing is None:
            problems.add(block.first_line, "The statement starting here has no closing balance (:62F:).")
        if problems:
            problems.raise_if_any()
        if account is None:
            account = this_account
        elif this_account != account:
            raise StatementFileInvalid(
                [
                    problem(
                        block.first_line,
                        "This file holds statements of more than one account: import one account at a time.",
                    )
                ]
            )
        this_currency = (opening.amount.currency or "").upper()
        if file_currency is None:
            if not known_currency(this_currency):
                raise StatementFileInvalid(f"'{this_currency}' is not a currency Purse knows.")
            file_currency = this_currency
            check_file_currency(file_currency, currency=currency)
        for balance, what in ((opening, "opening"), (closing, "closing")):
            balance_currency = (balance.amount.currency or "").upper()
            if balance_currency != file_currency:
                problems.add(
                    block.closing_line if what == "closing" else block.first_line,
                    f"The {what} balance is in {balance_currency}, but the statement is in {file_currency}.",
                )
        try:
            opening_here = decimal_amount_minor(
                opening.amount.amount, currency=file_currency, what="opening balance"
            )
            closing_here = decimal_amount_minor(
                closing.amount.amount, currency=file_currency, what="closing balance"
            )
        except LineProblem as exc:
            problems.add(block.first_line, exc.reason)
        problems.raise_if_any()
        if len(statement.transactions) != len(block.statement_lines):  # pragma: no cover - both count :61:
            raise StatementFileInvalid("The MT940 file's statement lines cannot be told apart.")
        total = 0
        for transaction, line_number in zip(statement.transactions, block.statement_lines, strict=True):
            try:
                line = _line(transaction.data, line_number, currency=file_currency)
            except LineProblem as exc:
                problems.add(line_number, exc.reason)
                continue
            total += line.amount_minor
            result.append(line)
            if period_start is None or line.booked_on < period_start:
                period_start = line.booked_on
        problems.raise_if_any()
        reason = balance_problem(
            opening_minor=opening_here, total_minor=total, closing_minor=closing_here, currency=file_currency
        )
        if reason:
            raise StatementFileInvalid([problem(block.closing_line, reason)])
        if previous_closing is not None and opening_here != previous_closing:
            raise StatementFileInvalid(
                [
                    problem(
                        block.first_line,
                        f"This statement opens at {amount_text(opening_here, currency=file_currency)}, but "
                        "the statement before it closed at "
                        f"{amount_text(previous_closing, currency=file_currency)}.",
                    )
                ]
            )
        if opening_minor is None:
            opening_minor = opening_here
            if opening.date is not None and (period_start is None or not result):
                period_start = date(opening.date.year, opening.date.month, opening.date.day)
        closing_minor = previous_closing = closing_here
        if closing.date is not None:
            period_end = date(closing.date.year, closing.date.month, closing.date.day)
    if result and period_end is not None:
        period_end = max(period_end, max(line.booked_on for line in result))
    return StatementFile(
        format="mt940",
        account_identifier=account or "",
        currency=file_currency,
        opening_balance_minor=opening_minor,
        closing_balance_minor=closing_minor,
        period_start=period_start,
        period_end=period_end,
        lines=tuple(result),
    )


def _plain_date(value) -> date | None:
    return date(value.year, value.month, value.day) if value is not None else None


def _line(data: dict, line_number: int, *, currency: str) -> StatementLineIn:
    amount = data.get("amount")
    if amount is None or amount.amount is None:  # pragma: no cover - the :61: pattern requires one
        raise LineProblem("The statement line has no amount.")
    amount_minor = decimal_amount_minor(amount.amount, currency=currency, shown=str(abs(amount.amount)))
    value_on = _plain_date(data.get("date"))
    booked_on = _plain_date(data.get("entry_date")) or value_on
    customer_reference = (data.get("customer_reference") or "").strip()
    if customer_reference.upper() in _NON_REFERENCES:
        customer_reference = ""
    details = _details(data.get("transaction_details")) or (data.get("purpose") or "").strip()
    name = (data.get("applicant_name") or "").strip()
    extra = (data.get("extra_details") or "").strip()
    if customer_reference:
        reference, described = customer_reference, [details, name, extra]
    else:
        reference, described = details, [name, extra]
    return StatementLineIn(
        line_number=line_number,
        booked_on=booked_on,
        amount_minor=amount_minor,
        reference=reference,
        description="; ".join(part for part in described if part),
        bank_id=(data.get("bank_reference") or "").strip(),
        kind=line_kind(amount_minor),
        value_on=value_on,
    )
