"""ISO 20022 camt.053 (bank to customer statement), versions camt.053.001.02 and later.

Parsed with `defusedxml`: a file with a DTD, an entity or an external reference is refused before anything
is expanded (a "billion laughs" file costs nothing). One line per entry (`Ntry`), because the entry is what
moved on the account; an entry with several transactions (`TxDtls`, a batch) joins their references. The
sign comes from `CdtDbtInd` (a reversal, `RvslInd`, is still signed by it); the booking date is
`BookgDt/Dt` or the date of `BookgDt/DtTm`. `reference` is the remittance information (`Ustrd`, structured
creditor references) and the `EndToEndId`s; `bank_id` the entry's `AcctSvcrRef` (else `NtryRef`, else the
transaction's `AcctSvcrRef`); `description` the counterparties' names and the additional information.

Balances: `OPBD` (or `PRCD`) opening and `CLBD` closing, per statement; opening + entries = closing is
checked, and several statements in one file must be of one account and follow on from each other. Entries
that are not booked (status `PDNG`, `INFO`) are refused: a statement lists what was booked. The file is read
as a stream (each entry dropped from the tree once read), so memory holds the lines, not the XML.
"""

from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from ledger.reconciliation.statement_files import (
    LineProblem,
    Problems,
    StatementFile,
    StatementFileInvalid,
    StatementLineIn,
    account_identifier,
    after_colon,
    amount_text,
    balance_problem,
    check_file_currency,
    decimal_amount_minor,
    known_currency,
    line_kind,
    parse_iso_date,
    period_of,
    problem,
)

_NAMESPACE = re.compile(r"\{(urn:iso:std:iso:20022:tech:xsd:(camt\.\d{3})\.001\.(\d{2}))\}Document")
_AMOUNT = re.compile(r"\d+(?:\.\d+)?", re.ASCII)
_NOT_PROVIDED = {"", "NOTPROVIDED", "NONREF"}


class _Paths:
    """Lookups in the file's namespace by chains of plain tags, which ElementTree finds in C (no XPath)."""

    def __init__(self, namespace: str) -> None:
        self.prefix = "{" + namespace + "}"
        self.cache: dict[str, tuple[str, ...]] = {}

    def tags(self, path: str) -> tuple[str, ...]:
        found = self.cache.get(path)
        if found is None:
            found = self.cache[path] = tuple(self.prefix + part for part in path.split("/"))
        return found

    def find(self, element: Element | None, path: str) -> Element | None:
        for tag in self.tags(path):
            if element is None:
                return None
            element = element.find(tag)
        return element

    def findall(self, element: Element | None, path: str) -> list[Element]:
        *parents, last = self.tags(path)
        for tag in parents:
            if element is None:
                return []
            element = element.find(tag)
        return element.findall(last) if element is not None else []

    def text(self, element: Element | None, path: str) -> str:
        return _text(self.find(element, path))


def _text(element: Element | None) -> str:
    return (element.text or "").strip() if element is not None else ""


def _parse_error(exc: Exception) -> StatementFileInvalid:
    if isinstance(exc, DefusedXmlException):
        return StatementFileInvalid(
            "This file declares a DTD or entities, which a camt.053 statement never has, so Purse does not "
            "read it."
        )
    line, column = getattr(exc, "position", (None, None))
    reason = str(exc).split(":")[0]
    if reason.startswith(("no element found", "unclosed token")):
        reason = "The file ends before its XML does: it may be cut short. Download it again."
    else:
        reason = f"The file is not well-formed XML: {reason} (at column {column})."
    return StatementFileInvalid([problem(line, reason)])


def _balance(element: Element, path: _Paths) -> tuple[str, Decimal, str, date | None]:
    """(type code, signed amount, currency, date) of a Bal element; LineProblem when unreadable."""
    code = path.text(element, "Tp/CdOrPrtry/Cd") or path.text(element, "Tp/CdOrPrtry/Prtry")
    amount_element = path.find(element, "Amt")
    shown = _text(amount_element)
    if not _AMOUNT.fullmatch(shown):
        raise LineProblem(f"The {code or 'balance'} balance amount '{shown}' is not a number.")
    amount = Decimal(shown)
    if path.text(element, "CdtDbtInd") == "DBIT":
        amount = -amount
    balance_currency = (amount_element.get("Ccy") or "").upper() if amount_element is not None else ""
    when_text = path.text(element, "Dt/Dt") or path.text(element, "Dt/DtTm")
    when = parse_iso_date(when_text, what=f"{code} balance date") if when_text else None
    return code, amount, balance_currency, when


