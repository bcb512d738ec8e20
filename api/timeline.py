"""A person's case timeline: read it, write a note, send a message.

* `GET /api/v1/people/{id}/timeline/`: the entries the caller may read, newest first, cursor-paginated
  (`page_size` up to 200). Who sees which entries, in whose words, is `plans.selectors.timeline`'s module
  docstring: the person and their representatives read the shared entries in plain English; the navigator,
  finance and administrators read every entry with the staff detail; an agency officer reads only the
  entries about their own agency's streams.
* `POST /api/v1/people/{id}/notes/` `{"text": "...", "shared": false}`: the person's navigator, a finance
  officer or an administrator writes a note, shared with the person or (the default) staff only.
* `POST /api/v1/people/{id}/messages/` `{"text": "..."}`: the person, a representative or their navigator
  sends a message; the person and everyone on their side read it.

An entry: `id`, `at` (UTC), `kind` (`message`, `note`, `instalment.due`, `plan.agreed`, ...), `text` (the
words this caller reads), `body` (a message's or note's own words, or the reason someone gave, such as an
agency's for returning a plan; empty otherwise), `by` (`{"name", "role"}`, or null for the system),
`visibility` (`shared` or `staff`; staff callers only), `stream` (the funding stream's code, or null),
`corrects` (the entry this one corrects, or null) and `corrected_by` (the newest correction of this one, or
null), so that a reader of an old note knows it was corrected.

A person the caller may not see, or whose timeline is not theirs to read (a provider, even one engaged by
the person), answers 404, as if there were nobody there. A person whose timeline the caller reads but may not
write to in that way answers 403 (an agency officer sending a message). Both POSTs accept an
`Idempotency-Key` header (api.md), as every POST does (api/idempotency.py). Errors are problem details.
"""

import datetime
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.pagination import CursorPagination
from people.access import budget_holders_visible_to
from people.models import BudgetHolder, Role, User
from plans.models import TimelineEntry, TimelineVisibility
from plans.selectors.timeline import timeline_audience, timeline_entry_get, timeline_for_person
from plans.services.messages import TEXT_MAX_LENGTH, message_send, note_add

# Serializers --------------------------------------------------------------------------------------------


class TimelineActorSerializer(serializers.Serializer):
    name = serializers.SerializerMethodField()
    role = serializers.ChoiceField(choices=Role.choices)

    def get_name(self, user: User) -> str:
        return user.get_full_name() or user.username


class TimelineEntrySerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id")
    at = serializers.DateTimeField(default_timezone=datetime.UTC)
    kind = serializers.CharField(help_text="What happened: message, note, instalment.due, plan.agreed, ...")
    text = serializers.CharField(
        help_text="The words this caller reads: plain English for the person, the detail for staff."
    )
    body = serializers.CharField(
        help_text="A message's or note's own words, or the reason someone gave; empty otherwise."
    )
    by = TimelineActorSerializer(
        source="actor", allow_null=True, help_text="Who did it; null when Purse itself did."
    )
    visibility = serializers.ChoiceField(
        choices=TimelineVisibility.choices,
        required=False,
        help_text="Whether the person reads it: given to staff callers only.",
    )
    stream = serializers.CharField(
        source="stream.code", allow_null=True, help_text="The funding stream it is about, if any."
    )
    corrects = serializers.CharField(
        source="corrects_public_id", allow_null=True, help_text="The entry this one corrects, if any."
    )
    corrected_by = serializers.CharField(
        source="corrected_by_public_id",
        allow_null=True,
        help_text="The newest correction of this entry, if any.",
    )

    def to_representation(self, entry: TimelineEntry) -> dict[str, Any]:
        data = super().to_representation(entry)
        if not entry.shows_staff_detail:
            data.pop("visibility", None)
        return data


class TextField(serializers.CharField):
    """A JSON string, never a number coerced to one (a wrong type is a malformed request)."""

    default_error_messages = {"invalid": "Write the text as a JSON string."}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """A JSON true or false, never "yes", 1 or "true" read as one."""

    default_error_messages = {"invalid": "Write true or false (a JSON boolean, not in quotes)."}

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class NoteInputSerializer(serializers.Serializer):
    # Blank or too long is a broken rule (422, from the service), not a malformed request.
    text = TextField(
        allow_blank=True, trim_whitespace=False, help_text=f"At most {TEXT_MAX_LENGTH:,} characters."
    )
    shared = StrictBooleanField(
        required=False,
        default=False,
        help_text="True: the person and their representatives read it. False (the default): staff only.",
    )


