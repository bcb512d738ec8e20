"""UK postcodes: checking and normalising one, finding where it is from the loaded table, and distances.

Purse never looks a postcode up online: `Postcode` rows come from a file (the ONS Postcode Directory, or
"Open Postcode Geo") loaded by `manage.py postcodes_load`. A postcode that is not in the table but whose
outward code ("LS1") is gets the mean position of that outward code's postcodes, marked approximate.

Distances are geometry, the one place floats are used; they come back as a `Decimal` to 0.1 mile so that
nothing downstream needs to know. Money never passes through here.
"""

import csv
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Avg

from directory.models import Postcode
from ledger.errors import DomainError

EARTH_RADIUS_MILES = 3958.8
# Outward code: area (1-2 letters), district (a digit, then a digit or letter); inward: a digit, 2 letters.
# GIR 0AA is Girobank's, the one postcode outside the pattern.
_POSTCODE = re.compile(r"^(?:([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})|(GIR)(0AA))$")
_TENTH = Decimal("0.1")
_MICRO = Decimal("0.000001")


class InvalidPostcode(DomainError):
    code = "invalid_postcode"
    message = "Enter a full UK postcode, like LS1 5HD."
    http_status = 422


class UnknownPostcode(DomainError):
    code = "unknown_postcode"
    http_status = 422


class PostcodeFileInvalid(DomainError):
    code = "postcode_file_invalid"


@dataclass(frozen=True)
class PostcodePoint:
    """Where a postcode is; `is_approximate` when only its outward code was known (the mean of its rows)."""

    postcode: str
    latitude: Decimal
    longitude: Decimal
    is_approximate: bool


def postcode_normalise(text: str) -> str:
    """The postcode in upper case with one space before its inward code; raises InvalidPostcode."""
    compact = re.sub(r"\s+", "", text or "").upper()
    match = _POSTCODE.match(compact)
    if match is None:
        shown = (text or "").strip()
        if not shown:
            raise InvalidPostcode("Enter a postcode, like LS1 5HD.")
        if len(shown) > 20:
            shown = shown[:20] + "..."
        raise InvalidPostcode(f"{shown!r} is not a UK postcode. Enter a full postcode, like LS1 5HD.")
    return f"{compact[:-3]} {compact[-3:]}"


def postcode_locate(postcode: str) -> PostcodePoint:
    """Where a postcode is, from the loaded table (or its outward code's mean, approximately).

    Raises InvalidPostcode for a malformed one, UnknownPostcode for one the table does not place.
    """
    normalised = postcode_normalise(postcode)
    row = Postcode.objects.filter(postcode=normalised).first()
    if row is not None:
        return PostcodePoint(normalised, row.latitude, row.longitude, is_approximate=False)
    outward = normalised.split(" ")[0]
    mean = Postcode.objects.filter(outward_code=outward).aggregate(
        latitude=Avg("latitude"), longitude=Avg("longitude")
    )
    if mean["latitude"] is None:
        raise UnknownPostcode(
            f"We do not know where {normalised} is; check it, or search without a distance."
        )
    return PostcodePoint(normalised, _micro(mean["latitude"]), _micro(mean["longitude"]), is_approximate=True)


def distance_miles(
    a_lat: Decimal | float, a_lon: Decimal | float, b_lat: Decimal | float, b_lon: Decimal | float
) -> Decimal:
    """The great-circle (haversine) distance between two points, in miles to 0.1 (half up)."""
    phi_a, phi_b = math.radians(float(a_lat)), math.radians(float(b_lat))
    d_phi = phi_b - phi_a
    d_lambda = math.radians(float(b_lon) - float(a_lon))
    h = math.sin(d_phi / 2) ** 2 + math.cos(phi_a) * math.cos(phi_b) * math.sin(d_lambda / 2) ** 2
    miles = 2 * EARTH_RADIUS_MILES * math.asin(min(1.0, math.sqrt(h)))
    return Decimal(repr(miles)).quantize(_TENTH, rounding=ROUND_HALF_UP)