def _names(transaction: Element, path: _Paths) -> list[str]:
    names = []
    parties = path.find(transaction, "RltdPties")
    if parties is None:
        return names
    for party in ("Dbtr", "Cdtr", "UltmtDbtr", "UltmtCdtr"):
        # camt.053.001.02 writes RltdPties/Dbtr/Nm; later versions RltdPties/Dbtr/Pty/Nm.
        element = path.find(parties, party)
        if element is None:
            continue
        name = path.text(element, "Nm") or path.text(element, "Pty/Nm")
        if name:
            names.append(name)
    return names


def _add_unique(parts: list[str], value: str) -> None:
    if value and value.upper() not in _NOT_PROVIDED and value not in parts:
        parts.append(value)


class _Statement:
    """One Stmt being read: its account, currency and balances (read when its first entry ends)."""

    def __init__(self, number: int, element: Element) -> None:
        self.number = number
        self.element = element
        self.ready = False
        self.account = ""
        self.currency = ""
        self.balances: dict[str, tuple[Decimal, str, date | None]] = {}
        self.total = 0
        self.entries = 0


class _Reader:
    """Reads a camt.053 file as a stream: each entry is read when it ends and then dropped from the tree."""

    def __init__(self, *, currency: str) -> None:
        self.expected_currency = currency
        self.problems = Problems(unit="Entry")
        self.lines: list[StatementLineIn] = []
        self.entry_number = 0
        self.statements: list[_Statement] = []
        self.account: str | None = None
        self.currency: str | None = None
        self.opening_minor: int | None = None
        self.closing_minor: int | None = None
        self.period_start: date | None = None
        self.period_end: date | None = None
        self.previous_closing: int | None = None

    def where(self, statement: _Statement) -> str:
        return f"statement {statement.number}" if statement.number > 1 else "the statement"

    def head(self, statement: _Statement, path: _Paths) -> None:
        """Read a statement's account, currency and balances, which come before its entries."""
        statement.ready = True
        element = statement.element
        where = self.where(statement)
        statement.account = account_identifier(
            path.text(element, "Acct/Id/IBAN") or path.text(element, "Acct/Id/Othr/Id")
        )
        if self.account is None:
            self.account = statement.account
        elif statement.account != self.account:
            raise StatementFileInvalid(
                "This file holds statements of more than one account: import one account's statements at a "
                "time."
            )
        self.read_balances(statement, path)
        stated = path.text(element, "Acct/Ccy").upper()
        for _, balance_currency, _ in statement.balances.values():
            stated = stated or balance_currency
        if not stated:
            raise StatementFileInvalid(
                f"The currency of {where} is not stated (Acct/Ccy or a balance's Ccy)."
            )
        if not known_currency(stated):
            raise StatementFileInvalid(f"'{stated}' is not a currency Purse knows.")
        if self.currency is None:
            check_file_currency(stated, currency=self.expected_currency)
            self.currency = stated
        elif stated != self.currency:
            raise StatementFileInvalid("The statements in this file are in different currencies.")
        statement.currency = stated
        for code, (_, balance_currency, _) in statement.balances.items():
            if balance_currency and balance_currency != stated:
                self.problems.add(
                    None, f"The {code} balance of {where} is in {balance_currency}, not {stated}."
                )

    def read_balances(self, statement: _Statement, path: _Paths) -> None:
        for balance in path.findall(statement.element, "Bal"):
            try:
                code, amount, balance_currency, when = _balance(balance, path)
            except LineProblem as exc:
                self.problems.add(None, f"In {self.where(statement)}: {after_colon(exc.reason)}")
                continue
            statement.balances.setdefault(code, (amount, balance_currency, when))

    def entry(self, statement: _Statement, element: Element, path: _Paths) -> None:
        if not statement.ready:
            self.head(statement, path)
        self.entry_number += 1
        statement.entries += 1
        try:
            line = _entry(element, self.entry_number, path=path, currency=statement.currency)
        except LineProblem as exc:
            self.problems.add(self.entry_number, exc.reason)
            return
        statement.total += line.amount_minor
        self.lines.append(line)

    def end(self, statement: _Statement, path: _Paths) -> None:
        """Check a statement's balances once all its entries are read."""
        if not statement.ready:
            self.head(statement, path)
        elif not statement.balances:
            # The schema puts balances before the entries; a bank that writes them after is read too.
            self.read_balances(statement, path)
        where = self.where(statement)
        element = statement.element
        count_text = path.text(element, "TxsSummry/TtlNtries/NbOfNtries")
        if count_text.isdigit() and int(count_text) != statement.entries:
            self.problems.add(
                None,
                f"The summary of {where} counts {int(count_text)} entries, but it has {statement.entries}.",
            )
        if self.problems:
            return
        currency = statement.currency
        opening = statement.balances.get("OPBD") or statement.balances.get("PRCD")
        closing = statement.balances.get("CLBD")
        try:
            opening_here = (
                decimal_amount_minor(opening[0], currency=currency, what="opening balance")
                if opening
                else None
            )
            closing_here = (
                decimal_amount_minor(closing[0], currency=currency, what="closing balance")
                if closing
                else None
            )
        except LineProblem as exc:
            raise StatementFileInvalid(f"In {where}: {after_colon(exc.reason)}") from None
        if opening_here is not None and closing_here is not None:
            reason = balance_problem(
                opening_minor=opening_here,
                total_minor=statement.total,
                closing_minor=closing_here,
                currency=currency,
                what="its entries",
            )
            if reason:
                raise StatementFileInvalid(
                    reason if statement.number == 1 else f"In {where}: {after_colon(reason)}"
                )
        if (
            self.previous_closing is not None
            and opening_here is not None
            and opening_here != self.previous_closing
        ):
            raise StatementFileInvalid(
                f"Statement {statement.number} opens at {amount_text(opening_here, currency=currency)}, "
                "but the statement before it closed at "
                f"{amount_text(self.previous_closing, currency=currency)}."
            )
        if statement.number == 1:
            self.opening_minor = opening_here
            # PRCD is dated the day the previous statement closed, so only OPBD dates the start.
            opening_booked = statement.balances.get("OPBD")
            self.period_start = _period_date(element, path, "FrToDt/FrDtTm") or (
                opening_booked[2] if opening_booked else None
            )
        self.closing_minor = self.previous_closing = closing_here
        self.period_end = _period_date(element, path, "FrToDt/ToDtTm") or (closing[2] if closing else None)


