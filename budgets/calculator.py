"""The cash-equivalent calculator: what a package of services is worth over a period, per funding stream.

A pure function of its inputs (no database, no clock): `cash_equivalent_compute(period=, items=,
contribution=, rules=, currency=)` returns a `CashEquivalent` that shows every step, so that the person, their
navigator and each agency can see how each figure was reached. The same inputs always give the same result.
Money is integer minor units; arithmetic is exact (`Fraction`) and each figure is rounded once, half up, to
the currency's minor unit with `ledger.money`. No float is ever used.

Occurrences: how many times an item's `per` recurs in the period (start and end inclusive, `days` days)

| per | occurrences |
| --- | --- |
| `once` | 1 |
| `day` | days |
| `week` | days / 7 |
| `four_weeks` | days / 28 |
| `month` | whole calendar months from the start date, plus the rest of the period pro rata (below) |
| `year` | whole years from the start date, plus the rest of the period pro rata (below) |

A calendar month runs from a date to the day before the same date next month (15 April to 14 May). Months
are counted from the start date itself, so they do not drift: the n-th month starts on the start's day of
the month, n months on. Where that month has no such day (a start on the 29th to 31st), the month before
ends on its own last day and the next one starts on the 1st: from 31 January, the months are 31 January to
28 February, 1 March to 30 March, 31 March to 30 April, and so on. A year works the same way with whole
years (from 29 February the year ends on 28 February). After the whole months (or years), the remaining
days count as that fraction of the next month's (or year's) days: 15 October 2026 to 31 March 2027 is 5
whole months and 17 of the 31 days from 15 March to 14 April, 5 + 17/31 = 5.548387 months. Occurrences are
exact fractions; they are shown with 6 decimals, half up ("52.142857"), and never rounded for arithmetic.

The steps

1. Each item's amount = unit cost x quantity x occurrences, rounded once.
2. An item split between streams: by percentages (adding up to exactly 100), the amount is divided with
   `money_allocate` (largest remainder), so the parts add up to the amount exactly; by a cap, the capped
   stream pays min(amount, cap x occurrences of the cap's `per`, rounded once) and the rest stream pays the
   remainder. Each part is a line of its stream.
3. On-costs of the item (a catalogue service's rules) are computed on the whole item: a percentage of the
   item's amount, or a fixed yearly sum x the period's occurrences of `year` (once per item: per service,
   not per hour), each rounded once. On a percentage split each on-cost is divided with the same
   percentages, again with `money_allocate`. A cap covers the item's own on-costs too: after its part of the
   item, the capped stream pays the on-costs, in order, while its cap has room, and the rest stream pays
   what is left. (Dividing them in proportion to the two parts instead would let more hours cost less: a
   fixed yearly sum's capped share shrinks as the rest grows, moving money between streams whose
   contingencies differ.)
4. On-costs of a stream (rules attached to the whole stream) belong to that stream's money: they apply to
   each of the stream's lines (its part of a split item), on that line's amount, the same way.
   A fixed yearly on-cost applies only to a line that costs something (a split part of 0.00 carries none).
5. Per stream: subtotal = its lines; on-costs = its lines' on-costs; contingency = (subtotal + on-costs) x
   the stream's contingency percentage / 100, rounded once; gross = subtotal + on-costs + contingency.
6. A contribution (the person's assessed charge, an amount per `per`) is assessed as amount x occurrences,
   rounded once. It is taken only by the streams in the package that charge one, shared between them in
   proportion to their gross with `money_allocate` (equally if their gross is all zero), and a stream never
   takes more than its gross: the contribution assessed and the contribution applied are both reported.
   A contribution with no stream in the package that charges one is refused (`contribution_not_charged`).
7. Stream amount = gross - contribution applied (never below zero); total = sum of the stream amounts.

Streams are reported in stream-code order (so the order of items changes no stream figure); lines in item
order, a split item's parts in the order its split names them.

Invalid inputs are refused all at once with `CashEquivalentInvalid`, whose `errors` lists each problem as
{code, pointer, detail}; pointers follow the API's request body ("/items/2/quantity"). The checks are also
exported one by one, so that the budgets service can report them beside its catalogue problems.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from budgets.models import OnCostKind, Per
from ledger.errors import DomainError
from ledger.money import currency_exponent, minor_round, money_allocate, money_format

QUANTITY_DECIMALS = 2
QUANTITY_LIMIT = Decimal(100_000)  # a quantity must be below this
# No single amount (unit cost, cap, contribution) above this many minor units: with quantities below
# QUANTITY_LIMIT, periods up to the end of the calendar and 200 items, every figure stays well inside the
# 28 digits of the default Decimal context that `ledger.money` rounds and formats in.
AMOUNT_LIMIT_MINOR = 10**10
PERCENT_DECIMALS = 4
OCCURRENCE_DECIMALS = 6

_PER_WORDS = {
    Per.ONCE: "once",
    Per.DAY: "a day",
    Per.WEEK: "a week",
    Per.FOUR_WEEKS: "every 4 weeks",
    Per.MONTH: "a month",
    Per.YEAR: "a year",
}


# Inputs -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """The days costed, `start` and `end` both included."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


