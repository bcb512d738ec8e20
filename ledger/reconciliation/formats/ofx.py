"""OFX bank and credit card statements, 1.x (SGML) and 2.x (XML), read with `ofxtools`.

`ofxtools` reads the header and the tag soup (by pattern, not by an XML parser: no entities are expanded)
and converts each aggregate with the OFX specification's types; each `STMTTRN` is converted on its own so a
bad one is named by its entry number (the lines' `line_number`). `TRNAMT` is signed already. Dates are the
dates as written (`DTPOSTED` 20261102...), not moved to UTC. `reference` is the `MEMO` (where UK banks put the
payment reference), else `REFNUM` or `CHECKNUM`; `description` the payee `NAME` and `EXTDNAME`; `bank_id`
the `FITID`.

Balances: OFX gives only `LEDGERBAL`, the balance at its `DTASOF`, which is the closing balance. There is no
opening balance in OFX (`opening_balance_minor` is None), so nothing can be checked against the lines.
"""

from __future__ import annotations

import io
import re
import warnings
from datetime import date
from xml.etree.ElementTree import Element

from ofxtools.header import OFXHeaderError, parse_header
from ofxtools.models.base import Aggregate
from ofxtools.Parser import ParseError, TreeBuilder

from ledger.reconciliation.statement_files import (
    LineProblem,
    Problems,
    StatementFile,
    StatementFileInvalid,
    StatementLineIn,
    account_identifier,
    check_file_currency,
    decimal_amount_minor,
    known_currency,
    line_kind,
    line_of_offset,
    problem,
)

_OFX_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})", re.ASCII)
_POSITION = re.compile(r"position=\[(\d+):(\d+)\]")


def _text(element: Element | None, tag: str) -> str:
    found = element.find(tag) if element is not None else None
    return (found.text or "").strip() if found is not None else ""


def _date(text: str, what: str) -> date:
    match = _OFX_DATE.match(text)
    if not match:
        raise LineProblem(f"The {what} '{text}' is not an OFX date (YYYYMMDD...).")
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise LineProblem(f"The {what} '{text}' is not a real date.") from None


def _convert(element: Element):
    """An ofxtools model of one element; LineProblem in words when it breaks the OFX specification."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # unknown (bank-specific) tags are skipped, as ofxtools does
            return Aggregate.from_etree(element)
    except (ValueError, TypeError, SyntaxError, AttributeError) as exc:
        raise LineProblem(f"The {element.tag} is not valid OFX: {exc}") from None


class _CheckedTreeBuilder(TreeBuilder):
    """ofxtools' tree builder, refusing an end tag that closes another aggregate than the one open."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []

    def _feedmatch(self, tag: str, text: str | None, closetag: str | None) -> None:
        if tag.startswith("/"):
            name = tag[1:]
            if not self.open or self.open[-1] != name:
                closes = f"the open <{self.open[-1]}>" if self.open else "anything open"
                # ofxtools' feed() adds the position of the tag to the message.
                raise ParseError(f"the end tag </{name}> does not close {closes}")
            self.open.pop()
        elif not text and not closetag:
            self.open.append(tag)
        super()._feedmatch(tag, text, closetag)


def _tree(content: bytes) -> Element:
    # ofxtools reads the header as ASCII: a byte order mark in front would hide it.
    content = content.removeprefix(b"\xef\xbb\xbf")
    try:
        _header, message = parse_header(io.BytesIO(content))
    except (OFXHeaderError, UnicodeDecodeError, KeyError, ValueError):
        raise StatementFileInvalid(
            [problem(1, "This is not an OFX file: its OFX header is missing or not readable.")]
        ) from None
    builder = _CheckedTreeBuilder()
    try:
        builder.feed(message)
        root = builder.close()
    except (ParseError, IndexError, ValueError, SyntaxError) as exc:
        full = content.decode("latin-1")
        start = max(full.find(message[:64]), 0)
        position = _POSITION.search(str(exc))
        offset = start + int(position[1]) if position else start
        reason = _POSITION.sub("", str(exc)).strip(" -")
        raise StatementFileInvalid(
            [problem(line_of_offset(full, offset), f"The OFX is not well formed: {reason[:200]}.")]
        ) from None
    if root is None or root.tag != "OFX" or not re.search(r"</OFX>\s*$", message, flags=re.IGNORECASE):
        raise StatementFileInvalid(
            "The OFX file ends before its closing </OFX> tag: it may be cut short. Download it again."
        )
    return root


