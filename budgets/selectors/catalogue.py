"""Reading funding streams and their rate catalogues as they stand on a date."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Prefetch, Q, QuerySet

from budgets.models import FundingStream, OnCostRule, Rate, Service
from ledger.errors import DomainError


class UnknownStream(DomainError):
    code = "unknown_stream"
    message = "There is no funding stream with that code."
    http_status = 404


class UnknownService(DomainError):
    code = "unknown_service"
    message = "There is no service with that code in any rate catalogue."


class RateNotValid(DomainError):
    code = "rate_not_valid"
    message = "The service has no rate on that date."


@dataclass(frozen=True)
class RatedService:
    """A catalogue service with the rate in force on a date, and that rate's effective end."""

    service: Service
    rate: Rate
    valid_to: date | None
    on_cost_rules: tuple[OnCostRule, ...]


def stream_list(*, active_only: bool = True) -> QuerySet[FundingStream]:
    """Funding streams with their agency and spending categories (a fixed number of queries)."""
    streams = FundingStream.objects.select_related("agency").prefetch_related("spending_categories")
    if active_only:
        streams = streams.filter(is_active=True)
    return streams.order_by("code")


def stream_get(*, code: str) -> FundingStream:
    """One stream by its code; raises UnknownStream."""
    try:
        return FundingStream.objects.select_related("agency").get(code=code)
    except FundingStream.DoesNotExist:
        raise UnknownStream(f"There is no funding stream with the code {code!r}.") from None


def _on_costs_on(on: date) -> Q:
    return Q(valid_from__lte=on) & (Q(valid_to__isnull=True) | Q(valid_to__gte=on))


def _rated(service: Service, on: date) -> RatedService | None:
    """The service's rate on `on` from its prefetched rates (newest first), or None if it has none."""
    rates = list(service.rates.all())  # prefetched, newest valid_from first
    for index, rate in enumerate(rates):
        if rate.valid_from <= on and (rate.valid_to is None or rate.valid_to >= on):
            newer = rates[index - 1] if index > 0 else None
            ends = [d for d in (rate.valid_to, newer.valid_from - timedelta(days=1) if newer else None) if d]
            return RatedService(
                service=service,
                rate=rate,
                valid_to=min(ends) if ends else None,
                on_cost_rules=tuple(rule for rule in service.on_cost_rules.all() if _rule_applies(rule, on)),
            )
        if rate.valid_from <= on:
            return None  # the latest rate that started by then has ended: no rate on that date
    return None


def _rule_applies(rule: OnCostRule, on: date) -> bool:
    return rule.valid_from <= on and (rule.valid_to is None or rule.valid_to >= on)


def _services_with_rates() -> QuerySet[Service]:
    return Service.objects.select_related("stream", "category").prefetch_related(
        Prefetch("rates", queryset=Rate.objects.order_by("-valid_from")),
        Prefetch("on_cost_rules", queryset=OnCostRule.objects.order_by("pk")),
    )


def stream_services_on(*, stream: FundingStream, on: date) -> list[RatedService]:
    """The stream's catalogue as it stands on a date: each active service with a rate then, by code."""
    services = _services_with_rates().filter(stream=stream, is_active=True).order_by("service_code")
    return [rated for service in services if (rated := _rated(service, on)) is not None]


def service_rate_on(*, service_code: str, on: date) -> RatedService:
    """A service's rate on a date; raises UnknownService or RateNotValid."""
    service = _services_with_rates().filter(service_code=service_code).first()
    if service is None or not service.is_active:
        raise UnknownService(f"There is no service {service_code!r} in any rate catalogue.")
    rated = _rated(service, on)
    if rated is None:
        raise RateNotValid(f"Service {service_code} has no rate on {on.isoformat()}.")
    return rated


def stream_on_cost_rules_on(*, stream: FundingStream, on: date) -> list[OnCostRule]:
    """On-cost rules attached to the whole stream, in force on a date."""
    return list(OnCostRule.objects.filter(_on_costs_on(on), stream=stream).order_by("pk"))


def services_rated_on(*, service_codes: Iterable[str], on: date) -> dict[str, RatedService | None]:
    """Many services' rates on a date in a fixed number of queries, by service code.

    A code maps to its rated service, or to None when the service has no rate on that date; codes of
    unknown or inactive services are left out (the caller reports them, as `service_rate_on` would).
    """
    codes = set(service_codes)
    if not codes:
        return {}
    services = _services_with_rates().filter(service_code__in=codes, is_active=True)
    return {service.service_code: _rated(service, on) for service in services}
