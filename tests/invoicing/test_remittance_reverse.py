"""Remittances with part amounts (`remittance_record(amounts=...)`) and their undoing (`remittance_reverse`).

The invoicing world (tests/invoicing/world.py): Alex's bright-care invoice of 3.50 h at 24.50 = 85.75 is
shared at approval between two streams, 62.50 from ASC and 23.25 from ILF. A part payment posts a part of
each stream's share, in proportion (largest remainder, the parts adding up to the amount paid), and
releases the rest. Undoing a remittance reverses each invoice's payment posting, approves it again with a
new reservation and tells the person; doing it again changes nothing.
"""

from datetime import date

import pytest

from invoicing import accounts as invoicing_accounts
from invoicing import services
from invoicing.models import Invoice, InvoiceEvent, InvoiceStatus, Remittance, RemittanceLine
from ledger.models import Account, Transaction
from plans.models import TimelineEntry
from tests.invoicing.world import TODAY, build_invoicing_world, submit

pytestmark = pytest.mark.django_db

PAID_ON = date(2026, 11, 20)


@pytest.fixture
def world(monkeypatch):
    return build_invoicing_world(monkeypatch)


def approved(world, number: str = "BC-1", lines=None) -> Invoice:
    invoice = submit(world.care, number=number, lines=lines)
    return services.invoice_approve(invoice=invoice, by=world.care.budget_holder.user)


def funds(invoice: Invoice) -> dict[str, int]:
    return {
        posting.account.key: posting.amount_minor
        for posting in invoice.reservation.postings.select_related("account")
        if posting.side == "debit"
    }


def totals(key: str) -> tuple[int, int, int, int]:
    account = Account.objects.get(key=key)
    return (account.debits_posted, account.credits_posted, account.debits_pending, account.credits_pending)


def payable(invoice: Invoice) -> str:
    return invoicing_accounts.provider_payable_key(
        provider_public_id=invoice.provider.public_id, currency="GBP"
    )


class TestPartAmounts:
    @pytest.mark.parametrize(
        "amount, asc, ilf",
        [
            (1, 1, 0),  # 0.73 and 0.27 of a penny: the larger remainder gets it
            (2, 1, 1),
            (100, 73, 27),
            (5001, 3645, 1356),  # 3645.04 and 1355.95: the leftover penny goes to ILF
            (8574, 6249, 2325),
            (8575, 6250, 2325),
        ],
    )
    def test_the_parts_are_in_proportion_and_add_up(self, world, amount, asc, ilf):
        invoice = approved(world)
        assert sorted(funds(invoice).values()) == [2325, 6250]
        shares = services._part_amounts(invoice, amount)
        keys = [p.account.key for p in invoice.reservation.postings.select_related("account").order_by("pk")]
        by_key = dict(zip(keys, shares, strict=True))
        asc_key = next(key for key in keys if ":ASC:" in key)
        ilf_key = next(key for key in keys if ":ILF:" in key)
        assert (by_key[asc_key], by_key[ilf_key], by_key[payable(invoice)]) == (asc, ilf, amount)
        assert asc + ilf == amount

    def test_a_part_payment_posts_the_part_and_releases_the_rest(self, world):
        invoice = approved(world)
        keys = funds(invoice)
        before = {key: totals(key) for key in keys}

        remittance = services.remittance_record(
            provider=invoice.provider,
            invoices=[invoice],
            reference="pay_part0000001",
            paid_on=PAID_ON,
            by=None,
            amounts={invoice.public_id: 5001},
        )

        assert remittance.total_minor == 5001
        [line] = remittance.lines.all()
        assert (line.invoice_id, line.amount_minor, line.reversed_at) == (invoice.pk, 5001, None)
        invoice.refresh_from_db()
        assert (invoice.status, invoice.remittance_line_id) == ("paid", line.pk)
        asc_key = next(key for key in keys if ":ASC:" in key)
        ilf_key = next(key for key in keys if ":ILF:" in key)
        # Posted debits up by the part; the whole reservation (62.50 and 23.25) no longer pending.
        for key, part in ((asc_key, 3645), (ilf_key, 1356)):
            after = totals(key)
            assert (after[0] - before[key][0], after[2] - before[key][2]) == (part, -keys[key])
        account = Account.objects.get(key=payable(invoice))
        assert (account.credits_posted, account.credits_pending) == (5001, 0)
        posted = Transaction.objects.get(
            idempotency_key=f"invoice:{invoice.public_id}:payment:pay_part0000001"
        )
        assert posted.metadata == {
            "kind": "invoice_payment",
            "invoice": invoice.public_id,
            "reference": "pay_part0000001",
        }
        entry = TimelineEntry.objects.filter(budget_holder=invoice.budget_holder).order_by("pk").last()
        assert entry.for_person == "Bright Care was paid £50.01 for invoice BC-1 on 20 November 2026."

    @pytest.mark.parametrize("amount", [0, -1, 8576, True, 50.0, "5001"])
    def test_an_amount_that_is_not_a_part_of_the_total_is_refused_and_nothing_changes(self, world, amount):
        invoice = approved(world)
        before = (Transaction.objects.count(), Remittance.objects.count())
        with pytest.raises(services.RemittanceInvalid) as raised:
            services.remittance_record(
                provider=invoice.provider,
                invoices=[invoice],
                reference="pay_bad",
                paid_on=PAID_ON,
                by=None,
                amounts={invoice.public_id: amount},
            )
        assert raised.value.message == (
            "Invoice BC-1 can be paid more than nothing and at most its total (£85.75)."
        )
        assert (Transaction.objects.count(), Remittance.objects.count()) == before
        assert Invoice.objects.get(pk=invoice.pk).status == "approved"

    def test_an_amount_for_an_invoice_not_being_paid_is_refused(self, world):
        invoice = approved(world)
        with pytest.raises(services.RemittanceInvalid) as raised:
            services.remittance_record(
                provider=invoice.provider,
                invoices=[invoice],
                reference="pay_bad",
                paid_on=PAID_ON,
                by=None,
                amounts={"inv_somethingelse": 100},
            )
        assert raised.value.message == "inv_somethingelse is not among the invoices being paid."
        assert not Remittance.objects.exists()


