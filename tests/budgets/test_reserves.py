"""Legitimate reserves (issue 9, surplus audit): money set aside for a known cost, by the person's navigator
or finance, never more than the person holds; released, never deleted; each change audited."""

from datetime import date

import pytest
from django.db import connection

from budgets import accounts
from budgets.models import LegitimateReserve
from budgets.services import reserves
from ledger.models import AccountType, Side
from ledger.services import PostingSpec, transaction_post
from people.models import AuditEvent
from tests.budgets.factories import FundingStreamFactory
from tests.concurrency import run_in_threads
from tests.ledger.factories import AccountFactory
from tests.people.factories import (
    AgencyOfficerFactory,
    BudgetHolderFactory,
    FinanceOfficerFactory,
    NavigatorFactory,
    ProviderUserFactory,
    RepresentativeFactory,
)

pytestmark = pytest.mark.django_db


def fund(holder, stream, amount_minor, *, key="in"):
    """Put money in the person's funds account for the stream (an instalment, as far as the ledger goes)."""
    funds = accounts.person_funds_account(
        budget_holder_public_id=holder.public_id, stream_code=stream.code, currency=stream.currency
    )
    agency = AccountFactory(type=AccountType.ASSET, allow_negative=True)
    transaction_post(
        idempotency_key=key,
        currency=stream.currency,
        effective_on=date(2026, 4, 1),
        description="Instalment",
        postings=[
            PostingSpec(account=agency, side=Side.DEBIT, amount_minor=amount_minor),
            PostingSpec(account=funds, side=Side.CREDIT, amount_minor=amount_minor),
        ],
    )
    return funds


@pytest.fixture
def world():
    holder = BudgetHolderFactory()
    stream = FundingStreamFactory(code="ASC")
    fund(holder, stream, 100_000)
    return holder, stream


class TestSettingAReserve:
    def test_the_navigator_sets_aside_money_and_it_is_audited(self, world):
        holder, stream = world

        reserve = reserves.reserve_set(
            budget_holder=holder,
            stream=stream,
            amount_minor=30_000,
            reason="  Holiday pay for my personal assistant ",
            by=holder.navigator,
        )

        assert reserve.public_id.startswith("rsv_")
        assert (reserve.amount_minor, reserve.currency, reserve.reason, reserve.entered_by) == (
            30_000,
            "GBP",
            "Holiday pay for my personal assistant",
            holder.navigator,
        )
        assert reserves.reserves_open_minor(budget_holder=holder, stream=stream) == 30_000
        [audit] = AuditEvent.objects.filter(action="reserve.set")
        assert (audit.actor, audit.object_id, audit.detail["amount_minor"]) == (
            holder.navigator,
            reserve.public_id,
            30_000,
        )

    def test_finance_may_set_one_too(self, world):
        holder, stream = world
        reserve = reserves.reserve_set(
            budget_holder=holder, stream=stream, amount_minor=1, reason="Repair", by=FinanceOfficerFactory()
        )
        assert reserve.amount_minor == 1

    @pytest.mark.parametrize(
        "who",
        [
            "another navigator",
            "the budget holder",
            "a representative",
            "an agency officer",
            "a provider",
        ],
    )
    def test_anyone_else_may_not_and_nothing_changes(self, world, who):
        holder, stream = world
        by = {
            "another navigator": lambda: NavigatorFactory(),
            "the budget holder": lambda: holder.user,
            "a representative": lambda: RepresentativeFactory(budget_holder=holder).user,
            "an agency officer": lambda: AgencyOfficerFactory(),
            "a provider": lambda: ProviderUserFactory(),
        }[who]()

        with pytest.raises(reserves.NotAllowedToSetReserve) as raised:
            reserves.reserve_set(budget_holder=holder, stream=stream, amount_minor=100, reason="x", by=by)

        assert (raised.value.code, raised.value.http_status) == ("not_allowed_to_set_reserve", 403)
        assert not LegitimateReserve.objects.exists()
        assert not AuditEvent.objects.filter(action="reserve.set").exists()

    @pytest.mark.parametrize(
        "amount, reason, field, message",
        [
            (0, "Repair", "amount", "The amount set aside must be more than nothing."),
            (-5, "Repair", "amount", "The amount set aside must be more than nothing."),
            (True, "Repair", "amount", "The amount set aside must be more than nothing."),
            (10.5, "Repair", "amount", "The amount set aside must be more than nothing."),
            (
                100,
                "   ",
                "reason",
                "Say what the money is set aside for, like holiday pay for a personal assistant.",
            ),
            (100, "x" * 501, "reason", "The reason must be 500 characters or fewer."),
        ],
    )
    def test_bad_input_is_refused_with_the_field(self, world, amount, reason, field, message):
        holder, stream = world
        with pytest.raises(reserves.InvalidReserve) as raised:
            reserves.reserve_set(
                budget_holder=holder, stream=stream, amount_minor=amount, reason=reason, by=holder.navigator
            )
        assert (raised.value.field, raised.value.message) == (field, message)
        assert not LegitimateReserve.objects.exists()

    def test_reserves_together_may_not_be_more_than_the_money_held(self, world):
        holder, stream = world
        reserves.reserve_set(
            budget_holder=holder,
            stream=stream,
            amount_minor=60_000,
            reason="Holiday pay",
            by=holder.navigator,
        )

        with pytest.raises(reserves.InvalidReserve) as raised:
            reserves.reserve_set(
                budget_holder=holder, stream=stream, amount_minor=40_001, reason="Repair", by=holder.navigator
            )

        assert raised.value.field == "amount"
        assert raised.value.message.endswith(
            "holds 1000.00 GBP of ASC money, 600.00 of it already set aside, so at most 400.00 more can be "
            "set aside."
        )
        exactly = reserves.reserve_set(
            budget_holder=holder, stream=stream, amount_minor=40_000, reason="Repair", by=holder.navigator
        )
        assert exactly.amount_minor == 40_000
        assert reserves.reserves_open_minor(budget_holder=holder, stream=stream) == 100_000

    def test_a_person_with_no_money_for_the_stream_can_set_nothing_aside(self, world):
        holder, _ = world
        other = FundingStreamFactory(code="ATW")
        with pytest.raises(reserves.InvalidReserve):
            reserves.reserve_set(
                budget_holder=holder, stream=other, amount_minor=1, reason="Repair", by=holder.navigator
            )


