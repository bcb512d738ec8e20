"""A bank's CSV export, read through the bank account's CsvMapping.

The file gives no account or currency: the lines are in the account's currency (or say theirs in the
mapping's currency column). With a balance column, each row's balance must be the one before plus the row's
amount; the opening balance is the first stated balance less the amounts up to it, the closing the last
stated balance plus any amounts after it. Banks list newest first as often as oldest first: the order is
taken from the dates (first date after the last: newest first), and the lines keep the file's order.
"""

from __future__ import annotations

from datetime import date, datetime

from ledger.reconciliation.formats.csv_rows import columns_text, csv_rows, header_index
from ledger.reconciliation.statement_files import (
    CsvMapping,
    LineProblem,
    Problems,
    StatementFile,
    StatementFileInvalid,
    StatementLineIn,
    amount_text,
    date_format_text,
    decode_text,
    line_kind,
    parse_amount,
    period_of,
    problem,
)


def _date_reader(date_format: str):
    cache: dict[str, date] = {}
    shown_format = date_format_text(date_format)

    def read(text: str, what: str) -> date:
        value = text.strip()
        found = cache.get(value)
        if found is not None:
            return found
        if not value:
            raise LineProblem(f"The {what} is missing.")
        try:
            found = datetime.strptime(value, date_format).date()
        except ValueError:
            raise LineProblem(f"The {what} '{value}' is not a date written as {shown_format}.") from None
        cache[value] = found
        return found

    return read


def parse_csv(content: bytes, *, mapping: CsvMapping, currency: str) -> StatementFile:
    """Read a bank CSV export with its mapping; raises StatementFileInvalid."""
    text = decode_text(content, encoding=mapping.encoding)
    rows = csv_rows(text, delimiter=mapping.delimiter, skip_lines=mapping.skip_lines)
    first = next(rows, None)
    if first is None:
        raise StatementFileInvalid("The file has no header row and no lines.")
    header_line, header = first
    names = [name.strip() for name in header]
    index: dict[str, int] = {}
    missing = Problems()
    for use, column in mapping.columns().items():
        found = header_index(names, column)
        if found is None:
            missing.add(
                header_line,
                f"The {use} column '{column}' is not in this file; its columns are {columns_text(names)}.",
            )
        else:
            index[use] = found
    missing.raise_if_any()

    width = len(names)
    read_date = _date_reader(mapping.date_format)
    decimal_comma = mapping.decimal_comma
    problems = Problems()
    # Per row: (line, booked_on, amount, reference, description, bank_id, value_on, balance or None).
    parsed: list[tuple[int, date, int, str, str, str, date | None, int | None]] = []
    i_date = index["date"]
    i_amount = index.get("amount")
    i_in = index.get("paid in")
    i_out = index.get("paid out")
    i_reference = index.get("reference")
    i_description = index.get("description")
    i_balance = index.get("balance")
    i_bank_id = index.get("bank id")
    i_value_date = index.get("value date")
    i_currency = index.get("currency")
    for line, cells in rows:
        if len(cells) != width:
            problems.add(line, f"This row has {len(cells)} columns, but the header has {width}.")
        else:
            try:
                booked_on = read_date(cells[i_date], "date")
                if i_amount is not None:
                    amount = parse_amount(
                        cells[i_amount], currency=currency, decimal_comma=decimal_comma, lenient=True
                    )
                else:
                    paid_in, paid_out = cells[i_in].strip(), cells[i_out].strip()
                    in_minor = (
                        parse_amount(
                            paid_in,
                            currency=currency,
                            what="paid in amount",
                            decimal_comma=decimal_comma,
                            signed=False,
                            lenient=True,
                        )
                        if paid_in
                        else 0
                    )
                    out_minor = (
                        parse_amount(
                            paid_out,
                            currency=currency,
                            what="paid out amount",
                            decimal_comma=decimal_comma,
                            signed=False,
                            lenient=True,
                        )
                        if paid_out
                        else 0
                    )
                    if not paid_in and not paid_out:
                        raise LineProblem("Neither the paid in nor the paid out column has an amount.")
                    if in_minor and out_minor:
                        raise LineProblem("Both the paid in and the paid out columns have an amount.")
                    amount = in_minor - out_minor
                balance = None
                if i_balance is not None and cells[i_balance].strip():
                    balance = parse_amount(
                        cells[i_balance],
                        currency=currency,
                        what="balance",
                        decimal_comma=decimal_comma,
                        lenient=True,
                    )
                value_on = None
                if i_value_date is not None and cells[i_value_date].strip():
                    value_on = read_date(cells[i_value_date], "value date")
                if i_currency is not None:
                    line_currency = cells[i_currency].strip().upper()
                    if line_currency != currency:
                        raise LineProblem(
                            f"This line is in {line_currency or 'no stated currency'}, but the account is in "
                            f"{currency}."
                        )
                parsed.append(
                    (
                        line,
                        booked_on,
                        amount,
                        cells[i_reference].strip() if i_reference is not None else "",
                        cells[i_description].strip() if i_description is not None else "",
                        cells[i_bank_id].strip() if i_bank_id is not None else "",
                        value_on,
                        balance,
                    )
                )
            except LineProblem as exc:
                problems.add(line, exc.reason)
    problems.raise_if_any()

    opening = closing = None
    if any(row[7] is not None for row in parsed):
        opening, closing = _running_balances(parsed, currency=currency)
    lines = tuple(
        StatementLineIn(
            line_number=row[0],
            booked_on=row[1],
            amount_minor=row[2],
            reference=row[3],
            description=row[4],
            bank_id=row[5],
            kind=line_kind(row[2]),
            value_on=row[6],
        )
        for row in parsed
    )
    period_start, period_end = period_of(lines)
    return StatementFile(
        format="csv",
        account_identifier="",
        currency=currency,
        opening_balance_minor=opening,
        closing_balance_minor=closing,
        period_start=period_start,
        period_end=period_end,
        lines=lines,
    )


def _check_in_order(rows: list, *, currency: str) -> tuple[int, int, dict | None]:
    """(opening, closing, the first problem or None) reading rows in the order given (oldest first)."""
    opening = None
    cumulative = 0
    for row in rows:
        cumulative += row[2]
        balance = row[7]
        if balance is None:
            continue
        if opening is None:
            opening = balance - cumulative
            continue
        expected = opening + cumulative
        if balance != expected:
            return (
                opening,
                balance,
                problem(
                    row[0],
                    f"The balance {amount_text(balance, currency=currency)} does not add up: the balance "
                    f"before plus this line's amount ({amount_text(row[2], currency=currency)}) makes "
                    f"{amount_text(expected, currency=currency)}, a difference of "
                    f"{amount_text(balance - expected, currency=currency)}.",
                ),
            )
    assert opening is not None
    return opening, opening + cumulative, None


def _running_balances(parsed: list, *, currency: str) -> tuple[int, int]:
    """Check the balance column row by row; the opening and closing balances it states."""
    newest_first = parsed[0][1] > parsed[-1][1]
    if newest_first:
        opening, closing, found = _check_in_order(parsed[::-1], currency=currency)
    else:
        opening, closing, found = _check_in_order(parsed, currency=currency)
        if found is not None and parsed[0][1] == parsed[-1][1]:
            # One day's lines: the dates cannot tell the order, the balances can.
            other = _check_in_order(parsed[::-1], currency=currency)
            if other[2] is None:
                opening, closing, found = other
    if found is not None:
        raise StatementFileInvalid([found])
    return opening, closing
