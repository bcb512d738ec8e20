"""Reading bank and Stripe statement files into statement lines, checked, without touching the database.

Five formats (`FORMATS`): a bank's CSV export read through a `CsvMapping` saved per bank account, OFX
(1.x SGML and 2.x XML, with `ofxtools`), ISO 20022 camt.053 (with `defusedxml`: no DTDs, no entities, no
external references), SWIFT MT940 (with `mt940`), and Stripe's balance transactions exports (the Dashboard's
"Balance transactions" CSV and the itemised payout reconciliation / balance reports). Each format's reader is
in `ledger/reconciliation/formats/`; this module holds what they share and what callers use.

The rules every reader keeps:

- A file is refused whole (`StatementFileInvalid`) with every problem found (up to `MAX_PROBLEMS`), each with
  the line (or entry) a person finds it by and the reason in plain English. Nothing is half read.
- Money is read as `Decimal` and kept in integer minor units, never float; an amount with more decimals than
  the currency has is refused, as is a line in another currency than the file's, and a file in another
  currency than the account's.
- Where the file states balances they must add up: opening + the lines = closing (and, for a CSV balance
  column, every row's balance = the one before + its amount). The first place they stop adding up is named,
  with the difference.
- Lines keep the file's order. Two identical lines are two lines (a bank may really have two identical
  payments); a reversal is just a line of the opposite sign.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from ledger.errors import DomainError
from ledger.money import currency_exponent, money_format

FORMATS = ("csv", "ofx", "camt053", "mt940", "stripe_balance")
FORMAT_NAMES = {
    "csv": "CSV",
    "ofx": "OFX",
    "camt053": "camt.053",
    "mt940": "MT940",
    "stripe_balance": "Stripe balance report",
}
# Enough to fix a file in one go without flooding a page: the rest are counted, not listed.
MAX_PROBLEMS = 100


@dataclass(frozen=True)
class StatementLineIn:
    """One line of a statement file, as the bank or Stripe gives it.

    `line_number` is 1-based: the file line (CSV row, MT940 `:61:` line) or the entry number (OFX `STMTTRN`,
    camt.053 `Ntry`) a person finds it by. `amount_minor` is signed: + money into the account, - money out.
    `kind` is 'credit' or 'debit' for bank files, Stripe's type for Stripe. `batch` is what the line was
    settled in, when the file says: the Stripe payout (`po_...`) of an automatic payout.
    """

    line_number: int
    booked_on: date
    amount_minor: int
    reference: str
    description: str
    bank_id: str
    kind: str
    value_on: date | None = None
    batch: str = ""


@dataclass(frozen=True)
class StatementFile:
    """A whole statement file, read and checked; balances are None where the format or file gives none."""

    format: str
    account_identifier: str
    currency: str
    opening_balance_minor: int | None
    closing_balance_minor: int | None
    period_start: date | None
    period_end: date | None
    lines: tuple[StatementLineIn, ...]


class StatementFileInvalid(DomainError):
    """A statement file Purse refuses whole: `problems` lists each as {line, reason, message}.

    `line` is the file line or entry number (None for the file as a whole), `reason` a sentence, and
    `message` the two together as a person reads them ("Line 14: the amount 'abc' is not a number.").
    The error's message is the first problem's.
    """

    code = "invalid_statement_file"
    http_status = 422
    message = "Purse cannot read this statement file."

    def __init__(self, problems: str | list[dict], *, more: int = 0) -> None:
        if isinstance(problems, str):
            problems = [problem(None, problems)]
        self.problems = [dict(item) for item in problems]
        # How many problems were found beyond the ones listed (see MAX_PROBLEMS).
        self.more = more
        super().__init__(self.problems[0]["message"] if self.problems else None)


class InvalidCsvMapping(DomainError):
    """A CSV column mapping that cannot be used as it is."""

    code = "invalid_csv_mapping"
    message = "That CSV column mapping cannot be used."


def after_colon(reason: str) -> str:
    # "The amount ..." reads "Line 14: the amount ..."; "OFX ..." or "EUR ..." keep their capitals.
    if len(reason) > 1 and reason[0].isupper() and reason[1].islower():
        return reason[0].lower() + reason[1:]
    return reason


def problem(line: int | None, reason: str, *, unit: str = "Line") -> dict:
    """One problem of a file: the line (or entry, `unit="Entry"`) it is on, the reason, and both in words."""
    message = reason if line is None else f"{unit} {line}: {after_colon(reason)}"
    return {"line": line, "reason": reason, "message": message}


class Problems:
    """Collects a file's problems, keeps the first MAX_PROBLEMS and counts the rest; raises them together."""

    def __init__(self, *, unit: str = "Line") -> None:
        self.unit = unit
        self.items: list[dict] = []
        self.more = 0

    def add(self, line: int | None, reason: str, *, unit: str | None = None) -> None:
        if len(self.items) < MAX_PROBLEMS:
            self.items.append(problem(line, reason, unit=unit or self.unit))
        else:
            self.more += 1

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self) -> None:
        if self.items:
            raise StatementFileInvalid(self.items, more=self.more)


