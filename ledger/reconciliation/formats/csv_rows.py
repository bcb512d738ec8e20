"""Rows of a CSV file with the file line each starts on, shared by the bank CSV and Stripe readers."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from ledger.reconciliation.statement_files import StatementFileInvalid, problem


def csv_rows(text: str, *, delimiter: str = ",", skip_lines: int = 0) -> Iterator[tuple[int, list[str]]]:
    """Each row that is not blank as (the 1-based file line it starts on, its cells), after `skip_lines`.

    A row whose quotes do not close, or that holds a NUL, refuses the file with its line.
    """
    handle = io.StringIO(text, newline="")
    for _ in range(skip_lines):
        handle.readline()
    reader = csv.reader(handle, delimiter=delimiter, strict=True)
    previous_end = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            line = skip_lines + previous_end + 1
            raise StatementFileInvalid(
                [problem(line, f"This row is not valid CSV ({exc}); check its quotes.")]
            ) from None
        start = skip_lines + previous_end + 1
        previous_end = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        yield start, cells


def header_index(names: list[str], wanted: str) -> int | None:
    """The index of a column by its name: exactly, else ignoring case and surrounding spaces."""
    try:
        return names.index(wanted)
    except ValueError:
        pass
    folded = wanted.strip().casefold()
    matches = [index for index, name in enumerate(names) if name.strip().casefold() == folded]
    return matches[0] if matches else None


def columns_text(names: list[str]) -> str:
    """The columns of a header for a message: 'Date', 'Amount' and 'Balance'."""
    quoted = [f"'{name}'" for name in names]
    if len(quoted) <= 1:
        return "".join(quoted)
    return ", ".join(quoted[:-1]) + " and " + quoted[-1]
