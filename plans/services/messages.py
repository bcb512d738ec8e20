"""Messages between a person and their navigator, and staff notes, on the person's case timeline.

Who may write (each service checks, so the API and the pages ask the same rule):

* `message_send`: the budget holder, a representative with an active grant (view or approve), or the
  person's navigator. A message is always `shared`: it is a conversation with the person.
* `note_add`: the person's navigator, a finance officer or an administrator. A `shared` note is read by the
  person and their representatives; otherwise it is staff only. Agency officers write neither: their part
  of the timeline is their own stream's decisions.
* `note_correct`: the note's author, while they may still write notes for the person. A correction is a new
  entry that `corrects` the note, with the note's visibility; the note itself is never changed (the timeline
  is append-only). A note is corrected once: a second correction corrects the first. Messages are not
  corrected: send another.

Texts are required and at most `TEXT_MAX_LENGTH` characters, kept as written (leading and trailing blank
lines trimmed). `for_person` addresses the budget holder as "you" (a representative reads the person's
timeline as theirs); `for_staff` names who wrote and in what role.

Each service is one database transaction and locks the budget holder's row first, so that writes to one
person's timeline are serialised (and a note is not corrected twice at once). Retrying a request safely is
the API's job: every POST takes an `Idempotency-Key` header (api/idempotency.py).
"""

from typing import Any

from django.db import transaction
from django.utils import timezone

from ledger.errors import DomainError
from people.models import BudgetHolder, Representative, Role, User
from plans.models import TimelineEntry, TimelineVisibility
from plans.services.timeline import timeline_record
from plans.wording import date_display

KIND_MESSAGE = "message"
KIND_NOTE = "note"
TEXT_MAX_LENGTH = 5_000


class _TextError(DomainError):
    """An error about the text itself, pointing at it."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message)
        self.errors = [{"code": self.code, "pointer": "/text", "detail": self.message}]


class TextRequired(_TextError):
    code = "text_required"
    message = "Write something: the text cannot be empty."


class TextTooLong(_TextError):
    code = "text_too_long"
    message = f"The text can be at most {TEXT_MAX_LENGTH:,} characters."


class TextNotStorable(_TextError):
    code = "text_invalid"
    message = (
        "The text contains a character that cannot be stored (a null character). Remove it and try again."
    )


class NoteNotAllowed(DomainError):
    code = "note_not_allowed"
    message = (
        "Only the person's navigator, finance officers and administrators may write notes on their timeline."
    )
    http_status = 403


class MessageNotAllowed(DomainError):
    code = "message_not_allowed"
    message = (
        "Only the person, their representatives and their navigator may send messages on their timeline."
    )
    http_status = 403


class CorrectionNotAllowed(DomainError):
    code = "correction_not_allowed"
    message = "Only the note's author may correct it, while they may still write notes for the person."
    http_status = 403


class NotANote(DomainError):
    code = "not_a_note"
    message = "Only a note can be corrected. To add to a message, send another message."


class NoteAlreadyCorrected(DomainError):
    code = "note_already_corrected"
    message = "This note has already been corrected; correct the newest correction instead."
    http_status = 409


# Who may write ----------------------------------------------------------------------------------------


def _active(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def _is_navigator_of(user: User, budget_holder: BudgetHolder) -> bool:
    return user.role == Role.NAVIGATOR and budget_holder.navigator_id == user.pk


def _is_representative_of(user: User, budget_holder: BudgetHolder) -> bool:
    """An active grant, view or approve; agencies and providers never act for a person this way."""
    if user.role in (Role.AGENCY_OFFICER, Role.PROVIDER_USER):
        return False
    return Representative.objects.active().filter(user_id=user.pk, budget_holder_id=budget_holder.pk).exists()


def note_author_allowed(*, user: Any, budget_holder: BudgetHolder) -> bool:
    """Whether `user` may write a note on `budget_holder`'s timeline: their navigator, finance, admins."""
    if not _active(user):
        return False
    return user.role in (Role.FINANCE_OFFICER, Role.ADMINISTRATOR) or _is_navigator_of(user, budget_holder)


def message_sender_allowed(*, user: Any, budget_holder: BudgetHolder) -> bool:
    """Whether `user` may send a message on `budget_holder`'s timeline: the person, a representative with
    an active grant, their navigator."""
    if not _active(user):
        return False
    if budget_holder.user_id is not None and budget_holder.user_id == user.pk:
        return True
    if _is_navigator_of(user, budget_holder):
        return True
    return _is_representative_of(user, budget_holder)


# Words ------------------------------------------------------------------------------------------------


def _name(user: User) -> str:
    return user.get_full_name() or user.username


_STAFF_ROLE_FOR_PERSON = {
    Role.NAVIGATOR: ", your navigator",
    Role.FINANCE_OFFICER: " in the finance team",
    Role.ADMINISTRATOR: ", a Purse administrator",
}


