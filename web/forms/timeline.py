"""The timeline page's forms: a message, a note, a correction to a note.

Only the shape is checked here (a required text, no longer than the services allow); the services check the
rest (who may write, a text of spaces only) and their errors show on the `text` field.
"""

from django import forms

from plans.services.messages import TEXT_MAX_LENGTH
from web.forms.govuk import GovukForm

_TEXT_ERRORS = {
    "required": "Enter your message",
    "max_length": f"Your message must be {TEXT_MAX_LENGTH:,} characters or fewer",
}


class MessageForm(GovukForm):
    text = forms.CharField(
        label="Your message",
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages=_TEXT_ERRORS,
    )


class NoteForm(GovukForm):
    text = forms.CharField(
        label="Note",
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={
            "required": "Enter the note",
            "max_length": f"The note must be {TEXT_MAX_LENGTH:,} characters or fewer",
        },
    )
    shared = forms.BooleanField(
        label="Share this note with the person and their representatives",
        required=False,
        help_text="Leave this unticked to keep the note for staff only.",
    )


class NoteCorrectForm(GovukForm):
    text = forms.CharField(
        label="Corrected note",
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="The note stays on the timeline as it was written; this correction is shown with it.",
        error_messages={
            "required": "Enter the corrected note",
            "max_length": f"The corrected note must be {TEXT_MAX_LENGTH:,} characters or fewer",
        },
    )
