"""Reads of the services a provider keeps in the directory, and who may edit them.

A provider's users keep the services of the provider's directory organisation; administrators may edit any.
Anyone else is told a service does not exist (`DirectoryServiceNotFound`, 404), exactly as for one that
does not, so that a listing's existence is not given away by a different answer.
"""

import uuid
from datetime import date

from django.db.models import BooleanField, Case, Prefetch, Value, When

from directory.models import Address, Contact, DirectoryOrganisation, Service, ServiceAtLocation
from directory.rules import review_due_on, stale_q
from ledger.errors import DomainError
from people.models import Organisation, Role, User


class DirectoryServiceNotFound(DomainError):
    code = "directory_service_not_found"
    message = "There is no such service, or you may not change it."
    http_status = 404


def may_edit_listings_of(*, by: User, organisation: DirectoryOrganisation | None) -> bool:
    """Whether `by` may change the services and places of `organisation` (None: a place of nobody's)."""
    if by is None or not by.is_authenticated or not by.is_active:
        return False
    if by.role == Role.ADMINISTRATOR:
        return True
    return (
        by.role == Role.PROVIDER_USER
        and organisation is not None
        and organisation.provider_id is not None
        and organisation.provider_id == by.organisation_id
    )


def services_for_provider(*, provider: Organisation, today: date) -> list[Service]:
    """The provider's services, those needing a review first, then by name; each has `is_stale` and
    `review_due_on` (the day it becomes stale; None when never reviewed)."""
    services = list(
        Service.objects.filter(organisation__provider=provider)
        .select_related("organisation")
        .annotate(
            is_stale=Case(
                When(stale_q(today), then=Value(True)), default=Value(False), output_field=BooleanField()
            )
        )
        .order_by("-is_stale", "name", "id")
    )
    for service in services:
        service.review_due_on = review_due_on(service.assured_date)
    return services


def service_for_editor(*, by: User, service_id: uuid.UUID | str) -> Service:
    """The service with its places, contacts, costs, schedules, areas and terms, if `by` may edit it.

    Raises DirectoryServiceNotFound for a service that does not exist or that `by` may not edit.
    """
    try:
        pk = service_id if isinstance(service_id, uuid.UUID) else uuid.UUID(str(service_id))
    except ValueError:
        raise DirectoryServiceNotFound() from None
    service = (
        Service.objects.select_related("organisation")
        .prefetch_related(
            "phones",
            Prefetch("contacts", queryset=Contact.objects.prefetch_related("phones").order_by("name", "id")),
            "cost_options__catalogue_service",
            "schedules",
            "service_areas",
            Prefetch(
                "service_at_locations",
                queryset=ServiceAtLocation.objects.select_related("location").prefetch_related(
                    Prefetch("location__addresses", queryset=Address.objects.order_by("id"))
                ),
            ),
            "attributes__taxonomy_term",
        )
        .filter(pk=pk)
        .first()
    )
    if service is None or not may_edit_listings_of(by=by, organisation=service.organisation):
        raise DirectoryServiceNotFound()
    return service