@dataclass(frozen=True)
class OnCost:
    """An on-cost rule: a percentage of a line's amount, or a fixed sum a year."""

    name: str
    kind: OnCostKind
    percent: Decimal | None = None
    amount_minor_per_year: int | None = None

    def __post_init__(self) -> None:
        # Rules come from the catalogue, whose constraints hold this already: a broken one is a bug.
        if self.kind == OnCostKind.PERCENTAGE:
            valid = (
                isinstance(self.percent, Decimal) and self.percent >= 0 and self.amount_minor_per_year is None
            )
        elif self.kind == OnCostKind.FIXED_YEARLY:
            valid = (
                isinstance(self.amount_minor_per_year, int)
                and self.amount_minor_per_year >= 0
                and self.percent is None
            )
        else:
            valid = False
        if not valid:
            raise ValueError(f"On-cost {self.name!r} does not fit its kind {self.kind!r}.")


@dataclass(frozen=True)
class PercentSplit:
    """An item divided between streams by percentages: `parts` = ((stream, percent), ...), adding to 100."""

    parts: tuple[tuple[str, Decimal], ...]


@dataclass(frozen=True)
class CapSplit:
    """An item paid by `capped_stream` up to `cap_minor` per `cap_per`, and by `rest_stream` above that."""

    capped_stream: str
    cap_minor: int
    cap_per: Per
    rest_stream: str


@dataclass(frozen=True)
class Item:
    """One item of the package: unit cost x quantity, `per` occurrence, funded by `stream` (or a split).

    `ref` is where the item came from, as a JSON pointer for problems (default "/items/<index>").
    """

    stream: str
    unit_cost_minor: int
    unit: str
    quantity: Decimal
    per: Per
    description: str = ""
    service_code: str | None = None
    on_costs: tuple[OnCost, ...] = ()
    split: PercentSplit | CapSplit | None = None
    ref: str | None = None


@dataclass(frozen=True)
class Contribution:
    """The person's assessed contribution: `amount_minor` each `per`."""

    amount_minor: int
    per: Per


@dataclass(frozen=True)
class StreamRules:
    """A stream's own rules: its contingency, whether it charges a contribution, its stream-wide on-costs."""

    contingency_percent: Decimal = Decimal(0)
    charges_contribution: bool = False
    on_costs: tuple[OnCost, ...] = ()


# Results ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Occurrences:
    """How many times a `per` recurs in a period, exactly, and how that was counted."""

    per: Per
    value: Fraction
    basis: str

    @property
    def display(self) -> str:
        """The value with 6 decimals, half up ("52.142857")."""
        return fraction_display(self.value, places=OCCURRENCE_DECIMALS)


@dataclass(frozen=True)
class OnCostCharge:
    """One on-cost on one line: its rule, what it was computed on, the whole amount and this line's share."""

    name: str
    kind: OnCostKind
    source: str  # "service": the item's own rule; "stream": a rule of the line's stream
    percent: Decimal | None
    amount_minor_per_year: int | None
    basis_minor: int | None  # the amount a percentage is taken of
    years: Fraction | None  # the period's occurrences of `year`, for a fixed yearly sum
    whole_minor: int  # the on-cost on the whole item (before a split), or on this line for a stream rule
    amount_minor: int  # this line's share
    text: str


@dataclass(frozen=True)
class SplitShare:
    """How a split line's part was reached: `kind` is percent, cap or rest."""

    kind: str
    percent: Decimal | None
    cap_minor: int | None  # the cap over the whole period
    text: str


@dataclass(frozen=True)
class Line:
    """One stream's part of one item (the whole item when it is not split)."""

    item_index: int
    stream: str
    service_code: str | None
    description: str
    unit: str
    unit_cost_minor: int
    quantity: Decimal
    per: Per
    occurrences: Occurrences
    line_amount_minor: int  # the whole item
    amount_minor: int  # this stream's part
    split: SplitShare | None
    on_costs: tuple[OnCostCharge, ...]

    @property
    def on_costs_minor(self) -> int:
        return sum(charge.amount_minor for charge in self.on_costs)


