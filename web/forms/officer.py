"""The agency officer's forms: approving their stream's part of a plan, and returning it with a reason."""

from django import forms

from web.forms.govuk import GovukForm

REASON_MAX_LENGTH = 10_000


class ApproveForm(GovukForm):
    """Approving asks nothing more than the confirmation itself."""


class ReturnForm(GovukForm):
    reason = forms.CharField(
        label="What needs to change in the plan?",
        help_text="The person and their navigator will read this, so say what to change and why.",
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={
            "required": "Enter what needs to change in the plan",
            "max_length": "The reason must be %(limit_value)s characters or fewer",
        },
    )
