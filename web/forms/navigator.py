"""The navigator's page forms: starting a plan version, writing a draft, withdrawing it, and reviews.

They shape and check what is typed (dates, numbers, money in the item's currency, choices); whether it
makes a whole item, outcome or review is the services' to say, and the views show their errors here.
"""

import re
from decimal import Decimal
from typing import Any

from django import forms

from budgets.models import Per, Unit
from ledger.money import currency_exponent, money_format
from plans.models import Outcome, Progress
from web.forms.govuk import GovukForm

DATE_FORMATS = ["%d %m %Y", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d"]
DATE_HINT = "For example, 27 3 2027"
_MONEY = re.compile(r"\d{1,12}(\.\d{1,2})?")
_NUMBER = re.compile(r"\d{1,7}(\.\d{1,2})?")


def _date_field(
    label: str, *, required: bool = True, hint: str = DATE_HINT, **messages: str
) -> forms.DateField:
    field = forms.DateField(
        label=label,
        required=required,
        input_formats=DATE_FORMATS,
        help_text=hint,
        widget=forms.DateInput(
            format="%d %m %Y", attrs={"class": "govuk-input--width-10", "autocomplete": "off"}
        ),
    )
    field.error_messages.update(
        {
            "required": messages.get("required", f"Enter {label.lower()}"),
            "invalid": messages.get("invalid", ""),
        }
    )
    if not field.error_messages["invalid"]:
        field.error_messages["invalid"] = f"{label} must be a real date, like 27 3 2027"
    return field


def money_minor(text: str, *, currency: str) -> int:
    """Money as typed ("24.5", "£24.50", "1,200") in minor units of `currency`; ValueError if unreadable."""
    cleaned = (text or "").strip().lstrip("£€$").replace(",", "").strip()
    if not _MONEY.fullmatch(cleaned):
        raise ValueError(text)
    exponent = currency_exponent(currency)
    amount = Decimal(cleaned).scaleb(exponent)
    if amount != amount.to_integral_value():
        raise ValueError(text)
    return int(amount)


# Starting and withdrawing -------------------------------------------------------------------------------


class PlanStartForm(GovukForm):
    """A person's first plan: the period it plans for."""

    starts_on = _date_field("Start date", hint="The first day of the budget period. " + DATE_HINT)
    ends_on = _date_field("End date", hint="The last day of the budget period. For example, 31 3 2027")
    summary = forms.CharField(
        label="About the person, in their own words (optional)",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class PlanChangeForm(GovukForm):
    """A change to the active plan: from when, and why."""

    effective_from = _date_field(
        "Date the change takes effect", hint="A day inside the plan's period. " + DATE_HINT
    )
    change_reason = forms.CharField(
        label="Why is the plan changing?",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Enter why the plan is changing"},
    )


class ReasonForm(GovukForm):
    reason = forms.CharField(
        label="Why is the draft being withdrawn?",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Enter why the draft is being withdrawn"},
    )


# Outcomes and informal support --------------------------------------------------------------------------


class OutcomeForm(GovukForm):
    in_own_words = forms.CharField(
        label="What does the person want to achieve?",
        help_text="In their own words, for example \u201cI want to live in my own flat\u201d.",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Enter what the person wants to achieve, in their own words"},
    )
    success_looks_like = forms.CharField(
        label="What will success look like to them? (optional)",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class InformalSupportForm(GovukForm):
    outcome = forms.ChoiceField(
        label="Which outcome does it help with?", error_messages={"required": "Choose an outcome"}
    )
    who = forms.CharField(
        label="Who gives the support?",
        help_text="For example, \u201cJo, my sister\u201d.",
        max_length=200,
        error_messages={"required": "Enter who gives the support"},
    )
    what = forms.CharField(
        label="What do they do?",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Enter what they do"},
    )
    how_often = forms.CharField(label="How often? (optional)", required=False, max_length=200)

    def __init__(self, *args: Any, outcomes: list[Outcome], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.outcomes = {outcome.public_id: outcome for outcome in outcomes}
        self.fields["outcome"].choices = [("", "Choose an outcome")] + [
            (outcome.public_id, outcome.in_own_words[:80]) for outcome in outcomes
        ]
        self.fields["outcome"].error_messages["invalid_choice"] = "Choose one of the person's outcomes"


class RemoveForm(GovukForm):
    """Which row to remove (an outcome, informal support or support item, by public id)."""

    target = forms.CharField(widget=forms.HiddenInput, max_length=24)


# Support items ------------------------------------------------------------------------------------------

SPLIT_CHOICES = [
    ("", "One stream pays for all of it"),
    ("percent", "Two streams share it by percentage"),
    ("cap", "One stream pays up to a limit, another pays the rest"),
]


class SupportItemForm(GovukForm):
    """A support item: a catalogue service or an item with its own cost, how much and how often, who funds
    it (or how it is split), who provides it at what rate, and the outcomes it serves."""

    service = forms.ChoiceField(
        label="Service from the rate catalogue",
        required=False,
        help_text="Its stream, unit and cost come from the catalogue. Choose "
        "\u201cNot in the catalogue\u201d to give the item its own cost.",
    )
    description = forms.CharField(
        label="Description",
        required=False,
        max_length=200,
        help_text="Optional for a catalogue service; needed for an item with its own cost.",
    )
    stream = forms.ChoiceField(label="Funding stream (for an item with its own cost)", required=False)
    unit = forms.ChoiceField(
        label="Unit (for an item with its own cost)",
        required=False,
        choices=[("", "Choose a unit"), *Unit.choices],
    )
    unit_cost = forms.CharField(
        label="Cost of one unit, in pounds (for an item with its own cost)",
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"class": "govuk-input--width-10", "inputmode": "decimal"}),
    )
    quantity = forms.CharField(
        label="How many units",
        max_length=12,
        help_text="For example, 14 (hours) or 7.5",
        widget=forms.TextInput(attrs={"class": "govuk-input--width-5", "inputmode": "decimal"}),
        error_messages={"required": "Enter how many units"},
    )
    per = forms.ChoiceField(
        label="How often",
        choices=Per.choices,
        initial=Per.WEEK,
        error_messages={"required": "Choose how often"},
    )
    split_kind = forms.ChoiceField(
        label="How the cost is shared",
        choices=SPLIT_CHOICES,
        required=False,
        initial="",
        widget=forms.RadioSelect,
    )
    split_stream_1 = forms.ChoiceField(label="First stream", required=False)
    split_percent_1 = forms.CharField(
        label="First stream's percentage",
        required=False,
        max_length=8,
        widget=forms.TextInput(attrs={"class": "govuk-input--width-4", "inputmode": "decimal"}),
    )
    split_stream_2 = forms.ChoiceField(label="Second stream", required=False)
    split_percent_2 = forms.CharField(
        label="Second stream's percentage",
        required=False,
        max_length=8,
        widget=forms.TextInput(attrs={"class": "govuk-input--width-4", "inputmode": "decimal"}),
    )
    cap_stream = forms.ChoiceField(label="Stream that pays up to a limit", required=False)
    cap_amount = forms.CharField(
        label="The most it pays, in pounds",
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"class": "govuk-input--width-10", "inputmode": "decimal"}),
    )
    cap_per = forms.ChoiceField(label="Limit applies", required=False, choices=Per.choices, initial=Per.WEEK)
    rest_stream = forms.ChoiceField(label="Stream that pays the rest", required=False)
    provider = forms.ChoiceField(label="Provider (optional)", required=False)
    agreed_rate = forms.CharField(
        label="Rate agreed with the provider, in pounds (optional)",
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"class": "govuk-input--width-10", "inputmode": "decimal"}),
    )
    outcomes = forms.MultipleChoiceField(
        label="Which outcomes does it serve?",
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one outcome this support serves"},
    )

    def __init__(
        self,
        *args: Any,
        services: list[Any],
        streams: list[Any],
        providers: list[Any],
        outcomes: list[Outcome],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.services = {rated.service.service_code: rated for rated in services}
        self.streams = {stream.code: stream for stream in streams}
        self.providers = {provider.public_id: provider for provider in providers}
        self.outcome_rows = {outcome.public_id: outcome for outcome in outcomes}
        self.fields["service"].choices = [("", "Not in the catalogue: the item has its own cost")] + [
            (
                code,
                f"{rated.service.description} ({code}), "
                f"\u00a3{money_format(rated.rate.unit_cost_minor, currency=rated.service.stream.currency)}"
                f" per {rated.service.unit}",
            )
            for code, rated in self.services.items()
        ]
        stream_choices = [("", "Choose a stream")] + [
            (code, f"{stream.name} ({code})") for code, stream in self.streams.items()
        ]
        for name in ("stream", "split_stream_1", "split_stream_2", "cap_stream", "rest_stream"):
            self.fields[name].choices = stream_choices
        self.fields["provider"].choices = [("", "No provider yet")] + [
            (public_id, provider.name) for public_id, provider in self.providers.items()
        ]
        self.fields["outcomes"].choices = [
            (outcome.public_id, outcome.in_own_words[:80]) for outcome in outcomes
        ]
        for name in self.fields:
            self.fields[name].error_messages.setdefault("invalid_choice", "Choose one of the options")
            self.fields[name].error_messages["invalid_choice"] = "Choose one of the options"

    def clean_quantity(self) -> Decimal:
        text = (self.cleaned_data.get("quantity") or "").strip()
        if not _NUMBER.fullmatch(text) or Decimal(text) <= 0:
            raise forms.ValidationError("Enter how many units as a number more than 0, like 14 or 7.5")
        return Decimal(text)

    def _percent(self, name: str) -> str | None:
        text = (self.cleaned_data.get(name) or "").strip().rstrip("%").strip()
        if not text:
            self.add_error(name, "Enter the percentage this stream pays")
            return None
        if not _NUMBER.fullmatch(text):
            self.add_error(name, "Enter the percentage as a number, like 60")
            return None
        return text

    def _currency(self) -> str:
        code = self.cleaned_data.get("service")
        if code and code in self.services:
            return self.services[code].service.stream.currency
        stream = self.streams.get(self.cleaned_data.get("stream") or "")
        return stream.currency if stream is not None else "GBP"

    def _money(self, name: str) -> int | None:
        text = (self.cleaned_data.get(name) or "").strip()
        if not text:
            return None
        try:
            return money_minor(text, currency=self._currency())
        except ValueError:
            self.add_error(name, "Enter an amount in pounds and pence, like 24.50")
            return None

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        kind = data.get("split_kind") or ""
        split: dict[str, Any] | None = None
        if kind == "percent":
            parts = []
            for index in ("1", "2"):
                stream = data.get(f"split_stream_{index}")
                if not stream:
                    self.add_error(f"split_stream_{index}", "Choose the stream that pays this share")
                percent = self._percent(f"split_percent_{index}")
                parts.append({"stream": stream, "percent": percent})
            if all(part["stream"] and part["percent"] for part in parts):
                split = {"percent": parts}
        elif kind == "cap":
            cap_amount = (data.get("cap_amount") or "").strip()
            problems = False
            if not data.get("cap_stream"):
                self.add_error("cap_stream", "Choose the stream that pays up to a limit")
                problems = True
            if not data.get("rest_stream"):
                self.add_error("rest_stream", "Choose the stream that pays the rest")
                problems = True
            if not cap_amount:
                self.add_error("cap_amount", "Enter the most the first stream pays")
                problems = True
            else:
                try:
                    minor = money_minor(cap_amount, currency=self._currency())
                    cap_amount = money_format(minor, currency=self._currency())
                except ValueError:
                    self.add_error("cap_amount", "Enter an amount in pounds and pence, like 250.00")
                    problems = True
            if not problems:
                split = {
                    "cap": {
                        "stream": data["cap_stream"],
                        "amount": cap_amount,
                        "per": data.get("cap_per") or Per.WEEK,
                    },
                    "rest": data["rest_stream"],
                }
        data["split"] = split
        data["unit_cost_minor"] = self._money("unit_cost")
        data["agreed_rate_minor"] = self._money("agreed_rate")
        return data

    def item_changes(self) -> dict[str, Any]:
        """The support item service's keyword arguments for what was typed (after is_valid())."""
        data = self.cleaned_data
        service = data.get("service") or None
        return {
            "service_code": service,
            "stream_code": None if service else (data.get("stream") or None),
            "description": data.get("description") or "",
            "unit": "" if service else (data.get("unit") or ""),
            "unit_cost_minor": None if service else data.get("unit_cost_minor"),
            "quantity": data["quantity"],
            "per": data["per"],
            "split": data.get("split"),
            "outcomes": [self.outcome_rows[public_id] for public_id in data.get("outcomes", [])],
            "provider": self.providers.get(data.get("provider") or ""),
            "agreed_rate_minor": data.get("agreed_rate_minor"),
        }


# Reviews ------------------------------------------------------------------------------------------------


class ReviewForm(GovukForm):
    """A review: when it was held, a rating and a note for every outcome, and the next review."""

    held_on = _date_field("Date of the review", hint="For example, 20 11 2026")
    notes = forms.CharField(
        label="Notes from the review (optional)",
        required=False,
        max_length=50_000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    next_review_on = _date_field(
        "Date of the next review",
        required=False,
        hint="Leave it empty for a year after this review, the latest it can be. " + DATE_HINT,
    )

    def __init__(self, *args: Any, outcomes: list[Outcome], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.outcome_rows = outcomes
        for outcome in outcomes:
            self.fields[f"progress_{outcome.public_id}"] = forms.ChoiceField(
                label=f"How is \u201c{outcome.in_own_words[:120]}\u201d going?",
                choices=Progress.choices,
                widget=forms.RadioSelect,
                error_messages={"required": "Choose how the person is getting on with this outcome"},
            )
            self.fields[f"note_{outcome.public_id}"] = forms.CharField(
                label="Note on this outcome (optional)",
                required=False,
                max_length=10_000,
                widget=forms.Textarea(attrs={"rows": 2, "class": "govuk-textarea"}),
            )

    def outcome_fields(self) -> list[tuple[Outcome, Any, Any]]:
        return [
            (outcome, self[f"progress_{outcome.public_id}"], self[f"note_{outcome.public_id}"])
            for outcome in self.outcome_rows
        ]

    def ratings(self) -> list[tuple[Outcome, str, str]]:
        """(outcome, progress in words, note) as typed (after is_valid()), for the check before recording."""
        words = dict(Progress.choices)
        return [
            (outcome, words[progress], note)
            for outcome, (_, progress, note) in zip(self.outcome_rows, self.progress(), strict=True)
        ]

    def progress(self) -> list[tuple[str, str, str]]:
        """(outcome public id, progress, note) for the service (after is_valid())."""
        return [
            (
                outcome.public_id,
                self.cleaned_data[f"progress_{outcome.public_id}"],
                self.cleaned_data.get(f"note_{outcome.public_id}") or "",
            )
            for outcome in self.outcome_rows
        ]


class BringForwardForm(GovukForm):
    due_on = _date_field("New date for the review", hint="Today or later. " + DATE_HINT)
    reason = forms.CharField(
        label="Why is the review needed sooner?",
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Enter why the review is needed sooner"},
    )
