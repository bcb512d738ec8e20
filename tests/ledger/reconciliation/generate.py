"""Large valid statement files for tests and the reconciliation benchmark, generated deterministically.

`csv_statement(n)` is read with `CSV_MAPPING`; `camt053_statement(n)` is a camt.053.001.02 file. Both have n
lines in date order (about 40 a day from 1 April 2026), a mix of our payment references (PAY-...), funding
receipts (DEMO-ASC-...) and references of nobody's, and balances that add up. Built by joining a list of
parts once, so generating is linear in n.
"""

import random
from datetime import date, timedelta

from ledger.reconciliation.statement_files import CsvMapping

CSV_MAPPING = CsvMapping(
    date_column="Date",
    amount_column="Amount",
    reference_column="Reference",
    description_column="Description",
    balance_column="Balance",
    bank_id_column="Transaction ID",
)
OPENING_MINOR = 25_000_000
_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
_LINES_PER_DAY = 40


def _money(minor: int) -> str:
    sign = "-" if minor < 0 else ""
    whole, pence = divmod(abs(minor), 100)
    return f"{sign}{whole}.{pence:02d}"


def statement_rows(n: int, *, seed: int = 9) -> list[tuple[date, int, str, str, str]]:
    """n rows of (booked_on, amount_minor, reference, description, bank_id), in date order."""
    rng = random.Random(seed)
    start = date(2026, 4, 1)
    rows = []
    for index in range(n):
        booked_on = start + timedelta(days=index // _LINES_PER_DAY)
        roll = rng.random()
        if roll < 0.7:
            amount = -rng.randint(1_500, 250_000)
            code = "".join(rng.choice(_ALPHABET) for _ in range(14))
            reference, description = f"PAY-{code}", "BACS PAYMENT"
        elif roll < 0.9:
            amount = rng.randint(100_000, 900_000)
            reference = f"DEMO-ASC-{booked_on.year}-{booked_on.month:02d}"
            description = "NORFOLK COUNTY COUNCIL"
        else:
            amount = rng.choice((-1, 1)) * rng.randint(100, 20_000)
            reference, description = f"INV {rng.randint(1000, 99999)}", "UNKNOWN COUNTERPARTY"
        rows.append((booked_on, amount, reference, description, f"T{index + 1:09d}"))
    return rows


def csv_statement(n: int, *, seed: int = 9) -> bytes:
    """A bank CSV file of n lines with a running balance column, read with CSV_MAPPING."""
    parts = ["Date,Description,Reference,Amount,Balance,Transaction ID\r\n"]
    balance = OPENING_MINOR
    for booked_on, amount, reference, description, bank_id in statement_rows(n, seed=seed):
        balance += amount
        parts.append(
            f"{booked_on:%d/%m/%Y},{description},{reference},{_money(amount)},{_money(balance)},{bank_id}\r\n"
        )
    return "".join(parts).encode()


def camt053_statement(n: int, *, seed: int = 9) -> bytes:
    """A camt.053.001.02 file of n entries with opening and closing booked balances that add up."""
    rows = statement_rows(n, seed=seed)
    closing = OPENING_MINOR + sum(row[1] for row in rows)
    first_day = rows[0][0] if rows else date(2026, 4, 1)
    last_day = rows[-1][0] if rows else first_day

    def balance(code: str, minor: int, on: date) -> str:
        mark = "DBIT" if minor < 0 else "CRDT"
        return (
            f'<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy="GBP">{_money(abs(minor))}</Amt>'
            f"<CdtDbtInd>{mark}</CdtDbtInd><Dt><Dt>{on.isoformat()}</Dt></Dt></Bal>\n"
        )

    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>\n'
        "<GrpHdr><MsgId>GENERATED</MsgId><CreDtTm>2026-12-01T06:00:00</CreDtTm></GrpHdr>\n"
        "<Stmt><Id>GENERATED-1</Id>"
        "<Acct><Id><IBAN>GB47BARC20000012345678</IBAN></Id><Ccy>GBP</Ccy></Acct>\n",
        balance("OPBD", OPENING_MINOR, first_day),
        balance("CLBD", closing, last_day),
        f"<TxsSummry><TtlNtries><NbOfNtries>{n}</NbOfNtries></TtlNtries></TxsSummry>\n",
    ]
    for booked_on, amount, reference, description, bank_id in rows:
        mark = "DBIT" if amount < 0 else "CRDT"
        party = "Cdtr" if amount < 0 else "Dbtr"
        parts.append(
            f'<Ntry><Amt Ccy="GBP">{_money(abs(amount))}</Amt><CdtDbtInd>{mark}</CdtDbtInd><Sts>BOOK</Sts>'
            f"<BookgDt><Dt>{booked_on.isoformat()}</Dt></BookgDt><ValDt><Dt>{booked_on.isoformat()}</Dt></ValDt>"
            f"<AcctSvcrRef>{bank_id}</AcctSvcrRef><NtryDtls><TxDtls><Refs><EndToEndId>{reference}</EndToEndId>"
            f"</Refs><RltdPties><{party}><Nm>{description}</Nm></{party}></RltdPties>"
            f"<RmtInf><Ustrd>{reference}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>\n"
        )
    parts.append("</Stmt></BkToCstmrStmt></Document>\n")
    return "".join(parts).encode()
