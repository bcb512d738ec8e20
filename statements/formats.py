"""Statements as data: the JSON of a person's and an agency's statement, and the agency CSV.

Money is a decimal string in the statement's currency (as everywhere in the API), never a float.

The agency CSV has one row per person per stream, with these columns, in this order (stable: a finance
system may rely on them; a new column is only ever added at the end):

| column | what it holds |
|---|---|
| `stream` | the stream's code, `ASC` |
| `period_from`, `period_to` | the statement period, YYYY-MM-DD, both inclusive |
| `person` | the budget holder's id, `per_...` |
| `name` | their full name |
| `personal_budget` | the budget in force at the period end, `pb_...` (empty if none) |
| `currency` | `GBP` |
| `allocated` | that budget's amount for its whole budget period |
| `opening_balance` | the person's money from the stream held at the start of the period |
| `money_in` | instalments and budget changes in the period |
| `received` | instalments the agency paid in the period |
| `spent` | money paid out in the period |
| `reserved` | approved invoices not yet paid, at the period end |
| `closing_balance` | opening_balance + money_in - spent: the ledger balance at the period end |
| `available` | closing_balance - reserved |
| `weeks_held` | available / the budget's weekly equivalent, one decimal (empty without a budget) |
| `surplus_reclaimable` | available above the stream's surplus threshold |
| `spent_by_category` | `category=amount` pairs, separated by `; `, adding up to `spent` |
"""

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any

from ledger.money import money_format
from statements.agency import AgencyLine, AgencyTotals
from statements.person import PersonStatement, SpendingLine

CSV_COLUMNS = (
    "stream",
    "period_from",
    "period_to",
    "person",
    "name",
    "personal_budget",
    "currency",
    "allocated",
    "opening_balance",
    "money_in",
    "received",
    "spent",
    "reserved",
    "closing_balance",
    "available",
    "weeks_held",
    "surplus_reclaimable",
    "spent_by_category",
    "reclaimed",  # added last, so that finance systems reading the columns by position are not moved
)


def _m(amount_minor: int, currency: str) -> str:
    return money_format(amount_minor, currency=currency)


def _line_json(line: SpendingLine, currency: str) -> dict[str, Any]:
    return {
        "date": line.on.isoformat(),
        "stream": line.stream_code,
        "provider": line.provider_name or None,
        "invoice_number": line.invoice_number or None,
        "service_date": line.service_date.isoformat() if line.service_date else None,
        "description": line.description,
        "category": line.category_name or None,
        "outcomes": list(line.outcomes),
        "amount": _m(line.amount_minor, currency),
    }


def person_statement_json(statement: PersonStatement) -> dict[str, Any]:
    """A person's statement as the API returns it (and as an issued statement keeps it)."""
    currency = statement.currency
    return {
        "person": statement.budget_holder_public_id,
        "name": statement.name,
        "from": statement.period.starts_on.isoformat(),
        "to": statement.period.ends_on.isoformat(),
        "currency": currency,
        "opening_balance": _m(statement.opening_minor, currency),
        "money_in": _m(statement.money_in_minor, currency),
        "money_out": _m(statement.money_out_minor, currency),
        "reclaimed": _m(statement.reclaimed_minor, currency),
        "closing_balance": _m(statement.closing_minor, currency),
        "reserved": _m(statement.reserved_minor, currency),
        "available": _m(statement.available_minor, currency),
        "streams": [
            {
                "stream": part.stream_code,
                "name": part.stream_name,
                "opening_balance": _m(part.figures.opening_minor, currency),
                "money_in": _m(part.figures.money_in_minor, currency),
                "instalments": _m(part.figures.instalments_minor, currency),
                "budget_changes": _m(part.figures.changes_minor, currency),
                "other_money_in": _m(part.figures.other_in_minor, currency),
                "money_out": _m(part.figures.money_out_minor, currency),
                "reclaimed": _m(part.figures.reclaimed_minor, currency),
                "closing_balance": _m(part.figures.closing_minor, currency),
                "reserved": _m(part.figures.reserved_minor, currency),
                "available": _m(part.figures.available_minor, currency),
                "personal_budget": part.personal_budget_public_id,
                "allocated": _m(part.allocated_minor, currency) if part.allocated_minor is not None else None,
                "weekly_equivalent": (
                    _m(part.weekly_equivalent_minor, currency)
                    if part.weekly_equivalent_minor is not None
                    else None
                ),
                "weeks_held": str(part.weeks_held) if part.weeks_held is not None else None,
                "surplus_threshold_weeks": (
                    str(part.surplus_threshold_weeks) if part.surplus_threshold_weeks is not None else None
                ),
                "surplus": _m(part.surplus_minor, currency),
            }
            for part in statement.streams
        ],
        "money_out_by_provider": [
            {"provider": total.label, "amount": _m(total.amount_minor, currency)}
            for total in statement.by_provider
        ],
        "money_out_by_outcome": [
            {"outcome": total.label, "amount": _m(total.amount_minor, currency)}
            for total in statement.by_outcome
        ],
        "money_out_lines": [_line_json(line, currency) for line in statement.money_out],
        "reserved_lines": [_line_json(line, currency) for line in statement.set_aside],
        "support_items": [
            {
                "description": item.description,
                "stream": item.stream_name,
                "planned": _m(item.planned_minor, currency),
                "spent": _m(item.spent_minor, currency),
                "left": _m(item.left_minor, currency),
            }
            for item in statement.items_left
        ],
        "invoices_waiting": [
            {
                "invoice_number": invoice.number,
                "provider": invoice.provider_name,
                "total": _m(invoice.total_minor, invoice.currency),
                "submitted_on": invoice.submitted_on.isoformat(),
                "status": invoice.status,
            }
            for invoice in statement.waiting
        ],
    }


