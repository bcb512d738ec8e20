"""The payment run pages' forms: the Bacs processing day of a run (a GOV.UK date input), the reason a Bacs
file will not be uploaded, and the "Are you sure" pages that ask nothing more.

The processing day is checked with `payments.services.runs.payment_run_day_problem`, the check
`payment_run_start` makes, so that the "Check and confirm" page is never shown for a day the run would refuse;
the service's `PaymentRunInvalid` is shown on this form too if it still says no.
"""

from django import forms

from payments.services import runs
from web.forms.govuk import GovukForm
from web.forms.statements import DateInputField

REASON_MAX_LENGTH = 500


class PaymentRunStartForm(GovukForm):
    """The Bacs processing day of a run: a working day, today or later (Stripe pays at once)."""

    pay_on = DateInputField(
        label="Bacs processing day",
        words="processing day",
        help_text="The day the bank pays the bank-transfer providers: a working day. For example, 23 11 2026",
    )

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("initial", {"pay_on": runs.payment_run_default_day()})
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned = super().clean()
        day = cleaned.get("pay_on")
        if "pay_on" in self.errors:
            return cleaned
        if day is None:
            self.add_error("pay_on", "Enter the Bacs processing day")
        elif problem := runs.payment_run_day_problem(day):
            self.add_error("pay_on", problem)
        return cleaned


class BacsFileCancelForm(GovukForm):
    """Why the Bacs file will not be uploaded: kept with the file and on each of its payments."""

    reason = forms.CharField(
        label="Why will this file not be uploaded?",
        help_text="For example, the bank rejected it, or a provider's bank details were wrong. "
        "The invoices go back to waiting for the next payment run.",
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={
            "required": "Say why the file is not being uploaded",
            "max_length": f"The reason must be {REASON_MAX_LENGTH} characters or fewer",
        },
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Say why the file is not being uploaded")
        return reason


class ConfirmForm(GovukForm):
    """An "Are you sure" page asks nothing more than the confirmation itself."""
