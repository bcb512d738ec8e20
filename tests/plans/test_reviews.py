"""Reviews of an active plan: progress on every outcome, the next review at most a year away, and bringing a
review forward when asked."""

from datetime import date

import pytest
from django.utils import timezone

from plans.models import OutcomeProgress, PlanVersionStatus, Review, TimelineEntry
from plans.services.reviews import ReviewInvalid, plan_review_bring_forward, review_record
from plans.services.versions import PlanVersionNotActive, ReasonRequired
from tests.plans.factories import OutcomeFactory, PlanVersionFactory

pytestmark = pytest.mark.django_db

TODAY = date(2026, 7, 15)


@pytest.fixture(autouse=True)
def today(monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: TODAY)
    return TODAY


@pytest.fixture
def version():
    version = PlanVersionFactory(status=PlanVersionStatus.ACTIVE, review_due_on=date(2026, 9, 1))
    OutcomeFactory(version=version, position=0, in_own_words="Get a paid job")
    OutcomeFactory(version=version, position=1, in_own_words="See my friends every week")
    return version


@pytest.fixture
def navigator(version):
    return version.plan.budget_holder.navigator


def ids(version):
    return list(version.outcomes.order_by("position").values_list("public_id", flat=True))


def errors_of(error):
    return sorted((problem["code"], problem["pointer"]) for problem in error.value.errors)


class TestReviewRecord:
    def test_records_progress_on_every_outcome_and_the_next_review_a_year_on(self, version, navigator):
        job, friends = ids(version)

        review = review_record(
            version=version,
            held_by=navigator,
            held_on=date(2026, 7, 10),
            notes="  Alex started work in June.  ",
            progress=[(job, "achieved", "Started at the library"), (friends, "some_progress", "")],
        )

        assert review.public_id.startswith("rev_")
        assert (review.held_on, review.held_by, review.notes) == (
            date(2026, 7, 10),
            navigator,
            "Alex started work in June.",
        )
        assert review.next_review_on == date(2027, 7, 10)
        progress = {
            p.outcome.public_id: (p.progress, p.note) for p in review.progress.select_related("outcome")
        }
        assert progress == {job: ("achieved", "Started at the library"), friends: ("some_progress", "")}
        version.refresh_from_db()
        assert version.review_due_on == date(2027, 7, 10)
        entry = TimelineEntry.objects.get(kind="plan.reviewed")
        assert entry.for_person == (
            f"Your plan was reviewed on 10 July 2026 with {navigator.display_name}. How you are getting on: "
            "Get a paid job: achieved; See my friends every week: some progress. Your next review is due by "
            "10 July 2027."
        )
        assert (entry.body, entry.actor) == ("Alex started work in June.", navigator)

    def test_a_sooner_next_review_may_be_set(self, version, navigator):
        job, friends = ids(version)
        review = review_record(
            version=version,
            held_by=navigator,
            held_on=TODAY,
            notes="",
            progress=[(job, "not_started", ""), (friends, "mostly_achieved", "")],
            next_review_on=date(2026, 10, 1),
        )
        assert review.next_review_on == date(2026, 10, 1)

    def test_every_problem_at_once(self, version, navigator):
        job, _ = ids(version)
        with pytest.raises(ReviewInvalid) as error:
            review_record(
                version=version,
                held_by=navigator,
                held_on=date(2026, 7, 16),
                notes="",
                progress=[
                    (job, "brilliant", ""),
                    (job, "achieved", ""),
                    ("out_nope", "achieved", ""),
                    ("not a tuple",),
                ],
                next_review_on=date(2027, 7, 17),
            )
        assert (error.value.code, error.value.http_status) == ("review_invalid", 422)
        assert errors_of(error) == sorted(
            [
                ("review_in_future", "/held_on"),
                ("next_review_too_far", "/next_review_on"),
                ("invalid_progress", "/progress/0/progress"),
                ("progress_repeated", "/progress/1/outcome"),
                ("unknown_outcome", "/progress/2/outcome"),
                ("unknown_outcome", "/progress/3/outcome"),
                ("progress_missing", "/progress"),
            ]
        )
        missing = [p for p in error.value.errors if p["code"] == "progress_missing"]
        assert "See my friends every week" in missing[0]["detail"]
        assert not Review.objects.exists() and not OutcomeProgress.objects.exists()

    def test_one_problem_names_itself(self, version, navigator):
        job, friends = ids(version)
        with pytest.raises(ReviewInvalid) as error:
            review_record(
                version=version,
                held_by=navigator,
                held_on=TODAY,
                notes="",
                progress=[(job, "achieved", ""), (friends, "achieved", "")],
                next_review_on=TODAY,
            )
        assert error.value.code == "next_review_not_after_review"
        assert errors_of(error) == [("next_review_not_after_review", "/next_review_on")]

    @pytest.mark.parametrize("status", [s for s in PlanVersionStatus.values if s != PlanVersionStatus.ACTIVE])
    def test_only_the_active_version(self, status, navigator):
        version = PlanVersionFactory(status=status)
        with pytest.raises(PlanVersionNotActive) as error:
            review_record(version=version, held_by=navigator, held_on=TODAY, notes="", progress=[])
        assert (error.value.code, error.value.http_status) == ("plan_version_not_active", 409)


class TestReviewBringForward:
    def test_brings_the_review_forward_with_a_reason(self, version, navigator):
        holder = version.plan.budget_holder.user
        changed = plan_review_bring_forward(
            version=version, due_on=date(2026, 8, 1), requested_by=holder, reason="I have lost my job."
        )
        assert changed.review_due_on == date(2026, 8, 1)
        entry = TimelineEntry.objects.get(kind="plan.review_brought_forward")
        assert entry.for_person.startswith("Your next plan review has been brought forward to 1 August 2026")
        assert (entry.body, entry.detail["was"]) == ("I have lost my job.", "2026-09-01")

    def test_only_sooner_not_in_the_past_and_with_a_reason(self, version, navigator):
        for due_on, code in (
            (date(2026, 9, 1), "review_not_sooner"),
            (date(2026, 7, 14), "review_date_in_past"),
        ):
            with pytest.raises(ReviewInvalid) as error:
                plan_review_bring_forward(version=version, due_on=due_on, requested_by=navigator, reason="x")
            assert (error.value.code, error.value.http_status) == (code, 422)
        with pytest.raises(ReasonRequired):
            plan_review_bring_forward(version=version, due_on=TODAY, requested_by=navigator, reason=" ")
        plan_review_bring_forward(
            version=version, due_on=TODAY, requested_by=navigator, reason="Today, please."
        )

    def test_only_the_active_version(self, navigator):
        with pytest.raises(PlanVersionNotActive):
            plan_review_bring_forward(
                version=PlanVersionFactory(), due_on=TODAY, requested_by=navigator, reason="x"
            )


def test_dates_must_be_dates(version, navigator):
    job, friends = ids(version)
    progress = [(job, "achieved", ""), (friends, "achieved", "")]
    with pytest.raises(ReviewInvalid) as error:
        review_record(version=version, held_by=navigator, held_on="2026-07-01", notes="", progress=progress)
    assert errors_of(error) == [("invalid_date", "/held_on")]
    with pytest.raises(ReviewInvalid) as error:
        plan_review_bring_forward(version=version, due_on="soon", requested_by=navigator, reason="x")
    assert errors_of(error) == [("invalid_date", "/due_on")]
