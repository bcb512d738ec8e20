"""Costing a package of services against the rate catalogue: its cash equivalent, saved nowhere.

`cash_equivalent_calculate` resolves each item of a request against the catalogue as it stands on the
period's start (a `service_code` brings its stream, unit, unit cost and on-cost rules; an item with its own
`stream`, `unit_cost` and `unit` uses that stream), gathers each stream's rules (contingency, contribution,
stream-wide on-costs) and hands everything to the pure calculator in `budgets.calculator`. It reads a fixed
number of queries whatever the number of items (three for the services, one for the streams, one per
stream for its on-costs) and writes nothing.

Every problem is found at once and raised together as `CashEquivalentInvalid` (422), whose `errors` lists
each as {code, pointer, detail}; the pointer is a JSON pointer into the request body. The codes are stable:

| code | pointer (i: item, j: split part) | when |
| --- | --- | --- |
| `no_items` | `/items` | there is nothing to cost |
| `period_end_before_start` | `/period/end` | the period ends before it starts |
| `unknown_service` | `/items/i/service_code` | no active catalogue service has that code |
| `rate_not_valid` | `/items/i/service_code` | the service has no rate on the period's start |
| `unknown_stream` | `/items/i/stream`, `.../split/...` | no funding stream has that code |
| `stream_inactive` | where the stream is named | the stream is closed (not active) |
| `currency_mismatch` | where the stream is named | it pays in another currency than the package's |
| `unknown_currency` | where the stream is named | its currency is not one Purse knows (a catalogue fault) |
| `invalid_quantity` | `/items/i/quantity` | zero, negative, more than 2 decimals, or 100000 or more |
| `invalid_amount` | `/items/i/unit_cost`, `.../split/cap/amount`, `/contribution/amount` | not exactly the |
| | | currency's decimals ("85.7"), negative, or too large |
| `invalid_percent` | `/items/i/split/percent/j/percent` | not above 0 and at most 100, or over 4 decimals |
| `split_percent_not_100` | `/items/i/split/percent` | a split's percentages do not add up to exactly 100 |
| `split_stream_repeated` | `.../split/percent/j/stream`, `.../split/rest` | a split names a stream twice |
| `contribution_not_charged` | `/contribution` | a contribution, but no stream in the package charges one |

The package's currency is that of the first stream named (in item order); amounts are read in the currency
of the stream they belong to (a unit cost in its item's stream's, a cap in the capped stream's, the
contribution in the package's).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from budgets.calculator import (
    CapSplit,
    CashEquivalent,
    CashEquivalentInvalid,
    Contribution,
    Item,
    OnCost,
    PercentSplit,
    Period,
    Problem,
    StreamRules,
    amount_problems,
    cash_equivalent_compute,
    contribution_problems,
    item_streams,
    period_problems,
    quantity_problems,
    split_problems,
    unknown_stream_problem,
)
from budgets.models import FundingStream, OnCostKind, OnCostRule, Per
from budgets.selectors.catalogue import RatedService, services_rated_on, stream_on_cost_rules_on
from ledger.money import InvalidAmount, UnknownCurrency, currency_exponent, money_parse

__all__ = [
    "CapSplitRequest",
    "CashEquivalentInvalid",
    "CashEquivalentRequest",
    "ContributionRequest",
    "ItemRequest",
    "PercentSplit",
    "cash_equivalent_calculate",
]


@dataclass(frozen=True)
class CapSplitRequest:
    """`stream` pays up to `amount` (money text, in its currency) each `per`; `rest` pays the rest."""

    stream: str
    amount: str
    per: Per
    rest: str


@dataclass(frozen=True)
class ItemRequest:
    """An item: a catalogue `service_code`, or its own `stream`, `description`, `unit_cost` (text), `unit`."""

    quantity: Decimal
    per: Per
    service_code: str | None = None
    stream: str | None = None
    description: str = ""
    unit_cost: str | None = None
    unit: str | None = None
    split: PercentSplit | CapSplitRequest | None = None


@dataclass(frozen=True)
class ContributionRequest:
    """The person's assessed contribution: `amount` (money text, in the package's currency) each `per`."""

    amount: str
    per: Per


@dataclass(frozen=True)
class CashEquivalentRequest:
    """A package to cost over a period, `start` and `end` both included."""

    start: date
    end: date
    items: tuple[ItemRequest, ...]
    contribution: ContributionRequest | None = None


def cash_equivalent_calculate(*, request: CashEquivalentRequest) -> CashEquivalent:
    """Cost a package against the catalogue on the period's start; saves nothing.

    Raises CashEquivalentInvalid listing every problem (codes in the module docstring).
    """
    resolver = _Resolver(request)
    items = resolver.items()
    contribution = resolver.contribution(items)
    if resolver.problems:
        raise CashEquivalentInvalid(resolver.problems)
    assert resolver.currency is not None  # at least one item resolved, so a stream set the currency
    return cash_equivalent_compute(
        period=Period(request.start, request.end),
        items=items,
        contribution=contribution,
        rules=resolver.rules(items),
        currency=resolver.currency,
    )


class _Resolver:
    """Turns a request into the calculator's inputs, noting every problem on the way."""

    def __init__(self, request: CashEquivalentRequest) -> None:
        self.request = request
        self.on = request.start
        self.problems: list[Problem] = period_problems(Period(request.start, request.end))
        self.currency: str | None = None  # the package's: that of the first stream named
        self.all_resolved = True
        self.rated = services_rated_on(
            service_codes=[item.service_code for item in request.items if item.service_code], on=self.on
        )
        self.streams = _streams_by_code(
            [code for item in request.items for code in _named_stream_codes(item)]
        )
        for rated in self.rated.values():
            if rated is not None:
                self.streams[rated.service.stream.code] = rated.service.stream

    def items(self) -> list[Item]:
        if not self.request.items:
            self.problems.append(Problem("no_items", "/items", "Add at least one item to cost."))
        items = []
        for index, item_request in enumerate(self.request.items):
            item = self._item(item_request, at=f"/items/{index}")
            if item is None:
                self.all_resolved = False
            else:
                items.append(item)
        return items

    def contribution(self, items: list[Item]) -> Contribution | None:
        asked = self.request.contribution
        if asked is None:
            return None
        amount = None
        if self.currency is not None:
            amount = self._money(asked.amount, currency=self.currency, at="/contribution/amount")
        # An unread amount is already reported; 0 stands in for it so that the other check still runs.
        contribution = Contribution(amount_minor=amount if amount is not None else 0, per=asked.per)
        if self.all_resolved and self.currency is not None:
            # Whether a stream in the package charges one is only known once every item's streams are.
            charges = {
                code: StreamRules(charges_contribution=stream.charges_contribution)
                for code, stream in self.streams.items()
            }
            streams = [code for item in items for code in item_streams(item)]
            self.problems.extend(
                contribution_problems(contribution, streams=streams, rules=charges, currency=self.currency)
            )
        elif amount is not None and self.currency is not None:
            self.problems.extend(
                amount_problems(
                    amount, at="/contribution/amount", currency=self.currency, what="The contribution"
                )
            )
        return contribution

    def rules(self, items: list[Item]) -> dict[str, StreamRules]:
        codes = sorted({code for item in items for code in (item.stream, *item_streams(item))})
        return {code: _stream_rules(self.streams[code], on=self.on) for code in codes}

    # Items ---------------------------------------------------------------------------------------------

    def _item(self, asked: ItemRequest, *, at: str) -> Item | None:
        self.problems.extend(quantity_problems(asked.quantity, at=f"{at}/quantity"))
        resolved = self._catalogue_item(asked, at=at) if asked.service_code else self._own_item(asked, at=at)
        split = self._split(asked.split, at=f"{at}/split") if asked.split is not None else None
        if resolved is None or (asked.split is not None and split is None):
            return None
        stream, unit_cost_minor, unit, description, on_costs = resolved
        return Item(
            stream=stream,
            unit_cost_minor=unit_cost_minor,
            unit=unit,
            quantity=asked.quantity,
            per=asked.per,
            description=description,
            service_code=asked.service_code,
            on_costs=on_costs,
            split=split,
            ref=at,
        )

    def _catalogue_item(
        self, asked: ItemRequest, *, at: str
    ) -> tuple[str, int, str, str, tuple[OnCost, ...]] | None:
        code = asked.service_code
        pointer = f"{at}/service_code"
        if code not in self.rated:
            self.problems.append(
                Problem(
                    "unknown_service",
                    pointer,
                    f"There is no service {code!r} in any rate catalogue: check the code against the "
                    "stream's catalogue (GET /api/v1/streams/{code}/services/).",
                )
            )
            return None
        rated: RatedService | None = self.rated[code]
        if rated is None:
            self.problems.append(
                Problem(
                    "rate_not_valid",
                    pointer,
                    f"Service {code} has no rate on {self.on.isoformat()}, the start of the period: choose a "
                    "period that starts when the service has a rate, or give the item its own unit cost.",
                )
            )
            return None
        service = rated.service
        if not self._stream_usable(service.stream, at=pointer):
            return None
        description = asked.description or service.description
        on_costs = tuple(_on_cost(rule) for rule in rated.on_cost_rules)
        return service.stream.code, rated.rate.unit_cost_minor, service.unit, description, on_costs

    def _own_item(
        self, asked: ItemRequest, *, at: str
    ) -> tuple[str, int, str, str, tuple[OnCost, ...]] | None:
        code = asked.stream or ""
        stream = self.streams.get(code)
        if stream is None:
            self.problems.append(unknown_stream_problem(code, at=f"{at}/stream"))
            return None
        usable = self._stream_usable(stream, at=f"{at}/stream")
        unit_cost = self._money(asked.unit_cost or "", currency=stream.currency, at=f"{at}/unit_cost")
        if unit_cost is not None:
            self.problems.extend(
                amount_problems(
                    unit_cost, at=f"{at}/unit_cost", currency=stream.currency, what="The unit cost"
                )
            )
        if not usable or unit_cost is None:
            return None
        return stream.code, unit_cost, asked.unit or "", asked.description, ()

    def _split(self, asked: PercentSplit | CapSplitRequest, *, at: str) -> PercentSplit | CapSplit | None:
        known = frozenset(self.streams)
        currency = self.currency
        if isinstance(asked, PercentSplit):
            split: PercentSplit | CapSplit = asked
            named = [
                (stream, f"{at}/percent/{index}/stream") for index, (stream, _) in enumerate(asked.parts)
            ]
            cap_read = True
        else:
            capped = self.streams.get(asked.stream)
            if capped is not None and _known_currency(capped.currency):
                currency = capped.currency
            cap_minor = None
            if currency is not None:
                cap_minor = self._money(asked.amount, currency=currency, at=f"{at}/cap/amount")
            cap_read = cap_minor is not None
            # An unread cap is already reported; 0 stands in for it so that the other checks still run.
            split = CapSplit(asked.stream, cap_minor if cap_minor is not None else 0, asked.per, asked.rest)
            named = [(asked.stream, f"{at}/cap/stream"), (asked.rest, f"{at}/rest")]
        before = len(self.problems)
        # The currency only words the message of a cap that is too large; any known one will do otherwise.
        self.problems.extend(split_problems(split, at=at, known_streams=known, currency=currency or "GBP"))
        usable = [
            self._stream_usable(self.streams[code], at=pointer) for code, pointer in named if code in known
        ]
        if len(self.problems) > before or not all(usable) or not cap_read:
            return None
        return split

    # Streams, currency and money -----------------------------------------------------------------------

    def _stream_usable(self, stream: FundingStream, *, at: str) -> bool:
        """Whether a stream can pay for this package: active, in a known currency, the package's currency."""
        if not stream.is_active:
            self.problems.append(
                Problem(
                    "stream_inactive",
                    at,
                    f"Funding stream {stream.code} ({stream.name}) is closed: choose a stream that is open.",
                )
            )
            return False
        if not _known_currency(stream.currency):
            self.problems.append(
                Problem(
                    "unknown_currency",
                    at,
                    f"Funding stream {stream.code} pays in {stream.currency!r}, a currency Purse does not "
                    "know: ask an administrator to correct the stream.",
                )
            )
            return False
        if self.currency is None:
            self.currency = stream.currency
        elif stream.currency != self.currency:
            self.problems.append(
                Problem(
                    "currency_mismatch",
                    at,
                    f"Funding stream {stream.code} pays in {stream.currency}, but this package is costed in "
                    f"{self.currency} (the currency of its first stream): cost each currency's items "
                    "separately.",
                )
            )
            return False
        return True

    def _money(self, text: str, *, currency: str, at: str) -> int | None:
        try:
            return money_parse(text, currency=currency)
        except InvalidAmount as error:
            self.problems.append(Problem("invalid_amount", at, error.message))
            return None


