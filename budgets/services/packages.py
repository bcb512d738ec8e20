"""From a costed package of services to personal budgets: one per stream, made in one transaction."""

from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction

from budgets.calculator import CashEquivalent, StreamAmount
from budgets.models import FundingStream, PersonalBudget
from budgets.services.cash_equivalents import CashEquivalentRequest, cash_equivalent_calculate
from budgets.services.personal_budgets import personal_budget_create_from_cash_equivalent
from ledger.money import money_format
from people.models import BudgetHolder


def stream_explanation(*, result: CashEquivalent, stream: StreamAmount) -> dict[str, Any]:
    """One stream's part of a calculation, as stored on its personal budget: its figures and the steps about
    it (those naming the stream, and those naming none unless they are about an item the stream has no part
    in: another agency's item is not this agency's business)."""
    money = lambda minor: money_format(minor, currency=result.currency)  # noqa: E731
    its_items = {line.item_index for line in result.lines if line.stream == stream.stream}
    return {
        "stream": stream.stream,
        "currency": result.currency,
        "period": {"start": result.period.start.isoformat(), "end": result.period.end.isoformat()},
        "subtotal": money(stream.subtotal_minor),
        "on_costs": money(stream.on_costs_minor),
        "contingency": money(stream.contingency_minor),
        "contribution": money(-stream.contribution_minor),
        "amount": money(stream.amount_minor),
        "steps": [
            {"step": step.kind, "text": step.text}
            for step in result.steps
            if step.kind != "total"
            and (
                step.stream == stream.stream
                or (step.stream is None and (step.item_index is None or step.item_index in its_items))
            )
        ],
    }


@transaction.atomic
def personal_budgets_create_from_package(
    *,
    budget_holder: BudgetHolder,
    package: CashEquivalentRequest,
    created_by: AbstractBaseUser | None,
    reason: str = "",
) -> list[PersonalBudget]:
    """Cost `package` and make a personal budget (with its instalments) for each stream it funds.

    All or nothing. Raises CashEquivalentInvalid and what `personal_budget_create` raises (for example
    personal_budget_exists when the person already has that stream's budget for the period).
    """
    result = cash_equivalent_calculate(request=package)
    streams = {
        stream.code: stream
        for stream in FundingStream.objects.filter(code__in=[s.stream for s in result.streams])
    }
    return [
        personal_budget_create_from_cash_equivalent(
            budget_holder=budget_holder,
            stream=streams[part.stream],
            starts_on=result.period.start,
            ends_on=result.period.end,
            amount_minor=part.amount_minor,
            explanation=stream_explanation(result=result, stream=part),
            created_by=created_by,
            reason=reason,
        )
        for part in result.streams
    ]
