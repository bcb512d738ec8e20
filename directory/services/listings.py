"""Writes of the services a provider keeps in the directory: the service itself, where it is offered, who to
contact, what it costs, when it is open, where its users must live and its taxonomy terms; and the review
that keeps it listed.

Who may write: the provider users of the provider behind the service's directory organisation, and
administrators (`directory.selectors.listings.may_edit_listings_of`). Anyone else gets
`DirectoryServiceNotFound` (404), as for a service that does not exist.

Every change of a service's content sets its `last_modified`, not its `assured_date`: reviewing is a separate,
explicit act (`service_review`) that says the whole listing is still right. Values are checked field by field
with the model's own field rules plus the directory's (ages in order, coordinates both or neither, costs in
pounds and pence); every problem is raised at once as `ListingInvalid`, whose `errors` point at the field
("/name", "/amount"), and nothing is changed. Every write appends an audit row ("directory.service_updated").

`services_stale_notify` tells each provider, once, which of its services need a review (directory.rules).
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.core.mail import send_mail
from django.db import models, transaction
from django.utils import timezone

from budgets.models import Service as CatalogueService
from directory.models import (
    Address,
    Attribute,
    Contact,
    CostOption,
    DirectoryOrganisation,
    Location,
    Phone,
    Schedule,
    Service,
    ServiceArea,
    ServiceAtLocation,
    ServiceStatus,
    TaxonomyTerm,
)
from directory.rules import hidden_from_suggestions_on, stale_q
from directory.selectors.listings import DirectoryServiceNotFound, may_edit_listings_of
from ledger.errors import DomainError, DomainErrors
from people.models import Organisation, OrganisationKind, Role, User
from people.services import audit_event_record

SERVICE_FIELDS = (
    "name",
    "alternate_name",
    "description",
    "url",
    "email",
    "status",
    "interpretation_services",
    "application_process",
    "fees_description",
    "accreditations",
    "eligibility_description",
    "minimum_age",
    "maximum_age",
    "alert",
)
LOCATION_FIELDS = (
    "location_type",
    "url",
    "name",
    "alternate_name",
    "description",
    "transportation",
    "latitude",
    "longitude",
    "external_identifier",
    "external_identifier_type",
)
ADDRESS_FIELDS = (
    "attention",
    "address_1",
    "address_2",
    "city",
    "region",
    "state_province",
    "postal_code",
    "country",
    "address_type",
)
CONTACT_FIELDS = ("name", "title", "department", "email")
PHONE_FIELDS = ("number", "extension", "type", "description")
COST_OPTION_FIELDS = (
    "valid_from",
    "valid_to",
    "option",
    "currency",
    "amount",
    "amount_description",
    "catalogue_service",
)
SCHEDULE_FIELDS = (
    "valid_from",
    "valid_to",
    "dtstart",
    "timezone",
    "until",
    "count",
    "wkst",
    "freq",
    "interval",
    "byday",
    "byweekno",
    "bymonthday",
    "byyearday",
    "description",
    "opens_at",
    "closes_at",
    "schedule_link",
    "attending_type",
    "notes",
)
SERVICE_AREA_FIELDS = ("name", "description", "extent", "extent_type", "uri")
SERVICE_AT_LOCATION_FIELDS = ("description",)
ATTRIBUTE_FIELDS = ("link_type", "value", "label")
CURRENCIES = ("GBP",)
FREQUENCIES = ("", "WEEKLY", "MONTHLY")
REASON_MAX = 500

# Errors -------------------------------------------------------------------------------------------------


class ListingInvalid(DomainErrors):
    """Values that cannot be saved: `errors` lists each as {code, pointer, detail}; `field` names the field
    when there is one problem."""

    summary = "This listing cannot be saved as it stands"

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__(errors)
        self.field = self.errors[0]["pointer"].lstrip("/") if len(self.errors) == 1 else None


class ListingRecordNotFound(DomainError):
    code = "directory_record_not_found"
    message = "There is no such record, or you may not change it."
    http_status = 404


class ProviderNotFound(DomainError):
    code = "provider_not_found"
    message = "There is no such provider, or you may not keep its listings."
    http_status = 404


class LocationInUse(DomainError):
    code = "location_in_use"
    message = "Services are still offered at this place: take them off it first."
    http_status = 409


class LocationAlreadyLinked(DomainError):
    code = "service_at_location_exists"
    message = "The service is already offered at this place."
    http_status = 409


class TermAlreadyAttached(DomainError):
    code = "taxonomy_term_attached"
    message = "The service already has this term."
    http_status = 409


class ReasonRequired(DomainError):
    code = "reason_required"
    message = "Say why, in a few words."


# Checking values ----------------------------------------------------------------------------------------


def _problem(code: str, field: str, detail: str) -> dict[str, str]:
    return {"code": code, "pointer": f"/{field}", "detail": detail}


def _label(model: type[models.Model], name: str) -> str:
    return str(model._meta.get_field(name).verbose_name).capitalize()


def _clean(
    model: type[models.Model], allowed: Iterable[str], values: dict[str, Any], problems: list[dict[str, str]]
) -> dict[str, Any]:
    """`values` converted and checked by the model's field rules; a problem for each bad or unknown one."""
    allowed = set(allowed)
    cleaned: dict[str, Any] = {}
    for name, value in values.items():
        if name not in allowed:
            problems.append(
                _problem("unknown_field", name, f"“{name}” is not something that can be set here.")
            )
            continue
        field = model._meta.get_field(name)
        if isinstance(field, models.ForeignKey):
            cleaned[name] = value
            continue
        if isinstance(field, models.CharField | models.TextField) and value is None:
            value = ""
        if isinstance(value, str) and not isinstance(field, models.DateField | models.TimeField):
            value = value.strip()
        if isinstance(field, models.DecimalField) and isinstance(value, float):
            problems.append(
                _problem(
                    f"invalid_{name}", name, f"{_label(model, name)} must be a decimal number, such as 12.50."
                )
            )
            continue
        try:
            cleaned[name] = field.clean(value, None)
        except ValidationError as error:
            if value in (None, "") and not field.blank:
                problems.append(_problem("required", name, f"Enter the {_label(model, name).lower()}."))
            else:
                detail = " ".join(str(message) for message in error.messages)
                problems.append(_problem(f"invalid_{name}", name, f"{_label(model, name)}: {detail}"))
    return cleaned


