"""The statements pages' forms: choosing a statement's period (a recent month, or dates of one's own, as
GOV.UK date inputs) and choosing the month of a statement run.

They read and check what was typed; whether a period is one a statement may cover (`statements.period`'s
rules, such as its longest length) is the domain's to say, and the views show its errors on these forms.
"""

from datetime import date

from django import forms
from django.core.exceptions import ValidationError

from plans.wording import date_display
from statements.period import Period, month_of, previous_month
from web.forms.govuk import GovukForm

RECENT_MONTHS = 12
SHOW_MONTH = "month"
SHOW_DATES = "dates"
_PARTS = ("day", "month", "year")


def month_value(period: Period) -> str:
    """A month's value in the forms: "2026-11"."""
    return period.starts_on.strftime("%Y-%m")


def month_label(period: Period) -> str:
    """ "November 2026"."""
    return period.starts_on.strftime("%B %Y")


def recent_months(last: Period, *, count: int = RECENT_MONTHS) -> list[Period]:
    """`count` calendar months, newest first, from the month `last`."""
    months = [last]
    while len(months) < count:
        months.append(previous_month(months[-1].starts_on))
    return months


class DateInputWidget(forms.MultiWidget):
    """A GOV.UK date input's three boxes (`<name>_day`, `<name>_month`, `<name>_year`), drawn by
    web/includes/date_input.html; a label or error summary link goes to the day."""

    def __init__(self) -> None:
        super().__init__(widgets={part: forms.TextInput() for part in _PARTS})

    def decompress(self, value: date | None) -> list[str | None]:
        if isinstance(value, date):
            return [str(value.day), str(value.month), str(value.year)]
        return [None, None, None]

    def id_for_label(self, id_: str) -> str:
        return f"{id_}_day" if id_ else ""


class DateInputField(forms.MultiValueField):
    """A date typed as day, month and year, with GOV.UK's error messages ("The start date must include a
    month", "The start date must be a real date"). Empty gives None: the form says whether it is needed."""

    widget = DateInputWidget

    def __init__(self, *, words: str, **kwargs) -> None:
        self.words = words  # "start date": how the messages name the date
        parts = tuple(forms.CharField(required=False, max_length=4) for _ in _PARTS)
        super().__init__(fields=parts, require_all_fields=False, required=False, **kwargs)

    def clean(self, value):
        # A part longer than 4 characters is not a real date, rather than a "too long" message per part.
        if isinstance(value, list | tuple) and any(len((part or "").strip()) > 4 for part in value):
            raise ValidationError(f"The {self.words} must be a real date", code="invalid")
        return super().clean(value)

    def compress(self, data_list: list[str]) -> date | None:
        parts = [(part or "").strip() for part in (data_list or ["", "", ""])]
        if not any(parts):
            return None
        missing = [name for name, part in zip(_PARTS, parts, strict=True) if not part]
        if missing:
            raise ValidationError(
                f"The {self.words} must include a {' and '.join(missing)}", code="incomplete"
            )
        if not all(part.isdigit() for part in parts):
            raise ValidationError(f"The {self.words} must be a real date", code="invalid")
        day, month, year = parts
        if len(year) != 4:
            raise ValidationError("Year must include 4 numbers", code="invalid")
        try:
            return date(int(year), int(month), int(day))
        except ValueError:
            raise ValidationError(f"The {self.words} must be a real date", code="invalid") from None


class PeriodForm(GovukForm):
    """Which statement to show: one of the recent months (`show=month`), or from one date to another, both
    included (`show=dates`): two forms on the page, each sending its own `show`.

    `from` and `to` are named as the API's query parameters, so that the domain's errors about them
    (`PeriodInvalid`, pointer `/from` or `/to`) land on the right date input."""

    show = forms.ChoiceField(
        choices=[(SHOW_MONTH, "A month"), (SHOW_DATES, "Other dates")],
        widget=forms.HiddenInput,
        error_messages={
            "required": "Choose a month or other dates",
            "invalid_choice": "Choose a month or other dates",
        },
    )
    month = forms.ChoiceField(
        label="Month",
        required=False,
        error_messages={"invalid_choice": "Choose one of the months in the list"},
    )

    def __init__(self, *args, months: list[Period], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.months = {month_value(period): period for period in months}
        self.fields["month"].choices = [(value, month_label(period)) for value, period in self.months.items()]
        self.fields["from"] = DateInputField(
            label="Start date", words="start date", help_text="For example, 1 11 2026"
        )
        self.fields["to"] = DateInputField(
            label="End date", words="end date", help_text="For example, 30 11 2026"
        )

    @classmethod
    def showing(cls, period: Period, *, months: list[Period]) -> "PeriodForm":
        """The form as it stands for a period already chosen: its month, or its dates."""
        if month_of(period.starts_on) == period and month_value(period) in {month_value(m) for m in months}:
            return cls(months=months, initial={"show": SHOW_MONTH, "month": month_value(period)})
        return cls(
            months=months,
            initial={
                "show": SHOW_DATES,
                "month": month_value(months[0]),
                "from": period.starts_on,
                "to": period.ends_on,
            },
        )

    def clean(self):
        cleaned = super().clean()
        show = cleaned.get("show")
        if show == SHOW_MONTH and "month" not in self.errors:
            if not cleaned.get("month"):
                self.add_error("month", "Choose a month")
            else:
                cleaned["period"] = self.months[cleaned["month"]]
        elif show == SHOW_DATES:
            starts_on, ends_on = cleaned.get("from"), cleaned.get("to")
            if starts_on is None and "from" not in self.errors:
                self.add_error("from", "Enter the date the statement starts")
            if ends_on is None and "to" not in self.errors:
                self.add_error("to", "Enter the date the statement ends")
            if starts_on and ends_on:
                if ends_on < starts_on:
                    starts = date_display(starts_on)
                    self.add_error("to", f"The end date must be on or after the start date, {starts}")
                else:
                    cleaned["period"] = Period(starts_on, ends_on)
        return cleaned


class RunStartForm(GovukForm):
    """The month a statement run covers: one of the last complete months."""

    month = forms.ChoiceField(
        label="Month",
        help_text="Every person's and every funding stream's statement for that month is made and kept.",
        error_messages={
            "required": "Choose a month",
            "invalid_choice": "Choose one of the months in the list",
        },
    )

    def __init__(self, *args, months: list[Period], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.months = {month_value(period): period for period in months}
        self.fields["month"].choices = [(value, month_label(period)) for value, period in self.months.items()]
        self.fields["month"].initial = month_value(months[0])

    @property
    def period(self) -> Period:
        return self.months[self.cleaned_data["month"]]


class ConfirmForm(GovukForm):
    """An "Are you sure" page asks nothing more than the confirmation itself."""
