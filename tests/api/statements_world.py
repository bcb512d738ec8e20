"""A world for the statements API tests: the invoicing world (tests/invoicing/world.py) with money spent in
November 2026, the clock moved on to 2 December (so November is over: last month, a run's default), and
October's statement run made.

* Alex: bright-care's invoice C-1 (two lines of personal care, ASC and ILF) approved on 20 November and paid
  on 25 November; able-assist's W-1 (ATW) approved and not yet paid, so reserved at the end of November.
* Sam: funded by the Disabled Facilities Grant (DFG) only.
* October's run (`october_run`) is done: every person's and every active stream's statement is issued.

`fund_people(n)` adds `n` people with a budget from a stream and their instalments due so far posted (for
the tests of pages, CSV batches and query counts).
"""

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.test import TestCase
from rest_framework.test import APIClient

from budgets.models import FundingStream
from budgets.services.personal_budgets import instalments_post_due, personal_budget_create
from invoicing import services as invoicing_services
from people.models import BudgetHolder
from statements import services as statement_services
from statements.models import StatementRun
from statements.period import Period
from tests.invoicing.world import TODAY, InvoicingWorld, build_invoicing_world, submit
from tests.people.factories import BudgetHolderFactory

NOVEMBER = Period(date(2026, 11, 1), date(2026, 11, 30))
OCTOBER = Period(date(2026, 10, 1), date(2026, 10, 31))
DECEMBER_2 = date(2026, 12, 2)
PAID_ON = date(2026, 11, 25)

# Who sees Alex's statements (as in tests/web/roles.py), and who gets 404 as if Alex did not exist.
SEE_PERSON = ("holder", "rep_approve", "rep_view", "navigator", "finance", "admin")
NOT_SEE_PERSON = (
    "other_holder",
    "rep_revoked",
    "other_navigator",
    "officer_asc",
    "officer_atw",
    "officer_unrelated",
    "provider_engaged",
    "provider_not_engaged",
)
# Who sees the ASC stream's statements, and who does not.
SEE_ASC = ("officer_asc", "finance", "admin")
NOT_SEE_ASC = (
    "holder",
    "rep_approve",
    "navigator",
    "officer_atw",
    "officer_unrelated",
    "provider_engaged",
    "provider_not_engaged",
)
# Runs are finance officers' and administrators'.
RUN_STAFF = ("finance", "admin")
NOT_RUN_STAFF = ("holder", "rep_approve", "navigator", "officer_asc", "provider_engaged")


@dataclass
class StatementsWorld:
    invoicing: InvoicingWorld
    october_run: StatementRun

    @property
    def users(self) -> dict[str, Any]:
        return self.invoicing.users

    @property
    def alex(self) -> BudgetHolder:
        return self.invoicing.base.alex

    @property
    def sam(self) -> BudgetHolder:
        return self.invoicing.base.sam

    @property
    def clock(self) -> Any:
        return self.invoicing.clock

    def client(self, role: str) -> APIClient:
        return self.invoicing.client(role)


def build_statements_world(monkeypatch) -> StatementsWorld:
    world = build_invoicing_world(monkeypatch)
    holder = world.users["holder"]
    care = invoicing_services.invoice_approve(
        invoice=submit(world.care, number="C-1", lines=[("2026-10-03", "2.00"), ("2026-10-04", "1.50")]),
        by=holder,
    )
    invoicing_services.invoice_approve(invoice=submit(world.work, number="W-1"), by=holder)
    world.clock.today = PAID_ON
    invoicing_services.remittance_record(
        provider=world.care.provider, invoices=[care], reference="PAY-1", paid_on=PAID_ON, by=None
    )
    world.clock.today = DECEMBER_2
    # The tasks run on commit, which never comes for the tests' transaction: run them here.
    with TestCase.captureOnCommitCallbacks(execute=True):
        run, _ = statement_services.statement_run_start(period=OCTOBER, by=None)
    run.refresh_from_db()
    return StatementsWorld(invoicing=world, october_run=run)


def fund_people(n: int, *, stream_code: str = "ASC") -> list[BudgetHolder]:
    """`n` new people with a budget from the stream from October to the year's end, instalments due posted."""
    stream = FundingStream.objects.get(code=stream_code)
    people = [BudgetHolderFactory() for _ in range(n)]
    for index, person in enumerate(people):
        personal_budget_create(
            budget_holder=person,
            stream=stream,
            starts_on=date(2026, 10, 1),
            ends_on=date(2027, 3, 31),
            amount_minor=520_000 + 100 * index,
            explanation={"source": "tests"},
            created_by=None,
        )
    instalments_post_due(on=TODAY)
    return people
