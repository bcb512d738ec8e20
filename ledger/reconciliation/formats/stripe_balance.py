"""Stripe's balance transactions as CSV: the Dashboard's "Balance transactions" export and the reports.

Two families of column names are read, matched ignoring case, spaces and brackets:

- the Dashboard export: `id`, `Type`, `Source`, `Amount`, `Fee`, `Net`, `Currency`, `Created (UTC)`,
  `Available On (UTC)`, `Description`, and the payout the line went out in as `Transfer` (its older name)
  or `Payout`;
- the reports (`payout_reconciliation.itemized.*`, `balance_change_from_activity.itemized.*`):
  `balance_transaction_id`, `created_utc`, `available_on_utc`, `currency`, `gross`, `fee`, `net`,
  `reporting_category`, `source_id`, `description`, `automatic_payout_id`.

Amounts are in major units ("12.34"). A line's amount is its net (gross less fee; both are checked against
net when the file gives all three), + into the Stripe balance, - out of it. `reference` is the source
(`tr_...`, `po_...`, `ch_...`), `bank_id` the balance transaction (`txn_...`), `kind` the type (or the
reporting category), and `batch` the automatic payout that settled the line, so a payout covering many
transfers is every line with its `po_...` in `batch`; a payout's own line has its own id there. These
exports state no opening or closing balance, so none is checked.
"""

from __future__ import annotations

import re
from datetime import date

from ledger.reconciliation.formats.csv_rows import columns_text, csv_rows
from ledger.reconciliation.statement_files import (
    LineProblem,
    Problems,
    StatementFile,
    StatementFileInvalid,
    StatementLineIn,
    amount_text,
    decode_text,
    parse_amount,
    parse_iso_date,
    period_of,
    problem,
)

# Each field of a line, and the column names (normalised) it may come from, best first.
_COLUMNS: dict[str, tuple[str, ...]] = {
    "bank_id": ("balance_transaction_id", "id"),
    "created": ("created_utc", "created", "created_date_utc"),
    "available_on": ("available_on_utc", "available_on"),
    "currency": ("currency",),
    "gross": ("gross", "amount"),
    "fee": ("fee",),
    "net": ("net",),
    "type": ("type",),
    "reporting_category": ("reporting_category",),
    "source": ("source_id", "source"),
    "description": ("description",),
    "batch": ("automatic_payout_id", "payout_id", "payout", "transfer"),
    "account": ("connected_account", "account"),
}


def _normalise(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")


def looks_like_stripe_header(line: str) -> bool:
    """Whether a CSV header line is one of Stripe's balance transaction exports."""
    names = {_normalise(cell) for cell in re.split(r"[,;\t]", line.replace('"', ""))}
    if "balance_transaction_id" in names and "net" in names:
        return True
    return {"id", "net", "currency"} <= names and bool(names & {"type", "reporting_category"})


def parse_stripe_balance(content: bytes, *, currency: str) -> StatementFile:
    """Read a Stripe balance transactions CSV; raises StatementFileInvalid."""
    text = decode_text(content, encoding="utf-8-sig")
    rows = csv_rows(text)
    first = next(rows, None)
    if first is None:
        raise StatementFileInvalid("The file has no header row and no lines.")
    header_line, header = first
    names = [_normalise(name) for name in header]
    index: dict[str, int] = {}
    for field, candidates in _COLUMNS.items():
        for candidate in candidates:
            if candidate in names:
                index[field] = names.index(candidate)
                break
    needed = ["bank_id", "created", "currency"]
    missing = [field for field in needed if field not in index]
    if "net" not in index and not {"gross", "fee"} <= set(index):
        missing.append("net")
    if "type" not in index and "reporting_category" not in index:
        missing.append("type")
    if missing:
        shown = {
            "bank_id": "id",
            "created": "Created (UTC)",
            "currency": "Currency",
            "net": "Net",
            "type": "Type",
        }
        raise StatementFileInvalid(
            [
                problem(
                    header_line,
                    f"This is not a Stripe balance transactions export: it has no "
                    f"{columns_text([shown[field] for field in missing])} column "
                    f"(its columns are {columns_text([name.strip() for name in header])}).",
                )
            ]
        )

    width = len(names)
    kind_index = index.get("type", index.get("reporting_category"))
    problems = Problems()
    lines: list[StatementLineIn] = []
    accounts: set[str] = set()
    dates: dict[str, date] = {}

    def cell(cells: list[str], field: str) -> str:
        position = index.get(field)
        return cells[position].strip() if position is not None else ""

    def read_date(value: str, what: str) -> date:
        found = dates.get(value)
        if found is None:
            found = dates[value] = parse_iso_date(value, what=what)
        return found

    for line, cells in rows:
        if len(cells) != width:
            problems.add(line, f"This row has {len(cells)} columns, but the header has {width}.")
            continue
        try:
            line_currency = cell(cells, "currency").upper()
            if line_currency != currency:
                raise LineProblem(
                    f"This line is in {line_currency or 'no stated currency'}, but the account is in "
                    f"{currency}."
                )
            booked_on = read_date(cell(cells, "created"), "created date")
            available = cell(cells, "available_on")
            value_on = read_date(available, "available on date") if available else None
            gross = fee = None
            if "gross" in index:
                gross = parse_amount(cell(cells, "gross"), currency=currency, what="gross amount")
            if "fee" in index and cell(cells, "fee"):
                fee = parse_amount(cell(cells, "fee"), currency=currency, what="fee")
            if "net" in index:
                net = parse_amount(cell(cells, "net"), currency=currency, what="net amount")
                if gross is not None and fee is not None and gross - fee != net:
                    raise LineProblem(
                        f"The net amount {amount_text(net, currency=currency)} is not the gross "
                        f"{amount_text(gross, currency=currency)} less the fee "
                        f"{amount_text(fee, currency=currency)}."
                    )
            else:
                net = gross - (fee or 0)
            bank_id = cell(cells, "bank_id")
            if not bank_id:
                raise LineProblem("The balance transaction id is missing.")
            kind = cells[kind_index].strip().lower()
            if not kind:
                raise LineProblem("The type of the balance transaction is missing.")
            source = cell(cells, "source")
            batch = cell(cells, "batch")
            if not batch.startswith("po_"):
                batch = ""
            if not batch and source.startswith("po_"):
                batch = source
            account = cell(cells, "account")
            if account:
                accounts.add(account)
            lines.append(
                StatementLineIn(
                    line_number=line,
                    booked_on=booked_on,
                    amount_minor=net,
                    reference=source,
                    description=cell(cells, "description"),
                    bank_id=bank_id,
                    kind=kind,
                    value_on=value_on,
                    batch=batch,
                )
            )
        except LineProblem as exc:
            problems.add(line, exc.reason)
    problems.raise_if_any()
    period_start, period_end = period_of(lines)
    return StatementFile(
        format="stripe_balance",
        account_identifier=accounts.pop() if len(accounts) == 1 else "",
        currency=currency,
        opening_balance_minor=None,
        closing_balance_minor=None,
        period_start=period_start,
        period_end=period_end,
        lines=tuple(lines),
    )
