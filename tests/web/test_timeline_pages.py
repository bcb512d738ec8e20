"""The person's timeline and messages page: the timeline (newest first, paginated), sending a message, and
the navigator's notes and corrections."""

import pytest
from django.urls import reverse

from plans.models import TimelineEntry, TimelineVisibility
from plans.services.messages import TEXT_MAX_LENGTH, message_send, note_add
from tests.web.roles import NOT_SEE, SEE, sign_in_role

pytestmark = pytest.mark.django_db

MESSAGE = "message-text"
NOTE = "note-text"


def _sign_in(client, sign_in_verified, world, role):
    sign_in_role(client, sign_in_verified, world.users[role], role)


def _url(world, name="web:timeline", *extra) -> str:
    return reverse(name, args=[world.base.alex.public_id, *extra])


def _entries(world):
    return TimelineEntry.objects.filter(budget_holder=world.base.alex)


class TestWhoSeesTheTimeline:
    @pytest.mark.parametrize("role", SEE)
    def test_the_person_their_side_and_staff_see_it(self, client, sign_in_verified, world, role):
        _sign_in(client, sign_in_verified, world, role)
        response = client.get(_url(world))
        assert response.status_code == 200
        assert response.content.count(b"<h1") == 1

    @pytest.mark.parametrize("role", NOT_SEE)
    def test_anyone_else_gets_not_found(self, client, sign_in_verified, world, role):
        _sign_in(client, sign_in_verified, world, role)
        assert client.get(_url(world)).status_code == 404
        count = _entries(world).count()
        assert client.post(_url(world, "web:timeline-message"), {MESSAGE: "Hello"}).status_code == 404
        assert client.post(_url(world, "web:timeline-note"), {NOTE: "Hello"}).status_code == 404
        assert _entries(world).count() == count

    def test_anonymous_is_sent_to_sign_in(self, client, world):
        for url in (_url(world), _url(world, "web:timeline-message")):
            response = client.post(url, {MESSAGE: "Hello"}) if "messages" in url else client.get(url)
            assert response.status_code == 302
            assert response["Location"].startswith(reverse("web:sign-in"))


class TestWhatTheTimelineShows:
    def test_newest_first_with_the_words_for_the_reader(self, client, world):
        message_send(budget_holder=world.base.alex, sender=world.users["navigator"], text="First words")
        message_send(budget_holder=world.base.alex, sender=world.users["holder"], text="Second words")
        client.force_login(world.users["holder"])
        html = client.get(_url(world)).content.decode()
        assert html.index("Second words") < html.index("First words")
        assert "You wrote to" in html

    def test_staff_notes_are_hidden_from_the_person_and_tagged_for_staff(
        self, client, sign_in_verified, world
    ):
        note_add(
            budget_holder=world.base.alex, author=world.users["navigator"], text="Private words", shared=False
        )
        client.force_login(world.users["holder"])
        assert "Private words" not in client.get(_url(world)).content.decode()
        client.logout()
        sign_in_verified(client, world.users["navigator"])
        html = client.get(_url(world)).content.decode()
        assert "Private words" in html and "Staff only" in html

    def test_the_message_anchor_is_there_for_the_contact_box(self, client, world):
        client.force_login(world.users["holder"])
        html = client.get(_url(world)).content.decode()
        assert 'id="message"' in html
        assert "#message" in html

    def test_it_is_paginated(self, client, world):
        for number in range(25):
            message_send(
                budget_holder=world.base.alex, sender=world.users["holder"], text=f"Message {number}"
            )
        client.force_login(world.users["holder"])
        first = client.get(_url(world))
        assert len(first.context["entries"]) == 20
        assert 'class="govuk-pagination' in first.content.decode()
        assert client.get(_url(world) + "?page=2").status_code == 200

    def test_only_note_writers_get_the_note_form(self, client, sign_in_verified, world):
        client.force_login(world.users["holder"])
        assert 'id="note"' not in client.get(_url(world)).content.decode()
        client.logout()
        sign_in_verified(client, world.users["navigator"])
        assert 'id="note"' in client.get(_url(world)).content.decode()

    def test_finance_does_not_get_the_message_form(self, client, sign_in_verified, world):
        sign_in_verified(client, world.users["finance"])
        html = client.get(_url(world)).content.decode()
        assert 'id="message"' not in html


