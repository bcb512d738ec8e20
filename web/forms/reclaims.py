"""The surplus and reclaim pages' forms: setting money aside as a legitimate reserve and releasing it,
giving a budget holder notice that unspent money will be reclaimed, the budget holder's reply, withdrawing a
notice and reclaiming the money.

They read and check what was typed; whether it may be done (no more set aside than the person holds, no more
reclaimed than the surplus, enough notice) is the domain's to say (`budgets.services.reserves`,
`payments.services.reclaims`), and the views show its errors on these fields, which are named as the
services name them (`amount`, `reason`, `reclaim_on`, `response`).
"""

import re
from datetime import date

from django import forms
from django.core.exceptions import ValidationError

from budgets.services.reserves import REASON_MAX_LENGTH as RESERVE_REASON_MAX_LENGTH
from ledger.money import InvalidAmount, currency_exponent, money_parse
from payments.services.reclaims import TEXT_MAX_LENGTH
from plans.wording import date_display, money_display
from web.forms.govuk import GovukForm
from web.forms.statements import DateInputField


def amount_minor_from(text: str, *, currency: str) -> int:
    """Minor units from what a person types: "£1,000", "1000" and "1000.00" are all 1000.00."""
    cleaned = re.sub(r"[£,\s]", "", text or "")
    exponent = currency_exponent(currency)
    if exponent and re.fullmatch(r"\d+", cleaned):
        cleaned = f"{cleaned}.{'0' * exponent}"
    try:
        amount = money_parse(cleaned, currency=currency)
    except InvalidAmount:
        raise ValidationError("Enter the amount in pounds and pence, like 250.00", code="invalid") from None
    if amount <= 0:
        raise ValidationError("The amount must be more than £0.00", code="invalid")
    return amount


def _amount_field(label: str, *, hint: str, required_message: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        help_text=hint,
        max_length=20,
        error_messages={"required": required_message},
        widget=forms.TextInput(attrs={"inputmode": "decimal", "class": "govuk-input--width-10"}),
    )


def _text_field(label: str, *, hint: str, required: str, max_length: int) -> forms.CharField:
    return forms.CharField(
        label=label,
        help_text=hint,
        max_length=max_length,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={
            "required": required,
            "max_length": f"Keep it to {max_length} characters or fewer",
        },
    )


class _AmountMixin:
    currency = "GBP"

    def clean_amount(self) -> int:
        return amount_minor_from(self.cleaned_data.get("amount") or "", currency=self.currency)


class ReserveForm(_AmountMixin, GovukForm):
    """Money of one stream the person holds, set aside for a known cost."""

    stream = forms.ChoiceField(
        label="Which funding stream's money?",
        error_messages={
            "required": "Choose the funding stream whose money is set aside",
            "invalid_choice": "Choose one of the funding streams in the list",
        },
    )
    amount = _amount_field(
        "How much to set aside", hint="For example, 250.00", required_message="Enter how much to set aside"
    )
    reason = _text_field(
        "What is it set aside for?",
        hint="For example, holiday pay for a personal assistant, or a repair that is due.",
        required="Say what the money is set aside for",
        max_length=RESERVE_REASON_MAX_LENGTH,
    )

    def __init__(self, *args, streams: list[tuple[str, str, str]], **kwargs) -> None:
        """`streams`: (code, label, currency) of the streams the person holds money for."""
        super().__init__(*args, **kwargs)
        self.currencies = {code: currency for code, _, currency in streams}
        self.fields["stream"].choices = [(code, label) for code, label, _ in streams]
        self.fields["stream"].widget = forms.RadioSelect(choices=self.fields["stream"].choices)

    def clean_amount(self) -> int:
        self.currency = self.currencies.get(self.data.get(self.add_prefix("stream")), "GBP")
        return super().clean_amount()


class ReleaseForm(GovukForm):
    """Why the money is no longer set aside."""

    reason = _text_field(
        "Why is the money no longer set aside?",
        hint="For example, the holiday pay was paid, or the repair is not needed.",
        required="Say why the money is no longer set aside",
        max_length=RESERVE_REASON_MAX_LENGTH,
    )


class GiveNoticeForm(_AmountMixin, GovukForm):
    """Notice to the budget holder: how much, why, and from which day it may be reclaimed."""

    amount = _amount_field(
        "How much will be reclaimed?",
        hint="At most what is reclaimable and not yet in a notice. For example, 500.00",
        required_message="Enter how much will be reclaimed",
    )
    reason = _text_field(
        "Why is it being reclaimed?",
        hint="The budget holder reads this, so say it plainly.",
        required="Say why the money is being reclaimed",
        max_length=TEXT_MAX_LENGTH,
    )

    def __init__(self, *args, currency: str, earliest: date, most_minor: int, **kwargs) -> None:
        """`earliest`: the first day the stream's notice allows; `most_minor`: what may still be noticed."""
        super().__init__(*args, **kwargs)
        self.currency = currency
        self.earliest = earliest
        self.most_minor = most_minor
        self.fields["reclaim_on"] = DateInputField(
            label="When can it be reclaimed?",
            words="reclaim date",
            help_text=f"{date_display(earliest)} at the earliest. For example, "
            f"{earliest.day} {earliest.month} {earliest.year}",
        )
        self.order_fields(["amount", "reason", "reclaim_on"])

    def clean_amount(self) -> int:
        amount = super().clean_amount()
        if amount > self.most_minor:
            raise ValidationError(
                f"At most {money_display(self.most_minor, currency=self.currency)} may be reclaimed now (the "
                "surplus above the threshold and the reserves, less notices already given)",
                code="too_much",
            )
        return amount

    def clean_reclaim_on(self) -> date:
        value = self.cleaned_data.get("reclaim_on")
        if value is None:
            raise ValidationError("Enter the day the money can be reclaimed", code="required")
        if value < self.earliest:
            raise ValidationError(
                f"The money can be reclaimed on {date_display(self.earliest)} at the earliest",
                code="too_soon",
            )
        return value


class ReplyForm(GovukForm):
    """What the budget holder says back to a notice."""

    response = _text_field(
        "Your reply",
        hint="For example, what you are saving the money for, or that you agree.",
        required="Write your reply",
        max_length=TEXT_MAX_LENGTH,
    )


class WithdrawForm(GovukForm):
    """Why nothing will be reclaimed under the notice after all."""

    reason = _text_field(
        "Why is the notice withdrawn?",
        hint="The budget holder reads this.",
        required="Say why the notice is withdrawn",
        max_length=TEXT_MAX_LENGTH,
    )


class ReclaimForm(_AmountMixin, GovukForm):
    """How much to reclaim under the notice: all it said, or less."""

    amount = _amount_field(
        "How much to reclaim",
        hint="At most the amount in the notice.",
        required_message="Enter how much to reclaim",
    )

    def __init__(self, *args, currency: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency
