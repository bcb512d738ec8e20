"""The reconciliation pages' forms: uploading a statement file (which account, the file, its format, and for
a bank's CSV export the column mapping), matching a line by hand, the notes kept with unmatching and
rejecting, marking a period reconciled, and the report's period.

They read and check what was typed; whether the file can be read, the mapping used or the match made is the
domain's to say (`payments.reconciliation`, `ledger.reconciliation`), and the views show its errors here.
"""

import re
from datetime import date
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from ledger.reconciliation.statement_files import FORMAT_NAMES, FORMATS, CsvMapping
from plans.wording import date_display
from web.forms.govuk import GovukForm
from web.forms.statements import DateInputField

NOTE_MAX_LENGTH = 2000
DETECT = ""
FORMAT_CHOICES = [
    (DETECT, "Work it out from the file"),
    *[(code, FORMAT_NAMES[code]) for code in FORMATS],
]
FORMAT_HINTS = {
    "csv": "A bank's CSV export, read with the column mapping below",
    "ofx": "Open Financial Exchange (.ofx, .qfx)",
    "camt053": "ISO 20022 bank-to-customer statement (XML)",
    "mt940": "SWIFT customer statement (.sta, .940)",
    "stripe_balance": "Stripe's balance transactions or itemised payout report (CSV)",
}
# A delimiter as a form value (a tab cannot be a value people see) -> the character.
DELIMITERS = {"comma": ",", "semicolon": ";", "tab": "\t", "pipe": "|"}
DELIMITER_CHOICES = [
    ("comma", "Comma ( , )"),
    ("semicolon", "Semicolon ( ; )"),
    ("tab", "Tab"),
    ("pipe", "Vertical bar ( | )"),
]
ENCODING_CHOICES = [
    ("utf-8-sig", "UTF-8 (most banks)"),
    ("cp1252", "Windows-1252 (a spreadsheet saved on Windows)"),
    ("iso-8859-1", "ISO-8859-1 (Latin-1)"),
]
# The mapping's columns, as the form asks for them: (field, label, hint).
MAPPING_COLUMNS = (
    ("date_column", "Date column", "The column with the day the bank booked the line, for example Date"),
    (
        "amount_column",
        "Amount column",
        "One column of signed amounts: leave empty if paid in and paid out are two",
    ),
    ("paid_in_column", "Paid in column", "With a paid out column, instead of one amount column"),
    ("paid_out_column", "Paid out column", "Amounts without a sign"),
    ("reference_column", "Reference column", ""),
    ("description_column", "Description column", ""),
    ("balance_column", "Balance column", "The running balance after each line: Purse checks it adds up"),
    ("bank_id_column", "Bank's id column", "The bank's own id for each line, if the export has one"),
    ("value_date_column", "Value date column", ""),
    ("currency_column", "Currency column", ""),
)
MAPPING_FIELDS = (
    *(name for name, _, _ in MAPPING_COLUMNS),
    "date_format",
    "delimiter",
    "encoding",
    "decimal_comma",
    "skip_lines",
)
# Where a CsvMapping's complaint belongs, by the words it uses (InvalidCsvMapping names no field).
MAPPING_ERROR_FIELDS = (
    ("date format", "date_format"),
    ("delimiter", "delimiter"),
    ("encoding", "encoding"),
    ("skip_lines", "skip_lines"),
    ("paid in", "paid_in_column"),
    ("amount column", "amount_column"),
    ("date", "date_column"),
)
TRANSACTION_ID = re.compile(r"txn_[A-Za-z0-9]+")


def mapping_error_field(message: str) -> str:
    lowered = message.lower()
    for words, name in MAPPING_ERROR_FIELDS:
        if words in lowered:
            return name
    return "date_column"