class LineProblem(Exception):
    """Raised inside a reader for one bad value; the reader adds it to its Problems with the line."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


# ---------------------------------------------------------------------------------------------------------
# Values shared by the readers


def amount_text(amount_minor: int, *, currency: str) -> str:
    """An amount for a message: 123456 GBP -> '1,234.56'."""
    text = money_format(amount_minor, currency=currency)
    sign, digits = ("-", text[1:]) if text.startswith("-") else ("", text)
    whole, _, fraction = digits.partition(".")
    return f"{sign}{int(whole):,}{'.' + fraction if fraction else ''}"


_PLAIN_NUMBER = re.compile(r"\d+(?:\.\d+)?|\.\d+", re.ASCII)
_GROUPED_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", re.ASCII)
_CURRENCY_SIGNS = "£$€"


def decimal_amount_minor(amount: Decimal, *, currency: str, what: str = "amount", shown: str = "") -> int:
    """Minor units of an exact Decimal; LineProblem when it has more decimals than the currency allows."""
    exponent = currency_exponent(currency)
    scaled = amount.scaleb(exponent)
    if scaled != scaled.to_integral_value():
        decimals = "no decimals" if exponent == 0 else f"{exponent} decimals"
        raise LineProblem(
            f"The {what} '{shown or amount}' has more decimals than {currency} allows ({decimals})."
        )
    return int(scaled)


def parse_amount(
    text: str,
    *,
    currency: str,
    what: str = "amount",
    decimal_comma: bool = False,
    signed: bool = True,
    lenient: bool = False,
) -> int:
    """Minor units of an amount written in a file, with Decimal only; raises LineProblem with the reason.

    Accepts an optional sign (when `signed`), and with `lenient` (bank CSVs) a currency sign (£, $, €),
    thousands separators in groups of three and spaces. `decimal_comma` reads "1.234,56".
    """
    shown = text.strip()
    value = shown
    if not value:
        raise LineProblem(f"The {what} is missing.")
    if lenient:
        value = value.replace(" ", "").replace("\u00a0", "")
    sign = ""
    if value[0] in "+-":
        sign, value = value[0], value[1:]
    if lenient and value and value[0] in _CURRENCY_SIGNS:
        value = value[1:]
        if not sign and value and value[0] in "+-":
            sign, value = value[0], value[1:]
    if sign and not signed:
        raise LineProblem(f"The {what} '{shown}' has a sign; this column takes amounts without one.")
    if decimal_comma:
        # Swap the separators so one pattern reads both ways: "1.234,56" -> "1,234.56".
        value = value.translate(str.maketrans({",": ".", ".": ","}))
    if _PLAIN_NUMBER.fullmatch(value):
        digits = value
    elif lenient and _GROUPED_NUMBER.fullmatch(value):
        digits = value.replace(",", "")
    else:
        raise LineProblem(f"The {what} '{shown}' is not a number.")
    try:
        amount = Decimal(digits)
    except InvalidOperation:  # pragma: no cover - the patterns admit only decimals
        raise LineProblem(f"The {what} '{shown}' is not a number.") from None
    minor = decimal_amount_minor(amount, currency=currency, what=what, shown=shown)
    return -minor if sign == "-" else minor


_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})", re.ASCII)


def parse_iso_date(text: str, *, what: str = "date") -> date:
    """The date of an ISO 8601 date or date-time: '2026-11-02', '2026-11-02T10:15:00Z', '2026-11-02 10:15'."""
    shown = text.strip()
    if not shown:
        raise LineProblem(f"The {what} is missing.")
    match = _ISO_DATE.match(shown)
    if not match:
        raise LineProblem(f"The {what} '{shown}' is not a date written as YYYY-MM-DD.")
    rest = shown[match.end() :]
    if rest and rest[0] not in "T ":
        raise LineProblem(f"The {what} '{shown}' is not a date written as YYYY-MM-DD.")
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise LineProblem(f"The {what} '{shown}' is not a real date.") from None


def account_identifier(text: str) -> str:
    """The account as Purse keys it: an IBAN in capitals without spaces, else the sort code and number digits.

    '20-00-00 12345678' -> '20000012345678'; 'gb29 nwbk 6016 1331 9268 19' -> 'GB29NWBK60161331926819';
    'NWBKGB2L/GB29NWBK60161331926819' (BIC/IBAN, as MT940 may write it) -> the IBAN.
    """
    for part in re.split(r"[/\s]*/[/\s]*", text.strip()):
        compact = re.sub(r"[\s-]", "", part).upper()
        if re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{10,30}", compact):
            return compact
    return re.sub(r"\D", "", text)


def line_kind(amount_minor: int) -> str:
    """'credit' for money into the account (or nothing), 'debit' for money out."""
    return "debit" if amount_minor < 0 else "credit"


def check_file_currency(file_currency: str, *, currency: str, line: int | None = None) -> None:
    """A file in another currency than the account's is refused, saying both."""
    if file_currency != currency:
        raise StatementFileInvalid(
            [
                problem(
                    line,
                    f"This statement is in {file_currency or 'no stated currency'}, but the account is in "
                    f"{currency}.",
                )
            ]
        )