def _raise_if(problems: list[dict[str, str]]) -> None:
    if problems:
        raise ListingInvalid(problems)


def _merged(record: models.Model | None, cleaned: dict[str, Any], name: str) -> Any:
    if name in cleaned:
        return cleaned[name]
    return getattr(record, name) if record is not None else None


def _check_in_order(
    record: models.Model | None, cleaned: dict[str, Any], first: str, last: str, problems: list, detail: str
) -> None:
    low, high = _merged(record, cleaned, first), _merged(record, cleaned, last)
    if low is not None and high is not None and high < low and (first in cleaned or last in cleaned):
        problems.append(_problem(f"invalid_{last}", last if last in cleaned else first, detail))


def _service_values(service: Service | None, values: dict[str, Any]) -> dict[str, Any]:
    problems: list[dict[str, str]] = []
    if "status" in values and values["status"] not in ServiceStatus.values:
        problems.append(
            _problem(
                "invalid_status",
                "status",
                "Choose a status: " + ", ".join(label.lower() for label in ServiceStatus.labels) + ".",
            )
        )
        values = {key: value for key, value in values.items() if key != "status"}
    cleaned = _clean(Service, SERVICE_FIELDS, values, problems)
    if "email" in cleaned or any(p["pointer"] == "/email" for p in problems):
        problems = [
            _problem("invalid_email", "email", "Enter an email address such as name@example.org.")
            if p["pointer"] == "/email"
            else p
            for p in problems
        ]
    if any(p["pointer"] == "/url" for p in problems):
        problems = [
            _problem(
                "invalid_url",
                "url",
                "Enter a web address starting with https://, such as https://example.org.",
            )
            if p["pointer"] == "/url"
            else p
            for p in problems
        ]
    if any(p["pointer"] == "/name" and p["code"] == "required" for p in problems):
        problems = [
            _problem("required", "name", "Enter the service's name.") if p["pointer"] == "/name" else p
            for p in problems
        ]
    _check_in_order(
        service,
        cleaned,
        "minimum_age",
        "maximum_age",
        problems,
        "The maximum age must be the same as or more than the minimum age.",
    )
    _raise_if(problems)
    return cleaned