class StatementUploadForm(GovukForm):
    """A statement file for one account, its format, and the CSV mapping (prefilled from the saved one)."""

    account = forms.ChoiceField(
        label="Which account is the statement for?",
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose the account the statement is for",
            "invalid_choice": "Choose one of the accounts in the list",
        },
    )
    file = forms.FileField(
        label="Statement file",
        help_text="CSV, OFX, camt.053, MT940 or a Stripe balance report, up to 50 MB",
        error_messages={
            "required": "Choose the statement file to upload",
            "empty": "The file is empty: choose the statement file to upload",
            "invalid": "Choose the statement file to upload",
        },
    )
    format = forms.ChoiceField(
        label="What format is the file?",
        choices=FORMAT_CHOICES,
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Choose one of the formats in the list"},
    )
    date_format = forms.CharField(
        label="Date format",
        help_text="%d is the day, %m the month as a number, %b its short name, %Y the year: "
        "%d/%m/%Y reads 31/12/2026",
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"class": "govuk-input--width-10", "spellcheck": "false"}),
    )
    delimiter = forms.ChoiceField(label="Between columns", choices=DELIMITER_CHOICES, required=False)
    encoding = forms.ChoiceField(label="Text encoding", choices=ENCODING_CHOICES, required=False)
    decimal_comma = forms.BooleanField(
        label="Amounts are written with a decimal comma (1.234,56)", required=False
    )
    skip_lines = forms.IntegerField(
        label="Lines above the column headings",
        help_text="Some banks print an account summary first: how many lines to skip",
        min_value=0,
        max_value=100,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "class": "govuk-input--width-3"}),
        error_messages={
            "invalid": "Enter the lines to skip as a whole number, like 0",
            "min_value": "The lines to skip cannot be fewer than 0",
            "max_value": "The lines to skip must be 100 or fewer",
        },
    )

    def __init__(self, *args: Any, accounts: list[tuple[str, str]], mapping: dict | None, **kwargs: Any):
        initial = dict(kwargs.pop("initial", None) or {})
        saved = mapping or {}
        for name in MAPPING_FIELDS:
            if name in saved:
                initial.setdefault(name, saved[name])
        delimiter = initial.get("delimiter", ",")
        initial["delimiter"] = next((key for key, value in DELIMITERS.items() if value == delimiter), "comma")
        initial.setdefault("date_format", "%d/%m/%Y")
        initial.setdefault("encoding", "utf-8-sig")
        initial.setdefault("skip_lines", 0)
        initial.setdefault("format", DETECT)
        super().__init__(*args, initial=initial, **kwargs)
        self.fields["account"].choices = accounts
        encoding = initial["encoding"]
        if encoding not in dict(ENCODING_CHOICES):
            self.fields["encoding"].choices = [*ENCODING_CHOICES, (encoding, encoding)]
        columns = {}
        for name, label, hint in MAPPING_COLUMNS:
            columns[name] = forms.CharField(
                label=label,
                help_text=hint,
                max_length=100,
                required=False,
                widget=forms.TextInput(attrs={"spellcheck": "false", "autocomplete": "off"}),
            )
        self.fields.update(columns)
        self.order_fields(["account", "file", "format", *MAPPING_FIELDS])

    @property
    def format_choices(self) -> list[tuple[str, str, str]]:
        """(value, label, hint) of each format, for the radios."""
        return [(value, label, FORMAT_HINTS.get(value, "")) for value, label in FORMAT_CHOICES]

    def has_columns(self) -> bool:
        """Whether any column of the CSV mapping is named."""
        return any((self.cleaned_data.get(name) or "").strip() for name, _, _ in MAPPING_COLUMNS)

    def mapping(self) -> dict | None:
        """The CSV mapping as typed, checked by CsvMapping (InvalidCsvMapping says what is wrong), or None
        when no column is named at all (the account's saved mapping is then used)."""
        data = self.cleaned_data
        if not self.has_columns():
            return None
        mapping = {name: (data.get(name) or "").strip() for name, _, _ in MAPPING_COLUMNS}
        mapping.update(
            date_format=(data.get("date_format") or "").strip() or "%d/%m/%Y",
            delimiter=DELIMITERS.get(data.get("delimiter") or "comma", ","),
            encoding=data.get("encoding") or "utf-8-sig",
            decimal_comma=bool(data.get("decimal_comma")),
            skip_lines=data.get("skip_lines") or 0,
        )
        # The same defaults CsvMapping has, so a mapping saved and read back compares equal.
        return CsvMapping.from_dict(mapping).to_dict()