def parse_ofx(content: bytes, *, currency: str) -> StatementFile:
    """Read an OFX statement file; raises StatementFileInvalid."""
    root = _tree(content)
    statements = [*root.iter("STMTRS"), *root.iter("CCSTMTRS")]
    if not statements:
        raise StatementFileInvalid("This OFX file has no bank or credit card statement (STMTRS) in it.")
    if len(statements) > 1:
        raise StatementFileInvalid(
            f"This OFX file holds {len(statements)} statements: export one account's statement per file."
        )
    statement = statements[0]
    file_currency = _text(statement, "CURDEF").upper()
    if not known_currency(file_currency):
        raise StatementFileInvalid(
            f"The statement's currency (CURDEF) '{file_currency}' is not one Purse knows."
        )
    check_file_currency(file_currency, currency=currency)

    problems = Problems(unit="Entry")
    account_element = statement.find("BANKACCTFROM")
    if account_element is None:
        account_element = statement.find("CCACCTFROM")
    if account_element is None:
        raise StatementFileInvalid("The OFX statement does not say which account it is (BANKACCTFROM).")
    try:
        _convert(account_element)
    except LineProblem as exc:
        problems.add(None, exc.reason)
    sort_code = re.sub(r"\D", "", _text(account_element, "BANKID"))
    number = _text(account_element, "ACCTID")
    identifier = account_identifier(number)
    if (
        sort_code
        and identifier.isdigit()
        and not (len(identifier) == 14 and identifier.startswith(sort_code))
    ):
        identifier = sort_code + identifier

    closing = None
    ledger_balance = statement.find("LEDGERBAL")
    if ledger_balance is None:
        problems.add(None, "The OFX statement has no ledger balance (LEDGERBAL).")
    else:
        try:
            converted = _convert(ledger_balance)
            closing = decimal_amount_minor(
                converted.balamt,
                currency=file_currency,
                what="ledger balance",
                shown=_text(ledger_balance, "BALAMT"),
            )
        except LineProblem as exc:
            problems.add(None, exc.reason)

    period_start = period_end = None
    transaction_list = statement.find("BANKTRANLIST")
    lines: list[StatementLineIn] = []
    entries = transaction_list.findall("STMTTRN") if transaction_list is not None else []
    for number_, entry in enumerate(entries, start=1):
        try:
            lines.append(_entry(entry, number_, currency=file_currency))
        except LineProblem as exc:
            problems.add(number_, exc.reason)
    if transaction_list is not None:
        try:
            start_text, end_text = _text(transaction_list, "DTSTART"), _text(transaction_list, "DTEND")
            period_start = _date(start_text, "statement start date") if start_text else None
            period_end = _date(end_text, "statement end date") if end_text else None
        except LineProblem as exc:
            problems.add(None, exc.reason)
    problems.raise_if_any()
    if period_start is None and lines:
        period_start = min(line.booked_on for line in lines)
    if period_end is None and lines:
        period_end = max(line.booked_on for line in lines)
    return StatementFile(
        format="ofx",
        account_identifier=identifier,
        currency=file_currency,
        opening_balance_minor=None,
        closing_balance_minor=closing,
        period_start=period_start,
        period_end=period_end,
        lines=tuple(lines),
    )


def _entry(entry: Element, number: int, *, currency: str) -> StatementLineIn:
    amount_shown = _text(entry, "TRNAMT")
    if not amount_shown:
        raise LineProblem("The entry has no amount (TRNAMT).")
    posted = _text(entry, "DTPOSTED")
    if not posted:
        raise LineProblem("The entry has no date posted (DTPOSTED).")
    booked_on = _date(posted, "date posted")
    if not _text(entry, "FITID"):
        raise LineProblem("The entry has no transaction id (FITID).")
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", amount_shown.replace(",", ".")):
        raise LineProblem(f"The amount '{amount_shown}' is not a number.")
    converted = _convert(entry)
    line_currency = converted.currency.cursym if converted.currency is not None else currency
    if line_currency != currency:
        raise LineProblem(f"The entry is in {line_currency}, but the statement is in {currency}.")
    amount = decimal_amount_minor(converted.trnamt, currency=currency, shown=amount_shown)
    available = _text(entry, "DTAVAIL")
    reference = _text(entry, "MEMO") or _text(entry, "REFNUM") or _text(entry, "CHECKNUM")
    payee = _text(entry, "NAME") or _text(entry.find("PAYEE"), "NAME")
    description = "; ".join(part for part in (payee, _text(entry, "EXTDNAME")) if part)
    return StatementLineIn(
        line_number=number,
        booked_on=booked_on,
        amount_minor=amount,
        reference=reference,
        description=description,
        bank_id=_text(entry, "FITID"),
        kind=line_kind(amount),
        value_on=_date(available, "date available") if available else None,
    )