def parse_camt053(content: bytes, *, currency: str) -> StatementFile:
    """Read a camt.053 file; raises StatementFileInvalid."""
    reader = _Reader(currency=currency)
    path: _Paths | None = None
    statement_tag = entry_tag = ""
    statement: _Statement | None = None
    count = 0
    events = SafeET.iterparse(
        io.BytesIO(content),
        events=("start", "end"),
        forbid_dtd=True,
        forbid_entities=True,
        forbid_external=True,
    )
    try:
        for event, element in events:
            if path is None:
                path = _document_paths(element)
                statement_tag, entry_tag = path.prefix + "Stmt", path.prefix + "Ntry"
                continue
            tag = element.tag
            if event == "start":
                if tag == statement_tag:
                    count += 1
                    statement = _Statement(count, element)
                continue
            if tag == entry_tag and statement is not None:
                reader.entry(statement, element, path)
                element.clear()
                # The entry that just ended is its statement's last child: dropping it keeps memory flat.
                if len(statement.element) and statement.element[-1] is element:
                    del statement.element[-1]
            elif tag == statement_tag and statement is not None:
                reader.end(statement, path)
                element.clear()
                statement = None
    except (SafeET.ParseError, DefusedXmlException) as exc:
        raise _parse_error(exc) from None
    if path is None:  # pragma: no cover - an empty file is refused before it gets here
        raise StatementFileInvalid("The file is empty.")
    if count == 0:
        raise StatementFileInvalid("This camt.053 file has no statement (no Stmt element).")
    reader.problems.raise_if_any()
    booked_start, booked_end = period_of(reader.lines)
    return StatementFile(
        format="camt053",
        account_identifier=reader.account or "",
        currency=reader.currency or currency,
        opening_balance_minor=reader.opening_minor,
        closing_balance_minor=reader.closing_minor,
        period_start=reader.period_start or booked_start,
        period_end=reader.period_end or booked_end,
        lines=tuple(reader.lines),
    )


