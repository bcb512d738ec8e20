"""Importing an Open Referral UK file: every record checked first, then all of it written, or none.

The file is the standard's `GET /services` answer (`{"contents": [service, ...], ...}`), a list of services,
or one service, each in full as `directory.oruk.service_to_oruk` writes it. A record is found by its `id`:
one that exists is updated, one that does not is made. A service's own lists (its places, contacts,
phones, schedules, areas, cost options, languages, funding and terms) become exactly the file's. An
organisation keeps the Purse provider it belongs to, which no file can change.
"""

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from budgets.models import Service as CatalogueService
from directory.models import (
    Address,
    Attribute,
    Contact,
    CostOption,
    DirectoryOrganisation,
    Funding,
    Language,
    Location,
    OrganisationIdentifier,
    Phone,
    Schedule,
    Service,
    ServiceArea,
    ServiceAtLocation,
    Taxonomy,
    TaxonomyTerm,
)
from directory.oruk import Problem, oruk_loads, record_label, record_read, upper_first
from ledger.errors import DomainErrors
from people.services import audit_event_record

MAX_PROBLEMS_LISTED = 200


class OrukFileInvalid(DomainErrors):
    """The file is refused whole: `errors` names each record and field that is wrong."""

    summary = "The file was not imported"


@dataclass(frozen=True)
class ImportSummary:
    services_created: int
    services_updated: int
    organisations: int
    locations: int
    taxonomy_terms: int

    @property
    def services(self) -> int:
        return self.services_created + self.services_updated


@dataclass
class _Checked:
    """What a valid file holds, by class, ready to write."""

    organisations: dict[Any, dict[str, Any]]
    identifiers: list[dict[str, Any]]
    taxonomies: dict[Any, dict[str, Any]]
    terms: dict[Any, dict[str, Any]]
    locations: dict[Any, dict[str, Any]]
    addresses: list[dict[str, Any]]
    services: list[dict[str, Any]]


def directory_oruk_import(*, data: bytes | str, by: Any = None) -> ImportSummary:
    """Import a file; raises `OrukFileInvalid` (nothing written) with every problem found."""
    checked = _check(data)
    return _write(checked, by=by)


# Checking -----------------------------------------------------------------------------------------------


def _check(data: bytes | str) -> _Checked:
    problems: list[Problem] = []
    try:
        document = oruk_loads(data)
    except ValueError as error:
        raise OrukFileInvalid(
            [Problem("", f"The file is not JSON that can be read: {error}.").as_error()]
        ) from None
    services, base = _services_of(document)
    if services is None:
        raise OrukFileInvalid(
            [
                Problem(
                    "",
                    "The file must be Open Referral UK JSON: an object with `contents` (a list of services),"
                    " a list of services, or one service.",
                ).as_error()
            ]
        )
    checked = _Checked({}, [], {}, {}, {}, [], [])
    seen_services: set[Any] = set()
    for index, raw in enumerate(services):
        pointer = f"{base}/{index}"
        label = record_label("service", raw, str(index + 1))
        values = record_read("service", raw, pointer=pointer, label=label, problems=problems)
        if values is None or not isinstance(raw, dict):
            continue
        if values["id"] in seen_services:
            problems.append(Problem(f"{pointer}/id", f"{upper_first(label)}: this id is in the file twice."))
            continue
        seen_services.add(values["id"])
        _check_ages(values, pointer, label, problems)
        service = {"values": values}
        service["organisation_id"] = _check_organisation(raw, pointer, label, checked, problems)
        service.update(_check_lists(raw, pointer, label, checked, problems))
        checked.services.append(service)
        if len(problems) >= MAX_PROBLEMS_LISTED:
            break
    _check_term_parents(checked, problems)
    if problems:
        raise OrukFileInvalid([problem.as_error() for problem in problems[:MAX_PROBLEMS_LISTED]])
    return checked


def _services_of(document: Any) -> tuple[list[Any] | None, str]:
    if isinstance(document, list):
        return document, ""
    if isinstance(document, dict) and isinstance(document.get("contents"), list):
        return document["contents"], "/contents"
    if isinstance(document, dict) and "id" in document and "name" in document:
        return [document], ""
    return None, ""


def _check_ages(values: dict[str, Any], pointer: str, label: str, problems: list[Problem]) -> None:
    low, high = values.get("minimum_age"), values.get("maximum_age")
    if low is not None and high is not None and high < low:
        problems.append(
            Problem(f"{pointer}/maximum_age", f"{upper_first(label)}: maximum_age is below minimum_age.")
        )


