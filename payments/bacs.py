"""Bacs Standard 18 payment files: the council pays providers by direct credit from its own bank account.

Finance downloads the file and submits it through their Bacs-approved software or bureau (Bacstel-IP).
The file holds one **standard record** per credit (transaction code 99, one provider's account), then one
**contra record** (transaction code 17) that debits the council's account with the total, so the file
balances, wrapped in the Standard 18 labels: VOL1, HDR1, HDR2, UHL1 before, EOF1, EOF2, UTL1 after.

`bacs_file` checks everything first and raises `BacsInvalid` listing *every* problem (code, JSON pointer
such as `/credits/3/sort_code`, plain-English detail), so finance fixes a file in one pass, not one error at
a time. Nothing is silently cut or guessed: a name too long for its field is an error, not a truncation.
`parse_bacs_file` reads a file back into the same dataclasses (for the tests, and for reconciliation).

Record length: 106, every record
--------------------------------

Each data record carries its processing day in columns 101-106 (Bacs's multi-processing-day layout, work
code `4 MULTI` in UHL1; every record of a Purse file has the same day), so data records are 106
characters. The labels define columns 1-80 only; Purse writes them with columns 81-106 blank so that
*every* record in the file is 106 characters. HDR2 then truthfully says "fixed-length records of 106",
one length check finds any damaged or hand-edited line, and a reader slices every line the same way. Blank
trailing columns are what Bacs already puts in a label's unused columns. (The other common layout, 80-column
labels with 100-column records and work code `1 DAILY`, has no processing day in the records.)

Characters and fields
---------------------

The file is ASCII; records end with CRLF, including the last. Text fields hold only what Bacs carries:
upper case A-Z, digits 0-9, space, full stop, ampersand, slash and hyphen. Alphanumeric fields are
left-aligned and blank-filled; numeric fields are right-aligned and zero-filled. Dates are Bacs's " YYDDD":
a space, the year's last two digits and the day of the year (31 December 2026 is " 26365"); they are read
back as 2000-2099.

* **Account names** are made Bacs-safe by `clean_name`: accents dropped ("Zoë" -> "ZOE"), upper-cased, any
  other character replaced by a space, runs of spaces made one. A name with no letter or digit left, or
  longer than 18 characters once cleaned, is an error: the provider's bank holds a short form of the name,
  and finance should enter that one rather than have Purse cut it.
* **References** are Purse's payment ids (`pay_` and 14 lower-case letters and digits), written by
  `bacs_reference`: upper-cased, "_" written as "-" (so "pay_0a1b..." is "PAY-0A1B...", one word on the
  provider's statement). A reference is an identifier, not prose, so any other character Bacs cannot carry
  is an error, never replaced. It is at most 18 characters, starts with a letter or digit, has at least 6
  letters or digits, is not one character repeated, is not "CONTRA" (which marks the contra record), and is
  unique in the file. Reconciliation compares `bacs_reference(payment id)` with the field.
* **Processing day** must be a working day (Monday to Friday, not a bank holiday in England and Wales) and
  not before the day the file is made; the message suggests the next day that would do.

Layout (columns are 1-based; "blank" means spaces)
--------------------------------------------------

VOL1, volume header label:

| columns | length | content                                                           |
| ------- | ------ | ----------------------------------------------------------------- |
| 1-4     | 4      | "VOL1"                                                            |
| 5-10    | 6      | submission serial number: `file_number`, zero-filled ("000042")   |
| 11      | 1      | accessibility indicator: blank                                    |
| 12-41   | 30     | reserved, and owner identification's first 4 columns: blank       |
| 42-47   | 6      | owner identification: the service user number (SUN)              |
| 48-79   | 32     | owner identification's last 4 columns, and reserved: blank        |
| 80      | 1      | label standard level: "1"                                         |
| 81-106  | 26     | blank (every record is 106 long)                                  |

HDR1, file header label 1 (EOF1, the end-of-file label 1, is the same with "EOF1" in columns 1-4):

| columns | length | content                                                           |
| ------- | ------ | ----------------------------------------------------------------- |
| 1-4     | 4      | "HDR1"                                                            |
| 5       | 1      | "A" (file identifier, columns 5-21)                               |
| 6-11    | 6      | SUN                                                               |
| 12      | 1      | "S"                                                               |
| 13-15   | 3      | blank                                                             |
| 16-21   | 6      | SUN (the submitter: Purse files are submitted under the council's SUN) |
| 22-27   | 6      | file set identification: the serial number, as VOL1 5-10          |
| 28-31   | 4      | file section number: "0001"                                       |
| 32-35   | 4      | file sequence number: "0001"                                      |
| 36-41   | 6      | generation number and version: blank                              |
| 42-47   | 6      | creation date: `created_on`, " YYDDD"                             |
| 48-53   | 6      | expiration date: the processing day, " YYDDD"                     |
| 54      | 1      | accessibility indicator: blank                                    |
| 55-60   | 6      | block count: "000000"                                             |
| 61-106  | 46     | system code, reserved, and padding: blank                         |

HDR2, file header label 2 (EOF2 is the same with "EOF2" in columns 1-4):

| columns | length | content                                                           |
| ------- | ------ | ----------------------------------------------------------------- |
| 1-4     | 4      | "HDR2"                                                            |
| 5       | 1      | record format: "F" (fixed length)                                 |
| 6-10    | 5      | block length: "02120" (20 records of 106)                         |
| 11-15   | 5      | record length: "00106"                                            |
| 16-50   | 35     | reserved: blank                                                   |
| 51-52   | 2      | buffer offset: "00"                                               |
| 53-106  | 54     | reserved, and padding: blank                                      |

UHL1, user header label 1:

| columns | length | content                                                           |
| ------- | ------ | ----------------------------------------------------------------- |
| 1-4     | 4      | "UHL1"                                                            |
| 5-10    | 6      | processing day, " YYDDD"                                          |
| 11-16   | 6      | receiving party identification: "999999"                          |
| 17-20   | 4      | blank                                                             |
| 21-22   | 2      | currency code: "00" (sterling)                                    |
| 23-28   | 6      | country code: "000000"                                            |
| 29-37   | 9      | work code: "4 MULTI  " (records carry their processing day)       |
| 38-40   | 3      | file number within the submission: "000" (one file per submission) |
| 41-106  | 66     | reserved, audit print identifier (48-54), and padding: blank      |

Standard record, one per credit, in the order given:

| columns | length | content                                                           |
| ------- | ------ | ----------------------------------------------------------------- |
| 1-6     | 6      | destination sort code: the provider's                             |
| 7-14    | 8      | destination account number: the provider's                        |
| 15      | 1      | type of account: "0"                                              |
| 16-17   | 2      | transaction code: "99" (direct credit)                            |
| 18-23   | 6      | originating sort code: the council's                              |
| 24-31   | 8      | originating account number: the council's                         |
| 32-35   | 4      | free format (RTI, for payroll only): blank                        |
| 36-46   | 11     | amount in pence, zero-filled                                      |
| 47-64   | 18     | service user's name: the council's account name, cleaned          |
| 65-82   | 18     | service user's reference: `bacs_reference(credit.reference)`      |
| 83-100  | 18     | destination account name: the provider's, cleaned                 |
| 101-106 | 6      | processing day, " YYDDD"                                          |

Contra record, one, after the standard records:

| columns | length | content                                                           |
| ------- | ------ | ----------------------------------------------------------------- |
| 1-6     | 6      | destination sort code: the council's                              |
| 7-14    | 8      | destination account number: the council's                         |
| 15      | 1      | type of account: "0"                                              |
| 16-17   | 2      | transaction code: "17" (debit contra)                             |
| 18-23   | 6      | originating sort code: the council's                              |
| 24-31   | 8      | originating account number: the council's                         |
| 32-35   | 4      | blank                                                             |
| 36-46   | 11     | amount in pence, zero-filled: the sum of the credits              |
| 47-64   | 18     | narrative: "PURSE FILE " and the serial ("PURSE FILE 000042")     |
| 65-82   | 18     | "CONTRA"                                                          |
| 83-100  | 18     | the council's account name, cleaned                               |
| 101-106 | 6      | processing day, " YYDDD"                                          |

UTL1, user trailer label 1, after EOF1 and EOF2:

| columns | length | content                                                           |
| ------- | ------ | ----------------------------------------------------------------- |
| 1-4     | 4      | "UTL1"                                                            |
| 5-17    | 13     | debit value total in pence, zero-filled: the contra's amount      |
| 18-30   | 13     | credit value total in pence, zero-filled: the sum of the credits  |
| 31-37   | 7      | debit item count, zero-filled: "0000001" (the contra)             |
| 38-44   | 7      | credit item count, zero-filled: the number of credits             |
| 45-106  | 62     | reserved, and padding: blank                                      |

The layout follows the banks' published Standard 18 implementation guides (Pay.UK publishes the standard
itself to service users only). Columns that guides fill differently, and that Bacstel-IP software does not
rely on, are HDR1 15 (blank here), UHL1's file number (000 here) and HDR2's block length; check them against
the council's bank or bureau guide before the first live submission.
"""

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from budgets.schedule import is_working_day
from ledger.errors import DomainError, DomainErrors
from plans.wording import date_display, money_display