@dataclass(frozen=True)
class StreamAmount:
    """One stream's figures: subtotal + on-costs + contingency - contribution applied = amount."""

    stream: str
    subtotal_minor: int
    on_costs_minor: int
    contingency_percent: Decimal
    contingency_minor: int
    charges_contribution: bool
    contribution_assessed_minor: int  # this stream's share of the contribution assessed
    contribution_minor: int  # what it actually takes: never more than its gross

    @property
    def gross_minor(self) -> int:
        return self.subtotal_minor + self.on_costs_minor + self.contingency_minor

    @property
    def amount_minor(self) -> int:
        return self.gross_minor - self.contribution_minor


@dataclass(frozen=True)
class ContributionResult:
    """The contribution assessed over the period, and how much of it the streams take."""

    amount_minor: int
    per: Per
    occurrences: Occurrences
    assessed_minor: int
    applied_minor: int


@dataclass(frozen=True)
class Step:
    """One sentence of the explanation, with the amount it arrives at."""

    kind: str  # period, line, split, on_cost, subtotal, contingency, contribution, stream, total
    text: str
    amount_minor: int | None = None
    stream: str | None = None
    item_index: int | None = None


@dataclass(frozen=True)
class CashEquivalent:
    """A package's cash equivalent: per-stream amounts, the lines they come from and every step."""

    currency: str
    period: Period
    lines: tuple[Line, ...]
    streams: tuple[StreamAmount, ...]
    contribution: ContributionResult | None
    steps: tuple[Step, ...] = field(default=())

    @property
    def total_minor(self) -> int:
        return sum(stream.amount_minor for stream in self.streams)


# Problems -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """Why a request cannot be costed: a stable `code`, a JSON `pointer` and a plain-English `detail`."""

    code: str
    pointer: str
    detail: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "pointer": self.pointer, "detail": self.detail}


class CashEquivalentInvalid(DomainError):
    """The package cannot be costed; `errors` lists every problem as {code, pointer, detail}."""

    code = "cash_equivalent_invalid"
    message = "The package cannot be costed as it stands: see errors for each problem."
    http_status = 422

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        self.errors = [problem.as_dict() for problem in self.problems]
        if len(self.problems) == 1:
            # One problem: name it, so that the problem type says what is wrong.
            self.code = self.problems[0].code
            super().__init__(self.problems[0].detail)
        else:
            super().__init__(
                f"The package cannot be costed as it stands: {len(self.problems)} problems, "
                "see errors for each one."
            )


def period_problems(period: Period, *, at: str = "/period") -> list[Problem]:
    """Problems with the period: its end must not be before its start."""
    if period.end < period.start:
        return [
            Problem(
                "period_end_before_start",
                f"{at}/end",
                f"The period ends ({period.end.isoformat()}) before it starts ({period.start.isoformat()}): "
                "give an end date on or after the start date.",
            )
        ]
    return []


def quantity_problems(quantity: Decimal, *, at: str) -> list[Problem]:
    """Problems with a quantity: it must be above zero, below 100000, with at most 2 decimals."""
    detail = None
    if not isinstance(quantity, Decimal) or not quantity.is_finite():
        detail = 'The quantity must be a number such as "10" or "7.5".'
    elif quantity <= 0:
        detail = f"The quantity must be more than zero, not {quantity}; leave out an item that is not needed."
    elif _decimals(quantity) > QUANTITY_DECIMALS:
        detail = f'The quantity {quantity} has more than {QUANTITY_DECIMALS} decimals; round it, like "7.25".'
    elif quantity >= QUANTITY_LIMIT:
        detail = f"The quantity {quantity} is too large: it must be below {QUANTITY_LIMIT}."
    return [Problem("invalid_quantity", at, detail)] if detail else []


def amount_problems(amount_minor: int, *, at: str, currency: str, what: str = "The amount") -> list[Problem]:
    """Problems with an amount of money: it must not be negative or absurdly large."""
    if amount_minor < 0:
        return [Problem("invalid_amount", at, f"{what} cannot be negative.")]
    if amount_minor > AMOUNT_LIMIT_MINOR:
        limit = money_format(AMOUNT_LIMIT_MINOR, currency=currency)
        return [Problem("invalid_amount", at, f"{what} is too large: at most {limit} {currency}.")]
    return []


