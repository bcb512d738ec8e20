"""Surplus reclaims (issue 9): notice first (at least the stream's weeks), a reply, then one balanced,
idempotent posting of the person's funds to the agency; who may and may not; every refusal changes nothing."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection
from django.test import TestCase
from django.utils import timezone

from ledger.models import Account, Transaction
from payments.models import ReclaimNotice, ReclaimStatus
from payments.services import reclaims
from plans.models import TimelineEntry
from tests.budgets.factories import FundingStreamFactory
from tests.budgets.test_surplus_audit import move, person
from tests.concurrency import run_in_threads
from tests.people.factories import (
    AgencyOfficerFactory,
    FinanceOfficerFactory,
    NavigatorFactory,
    ProviderUserFactory,
    RepresentativeFactory,
)

pytestmark = pytest.mark.django_db

ON = date(2026, 6, 1)


@pytest.fixture
def clock(monkeypatch):
    days = {"today": ON}
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: days["today"])
    return days


@pytest.fixture
def world(clock):
    """Held 4,000.00 of ASC money; threshold 4 weeks x 700.00 = 2,800.00: 1,200.00 reclaimable."""
    stream = FundingStreamFactory(code="ASC", surplus_threshold_weeks=Decimal("4.0"))
    holder = person(stream)
    holder.user.email = "alex@example.org"
    holder.user.save()
    holder.navigator.email = "nav@example.org"
    holder.navigator.save()
    move(holder, stream, 400_000, on=date(2026, 4, 1), key="in")
    return holder, stream


def funds(holder):
    return Account.objects.get(key=f"person:{holder.public_id}:stream:ASC:funds")


def raise_notice(world, *, by=None, amount=100_000, **kwargs):
    holder, _ = world
    with TestCase.captureOnCommitCallbacks(execute=True):
        return reclaims.reclaim_notice_raise(
            budget_holder=holder,
            stream_code="ASC",
            amount_minor=amount,
            reason="Unspent for three months.",
            by=by or FinanceOfficerFactory(),
            **kwargs,
        )


class TestNotice:
    def test_notice_with_the_amount_reason_and_four_weeks_on_the_timeline_and_by_email(self, world):
        holder, stream = world
        notice = raise_notice(world)

        assert notice.public_id.startswith("rcl_")
        assert (notice.status, notice.amount_minor, notice.notice_given_on, notice.reclaim_on) == (
            ReclaimStatus.NOTIFIED,
            100_000,
            ON,
            date(2026, 6, 29),
        )
        entry = TimelineEntry.objects.get(budget_holder=holder, kind="reclaim.notified")
        assert entry.stream == stream and entry.visibility == "shared"
        assert entry.for_person == (
            f"{stream.agency.name} plans to take back £1,000.00 of your {stream.name} money that has not "
            "been spent, on 29 June 2026. Why: Unspent for three months. You can reply before then."
        )
        [email] = mail.outbox
        assert set(email.to) == {"alex@example.org", "nav@example.org"}
        assert "29 June 2026" in email.body and notice.public_id in email.body
        assert Transaction.objects.filter(metadata__kind="surplus_reclaim").count() == 0  # nothing moved yet

    def test_the_streams_own_agency_officer_may_raise_one(self, world):
        _, stream = world
        officer = AgencyOfficerFactory(organisation=stream.agency)
        assert raise_notice(world, by=officer).raised_by == officer

    @pytest.mark.parametrize("who", ["another agency", "navigator", "budget holder", "provider"])
    def test_anyone_else_may_not_and_nothing_changes(self, world, who):
        holder, _ = world
        by = {
            "another agency": AgencyOfficerFactory,
            "navigator": lambda: holder.navigator,
            "budget holder": lambda: holder.user,
            "provider": ProviderUserFactory,
        }[who]()
        with pytest.raises(reclaims.NotAllowedToReclaim):
            raise_notice(world, by=by)
        assert not ReclaimNotice.objects.exists()
        assert not TimelineEntry.objects.filter(kind="reclaim.notified").exists()
        assert mail.outbox == []

    def test_less_than_the_streams_notice_is_refused(self, world):
        _, stream = world
        stream.reclaim_notice_weeks = 6
        stream.save()
        with pytest.raises(reclaims.InvalidReclaim) as raised:
            raise_notice(world, reclaim_on=ON + timedelta(weeks=5))
        assert raised.value.field == "reclaim_on"
        assert raised.value.message.endswith(
            "gives 6 weeks' notice: the money may be reclaimed on 13 July 2026 at the earliest."
        )
        assert raise_notice(world, reclaim_on=date(2026, 7, 13)).reclaim_on == date(2026, 7, 13)

    def test_no_more_than_the_surplus_less_reserves_and_other_notices(self, world):
        raise_notice(world, amount=100_000)
        with pytest.raises(reclaims.InvalidReclaim) as raised:
            raise_notice(world, amount=20_001)
        assert raised.value.field == "amount"
        assert raised.value.message.startswith("At most £200.00 may be reclaimed")
        assert raise_notice(world, amount=20_000).amount_minor == 20_000
        assert ReclaimNotice.objects.count() == 2

    @pytest.mark.parametrize(
        "amount, reason, field",
        [(0, "Why", "amount"), (-1, "Why", "amount"), (True, "Why", "amount"), (100, "  ", "reason")],
    )
    def test_bad_input_names_the_field(self, world, amount, reason, field):
        holder, _ = world
        with pytest.raises(reclaims.InvalidReclaim) as raised:
            reclaims.reclaim_notice_raise(
                budget_holder=holder,
                stream_code="ASC",
                amount_minor=amount,
                reason=reason,
                by=FinanceOfficerFactory(),
            )
        assert raised.value.field == field
        assert not ReclaimNotice.objects.exists()


class TestResponding:
    def test_the_budget_holder_or_an_approving_representative_replies(self, world):
        holder, _ = world
        notice = raise_notice(world)
        answered = reclaims.reclaim_notice_respond(
            notice=notice, text=" I am saving for a holiday. ", by=holder.user
        )
        assert (answered.status, answered.response, answered.responded_by) == (
            ReclaimStatus.RESPONDED,
            "I am saving for a holiday.",
            holder.user,
        )
        rep = RepresentativeFactory(budget_holder=holder).user
        assert reclaims.reclaim_notice_respond(notice=notice, text="Agreed.", by=rep).response == "Agreed."
        assert TimelineEntry.objects.filter(budget_holder=holder, kind="reclaim.responded").count() == 2

    def test_nobody_else_may_reply(self, world):
        notice = raise_notice(world)
        for by in (NavigatorFactory(), FinanceOfficerFactory(), person(world[1]).user):
            with pytest.raises(reclaims.NotAllowedToRespond):
                reclaims.reclaim_notice_respond(notice=notice, text="No", by=by)
        assert ReclaimNotice.objects.get(pk=notice.pk).status == ReclaimStatus.NOTIFIED


class TestReclaiming:
    def test_not_before_the_day_then_one_balanced_posting_idempotent(self, world, clock):
        holder, _ = world
        finance = FinanceOfficerFactory()
        notice = raise_notice(world, by=finance)
        with pytest.raises(reclaims.ReclaimStateConflict) as raised:
            reclaims.reclaim_post(notice=notice, by=finance)
        assert "runs until 29 June 2026" in raised.value.message

        clock["today"] = date(2026, 6, 29)
        done = reclaims.reclaim_post(notice=notice, by=finance)
        again = reclaims.reclaim_post(notice=notice, by=finance)

        assert (done.status, done.reclaimed_minor, again.ledger_transaction) == (
            ReclaimStatus.RECLAIMED,
            100_000,
            done.ledger_transaction,
        )
        posted = Transaction.objects.get(public_id=done.ledger_transaction)
        assert posted.metadata == {"kind": "surplus_reclaim", "reclaim": notice.public_id, "stream": "ASC"}
        sides = {(p.account.key, p.side, p.amount_minor) for p in posted.postings.select_related("account")}
        assert sides == {
            (f"person:{holder.public_id}:stream:ASC:funds", "debit", 100_000),
            ("payments:reclaim:ASC:GBP", "credit", 100_000),
        }
        assert funds(holder).posted_minor == 300_000
        assert Transaction.objects.filter(idempotency_key=f"reclaim:{notice.public_id}").count() == 1
        assert TimelineEntry.objects.filter(budget_holder=holder, kind="reclaim.posted").count() == 1

    def test_less_than_the_notice_but_never_more_nor_more_than_is_left(self, world, clock):
        holder, stream = world
        finance = FinanceOfficerFactory()
        notice = raise_notice(world, by=finance)
        clock["today"] = date(2026, 7, 1)
        with pytest.raises(reclaims.InvalidReclaim):
            reclaims.reclaim_post(notice=notice, by=finance, amount_minor=100_001)
        move(holder, stream, -350_000, on=date(2026, 6, 30), key="spent")  # 500.00 left
        with pytest.raises(reclaims.InvalidReclaim) as raised:
            reclaims.reclaim_post(notice=notice, by=finance)
        assert "at most £500.00 can be reclaimed now" in raised.value.message
        assert reclaims.reclaim_post(notice=notice, by=finance, amount_minor=50_000).reclaimed_minor == 50_000

    def test_a_withdrawn_notice_reclaims_nothing(self, world, clock):
        finance = FinanceOfficerFactory()
        notice = raise_notice(world, by=finance)
        reclaims.reclaim_notice_withdraw(notice=notice, by=finance, reason="Holiday planned")
        clock["today"] = date(2026, 7, 1)
        with pytest.raises(reclaims.ReclaimStateConflict):
            reclaims.reclaim_post(notice=notice, by=finance)
        assert not Transaction.objects.filter(metadata__kind="surplus_reclaim").exists()

    def test_only_finance_or_the_streams_agency_reclaims(self, world, clock):
        notice = raise_notice(world)
        clock["today"] = date(2026, 7, 1)
        with pytest.raises(reclaims.NotAllowedToReclaim):
            reclaims.reclaim_post(notice=notice, by=AgencyOfficerFactory())
        assert ReclaimNotice.objects.get(pk=notice.pk).status == ReclaimStatus.NOTIFIED


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_reclaims_at_once_post_once(monkeypatch):
    assert connection.vendor == "postgresql"
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: ON)
    stream = FundingStreamFactory(code="ASC", surplus_threshold_weeks=Decimal("4.0"))
    holder = person(stream)
    move(holder, stream, 400_000, on=date(2026, 4, 1), key="in")
    finance = FinanceOfficerFactory()
    notice = reclaims.reclaim_notice_raise(
        budget_holder=holder, stream_code="ASC", amount_minor=100_000, reason="Unspent", by=finance
    )
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: date(2026, 7, 1))

    results = run_in_threads(2, lambda index: reclaims.reclaim_post(notice=notice, by=finance))

    assert not [result for result in results if isinstance(result, Exception)], results
    assert Transaction.objects.filter(metadata__kind="surplus_reclaim").count() == 1
    assert funds(holder).posted_minor == 300_000


class TestSelectors:
    def test_the_streams_audit_says_what_notices_already_cover(self, world):
        from budgets.selectors.surplus import stream_holders
        from payments import selectors

        holder, _ = world
        notice = raise_notice(world, amount=30_000)

        [line] = selectors.stream_surplus_audit(
            stream_code="ASC", holders=list(stream_holders(stream_code="ASC"))
        )

        assert (line.audit.reclaimable_minor, line.noticed_minor, line.still_to_notice_minor) == (
            120_000,
            30_000,
            90_000,
        )
        assert list(selectors.reclaim_notices(stream_code="ASC", open_only=True)) == [notice]
        assert list(selectors.reclaim_notices(budget_holder=holder)) == [notice]
        assert selectors.reclaim_notice_get(public_id=notice.public_id) == notice
        reclaims.reclaim_notice_withdraw(notice=notice, by=FinanceOfficerFactory(), reason="Not now")
        assert list(selectors.reclaim_notices(stream_code="ASC", open_only=True)) == []
        [line] = selectors.stream_surplus_audit(stream_code="ASC", holders=[holder])
        assert line.noticed_minor == 0
