"""Month-end statement runs: one issued statement per person with money or a budget and per active stream;
started once per period; resumed after a crash without making anything twice; a failed statement recorded,
and retried alone; issued statements kept as they were issued.

Without a broker the Celery tasks run eagerly, in the test's process, once the run's listing is committed
(`django_capture_on_commit_callbacks(execute=True)` stands in for the commit)."""

import hashlib
import io
import threading
from collections import Counter

import pytest
from pypdf import PdfReader

from budgets.models import FundingStream
from invoicing import services as invoicing_services
from ledger.models import AppendOnlyViolation
from statements import selectors, services, tasks
from statements.models import (
    IssuedStatement,
    ItemStatus,
    RunStatus,
    StatementKind,
    StatementRun,
    StatementRunItem,
)
from statements.period import month_of
from tests.concurrency import run_in_threads
from tests.invoicing.world import TODAY, build_invoicing_world, submit
from tests.people.factories import BudgetHolderFactory

pytestmark = pytest.mark.django_db
PERIOD = month_of(TODAY)


class Interrupted(BaseException):
    """The worker dies (killed, out of memory): not an Exception, so nothing on the way catches it."""


def _world(monkeypatch):
    """Alex (ASC, ILF, ATW: care paid, work approved), Sam (DFG) and Kit, who has no budget or money."""
    world = build_invoicing_world(monkeypatch)
    paid = invoicing_services.invoice_approve(
        invoice=submit(world.care, number="C-1"), by=world.users["holder"]
    )
    invoicing_services.invoice_approve(invoice=submit(world.work, number="W-1"), by=world.users["holder"])
    invoicing_services.remittance_record(
        provider=world.care.provider, invoices=[paid], reference="PAY-1", paid_on=TODAY, by=None
    )
    BudgetHolderFactory(navigator=world.users["navigator"], preferred_name="Kit")
    return world


@pytest.fixture
def world(monkeypatch):
    return _world(monkeypatch)


@pytest.fixture
def made(monkeypatch):
    """Counts of the documents made, by (kind, whose): person statements by budget holder, agency
    statements by stream code."""
    counts: Counter = Counter()
    person_document, agency_document = services.person_document, services.agency_document

    def person(*, budget_holder, period):
        counts[(StatementKind.PERSON, budget_holder.public_id)] += 1
        return person_document(budget_holder=budget_holder, period=period)

    def agency(*, stream, period):
        counts[(StatementKind.AGENCY, stream.code)] += 1
        return agency_document(stream=stream, period=period)

    monkeypatch.setattr(services, "person_document", person)
    monkeypatch.setattr(services, "agency_document", agency)
    return counts


def _start(capture):
    with capture(execute=True):
        return services.statement_run_start(period=PERIOD, by=None)


def _expected(world) -> set[tuple[str, str]]:
    people = {
        (StatementKind.PERSON, world.base.alex.public_id),
        (StatementKind.PERSON, world.base.sam.public_id),
    }
    streams = {
        (StatementKind.AGENCY, code)
        for code in FundingStream.objects.filter(is_active=True).values_list("code", flat=True)
    }
    return people | streams


def _issued() -> Counter:
    """Issued statements for the period, by (kind, whose)."""
    return Counter(
        (row.kind, row.budget_holder.public_id if row.budget_holder else row.stream.code)
        for row in IssuedStatement.objects.filter(starts_on=PERIOD.starts_on, ends_on=PERIOD.ends_on)
        .select_related("budget_holder", "stream")
        .defer("pdf")
    )


def _assert_each_once(world) -> None:
    issued = _issued()
    assert set(issued) == _expected(world)
    assert set(issued.values()) == {1}


class TestStart:
    def test_one_statement_per_person_with_money_or_a_budget_and_per_active_stream(
        self, world, made, django_capture_on_commit_callbacks
    ):
        run, created = _start(django_capture_on_commit_callbacks)

        assert created
        _assert_each_once(world)
        assert set(made) == _expected(world) and set(made.values()) == {1}
        progress = selectors.run_progress(run=run)
        assert progress.total == len(_expected(world)) == progress.done
        assert (progress.failed, progress.pending, progress.percent) == (0, 0, 100)
        run.refresh_from_db()
        assert run.status == RunStatus.DONE and run.finished_at is not None
        assert not IssuedStatement.objects.filter(budget_holder__preferred_name="Kit").exists()
        assert set(IssuedStatement.objects.values_list("run", flat=True)) == {run.pk}

    def test_starting_again_returns_the_same_run_and_issues_nothing_more(
        self, world, made, django_capture_on_commit_callbacks
    ):
        run, _ = _start(django_capture_on_commit_callbacks)
        issued = IssuedStatement.objects.count()

        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            again, created = services.statement_run_start(period=PERIOD, by=None)

        assert (again.pk, created) == (run.pk, False)
        assert callbacks == []  # nothing sent to the workers
        assert IssuedStatement.objects.count() == issued
        assert StatementRun.objects.count() == 1
        assert set(made.values()) == {1}