def _author_for_person(author: User) -> str:
    """'Priya Shah, your navigator': who wrote, as the budget holder reads it."""
    return _name(author) + _STAFF_ROLE_FOR_PERSON.get(author.role, "")


def _author_for_staff(author: User) -> str:
    """'Priya Shah (navigator)': who wrote, as staff read it."""
    return f"{_name(author)} ({author.get_role_display().lower()})"


def _clean_text(text: Any) -> str:
    if not isinstance(text, str) or not text.strip():
        raise TextRequired()
    if "\x00" in text:
        raise TextNotStorable()
    # Keep the writer's own layout; only blank lines and spaces around the whole text go.
    cleaned = text.strip()
    if len(cleaned) > TEXT_MAX_LENGTH:
        raise TextTooLong(
            f"The text can be at most {TEXT_MAX_LENGTH:,} characters; this one has {len(cleaned):,}. "
            "Shorten it, or split it in two."
        )
    return cleaned


def _lock(budget_holder: BudgetHolder) -> BudgetHolder:
    return BudgetHolder.objects.select_for_update().get(pk=budget_holder.pk)


# Services ---------------------------------------------------------------------------------------------


@transaction.atomic
def note_add(
    *,
    budget_holder: BudgetHolder,
    author: User,
    text: str,
    shared: bool,
) -> TimelineEntry:
    """Write a note on the person's timeline: `shared` with the person, or staff only.

    Raises NoteNotAllowed (403), TextRequired, TextTooLong and TextNotStorable.
    """
    holder = _lock(budget_holder)
    if not note_author_allowed(user=author, budget_holder=holder):
        raise NoteNotAllowed()
    body = _clean_text(text)
    if shared:
        for_person = f"Note from {_author_for_person(author)}"
        for_staff = f"Note by {_author_for_staff(author)}, shared with {holder.full_name}"
    else:
        for_person = f"Staff note by {_author_for_person(author)}"  # never shown to the person
        for_staff = f"Staff note by {_author_for_staff(author)}"
    return timeline_record(
        budget_holder=holder,
        kind=KIND_NOTE,
        for_person=for_person,
        for_staff=for_staff,
        actor=author,
        visibility=TimelineVisibility.SHARED if shared else TimelineVisibility.STAFF,
        body=body,
    )


@transaction.atomic
def message_send(
    *,
    budget_holder: BudgetHolder,
    sender: User,
    text: str,
) -> TimelineEntry:
    """Send a message on the person's timeline, between the person (or a representative) and their navigator.

    Raises MessageNotAllowed (403), TextRequired, TextTooLong and TextNotStorable.
    """
    holder = _lock(budget_holder)
    if not message_sender_allowed(user=sender, budget_holder=holder):
        raise MessageNotAllowed()
    body = _clean_text(text)
    if holder.user_id is not None and holder.user_id == sender.pk:
        navigator = holder.navigator
        for_person = f"You wrote to {_name(navigator)}, your navigator" if navigator else "You sent a message"
        for_staff = f"Message from {holder.full_name} (budget holder)"
    elif _is_navigator_of(sender, holder):
        for_person = f"Message from {_name(sender)}, your navigator"
        for_staff = f"Message from {_name(sender)} (navigator) to {holder.full_name}"
    else:
        for_person = f"Message from {_name(sender)}, your representative"
        for_staff = f"Message from {_name(sender)}, representative of {holder.full_name}"
    return timeline_record(
        budget_holder=holder,
        kind=KIND_MESSAGE,
        for_person=for_person,
        for_staff=for_staff,
        actor=sender,
        visibility=TimelineVisibility.SHARED,
        body=body,
    )


@transaction.atomic
def note_correct(
    *,
    entry: TimelineEntry,
    author: User,
    text: str,
) -> TimelineEntry:
    """Correct a note with a new entry that `corrects` it (same visibility); the note is left as it is.

    Raises NotANote, CorrectionNotAllowed (403), NoteAlreadyCorrected (409), TextRequired, TextTooLong and
    TextNotStorable.
    """
    holder = _lock(entry.budget_holder)
    note = TimelineEntry.objects.get(pk=entry.pk)
    if note.kind != KIND_NOTE:
        raise NotANote()
    if note.actor_id != author.pk or not note_author_allowed(user=author, budget_holder=holder):
        raise CorrectionNotAllowed()
    body = _clean_text(text)
    newer = note.corrections.order_by("at", "id").values_list("public_id", flat=True).first()
    if newer is not None:
        raise NoteAlreadyCorrected(
            f"This note has already been corrected ({newer}); correct that correction instead."
        )
    written_on = date_display(timezone.localtime(note.at).date())
    return timeline_record(
        budget_holder=holder,
        kind=KIND_NOTE,
        for_person=f"Correction to the note of {written_on} from {_author_for_person(author)}",
        for_staff=(
            f"Correction by {_author_for_staff(author)} to their note of {written_on} ({note.public_id})"
        ),
        actor=author,
        visibility=note.visibility,
        body=body,
        corrects=note,
    )
