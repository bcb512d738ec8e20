"""Open Referral UK JSON: the shape of each HSDS 3.0 record as the standard's API gives it, both ways.

One table of fields per class (`SPECS`) drives both directions, so what is written is exactly what is read:
- `service_to_oruk` gives a service as `GET /services/{id}` does: the service's own fields, then its
  organization, service_at_locations (each with its location, the location's addresses, and its own
  schedules), contacts (each with phones), phones, schedules, service_areas, cost_options, languages,
  funding and attributes (each with its taxonomy_term, the term's taxonomy as `taxonomy_detail`).
- `record_read` checks one record of a file against its class and returns the values for its model, or the
  problems, each naming the record and the field.

Empty values are left out, as the standard's examples do. Properties Purse does not model are kept in the
record's `extra` and written back as they came, so a round trip loses nothing. Purse adds one property of
its own: a cost option's `purse_service_code`, the rate catalogue service it is paid from.
"""

import datetime
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import simplejson
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator

from directory.models import LocationType, ServiceStatus


@dataclass(frozen=True)
class Field:
    """One property of a class: its name in the file (and its model's attribute), and how it is read."""

    name: str
    kind: str  # text, uuid, date, datetime, time, integer, decimal, email, url, or choice:<a|b|c>
    required: bool = False
    max_length: int | None = None


def _text(name: str, max_length: int | None = 255, *, required: bool = False) -> Field:
    return Field(name, "text", required=required, max_length=max_length)


SPECS: dict[str, list[Field]] = {
    "organization": [
        Field("id", "uuid", required=True),
        _text("name", required=True),
        _text("alternate_name"),
        _text("description", None),
        Field("email", "email"),
        Field("website", "url"),
        Field("logo", "url"),
        Field("uri", "url"),
        Field("parent_organization_id", "uuid"),
    ],
    "organization_identifier": [
        Field("id", "uuid", required=True),
        _text("identifier_scheme", 100),
        _text("identifier_type", 100, required=True),
        _text("identifier", required=True),
    ],
    "service": [
        Field("id", "uuid", required=True),
        _text("name", required=True),
        _text("alternate_name"),
        _text("description", None),
        Field("url", "url"),
        Field("email", "email"),
        Field("status", "choice:" + "|".join(ServiceStatus.values), required=True),
        _text("interpretation_services", None),
        _text("application_process", None),
        _text("fees_description", None),
        _text("accreditations", None),
        _text("eligibility_description", None),
        Field("minimum_age", "integer"),
        Field("maximum_age", "integer"),
        Field("assured_date", "date"),
        Field("assurer_email", "email"),
        _text("alert", None),
        Field("last_modified", "datetime"),
    ],
    "location": [
        Field("id", "uuid", required=True),
        Field("location_type", "choice:" + "|".join(LocationType.values)),
        Field("url", "url"),
        _text("name"),
        _text("alternate_name"),
        _text("description", None),
        _text("transportation", None),
        Field("latitude", "decimal"),
        Field("longitude", "decimal"),
        _text("external_identifier"),
        _text("external_identifier_type"),
    ],
    "address": [
        Field("id", "uuid", required=True),
        _text("attention"),
        _text("address_1", required=True),
        _text("address_2"),
        _text("city", required=True),
        _text("region"),
        _text("state_province"),
        _text("postal_code", 16, required=True),
        _text("country", 2),
        _text("address_type", 16),
    ],
    "service_at_location": [
        Field("id", "uuid", required=True),
        _text("description", None),
    ],
    "contact": [
        Field("id", "uuid", required=True),
        _text("name"),
        _text("title"),
        _text("department"),
        Field("email", "email"),
    ],
    "phone": [
        Field("id", "uuid", required=True),
        _text("number", 40, required=True),
        _text("extension", 16),
        _text("type", 24),
        _text("description", None),
    ],
    "schedule": [
        Field("id", "uuid", required=True),
        Field("valid_from", "date"),
        Field("valid_to", "date"),
        Field("dtstart", "date"),
        Field("timezone", "integer"),
        Field("until", "date"),
        Field("count", "integer"),
        _text("wkst", 2),
        Field("freq", "choice:WEEKLY|MONTHLY"),
        Field("interval", "integer"),
        _text("byday", 64),
        _text("byweekno", 64),
        _text("bymonthday", 128),
        _text("byyearday", 128),
        _text("description", None),
        Field("opens_at", "time"),
        Field("closes_at", "time"),
        Field("schedule_link", "url"),
        _text("attending_type"),
        _text("notes", None),
    ],
    "service_area": [
        Field("id", "uuid", required=True),
        _text("name"),
        _text("description", None),
        _text("extent", None),
        _text("extent_type", 24),
        Field("uri", "url"),
    ],
    "cost_option": [
        Field("id", "uuid", required=True),
        Field("valid_from", "date"),
        Field("valid_to", "date"),
        _text("option"),
        _text("currency", 3),
        Field("amount", "decimal"),
        _text("amount_description"),
    ],
    "language": [
        Field("id", "uuid", required=True),
        _text("name", 100),
        _text("code", 16),
        _text("note", None),
    ],
    "funding": [
        Field("id", "uuid", required=True),
        _text("source", None, required=True),
    ],
    "attribute": [
        Field("id", "uuid", required=True),
        _text("link_type", 100),
        _text("value"),
        _text("label"),
    ],
    "taxonomy_term": [
        Field("id", "uuid", required=True),
        _text("code", 100),
        _text("name", required=True),
        _text("description", None),
        Field("parent_id", "uuid"),
        Field("taxonomy_id", "uuid"),
        _text("language", 16),
        Field("term_uri", "url"),
    ],
    "taxonomy": [
        Field("id", "uuid", required=True),
        _text("name", required=True),
        _text("description", None),
        Field("uri", "url"),
        _text("version", 64),
    ],
}