def _check_organisation(raw: dict, pointer: str, label: str, checked: _Checked, problems: list[Problem]):
    organisation = raw.get("organization")
    if organisation is None:
        organisation_id = raw.get("organization_id")
        found = _existing_id(DirectoryOrganisation, organisation_id)
        if found is None and organisation_id not in {str(key) for key in checked.organisations}:
            problems.append(
                Problem(
                    f"{pointer}/organization",
                    f"{upper_first(label)}: organization is missing, and organization_id names no"
                    " organisation in the file or in Purse.",
                )
            )
        return found or organisation_id
    where = f"{pointer}/organization"
    words = record_label("organization", organisation, f"of {label}")
    values = record_read("organization", organisation, pointer=where, label=words, problems=problems)
    if values is None:
        return None
    checked.organisations[values["id"]] = values
    for index, item in enumerate(_list(organisation, "organization_identifiers", where, words, problems)):
        item_values = record_read(
            "organization_identifier",
            item,
            pointer=f"{where}/organization_identifiers/{index}",
            label=f"identifier {index + 1} of {words}",
            problems=problems,
        )
        if item_values is not None:
            checked.identifiers.append({**item_values, "organisation_id": values["id"]})
    return values["id"]


def _existing_id(model: Any, value: Any) -> Any:
    try:
        return model.objects.filter(pk=value).values_list("pk", flat=True).first()
    except (ValidationError, ValueError, TypeError):  # not a UUID at all: there is no such record
        return None


def _list(raw: dict, key: str, pointer: str, label: str, problems: list[Problem]) -> list[Any]:
    value = raw.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        problems.append(Problem(f"{pointer}/{key}", f"{upper_first(label)}: {key} must be a list."))
        return []
    return value


def _child(kind, raw, key, index, pointer, label, problems) -> dict[str, Any] | None:
    words = f"{record_label(kind, raw, str(index + 1))} of {label}"
    return record_read(kind, raw, pointer=f"{pointer}/{key}/{index}", label=words, problems=problems)


def _check_lists(raw: dict, pointer: str, label: str, checked: _Checked, problems: list[Problem]) -> dict:
    lists: dict[str, list[dict[str, Any]]] = {}
    simple = {
        "phones": "phone",
        "schedules": "schedule",
        "service_areas": "service_area",
        "languages": "language",
        "funding": "funding",
    }
    for key, kind in simple.items():
        rows = []
        for index, item in enumerate(_list(raw, key, pointer, label, problems)):
            values = _child(kind, item, key, index, pointer, label, problems)
            if values is not None:
                rows.append(values)
        lists[key] = rows
    lists["contacts"] = []
    for index, item in enumerate(_list(raw, "contacts", pointer, label, problems)):
        values = _child("contact", item, "contacts", index, pointer, label, problems)
        if values is None:
            continue
        phones = []
        where = f"{pointer}/contacts/{index}"
        for phone_index, phone in enumerate(_list(item, "phones", where, f"contact {index + 1}", problems)):
            phone_values = _child(
                "phone", phone, "phones", phone_index, where, f"contact {index + 1}", problems
            )
            if phone_values is not None:
                phones.append(phone_values)
        lists["contacts"].append({"values": values, "phones": phones})
    lists["cost_options"] = []
    for index, item in enumerate(_list(raw, "cost_options", pointer, label, problems)):
        values = _child("cost_option", item, "cost_options", index, pointer, label, problems)
        if values is None:
            continue
        code = item.get("purse_service_code")
        values["catalogue_service_id"] = None
        if code not in (None, ""):
            found = CatalogueService.objects.filter(service_code=code).values_list("pk", flat=True).first()
            if found is None:
                problems.append(
                    Problem(
                        f"{pointer}/cost_options/{index}/purse_service_code",
                        f"Cost option {index + 1} of {label}: purse_service_code {code!r} is not a service"
                        " in any rate catalogue.",
                    )
                )
                continue
            values["catalogue_service_id"] = found
        lists["cost_options"].append(values)
    lists["service_at_locations"] = _check_places(raw, pointer, label, checked, problems)
    lists["attributes"] = _check_attributes(raw, pointer, label, checked, problems)
    return lists


