"""The hand-written fixture statements matched against ledgers built to mirror them: a Bacs file paid as one
bank line, a Stripe payout covering many transfers, a reversal, a bank charge and references of nobody's."""

from datetime import date
from pathlib import Path

import pytest

from ledger import services as ledger_services
from ledger.models import AccountType, Side
from ledger.reconciliation import selectors, services
from ledger.reconciliation.models import LineState, MatchHow, MatchStatus, StatementLine
from ledger.selectors import account_balance
from tests.ledger.reconciliation.test_matching import World, account

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures"
PAID_IN_OUT = {
    "date_column": "Date",
    "paid_in_column": "Paid in",
    "paid_out_column": "Paid out",
    "reference_column": "Reference",
    "description_column": "Description",
    "balance_column": "Balance",
}


def states(imported):
    return {
        line.line_number: (line.state, (line.matches_in_force[0].how if line.matches_in_force else None))
        for line in selectors.import_lines(statement_import=imported)
    }


def test_the_bank_csv_fixture(settings):
    world = World()
    services.csv_mapping_save(account=world.recon, mapping=PAID_IN_OUT)
    stripe_cash = account("test:cash:stripe")
    world.other_cash(1_000_000, date(2026, 10, 1), "Opening balance")
    world.funding(485_000, date(2026, 11, 2), "DEMO-ASC-2026-11")
    world.funding(61_240, date(2026, 10, 30), "DEMO-ILF-2026-11")
    world.bacs_payment(80_000, date(2026, 10, 30), "pay_aaaa1111bbbb22", bacs_file="bacs_7h2k9m4q")
    world.bacs_payment(44_050, date(2026, 10, 30), "pay_cccc3333dddd44", bacs_file="bacs_7h2k9m4q")
    bright = world.bacs_payment(31_875, date(2026, 11, 2), "pay_k7g57jmjtnsuje", bacs_file="bacs_other1")
    world.bacs_payment(12_000, date(2026, 11, 2), "pay_eeee5555ffff66", bacs_file="bacs_other1")
    world.post(
        world.cash,
        stripe_cash,
        15_000,
        date(2026, 11, 3),
        "Stripe payout",
        payout="po_1QxT8mL2eZvKYlo2C0a1b2c3",
    )

    imported = services.statement_import(
        account=world.recon, content=(FIXTURES / "bank_good.csv").read_bytes(), by="finance"
    )

    assert states(imported) == {
        2: (LineState.MATCHED, MatchHow.REFERENCE),
        3: (LineState.MATCHED, MatchHow.REFERENCE),
        4: (LineState.MATCHED, MatchHow.BATCH),
        5: (LineState.MATCHED, MatchHow.REFERENCE),
        6: (LineState.MATCHED, MatchHow.REFERENCE),
        7: (LineState.UNMATCHED, None),  # HMRC: nothing in the ledger
        8: (LineState.UNMATCHED, None),  # the bank's charges
        9: (LineState.UNMATCHED, None),  # a refund of nobody's
    }
    bright_line = StatementLine.objects.get(statement_import=imported, line_number=5)
    assert bright_line.matches.get().items.get().transaction_id == bright.pk
    # The Bacs file and the one payment the bank showed have left transit; the other is still on its way.
    assert account_balance(account=world.transit).posted_minor == 12_000
    report = selectors.reconciliation_report(
        account=world.recon, period_start=date(2026, 11, 1), period_end=date(2026, 11, 30)
    )
    assert report.bank_balance_minor == 1_296_332
    assert report.unmatched_lines_minor == -110_233 - 1_250 + 2_500
    assert report.in_transit_minor == -12_000
    assert report.unexplained_minor == 0


