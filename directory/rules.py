"""The directory's stale-listing rules, defined once: a service not reviewed for 6 months is flagged to its
provider, and one not reviewed for 12 is left out of suggestions for plans.

A service's `assured_date` is the day it was last reviewed; one never reviewed (no date) is stale and hidden.
The cut-offs are calendar months back from `today` (dateutil's `relativedelta`, so 31 August less 6 months
is 28 or 29 February). A service reviewed on the cut-off day itself is still fresh.
"""

from datetime import date

from dateutil.relativedelta import relativedelta
from django.db.models import Q

from directory.models import Service, ServiceStatus

REVIEW_MONTHS = 6
SUGGESTION_MONTHS = 12


def review_due_before(today: date) -> date:
    """A service last reviewed before this day needs a review (today less 6 calendar months)."""
    return today - relativedelta(months=REVIEW_MONTHS)


def suggestion_cutoff(today: date) -> date:
    """A service last reviewed before this day is hidden from suggestions (today less 12 calendar months)."""
    return today - relativedelta(months=SUGGESTION_MONTHS)


def review_due_on(assured_date: date | None) -> date | None:
    """The day a service reviewed on `assured_date` becomes stale (None: never reviewed, stale already)."""
    if assured_date is None:
        return None
    return assured_date + relativedelta(months=REVIEW_MONTHS)


def hidden_from_suggestions_on(assured_date: date | None) -> date | None:
    """The day a service reviewed on `assured_date` is left out of suggestions (None: it already is)."""
    if assured_date is None:
        return None
    return assured_date + relativedelta(months=SUGGESTION_MONTHS)


def is_stale(service: Service, today: date) -> bool:
    """Whether the service needs a review: never reviewed, or not in the last 6 months."""
    return service.assured_date is None or service.assured_date < review_due_before(today)


def is_hidden_from_suggestions(service: Service, today: date) -> bool:
    """Whether the service is left out of suggestions: not active, or not reviewed in the last 12 months."""
    return not (
        service.status == ServiceStatus.ACTIVE
        and service.assured_date is not None
        and service.assured_date >= suggestion_cutoff(today)
    )


def stale_q(today: date) -> Q:
    """`Service` filter of the services that need a review (the same rule as `is_stale`)."""
    return Q(assured_date__isnull=True) | Q(assured_date__lt=review_due_before(today))


def suggestable_q(today: date) -> Q:
    """`Service` filter of the services that may be suggested: active and reviewed in the last 12 months."""
    return Q(status=ServiceStatus.ACTIVE, assured_date__gte=suggestion_cutoff(today))