def _check_places(raw, pointer, label, checked: _Checked, problems) -> list[dict[str, Any]]:
    places = []
    for index, item in enumerate(_list(raw, "service_at_locations", pointer, label, problems)):
        values = _child("service_at_location", item, "service_at_locations", index, pointer, label, problems)
        if values is None:
            continue
        where = f"{pointer}/service_at_locations/{index}"
        words = f"place {index + 1} of {label}"
        location = item.get("location")
        if not isinstance(location, dict):
            location_id = item.get("location_id")
            found = _existing_id(Location, location_id)
            if found is None:
                problems.append(
                    Problem(
                        f"{where}/location",
                        f"{upper_first(words)}: location is missing, and location_id names no location in"
                        " Purse.",
                    )
                )
                continue
            location_values = {"id": found}
        else:
            location_values = record_read(
                "location",
                location,
                pointer=f"{where}/location",
                label=f"the location of {words}",
                problems=problems,
            )
            if location_values is None:
                continue
            if (location_values["latitude"] is None) != (location_values["longitude"] is None):
                problems.append(
                    Problem(
                        f"{where}/location/latitude",
                        f"The location of {words}: latitude and longitude come together, or neither.",
                    )
                )
                continue
            organisation_id = location.get("organization_id")
            location_values["organisation_id"] = organisation_id or None
            checked.locations[location_values["id"]] = location_values
            for address_index, address in enumerate(
                _list(location, "addresses", f"{where}/location", f"the location of {words}", problems)
            ):
                address_values = _child(
                    "address",
                    address,
                    "addresses",
                    address_index,
                    f"{where}/location",
                    f"the location of {words}",
                    problems,
                )
                if address_values is not None:
                    checked.addresses.append({**address_values, "location_id": location_values["id"]})
        schedules = []
        for schedule_index, schedule in enumerate(_list(item, "schedules", where, words, problems)):
            schedule_values = _child(
                "schedule", schedule, "schedules", schedule_index, where, words, problems
            )
            if schedule_values is not None:
                schedules.append(schedule_values)
        places.append({"values": values, "location_id": location_values["id"], "schedules": schedules})
    return places


def _check_attributes(raw, pointer, label, checked: _Checked, problems) -> list[dict[str, Any]]:
    attributes = []
    seen_terms: set[Any] = set()
    for index, item in enumerate(_list(raw, "attributes", pointer, label, problems)):
        values = _child("attribute", item, "attributes", index, pointer, label, problems)
        if values is None:
            continue
        where = f"{pointer}/attributes/{index}"
        words = f"attribute {index + 1} of {label}"
        term = item.get("taxonomy_term")
        if not isinstance(term, dict):
            found = _existing_id(TaxonomyTerm, item.get("taxonomy_term_id"))
            if found is None:
                problems.append(
                    Problem(
                        f"{where}/taxonomy_term",
                        f"{upper_first(words)}: taxonomy_term is missing, and taxonomy_term_id names no term"
                        " in Purse.",
                    )
                )
                continue
            term_id = found
        else:
            term_values = record_read(
                "taxonomy_term",
                term,
                pointer=f"{where}/taxonomy_term",
                label=f"the term of {words}",
                problems=problems,
            )
            if term_values is None:
                continue
            taxonomy = term.get("taxonomy_detail")
            if isinstance(taxonomy, dict):
                taxonomy_values = record_read(
                    "taxonomy",
                    taxonomy,
                    pointer=f"{where}/taxonomy_term/taxonomy_detail",
                    label=f"the taxonomy of {words}",
                    problems=problems,
                )
                if taxonomy_values is None:
                    continue
                checked.taxonomies[taxonomy_values["id"]] = taxonomy_values
                term_values["taxonomy_id"] = taxonomy_values["id"]
            checked.terms[term_values["id"]] = {**term_values, "_pointer": f"{where}/taxonomy_term"}
            term_id = term_values["id"]
        if term_id in seen_terms:
            problems.append(Problem(f"{where}/taxonomy_term", f"{upper_first(words)}: the same term twice."))
            continue
        seen_terms.add(term_id)
        attributes.append({"values": values, "taxonomy_term_id": term_id})
    return attributes