# The properties of each class that hold related records, or the links between them, rather than values.
NESTED: dict[str, set[str]] = {
    "organization": {"organization_identifiers"},
    "service": {
        "organization_id",
        "organization",
        "service_at_locations",
        "contacts",
        "phones",
        "schedules",
        "service_areas",
        "cost_options",
        "languages",
        "funding",
        "attributes",
    },
    "location": {"organization_id", "addresses"},
    "address": {"location_id"},
    "service_at_location": {"service_id", "location_id", "location", "schedules"},
    "contact": {"service_id", "phones"},
    "phone": {"service_id", "contact_id"},
    "schedule": {"service_id", "service_at_location_id"},
    "service_area": {"service_id"},
    "cost_option": {"service_id", "purse_service_code"},
    "language": {"service_id"},
    "funding": {"service_id"},
    "attribute": {"link_id", "link_entity", "taxonomy_term_id", "taxonomy_term"},
    "taxonomy_term": {"taxonomy_detail"},
    "taxonomy": set(),
    "organization_identifier": {"organization_id"},
}

# How each class is named to a person in an error message.
RECORD_WORDS = {
    "organization": "organisation",
    "organization_identifier": "organisation identifier",
    "service": "service",
    "location": "location",
    "address": "address",
    "service_at_location": "service at location",
    "contact": "contact",
    "phone": "phone",
    "schedule": "schedule",
    "service_area": "service area",
    "cost_option": "cost option",
    "language": "language",
    "funding": "funding",
    "attribute": "attribute",
    "taxonomy_term": "taxonomy term",
    "taxonomy": "taxonomy",
}


# Writing ------------------------------------------------------------------------------------------------


def _out(value: Any, kind: str) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if kind == "datetime" and isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    # A Decimal stays one: `oruk_dumps` writes it as a JSON number, digit for digit, never through a float.
    return value


def oruk_dumps(data: Any) -> str:
    """JSON text of an export, amounts and coordinates as exact numbers (the standard has them as numbers)."""
    return simplejson.dumps(data, use_decimal=True, ensure_ascii=False, indent=2)


def oruk_loads(text: str | bytes) -> Any:
    """A file's JSON, its numbers read as Decimals (never floats); ValueError if it is not JSON."""
    return simplejson.loads(text, use_decimal=True)


def record_to_oruk(kind: str, record: Any) -> dict[str, Any]:
    """One record's own fields (empty ones left out), then the properties it came with that Purse keeps."""
    data: dict[str, Any] = {}
    for field in SPECS[kind]:
        value = getattr(record, field.name)
        if value is None or value == "":
            continue
        data[field.name] = _out(value, field.kind)
    for key, value in (record.extra or {}).items():
        data.setdefault(key, value)
    return data


def service_to_oruk(service: Any) -> dict[str, Any]:
    """A service as the standard's `GET /services/{id}` gives it; its related rows must be prefetched
    (`directory.selectors.oruk.SERVICE_PREFETCH`), or each list costs a query."""
    data = record_to_oruk("service", service)
    data["organization_id"] = str(service.organisation_id)
    organisation = record_to_oruk("organization", service.organisation)
    organisation["organization_identifiers"] = [
        record_to_oruk("organization_identifier", item) for item in _sorted(service.organisation.identifiers)
    ]
    data["organization"] = organisation
    data["service_at_locations"] = [
        _service_at_location(item) for item in _sorted(service.service_at_locations)
    ]
    data["contacts"] = [_contact(item) for item in _sorted(service.contacts)]
    data["phones"] = [record_to_oruk("phone", item) for item in _sorted(service.phones)]
    data["schedules"] = [record_to_oruk("schedule", item) for item in _sorted(service.schedules)]
    data["service_areas"] = [record_to_oruk("service_area", item) for item in _sorted(service.service_areas)]
    data["cost_options"] = [_cost_option(item) for item in _sorted(service.cost_options)]
    data["languages"] = [record_to_oruk("language", item) for item in _sorted(service.languages)]
    data["funding"] = [record_to_oruk("funding", item) for item in _sorted(service.funding)]
    data["attributes"] = [_attribute(item, service) for item in _sorted(service.attributes)]
    return data


