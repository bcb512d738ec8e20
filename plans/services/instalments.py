"""Instalments falling due, posted to the ledger by `budgets` and told to the person on their timeline.

`plan_instalments_post_due(on=...)` runs `budgets.services.personal_budgets.instalments_post_due` (one
database transaction per instalment) and then writes one `shared` timeline entry per instalment posted, of
the instalment's stream (so that stream's agency officers see it too):

    for the person: "£947.07 from Adult Social Care is due to you on 15 May 2026"
    for staff:      "Adult Social Care instalment 2 of pb_... fell due on 15 May 2026: 947.07 GBP for
                     1 May 2026 to 28 May 2026 (ledger txn_...)"

Each entry is its own transaction, written right after the posting run; it locks the instalment and first
looks for an entry that names it (`detail["instalment"]`), so an instalment is told once however often, or
however many at once, the run happens. Because the posting and the telling are separate transactions, a run
stopped between them would leave instalments posted but untold; so every run also catches up the
instalments that fell due in the `CATCH_UP_DAYS` days up to `on` and have no entry yet (bounded: a keyset
walk of those instalments, a batch at a time, one query per batch to find the ones already told).

An instalment of zero (a budget of a few pennies split many ways) is not told: there is nothing to tell.
An entry is dated at the start of the instalment's due day (or now, if that is still to come), so that a
run that catches up several instalments shows each one where it belongs in the person's history.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from budgets.models import Instalment
from budgets.services.personal_budgets import (
    DEFAULT_BATCH_SIZE,
    POSTED_STATUSES,
    InstalmentPostingResult,
    instalments_post_due,
)
from ledger.money import money_format
from plans.models import TimelineEntry, TimelineVisibility
from plans.selectors.timeline import INSTALMENT_DUE_KIND, timeline_instalments_recorded
from plans.services.timeline import timeline_record
from plans.wording import date_display, money_display

CATCH_UP_DAYS = 35


@dataclass
class PlanInstalmentPostingResult:
    """What `plan_instalments_post_due` did: the ledger posting run, and the timeline entries it wrote."""

    posting: InstalmentPostingResult
    entries_recorded: int = 0

    @property
    def failed(self) -> list[tuple[str, str]]:
        return self.posting.failed


def plan_instalments_post_due(
    *, on: date, batch_size: int = DEFAULT_BATCH_SIZE
) -> PlanInstalmentPostingResult:
    """Post every instalment due on or before `on` to the ledger, and tell each person on their timeline.

    Raises what `instalments_post_due` raises for a bad day (InvalidPersonalBudget); an instalment the
    ledger refuses is in `result.failed` and is not told.
    """
    posting = instalments_post_due(on=on, batch_size=batch_size)
    result = PlanInstalmentPostingResult(posting=posting)
    posted = posting.posted_instalments
    for start in range(0, len(posted), batch_size):
        chunk = Instalment.objects.filter(public_id__in=posted[start : start + batch_size])
        result.entries_recorded += _tell_batch(
            list(chunk.values_list("pk", "public_id", "personal_budget__budget_holder_id"))
        )
    recent = Instalment.objects.filter(
        status__in=POSTED_STATUSES,
        due_on__gte=on - timedelta(days=CATCH_UP_DAYS),
        due_on__lte=on,
        amount_minor__gt=0,
    )
    last_id = 0
    while True:
        batch = list(
            recent.filter(pk__gt=last_id)
            .order_by("pk")
            .values_list("pk", "public_id", "personal_budget__budget_holder_id")[:batch_size]
        )
        if not batch:
            return result
        result.entries_recorded += _tell_batch(batch)
        last_id = batch[-1][0]


def _tell_batch(batch: list[tuple[int, str, int]]) -> int:
    """Write the entries missing for a batch of (pk, public id, budget holder pk); returns how many."""
    told = timeline_instalments_recorded(
        budget_holder_ids=sorted({holder_id for _, _, holder_id in batch}),
        instalment_public_ids=[public_id for _, public_id, _ in batch],
    )
    return sum(_instalment_tell(pk) for pk, public_id, _ in batch if public_id not in told)


@transaction.atomic
def _instalment_tell(instalment_id: int) -> bool:
    """Write one instalment's entry under its row lock, unless it has one; returns whether it wrote one."""
    instalment = (
        Instalment.objects.select_for_update(of=("self",))
        .select_related("personal_budget__stream", "personal_budget__budget_holder")
        .get(pk=instalment_id)
    )
    if instalment.status not in POSTED_STATUSES or instalment.amount_minor == 0:
        return False
    budget = instalment.personal_budget
    if TimelineEntry.objects.filter(
        budget_holder_id=budget.budget_holder_id,
        kind=INSTALMENT_DUE_KIND,
        detail__instalment=instalment.public_id,
    ).exists():
        return False
    stream, currency = budget.stream, budget.currency
    due = date_display(instalment.due_on)
    amount = money_format(instalment.amount_minor, currency=currency)
    ledger = f" (ledger {instalment.ledger_transaction})" if instalment.ledger_transaction else ""
    timeline_record(
        budget_holder=budget.budget_holder,
        kind=INSTALMENT_DUE_KIND,
        for_person=(
            f"{money_display(instalment.amount_minor, currency=currency)} from {stream.name} is due to you "
            f"on {due}"
        ),
        for_staff=(
            f"{stream.name} instalment {instalment.sequence} of {budget.public_id} fell due on {due}: "
            f"{amount} {currency} for {date_display(instalment.covers_from)} to "
            f"{date_display(instalment.covers_to)}{ledger}"
        ),
        visibility=TimelineVisibility.SHARED,
        stream=stream,
        detail={
            "instalment": instalment.public_id,
            "personal_budget": budget.public_id,
            "sequence": instalment.sequence,
            "amount": amount,
            "currency": currency,
            "due_on": instalment.due_on.isoformat(),
            "covers_from": instalment.covers_from.isoformat(),
            "covers_to": instalment.covers_to.isoformat(),
            "ledger_transaction": instalment.ledger_transaction,
        },
        at=min(timezone.now(), timezone.make_aware(datetime.combine(instalment.due_on, time.min))),
    )
    return True