def _transaction_ids(text: str) -> list[str]:
    return [word for word in re.split(r"[\s,;]+", text or "") if word]


class LineMatchForm(GovukForm):
    """The ledger transactions a line is matched to: ticked from those of the same amount near its date,
    and typed (txn_ ids, one a line)."""

    candidates = forms.MultipleChoiceField(
        label="Ledger transactions of the same amount",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Choose transactions from the list"},
    )
    transaction_ids = forms.CharField(
        label="Ledger transaction ids",
        help_text="One txn_ id a line, for example txn_4k2m9q7w3h8x",
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false", "autocomplete": "off"}),
    )
    note = forms.CharField(
        label="Note (optional)",
        help_text="Why these transactions are the line's, for whoever checks the reconciliation",
        required=False,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"max_length": f"The note must be {NOTE_MAX_LENGTH} characters or fewer"},
    )

    def __init__(
        self, *args: Any, candidates: list[tuple[str, str]], nearby_days: int = 7, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["candidates"].choices = candidates
        self.fields[
            "candidates"
        ].help_text = f"Not matched yet, within {nearby_days} days of the line, the nearest first"
        if candidates:
            self.fields["transaction_ids"].label = "Or enter other ledger transaction ids"

    def clean_transaction_ids(self) -> list[str]:
        ids = _transaction_ids(self.cleaned_data.get("transaction_ids", ""))
        wrong = [word for word in ids if not TRANSACTION_ID.fullmatch(word)]
        if wrong:
            raise ValidationError(
                f"'{wrong[0][:40]}' is not a ledger transaction id: they start txn_, like txn_4k2m9q7w3h8x"
            )
        return ids

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        chosen = list(dict.fromkeys([*cleaned.get("candidates", []), *cleaned.get("transaction_ids", [])]))
        if not chosen:
            self.add_error(
                "transaction_ids" if not self.fields["candidates"].choices else "candidates",
                "Choose at least one ledger transaction, or enter its txn_ id",
            )
        cleaned["chosen"] = chosen
        cleaned["note"] = (cleaned.get("note") or "").strip()
        return cleaned


class UnmatchForm(GovukForm):
    """Why a line's match is undone: kept with the match."""

    note = forms.CharField(
        label="Why are you unmatching this line?",
        help_text="For example, the transactions belong to another line. It is kept with the match.",
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": "Say why you are unmatching this line",
            "max_length": f"The reason must be {NOTE_MAX_LENGTH} characters or fewer",
        },
    )

    def clean_note(self) -> str:
        note = self.cleaned_data["note"].strip()
        if not note:
            raise ValidationError("Say why you are unmatching this line")
        return note


class NoteForm(GovukForm):
    """An optional note (rejecting a suggestion, marking a period reconciled)."""

    note = forms.CharField(
        label="Note (optional)",
        required=False,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"max_length": f"The note must be {NOTE_MAX_LENGTH} characters or fewer"},
    )

    def __init__(self, *args: Any, label: str = "", hint: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if label:
            self.fields["note"].label = label
        if hint:
            self.fields["note"].help_text = hint

    def clean_note(self) -> str:
        return self.cleaned_data.get("note", "").strip()


class ReportPeriodForm(GovukForm):
    """The report's period: from one day to another, both included (GOV.UK date inputs, `from` and `to`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["from"] = DateInputField(
            label="Start date", words="start date", help_text="For example, 1 10 2026"
        )
        self.fields["to"] = DateInputField(
            label="End date", words="end date", help_text="For example, 31 10 2026"
        )

    def clean(self):
        cleaned = super().clean()
        starts_on: date | None = cleaned.get("from")
        ends_on: date | None = cleaned.get("to")
        if starts_on is None and "from" not in self.errors:
            self.add_error("from", "Enter the date the report starts")
        if ends_on is None and "to" not in self.errors:
            self.add_error("to", "Enter the date the report ends")
        if starts_on and ends_on and ends_on < starts_on:
            self.add_error(
                "to", f"The end date must be on or after the start date, {date_display(starts_on)}"
            )
        return cleaned
