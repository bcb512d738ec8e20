"""The funding received pages' forms: which stream's late instalments to show, and recording an agency's
payment (the instalments it paid, its reference, the day it arrived and the amount on the bank statement).

They read and check what was typed; whether the payment may be recorded (the instalments are the stream's and
due, the amount is their sum, the day is not in the future...) is the domain's to say
(`payments.services.funding`), and the views show its errors on these fields.
"""

import re

from django import forms
from django.core.exceptions import ValidationError

from ledger.money import InvalidAmount, currency_exponent, money_parse
from payments.services.funding import REFERENCE_MAX_LENGTH
from web.forms.govuk import GovukForm
from web.forms.statements import DateInputField

# A domain problem's pointer -> the field it is about.
FIELDS = {"/reference": "reference", "/received_on": "received_on", "/amount": "amount"}


def field_for(pointer: str) -> str | None:
    if pointer.startswith("/instalments"):
        return "instalments"
    return FIELDS.get(pointer)


class StreamFilterForm(GovukForm):
    """Show one stream's late instalments, or every stream's the viewer sees."""

    stream = forms.ChoiceField(label="Funding stream", required=False)

    def __init__(self, *args, streams: list[tuple[str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["stream"].choices = [("", "All funding streams"), *streams]
        self.fields["stream"].error_messages["invalid_choice"] = (
            "Choose one of the funding streams in the list"
        )


class InstalmentsField(forms.MultipleChoiceField):
    """The instalments ticked: any instalment ids (the domain says whether each may be received)."""

    def valid_value(self, value: str) -> bool:
        return isinstance(value, str) and bool(re.fullmatch(r"[a-z0-9_]{1,32}", value))


class FundingReceiptForm(GovukForm):
    """A payment from the stream's agency, as finance reads it off the bank statement."""

    instalments = InstalmentsField(
        label="Which instalments did the agency pay?",
        error_messages={
            "required": "Choose at least one instalment the agency paid",
            "invalid_choice": "Choose instalments from the list",
        },
    )
    reference = forms.CharField(
        label="The agency's payment reference",
        help_text="As it appears on the bank statement",
        max_length=REFERENCE_MAX_LENGTH,
        error_messages={
            "required": "Enter the agency's payment reference",
            "max_length": f"The payment reference must be {REFERENCE_MAX_LENGTH} characters or fewer",
        },
    )
    amount = forms.CharField(
        label="The amount on the bank statement",
        help_text="For example, 2000.00",
        max_length=20,
        error_messages={"required": "Enter the amount on the bank statement"},
        widget=forms.TextInput(attrs={"inputmode": "decimal", "class": "govuk-input--width-10"}),
    )

    def __init__(self, *args, currency: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency
        self.fields["received_on"] = DateInputField(
            label="The day the money arrived",
            words="day the money arrived",
            help_text="For example, 18 11 2026",
        )
        self.order_fields(["instalments", "reference", "received_on", "amount"])

    def clean_received_on(self):
        value = self.cleaned_data.get("received_on")
        if value is None:
            raise ValidationError("Enter the day the money arrived", code="required")
        return value

    def clean_amount(self) -> int:
        """Minor units; "£2,000", "2000" and "2000.00" are all 2000.00 (what people type off a statement)."""
        text = re.sub(r"[£,\s]", "", self.cleaned_data.get("amount") or "")
        exponent = currency_exponent(self.currency)
        if exponent and re.fullmatch(r"\d+", text):
            text = f"{text}.{'0' * exponent}"
        try:
            amount = money_parse(text, currency=self.currency)
        except InvalidAmount:
            raise ValidationError(
                "Enter the amount in pounds and pence, like 2000.00", code="invalid"
            ) from None
        if amount <= 0:
            raise ValidationError("The amount must be more than £0.00", code="invalid")
        return amount
