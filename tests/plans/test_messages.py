"""Notes and messages on a person's timeline: who may write, what each side reads, corrections, errors."""

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.utils import timezone

from ledger.models import AppendOnlyViolation
from plans.models import TimelineEntry
from plans.selectors.timeline import timeline_for_person
from plans.services.messages import (
    TEXT_MAX_LENGTH,
    CorrectionNotAllowed,
    MessageNotAllowed,
    NotANote,
    NoteAlreadyCorrected,
    NoteNotAllowed,
    TextNotStorable,
    TextRequired,
    TextTooLong,
    message_send,
    note_add,
    note_correct,
)
from tests.plans.timeline_world import build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build_world()


def texts_for(world, viewer_name, entry):
    """(text, body) of `entry` as `viewer_name` reads it, or None when they do not see it."""
    for shown in timeline_for_person(budget_holder=world.holder, viewer=world.users[viewer_name]):
        if shown.pk == entry.pk:
            return shown.text, shown.body
    return None


class TestNoteAdd:
    @pytest.mark.parametrize("author", ["navigator", "finance", "admin"])
    def test_staff_on_the_persons_side_write_notes(self, world, author):
        entry = note_add(
            budget_holder=world.holder, author=world.users[author], text="Called Alex.", shared=False
        )
        assert (entry.kind, entry.visibility, entry.body, entry.actor) == (
            "note",
            "staff",
            "Called Alex.",
            world.users[author],
        )
        assert entry.stream is None

    @pytest.mark.parametrize(
        "author",
        ["holder", "rep", "view_rep", "officer_asc", "provider", "other_navigator", "other_holder"],
    )
    def test_nobody_else_writes_notes(self, world, author):
        with pytest.raises(NoteNotAllowed) as raised:
            note_add(budget_holder=world.holder, author=world.users[author], text="Hello", shared=True)
        assert raised.value.http_status == 403
        assert not TimelineEntry.objects.filter(kind="note").exists()

    def test_a_staff_note_is_read_by_staff_only(self, world):
        entry = note_add(
            budget_holder=world.holder,
            author=world.users["navigator"],
            text="Alex's sister may be able to help on Fridays.",
            shared=False,
        )
        assert texts_for(world, "navigator", entry) == (
            "Staff note by Priya Shah (navigator)",
            "Alex's sister may be able to help on Fridays.",
        )
        assert texts_for(world, "finance", entry) is not None
        for outsider in ("holder", "rep", "view_rep", "officer_asc"):
            assert texts_for(world, outsider, entry) is None

    def test_a_shared_note_is_read_by_the_person_in_plain_english(self, world):
        entry = note_add(
            budget_holder=world.holder,
            author=world.users["navigator"],
            text="Your review is booked for 3 June at 10am.",
            shared=True,
        )
        assert entry.visibility == "shared"
        assert texts_for(world, "holder", entry) == (
            "Note from Priya Shah, your navigator",
            "Your review is booked for 3 June at 10am.",
        )
        assert texts_for(world, "view_rep", entry) is not None
        assert (
            texts_for(world, "navigator", entry)[0]
            == "Note by Priya Shah (navigator), shared with Alex Morgan"
        )
        assert texts_for(world, "officer_asc", entry) is None

    def test_a_finance_officer_is_named_as_the_finance_team(self, world):
        finance = world.users["finance"]
        entry = note_add(budget_holder=world.holder, author=finance, text="Statement sent.", shared=True)
        assert entry.for_person == f"Note from {finance.get_full_name()} in the finance team"


class TestMessageSend:
    def test_the_person_writes_to_their_navigator(self, world):
        entry = message_send(
            budget_holder=world.holder, sender=world.users["holder"], text="Can we move Thursday?"
        )
        assert (entry.kind, entry.visibility, entry.body) == ("message", "shared", "Can we move Thursday?")
        assert texts_for(world, "holder", entry)[0] == "You wrote to Priya Shah, your navigator"
        assert texts_for(world, "navigator", entry)[0] == "Message from Alex Morgan (budget holder)"

    def test_the_navigator_writes_to_the_person(self, world):
        entry = message_send(budget_holder=world.holder, sender=world.users["navigator"], text="Yes, Friday?")
        assert texts_for(world, "rep", entry)[0] == "Message from Priya Shah, your navigator"
        assert texts_for(world, "navigator", entry)[0] == "Message from Priya Shah (navigator) to Alex Morgan"

    @pytest.mark.parametrize("rep", ["rep", "view_rep"])
    def test_a_representative_writes_whatever_their_power(self, world, rep):
        user = world.users[rep]
        entry = message_send(budget_holder=world.holder, sender=user, text="Alex is in hospital this week.")
        name = user.get_full_name()
        assert texts_for(world, "holder", entry)[0] == f"Message from {name}, your representative"
        assert (
            texts_for(world, "navigator", entry)[0] == f"Message from {name}, representative of Alex Morgan"
        )

    def test_a_person_without_a_navigator_still_sends_a_message(self, world):
        world.holder.navigator = None
        world.holder.save()
        entry = message_send(budget_holder=world.holder, sender=world.users["holder"], text="Hello?")
        assert entry.for_person == "You sent a message"

    @pytest.mark.parametrize(
        "sender",
        ["finance", "admin", "officer_asc", "provider", "other_navigator", "other_holder", "revoked_rep"],
    )
    def test_nobody_else_sends_messages(self, world, sender):
        with pytest.raises(MessageNotAllowed) as raised:
            message_send(budget_holder=world.holder, sender=world.users[sender], text="Hello")
        assert raised.value.http_status == 403

    def test_agency_officers_never_read_messages(self, world):
        entry = message_send(budget_holder=world.holder, sender=world.users["holder"], text="Private")
        assert texts_for(world, "officer_asc", entry) is None
        assert texts_for(world, "officer_atw", entry) is None


