"""The stale-listing rules: flagged after 6 calendar months without a review, hidden from suggestions after
12, at the exact boundary days (the rules take `today`, so no clock is frozen)."""

from datetime import date

import pytest

from directory.models import Service, ServiceStatus
from directory.rules import (
    is_hidden_from_suggestions,
    is_stale,
    review_due_before,
    review_due_on,
    stale_q,
    suggestable_q,
    suggestion_cutoff,
)
from tests.directory.factories import ServiceFactory

TODAY = date(2026, 12, 4)


def _service(assured_date, status=ServiceStatus.ACTIVE) -> Service:
    return Service(name="Day centre", assured_date=assured_date, status=status)


class TestCutOffs:
    def test_review_is_due_six_calendar_months_back(self):
        assert review_due_before(TODAY) == date(2026, 6, 4)

    def test_suggestions_stop_twelve_calendar_months_back(self):
        assert suggestion_cutoff(TODAY) == date(2025, 12, 4)

    def test_month_ends_fall_on_the_last_day_of_the_shorter_month(self):
        assert review_due_before(date(2026, 8, 31)) == date(2026, 2, 28)
        assert suggestion_cutoff(date(2028, 2, 29)) == date(2027, 2, 28)

    def test_a_review_is_due_on_the_day_it_goes_stale(self):
        assert review_due_on(date(2026, 6, 4)) == date(2026, 12, 4)
        assert review_due_on(None) is None


class TestIsStale:
    def test_reviewed_on_the_cut_off_day_is_still_fresh(self):
        assert not is_stale(_service(date(2026, 6, 4)), TODAY)

    def test_reviewed_the_day_before_the_cut_off_is_stale(self):
        assert is_stale(_service(date(2026, 6, 3)), TODAY)

    def test_never_reviewed_is_stale(self):
        assert is_stale(_service(None), TODAY)

    def test_reviewed_today_is_fresh(self):
        assert not is_stale(_service(TODAY), TODAY)


class TestHiddenFromSuggestions:
    def test_reviewed_on_the_cut_off_day_is_still_suggested(self):
        assert not is_hidden_from_suggestions(_service(date(2025, 12, 4)), TODAY)

    def test_reviewed_the_day_before_the_cut_off_is_hidden(self):
        assert is_hidden_from_suggestions(_service(date(2025, 12, 3)), TODAY)

    def test_never_reviewed_is_hidden(self):
        assert is_hidden_from_suggestions(_service(None), TODAY)

    @pytest.mark.parametrize(
        "status", [ServiceStatus.INACTIVE, ServiceStatus.DEFUNCT, ServiceStatus.TEMPORARILY_CLOSED]
    )
    def test_a_service_not_active_is_hidden_however_fresh(self, status):
        assert is_hidden_from_suggestions(_service(TODAY, status=status), TODAY)

    def test_stale_but_not_yet_a_year_is_still_suggested(self):
        service = _service(date(2026, 1, 1))
        assert is_stale(service, TODAY)
        assert not is_hidden_from_suggestions(service, TODAY)


@pytest.mark.django_db
class TestQueries:
    def test_the_filters_agree_with_the_functions_at_every_boundary(self):
        days = [
            None,
            date(2025, 12, 3),
            date(2025, 12, 4),
            date(2026, 6, 3),
            date(2026, 6, 4),
            TODAY,
        ]
        services = [ServiceFactory(assured_date=day) for day in days]
        services.append(ServiceFactory(assured_date=TODAY, status=ServiceStatus.DEFUNCT))

        stale = set(Service.objects.filter(stale_q(TODAY)).values_list("pk", flat=True))
        suggestable = set(Service.objects.filter(suggestable_q(TODAY)).values_list("pk", flat=True))

        assert stale == {s.pk for s in services if is_stale(s, TODAY)}
        assert suggestable == {s.pk for s in services if not is_hidden_from_suggestions(s, TODAY)}
        assert len(stale) == 4
        assert len(suggestable) == 4