RECORD_LENGTH = 106
LABEL_LENGTH = 80  # the columns a label defines; Purse blank-fills it to RECORD_LENGTH
NAME_LENGTH = 18
REFERENCE_LENGTH = 18
MAX_AMOUNT_MINOR = 99_999_999_999  # 11 digits of pence: £999,999,999.99, in one record and in the contra
MAX_FILE_NUMBER = 999_999  # 6 digits: the VOL1 serial number
MAX_CREDITS = 9_999_999  # 7 digits: UTL1's credit item count
CREDIT_CODE = "99"
CONTRA_CODE = "17"
CONTRA_REFERENCE = "CONTRA"
WORK_CODE = "4 MULTI  "
BACS_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .&/-")

_CRLF = "\r\n"
_ALPHANUMERIC = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_DIGITS = re.compile(r"[0-9]+")
_REFERENCE_MIN_ALPHANUMERIC = 6
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


# Inputs and outputs ---------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Originator:
    """The council's bank account that pays, and the Bacs service user number (SUN) it submits under."""

    service_user_number: str
    sort_code: str
    account_number: str
    account_name: str


@dataclass(frozen=True, kw_only=True)
class Credit:
    """One payment to one provider's bank account, in pence; `reference` is Purse's payment id."""

    sort_code: str
    account_number: str
    account_name: str
    amount_minor: int
    reference: str