def split_problems(
    split: PercentSplit | CapSplit, *, at: str, known_streams: set[str] | frozenset[str], currency: str
) -> list[Problem]:
    """Problems with a split: streams that exist, named once; percentages above 0 that add up to 100."""
    problems: list[Problem] = []
    if isinstance(split, PercentSplit):
        seen: set[str] = set()
        all_percents_valid = True
        for index, (stream, percent) in enumerate(split.parts):
            if stream not in known_streams:
                problems.append(unknown_stream_problem(stream, at=f"{at}/percent/{index}/stream"))
            if stream in seen:
                problems.append(
                    Problem(
                        "split_stream_repeated",
                        f"{at}/percent/{index}/stream",
                        f"Stream {stream} is named more than once in this split: give each stream once.",
                    )
                )
            seen.add(stream)
            detail = _percent_problem(percent)
            if detail:
                all_percents_valid = False
                problems.append(Problem("invalid_percent", f"{at}/percent/{index}/percent", detail))
        total = sum((percent for _, percent in split.parts), Decimal(0))
        if all_percents_valid and total != 100:
            problems.append(
                Problem(
                    "split_percent_not_100",
                    f"{at}/percent",
                    f"The split's percentages add up to {_number_text(total)}, not 100: change them so "
                    "that they add up to exactly 100.",
                )
            )
        return problems
    for stream, pointer in ((split.capped_stream, f"{at}/cap/stream"), (split.rest_stream, f"{at}/rest")):
        if stream not in known_streams:
            problems.append(unknown_stream_problem(stream, at=pointer))
    if split.capped_stream == split.rest_stream:
        problems.append(
            Problem(
                "split_stream_repeated",
                f"{at}/rest",
                f"The rest is paid by {split.rest_stream}, the same stream as the cap: name another stream "
                "for the rest, or leave out the split.",
            )
        )
    problems.extend(
        amount_problems(split.cap_minor, at=f"{at}/cap/amount", currency=currency, what="The cap")
    )
    return problems


def contribution_problems(
    contribution: Contribution, *, streams: Sequence[str], rules: Mapping[str, StreamRules], currency: str
) -> list[Problem]:
    """Problems with a contribution: a sensible amount, and a stream in the package to charge it."""
    problems = amount_problems(
        contribution.amount_minor, at="/contribution/amount", currency=currency, what="The contribution"
    )
    if not any(rules[stream].charges_contribution for stream in streams if stream in rules):
        named = ", ".join(sorted(set(streams))) or "none"
        problems.append(
            Problem(
                "contribution_not_charged",
                "/contribution",
                f"No stream in this package charges a contribution (streams: {named}): leave out the "
                "contribution, or add an item funded by a stream that charges one.",
            )
        )
    return problems


def cash_equivalent_problems(
    *,
    period: Period,
    items: Sequence[Item],
    contribution: Contribution | None,
    rules: Mapping[str, StreamRules],
    currency: str,
) -> list[Problem]:
    """Every problem with the inputs, all at once (an empty list when they can be costed)."""
    currency_exponent(currency)  # an unknown currency is a configuration error, raised as UnknownCurrency
    known = frozenset(rules)
    problems = period_problems(period)
    for index, item in enumerate(items):
        at = item.ref if item.ref is not None else f"/items/{index}"
        problems.extend(quantity_problems(item.quantity, at=f"{at}/quantity"))
        problems.extend(
            amount_problems(
                item.unit_cost_minor, at=f"{at}/unit_cost", currency=currency, what="The unit cost"
            )
        )
        if item.stream not in known:
            problems.append(unknown_stream_problem(item.stream, at=f"{at}/stream"))
        if item.split is not None:
            problems.extend(
                split_problems(item.split, at=f"{at}/split", known_streams=known, currency=currency)
            )
    if contribution is not None:
        streams = [stream for item in items for stream in item_streams(item)]
        problems.extend(contribution_problems(contribution, streams=streams, rules=rules, currency=currency))
    return problems


def item_streams(item: Item) -> tuple[str, ...]:
    """The streams that pay for an item: its own, or those its split names."""
    if isinstance(item.split, PercentSplit):
        return tuple(stream for stream, _ in item.split.parts)
    if isinstance(item.split, CapSplit):
        return (item.split.capped_stream, item.split.rest_stream)
    return (item.stream,)


def unknown_stream_problem(stream: str, *, at: str) -> Problem:
    """The problem of a stream code that names no funding stream."""
    return Problem(
        "unknown_stream", at, f"There is no funding stream {stream!r}: use a stream code such as ASC or ILF."
    )


