"""Engagements: which provider delivers which support item of an active plan, at what rate, on which days.

Made by activation (`plans.services.workflow`), one per support item that names a provider:

* the engagement runs from the version's `effective_from` to the end of its period;
* the agreed rate is the item's (`agreed_rate_minor`) or, when none was agreed, the item's own unit cost or
  the catalogue rate on the day the version takes effect;
* the planned quantity is the item's quantity x its occurrences over those days (as the calculator counts
  them), rounded half up to two decimals;
* the stream shares are the item's costed amount per stream over those days: an invoiced amount is split
  between the streams in those proportions (largest remainder, so the parts add up to the amount).

The version it replaces keeps its engagements for the days before: each one still in force is cut to end
the day before the new version takes effect (its planned quantity then the item's over the days it still
covers), or, if it would then cover no day, marked replaced.
"""

from collections import defaultdict
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone

from budgets.calculator import CashEquivalent, Period, occurrences
from budgets.selectors.catalogue import RateNotValid, service_rate_on
from plans.models import Engagement, PlanVersion, SupportItem
from plans.selectors.plans import support_items_ordered

QUANTITY_PLACES = Decimal("0.01")


def engagements_refresh(*, version: PlanVersion, costing: CashEquivalent) -> list[Engagement]:
    """End the person's earlier engagements from `version.effective_from` and make the version's own.

    Called inside activation's transaction, with the version's costing from its `effective_from`.
    """
    holder_id = version.plan.budget_holder_id
    cut_to = version.effective_from - timedelta(days=1)
    earlier = Engagement.objects.current().filter(
        budget_holder_id=holder_id, ends_on__gte=version.effective_from
    )
    earlier = earlier.exclude(version=version).select_for_update()
    now = timezone.now()
    for engagement in earlier:
        if engagement.starts_on > cut_to:
            engagement.replaced_at = now
            engagement.save(update_fields=["replaced_at"])
        else:
            engagement.ends_on = cut_to
            engagement.planned_quantity = _planned_quantity(engagement)
            engagement.save(update_fields=["ends_on", "planned_quantity"])

    items = support_items_ordered(version=version)
    shares: dict[int, dict[str, int]] = defaultdict(dict)
    occurrences = {}
    for line in costing.lines:
        shares[line.item_index][line.stream] = shares[line.item_index].get(line.stream, 0) + line.amount_minor
        occurrences[line.item_index] = line.occurrences.value
    made = []
    for index, item in enumerate(items):
        if item.provider_id is None:
            continue
        rate = item.agreed_rate_minor
        if rate is None:
            rate = item.unit_cost_minor
        if rate is None and item.service is not None:
            try:
                rate = service_rate_on(service_code=item.service.service_code, on=version.effective_from).rate
                rate = rate.unit_cost_minor
            except RateNotValid:
                rate = 0
        fraction = occurrences.get(index)
        planned = item.quantity
        if fraction is not None:
            planned = item.quantity * Decimal(fraction.numerator) / Decimal(fraction.denominator)
        made.append(
            Engagement(
                budget_holder_id=holder_id,
                provider_id=item.provider_id,
                version=version,
                support_item_public_id=item.public_id,
                service_code=item.service.service_code if item.service is not None else "",
                description=item.description or (item.service.description if item.service else ""),
                unit=item.service.unit if item.service is not None else item.unit,
                currency=item.stream.currency,
                agreed_rate_minor=rate or 0,
                planned_quantity=planned.quantize(QUANTITY_PLACES, rounding=ROUND_HALF_UP),
                starts_on=version.effective_from,
                ends_on=version.ends_on,
                stream_shares=[
                    {"stream": code, "weight": weight} for code, weight in sorted(shares[index].items())
                ]
                or [{"stream": item.stream.code, "weight": 1}],
                outcome_public_ids=sorted(outcome.public_id for outcome in item.outcomes.all()),
            )
        )
    Engagement.objects.bulk_create(made)
    return made


def _planned_quantity(engagement: Engagement) -> Decimal:
    """The engagement's item's quantity x its occurrences over the engagement's days (after a cut)."""
    item = SupportItem.objects.get(
        version_id=engagement.version_id, public_id=engagement.support_item_public_id
    )
    fraction = occurrences(period=Period(engagement.starts_on, engagement.ends_on), per=item.per).value
    planned = item.quantity * Decimal(fraction.numerator) / Decimal(fraction.denominator)
    return planned.quantize(QUANTITY_PLACES, rounding=ROUND_HALF_UP)