@dataclass(frozen=True, kw_only=True)
class ParsedBacs:
    """A Bacs file read back: its values as the file holds them (digits only, cleaned names, references)."""

    originator: Originator
    file_number: int
    created_on: date
    processing_day: date
    credits: tuple[Credit, ...]
    contra_amount_minor: int

    @property
    def total_minor(self) -> int:
        return sum(credit.amount_minor for credit in self.credits)


@dataclass(frozen=True)
class BacsProblem:
    """Why a Bacs file cannot be made: a stable `code`, a JSON `pointer` and a plain-English `detail`."""

    code: str
    pointer: str
    detail: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "pointer": self.pointer, "detail": self.detail}


class BacsInvalid(DomainErrors):
    """The file cannot be made as asked; `problems` (and `errors`, as dicts) list every reason at once."""

    code = "bacs_invalid"
    message = "This Bacs file cannot be made."
    summary = "This Bacs file cannot be made"

    def __init__(self, problems: Sequence[BacsProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__([problem.as_dict() for problem in self.problems])


class BacsUnreadable(DomainError):
    """The text is not a Bacs file in Purse's layout, or its records do not agree with each other."""

    code = "bacs_unreadable"
    message = "This is not a Bacs file Purse can read."


# Working days ---------------------------------------------------------------------------------------------


def next_working_day(day: date) -> date:
    """The first working day after `day` (Monday to Friday, not an England and Wales bank holiday)."""
    return working_day_on_or_after(day + timedelta(days=1))


def working_day_on_or_after(day: date) -> date:
    """The day itself if it is a working day, else the next working day."""
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


# Field values ---------------------------------------------------------------------------------------------


def clean_name(name: str) -> str:
    """A name as Bacs can carry it: accents dropped, upper case, other characters as spaces, spaces single."""
    decomposed = unicodedata.normalize("NFKD", name)
    unaccented = "".join(character for character in decomposed if not unicodedata.combining(character))
    upper = unaccented.upper()
    return " ".join("".join(c if c in BACS_CHARACTERS else " " for c in upper).split())


def bacs_reference(reference: str) -> str:
    """A payment reference as the file's reference field holds it: upper case, "_" written as "-"."""
    return reference.strip().upper().replace("_", "-")


def _bacs_day(day: date) -> str:
    return f" {day.year % 100:02d}{day.timetuple().tm_yday:03d}"


def _day_display(day: date) -> str:
    return f"{_WEEKDAYS[day.weekday()]} {date_display(day)}"


def _gbp(amount_minor: int) -> str:
    return money_display(amount_minor, currency="GBP")


def _quoted(value: object) -> str:
    return f"'{value}'" if isinstance(value, str) else repr(value)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_date(value: object) -> bool:
    return isinstance(value, date) and not isinstance(value, datetime)


def _digits(value: object, length: int) -> str | None:
    """`value` with spaces and hyphens taken out, if what is left is exactly `length` digits."""
    if not isinstance(value, str):
        return None
    digits = value.replace(" ", "").replace("-", "")
    return digits if len(digits) == length and _DIGITS.fullmatch(digits) else None


# Validation -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Account:
    sort_code: str
    account_number: str
    account_name: str


def _account_problems(
    *, account: Originator | Credit, pointer: str, who: str, problems: list[BacsProblem]
) -> _Account | None:
    """The account's sort code, number and name as the file writes them, adding a problem for each one
    that cannot be written; None if any could not."""
    sort_code = _digits(account.sort_code, 6)
    if sort_code is None:
        problems.append(
            BacsProblem(
                "invalid_sort_code",
                f"{pointer}/sort_code",
                f"{who}: the sort code must be 6 digits; {_quoted(account.sort_code)} is not.",
            )
        )
    account_number = _digits(account.account_number, 8)
    if account_number is None:
        problems.append(
            BacsProblem(
                "invalid_account_number",
                f"{pointer}/account_number",
                f"{who}: the account number must be 8 digits; {_quoted(account.account_number)} is not.",
            )
        )
    name = _name_problems(account.account_name, pointer=f"{pointer}/account_name", who=who, problems=problems)
    if sort_code is None or account_number is None or name is None:
        return None
    return _Account(sort_code, account_number, name)


def _name_problems(value: object, *, pointer: str, who: str, problems: list[BacsProblem]) -> str | None:
    cleaned = clean_name(value) if isinstance(value, str) else ""
    if not any(character in _ALPHANUMERIC for character in cleaned):
        problems.append(
            BacsProblem(
                "account_name_empty",
                pointer,
                f"{who}: the account name needs at least one letter or digit that Bacs can carry; "
                f"{_quoted(value)} has none.",
            )
        )
        return None
    if len(cleaned) > NAME_LENGTH:
        problems.append(
            BacsProblem(
                "account_name_too_long",
                pointer,
                f"{who}: the account name must be at most {NAME_LENGTH} characters as Bacs writes it; "
                f"'{cleaned}' is {len(cleaned)}. Enter the shortened name the bank holds for the account.",
            )
        )
        return None
    return cleaned


def _reference_problems(value: object, *, pointer: str, who: str, problems: list[BacsProblem]) -> str | None:
    def problem(rule: str) -> None:
        problems.append(BacsProblem("invalid_reference", pointer, f"{who}: the reference {rule}."))

    if not isinstance(value, str) or not value.strip():
        problem(f"is missing ({_quoted(value)})")
        return None
    reference = bacs_reference(value)
    alphanumerics = [character for character in reference if character in _ALPHANUMERIC]
    if len(reference) > REFERENCE_LENGTH:
        problems.append(
            BacsProblem(
                "reference_too_long",
                pointer,
                f"{who}: the reference must be at most {REFERENCE_LENGTH} characters; "
                f"'{reference}' is {len(reference)}.",
            )
        )
        return None
    if bad := sorted(set(reference) - BACS_CHARACTERS):
        problem(f"'{reference}' has characters Bacs cannot carry: {' '.join(bad)}")
    elif reference[0] not in _ALPHANUMERIC:
        problem(f"must start with a letter or digit; '{reference}' does not")
    elif len(alphanumerics) < _REFERENCE_MIN_ALPHANUMERIC:
        problem(f"needs at least {_REFERENCE_MIN_ALPHANUMERIC} letters or digits; '{reference}' has fewer")
    elif len(set(reference)) == 1:
        problem(f"cannot be one character repeated ('{reference}')")
    elif reference == CONTRA_REFERENCE:
        problem(f"cannot be '{CONTRA_REFERENCE}', which marks the file's contra record")
    else:
        return reference
    return None


def _amount_problems(value: object, *, pointer: str, who: str, problems: list[BacsProblem]) -> int | None:
    if not _is_int(value):
        problems.append(
            BacsProblem(
                "invalid_amount",
                pointer,
                f"{who}: the amount must be a whole number of pence; {_quoted(value)} is not.",
            )
        )
        return None
    assert isinstance(value, int)  # for the type checker: _is_int says so
    if value <= 0:
        problems.append(
            BacsProblem(
                "invalid_amount",
                pointer,
                f"{who}: the amount must be more than zero; {_gbp(value)} is not.",
            )
        )
        return None
    if value > MAX_AMOUNT_MINOR:
        problems.append(
            BacsProblem(
                "amount_too_large",
                pointer,
                f"{who}: one Bacs credit can carry at most {_gbp(MAX_AMOUNT_MINOR)}; {_gbp(value)} is more. "
                "Pay it in several payments.",
            )
        )
        return None
    return value


def _day_problems(*, processing_day: object, created_on: object, problems: list[BacsProblem]) -> None:
    days_are_dates = True
    for name, what, value in (
        ("processing_day", "processing day", processing_day),
        ("created_on", "day the file is made", created_on),
    ):
        if not _is_date(value):
            days_are_dates = False
            problems.append(
                BacsProblem(
                    "invalid_date", f"/{name}", f"The {what} must be a date (no time), not {value!r}."
                )
            )
    if not days_are_dates:
        return
    assert isinstance(processing_day, date) and isinstance(created_on, date)
    suggestion = _day_display(working_day_on_or_after(max(processing_day, created_on)))
    if processing_day < created_on:
        problems.append(
            BacsProblem(
                "processing_day_in_past",
                "/processing_day",
                f"The processing day, {_day_display(processing_day)}, is before the file is made "
                f"({_day_display(created_on)}). The first processing day it could have is {suggestion}.",
            )
        )
    if not is_working_day(processing_day):
        kind = "a weekend day" if processing_day.weekday() >= 5 else "a bank holiday in England and Wales"
        problems.append(
            BacsProblem(
                "not_a_working_day",
                "/processing_day",
                f"The processing day must be a working day; {_day_display(processing_day)} is {kind}. "
                f"The next working day is {suggestion}.",
            )
        )


def _file_number_problems(file_number: object, problems: list[BacsProblem]) -> None:
    if not (
        isinstance(file_number, int)
        and not isinstance(file_number, bool)
        and 1 <= file_number <= MAX_FILE_NUMBER
    ):
        problems.append(
            BacsProblem(
                "invalid_file_number",
                "/file_number",
                f"The file number must be a whole number from 1 to {MAX_FILE_NUMBER:,}; "
                f"{file_number!r} is not.",
            )
        )


@dataclass(frozen=True)
class _Line:
    account: _Account
    amount_minor: int
    reference: str


def _credit_label(index: int, credit: Credit) -> str:
    name = credit.account_name.strip() if isinstance(credit.account_name, str) else ""
    return f"Credit {index + 1} ({name})" if name else f"Credit {index + 1}"


def _credits_problems(credits: Sequence[Credit], problems: list[BacsProblem]) -> list[_Line]:
    if not credits:
        problems.append(BacsProblem("no_credits", "/credits", "A Bacs file needs at least one credit."))
        return []
    if len(credits) > MAX_CREDITS:
        problems.append(
            BacsProblem(
                "too_many_credits",
                "/credits",
                f"One Bacs file can carry at most {MAX_CREDITS:,} credits; this has {len(credits):,}.",
            )
        )
    lines: list[_Line] = []
    first_with_reference: dict[str, int] = {}
    for index, credit in enumerate(credits):
        pointer, who = f"/credits/{index}", _credit_label(index, credit)
        account = _account_problems(account=credit, pointer=pointer, who=who, problems=problems)
        amount = _amount_problems(
            credit.amount_minor, pointer=f"{pointer}/amount_minor", who=who, problems=problems
        )
        reference = _reference_problems(
            credit.reference, pointer=f"{pointer}/reference", who=who, problems=problems
        )
        if reference is not None:
            if reference in first_with_reference:
                first = first_with_reference[reference]
                problems.append(
                    BacsProblem(
                        "duplicate_reference",
                        f"{pointer}/reference",
                        f"{who}: the reference '{reference}' is already that of "
                        f"{_credit_label(first, credits[first])}; each payment needs its own.",
                    )
                )
                reference = None
            else:
                first_with_reference[reference] = index
        if account is not None and amount is not None and reference is not None:
            lines.append(_Line(account, amount, reference))
    # Only amounts that fit a record count here, so that one amount too large is one problem, not two.
    total = sum(
        credit.amount_minor
        for credit in credits
        if _is_int(credit.amount_minor) and 0 < credit.amount_minor <= MAX_AMOUNT_MINOR
    )
    if total > MAX_AMOUNT_MINOR:
        problems.append(
            BacsProblem(
                "total_too_large",
                "/credits",
                f"The credits add up to {_gbp(total)}; the contra record of one Bacs file can carry at most "
                f"{_gbp(MAX_AMOUNT_MINOR)}. Split them into several files.",
            )
        )
    return lines


def _originator_problems(originator: Originator, problems: list[BacsProblem]) -> _Account | None:
    sun = originator.service_user_number
    if not (isinstance(sun, str) and len(sun) == 6 and _DIGITS.fullmatch(sun)):
        problems.append(
            BacsProblem(
                "invalid_service_user_number",
                "/originator/service_user_number",
                f"The council's Bacs service user number must be 6 digits; {_quoted(sun)} is not.",
            )
        )
    return _account_problems(
        account=originator, pointer="/originator", who="The council's account", problems=problems
    )


# Records --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Field:
    """A field of a record: its first column (1-based, as the layout tables say) and its length."""

    start: int
    length: int

    @property
    def columns(self) -> slice:
        return slice(self.start - 1, self.start - 1 + self.length)

    def read(self, record: str) -> str:
        return record[self.columns]


_LABEL = _Field(1, 4)

_VOL_SERIAL = _Field(5, 6)
_VOL_OWNER = _Field(42, 6)
_VOL_STANDARD = _Field(80, 1)

_HDR1_A = _Field(5, 1)
_HDR1_SUN = _Field(6, 6)
_HDR1_S = _Field(12, 1)
_HDR1_SUBMITTER = _Field(16, 6)
_HDR1_SET = _Field(22, 6)
_HDR1_SECTION = _Field(28, 4)
_HDR1_SEQUENCE = _Field(32, 4)
_HDR1_CREATED = _Field(42, 6)
_HDR1_EXPIRES = _Field(48, 6)
_HDR1_BLOCKS = _Field(55, 6)

_HDR2_FORMAT = _Field(5, 1)
_HDR2_BLOCK_LENGTH = _Field(6, 5)
_HDR2_RECORD_LENGTH = _Field(11, 5)
_HDR2_BUFFER_OFFSET = _Field(51, 2)

_UHL_DAY = _Field(5, 6)
_UHL_RECEIVER = _Field(11, 6)
_UHL_CURRENCY = _Field(21, 2)
_UHL_COUNTRY = _Field(23, 6)
_UHL_WORK_CODE = _Field(29, 9)
_UHL_FILE_NUMBER = _Field(38, 3)

_SORT_CODE = _Field(1, 6)
_ACCOUNT_NUMBER = _Field(7, 8)
_ACCOUNT_TYPE = _Field(15, 1)
_TRANSACTION_CODE = _Field(16, 2)
_ORIGIN_SORT_CODE = _Field(18, 6)
_ORIGIN_ACCOUNT_NUMBER = _Field(24, 8)
_AMOUNT = _Field(36, 11)
_USER_NAME = _Field(47, 18)
_REFERENCE = _Field(65, 18)
_ACCOUNT_NAME = _Field(83, 18)
_RECORD_DAY = _Field(101, 6)

_UTL_DEBIT_TOTAL = _Field(5, 13)
_UTL_CREDIT_TOTAL = _Field(18, 13)
_UTL_DEBIT_COUNT = _Field(31, 7)
_UTL_CREDIT_COUNT = _Field(38, 7)

_BLOCK_LENGTH = "02120"  # 20 records of 106, a legacy of tape that Bacstel-IP does not use


def _record(*fields: tuple[_Field, str], defined: int = RECORD_LENGTH) -> str:
    """A record with each value in its field, blanks elsewhere, blank-filled to RECORD_LENGTH.

    Fields are given in column order; a value that does not exactly fill its field, or fields that overlap
    or run past the `defined` columns, are a bug here, never something to write.
    """
    record = ""
    for field, value in fields:
        if field.start <= len(record) or len(value) != field.length:
            raise AssertionError(f"Bacs field {field} cannot hold {value!r} after {len(record)} columns")
        record = record.ljust(field.start - 1) + value
    if len(record) > defined:
        raise AssertionError(f"Bacs record runs to column {len(record)}, past {defined}")
    return record.ljust(RECORD_LENGTH)


def _text(value: str, length: int) -> str:
    return value.ljust(length)


def _number(value: int, length: int) -> str:
    return f"{value:0{length}d}"


def _vol1(*, sun: str, serial: str) -> str:
    return _record(
        (_LABEL, "VOL1"), (_VOL_SERIAL, serial), (_VOL_OWNER, sun), (_VOL_STANDARD, "1"), defined=LABEL_LENGTH
    )


def _file_label_1(label: str, *, sun: str, serial: str, created_on: date, processing_day: date) -> str:
    return _record(
        (_LABEL, label),
        (_HDR1_A, "A"),
        (_HDR1_SUN, sun),
        (_HDR1_S, "S"),
        (_HDR1_SUBMITTER, sun),
        (_HDR1_SET, serial),
        (_HDR1_SECTION, "0001"),
        (_HDR1_SEQUENCE, "0001"),
        (_HDR1_CREATED, _bacs_day(created_on)),
        (_HDR1_EXPIRES, _bacs_day(processing_day)),
        (_HDR1_BLOCKS, "000000"),
        defined=LABEL_LENGTH,
    )


def _file_label_2(label: str) -> str:
    return _record(
        (_LABEL, label),
        (_HDR2_FORMAT, "F"),
        (_HDR2_BLOCK_LENGTH, _BLOCK_LENGTH),
        (_HDR2_RECORD_LENGTH, _number(RECORD_LENGTH, 5)),
        (_HDR2_BUFFER_OFFSET, "00"),
        defined=LABEL_LENGTH,
    )


def _uhl1(*, processing_day: date) -> str:
    return _record(
        (_LABEL, "UHL1"),
        (_UHL_DAY, _bacs_day(processing_day)),
        (_UHL_RECEIVER, "999999"),
        (_UHL_CURRENCY, "00"),
        (_UHL_COUNTRY, "000000"),
        (_UHL_WORK_CODE, WORK_CODE),
        (_UHL_FILE_NUMBER, "000"),
        defined=LABEL_LENGTH,
    )


def _data_record(
    *,
    to: _Account,
    code: str,
    origin: _Account,
    amount_minor: int,
    user_name: str,
    reference: str,
    account_name: str,
    processing_day: date,
) -> str:
    return _record(
        (_SORT_CODE, to.sort_code),
        (_ACCOUNT_NUMBER, to.account_number),
        (_ACCOUNT_TYPE, "0"),
        (_TRANSACTION_CODE, code),
        (_ORIGIN_SORT_CODE, origin.sort_code),
        (_ORIGIN_ACCOUNT_NUMBER, origin.account_number),
        (_AMOUNT, _number(amount_minor, _AMOUNT.length)),
        (_USER_NAME, _text(user_name, NAME_LENGTH)),
        (_REFERENCE, _text(reference, REFERENCE_LENGTH)),
        (_ACCOUNT_NAME, _text(account_name, NAME_LENGTH)),
        (_RECORD_DAY, _bacs_day(processing_day)),
    )


def _utl1(*, total_minor: int, credit_count: int) -> str:
    return _record(
        (_LABEL, "UTL1"),
        (_UTL_DEBIT_TOTAL, _number(total_minor, _UTL_DEBIT_TOTAL.length)),
        (_UTL_CREDIT_TOTAL, _number(total_minor, _UTL_CREDIT_TOTAL.length)),
        (_UTL_DEBIT_COUNT, _number(1, _UTL_DEBIT_COUNT.length)),
        (_UTL_CREDIT_COUNT, _number(credit_count, _UTL_CREDIT_COUNT.length)),
        defined=LABEL_LENGTH,
    )


def _contra_narrative(serial: str) -> str:
    return f"PURSE FILE {serial}"


# Writing --------------------------------------------------------------------------------------------------


def bacs_file(
    *,
    originator: Originator,
    processing_day: date,
    credits: Sequence[Credit],
    file_number: int,
    created_on: date,
) -> str:
    """The Bacs Standard 18 file paying `credits` from the council's account (layout: module docstring).

    Raises BacsInvalid, listing every problem at once.
    """
    problems: list[BacsProblem] = []
    origin = _originator_problems(originator, problems)
    _day_problems(processing_day=processing_day, created_on=created_on, problems=problems)
    _file_number_problems(file_number, problems)
    lines = _credits_problems(credits, problems)
    if problems:
        raise BacsInvalid(problems)
    assert origin is not None  # no problems, so every part was written

    sun = originator.service_user_number
    serial = _number(file_number, _VOL_SERIAL.length)
    total = sum(line.amount_minor for line in lines)
    records = [
        _vol1(sun=sun, serial=serial),
        _file_label_1("HDR1", sun=sun, serial=serial, created_on=created_on, processing_day=processing_day),
        _file_label_2("HDR2"),
        _uhl1(processing_day=processing_day),
        *(
            _data_record(
                to=line.account,
                code=CREDIT_CODE,
                origin=origin,
                amount_minor=line.amount_minor,
                user_name=origin.account_name,
                reference=line.reference,
                account_name=line.account.account_name,
                processing_day=processing_day,
            )
            for line in lines
        ),
        _data_record(
            to=origin,
            code=CONTRA_CODE,
            origin=origin,
            amount_minor=total,
            user_name=_contra_narrative(serial),
            reference=CONTRA_REFERENCE,
            account_name=origin.account_name,
            processing_day=processing_day,
        ),
        _file_label_1("EOF1", sun=sun, serial=serial, created_on=created_on, processing_day=processing_day),
        _file_label_2("EOF2"),
        _utl1(total_minor=total, credit_count=len(lines)),
    ]
    return "".join(record + _CRLF for record in records)


# Reading --------------------------------------------------------------------------------------------------


def _unreadable(line_number: int, what: str) -> BacsUnreadable:
    return BacsUnreadable(f"Line {line_number} of the Bacs file {what}.")


def _read_digits(record: str, field: _Field, *, line_number: int, what: str) -> str:
    text = field.read(record)
    if not _DIGITS.fullmatch(text):
        raise _unreadable(line_number, f"has {what} {text!r} where {field.length} digits belong")
    return text


def _read_number(record: str, field: _Field, *, line_number: int, what: str) -> int:
    return int(_read_digits(record, field, line_number=line_number, what=what))


def _read_day(record: str, field: _Field, *, line_number: int, what: str) -> date:
    text = field.read(record)
    if not (text.startswith(" ") and _DIGITS.fullmatch(text[1:])):
        raise _unreadable(line_number, f"has {what} {text!r}, not a Bacs date ' YYDDD'")
    year, day_of_year = 2000 + int(text[1:3]), int(text[3:])
    first = date(year, 1, 1)
    if not 1 <= day_of_year <= (date(year + 1, 1, 1) - first).days:
        raise _unreadable(line_number, f"has {what} {text!r}: {year} has no day {day_of_year}")
    return first + timedelta(days=day_of_year - 1)


def _records(text: str) -> list[str]:
    """The file's records: CRLF (or LF) separated, trailing blanks that an editor trimmed put back."""
    if not text.endswith("\n"):
        raise BacsUnreadable("A Bacs file ends with a line break after its last record.")
    records = []
    for line_number, line in enumerate(text[:-1].split("\n"), start=1):
        record = line.removesuffix("\r")
        if len(record) > RECORD_LENGTH or not record.isascii():
            raise _unreadable(line_number, f"is not an ASCII record of at most {RECORD_LENGTH} characters")
        records.append(record.ljust(RECORD_LENGTH))
    return records


def parse_bacs_file(text: str) -> ParsedBacs:
    """A Bacs file in the layout `bacs_file` writes, read back into dataclasses.

    Checks that the records agree with each other (the contra and UTL1 totals and counts with the credits,
    the labels with each other, one processing day) and raises BacsUnreadable, naming the line, if not.
    """
    records = _records(text)
    if len(records) < 9:
        raise BacsUnreadable(f"A Bacs file has at least 9 records; this has {len(records)}.")
    last = len(records) - 1
    labels = {0: "VOL1", 1: "HDR1", 2: "HDR2", 3: "UHL1", last - 2: "EOF1", last - 1: "EOF2", last: "UTL1"}
    for index, label in labels.items():
        if (found := _LABEL.read(records[index])) != label:
            raise _unreadable(index + 1, f"should be the {label} label, not {found!r}")
    vol1, hdr1, hdr2, uhl1 = records[:4]
    eof1, eof2, utl1 = records[-3:]
    if eof1[4:] != hdr1[4:] or eof2[4:] != hdr2[4:]:
        raise _unreadable(last - 1, "and the next do not repeat the HDR1 and HDR2 labels")
    sun = _VOL_OWNER.read(vol1)
    if _HDR1_SUN.read(hdr1) != sun:
        raise _unreadable(2, f"names service user {_HDR1_SUN.read(hdr1)!r}, not VOL1's {sun!r}")
    file_number = _read_number(vol1, _VOL_SERIAL, line_number=1, what="the serial number")
    created_on = _read_day(hdr1, _HDR1_CREATED, line_number=2, what="the creation date")
    processing_day = _read_day(uhl1, _UHL_DAY, line_number=4, what="the processing day")

    credits: list[Credit] = []
    contras: list[tuple[int, str]] = []
    for line_number, record in enumerate(records[4:-3], start=5):
        code = _TRANSACTION_CODE.read(record)
        record_day = _read_day(record, _RECORD_DAY, line_number=line_number, what="the processing day")
        if record_day != processing_day:
            raise _unreadable(line_number, "has a processing day other than the UHL1 label's")
        amount = _read_number(record, _AMOUNT, line_number=line_number, what="the amount")
        sort_code = _read_digits(record, _SORT_CODE, line_number=line_number, what="the sort code")
        account_number = _read_digits(
            record, _ACCOUNT_NUMBER, line_number=line_number, what="the account number"
        )
        if code == CONTRA_CODE and _REFERENCE.read(record).rstrip() == CONTRA_REFERENCE:
            contras.append((line_number, record))
        elif code == CREDIT_CODE and not contras:
            credits.append(
                Credit(
                    sort_code=sort_code,
                    account_number=account_number,
                    account_name=_ACCOUNT_NAME.read(record).rstrip(),
                    amount_minor=amount,
                    reference=_REFERENCE.read(record).rstrip(),
                )
            )
        else:
            raise _unreadable(
                line_number, f"is neither a credit before the contra nor the contra (code {code!r})"
            )
    if len(contras) != 1 or contras[0][0] != last - 2:
        raise BacsUnreadable("A Bacs file from Purse has exactly one contra record, after the credits.")
    contra_line, contra = contras[0]
    contra_amount = _read_number(contra, _AMOUNT, line_number=contra_line, what="the amount")
    total = sum(credit.amount_minor for credit in credits)
    if contra_amount != total:
        raise _unreadable(contra_line, f"debits {contra_amount} pence, but the credits add up to {total}")
    trailer = {
        "debit value total": (_UTL_DEBIT_TOTAL, contra_amount),
        "credit value total": (_UTL_CREDIT_TOTAL, total),
        "debit item count": (_UTL_DEBIT_COUNT, 1),
        "credit item count": (_UTL_CREDIT_COUNT, len(credits)),
    }
    for what, (field, expected) in trailer.items():
        if (found := _read_number(utl1, field, line_number=len(records), what=f"the {what}")) != expected:
            raise _unreadable(len(records), f"has a {what} of {found}; the records make it {expected}")
    return ParsedBacs(
        originator=Originator(
            service_user_number=sun,
            sort_code=_SORT_CODE.read(contra),
            account_number=_ACCOUNT_NUMBER.read(contra),
            account_name=_ACCOUNT_NAME.read(contra).rstrip(),
        ),
        file_number=file_number,
        created_on=created_on,
        processing_day=processing_day,
        credits=tuple(credits),
        contra_amount_minor=contra_amount,
    )