def known_currency(code: str) -> bool:
    try:
        currency_exponent(code)
    except DomainError:
        return False
    return True


def balance_problem(
    *, opening_minor: int, total_minor: int, closing_minor: int, currency: str, what: str = "the lines"
) -> str | None:
    """The reason a closing balance does not add up, or None when opening + total = closing."""
    expected = opening_minor + total_minor
    if expected == closing_minor:
        return None
    difference = closing_minor - expected
    return (
        f"The closing balance {amount_text(closing_minor, currency=currency)} is not the opening balance "
        f"{amount_text(opening_minor, currency=currency)} plus {what} "
        f"({amount_text(total_minor, currency=currency)}), which make "
        f"{amount_text(expected, currency=currency)}: a difference of "
        f"{amount_text(difference, currency=currency)}."
    )


def period_of(lines: Iterable[StatementLineIn]) -> tuple[date | None, date | None]:
    """The first and last booking dates of some lines (None, None for none)."""
    first = last = None
    for line in lines:
        if first is None or line.booked_on < first:
            first = line.booked_on
        if last is None or line.booked_on > last:
            last = line.booked_on
    return first, last


def line_of_offset(text: str | bytes, offset: int) -> int:
    """The 1-based line number of a character (or byte) offset."""
    newline = b"\n" if isinstance(text, bytes) else "\n"
    return text.count(newline, 0, max(offset, 0)) + 1


