"""Searching the directory for services: by need or kind (taxonomy terms), by words, by what they cost and
which funding stream can pay, and by distance from a postcode.

Which services match
- Status: active and temporarily closed ones; `include_inactive` adds inactive and defunct ones.
- Terms: a service matches when one of its attributes is a chosen term or a descendant of one (children,
  grandchildren... up to 4 levels down, resolved with at most 4 small queries). Several terms: any of them.
- Words: every word must be in the service's name (or alternate name), one of its terms' names, or its
  description (case-insensitive; `icontains`, so the same on SQLite and PostgreSQL).
- Cost: only cost options valid today count. A service with no such option, or one with no amount or 0, is
  free; its lowest cost is the least of its options (free ones count as 0). `max_cost` keeps services whose
  lowest cost is at most that many pounds; `stream_code` keeps those with an option paid from a catalogue
  service of that funding stream.
- Distance: `within_miles` of the postcode keeps services with a place that near (a bounding box on the
  indexed coordinates, then the distance below).

How they are ranked, all in SQL so that a page is the same page however the query is run
0. Open first: active, then temporarily closed (then inactive, defunct when included).
1. Relevance: a service with a chosen term itself before one with only a descendant of it; then the words:
   each word scores 3 in the name, 2 in a term's name, 1 in the description (its best place), summed.
2. Nearer first, when a postcode is given: the nearest of the service's places, by the equirectangular
   approximation (d_lat² + (d_lon·cos lat₀)², with cos lat₀ worked out once in Python, so no trigonometry in
   SQL); services with no place that has coordinates come last. The distance shown is the haversine one.
3. Reviewed in the last 6 months before stale (`directory.rules`).
4. Most recently reviewed first (never reviewed last).
5. Name, then id, so that equal services keep one order from page to page.

The page's places, cost options and streams come in a fixed number of queries, whatever the page size.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from uuid import UUID

from django.db.models import (
    BooleanField,
    Case,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast
from django.utils import timezone

from budgets.models import FundingStream
from directory.models import (
    Attribute,
    CostOption,
    DirectoryOrganisation,
    Location,
    Service,
    ServiceAtLocation,
    ServiceStatus,
    TaxonomyTerm,
)
from directory.postcodes import EARTH_RADIUS_MILES, PostcodePoint, distance_miles, postcode_locate
from directory.rules import is_stale, stale_q
from ledger.errors import DomainError

PAGE_SIZE_DEFAULT = 20
PAGE_SIZE_MAX = 50
TERM_DEPTH = 4
WORDS_MAX = 8
WORD_LENGTH_MAX = 60
MILES_PER_DEGREE = EARTH_RADIUS_MILES * math.pi / 180
OPEN_STATUSES = (ServiceStatus.ACTIVE, ServiceStatus.TEMPORARILY_CLOSED)
_ZERO = Decimal("0.00")


class InvalidSearch(DomainError):
    code = "invalid_search"
    http_status = 422

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class ServiceSearch:
    """What a person searches for; every part is optional and the parts narrow each other."""

    text: str = ""
    term_ids: Sequence[UUID | str] = ()
    free_only: bool = False
    max_cost: Decimal | None = None
    stream_code: str | None = None
    postcode: str | None = None
    within_miles: Decimal | None = None
    include_inactive: bool = False
    page: int = 1
    page_size: int = PAGE_SIZE_DEFAULT


@dataclass(frozen=True)
class SearchResult:
    """One service found, with what a person needs to choose it."""

    service: Service
    organisation: DirectoryOrganisation
    locations: tuple[Location, ...]
    nearest_location: Location | None
    distance_miles: Decimal | None
    is_free: bool
    lowest_cost: Decimal
    streams: tuple[FundingStream, ...]
    last_reviewed_date: date | None
    is_stale: bool


@dataclass(frozen=True)
class SearchResults:
    """One page of results, the number found in all, and where the postcode searched from is."""

    results: tuple[SearchResult, ...]
    total: int
    page: int
    page_size: int
    origin: PostcodePoint | None

    @property
    def page_count(self) -> int:
        return max(1, math.ceil(self.total / self.page_size))

    @property
    def has_next(self) -> bool:
        return self.page < self.page_count


def services_search(*, query: ServiceSearch, today: date | None = None) -> SearchResults:
    """Services matching `query`, ranked as the module docstring says, one page of them.

    Raises InvalidSearch (field named) for a bad amount, distance or page, InvalidPostcode or
    UnknownPostcode (from `directory.postcodes`) for a postcode that cannot be placed.
    """
    today = today or timezone.localdate()
    page, page_size = _checked(query)
    origin = postcode_locate(query.postcode) if query.postcode else None

    services = Service.objects.all()
    if not query.include_inactive:
        services = services.filter(status__in=OPEN_STATUSES)
    services = services.annotate(
        status_rank=Case(
            When(status=ServiceStatus.ACTIVE, then=Value(0)),
            When(status=ServiceStatus.TEMPORARILY_CLOSED, then=Value(1)),
            When(status=ServiceStatus.INACTIVE, then=Value(2)),
            default=Value(3),
            output_field=IntegerField(),
        ),
        stale=Case(When(stale_q(today), then=Value(True)), default=Value(False), output_field=BooleanField()),
    )
    services = _by_terms(services, query.term_ids)
    services = _by_words(services, query.text)
    services = _by_cost(services, query, today)
    if origin is not None:
        services = _by_distance(services, origin, query.within_miles)

    ordering = ["status_rank", F("term_rank").desc(), F("text_rank").desc()]
    if origin is not None:
        ordering.append(F("nearest_d2").asc(nulls_last=True))
    ordering += ["stale", F("assured_date").desc(nulls_last=True), "name", "id"]

    total = services.count()
    start = (page - 1) * page_size
    found = list(
        services.select_related("organisation")
        .order_by(*ordering)
        .prefetch_related(
            Prefetch(
                "service_at_locations",
                queryset=ServiceAtLocation.objects.select_related("location")
                .prefetch_related("location__addresses")
                .order_by("location__name", "id"),
                to_attr="places",
            ),
            Prefetch(
                "cost_options",
                queryset=CostOption.objects.filter(_current(today))
                .select_related("catalogue_service__stream")
                .order_by("amount", "id"),
                to_attr="current_cost_options",
            ),
        )[start : start + page_size]
    )
    return SearchResults(
        results=tuple(_result(service, origin, today) for service in found),
        total=total,
        page=page,
        page_size=page_size,
        origin=origin,
    )


def _term_ids(term_ids: Sequence[UUID | str]) -> set[UUID]:
    try:
        return {term_id if isinstance(term_id, UUID) else UUID(str(term_id)) for term_id in term_ids}
    except ValueError:
        raise InvalidSearch("Choose needs or kinds of service from the list.", field="term_ids") from None


def _checked(query: ServiceSearch) -> tuple[int, int]:
    if query.max_cost is not None and (not query.max_cost.is_finite() or query.max_cost < 0):
        raise InvalidSearch("Enter a most you will pay of £0 or more.", field="max_cost")
    if query.within_miles is not None:
        if not query.postcode:
            raise InvalidSearch("Enter a postcode to search within a distance of it.", field="postcode")
        if not query.within_miles.is_finite() or query.within_miles <= 0 or query.within_miles > 1000:
            raise InvalidSearch("Enter a distance between 0.1 and 1000 miles.", field="within_miles")
    if query.page < 1:
        raise InvalidSearch("The page number must be 1 or more.", field="page")
    if not 1 <= query.page_size <= PAGE_SIZE_MAX:
        raise InvalidSearch(f"A page holds 1 to {PAGE_SIZE_MAX} services.", field="page_size")
    return query.page, query.page_size


def _descendants(term_ids: set[UUID]) -> set[UUID]:
    """The terms under these, up to TERM_DEPTH levels down, one query a level (a loop in the data stops)."""
    found: set[UUID] = set()
    frontier = set(term_ids)
    for _ in range(TERM_DEPTH):
        if not frontier:
            break
        children = set(TaxonomyTerm.objects.filter(parent_id__in=frontier).values_list("id", flat=True))
        frontier = children - found - term_ids
        found |= frontier
    return found


def _by_terms(services: QuerySet[Service], term_ids: Sequence[UUID | str]) -> QuerySet[Service]:
    if not term_ids:
        return services.annotate(term_rank=Value(0, output_field=IntegerField()))
    chosen = _term_ids(term_ids)
    below = _descendants(chosen)
    has_chosen = Exists(Attribute.objects.filter(service=OuterRef("pk"), taxonomy_term_id__in=chosen))
    ranks = [When(has_chosen, then=Value(2))]
    if below:
        has_below = Exists(Attribute.objects.filter(service=OuterRef("pk"), taxonomy_term_id__in=below))
        ranks.append(When(has_below, then=Value(1)))
    services = services.annotate(term_rank=Case(*ranks, default=Value(0), output_field=IntegerField()))
    return services.filter(term_rank__gt=0)


def _words(text: str) -> list[str]:
    words: list[str] = []
    for word in (text or "").split():
        word = word[:WORD_LENGTH_MAX]
        if word.lower() not in (w.lower() for w in words):
            words.append(word)
    return words[:WORDS_MAX]


def _by_words(services: QuerySet[Service], text: str) -> QuerySet[Service]:
    words = _words(text)
    if not words:
        return services.annotate(text_rank=Value(0, output_field=IntegerField()))
    scores = {}
    for index, word in enumerate(words):
        in_term = Exists(
            Attribute.objects.filter(service=OuterRef("pk"), taxonomy_term__name__icontains=word)
        )
        scores[f"word_{index}"] = Case(
            When(Q(name__icontains=word) | Q(alternate_name__icontains=word), then=Value(3)),
            When(in_term, then=Value(2)),
            When(description__icontains=word, then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        )
    services = services.annotate(**scores).filter(**{f"{name}__gt": 0 for name in scores})
    total = sum((F(name) for name in scores), start=Value(0))
    return services.annotate(text_rank=ExpressionWrapper(total, output_field=IntegerField()))


def _current(today: date) -> Q:
    return (Q(valid_from__isnull=True) | Q(valid_from__lte=today)) & (
        Q(valid_to__isnull=True) | Q(valid_to__gte=today)
    )


def _by_cost(services: QuerySet[Service], query: ServiceSearch, today: date) -> QuerySet[Service]:
    # Amounts are compared with the column itself (never an annotation), so SQLite compares numbers.
    options = CostOption.objects.filter(_current(today), service=OuterRef("pk"))
    free = Q(amount__isnull=True) | Q(amount=0)
    if query.free_only:
        services = services.filter(~Exists(options) | Exists(options.filter(free)))
    if query.max_cost is not None:
        services = services.filter(
            ~Exists(options) | Exists(options.filter(free | Q(amount__lte=query.max_cost)))
        )
    if query.stream_code:
        services = services.filter(Exists(options.filter(catalogue_service__stream__code=query.stream_code)))
    return services


def _by_distance(
    services: QuerySet[Service], origin: PostcodePoint, within_miles: Decimal | None
) -> QuerySet[Service]:
    lat0, lon0 = float(origin.latitude), float(origin.longitude)
    shrink = math.cos(math.radians(lat0))
    d_lat = Cast("location__latitude", FloatField()) - Value(lat0)
    d_lon = (Cast("location__longitude", FloatField()) - Value(lon0)) * Value(shrink)
    nearest = (
        ServiceAtLocation.objects.filter(service=OuterRef("pk"), location__latitude__isnull=False)
        .annotate(d2=ExpressionWrapper(d_lat * d_lat + d_lon * d_lon, output_field=FloatField()))
        .order_by("d2")
        .values("d2")[:1]
    )
    services = services.annotate(nearest_d2=Subquery(nearest, output_field=FloatField()))
    if within_miles is None:
        return services
    degrees = float(within_miles) / MILES_PER_DEGREE
    lat_margin = Decimal(repr(degrees)).quantize(Decimal("0.000001"))
    lon_margin = Decimal(repr(degrees / max(shrink, 0.01))).quantize(Decimal("0.000001"))
    in_box = Exists(
        ServiceAtLocation.objects.filter(
            service=OuterRef("pk"),
            location__latitude__gte=origin.latitude - lat_margin,
            location__latitude__lte=origin.latitude + lat_margin,
            location__longitude__gte=origin.longitude - lon_margin,
            location__longitude__lte=origin.longitude + lon_margin,
        )
    )
    return services.filter(in_box, nearest_d2__lte=degrees * degrees)


def _result(service: Service, origin: PostcodePoint | None, today: date) -> SearchResult:
    locations = tuple(place.location for place in service.places)
    nearest, miles = None, None
    if origin is not None:
        placed = [loc for loc in locations if loc.latitude is not None and loc.longitude is not None]
        measured = [
            (distance_miles(origin.latitude, origin.longitude, loc.latitude, loc.longitude), index, loc)
            for index, loc in enumerate(placed)
        ]
        if measured:
            miles, _, nearest = min(measured, key=lambda item: (item[0], item[1]))
    options = service.current_cost_options
    amounts = [option.amount if option.amount is not None else _ZERO for option in options]
    lowest = min(amounts, default=_ZERO)
    streams: dict[int, FundingStream] = {}
    for option in options:
        if option.catalogue_service is not None:
            streams.setdefault(option.catalogue_service.stream_id, option.catalogue_service.stream)
    return SearchResult(
        service=service,
        organisation=service.organisation,
        locations=locations,
        nearest_location=nearest,
        distance_miles=miles,
        is_free=lowest == 0,
        lowest_cost=lowest,
        streams=tuple(sorted(streams.values(), key=lambda stream: stream.code)),
        last_reviewed_date=service.assured_date,
        is_stale=is_stale(service, today),
    )