def _percent_problem(percent: Decimal) -> str | None:
    if not isinstance(percent, Decimal) or not percent.is_finite():
        return 'A percentage must be a number such as "60" or "33.5".'
    if percent <= 0 or percent > 100:
        return f"A percentage must be more than 0 and at most 100, not {_number_text(percent)}."
    if _decimals(percent) > PERCENT_DECIMALS:
        return f"The percentage {percent} has more than {PERCENT_DECIMALS} decimals."
    return None


# Arithmetic ---------------------------------------------------------------------------------------------


def _decimals(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _number_text(value: Decimal) -> str:
    """A percentage or quantity as people write it: 12.07, 5, 100."""
    return f"{value.normalize():f}"


def round_minor(value: Fraction, *, currency: str) -> int:
    """An exact amount of minor units, rounded once, half up, to a whole minor unit (with `ledger.money`).

    The value is cut (towards zero) to one decimal of the minor unit, which keeps exactly what half-up
    rounding looks at (whether the part after the minor unit is at least one half), and then rounded by
    `minor_round`.
    """
    exponent = currency_exponent(currency)
    tenths = int(value * 10)  # int() of a Fraction truncates towards zero, exactly
    return minor_round(Decimal(tenths).scaleb(-(exponent + 1)), currency=currency)


def fraction_display(value: Fraction, *, places: int) -> str:
    """An exact fraction shown with `places` decimals, half up."""
    cut = int(value * 10 ** (places + 1))  # exact, towards zero; keeps the digit that half up looks at
    rounded = Decimal(cut).scaleb(-(places + 1)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return f"{rounded:.{places}f}"


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _days_in_month(year: int, month: int) -> int:
    if month == 2:
        return 29 if _is_leap(year) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _day_number(year: int, month: int, day: int) -> int:
    """Days since a fixed epoch (Howard Hinnant's days_from_civil): works past the year 9999, unlike date."""
    year -= month <= 2
    era = year // 400
    year_of_era = year - era * 400
    day_of_year = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146097 + day_of_era


def _anchor(start: date, months: int) -> int:
    """Day number of the start of the month `months` calendar months after `start` (see the docstring)."""
    year, month_index = divmod(start.year * 12 + start.month - 1 + months, 12)
    month = month_index + 1
    # A missing day (31 April) starts the month on the 1st of the next: the one before ends on its last day.
    return _day_number(year, month, 1) + min(start.day - 1, _days_in_month(year, month))


def _calendar_occurrences(period: Period, *, step_months: int, unit: str) -> tuple[Fraction, str]:
    after_end = _day_number(period.end.year, period.end.month, period.end.day) + 1
    months_apart = (period.end.year - period.start.year) * 12 + period.end.month - period.start.month
    whole = max(0, months_apart // step_months + 1)
    while whole > 0 and _anchor(period.start, whole * step_months) > after_end:
        whole -= 1
    begins = _anchor(period.start, whole * step_months)
    span = _anchor(period.start, (whole + 1) * step_months) - begins
    remaining = after_end - begins
    plural = "" if whole == 1 else "s"
    if remaining == 0:
        return Fraction(whole), f"{whole} whole {unit}{plural}"
    part = f"{remaining} of the {span} days of the next {unit}"
    if whole == 0:
        return Fraction(remaining, span), f"{remaining} of the {span} days of a {unit}"
    return whole + Fraction(remaining, span), f"{whole} whole {unit}{plural} + {part}"


def occurrences(*, period: Period, per: Per) -> Occurrences:
    """How many times `per` recurs in the period, exactly (see the table in the module docstring)."""
    days = period.days
    if days < 1:
        raise ValueError(f"The period ends before it starts: {period}.")
    if per == Per.ONCE:
        value, basis = Fraction(1), "once"
    elif per == Per.DAY:
        value, basis = Fraction(days), f"{days} days"
    elif per == Per.WEEK:
        value, basis = Fraction(days, 7), f"{days} days ÷ 7"
    elif per == Per.FOUR_WEEKS:
        value, basis = Fraction(days, 28), f"{days} days ÷ 28"
    elif per == Per.MONTH:
        value, basis = _calendar_occurrences(period, step_months=1, unit="month")
    elif per == Per.YEAR:
        value, basis = _calendar_occurrences(period, step_months=12, unit="year")
    else:
        raise ValueError(f"Unknown per {per!r}.")
    return Occurrences(per=Per(per), value=value, basis=basis)


# The calculation ----------------------------------------------------------------------------------------


@dataclass
class _Part:
    """A stream's part of an item while it is being costed."""

    stream: str
    amount_minor: int
    split: SplitShare | None
    on_costs: list[OnCostCharge] = field(default_factory=list)


class _Explainer:
    """Collects the steps of the explanation and formats money in the package's currency."""

    def __init__(self, currency: str) -> None:
        self.currency = currency
        self.steps: list[Step] = []

    def money(self, amount_minor: int) -> str:
        return money_format(amount_minor, currency=self.currency)

    def add(
        self,
        kind: str,
        text: str,
        amount_minor: int | None = None,
        *,
        stream: str | None = None,
        item_index: int | None = None,
    ) -> None:
        self.steps.append(Step(kind, text, amount_minor, stream, item_index))


def cash_equivalent_compute(
    *,
    period: Period,
    items: Sequence[Item],
    contribution: Contribution | None,
    rules: Mapping[str, StreamRules],
    currency: str,
) -> CashEquivalent:
    """Cost a package over a period, per stream, with every step; raises CashEquivalentInvalid."""
    problems = cash_equivalent_problems(
        period=period, items=items, contribution=contribution, rules=rules, currency=currency
    )
    if problems:
        raise CashEquivalentInvalid(problems)

    explain = _Explainer(currency)
    explain.add(
        "period",
        f"The period runs from {period.start.isoformat()} to {period.end.isoformat()} inclusive: "
        f"{period.days} days.",
    )
    years = occurrences(period=period, per=Per.YEAR)
    lines: list[Line] = []
    for index, item in enumerate(items):
        lines.extend(_item_lines(item, index=index, period=period, years=years, rules=rules, explain=explain))
    streams = _stream_amounts(lines, rules=rules, explain=explain)
    contribution_result = None
    if contribution is not None:
        streams, contribution_result = _apply_contribution(
            streams, contribution, period=period, explain=explain
        )
    for stream in streams:
        explain.add(
            "stream",
            f"{stream.stream}: subtotal {explain.money(stream.subtotal_minor)}"
            f" + on-costs {explain.money(stream.on_costs_minor)}"
            f" + contingency {explain.money(stream.contingency_minor)}"
            f" - contribution {explain.money(stream.contribution_minor)}"
            f" = {explain.money(stream.amount_minor)}.",
            stream.amount_minor,
            stream=stream.stream,
        )
    total = sum(stream.amount_minor for stream in streams)
    if streams:
        sums = " + ".join(explain.money(stream.amount_minor) for stream in streams)
        explain.add("total", f"Total: {sums} = {explain.money(total)} {currency}.", total)
    else:
        explain.add("total", f"Total: {explain.money(0)} {currency}: there is nothing to cost.", 0)
    return CashEquivalent(
        currency=currency,
        period=period,
        lines=tuple(lines),
        streams=tuple(streams),
        contribution=contribution_result,
        steps=tuple(explain.steps),
    )


def _item_lines(
    item: Item,
    *,
    index: int,
    period: Period,
    years: Occurrences,
    rules: Mapping[str, StreamRules],
    explain: _Explainer,
) -> list[Line]:
    """An item's lines: its amount, divided by its split, with its own and its streams' on-costs."""
    item_occurrences = occurrences(period=period, per=item.per)
    amount = round_minor(
        item.unit_cost_minor * Fraction(item.quantity) * item_occurrences.value, currency=explain.currency
    )
    name = f"{item.description} ({item.service_code})" if item.service_code else item.description
    explain.add(
        "line",
        f"Item {index + 1}, {name}: {explain.money(item.unit_cost_minor)} per {item.unit} x "
        f"{_number_text(item.quantity)} {_PER_WORDS[item.per]} x {item_occurrences.display} "
        f"({item_occurrences.basis}) = {explain.money(amount)}.",
        amount,
        stream=item.stream if item.split is None else None,
        item_index=index,
    )
    parts = _split(item, amount, index=index, period=period, explain=explain)
    room = _cap_room(parts)
    for on_cost in item.on_costs:
        whole, text = _on_cost(on_cost, basis_minor=amount, years=years, explain=explain)
        divided = ""
        if len(parts) == 1:
            shares = [whole]
        elif room is not None:
            # A cap covers the item's own on-costs too: the capped stream pays them while its cap has room.
            within = min(whole, room)
            room -= within
            shares = [within, whole - within]
            divided = (
                f", of which {parts[0].stream} pays {explain.money(within)} within its cap and "
                f"{parts[1].stream} {explain.money(whole - within)}"
            )
        else:
            assert isinstance(item.split, PercentSplit)
            percents = [percent for _, percent in item.split.parts]
            shares = money_allocate(whole, weights=percents) if whole else [0] * len(parts)
            divided = ", divided like the item: " + ", ".join(
                f"{part.stream} {explain.money(share)}" for part, share in zip(parts, shares, strict=True)
            )
        explain.add(
            "on_cost",
            f"Item {index + 1}, on-cost {text} = {explain.money(whole)}{divided}.",
            whole,
            stream=parts[0].stream if len(parts) == 1 else None,
            item_index=index,
        )
        for part, share in zip(parts, shares, strict=True):
            part.on_costs.append(_charge(on_cost, "service", amount, years, whole, share, text))

    for part in parts:
        for on_cost in rules[part.stream].on_costs:
            whole, text = _on_cost(on_cost, basis_minor=part.amount_minor, years=years, explain=explain)
            explain.add(
                "on_cost",
                f"Item {index + 1}, {part.stream}'s on-cost {text} = {explain.money(whole)}.",
                whole,
                stream=part.stream,
                item_index=index,
            )
            part.on_costs.append(_charge(on_cost, "stream", part.amount_minor, years, whole, whole, text))

    return [
        Line(
            item_index=index,
            stream=part.stream,
            service_code=item.service_code,
            description=item.description,
            unit=item.unit,
            unit_cost_minor=item.unit_cost_minor,
            quantity=item.quantity,
            per=Per(item.per),
            occurrences=item_occurrences,
            line_amount_minor=amount,
            amount_minor=part.amount_minor,
            split=part.split,
            on_costs=tuple(part.on_costs),
        )
        for part in parts
    ]


def _split(item: Item, amount: int, *, index: int, period: Period, explain: _Explainer) -> list[_Part]:
    """The item's parts per stream: the whole item, its percentage parts, or its capped part and the rest."""
    split = item.split
    if split is None:
        return [_Part(item.stream, amount, None)]
    if isinstance(split, PercentSplit):
        percents = [percent for _, percent in split.parts]
        shares = money_allocate(amount, weights=percents)
        parts = [
            _Part(
                stream,
                share,
                SplitShare(
                    "percent",
                    percent,
                    None,
                    f"{_number_text(percent)}% of {explain.money(amount)}",
                ),
            )
            for (stream, percent), share in zip(split.parts, shares, strict=True)
        ]
        divided = ", ".join(
            f"{part.stream} {_number_text(percent)}% = {explain.money(part.amount_minor)}"
            for part, percent in zip(parts, percents, strict=True)
        )
        explain.add(
            "split",
            f"Item {index + 1} is divided by percentages (largest remainder, so the parts add up to "
            f"{explain.money(amount)}): {divided}.",
            amount,
            item_index=index,
        )
        return parts
    cap_occurrences = occurrences(period=period, per=split.cap_per)
    cap_total = round_minor(split.cap_minor * cap_occurrences.value, currency=explain.currency)
    capped = min(amount, cap_total)
    rest = amount - capped
    cap_text = (
        f"{split.capped_stream} pays up to {explain.money(split.cap_minor)} {_PER_WORDS[split.cap_per]} x "
        f"{cap_occurrences.display} ({cap_occurrences.basis}) = {explain.money(cap_total)}"
    )
    parts = [
        _Part(split.capped_stream, capped, SplitShare("cap", None, cap_total, cap_text)),
        _Part(
            split.rest_stream,
            rest,
            SplitShare(
                "rest",
                None,
                cap_total,
                f"{split.rest_stream} pays the rest above {split.capped_stream}'s cap of "
                f"{explain.money(cap_total)}",
            ),
        ),
    ]
    explain.add(
        "split",
        f"Item {index + 1} is divided by a cap: {cap_text}; so {split.capped_stream} pays "
        f"{explain.money(capped)} and {split.rest_stream} the rest, {explain.money(amount)} - "
        f"{explain.money(capped)} = {explain.money(rest)}.",
        amount,
        item_index=index,
    )
    return parts


def _cap_room(parts: list[_Part]) -> int | None:
    """For a cap split, how much of the cap is left after the capped stream's part; otherwise None."""
    capped = parts[0].split
    if capped is None or capped.kind != "cap" or capped.cap_minor is None:
        return None
    return capped.cap_minor - parts[0].amount_minor


def _on_cost(
    on_cost: OnCost, *, basis_minor: int, years: Occurrences, explain: _Explainer
) -> tuple[int, str]:
    """An on-cost on a line of `basis_minor`, rounded once, and how it was reached."""
    if on_cost.kind == OnCostKind.PERCENTAGE:
        assert on_cost.percent is not None  # OnCost checks this when it is made
        amount = round_minor(basis_minor * Fraction(on_cost.percent) / 100, currency=explain.currency)
        return amount, f"{on_cost.name}: {_number_text(on_cost.percent)}% of {explain.money(basis_minor)}"
    assert on_cost.amount_minor_per_year is not None
    yearly = explain.money(on_cost.amount_minor_per_year)
    if basis_minor == 0:
        return 0, f"{on_cost.name}: {yearly} a year, but none on a line that costs nothing"
    amount = round_minor(on_cost.amount_minor_per_year * years.value, currency=explain.currency)
    return amount, f"{on_cost.name}: {yearly} a year x {years.display} years ({years.basis})"


def _charge(
    on_cost: OnCost, source: str, basis_minor: int, years: Occurrences, whole: int, share: int, text: str
) -> OnCostCharge:
    percentage = on_cost.kind == OnCostKind.PERCENTAGE
    return OnCostCharge(
        name=on_cost.name,
        kind=OnCostKind(on_cost.kind),
        source=source,
        percent=on_cost.percent,
        amount_minor_per_year=on_cost.amount_minor_per_year,
        basis_minor=basis_minor if percentage else None,
        years=None if percentage else years.value,
        whole_minor=whole,
        amount_minor=share,
        text=text,
    )


def _stream_amounts(
    lines: Sequence[Line], *, rules: Mapping[str, StreamRules], explain: _Explainer
) -> list[StreamAmount]:
    """Each stream's subtotal, on-costs and contingency, in stream-code order."""
    streams = []
    for code in sorted({line.stream for line in lines}):
        own = [line for line in lines if line.stream == code]
        subtotal = sum(line.amount_minor for line in own)
        on_costs = sum(line.on_costs_minor for line in own)
        percent = rules[code].contingency_percent
        contingency = round_minor((subtotal + on_costs) * Fraction(percent) / 100, currency=explain.currency)
        explain.add(
            "subtotal",
            f"{code}: lines "
            + " + ".join(explain.money(line.amount_minor) for line in own)
            + f" = {explain.money(subtotal)}; on-costs {explain.money(on_costs)}.",
            subtotal,
            stream=code,
        )
        explain.add(
            "contingency",
            f"{code}: contingency {_number_text(percent)}% of ({explain.money(subtotal)} + "
            f"{explain.money(on_costs)}) = {explain.money(contingency)}.",
            contingency,
            stream=code,
        )
        streams.append(
            StreamAmount(
                stream=code,
                subtotal_minor=subtotal,
                on_costs_minor=on_costs,
                contingency_percent=percent,
                contingency_minor=contingency,
                charges_contribution=rules[code].charges_contribution,
                contribution_assessed_minor=0,
                contribution_minor=0,
            )
        )
    return streams


def _apply_contribution(
    streams: list[StreamAmount], contribution: Contribution, *, period: Period, explain: _Explainer
) -> tuple[list[StreamAmount], ContributionResult]:
    """Share the assessed contribution between the charging streams by gross, each capped at its gross."""
    contribution_occurrences = occurrences(period=period, per=contribution.per)
    assessed = round_minor(
        contribution.amount_minor * contribution_occurrences.value, currency=explain.currency
    )
    explain.add(
        "contribution",
        f"Contribution assessed: {explain.money(contribution.amount_minor)} {_PER_WORDS[contribution.per]} x "
        f"{contribution_occurrences.display} ({contribution_occurrences.basis}) = {explain.money(assessed)}.",
        assessed,
    )
    charging = [stream for stream in streams if stream.charges_contribution]
    weights = [stream.gross_minor for stream in charging]
    if not any(weights):
        weights = [1] * len(charging)  # nothing to take it from: share equally, every share is capped to 0
    shares = dict(
        zip((stream.stream for stream in charging), money_allocate(assessed, weights=weights), strict=True)
    )
    result = []
    for stream in streams:
        if stream.stream not in shares:
            result.append(stream)
            continue
        share = shares[stream.stream]
        applied = min(share, stream.gross_minor)
        how = "its share" if len(charging) == 1 else "its share by gross (largest remainder)"
        capped = (
            f", but only {explain.money(applied)} is taken: a stream's amount never goes below zero"
            if applied < share
            else ", all of it taken"
        )
        explain.add(
            "contribution",
            f"{stream.stream}: {how} of the contribution is {explain.money(share)}{capped}.",
            applied,
            stream=stream.stream,
        )
        result.append(replace(stream, contribution_assessed_minor=share, contribution_minor=applied))
    applied_total = sum(stream.contribution_minor for stream in result)
    return result, ContributionResult(
        amount_minor=contribution.amount_minor,
        per=Per(contribution.per),
        occurrences=contribution_occurrences,
        assessed_minor=assessed,
        applied_minor=applied_total,
    )