class TestSendingAMessage:
    @pytest.mark.parametrize("role", ("holder", "rep_approve", "rep_view", "navigator"))
    def test_the_person_their_representatives_and_navigator_send_one(
        self, client, sign_in_verified, world, role
    ):
        _sign_in(client, sign_in_verified, world, role)
        response = client.post(_url(world, "web:timeline-message"), {MESSAGE: "  Can we talk on Tuesday?  "})
        assert response.status_code == 302
        assert response["Location"] == _url(world)
        entry = _entries(world).filter(kind="message").get()
        assert entry.body == "Can we talk on Tuesday?"
        assert entry.actor == world.users[role]
        assert "Message sent" in client.get(_url(world)).content.decode()

    @pytest.mark.parametrize(
        ("text", "error"),
        (
            ("", "Enter your message"),
            ("   ", "Enter your message"),
            ("x" * (TEXT_MAX_LENGTH + 1), "characters or fewer"),
        ),
    )
    def test_a_bad_message_shows_the_error_and_sends_nothing(self, client, world, text, error):
        client.force_login(world.users["holder"])
        count = _entries(world).count()
        response = client.post(_url(world, "web:timeline-message"), {MESSAGE: text})
        html = response.content.decode()
        assert response.status_code == 200
        assert "govuk-error-summary" in html and '<a href="#id_message-text">' in html
        assert error in html
        assert "<title>Error: " in html
        assert _entries(world).count() == count

    def test_a_text_with_a_null_character_shows_an_error(self, client, world):
        client.force_login(world.users["holder"])
        count = _entries(world).count()
        response = client.post(_url(world, "web:timeline-message"), {MESSAGE: "bad\x00text"})
        assert response.status_code == 200
        assert "govuk-error-summary" in response.content.decode()
        assert _entries(world).count() == count

    @pytest.mark.parametrize("role", ("finance", "admin"))
    def test_staff_who_are_not_the_navigator_may_not(self, client, sign_in_verified, world, role):
        _sign_in(client, sign_in_verified, world, role)
        count = _entries(world).count()
        assert client.post(_url(world, "web:timeline-message"), {MESSAGE: "Hello"}).status_code == 403
        assert _entries(world).count() == count

    def test_a_get_is_not_allowed(self, client, world):
        client.force_login(world.users["holder"])
        assert client.get(_url(world, "web:timeline-message")).status_code == 405


class TestNotes:
    def test_the_navigator_adds_a_staff_note(self, client, sign_in_verified, world):
        sign_in_verified(client, world.users["navigator"])
        response = client.post(_url(world, "web:timeline-note"), {NOTE: "Called Alex."})
        assert response.status_code == 302
        note = _entries(world).get(kind="note")
        assert note.visibility == TimelineVisibility.STAFF and note.body == "Called Alex."

    def test_the_navigator_shares_a_note(self, client, sign_in_verified, world):
        sign_in_verified(client, world.users["navigator"])
        client.post(_url(world, "web:timeline-note"), {NOTE: "See you soon.", "note-shared": "on"})
        assert _entries(world).get(kind="note").visibility == TimelineVisibility.SHARED

    def test_an_empty_note_shows_the_error_and_adds_nothing(self, client, sign_in_verified, world):
        sign_in_verified(client, world.users["navigator"])
        response = client.post(_url(world, "web:timeline-note"), {NOTE: ""})
        html = response.content.decode()
        assert response.status_code == 200
        assert '<a href="#id_note-text">Enter the note</a>' in html
        assert not _entries(world).filter(kind="note").exists()

    @pytest.mark.parametrize("role", ("holder", "rep_approve", "rep_view"))
    def test_the_persons_side_may_not_add_notes(self, client, world, role):
        client.force_login(world.users[role])
        assert client.post(_url(world, "web:timeline-note"), {NOTE: "Hello"}).status_code == 403
        assert not _entries(world).filter(kind="note").exists()