def _sorted(related: Any) -> list[Any]:
    return sorted(related.all(), key=lambda row: str(row.pk))


def _service_at_location(item: Any) -> dict[str, Any]:
    data = record_to_oruk("service_at_location", item)
    data["service_id"] = str(item.service_id)
    data["location_id"] = str(item.location_id)
    location = record_to_oruk("location", item.location)
    if item.location.organisation_id:
        location["organization_id"] = str(item.location.organisation_id)
    location["addresses"] = [
        record_to_oruk("address", address) for address in _sorted(item.location.addresses)
    ]
    data["location"] = location
    data["schedules"] = [record_to_oruk("schedule", schedule) for schedule in _sorted(item.schedules)]
    return data


def _contact(item: Any) -> dict[str, Any]:
    data = record_to_oruk("contact", item)
    data["phones"] = [record_to_oruk("phone", phone) for phone in _sorted(item.phones)]
    return data


def _cost_option(item: Any) -> dict[str, Any]:
    data = record_to_oruk("cost_option", item)
    if item.catalogue_service_id:
        data["purse_service_code"] = item.catalogue_service.service_code
    return data


def _attribute(item: Any, service: Any) -> dict[str, Any]:
    data = record_to_oruk("attribute", item)
    data["link_id"] = str(service.pk)
    data["link_entity"] = "service"
    data["taxonomy_term_id"] = str(item.taxonomy_term_id)
    term = record_to_oruk("taxonomy_term", item.taxonomy_term)
    if item.taxonomy_term.taxonomy_id:
        term["taxonomy_detail"] = record_to_oruk("taxonomy", item.taxonomy_term.taxonomy)
    data["taxonomy_term"] = term
    return data