def _document_paths(root: Element) -> _Paths:
    """The lookups of a camt.053 Document of version 02 or later; refuses any other root."""
    match = _NAMESPACE.fullmatch(root.tag)
    if not match:
        raise StatementFileInvalid(
            "This is not a camt.053 statement: its XML is not an ISO 20022 camt.053 Document."
        )
    namespace, message, version = match[1], match[2], int(match[3])
    if message != "camt.053":
        what = {"camt.052": "an intraday account report", "camt.054": "a debit or credit notification"}.get(
            message, "another ISO 20022 message"
        )
        raise StatementFileInvalid(
            f"This is a {message} file ({what}), not a camt.053 statement: ask the bank for camt.053."
        )
    if version < 2:
        raise StatementFileInvalid(
            "This is camt.053.001.01, which Purse does not read: use version 02 or later."
        )
    return _Paths(namespace)


def _period_date(statement: Element, path: _Paths, where: str) -> date | None:
    text = path.text(statement, where)
    if not text:
        return None
    try:
        return parse_iso_date(text, what="statement period date")
    except LineProblem as exc:
        raise StatementFileInvalid(exc.reason) from None


def _entry(entry: Element, number: int, *, path: _Paths, currency: str) -> StatementLineIn:
    amount_element = path.find(entry, "Amt")
    if amount_element is None:
        raise LineProblem("The entry has no amount (Amt).")
    shown = _text(amount_element)
    if not _AMOUNT.fullmatch(shown):
        raise LineProblem(f"The amount '{shown}' is not a number.")
    entry_currency = (amount_element.get("Ccy") or "").upper()
    if entry_currency != currency:
        raise LineProblem(
            f"The entry is in {entry_currency or 'no stated currency'}, but the statement is in {currency}."
        )
    amount = decimal_amount_minor(Decimal(shown), currency=currency, shown=shown)
    indicator = path.text(entry, "CdtDbtInd")
    if indicator == "DBIT":
        amount = -amount
    elif indicator != "CRDT":
        raise LineProblem(f"The credit or debit mark '{indicator}' is not CRDT or DBIT.")
    status = path.text(entry, "Sts/Cd") or path.text(entry, "Sts")
    if status and status != "BOOK":
        raise LineProblem(
            f"The entry is not booked (its status is {status}); a statement lists booked entries."
        )
    booked_text = path.text(entry, "BookgDt/Dt") or path.text(entry, "BookgDt/DtTm")
    if not booked_text:
        raise LineProblem("The entry has no booking date (BookgDt).")
    booked_on = parse_iso_date(booked_text, what="booking date")
    value_text = path.text(entry, "ValDt/Dt") or path.text(entry, "ValDt/DtTm")
    value_on = parse_iso_date(value_text, what="value date") if value_text else None

    references: list[str] = []
    descriptions: list[str] = []
    transaction_ids: list[str] = []
    for transaction in path.findall(entry, "NtryDtls/TxDtls"):
        remittance = path.find(transaction, "RmtInf")
        if remittance is not None:
            for unstructured in path.findall(remittance, "Ustrd"):
                _add_unique(references, _text(unstructured))
            for structured in path.findall(remittance, "Strd"):
                for reference in path.findall(structured, "CdtrRefInf/Ref"):
                    _add_unique(references, _text(reference))
        refs = path.find(transaction, "Refs")
        if refs is not None:
            end_to_end = path.text(refs, "EndToEndId")
            if not any(end_to_end and end_to_end in reference for reference in references):
                _add_unique(references, end_to_end)
            _add_unique(transaction_ids, path.text(refs, "AcctSvcrRef"))
        for name in _names(transaction, path):
            _add_unique(descriptions, name)
        _add_unique(descriptions, path.text(transaction, "AddtlTxInf"))
    _add_unique(descriptions, path.text(entry, "AddtlNtryInf"))
    bank_id = (
        path.text(entry, "AcctSvcrRef")
        or path.text(entry, "NtryRef")
        or (transaction_ids[0] if len(transaction_ids) == 1 else "")
    )
    return StatementLineIn(
        line_number=number,
        booked_on=booked_on,
        amount_minor=amount,
        reference="; ".join(references),
        description="; ".join(descriptions),
        bank_id=bank_id,
        kind=line_kind(amount),
        value_on=value_on,
    )