def _check_term_parents(checked: _Checked, problems: list[Problem]) -> None:
    wanted_taxonomies = {
        values["taxonomy_id"] for values in checked.terms.values() if values.get("taxonomy_id") is not None
    } - set(checked.taxonomies)
    known_taxonomies = set(Taxonomy.objects.filter(pk__in=wanted_taxonomies).values_list("pk", flat=True))
    wanted_parents = {
        values["parent_id"] for values in checked.terms.values() if values.get("parent_id") is not None
    } - set(checked.terms)
    known_parents = set(TaxonomyTerm.objects.filter(pk__in=wanted_parents).values_list("pk", flat=True))
    for term_id, values in checked.terms.items():
        if values.get("taxonomy_id") is not None and values["taxonomy_id"] not in (
            known_taxonomies | set(checked.taxonomies)
        ):
            problems.append(
                Problem(
                    f"{values['_pointer']}/taxonomy_id",
                    f"Taxonomy term {term_id}: taxonomy_id names no taxonomy in the file or in Purse.",
                )
            )
        parent = values.get("parent_id")
        if parent is not None and parent not in known_parents and parent not in checked.terms:
            problems.append(
                Problem(
                    f"{values['_pointer']}/parent_id",
                    f"Taxonomy term {term_id}: parent_id names no term in the file or in Purse.",
                )
            )


# Writing ------------------------------------------------------------------------------------------------


def _upsert(model: Any, values: dict[str, Any], **more: Any) -> bool:
    """Make or update one record by its id; True if it was made."""
    fields = {
        key: value for key, value in {**values, **more}.items() if key != "id" and not key.startswith("_")
    }
    for key in [key for key, value in fields.items() if value is None]:
        if not model._meta.get_field(key).null:
            del fields[key]  # not in the file: the field's default (a new record) or what it was
    _, created = model.objects.update_or_create(id=values["id"], defaults=fields)
    return created


@transaction.atomic
def _write(checked: _Checked, *, by: Any) -> ImportSummary:
    for values in checked.organisations.values():
        _upsert(DirectoryOrganisation, values)
    for values in checked.identifiers:
        _upsert(OrganisationIdentifier, values)
    for values in checked.taxonomies.values():
        _upsert(Taxonomy, values)
    # Terms first without their parents (a parent may come later in the file), then the parents.
    for values in checked.terms.values():
        _upsert(TaxonomyTerm, {**values, "parent_id": None})
    for term_id, values in checked.terms.items():
        TaxonomyTerm.objects.filter(pk=term_id).update(parent_id=values.get("parent_id"))
    for values in checked.locations.values():
        _upsert(Location, values)
        Address.objects.filter(location_id=values["id"]).exclude(
            id__in=[address["id"] for address in checked.addresses if address["location_id"] == values["id"]]
        ).delete()
    for values in checked.addresses:
        _upsert(Address, values)
    created = updated = 0
    for service in checked.services:
        made = _upsert(Service, service["values"], organisation_id=service["organisation_id"])
        created, updated = created + made, updated + (not made)
        _write_lists(service)
    if by is not None:
        audit_event_record(
            actor=by,
            action="directory.imported",
            obj=by,
            detail={"services_created": created, "services_updated": updated},
        )
    return ImportSummary(
        services_created=created,
        services_updated=updated,
        organisations=len(checked.organisations),
        locations=len(checked.locations),
        taxonomy_terms=len(checked.terms),
    )


def _replace(model: Any, owner: dict[str, Any], rows: list[tuple[dict[str, Any], dict[str, Any]]]) -> None:
    """The owner's records of `model` become exactly `rows` (values, and the links each row also gets)."""
    model.objects.filter(**owner).exclude(id__in=[values["id"] for values, _ in rows]).delete()
    for values, links in rows:
        _upsert(model, values, **owner, **links)


def _write_lists(service: dict[str, Any]) -> None:
    owner = {"service_id": service["values"]["id"]}
    for key, model in {
        "phones": Phone,
        "schedules": Schedule,
        "service_areas": ServiceArea,
        "languages": Language,
        "funding": Funding,
        "cost_options": CostOption,
    }.items():
        _replace(model, owner, [(values, {}) for values in service[key]])
    _replace(Contact, owner, [(contact["values"], {}) for contact in service["contacts"]])
    for contact in service["contacts"]:
        rows = [(phone, {"service_id": None}) for phone in contact["phones"]]
        _replace(Phone, {"contact_id": contact["values"]["id"]}, rows)
    places = service["service_at_locations"]
    _replace(
        ServiceAtLocation,
        owner,
        [(place["values"], {"location_id": place["location_id"]}) for place in places],
    )
    for place in places:
        rows = [(values, {"service_id": None}) for values in place["schedules"]]
        _replace(Schedule, {"service_at_location_id": place["values"]["id"]}, rows)
    rows = [
        (item["values"], {"taxonomy_term_id": item["taxonomy_term_id"]}) for item in service["attributes"]
    ]
    _replace(Attribute, owner, rows)