class MessageInputSerializer(serializers.Serializer):
    text = TextField(
        allow_blank=True, trim_whitespace=False, help_text=f"At most {TEXT_MAX_LENGTH:,} characters."
    )


class TimelineProblemErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    pointer = serializers.CharField()
    detail = serializers.CharField()


class TimelineProblemSerializer(serializers.Serializer):
    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    errors = TimelineProblemErrorSerializer(many=True, required=False)


def _problem(description: str) -> OpenApiResponse:
    return OpenApiResponse(response=TimelineProblemSerializer, description=description)


_PERSON = OpenApiParameter(
    "per", OpenApiTypes.STR, OpenApiParameter.PATH, description="The person's id (per_...)."
)
_WRITE_RESPONSES = {
    400: _problem("The request is malformed: not JSON, text missing or not a string."),
    401: _problem("No or bad credentials."),
    404: _problem("No such person, or not one whose timeline you may read."),
    422: _problem("The text is empty or longer than allowed (text_required, text_too_long)."),
}


# Views --------------------------------------------------------------------------------------------------


def _visible_person(user: Any, per: str) -> BudgetHolder:
    """The budget holder `per` if the caller may see them and read their timeline; 404 otherwise."""
    holder = budget_holders_visible_to(user).filter(public_id=per).first()
    if holder is None or timeline_audience(budget_holder=holder, viewer=user) is None:
        raise NotFound()
    return holder


class TimelinePagination(CursorPagination):
    ordering = ("-at", "-id")


class TimelineView(generics.ListAPIView):
    """The person's case timeline as the caller may read it, newest first."""

    serializer_class = TimelineEntrySerializer
    pagination_class = TimelinePagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no person to look up
            return TimelineEntry.objects.none()
        holder = budget_holders_visible_to(self.request.user).filter(public_id=self.kwargs["per"]).first()
        if holder is None:
            raise NotFound()
        return timeline_for_person(budget_holder=holder, viewer=self.request.user)

    @extend_schema(
        operation_id="people_timeline_list",
        summary="Read a person's case timeline",
        parameters=[_PERSON],
        responses={
            200: TimelineEntrySerializer(many=True),
            401: _problem("No or bad credentials."),
            404: _problem("No such person, or not one whose timeline you may read."),
        },
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)


class NoteView(APIView):
    """Write a note on the person's timeline: their navigator, a finance officer or an administrator."""

    @extend_schema(
        operation_id="people_notes_create",
        summary="Write a note on a person's timeline",
        parameters=[_PERSON],
        request=NoteInputSerializer,
        responses={
            201: TimelineEntrySerializer,
            **_WRITE_RESPONSES,
            403: _problem("Only the person's navigator, finance officers and administrators write notes."),
        },
    )
    def post(self, request: Request, per: str) -> Response:
        holder = _visible_person(request.user, per)
        data = NoteInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        entry = note_add(
            budget_holder=holder,
            author=request.user,
            text=data.validated_data["text"],
            shared=data.validated_data["shared"],
        )
        return _created(holder, request.user, entry)


class MessageView(APIView):
    """Send a message on the person's timeline: the person, a representative or their navigator."""

    @extend_schema(
        operation_id="people_messages_create",
        summary="Send a message on a person's timeline",
        parameters=[_PERSON],
        request=MessageInputSerializer,
        responses={
            201: TimelineEntrySerializer,
            **_WRITE_RESPONSES,
            403: _problem("Only the person, their representatives and their navigator send messages."),
        },
    )
    def post(self, request: Request, per: str) -> Response:
        holder = _visible_person(request.user, per)
        data = MessageInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        entry = message_send(
            budget_holder=holder,
            sender=request.user,
            text=data.validated_data["text"],
        )
        return _created(holder, request.user, entry)


def _created(holder: BudgetHolder, user: Any, entry: TimelineEntry) -> Response:
    """The new entry as its writer reads it (the same shape as in the timeline)."""
    shown = timeline_entry_get(budget_holder=holder, viewer=user, public_id=entry.public_id)
    return Response(TimelineEntrySerializer(shown).data, status=status.HTTP_201_CREATED)
