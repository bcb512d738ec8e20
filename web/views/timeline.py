"""The person's timeline: what has happened, newest first; messages between the person (or their
representatives) and their navigator; and staff notes, which their author may correct.

Who may write what is the services' rule (`plans.services.messages`): the page shows a form only to someone
the rule allows, and a POST from anyone else is refused (403).
"""

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.generic import TemplateView

from ledger.errors import DomainError
from plans.models import TimelineEntry
from plans.selectors.timeline import TimelineNotVisible, timeline_entry_get, timeline_for_person
from plans.services.messages import (
    KIND_NOTE,
    CorrectionNotAllowed,
    MessageNotAllowed,
    NoteNotAllowed,
    message_send,
    message_sender_allowed,
    note_add,
    note_author_allowed,
    note_correct,
)
from web.forms.timeline import MessageForm, NoteCorrectForm, NoteForm
from web.views.common import PersonPageMixin, add_domain_error, paginate

TEXT_FIELDS = {"/text": "text"}


class TimelineView(PersonPageMixin, TemplateView):
    """The timeline with the forms this viewer may use; the POST views below render it again on an error."""

    template_name = "web/timeline/timeline.html"
    person_tab = "web:timeline"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        user = self.request.user
        may_message = message_sender_allowed(user=user, budget_holder=self.person)
        may_note = note_author_allowed(user=user, budget_holder=self.person)
        page = paginate(self.request, timeline_for_person(budget_holder=self.person, viewer=user))
        message_form = kwargs.get("message_form") or (MessageForm(prefix="message") if may_message else None)
        note_form = kwargs.get("note_form") or (NoteForm(prefix="note") if may_note else None)
        context.update(
            page=page,
            entries=page.object_list,
            message_form=message_form,
            note_form=note_form,
            # The form with errors, for the page title and the error summary.
            form=kwargs.get("message_form") or kwargs.get("note_form"),
            may_correct=may_note,
            kind_note=KIND_NOTE,
        )
        return context


class MessageSendView(TimelineView):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not message_sender_allowed(user=request.user, budget_holder=self.person):
            raise PermissionDenied(MessageNotAllowed.message)
        form = MessageForm(prefix="message", data=request.POST)
        if form.is_valid():
            try:
                message_send(budget_holder=self.person, sender=request.user, text=form.cleaned_data["text"])
            except MessageNotAllowed as error:
                raise PermissionDenied(error.message) from None
            except DomainError as error:
                add_domain_error(form, error, fields=TEXT_FIELDS)
            else:
                messages.success(request, "Message sent.")
                return redirect(reverse("web:timeline", args=[self.person.public_id]))
        return self.render_to_response(self.get_context_data(message_form=form))


class NoteAddView(TimelineView):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not note_author_allowed(user=request.user, budget_holder=self.person):
            raise PermissionDenied(NoteNotAllowed.message)
        form = NoteForm(prefix="note", data=request.POST)
        if form.is_valid():
            try:
                note_add(
                    budget_holder=self.person,
                    author=request.user,
                    text=form.cleaned_data["text"],
                    shared=form.cleaned_data["shared"],
                )
            except NoteNotAllowed as error:
                raise PermissionDenied(error.message) from None
            except DomainError as error:
                add_domain_error(form, error, fields=TEXT_FIELDS)
            else:
                who = "shared with the person" if form.cleaned_data["shared"] else "for staff only"
                messages.success(request, f"Note added, {who}.")
                return redirect(reverse("web:timeline", args=[self.person.public_id]))
        return self.render_to_response(self.get_context_data(note_form=form))


class NoteCorrectView(PersonPageMixin, TemplateView):
    """Correct one's own note: the note and a form (GET), then the correction (POST)."""

    template_name = "web/timeline/note_correct.html"
    person_tab = "web:timeline"

    def _note(self) -> TimelineEntry:
        try:
            entry = timeline_entry_get(
                budget_holder=self.person, viewer=self.request.user, public_id=self.kwargs["tle"]
            )
        except TimelineNotVisible:
            raise Http404("No such note.") from None
        if entry.kind != KIND_NOTE:
            raise Http404("Only a note can be corrected.")
        if entry.actor_id != self.request.user.pk or not note_author_allowed(
            user=self.request.user, budget_holder=self.person
        ):
            raise PermissionDenied(CorrectionNotAllowed.message)
        return entry

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        note = self._note()
        form = NoteCorrectForm(initial={"text": note.body})
        return self.render_to_response(self.get_context_data(note=note, form=form))

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        note = self._note()
        form = NoteCorrectForm(data=request.POST)
        if form.is_valid():
            try:
                note_correct(entry=note, author=request.user, text=form.cleaned_data["text"])
            except CorrectionNotAllowed as error:
                raise PermissionDenied(error.message) from None
            except DomainError as error:
                add_domain_error(form, error, fields=TEXT_FIELDS)
            else:
                messages.success(request, "Note corrected. The original note is still on the timeline.")
                return redirect(reverse("web:timeline", args=[self.person.public_id]))
        return self.render_to_response(self.get_context_data(note=note, form=form))
