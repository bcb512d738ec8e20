"""Instalments falling due are told to the person on their timeline, once, and the command around it."""

from datetime import date, datetime, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from budgets.models import Instalment, InstalmentStatus
from budgets.services.personal_budgets import instalments_post_due
from ledger.models import Transaction
from ledger.services import period_close
from plans.models import TimelineEntry
from plans.selectors.timeline import timeline_for_person
from plans.services.instalments import CATCH_UP_DAYS, plan_instalments_post_due
from plans.wording import date_display, money_display
from tests.budgets.factories import FundingStreamFactory
from tests.budgets.helpers import END, create
from tests.concurrency import run_in_threads
from tests.people.factories import AgencyOfficerFactory, BudgetHolderFactory, NavigatorFactory
from tests.plans.timeline_world import active_plan

TODAY = date(2026, 10, 1)


@pytest.fixture(autouse=True)
def today(monkeypatch):
    """Pin "today" (the command's default day, the period-close check) to 1 October 2026."""
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: TODAY)
    return TODAY


@pytest.fixture
def stream(db):
    return FundingStreamFactory(
        code="ASC", name="Adult Social Care", payment_frequency="four_weekly", initial_float_weeks=0
    )


@pytest.fixture
def holder(db):
    return BudgetHolderFactory()


@pytest.fixture
def navigator(db):
    return NavigatorFactory()


def instalment_entries(holder=None):
    entries = TimelineEntry.objects.filter(kind="instalment.due")
    return entries.filter(budget_holder=holder) if holder else entries


class TestWording:
    @pytest.mark.parametrize(
        ("minor", "currency", "shown"),
        [
            (94_707, "GBP", "£947.07"),
            (194_707, "GBP", "£1,947.07"),
            (123_456_789, "GBP", "£1,234,567.89"),
            (5, "GBP", "£0.05"),
            (-500, "GBP", "-£5.00"),
            (100_000, "EUR", "€1,000.00"),
            (1_000, "CHF", "10.00 CHF"),
        ],
    )
    def test_money_as_people_read_it(self, minor, currency, shown):
        assert money_display(minor, currency=currency) == shown

    def test_dates_as_people_write_them(self):
        assert date_display(date(2026, 5, 15)) == "15 May 2026"
        assert date_display(date(2027, 1, 4)) == "4 January 2027"