class TestCorrectingANote:
    @pytest.fixture
    def note(self, world):
        return note_add(
            budget_holder=world.base.alex, author=world.users["navigator"], text="Met on Monday", shared=True
        )

    def test_the_author_is_offered_to_correct_it(self, client, sign_in_verified, world, note):
        sign_in_verified(client, world.users["navigator"])
        html = client.get(_url(world)).content.decode()
        assert _url(world, "web:timeline-note-correct", note.public_id) in html
        response = client.get(_url(world, "web:timeline-note-correct", note.public_id))
        assert response.status_code == 200
        assert "Met on Monday" in response.content.decode()

    def test_the_correction_is_a_new_entry_and_the_note_stays(self, client, sign_in_verified, world, note):
        sign_in_verified(client, world.users["navigator"])
        response = client.post(
            _url(world, "web:timeline-note-correct", note.public_id), {"text": "Met on Tuesday"}
        )
        assert response.status_code == 302
        correction = _entries(world).get(corrects=note)
        assert correction.body == "Met on Tuesday"
        note.refresh_from_db()
        assert note.body == "Met on Monday"
        html = client.get(_url(world)).content.decode()
        assert "This note has been corrected" in html
        assert _url(world, "web:timeline-note-correct", note.public_id) not in html

    def test_correcting_twice_shows_the_error_and_changes_nothing(
        self, client, sign_in_verified, world, note
    ):
        sign_in_verified(client, world.users["navigator"])
        client.post(_url(world, "web:timeline-note-correct", note.public_id), {"text": "Met on Tuesday"})
        response = client.post(
            _url(world, "web:timeline-note-correct", note.public_id), {"text": "Wednesday"}
        )
        assert response.status_code == 200
        assert "govuk-error-summary" in response.content.decode()
        assert _entries(world).filter(corrects=note).count() == 1

    def test_an_empty_correction_shows_the_error(self, client, sign_in_verified, world, note):
        sign_in_verified(client, world.users["navigator"])
        response = client.post(_url(world, "web:timeline-note-correct", note.public_id), {"text": ""})
        assert '<a href="#id_text">Enter the corrected note</a>' in response.content.decode()
        assert not _entries(world).filter(corrects=note).exists()

    @pytest.mark.parametrize("role", ("finance", "admin"))
    def test_someone_else_may_not(self, client, sign_in_verified, world, note, role):
        _sign_in(client, sign_in_verified, world, role)
        url = _url(world, "web:timeline-note-correct", note.public_id)
        assert client.get(url).status_code == 403
        assert client.post(url, {"text": "Nope"}).status_code == 403
        assert not _entries(world).filter(corrects=note).exists()

    def test_the_person_may_not(self, client, world, note):
        client.force_login(world.users["holder"])
        assert (
            client.post(_url(world, "web:timeline-note-correct", note.public_id), {"text": "x"}).status_code
            == 403
        )

    def test_a_message_cannot_be_corrected(self, client, sign_in_verified, world):
        message = message_send(budget_holder=world.base.alex, sender=world.users["navigator"], text="Hi")
        sign_in_verified(client, world.users["navigator"])
        assert client.get(_url(world, "web:timeline-note-correct", message.public_id)).status_code == 404

    def test_a_staff_note_is_not_found_by_the_person(self, client, world):
        note = note_add(
            budget_holder=world.base.alex, author=world.users["navigator"], text="Private", shared=False
        )
        client.force_login(world.users["holder"])
        assert client.get(_url(world, "web:timeline-note-correct", note.public_id)).status_code == 404


class TestQueries:
    def test_the_page_does_not_grow_with_entries(self, client, world, django_assert_max_num_queries):
        client.force_login(world.users["holder"])
        with django_assert_max_num_queries(40) as few:
            client.get(_url(world))
        for number in range(30):
            message_send(budget_holder=world.base.alex, sender=world.users["navigator"], text=f"M{number}")
        with django_assert_max_num_queries(len(few.captured_queries)):
            assert client.get(_url(world)).status_code == 200