def _location_values(location: Location | None, values: dict[str, Any]) -> dict[str, Any]:
    problems: list[dict[str, str]] = []
    cleaned = _clean(Location, LOCATION_FIELDS, values, problems)
    latitude, longitude = _merged(location, cleaned, "latitude"), _merged(location, cleaned, "longitude")
    if (latitude is None) != (longitude is None) and not any(
        p["pointer"] in ("/latitude", "/longitude") for p in problems
    ):
        missing = "longitude" if longitude is None else "latitude"
        problems.append(
            _problem(
                "coordinates_both_or_neither",
                missing,
                "Give both the latitude and the longitude, or neither.",
            )
        )
    if latitude is not None and not Decimal(-90) <= latitude <= Decimal(90):
        problems.append(_problem("invalid_latitude", "latitude", "The latitude is between -90 and 90."))
    if longitude is not None and not Decimal(-180) <= longitude <= Decimal(180):
        problems.append(_problem("invalid_longitude", "longitude", "The longitude is between -180 and 180."))
    _raise_if(problems)
    return cleaned


def _address_values(address: Address | None, values: dict[str, Any]) -> dict[str, Any]:
    problems: list[dict[str, str]] = []
    cleaned = _clean(Address, ADDRESS_FIELDS, values, problems)
    if address is None:
        for name in ("address_1", "city", "postal_code"):
            if name not in values and not any(p["pointer"] == f"/{name}" for p in problems):
                problems.append(_problem("required", name, f"Enter the {_label(Address, name).lower()}."))
    for problem in problems:
        problem["pointer"] = "/address" + problem["pointer"]
    _raise_if(problems)
    return cleaned


def _cost_option_values(cost: CostOption | None, values: dict[str, Any]) -> dict[str, Any]:
    problems: list[dict[str, str]] = []
    amount = values.get("amount")
    if amount is not None and not isinstance(amount, float):
        try:
            amount = Decimal(str(amount).strip())
        except InvalidOperation:
            amount = None
            problems.append(
                _problem("invalid_amount", "amount", "Enter the amount in pounds, such as 12.50.")
            )
        else:
            if not amount.is_finite():
                problems.append(
                    _problem("invalid_amount", "amount", "Enter the amount in pounds, such as 12.50.")
                )
            elif amount < 0:
                problems.append(_problem("invalid_amount", "amount", "The amount cannot be less than 0."))
            elif amount.as_tuple().exponent < -2:
                problems.append(
                    _problem(
                        "invalid_amount", "amount", "Give the amount in pounds and pence, such as 12.50."
                    )
                )
    if problems:
        values = {key: value for key, value in values.items() if key != "amount"}
    cleaned = _clean(CostOption, COST_OPTION_FIELDS, values, problems)
    if "currency" in cleaned and cleaned["currency"] not in CURRENCIES:
        problems.append(_problem("invalid_currency", "currency", "Costs are in pounds (GBP)."))
    if "catalogue_service" in cleaned and cleaned["catalogue_service"] is not None:
        catalogue = cleaned["catalogue_service"]
        if not isinstance(catalogue, CatalogueService):
            catalogue = (
                CatalogueService.objects.filter(pk=catalogue).first() if str(catalogue).isdigit() else None
            )
        if catalogue is None or not catalogue.is_active:
            problems.append(
                _problem(
                    "invalid_catalogue_service",
                    "catalogue_service",
                    "Choose a service of the rate catalogue that is still in use.",
                )
            )
        else:
            cleaned["catalogue_service"] = catalogue
    _check_in_order(
        cost,
        cleaned,
        "valid_from",
        "valid_to",
        problems,
        "The last day must be the same as or after the first.",
    )
    _raise_if(problems)
    return cleaned


def _schedule_values(schedule: Schedule | None, values: dict[str, Any]) -> dict[str, Any]:
    problems: list[dict[str, str]] = []
    cleaned = _clean(Schedule, SCHEDULE_FIELDS, values, problems)
    if "freq" in cleaned:
        cleaned["freq"] = cleaned["freq"].upper()
        if cleaned["freq"] not in FREQUENCIES:
            problems.append(
                _problem("invalid_freq", "freq", "Choose how often it repeats: WEEKLY or MONTHLY.")
            )
    _check_in_order(
        schedule,
        cleaned,
        "valid_from",
        "valid_to",
        problems,
        "The last day must be the same as or after the first.",
    )
    _check_in_order(
        schedule, cleaned, "opens_at", "closes_at", problems, "It must close at or after the time it opens."
    )
    _raise_if(problems)
    return cleaned


def _plain_values(model: type[models.Model], allowed: tuple[str, ...]):
    def check(record: models.Model | None, values: dict[str, Any]) -> dict[str, Any]:
        problems: list[dict[str, str]] = []
        cleaned = _clean(model, allowed, values, problems)
        if any(p["pointer"] == "/email" for p in problems):
            problems = [
                _problem("invalid_email", "email", "Enter an email address such as name@example.org.")
                if p["pointer"] == "/email"
                else p
                for p in problems
            ]
        if record is None:
            for name in allowed:
                try:
                    field = model._meta.get_field(name)
                except FieldDoesNotExist:  # pragma: no cover - the tuples name real fields
                    continue
                if not field.blank and name not in values:
                    problems.append(_problem("required", name, f"Enter the {_label(model, name).lower()}."))
        _raise_if(problems)
        return cleaned

    return check