def test_the_stripe_payout_fixture_covering_many_transfers():
    world = World()
    stripe_cash = account("test:cash:stripe:2")
    clearing = account("test:clearing:stripe", AccountType.LIABILITY)
    recon = services.reconciliation_account_ensure(
        key="stripe:GBP", name="Stripe", kind="stripe", ledger_account=stripe_cash
    )
    transfers = {
        "tr_1QyA0bL2eZvKYlo2Gk8Rr4Lc": ("pay_k7g57jmjtnsuje", 31_875),
        "tr_1QyA0cL2eZvKYlo2Hy2Oo5Me": ("pay_r3m8zq2wxkd4ta", 9_600),
        "tr_1QyA0dL2eZvKYlo2Jw6Ii3Ng": ("pay_t9v2lb6nhc3e8q", 82_575),
        "tr_1QyA0eL2eZvKYlo2Kv1Pp7Oh": ("pay_m2c8qk4tzr7vxa", 26_608),
    }
    settled = {}
    for transfer, (payment, amount) in transfers.items():
        settled[payment] = world.post(
            clearing,
            stripe_cash,
            amount,
            date(2026, 11, 6),
            f"Stripe paid transfer {transfer} ({payment})",
            kind="provider_payment_settled",
            payment=payment,
        )
    reversal = ledger_services.transaction_reverse(
        transaction=settled["pay_r3m8zq2wxkd4ta"],
        idempotency_key="reverse-r3m8",
        effective_on=date(2026, 11, 7),
        reason="Stripe reversed transfer tr_1QyA0cL2eZvKYlo2Hy2Oo5Me (pay_r3m8zq2wxkd4ta)",
    )

    imported = services.statement_import(
        account=recon, content=(FIXTURES / "stripe_payout_itemized.csv").read_bytes(), by="finance"
    )

    found = states(imported)
    lines = {line.line_number: line for line in StatementLine.objects.filter(statement_import=imported)}
    by_kind = {line.kind: [] for line in lines.values()}
    for number, line in lines.items():
        by_kind[line.kind].append(found[number])
    assert by_kind["transfer"] == [(LineState.MATCHED, MatchHow.REFERENCE)] * 4
    assert by_kind["transfer_reversal"] == [(LineState.MATCHED, MatchHow.REFERENCE)]
    reversal_line = next(line for line in lines.values() if line.kind == "transfer_reversal")
    assert reversal_line.matches.get(status=MatchStatus.MATCHED).items.get().transaction_id == reversal.pk
    # The fee and the top-up have nothing in the ledger: listed, never dropped.
    assert sum(state == LineState.UNMATCHED for state, _ in found.values()) == len(lines) - 5


@pytest.mark.parametrize(
    ("name", "format"),
    [
        ("camt053_v08_two_days.xml", "camt053"),
        ("camt053_v02_good.xml", "camt053"),
        ("mt940_good.sta", "mt940"),
        ("mt940_two_days_envelope.sta", "mt940"),
        ("ofx_v1_good.ofx", "ofx"),
        ("ofx_v2_good.ofx", "ofx"),
        ("stripe_balance_transactions.csv", "stripe_balance"),
    ],
)
def test_every_line_of_every_fixture_is_matched_suggested_or_listed(name, format):
    world = World()
    world.recon.csv_mapping = None
    world.recon.save()
    imported = services.statement_import(
        account=world.recon, content=(FIXTURES / name).read_bytes(), by="finance", format=format
    )
    lines = list(StatementLine.objects.filter(statement_import=imported))
    assert len(lines) == imported.lines_in_file == imported.lines_new > 0
    assert {line.state for line in lines} <= set(LineState.values)
    assert imported.status == "done" and imported.lines_checked == len(lines)
    with pytest.raises(services.DuplicateImport):
        services.statement_import(account=world.recon, content=(FIXTURES / name).read_bytes(), by="finance")


@pytest.mark.parametrize(
    "name",
    [
        "bank_wrong_balance.csv",
        "camt053_wrong_closing.xml",
        "mt940_wrong_closing.sta",
        "bank_malformed.csv",
        "camt053_bad_entries.xml",
        "mt940_bad_lines.sta",
        "ofx_bad_entry.ofx",
        "stripe_bad_lines.csv",
        "camt053_billion_laughs.xml",
    ],
)
def test_a_bad_fixture_imports_nothing(name):
    from ledger.reconciliation.statement_files import InvalidCsvMapping, StatementFileInvalid

    world = World()
    services.csv_mapping_save(account=world.recon, mapping=PAID_IN_OUT)
    with pytest.raises((StatementFileInvalid, InvalidCsvMapping)):
        services.statement_import(account=world.recon, content=(FIXTURES / name).read_bytes(), by="finance")
    assert not StatementLine.objects.exists() and not world.recon.imports.exists()


def test_a_settlement_moves_transit_money_to_the_bank_and_nothing_else():
    # The transit settlement is a balanced transaction between the two accounts only.
    world = World()
    world.bacs_payment(500, date(2026, 11, 2), "pay_unused00001")
    services.statement_import(
        account=world.recon,
        content=b"Date,Amount,Reference,Description,Balance\n03/11/2026,-5.00,PAY-UNUSED00001,,95.00\n",
        by="f",
    )
    settlement = StatementLine.objects.get().matches.get().settlement
    postings = sorted((p.account_id, p.side, p.amount_minor) for p in settlement.postings.all())
    assert postings == sorted([(world.transit.pk, Side.DEBIT, 500), (world.cash.pk, Side.CREDIT, 500)])
