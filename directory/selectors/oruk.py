"""The directory as an Open Referral UK file: every service, as the standard's API gives it."""

from collections.abc import Iterator
from typing import Any

from django.db.models import Prefetch

from directory.models import Attribute, CostOption, Service, ServiceAtLocation
from directory.oruk import page_envelope, service_to_oruk

# Everything `service_to_oruk` reads, in a fixed number of queries per batch of services.
SERVICE_PREFETCH = (
    "organisation__identifiers",
    Prefetch(
        "service_at_locations",
        queryset=ServiceAtLocation.objects.select_related("location").prefetch_related(
            "location__addresses", "schedules"
        ),
    ),
    "contacts__phones",
    "phones",
    "schedules",
    "service_areas",
    Prefetch("cost_options", queryset=CostOption.objects.select_related("catalogue_service")),
    "languages",
    "funding",
    Prefetch("attributes", queryset=Attribute.objects.select_related("taxonomy_term__taxonomy")),
)


def services_oruk(*, batch_size: int = 200) -> Iterator[dict[str, Any]]:
    """Each service in the standard's shape, in id order, a batch at a time (never the whole table)."""
    after = None
    while True:
        services = Service.objects.select_related("organisation").order_by("id")
        if after is not None:
            services = services.filter(id__gt=after)
        batch = list(services.prefetch_related(*SERVICE_PREFETCH)[:batch_size])
        if not batch:
            return
        yield from (service_to_oruk(service) for service in batch)
        after = batch[-1].id


def directory_oruk_export() -> dict[str, Any]:
    """The whole directory as one page of the standard's `GET /services` answer, each service in full."""
    contents = list(services_oruk())
    return page_envelope(contents, total_items=len(contents))