@pytest.mark.django_db
class TestPlanInstalmentsPostDue:
    def test_one_shared_entry_per_instalment_posted(self, holder, stream, navigator):
        budget = create(holder, stream, navigator)

        result = plan_instalments_post_due(on=date(2026, 5, 27))

        assert (result.posting.posted, result.entries_recorded, result.failed) == (3, 3, [])
        posted = list(budget.instalments.filter(status=InstalmentStatus.DUE).order_by("sequence"))
        entries = {entry.detail["instalment"]: entry for entry in instalment_entries(holder)}
        assert set(entries) == {instalment.public_id for instalment in posted}
        second = posted[1]
        entry = entries[second.public_id]
        assert (entry.visibility, entry.stream, entry.actor) == ("shared", stream, None)
        assert entry.for_person == (
            f"{money_display(second.amount_minor, currency='GBP')} from Adult Social Care is due to you on "
            f"{date_display(second.due_on)}"
        )
        assert entry.for_person == "£280.00 from Adult Social Care is due to you on 29 April 2026"
        assert entry.for_staff.startswith(f"Adult Social Care instalment 2 of {budget.public_id} fell due on")
        assert second.ledger_transaction in entry.for_staff
        assert entry.detail == {
            "instalment": second.public_id,
            "personal_budget": budget.public_id,
            "sequence": 2,
            "amount": "280.00",
            "currency": "GBP",
            "due_on": "2026-04-29",
            "covers_from": "2026-04-29",
            "covers_to": "2026-05-26",
            "ledger_transaction": second.ledger_transaction,
        }
        # Dated at the start of its due day, so that a catch-up shows each where it belongs.
        assert timezone.localtime(entry.at) == timezone.make_aware(datetime(2026, 4, 29))

    def test_the_person_reads_it_and_so_does_the_streams_agency(self, holder, stream, navigator):
        create(holder, stream, navigator)
        active_plan(holder, [stream])  # so that the stream's agency officers see the person
        plan_instalments_post_due(on=date(2026, 4, 1))
        officer = AgencyOfficerFactory(organisation=stream.agency)

        (for_person,) = timeline_for_person(budget_holder=holder, viewer=holder.user)
        (for_officer,) = timeline_for_person(budget_holder=holder, viewer=officer)

        assert for_person.text == "£280.00 from Adult Social Care is due to you on 1 April 2026"
        assert for_officer.text.startswith("Adult Social Care instalment 1 of ")

    def test_running_twice_tells_each_instalment_once(self, holder, stream, navigator):
        create(holder, stream, navigator)
        plan_instalments_post_due(on=date(2026, 5, 27))

        again = plan_instalments_post_due(on=date(2026, 5, 27))

        assert (again.posting.posted, again.entries_recorded) == (0, 0)
        assert instalment_entries(holder).count() == 3

    def test_instalments_posted_but_not_told_are_caught_up(self, holder, stream, navigator):
        create(holder, stream, navigator)
        # A run that posted seven instalments (1 April to 16 September) and stopped before telling anyone.
        instalments_post_due(on=date(2026, 9, 16))

        result = plan_instalments_post_due(on=TODAY)

        # Nothing new to post; those that fell due in the last CATCH_UP_DAYS days are told: 16 September.
        assert (result.posting.posted, result.entries_recorded) == (0, 1)
        recent = Instalment.objects.filter(
            due_on__gte=TODAY - timedelta(days=CATCH_UP_DAYS), status=InstalmentStatus.DUE
        )
        assert list(recent.values_list("due_on", flat=True)) == [date(2026, 9, 16)]
        told = set(instalment_entries(holder).values_list("detail__instalment", flat=True))
        assert told == set(recent.values_list("public_id", flat=True))

    def test_a_zero_instalment_is_not_told(self, holder, stream, navigator):
        create(holder, stream, navigator, amount_minor=5)  # 14 instalments: five of 1p, nine of nothing

        result = plan_instalments_post_due(on=END)

        assert result.posting.posted == 14
        assert result.entries_recorded == 5
        assert instalment_entries(holder).count() == 5

    def test_an_instalment_the_ledger_refuses_is_not_told(self, holder, stream, navigator):
        create(holder, stream, navigator)
        period_close(closed_through=date(2026, 4, 30), closed_by="finance")

        result = plan_instalments_post_due(on=date(2026, 5, 27))

        assert len(result.failed) == 1
        assert result.entries_recorded == 0
        assert not instalment_entries().exists()

    @pytest.mark.parametrize("holders", [3, 6])
    def test_a_fixed_number_of_queries_per_instalment_told(self, stream, navigator, holders):
        for _ in range(holders):
            create(BudgetHolderFactory(), stream, navigator, starts_on=date(2026, 4, 29))
        instalments_post_due(on=date(2026, 5, 27))  # two each, none told yet
        told, batch_size = 2 * holders, 5

        with CaptureQueriesContext(connection) as queries:
            result = plan_instalments_post_due(on=date(2026, 5, 27), batch_size=batch_size)

        assert result.entries_recorded == told
        batches = -(-told // batch_size)
        # The posting run (nothing due: one read), per batch the keyset read and one lookup of what is told,
        # the last empty read, and per instalment told: lock, look, insert and their savepoints.
        assert len(queries) <= 1 + 2 * batches + 1 + 7 * told


@pytest.mark.django_db
class TestPostDueInstalmentsCommand:
    def test_posts_tells_and_prints_the_counts(self, holder, stream, navigator, capsys):
        create(holder, stream, navigator)

        call_command("post_due_instalments", "--on", "2026-05-27")

        out = capsys.readouterr().out
        assert "3 posted, 0 already posted, 0 skipped, 0 failed; 3 timeline entries written." in out
        assert instalment_entries(holder).count() == 3

    def test_running_it_twice_writes_each_entry_once(self, holder, stream, navigator, capsys):
        create(holder, stream, navigator)
        call_command("post_due_instalments", "--on", "2026-05-27")

        call_command("post_due_instalments", "--on", "2026-05-27")

        assert "0 posted, 0 already posted, 0 skipped, 0 failed; 0 timeline" in capsys.readouterr().out
        assert instalment_entries(holder).count() == 3
        assert Transaction.objects.count() == 3

    def test_defaults_to_today(self, holder, stream, navigator, capsys):
        create(holder, stream, navigator)

        call_command("post_due_instalments")

        # Due by 1 October 2026: blocks from 1 April to 16 September, seven of them.
        assert "Instalments due by 2026-10-01: 7 posted" in capsys.readouterr().out

    def test_refuses_a_date_it_cannot_read(self):
        with pytest.raises(CommandError, match="YYYY-MM-DD"):
            call_command("post_due_instalments", "--on", "27/05/2026")

    def test_refuses_a_batch_size_below_one(self):
        with pytest.raises(CommandError, match="at least 1"):
            call_command("post_due_instalments", "--batch-size", "0")

    def test_fails_when_an_instalment_could_not_be_posted(self, holder, stream, navigator, capsys):
        create(holder, stream, navigator)
        period_close(closed_through=date(2026, 4, 30), closed_by="finance")

        with pytest.raises(CommandError, match="1 instalments could not be posted"):
            call_command("post_due_instalments", "--on", "2026-05-27")

        assert "closed" in capsys.readouterr().err


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
class TestConcurrentRuns:
    def test_runs_at_once_tell_each_instalment_once(self, stream, navigator):
        holders = [BudgetHolderFactory() for _ in range(3)]
        for holder in holders:
            create(holder, stream, navigator)

        results = run_in_threads(4, lambda index: plan_instalments_post_due(on=END, batch_size=5))

        assert all(result.failed == [] for result in results), results
        assert sum(result.posting.posted for result in results) == 42
        assert sum(result.entries_recorded for result in results) == 42
        assert instalment_entries().count() == 42
        assert len(set(instalment_entries().values_list("detail__instalment", flat=True))) == 42