class TestReverse:
    def pay(self, world, *invoices, reference="pay_rev000000001", amounts=None):
        return services.remittance_record(
            provider=invoices[0].provider,
            invoices=list(invoices),
            reference=reference,
            paid_on=PAID_ON,
            by=None,
            amounts=amounts,
        )

    def test_the_invoices_are_approved_again_with_a_new_reservation_and_the_money_back(self, world):
        first = approved(world)
        second = approved(world, "BC-2", lines=[("2026-10-04", "2")])
        keys = sorted(set(funds(first)) | set(funds(second)))
        before = {key: totals(key) for key in keys}
        remittance = self.pay(world, first, second, amounts={first.public_id: 5001})
        assert remittance.total_minor == 5001 + 4900
        timeline = TimelineEntry.objects.count()

        undone = services.remittance_reverse(
            remittance=remittance, reason="The transfer was reversed.", on=date(2026, 11, 23), by=None
        )

        assert (undone.reversed_on, undone.reversal_reason) == (
            date(2026, 11, 23),
            "The transfer was reversed.",
        )
        for invoice, paid in ((first, 5001), (second, 4900)):
            invoice = Invoice.objects.get(pk=invoice.pk)
            assert (invoice.status, invoice.remittance_line_id) == ("approved", None)
            assert invoice.reservation.idempotency_key == (
                f"invoice:{invoice.public_id}:reservation:after:pay_rev000000001"
            )
            assert invoice.reservation.kind == "pending"
            assert invoice.reservation.effective_on == date(2026, 11, 23)
            assert sum(funds(invoice).values()) == invoice.total_minor
            line = RemittanceLine.objects.get(remittance=remittance, invoice=invoice)
            assert line.amount_minor == paid and line.reversed_at is not None
            payment = Transaction.objects.get(
                idempotency_key=f"invoice:{invoice.public_id}:payment:pay_rev000000001"
            )
            assert payment.reversed_by.effective_on == date(2026, 11, 23)
            assert InvoiceEvent.objects.filter(invoice=invoice).order_by("pk").last().status == "approved"
        # Posted: paid and paid back, so each fund's net posted is as before; pending: reserved again.
        for key in keys:
            d_posted, c_posted, d_pending, c_pending = totals(key)
            assert d_posted - c_posted == before[key][0] - before[key][1], key
            assert d_pending - c_pending == before[key][2] - before[key][3], key
        owed = Account.objects.get(key=payable(first))
        assert owed.credits_posted - owed.debits_posted == 0
        assert owed.credits_pending - owed.debits_pending == first.total_minor + second.total_minor
        entries = list(TimelineEntry.objects.order_by("pk")[timeline:])
        assert [entry.kind for entry in entries] == ["invoice.payment_undone"] * 2
        assert entries[0].for_person == (
            "The payment of £50.01 to Bright Care for invoice BC-1 did not go through, so the invoice is "
            "waiting to be paid again. The money is still set aside for it."
        )
        assert entries[0].body == "The transfer was reversed."

    def test_again_changes_nothing(self, world):
        invoice = approved(world)
        remittance = self.pay(world, invoice)
        services.remittance_reverse(remittance=remittance, reason="Failed", on=TODAY, by=None)
        counts = (Transaction.objects.count(), TimelineEntry.objects.count(), InvoiceEvent.objects.count())

        again = services.remittance_reverse(remittance=remittance, reason="Failed again", on=TODAY, by=None)

        assert (again.reversed_on, again.reversal_reason) == (TODAY, "Failed")
        assert (
            Transaction.objects.count(),
            TimelineEntry.objects.count(),
            InvoiceEvent.objects.count(),
        ) == counts

    def test_the_invoice_can_be_paid_again_under_a_new_reference(self, world):
        invoice = approved(world)
        services.remittance_reverse(remittance=self.pay(world, invoice), reason="Failed", on=TODAY, by=None)
        invoice = Invoice.objects.get(pk=invoice.pk)

        again = self.pay(world, invoice, reference="pay_rev000000002")

        invoice.refresh_from_db()
        assert (invoice.status, invoice.remittance_line.remittance_id) == (InvoiceStatus.PAID, again.pk)
        assert RemittanceLine.objects.filter(invoice=invoice, reversed_at__isnull=True).count() == 1
        assert RemittanceLine.objects.filter(invoice=invoice).count() == 2
        owed = Account.objects.get(key=payable(invoice))
        assert (owed.credits_posted - owed.debits_posted, owed.credits_pending - owed.debits_pending) == (
            invoice.total_minor,
            0,
        )

    def test_a_reason_is_needed(self, world):
        invoice = approved(world)
        remittance = self.pay(world, invoice)
        with pytest.raises(services.ReasonRequired):
            services.remittance_reverse(remittance=remittance, reason="  ", on=TODAY, by=None)
        assert Remittance.objects.get(pk=remittance.pk).reversed_on is None
        assert Invoice.objects.get(pk=invoice.pk).status == "paid"