class TestTexts:
    @pytest.mark.parametrize("text", ["", "   ", "\n\n", None, 42])
    def test_a_text_is_required(self, world, text):
        with pytest.raises(TextRequired) as raised:
            message_send(budget_holder=world.holder, sender=world.users["holder"], text=text)
        assert raised.value.errors == [
            {"code": "text_required", "pointer": "/text", "detail": raised.value.message}
        ]

    def test_at_most_five_thousand_characters(self, world):
        message_send(budget_holder=world.holder, sender=world.users["holder"], text="a" * TEXT_MAX_LENGTH)
        with pytest.raises(TextTooLong, match="at most 5,000 characters; this one has 5,001"):
            message_send(
                budget_holder=world.holder, sender=world.users["holder"], text="a" * (TEXT_MAX_LENGTH + 1)
            )

    def test_a_null_character_cannot_be_stored(self, world):
        with pytest.raises(TextNotStorable):
            note_add(budget_holder=world.holder, author=world.users["navigator"], text="a\x00b", shared=False)

    def test_the_writers_layout_is_kept_and_the_ends_trimmed(self, world):
        entry = message_send(
            budget_holder=world.holder, sender=world.users["holder"], text="\n  Line one\n\n  Line two  \n"
        )
        assert entry.body == "Line one\n\n  Line two"

    def test_permission_is_checked_before_the_text(self, world):
        with pytest.raises(MessageNotAllowed):
            message_send(budget_holder=world.holder, sender=world.users["officer_asc"], text="")


class TestNoteCorrect:
    def test_a_correction_is_a_new_entry_and_the_note_is_unchanged(self, world):
        navigator = world.users["navigator"]
        note = note_add(budget_holder=world.holder, author=navigator, text="Review on 3 June.", shared=True)
        before = TimelineEntry.objects.filter(pk=note.pk).values().get()

        correction = note_correct(entry=note, author=navigator, text="Review on 5 June, not 3 June.")

        assert correction.pk != note.pk
        assert correction.corrects == note
        assert (correction.kind, correction.visibility, correction.body) == (
            "note",
            "shared",
            "Review on 5 June, not 3 June.",
        )
        assert TimelineEntry.objects.filter(pk=note.pk).values().get() == before
        written = timezone.localtime(note.at).date()
        assert correction.for_person == (
            f"Correction to the note of {written.day} {written:%B} {written.year} "
            "from Priya Shah, your navigator"
        )
        assert texts_for(world, "holder", correction) is not None

    def test_a_correction_of_a_staff_note_stays_staff_only(self, world):
        navigator = world.users["navigator"]
        note = note_add(budget_holder=world.holder, author=navigator, text="Sister helps.", shared=False)
        correction = note_correct(entry=note, author=navigator, text="Brother helps.")
        assert correction.visibility == "staff"
        assert texts_for(world, "holder", correction) is None

    def test_only_the_author_corrects_a_note(self, world):
        note = note_add(budget_holder=world.holder, author=world.users["navigator"], text="x", shared=False)
        for other in ("finance", "admin", "holder", "officer_asc"):
            with pytest.raises(CorrectionNotAllowed):
                note_correct(entry=note, author=world.users[other], text="y")

    def test_an_author_who_may_no_longer_write_notes_cannot_correct(self, world):
        navigator = world.users["navigator"]
        note = note_add(budget_holder=world.holder, author=navigator, text="x", shared=False)
        world.holder.navigator = world.users["other_navigator"]
        world.holder.save()
        with pytest.raises(CorrectionNotAllowed):
            note_correct(entry=note, author=navigator, text="y")

    def test_a_note_is_corrected_once_then_the_correction_is_corrected(self, world):
        navigator = world.users["navigator"]
        note = note_add(budget_holder=world.holder, author=navigator, text="one", shared=True)
        first = note_correct(entry=note, author=navigator, text="two")

        with pytest.raises(NoteAlreadyCorrected, match=first.public_id) as raised:
            note_correct(entry=note, author=navigator, text="three")
        assert raised.value.http_status == 409

        second = note_correct(entry=first, author=navigator, text="three")
        assert second.corrects == first

    def test_only_notes_are_corrected(self, world):
        message = message_send(budget_holder=world.holder, sender=world.users["navigator"], text="Hi")
        with pytest.raises(NotANote):
            note_correct(entry=message, author=world.users["navigator"], text="Hello")

    def test_the_orm_refuses_to_change_an_entry(self, world):
        note = note_add(budget_holder=world.holder, author=world.users["navigator"], text="x", shared=False)
        note.body = "changed"
        with pytest.raises(AppendOnlyViolation):
            note.save()
        with pytest.raises(AppendOnlyViolation):
            TimelineEntry.objects.filter(pk=note.pk).update(body="changed")


@pytest.mark.postgres
class TestAppendOnlyOnPostgres:
    def test_a_raw_update_or_delete_is_refused_by_the_database(self, world):
        note = note_add(budget_holder=world.holder, author=world.users["navigator"], text="x", shared=False)
        for sql in (
            "UPDATE plans_timelineentry SET body = 'changed' WHERE id = %s",
            "DELETE FROM plans_timelineentry WHERE id = %s",
        ):
            with (
                pytest.raises(DatabaseError, match="append-only"),
                transaction.atomic(),
                connection.cursor() as cursor,
            ):
                cursor.execute(sql, [note.pk])
        assert TimelineEntry.objects.get(pk=note.pk).body == "x"