_contact_values = _plain_values(Contact, CONTACT_FIELDS)
_phone_values = _plain_values(Phone, PHONE_FIELDS)
_service_area_values = _plain_values(ServiceArea, SERVICE_AREA_FIELDS)
_service_at_location_values = _plain_values(ServiceAtLocation, SERVICE_AT_LOCATION_FIELDS)
_attribute_values = _plain_values(Attribute, ATTRIBUTE_FIELDS)


# Helpers ------------------------------------------------------------------------------------------------


def _audit(by: User, action: str, obj: models.Model, detail: dict[str, Any] | None = None) -> None:
    audit_event_record(actor=by, action=f"directory.{action}", obj=obj, detail=detail or {})


def _shown(value: Any) -> Any:
    """A value as the audit row's JSON keeps it."""
    if isinstance(value, models.Model):
        return str(value.pk)
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def _changes(record: models.Model, cleaned: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Set `cleaned` on `record`; what changed, as {field: {from, to}}."""
    changed = {}
    for name, value in cleaned.items():
        before = getattr(record, name)
        if before != value:
            changed[name] = {"from": _shown(before), "to": _shown(value)}
            setattr(record, name, value)
    return changed


def _editable_service(by: User, service: Service) -> Service:
    """The service's row, locked, if `by` may edit it; DirectoryServiceNotFound otherwise."""
    locked = (
        Service.objects.select_for_update(of=("self",))
        .select_related("organisation")
        .filter(pk=service.pk)
        .first()
    )
    if locked is None or not may_edit_listings_of(by=by, organisation=locked.organisation):
        raise DirectoryServiceNotFound()
    return locked


def _touch(service: Service) -> None:
    """Say that the service's content changed now (not that it was reviewed)."""
    Service.objects.filter(pk=service.pk).update(last_modified=timezone.now())


def _child(by: User, model: type[models.Model], record: models.Model) -> tuple[models.Model, Service]:
    """A service's own record (contact, cost, ...) locked with its service, if `by` may edit the service."""
    found = model.objects.filter(pk=record.pk).values_list("service_id", flat=True).first()
    if found is None:
        raise ListingRecordNotFound()
    try:
        service = _editable_service(by, Service(pk=found))
    except DirectoryServiceNotFound:
        raise ListingRecordNotFound() from None
    return model.objects.select_for_update().get(pk=record.pk), service


def _child_update(by: User, model, record, check, changes: dict[str, Any], action: str):
    locked, service = _child(by, model, record)
    cleaned = check(locked, changes)
    changed = _changes(locked, cleaned)
    if changed:
        locked.save()
        _touch(service)
        _audit(by, action, locked, {"service": str(service.pk), "changed": changed})
    return locked


def _child_remove(by: User, model, record, action: str) -> None:
    locked, service = _child(by, model, record)
    record_id = str(locked.pk)
    locked.delete()
    _touch(service)
    _audit(by, action, service, {"record": record_id})


# Organisations and services -----------------------------------------------------------------------------


@transaction.atomic
def directory_organisation_for_provider(*, provider: Organisation, by: User) -> DirectoryOrganisation:
    """The provider's directory organisation, made from its name and contact email the first time.

    Raises ProviderNotFound when `provider` is not a provider, or `by` neither an administrator nor one of
    its users.
    """
    if provider.kind != OrganisationKind.PROVIDER or not may_edit_listings_of(
        by=by, organisation=DirectoryOrganisation(provider=provider)
    ):
        raise ProviderNotFound()
    organisation, created = DirectoryOrganisation.objects.get_or_create(
        provider=provider, defaults={"name": provider.name, "email": provider.contact_email}
    )
    if created:
        _audit(by, "organisation_created", organisation, {"provider": provider.public_id})
    return organisation


@transaction.atomic
def service_create(
    *,
    by: User,
    organisation: DirectoryOrganisation,
    name: str,
    description: str = "",
    status: str = ServiceStatus.ACTIVE,
    **fields: Any,
) -> Service:
    """A new service of `organisation`, reviewed today by `by` (its content is new, and theirs).

    Raises DirectoryServiceNotFound when `by` may not keep the organisation's services; ListingInvalid.
    """
    if not may_edit_listings_of(by=by, organisation=organisation):
        raise DirectoryServiceNotFound()
    cleaned = _service_values(None, {"name": name, "description": description, "status": status, **fields})
    now = timezone.now()
    service = Service.objects.create(
        organisation=organisation,
        assured_date=timezone.localdate(now),
        assurer_email=by.email,
        last_modified=now,
        **cleaned,
    )
    _audit(by, "service_created", service, {"organisation": str(organisation.pk), "name": service.name})
    return service


@transaction.atomic
def service_update(*, by: User, service: Service, **changes: Any) -> Service:
    """Change the service's own fields (name, description, status, ages, email, url, ...).

    Raises DirectoryServiceNotFound; ListingInvalid naming each bad field (nothing is changed).
    """
    locked = _editable_service(by, service)
    cleaned = _service_values(locked, changes)
    changed = _changes(locked, cleaned)
    if changed:
        locked.last_modified = timezone.now()
        locked.save()
        _audit(by, "service_updated", locked, {"changed": changed})
    return locked


@transaction.atomic
def service_review(*, by: User, service: Service) -> Service:
    """Say that the whole listing is still right today: it is fresh again and its flag is cleared.

    Raises DirectoryServiceNotFound.
    """
    locked = _editable_service(by, service)
    now = timezone.now()
    previous = locked.assured_date
    locked.assured_date = timezone.localdate(now)
    locked.assurer_email = by.email
    locked.stale_notified_at = None
    locked.last_modified = now
    locked.save(update_fields=["assured_date", "assurer_email", "stale_notified_at", "last_modified"])
    _audit(
        by,
        "service_reviewed",
        locked,
        {"previous": _shown(previous), "assured_date": _shown(locked.assured_date)},
    )
    return locked


@transaction.atomic
def service_status_set(*, by: User, service: Service, status: str, reason: str) -> Service:
    """Open, close for a while, or retire the service, saying why.

    Raises DirectoryServiceNotFound; ReasonRequired; ListingInvalid (a status that does not exist).
    """
    locked = _editable_service(by, service)
    reason = (reason or "").strip()
    if not reason:
        raise ReasonRequired()
    if len(reason) > REASON_MAX:
        raise ReasonRequired(f"Say why in {REASON_MAX} characters or fewer.")
    cleaned = _service_values(locked, {"status": status})
    previous = locked.status
    if cleaned["status"] != previous:
        locked.status = cleaned["status"]
        locked.last_modified = timezone.now()
        locked.save(update_fields=["status", "last_modified"])
        _audit(by, "service_status_set", locked, {"from": previous, "to": locked.status, "reason": reason})
    return locked


# Places -------------------------------------------------------------------------------------------------


def _editable_location(by: User, location: Location) -> Location:
    locked = (
        Location.objects.select_for_update(of=("self",))
        .select_related("organisation")
        .filter(pk=location.pk)
        .first()
    )
    if locked is None or not may_edit_listings_of(by=by, organisation=locked.organisation):
        raise ListingRecordNotFound()
    return locked


def _address_set(location: Location, address: dict[str, Any] | None) -> dict[str, Any]:
    """Write the location's (first) address; what changed."""
    if address is None:
        return {}
    current = location.addresses.order_by("id").first()
    cleaned = _address_values(current, address)
    if current is None:
        created = Address.objects.create(location=location, **cleaned)
        return {"address": {"from": None, "to": str(created.pk)}}
    changed = _changes(current, cleaned)
    if changed:
        current.save()
    return {f"address.{name}": change for name, change in changed.items()}


@transaction.atomic
def location_create(
    *, by: User, organisation: DirectoryOrganisation, address: dict[str, Any] | None = None, **fields: Any
) -> Location:
    """A new place of `organisation`, with its address if given (coordinates: both or neither).

    Raises DirectoryServiceNotFound; ListingInvalid.
    """
    if not may_edit_listings_of(by=by, organisation=organisation):
        raise DirectoryServiceNotFound()
    cleaned = _location_values(None, fields)
    if address is not None:
        _address_values(None, address)
    location = Location.objects.create(organisation=organisation, **cleaned)
    _address_set(location, address)
    _audit(by, "location_created", location, {"organisation": str(organisation.pk)})
    return location


@transaction.atomic
def location_update(
    *, by: User, location: Location, address: dict[str, Any] | None = None, **changes: Any
) -> Location:
    """Change a place and its address; every service offered there is modified now.

    Raises ListingRecordNotFound; ListingInvalid.
    """
    locked = _editable_location(by, location)
    cleaned = _location_values(locked, changes)
    current = locked.addresses.order_by("id").first()
    if address is not None:
        _address_values(current, address)
    changed = _changes(locked, cleaned)
    if changed:
        locked.save()
    changed.update(_address_set(locked, address))
    if changed:
        Service.objects.filter(service_at_locations__location=locked).update(last_modified=timezone.now())
        _audit(by, "location_updated", locked, {"changed": changed})
    return locked


@transaction.atomic
def location_remove(*, by: User, location: Location) -> None:
    """Delete a place no service is offered at. Raises ListingRecordNotFound; LocationInUse."""
    locked = _editable_location(by, location)
    if locked.service_at_locations.exists():
        raise LocationInUse()
    _audit(by, "location_removed", locked, {"name": locked.name})
    locked.delete()


@transaction.atomic
def service_at_location_add(
    *, by: User, service: Service, location: Location, description: str = ""
) -> ServiceAtLocation:
    """Offer the service at one of its organisation's places (or a place of no organisation).

    Raises DirectoryServiceNotFound; ListingRecordNotFound (another organisation's place);
    LocationAlreadyLinked; ListingInvalid.
    """
    locked = _editable_service(by, service)
    place = Location.objects.filter(pk=location.pk).first()
    if place is None or place.organisation_id not in (None, locked.organisation_id):
        raise ListingRecordNotFound()
    cleaned = _service_at_location_values(None, {"description": description})
    if ServiceAtLocation.objects.filter(service=locked, location=place).exists():
        raise LocationAlreadyLinked()
    link = ServiceAtLocation.objects.create(service=locked, location=place, **cleaned)
    _touch(locked)
    _audit(by, "service_at_location_added", locked, {"location": str(place.pk), "record": str(link.pk)})
    return link


@transaction.atomic
def service_at_location_update(
    *, by: User, service_at_location: ServiceAtLocation, **changes: Any
) -> ServiceAtLocation:
    """Change what is said about the service at that place. Raises ListingRecordNotFound; ListingInvalid."""
    return _child_update(
        by,
        ServiceAtLocation,
        service_at_location,
        _service_at_location_values,
        changes,
        "service_at_location_updated",
    )


@transaction.atomic
def service_at_location_remove(*, by: User, service_at_location: ServiceAtLocation) -> None:
    """Stop offering the service at that place. Raises ListingRecordNotFound."""
    _child_remove(by, ServiceAtLocation, service_at_location, "service_at_location_removed")


# Contacts and phones ------------------------------------------------------------------------------------


@transaction.atomic
def contact_add(
    *, by: User, service: Service, phones: Iterable[dict[str, Any]] = (), **fields: Any
) -> Contact:
    """Someone to contact about the service, with their phone numbers.

    Raises DirectoryServiceNotFound; ListingInvalid (a phone's problems point at "/phones/i/...").
    """
    locked = _editable_service(by, service)
    cleaned = _contact_values(None, fields)
    phones = list(phones)
    problems = []
    phone_values = []
    for index, phone in enumerate(phones):
        try:
            phone_values.append(_phone_values(None, phone))
        except ListingInvalid as error:
            problems += [{**p, "pointer": f"/phones/{index}{p['pointer']}"} for p in error.errors]
    _raise_if(problems)
    contact = Contact.objects.create(service=locked, **cleaned)
    Phone.objects.bulk_create([Phone(contact=contact, **values) for values in phone_values])
    _touch(locked)
    _audit(by, "contact_added", contact, {"service": str(locked.pk)})
    return contact


@transaction.atomic
def contact_update(*, by: User, contact: Contact, **changes: Any) -> Contact:
    """Change a contact's name, title, department or email. Raises ListingRecordNotFound; ListingInvalid."""
    return _child_update(by, Contact, contact, _contact_values, changes, "contact_updated")


@transaction.atomic
def contact_remove(*, by: User, contact: Contact) -> None:
    """Delete a contact and their phone numbers. Raises ListingRecordNotFound."""
    _child_remove(by, Contact, contact, "contact_removed")


@transaction.atomic
def phone_add(
    *, by: User, service: Service | None = None, contact: Contact | None = None, **fields: Any
) -> Phone:
    """A phone number of the service, or of one of its contacts (give one of the two).

    Raises DirectoryServiceNotFound / ListingRecordNotFound; ListingInvalid.
    """
    if (service is None) == (contact is None):
        raise ListingInvalid(
            [_problem("required", "service", "Give the phone number to a service or a contact.")]
        )
    if contact is not None:
        contact, locked = _child(by, Contact, contact)
    else:
        locked = _editable_service(by, service)
    cleaned = _phone_values(None, fields)
    phone = Phone.objects.create(service=None if contact else locked, contact=contact, **cleaned)
    _touch(locked)
    _audit(by, "phone_added", phone, {"service": str(locked.pk)})
    return phone


def _phone_service(by: User, phone: Phone) -> tuple[Phone, Service]:
    found = Phone.objects.filter(pk=phone.pk).values_list("service_id", "contact__service_id").first()
    if found is None:
        raise ListingRecordNotFound()
    try:
        service = _editable_service(by, Service(pk=found[0] or found[1]))
    except DirectoryServiceNotFound:
        raise ListingRecordNotFound() from None
    return Phone.objects.select_for_update().get(pk=phone.pk), service


@transaction.atomic
def phone_update(*, by: User, phone: Phone, **changes: Any) -> Phone:
    """Change a phone number. Raises ListingRecordNotFound; ListingInvalid."""
    locked, service = _phone_service(by, phone)
    changed = _changes(locked, _phone_values(locked, changes))
    if changed:
        locked.save()
        _touch(service)
        _audit(by, "phone_updated", locked, {"service": str(service.pk), "changed": changed})
    return locked


@transaction.atomic
def phone_remove(*, by: User, phone: Phone) -> None:
    """Delete a phone number. Raises ListingRecordNotFound."""
    locked, service = _phone_service(by, phone)
    record_id = str(locked.pk)
    locked.delete()
    _touch(service)
    _audit(by, "phone_removed", service, {"record": record_id})


# Costs, schedules, areas, terms -------------------------------------------------------------------------


def _child_add(by: User, service: Service, model, check, fields: dict[str, Any], action: str):
    locked = _editable_service(by, service)
    cleaned = check(None, fields)
    record = model.objects.create(service=locked, **cleaned)
    _touch(locked)
    _audit(by, action, record, {"service": str(locked.pk)})
    return record


@transaction.atomic
def cost_option_add(*, by: User, service: Service, **fields: Any) -> CostOption:
    """What the service costs: an amount in pounds (none or 0 is free), and the catalogue service paying it.

    Raises DirectoryServiceNotFound; ListingInvalid.
    """
    return _child_add(by, service, CostOption, _cost_option_values, fields, "cost_option_added")


@transaction.atomic
def cost_option_update(*, by: User, cost_option: CostOption, **changes: Any) -> CostOption:
    """Change a cost. Raises ListingRecordNotFound; ListingInvalid."""
    return _child_update(by, CostOption, cost_option, _cost_option_values, changes, "cost_option_updated")


@transaction.atomic
def cost_option_remove(*, by: User, cost_option: CostOption) -> None:
    """Delete a cost. Raises ListingRecordNotFound."""
    _child_remove(by, CostOption, cost_option, "cost_option_removed")


@transaction.atomic
def schedule_add(*, by: User, service: Service, **fields: Any) -> Schedule:
    """When the service is open. Raises DirectoryServiceNotFound; ListingInvalid."""
    return _child_add(by, service, Schedule, _schedule_values, fields, "schedule_added")


@transaction.atomic
def schedule_update(*, by: User, schedule: Schedule, **changes: Any) -> Schedule:
    """Change when the service is open. Raises ListingRecordNotFound; ListingInvalid."""
    return _child_update(by, Schedule, schedule, _schedule_values, changes, "schedule_updated")


@transaction.atomic
def schedule_remove(*, by: User, schedule: Schedule) -> None:
    """Delete a schedule. Raises ListingRecordNotFound."""
    _child_remove(by, Schedule, schedule, "schedule_removed")


@transaction.atomic
def service_area_add(*, by: User, service: Service, **fields: Any) -> ServiceArea:
    """Where the service's users must live. Raises DirectoryServiceNotFound; ListingInvalid."""
    return _child_add(by, service, ServiceArea, _service_area_values, fields, "service_area_added")


@transaction.atomic
def service_area_update(*, by: User, service_area: ServiceArea, **changes: Any) -> ServiceArea:
    """Change a service area. Raises ListingRecordNotFound; ListingInvalid."""
    return _child_update(by, ServiceArea, service_area, _service_area_values, changes, "service_area_updated")


@transaction.atomic
def service_area_remove(*, by: User, service_area: ServiceArea) -> None:
    """Delete a service area. Raises ListingRecordNotFound."""
    _child_remove(by, ServiceArea, service_area, "service_area_removed")


@transaction.atomic
def service_term_attach(
    *, by: User, service: Service, taxonomy_term: TaxonomyTerm, **fields: Any
) -> Attribute:
    """Give the service a taxonomy term (a need it meets, a kind of service).

    Raises DirectoryServiceNotFound; ListingRecordNotFound (no such term); TermAlreadyAttached.
    """
    locked = _editable_service(by, service)
    term = TaxonomyTerm.objects.filter(pk=taxonomy_term.pk).first()
    if term is None:
        raise ListingRecordNotFound()
    cleaned = _attribute_values(None, fields)
    if Attribute.objects.filter(service=locked, taxonomy_term=term).exists():
        raise TermAlreadyAttached()
    attribute = Attribute.objects.create(service=locked, taxonomy_term=term, **cleaned)
    _touch(locked)
    _audit(by, "taxonomy_term_attached", locked, {"taxonomy_term": str(term.pk), "record": str(attribute.pk)})
    return attribute


@transaction.atomic
def service_term_detach(*, by: User, service: Service, taxonomy_term: TaxonomyTerm) -> None:
    """Take a taxonomy term off the service (nothing happens if it has not got it).

    Raises DirectoryServiceNotFound.
    """
    locked = _editable_service(by, service)
    deleted, _ = Attribute.objects.filter(service=locked, taxonomy_term_id=taxonomy_term.pk).delete()
    if deleted:
        _touch(locked)
        _audit(by, "taxonomy_term_detached", locked, {"taxonomy_term": str(taxonomy_term.pk)})


# Stale listings -----------------------------------------------------------------------------------------


def _date_shown(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def _stale_email(
    organisation: DirectoryOrganisation, services: list[Service], today: date
) -> tuple[str, str]:
    lines = []
    for service in services:
        hidden_on = hidden_from_suggestions_on(service.assured_date)
        reviewed = (
            f"last reviewed on {_date_shown(service.assured_date)}"
            if service.assured_date
            else "never reviewed"
        )
        if hidden_on is None or hidden_on <= today:
            when = "it is already hidden from suggestions for people's plans"
        else:
            when = f"it will be hidden from suggestions for people's plans from {_date_shown(hidden_on)}"
        lines.append(f"- {service.name}: {reviewed}; {when}.")
    count = len(services)
    subject = (
        f"{organisation.name}: {count} service needs a review"
        if count == 1
        else f"{organisation.name}: {count} services need a review"
    )
    body = (
        "Hello,\n\n"
        "These services in the directory have not been reviewed for 6 months or more:\n\n"
        + "\n".join(lines)
        + "\n\nPlease sign in to Purse, check each service's details are still right, and mark it as "
        "reviewed. A service not reviewed for 12 months is hidden from suggestions for people's plans "
        "until it is reviewed again.\n"
    )
    return subject, body


@transaction.atomic
def services_stale_notify(*, today: date | None = None) -> int:
    """Email each provider's active users, once, about its services that need a review; returns how many
    providers were told. Safe to run again: a service already flagged is not mentioned until reviewed."""
    today = today or timezone.localdate()
    services = list(
        Service.objects.select_for_update(of=("self",), skip_locked=True)
        .filter(stale_q(today), stale_notified_at__isnull=True, organisation__provider__isnull=False)
        .select_related("organisation")
        .order_by("organisation_id", "name", "id")
    )
    if not services:
        return 0
    by_organisation: dict[Any, list[Service]] = defaultdict(list)
    for service in services:
        by_organisation[service.organisation].append(service)
    recipients: dict[int, list[str]] = defaultdict(list)
    for provider_id, email in (
        User.objects.filter(
            role=Role.PROVIDER_USER,
            is_active=True,
            organisation_id__in={organisation.provider_id for organisation in by_organisation},
        )
        .exclude(email="")
        .order_by("id")
        .values_list("organisation_id", "email")
    ):
        recipients[provider_id].append(email)
    now = timezone.now()
    told = []
    for organisation, stale in by_organisation.items():
        to = recipients.get(organisation.provider_id)
        if not to:
            continue  # nobody to tell yet: tried again on the next run
        subject, body = _stale_email(organisation, stale, today)
        transaction.on_commit(lambda s=subject, b=body, t=to: send_mail(s, b, None, t, fail_silently=True))
        told.extend(service.pk for service in stale)
        audit_event_record(
            actor=None,
            action="directory.services_stale_notified",
            obj=organisation,
            detail={"services": [str(service.pk) for service in stale], "recipients": len(to)},
        )
    Service.objects.filter(pk__in=told).update(stale_notified_at=now)
    return sum(1 for organisation in by_organisation if recipients.get(organisation.provider_id))