class TestIssuedStatement:
    def test_it_keeps_the_pdf_and_its_sha256(self, world, django_capture_on_commit_callbacks):
        _start(django_capture_on_commit_callbacks)

        for issued in IssuedStatement.objects.all():
            pdf = bytes(issued.pdf)
            assert pdf.startswith(b"%PDF-")
            assert issued.sha256 == hashlib.sha256(pdf).hexdigest()
            assert issued.pages == len(PdfReader(io.BytesIO(pdf)).pages) >= 1
        alex = IssuedStatement.objects.get(budget_holder=world.base.alex)
        document = selectors.person_document(budget_holder=world.base.alex, period=PERIOD)
        assert bytes(alex.pdf) == document.pdf.content  # the same statement again: the same bytes
        assert alex.figures == document.data

    def test_it_cannot_be_changed_or_deleted(self, world, django_capture_on_commit_callbacks):
        _start(django_capture_on_commit_callbacks)
        issued = IssuedStatement.objects.get(budget_holder=world.base.alex)

        issued.sha256 = "0" * 64
        with pytest.raises(AppendOnlyViolation):
            issued.save()
        with pytest.raises(AppendOnlyViolation):
            issued.delete()
        with pytest.raises(AppendOnlyViolation):
            IssuedStatement.objects.filter(pk=issued.pk).update(sha256="0" * 64)
        with pytest.raises(AppendOnlyViolation):
            IssuedStatement.objects.filter(pk=issued.pk).delete()
        issued.refresh_from_db()
        assert issued.sha256 == hashlib.sha256(bytes(issued.pdf)).hexdigest()

    def test_issuing_again_returns_the_one_issued(self, world, made):
        first = services.person_statement_issue(budget_holder=world.base.alex, period=PERIOD)
        again = services.person_statement_issue(budget_holder=world.base.alex, period=PERIOD)

        assert again.pk == first.pk
        assert made[(StatementKind.PERSON, world.base.alex.public_id)] == 1


class TestResume:
    def test_after_a_crash_only_the_statements_not_made_are_made(
        self, world, made, monkeypatch, django_capture_on_commit_callbacks
    ):
        make = services.run_item_make
        calls = {"n": 0}

        def dies_on_the_fourth(item_pk):
            calls["n"] += 1
            if calls["n"] == 4:
                raise Interrupted
            return make(item_pk)

        monkeypatch.setattr(services, "run_item_make", dies_on_the_fourth)
        with pytest.raises(Interrupted):
            _start(django_capture_on_commit_callbacks)
        monkeypatch.setattr(services, "run_item_make", make)

        run = StatementRun.objects.get()
        progress = selectors.run_progress(run=run)
        assert (progress.done, progress.pending, progress.failed) == (3, progress.total - 3, 0)
        assert run.status == RunStatus.RUNNING and run.finished_at is None
        done_before = set(made)
        assert len(done_before) == 3 == IssuedStatement.objects.count()

        with django_capture_on_commit_callbacks(execute=True):
            services.statement_run_resume(run=run, by=None)

        _assert_each_once(world)
        assert set(made.values()) == {1}  # the three made before the crash were not made again
        progress = selectors.run_progress(run=run)
        assert progress.done == progress.total and progress.pending == 0
        run.refresh_from_db()
        assert run.status == RunStatus.DONE

    def test_a_crash_inside_a_statement_leaves_nothing_half_made(
        self, world, monkeypatch, django_capture_on_commit_callbacks
    ):
        """The worker dies after the statement was stored, before its item was marked done: both are in
        one database transaction, so neither stays."""
        store = services._store

        def stores_then_dies(**kwargs):
            store(**kwargs)
            if kwargs.get("budget_holder") == world.base.sam:
                raise Interrupted

        monkeypatch.setattr(services, "_store", stores_then_dies)
        with pytest.raises(Interrupted):
            _start(django_capture_on_commit_callbacks)
        monkeypatch.setattr(services, "_store", store)
        assert not IssuedStatement.objects.filter(budget_holder=world.base.sam).exists()
        sams = StatementRunItem.objects.get(budget_holder=world.base.sam)
        assert sams.status == ItemStatus.PENDING and sams.issued is None

        with django_capture_on_commit_callbacks(execute=True):
            services.statement_run_resume(run=sams.run, by=None)

        _assert_each_once(world)

    def test_a_statement_delivered_twice_is_made_once(
        self, world, made, monkeypatch, django_capture_on_commit_callbacks
    ):
        monkeypatch.setattr(services, "_dispatch", lambda run_pk: None)  # the listing only
        run, _ = _start(django_capture_on_commit_callbacks)

        tasks.statement_run_dispatch.delay(run.pk)
        for item in StatementRunItem.objects.filter(run=run):  # every task delivered once more
            assert tasks.statement_run_item.delay(item.pk).get() == ItemStatus.DONE
        assert tasks.statement_run_dispatch.delay(run.pk).get() == 0  # nothing waiting

        _assert_each_once(world)
        assert set(made.values()) == {1}

    def test_a_run_with_nothing_waiting_is_not_resumed(self, world, django_capture_on_commit_callbacks):
        run, _ = _start(django_capture_on_commit_callbacks)

        with pytest.raises(services.RunNotResumable):
            services.statement_run_resume(run=run, by=None)


