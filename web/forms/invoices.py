"""The forms of the invoice pages: filtering the list, a question or a rejection for the provider, and an
auto-approval rule."""

import re

from django import forms

from invoicing.models import InvoiceStatus
from invoicing.services import REASON_MAX_LENGTH
from ledger.money import InvalidAmount, money_parse
from web.forms.govuk import GovukForm


class InvoiceFilterForm(GovukForm):
    """Which invoices to show (a GET form: it works without JavaScript)."""

    status = forms.ChoiceField(
        label="Show",
        required=False,
        choices=[("", "All invoices"), *InvoiceStatus.choices],
    )


def _reason_field(*, label: str, hint: str, required_message: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        help_text=hint,
        max_length=REASON_MAX_LENGTH,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={
            "required": required_message,
            "max_length": f"Write {REASON_MAX_LENGTH:,} characters or fewer",
        },
    )


class InvoiceQueryForm(GovukForm):
    """A question for the provider about an invoice."""

    question = _reason_field(
        label="Your question for the provider",
        hint=(
            "Say what looks wrong, in a sentence they can act on. For example: "
            "“I was away on 5 October, so no support was given that day.”"
        ),
        required_message="Enter your question for the provider",
    )


class InvoiceRejectForm(GovukForm):
    """Why an invoice is rejected, and that the person knows it cannot be undone."""

    reason = _reason_field(
        label="Why are you rejecting this invoice?",
        hint="The provider sees this. Say it in a sentence they can act on.",
        required_message="Enter why you are rejecting this invoice",
    )
    understood = forms.BooleanField(
        label="I understand that this cannot be undone and the provider will not be paid for this invoice",
        error_messages={"required": "Confirm that you understand rejecting cannot be undone"},
    )


_POUNDS = re.compile(r"\d+(\.\d{1,2})?", flags=re.ASCII)


class AutoApprovalRuleForm(GovukForm):
    """Which provider's routine invoices to approve automatically, and up to how much an invoice."""

    provider = forms.ChoiceField(
        label="Which provider?",
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose a provider",
            "invalid_choice": "Choose one of the providers in your plan",
        },
    )
    max_total = forms.CharField(
        label="Largest invoice to approve automatically, in pounds (optional)",
        help_text="For example, 400.00. Leave it empty to approve routine invoices of any size.",
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "spellcheck": "false"}),
    )

    def __init__(self, *args, providers: list[tuple[str, str]], currency: str = "GBP", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency
        self.fields["provider"].choices = providers
        self.fields["max_total"].widget.attrs["class"] += " govuk-input--width-10"

    def clean_max_total(self) -> int | None:
        """The limit in minor units, or None for no limit; "£1,200" and "400.5" are read as people write
        them, then parsed by the money module."""
        text = self.cleaned_data["max_total"].strip().replace(",", "").removeprefix("£").strip()
        if not text:
            return None
        if not _POUNDS.fullmatch(text):
            raise forms.ValidationError("Enter the largest invoice as an amount in pounds, like 400.00")
        whole, _, pence = text.partition(".")
        try:
            amount = money_parse(f"{whole}.{pence.ljust(2, '0')}", currency=self.currency)
        except InvalidAmount:
            raise forms.ValidationError(
                "Enter the largest invoice as an amount in pounds, like 400.00"
            ) from None
        if amount <= 0:
            raise forms.ValidationError("The largest invoice must be more than £0")
        return amount
