"""Who sees which agency statement: finance officers and administrators every stream's; an agency officer
only their own agency's streams. The API and the pages both ask here."""

from typing import Any

from django.db.models import QuerySet

from budgets.models import FundingStream
from people.models import Role

SEE_EVERY_STREAM = (Role.FINANCE_OFFICER, Role.ADMINISTRATOR)


def sees_stream_statements(user: Any) -> bool:
    """Whether `user` sees any agency statement at all."""
    role = getattr(user, "role", None)
    return role in SEE_EVERY_STREAM or (
        role == Role.AGENCY_OFFICER and getattr(user, "organisation_id", None) is not None
    )


def sees_stream_statement(user: Any, stream: FundingStream) -> bool:
    """Whether `user` sees this stream's statements."""
    if not sees_stream_statements(user):
        return False
    return user.role in SEE_EVERY_STREAM or user.organisation_id == stream.agency_id


def streams_with_statements_for(user: Any, streams: QuerySet[FundingStream]) -> QuerySet[FundingStream]:
    """The streams of `streams` whose statements `user` sees."""
    if not sees_stream_statements(user):
        return streams.none()
    if user.role in SEE_EVERY_STREAM:
        return streams
    return streams.filter(agency_id=user.organisation_id)