def _named_stream_codes(item: ItemRequest) -> list[str]:
    codes = [item.stream] if item.stream and not item.service_code else []
    if isinstance(item.split, PercentSplit):
        codes.extend(stream for stream, _ in item.split.parts)
    elif isinstance(item.split, CapSplitRequest):
        codes.extend((item.split.stream, item.split.rest))
    return codes


def _streams_by_code(codes: Iterable[str]) -> dict[str, FundingStream]:
    """The named streams that exist, by code, in one query."""
    wanted = set(codes)
    if not wanted:
        return {}
    return {stream.code: stream for stream in FundingStream.objects.filter(code__in=wanted)}


def _known_currency(currency: str) -> bool:
    try:
        currency_exponent(currency)
    except UnknownCurrency:
        return False
    return True


def _on_cost(rule: OnCostRule) -> OnCost:
    return OnCost(
        name=rule.name,
        kind=OnCostKind(rule.kind),
        percent=rule.percent,
        amount_minor_per_year=rule.amount_minor_per_year,
    )


def _stream_rules(stream: FundingStream, *, on: date) -> StreamRules:
    return StreamRules(
        contingency_percent=Decimal(stream.contingency_percent),
        charges_contribution=stream.charges_contribution,
        on_costs=tuple(_on_cost(rule) for rule in stream_on_cost_rules_on(stream=stream, on=on)),
    )