class TestFailures:
    def test_a_failed_statement_is_recorded_and_retried_alone(
        self, world, made, monkeypatch, django_capture_on_commit_callbacks
    ):
        person_document = services.person_document
        sam = world.base.sam

        def fails_for_sam(*, budget_holder, period):
            if budget_holder == sam:
                raise RuntimeError("the printer is on fire")
            return person_document(budget_holder=budget_holder, period=period)

        monkeypatch.setattr(services, "person_document", fails_for_sam)
        run, _ = _start(django_capture_on_commit_callbacks)

        run.refresh_from_db()
        assert run.status == RunStatus.DONE_WITH_FAILURES and run.finished_at is not None
        progress = selectors.run_progress(run=run)
        assert (progress.done, progress.failed, progress.pending) == (progress.total - 1, 1, 0)
        (failure,) = selectors.run_failures(run=run)
        assert failure.budget_holder == sam
        assert failure.error == "RuntimeError: the printer is on fire"
        assert failure.attempts == 1 and failure.issued is None
        assert not IssuedStatement.objects.filter(budget_holder=sam).exists()

        monkeypatch.setattr(services, "person_document", person_document)
        made.clear()
        with django_capture_on_commit_callbacks(execute=True):
            services.statement_run_retry(run=run, by=None)

        assert made == Counter({(StatementKind.PERSON, sam.public_id): 1})  # the others not made again
        _assert_each_once(world)
        failure.refresh_from_db()
        assert failure.status == ItemStatus.DONE and failure.attempts == 2 and failure.error == ""
        run.refresh_from_db()
        assert run.status == RunStatus.DONE
        with pytest.raises(services.RunNotResumable):
            services.statement_run_retry(run=run, by=None)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
class TestTwoWorkersAtOnce:
    def test_two_workers_making_the_same_statement_issue_it_once(self, monkeypatch):
        world = _world(monkeypatch)
        monkeypatch.setattr(services, "_dispatch", lambda run_pk: None)  # the listing only
        run, _ = services.statement_run_start(period=PERIOD, by=None)
        item = StatementRunItem.objects.get(run=run, budget_holder=world.base.alex)
        # Both workers have made the document before either stores it.
        both_made = threading.Barrier(2, timeout=60)
        person_document = services.person_document

        def made_together(**kwargs):
            document = person_document(**kwargs)
            both_made.wait()
            return document

        monkeypatch.setattr(services, "person_document", made_together)

        results = run_in_threads(2, lambda index: services.run_item_make(item.pk))

        assert results == [ItemStatus.DONE, ItemStatus.DONE]
        assert IssuedStatement.objects.filter(budget_holder=world.base.alex).count() == 1
        item.refresh_from_db()
        assert item.status == ItemStatus.DONE and item.attempts == 1
        assert item.issued == IssuedStatement.objects.get(budget_holder=world.base.alex)