def decode_text(content: bytes, *, encoding: str = "utf-8-sig", what: str = "file") -> str:
    """The text of a file in an encoding; a byte that is not of it is refused with its line."""
    try:
        return content.decode(encoding)
    except UnicodeDecodeError as exc:
        line = line_of_offset(content, exc.start)
        raise StatementFileInvalid(
            [
                problem(
                    line,
                    f"The {what} is not valid {encoding} text (byte {content[exc.start]:#04x}); "
                    "save it again as UTF-8 or set the encoding of the bank account's CSV mapping.",
                )
            ]
        ) from None
    except LookupError:
        raise InvalidCsvMapping(f"'{encoding}' is not a text encoding Purse knows.") from None


# ---------------------------------------------------------------------------------------------------------
# The CSV mapping of a bank account


_DATE_PARTS = {"%d": "DD", "%m": "MM", "%Y": "YYYY", "%y": "YY", "%b": "Mon", "%B": "Month", "%j": "DDD"}


def date_format_text(date_format: str) -> str:
    """A strptime format as a person reads it: '%d/%m/%Y' -> 'DD/MM/YYYY'."""
    text = date_format
    for directive, shown in _DATE_PARTS.items():
        text = text.replace(directive, shown)
    return text


@dataclass(frozen=True)
class CsvMapping:
    """How to read one bank's CSV export: which column holds what. Saved per bank account as JSON.

    Amounts come from one signed `amount_column`, or from `paid_in_column` and `paid_out_column` (amounts
    without a sign; one of the two filled on each row). `balance_column`, when set, is the running balance
    after each row and is checked. `skip_lines` are lines above the header (an account summary some banks
    print first). `decimal_comma` reads "1.234,56".
    """

    date_column: str
    date_format: str = "%d/%m/%Y"
    amount_column: str = ""
    paid_in_column: str = ""
    paid_out_column: str = ""
    reference_column: str = ""
    description_column: str = ""
    balance_column: str = ""
    bank_id_column: str = ""
    value_date_column: str = ""
    currency_column: str = ""
    delimiter: str = ","
    encoding: str = "utf-8-sig"
    decimal_comma: bool = False
    skip_lines: int = 0

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            expected = (
                field.type
                if isinstance(field.type, type)
                else {"bool": bool, "int": int}.get(field.type, str)
            )
            if expected is int and (isinstance(value, bool) or not isinstance(value, int)):
                raise InvalidCsvMapping(f"The CSV mapping's {field.name} must be a whole number.")
            if expected is bool and not isinstance(value, bool):
                raise InvalidCsvMapping(f"The CSV mapping's {field.name} must be true or false.")
            if expected is str and not isinstance(value, str):
                raise InvalidCsvMapping(f"The CSV mapping's {field.name} must be text.")
        if not self.date_column.strip():
            raise InvalidCsvMapping("The CSV mapping must name the column that holds the date.")
        if self.amount_column and (self.paid_in_column or self.paid_out_column):
            raise InvalidCsvMapping(
                "The CSV mapping names both an amount column and paid in / paid out columns: use one or the "
                "other."
            )
        if not self.amount_column and not (self.paid_in_column and self.paid_out_column):
            raise InvalidCsvMapping(
                "The CSV mapping must name the amount column, or both the paid in and the paid out columns."
            )
        if self.paid_in_column and self.paid_in_column == self.paid_out_column:
            raise InvalidCsvMapping("The paid in and paid out columns must be different columns.")
        self._check_date_format()
        if len(self.delimiter) != 1 or self.delimiter in '"\r\n' or self.delimiter.isalnum():
            raise InvalidCsvMapping(
                f"The CSV mapping's delimiter {self.delimiter!r} must be one character such as ',', ';' or a "
                "tab."
            )
        try:
            codecs.lookup(self.encoding)
        except LookupError:
            raise InvalidCsvMapping(f"'{self.encoding}' is not a text encoding Purse knows.") from None
        if self.skip_lines < 0:
            raise InvalidCsvMapping("The CSV mapping's skip_lines cannot be negative.")

    def _check_date_format(self) -> None:
        fmt = self.date_format
        has_day = "%d" in fmt or "%j" in fmt
        has_month = "%m" in fmt or "%b" in fmt or "%B" in fmt or "%j" in fmt
        has_year = "%Y" in fmt or "%y" in fmt
        if not (has_day and has_month and has_year):
            raise InvalidCsvMapping(
                f"The date format {fmt!r} must have a day, a month and a year, such as '%d/%m/%Y'."
            )
        try:
            sample = date(2026, 11, 2)
            if datetime.strptime(sample.strftime(fmt), fmt).date() != sample:
                raise ValueError
        except ValueError:
            raise InvalidCsvMapping(
                f"The date format {fmt!r} cannot be read back, so it cannot be used."
            ) from None

    def columns(self) -> dict[str, str]:
        """The columns the mapping names, by their use ('date': 'Date', ...), only those set."""
        uses = {
            "date": self.date_column,
            "amount": self.amount_column,
            "paid in": self.paid_in_column,
            "paid out": self.paid_out_column,
            "reference": self.reference_column,
            "description": self.description_column,
            "balance": self.balance_column,
            "bank id": self.bank_id_column,
            "value date": self.value_date_column,
            "currency": self.currency_column,
        }
        return {use: column for use, column in uses.items() if column}

    def to_dict(self) -> dict:
        """The mapping as JSON-ready data; `from_dict` reads it back."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> CsvMapping:
        """A mapping from saved JSON; raises InvalidCsvMapping naming what is wrong."""
        if not isinstance(data, dict):
            raise InvalidCsvMapping("A CSV mapping must be an object of column names.")
        names = {field.name for field in fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise InvalidCsvMapping(
                f"The CSV mapping has settings Purse does not know: {', '.join(map(str, unknown))}."
            )
        if "date_column" not in data:
            raise InvalidCsvMapping("The CSV mapping must name the column that holds the date.")
        return cls(**data)


# ---------------------------------------------------------------------------------------------------------
# Detecting and parsing


def _looks_like(content: bytes) -> str | None:
    """The format the bytes look like, or None; cheap: reads the first few kilobytes."""
    head = content[:8192].lstrip(b"\xef\xbb\xbf\r\n\t ")
    if not head:
        return None
    upper = head.upper()
    if head.startswith(b"<") or head.startswith(b"OFXHEADER"):
        if b"CAMT.053" in upper or b"URN:ISO:STD:ISO:20022:TECH:XSD:CAMT." in upper:
            # Other camt messages are read as camt.053 so that the reader can say what they are instead.
            return "camt053"
        if head.startswith(b"OFXHEADER") or b"<OFX>" in upper or b"<OFX " in upper or b"OFXHEADER=" in upper:
            return "ofx"
        return None
    if head.startswith(b"{1:") or (
        re.search(rb"(?m)^:20:", head) and re.search(rb"(?m)^:(25|28C?|60[FM]|61):", head)
    ):
        return "mt940"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        # A multi-byte character cut at the 8 KiB boundary still counts as text.
        try:
            text = head[:-4].decode("utf-8")
        except UnicodeDecodeError:
            try:
                text = head.decode("cp1252")
            except UnicodeDecodeError:
                return None
    if "\x00" in text:
        return None
    from ledger.reconciliation.formats.stripe_balance import looks_like_stripe_header

    first_lines = [line for line in text.splitlines()[:6] if line.strip()]
    if not first_lines:
        return None
    if looks_like_stripe_header(first_lines[0]):
        return "stripe_balance"
    if len(first_lines) < 2:
        return None
    # A header and rows of the same number of cells; the last line read may be cut at the 8 KiB boundary.
    sample = first_lines[:-1] if len(first_lines) > 2 else first_lines
    for delimiter in (",", ";", "\t", "|"):
        try:
            widths = {len(row) for row in csv.reader(sample, delimiter=delimiter)}
        except csv.Error:
            continue
        if len(widths) == 1 and widths.pop() >= 2:
            return "csv"
    return None


_KNOWN_OTHERS = (
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a zip archive or a spreadsheet (.xlsx): export it from the bank as CSV"),
    (b"\xd0\xcf\x11\xe0", "an old Excel spreadsheet (.xls): export it from the bank as CSV"),
)

_EXTENSIONS = {
    ".csv": "csv",
    ".ofx": "ofx",
    ".qfx": "ofx",
    ".sta": "mt940",
    ".940": "mt940",
    ".mt940": "mt940",
}


def statement_file_detect(content: bytes, *, filename: str = "") -> str:
    """The format of a statement file (one of FORMATS), from its content and then its name's extension.

    Raises StatementFileInvalid for an empty file or one Purse cannot tell.
    """
    if not content.strip(b"\xef\xbb\xbf\r\n\t "):
        raise StatementFileInvalid("The file is empty.")
    found = _looks_like(content)
    if found:
        return found
    for magic, what in _KNOWN_OTHERS:
        if content.startswith(magic):
            raise StatementFileInvalid(
                f"Purse cannot tell what kind of statement file this is: it looks like {what}. "
                "Upload a CSV, OFX, camt.053, MT940 or Stripe balance report file."
            )
    extension = ("." + filename.rsplit(".", 1)[-1].lower()) if "." in filename else ""
    if extension in _EXTENSIONS:
        return _EXTENSIONS[extension]
    raise StatementFileInvalid(
        "Purse cannot tell what kind of statement file this is. Upload a CSV, OFX, camt.053, MT940 or "
        "Stripe balance report file, or say which format it is."
    )


def statement_file_parse(
    content: bytes,
    *,
    format: str | None = None,
    csv_mapping: CsvMapping | None = None,
    currency: str = "GBP",
) -> StatementFile:
    """Read and check a whole statement file of the account whose currency is `currency`.

    `format` is detected when None (a file that cannot be told is read as CSV when a mapping is given). A
    CSV file needs the bank account's `csv_mapping`. Raises StatementFileInvalid naming each problem's line
    and reason, InvalidCsvMapping for a CSV file without a usable mapping, and UnknownCurrency for a currency
    Purse does not know.
    """
    currency_exponent(currency)
    if not isinstance(content, bytes | bytearray | memoryview):
        raise TypeError("statement_file_parse reads the file's bytes")
    content = bytes(content)
    if format is None:
        try:
            format = statement_file_detect(content)
        except StatementFileInvalid:
            # An account with a CSV mapping gets its bank's CSV, whose first lines may not look it.
            if csv_mapping is None or not content.strip(b"\xef\xbb\xbf\r\n\t "):
                raise
            format = "csv"
    elif format not in FORMATS:
        raise StatementFileInvalid(
            f"'{format}' is not a statement format Purse reads: use one of {', '.join(FORMATS)}."
        )
    else:
        if not content.strip(b"\xef\xbb\xbf\r\n\t "):
            raise StatementFileInvalid("The file is empty.")
        found = _looks_like(content)
        # A Stripe export is a CSV file too: either reader may be asked to read a CSV file, and says why not.
        if found and found != format and {found, format} != {"csv", "stripe_balance"}:
            raise StatementFileInvalid(
                f"This is not a {FORMAT_NAMES[format]} file: it looks like a {FORMAT_NAMES[found]} file."
            )

    if format == "csv":
        from ledger.reconciliation.formats.csv_bank import parse_csv

        if csv_mapping is None:
            raise InvalidCsvMapping(
                "A CSV statement needs its bank account's column mapping (which column holds the date, "
                "the amount, ...): set it up first."
            )
        return parse_csv(content, mapping=csv_mapping, currency=currency)
    if format == "ofx":
        from ledger.reconciliation.formats.ofx import parse_ofx

        return parse_ofx(content, currency=currency)
    if format == "camt053":
        from ledger.reconciliation.formats.camt053 import parse_camt053

        return parse_camt053(content, currency=currency)
    if format == "mt940":
        from ledger.reconciliation.formats.swift_mt940 import parse_mt940

        return parse_mt940(content, currency=currency)
    from ledger.reconciliation.formats.stripe_balance import parse_stripe_balance

    return parse_stripe_balance(content, currency=currency)