def page_envelope(contents: list[Any], *, total_items: int, page_number: int = 1, size: int | None = None):
    """The standard's paginated answer around a list of records."""
    size = size if size is not None else max(len(contents), 1)
    total_pages = max(1, -(-total_items // size)) if size else 1
    return {
        "total_items": total_items,
        "total_pages": total_pages,
        "page_number": page_number,
        "size": size,
        "first_page": page_number == 1,
        "last_page": page_number >= total_pages,
        "empty": total_items == 0,
        "contents": contents,
    }


# Reading ------------------------------------------------------------------------------------------------

_EMAIL = EmailValidator()
_URL = URLValidator(schemes=["http", "https"])


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file: the record (its class, position and id) and the field."""

    pointer: str
    detail: str

    def as_error(self) -> dict[str, str]:
        return {"code": "invalid_oruk_file", "pointer": self.pointer, "detail": self.detail}


def upper_first(text: str) -> str:
    """The text with its first letter a capital (unlike `str.capitalize`, the rest is left as it is)."""
    return text[:1].upper() + text[1:]


def record_label(kind: str, data: Any, position: str) -> str:
    """How a record is named in a message: `service 3 (id ac14..., "Community Counselling")`."""
    words = f"{RECORD_WORDS[kind]} {position}"
    if isinstance(data, dict):
        bits = []
        if isinstance(data.get("id"), str):
            bits.append(f"id {data['id']}")
        if isinstance(data.get("name"), str) and data["name"].strip():
            bits.append(f"“{data['name'].strip()[:60]}”")
        if bits:
            words += f" ({', '.join(bits)})"
    return words


def record_read(
    kind: str, data: Any, *, pointer: str, label: str, problems: list[Problem]
) -> dict[str, Any] | None:
    """The model values of one record, and its `extra`; None (with `problems` added to) if it is not valid."""
    if not isinstance(data, dict):
        problems.append(Problem(pointer, f"{upper_first(label)}: must be an object with its fields."))
        return None
    values: dict[str, Any] = {}
    known = {field.name for field in SPECS[kind]} | NESTED[kind]
    before = len(problems)
    for field in SPECS[kind]:
        raw = data.get(field.name)
        where = f"{pointer}/{field.name}"
        if raw is None or raw == "":
            if field.required:
                problems.append(
                    Problem(where, f"{upper_first(label)}: {field.name} is missing; it is required.")
                )
            else:
                values[field.name] = _empty(field)
            continue
        try:
            values[field.name] = _READERS[field.kind.split(":")[0]](raw, field)
        except ValueError as error:
            problems.append(Problem(where, f"{upper_first(label)}: {field.name} {error}."))
    values["extra"] = {key: value for key, value in data.items() if key not in known}
    return values if len(problems) == before else None


def _empty(field: Field) -> Any:
    # Left out: text is empty; anything else is None, and a field that cannot be None keeps its default.
    return "" if field.kind in ("text", "email", "url") else None


def _read_text(raw: Any, field: Field) -> str:
    if not isinstance(raw, str):
        raise ValueError("must be text")
    if field.max_length and len(raw) > field.max_length:
        raise ValueError(f"is {len(raw)} characters long; at most {field.max_length} fit")
    return raw


def _read_uuid(raw: Any, field: Field) -> uuid.UUID:
    try:
        return uuid.UUID(str(raw)) if isinstance(raw, str) else _raise()
    except ValueError:
        raise ValueError(
            f"must be a UUID such as ac148810-d857-441c-9679-408f346de14b, not {raw!r}"
        ) from None


def _raise() -> Any:
    raise ValueError


def _read_date(raw: Any, field: Field) -> datetime.date:
    try:
        return datetime.date.fromisoformat(raw) if isinstance(raw, str) and len(raw) == 10 else _raise()
    except ValueError:
        raise ValueError(f"must be a date as YYYY-MM-DD, not {raw!r}") from None


def _read_datetime(raw: Any, field: Field) -> datetime.datetime:
    try:
        value = datetime.datetime.fromisoformat(raw) if isinstance(raw, str) else _raise()
    except ValueError:
        raise ValueError(f"must be a date and time (ISO 8601, with its time zone), not {raw!r}") from None
    if value.tzinfo is None:
        raise ValueError(f"must say its time zone (such as 2026-11-30T10:30:00.000Z), not {raw!r}")
    return value


def _read_time(raw: Any, field: Field) -> datetime.time:
    try:
        value = datetime.time.fromisoformat(raw) if isinstance(raw, str) else _raise()
    except ValueError:
        raise ValueError(f"must be a time as HH:MM or HH:MM:SS, not {raw!r}") from None
    return value


def _read_integer(raw: Any, field: Field) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        raise ValueError("must be a whole number")
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"must be a whole number, not {raw!r}") from None
    if value < 0 and field.name != "timezone":
        raise ValueError("must not be negative")
    return value


def _read_decimal(raw: Any, field: Field) -> Decimal:
    if isinstance(raw, bool) or not isinstance(raw, int | str | Decimal):
        raise ValueError(f"must be a number, not {raw!r}")
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        raise ValueError(f"must be a number, not {raw!r}") from None
    if not value.is_finite():
        raise ValueError("must be a number")
    if field.name == "amount":
        if value < 0:
            raise ValueError("must be 0 or more (0, or no amount, is free)")
        if value != value.quantize(Decimal("0.01")):
            raise ValueError(f"must be in pounds and pence (at most 2 decimal places), not {raw}")
        if abs(value) >= Decimal("1e10"):
            raise ValueError("is too large")
    else:
        limit = 90 if field.name == "latitude" else 180
        if abs(value) > limit:
            raise ValueError(f"must be between -{limit} and {limit}")
        value = value.quantize(Decimal("0.000001"))
    return value


def _read_email(raw: Any, field: Field) -> str:
    text = _read_text(raw, Field(field.name, "text", max_length=254))
    try:
        _EMAIL(text)
    except ValidationError:
        raise ValueError(f"must be an email address, not {raw!r}") from None
    return text


def _read_url(raw: Any, field: Field) -> str:
    text = _read_text(raw, Field(field.name, "text", max_length=500))
    try:
        _URL(text)
    except ValidationError:
        raise ValueError(f"must be a web address starting http:// or https://, not {raw!r}") from None
    return text


def _read_choice(raw: Any, field: Field) -> str:
    choices = field.kind.split(":", 1)[1].split("|")
    if raw not in choices:
        raise ValueError(f"must be one of {', '.join(choices)}, not {raw!r}")
    return raw


_READERS: dict[str, Callable[[Any, Field], Any]] = {
    "text": _read_text,
    "uuid": _read_uuid,
    "date": _read_date,
    "datetime": _read_datetime,
    "time": _read_time,
    "integer": _read_integer,
    "decimal": _read_decimal,
    "email": _read_email,
    "url": _read_url,
    "choice": _read_choice,
}