def _pairs(amounts: dict[str, int], key: str, currency: str) -> list[dict[str, str]]:
    return [{key: label, "amount": _m(amount, currency)} for label, amount in amounts.items()]


def agency_line_json(line: AgencyLine, currency: str) -> dict[str, Any]:
    figures = line.figures
    return {
        "person": line.budget_holder_public_id,
        "name": line.name,
        "personal_budget": line.personal_budget_public_id,
        "allocated": _m(line.allocated_minor, currency),
        "opening_balance": _m(figures.opening_minor, currency),
        "money_in": _m(figures.money_in_minor, currency),
        "received": _m(line.received_minor, currency),
        "spent": _m(figures.money_out_minor, currency),
        "reclaimed": _m(figures.reclaimed_minor, currency),
        "reserved": _m(figures.reserved_minor, currency),
        "closing_balance": _m(figures.closing_minor, currency),
        "available": _m(figures.available_minor, currency),
        "weeks_held": str(line.weeks_held) if line.weeks_held is not None else None,
        "surplus_reclaimable": _m(line.surplus_minor, currency),
        "spent_by_category": _pairs(line.by_category, "category", currency),
        "spent_by_outcome": _pairs(line.by_outcome, "outcome", currency),
    }


def agency_totals_json(totals: AgencyTotals, currency: str) -> dict[str, Any]:
    return {
        "people": totals.people,
        "allocated": _m(totals.allocated_minor, currency),
        "opening_balance": _m(totals.opening_minor, currency),
        "money_in": _m(totals.money_in_minor, currency),
        "received": _m(totals.received_minor, currency),
        "spent": _m(totals.spent_minor, currency),
        "reclaimed": _m(totals.reclaimed_minor, currency),
        "reserved": _m(totals.reserved_minor, currency),
        "closing_balance": _m(totals.closing_minor, currency),
        "available": _m(totals.available_minor, currency),
        "surplus_reclaimable": _m(totals.surplus_minor, currency),
        "spent_by_category": _pairs(totals.by_category, "category", currency),
    }


def agency_csv_rows(
    *, stream_code: str, period_from: str, period_to: str, currency: str, lines: Iterable[AgencyLine]
) -> Iterator[str]:
    """The CSV, a header and then a row per line, as text chunks to stream (UTF-8, CRLF as RFC 4180)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(CSV_COLUMNS)
    yield flush()
    for line in lines:
        figures = line.figures
        writer.writerow(
            [
                stream_code,
                period_from,
                period_to,
                line.budget_holder_public_id,
                _csv_safe(line.name),
                line.personal_budget_public_id or "",
                currency,
                _m(line.allocated_minor, currency),
                _m(figures.opening_minor, currency),
                _m(figures.money_in_minor, currency),
                _m(line.received_minor, currency),
                _m(figures.money_out_minor, currency),
                _m(figures.reserved_minor, currency),
                _m(figures.closing_minor, currency),
                _m(figures.available_minor, currency),
                str(line.weeks_held) if line.weeks_held is not None else "",
                _m(line.surplus_minor, currency),
                "; ".join(
                    f"{_csv_safe(label)}={_m(amount, currency)}" for label, amount in line.by_category.items()
                ),
                _m(figures.reclaimed_minor, currency),
            ]
        )
        yield flush()


def _csv_safe(text: str) -> str:
    """Text that a spreadsheet will not run as a formula (OWASP CSV injection): a leading =, +, -, @, tab or
    carriage return is prefixed with an apostrophe."""
    if text and text[0] in "=+-@\t\r":
        return "'" + text
    return text