def _micro(value: Decimal | float) -> Decimal:
    # Avg comes back as a Decimal on PostgreSQL and may be a float on SQLite: geometry, not money.
    return Decimal(str(value)).quantize(_MICRO, rounding=ROUND_HALF_UP)


# Loading a postcode file -------------------------------------------------------------------------------

POSTCODE_COLUMNS = ("pcds", "postcode")
LATITUDE_COLUMNS = ("lat", "latitude")
LONGITUDE_COLUMNS = ("long", "longitude")
REFUSALS_KEPT = 1000


@dataclass(frozen=True)
class RefusedRow:
    line: int
    reason: str


@dataclass
class PostcodeLoadResult:
    """How a load went: rows written, rows refused (the first `REFUSALS_KEPT` of them kept, with reasons)."""

    loaded: int = 0
    refused_count: int = 0
    refused: list[RefusedRow] = field(default_factory=list)

    def refuse(self, line: int, reason: str) -> None:
        self.refused_count += 1
        if len(self.refused) < REFUSALS_KEPT:
            self.refused.append(RefusedRow(line, reason))


def postcodes_load(*, lines: Iterable[str], batch_size: int = 2000) -> PostcodeLoadResult:
    """Add or update `Postcode` rows from CSV text with a header naming `pcds` (or `postcode`), `lat` and
    `long` (or `latitude`, `longitude`); streamed, one transaction per batch, so a file of any size can load
    and a load can safely run again. Raises PostcodeFileInvalid when a column is missing."""
    reader = csv.DictReader(lines)
    header = [name.strip().lower() for name in (reader.fieldnames or [])]
    columns = {}
    for role, choices in (
        ("postcode", POSTCODE_COLUMNS),
        ("latitude", LATITUDE_COLUMNS),
        ("longitude", LONGITUDE_COLUMNS),
    ):
        found = next((name for name in (reader.fieldnames or []) if name.strip().lower() in choices), None)
        if found is None:
            raise PostcodeFileInvalid(
                f"The file has no {' or '.join(repr(c) for c in choices)} column; its first line must name "
                f"the columns (it has: {', '.join(header) or 'nothing'})."
            )
        columns[role] = found
    result = PostcodeLoadResult()
    for batch in _batches(_parsed_rows(reader, columns, result), batch_size):
        with transaction.atomic():
            Postcode.objects.bulk_create(
                batch,
                update_conflicts=True,
                unique_fields=["postcode"],
                update_fields=["outward_code", "latitude", "longitude"],
            )
        result.loaded += len(batch)
    return result


def _parsed_rows(
    reader: csv.DictReader, columns: dict[str, str], result: PostcodeLoadResult
) -> Iterator[Postcode]:
    for row in reader:
        line = reader.line_num
        try:
            postcode = postcode_normalise(row.get(columns["postcode"]) or "")
        except InvalidPostcode:
            result.refuse(line, f"{(row.get(columns['postcode']) or '').strip()!r} is not a UK postcode")
            continue
        latitude = _coordinate(row.get(columns["latitude"]), 90)
        longitude = _coordinate(row.get(columns["longitude"]), 180)
        if latitude is None or longitude is None:
            # The ONS directory writes 99.999999 for a postcode it has no position for.
            result.refuse(line, f"{postcode} has no usable latitude and longitude")
            continue
        yield Postcode(
            postcode=postcode, outward_code=postcode.split(" ")[0], latitude=latitude, longitude=longitude
        )


def _coordinate(text: str | None, limit: int) -> Decimal | None:
    try:
        value = Decimal((text or "").strip())
    except InvalidOperation:
        return None
    if not value.is_finite() or abs(value) > limit:
        return None
    return value.quantize(_MICRO, rounding=ROUND_HALF_UP)


def _batches(rows: Iterator[Postcode], size: int) -> Iterator[list[Postcode]]:
    # One postcode twice in a batch would make PostgreSQL's upsert touch a row twice: the later one wins.
    batch: dict[str, Postcode] = {}
    for row in rows:
        batch[row.postcode] = row
        if len(batch) >= size:
            yield list(batch.values())
            batch = {}
    if batch:
        yield list(batch.values())