class TestReleasingAReserve:
    def test_released_with_who_when_and_why_and_no_longer_counted(self, world):
        holder, stream = world
        reserve = reserves.reserve_set(
            budget_holder=holder,
            stream=stream,
            amount_minor=30_000,
            reason="Holiday pay",
            by=holder.navigator,
        )
        finance = FinanceOfficerFactory()

        released = reserves.reserve_release(reserve=reserve, by=finance, reason=" Paid in August ")

        assert (released.released_by, released.release_reason) == (finance, "Paid in August")
        assert released.released_at is not None
        assert LegitimateReserve.objects.filter(pk=reserve.pk).exists()  # kept
        assert reserves.reserves_open_minor(budget_holder=holder, stream=stream) == 0
        assert AuditEvent.objects.filter(action="reserve.released", object_id=reserve.public_id).count() == 1

        with pytest.raises(reserves.ReserveAlreadyReleased):
            reserves.reserve_release(reserve=reserve, by=finance, reason="Again")

    def test_only_the_navigator_or_finance_and_with_a_reason(self, world):
        holder, stream = world
        reserve = reserves.reserve_set(
            budget_holder=holder,
            stream=stream,
            amount_minor=30_000,
            reason="Holiday pay",
            by=holder.navigator,
        )
        with pytest.raises(reserves.NotAllowedToSetReserve):
            reserves.reserve_release(reserve=reserve, by=holder.user, reason="Spent")
        with pytest.raises(reserves.InvalidReserve) as raised:
            reserves.reserve_release(reserve=reserve, by=holder.navigator, reason="")
        assert raised.value.field == "reason"
        assert LegitimateReserve.objects.get(pk=reserve.pk).released_at is None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_reserves_set_at_once_never_add_up_to_more_than_the_money_held():
    assert connection.vendor == "postgresql"
    holder = BudgetHolderFactory()
    stream = FundingStreamFactory(code="ASC")
    fund(holder, stream, 100_000)

    results = run_in_threads(
        2,
        lambda index: reserves.reserve_set(
            budget_holder=holder,
            stream=stream,
            amount_minor=60_000,
            reason="Holiday pay",
            by=holder.navigator,
        ),
    )

    assert sorted(type(result).__name__ for result in results) == ["InvalidReserve", "LegitimateReserve"]
    assert reserves.reserves_open_minor(budget_holder=holder, stream=stream) == 60_000
