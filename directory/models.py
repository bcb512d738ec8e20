"""The service directory: organisations, their services, where each is offered, and what it costs, on the
Open Referral UK profile of the Human Services Data Specification (HSDS 3.0).

Each table is one HSDS class, keyed by the standard's own `id` (a UUID), so a file exported and imported
again keeps every id. Fields are the profile's, named as the standard names them. `extra` keeps, per record,
any property of an imported file that Purse does not model, so a round trip loses nothing.

Purse adds three things the standard does not have:
- a directory organisation may be one of Purse's providers (`provider`), whose users then keep its services;
- a cost option may name the rate catalogue service (`catalogue_service`) it is paid from, and so the
  funding stream that can pay for it;
- a service's `assured_date` is its "last reviewed" date: 6 months without a review flags it to its provider
  (`stale_notified_at` says when), and after 12 it is left out of suggestions for plans.
"""

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone


class ServiceStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    INACTIVE = "inactive", "Inactive"
    DEFUNCT = "defunct", "Defunct"
    TEMPORARILY_CLOSED = "temporarily closed", "Temporarily closed"


class LocationType(models.TextChoices):
    PHYSICAL = "physical", "A place people can visit"
    POSTAL = "postal", "A postal address"
    VIRTUAL = "virtual", "Online or by phone"


class HsdsRecord(models.Model):
    """A record of one HSDS class: the standard's id, and the imported properties Purse does not model."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    extra = models.JSONField(default=dict, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self._meta.model_name} {self.id}"


class DirectoryOrganisation(HsdsRecord):
    """An organisation that runs services (HSDS `organization`); one of Purse's providers, or not."""

    name = models.CharField(max_length=255)
    alternate_name = models.CharField(max_length=255, blank=True)
    description = models.TextField(blank=True)
    email = models.EmailField(max_length=254, blank=True)
    website = models.URLField(max_length=500, blank=True)
    logo = models.URLField(max_length=500, blank=True)
    uri = models.URLField(max_length=500, blank=True)
    parent_organization_id = models.UUIDField(null=True, blank=True)
    provider = models.OneToOneField(
        "people.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="directory_organisation",
        help_text="The Purse provider that keeps this organisation's services, when it is one.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    def __str__(self) -> str:
        return self.name


class OrganisationIdentifier(HsdsRecord):
    """A register number for an organisation (Companies House `GB-COH`, Charity Commission `GB-CHC`)."""

    organisation = models.ForeignKey(
        DirectoryOrganisation, on_delete=models.CASCADE, related_name="identifiers"
    )
    identifier_scheme = models.CharField(max_length=100, blank=True)
    identifier_type = models.CharField(max_length=100)
    identifier = models.CharField(max_length=255)


class Service(HsdsRecord):
    """A service an organisation offers (HSDS `service`). `assured_date` is when it was last reviewed."""

    organisation = models.ForeignKey(DirectoryOrganisation, on_delete=models.PROTECT, related_name="services")
    name = models.CharField(max_length=255)
    alternate_name = models.CharField(max_length=255, blank=True)
    description = models.TextField(blank=True)
    url = models.URLField(max_length=500, blank=True)
    email = models.EmailField(max_length=254, blank=True)
    status = models.CharField(max_length=24, choices=ServiceStatus.choices, default=ServiceStatus.ACTIVE)
    interpretation_services = models.TextField(blank=True)
    application_process = models.TextField(blank=True)
    fees_description = models.TextField(blank=True)
    accreditations = models.TextField(blank=True)
    eligibility_description = models.TextField(blank=True)
    minimum_age = models.PositiveSmallIntegerField(null=True, blank=True)
    maximum_age = models.PositiveSmallIntegerField(null=True, blank=True)
    assured_date = models.DateField(null=True, blank=True, help_text="Last reviewed.")
    assurer_email = models.EmailField(max_length=254, blank=True)
    alert = models.TextField(blank=True)
    last_modified = models.DateTimeField(default=timezone.now)
    stale_notified_at = models.DateTimeField(
        null=True, blank=True, help_text="When its provider was told it needs a review (cleared by a review)."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="directory_service_status_valid", condition=Q(status__in=ServiceStatus.values)
            ),
            models.CheckConstraint(
                name="directory_service_ages_in_order",
                condition=Q(minimum_age__isnull=True)
                | Q(maximum_age__isnull=True)
                | Q(maximum_age__gte=models.F("minimum_age")),
            ),
        ]
        indexes = [
            models.Index(fields=["status", "assured_date"], name="directory_service_status_rev"),
            models.Index(fields=["organisation", "name"], name="directory_service_org_name"),
        ]

    def __str__(self) -> str:
        return self.name


class Location(HsdsRecord):
    """Where services are offered (HSDS `location`): coordinates are stored, never looked up online."""

    organisation = models.ForeignKey(
        DirectoryOrganisation, on_delete=models.PROTECT, null=True, blank=True, related_name="locations"
    )
    location_type = models.CharField(
        max_length=16, choices=LocationType.choices, default=LocationType.PHYSICAL
    )
    url = models.URLField(max_length=500, blank=True)
    name = models.CharField(max_length=255, blank=True)
    alternate_name = models.CharField(max_length=255, blank=True)
    description = models.TextField(blank=True)
    transportation = models.TextField(blank=True)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    external_identifier = models.CharField(max_length=255, blank=True)
    external_identifier_type = models.CharField(max_length=255, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="directory_location_type_valid", condition=Q(location_type__in=LocationType.values)
            ),
            models.CheckConstraint(
                name="directory_location_coordinates_both_or_neither",
                condition=Q(latitude__isnull=True, longitude__isnull=True)
                | Q(latitude__isnull=False, longitude__isnull=False),
            ),
            models.CheckConstraint(
                name="directory_location_coordinates_on_earth",
                condition=Q(latitude__isnull=True)
                | Q(latitude__gte=-90, latitude__lte=90, longitude__gte=-180, longitude__lte=180),
            ),
        ]
        indexes = [models.Index(fields=["latitude", "longitude"], name="directory_location_coords")]

    def __str__(self) -> str:
        return self.name or str(self.id)


class Address(HsdsRecord):
    """A location's address (HSDS `address`)."""

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="addresses")
    attention = models.CharField(max_length=255, blank=True)
    address_1 = models.CharField(max_length=255)
    address_2 = models.CharField(max_length=255, blank=True)
    city = models.CharField(max_length=255)
    region = models.CharField(max_length=255, blank=True)
    state_province = models.CharField(max_length=255, blank=True)
    postal_code = models.CharField(max_length=16)
    country = models.CharField(max_length=2, default="GB")
    address_type = models.CharField(max_length=16, default="physical")


class ServiceAtLocation(HsdsRecord):
    """A service offered at a location (HSDS `service_at_location`)."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="service_at_locations")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="service_at_locations")
    description = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["service", "location"], name="directory_service_at_location_once")
        ]


class Contact(HsdsRecord):
    """Someone to contact about a service (HSDS `contact`)."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=255, blank=True)
    title = models.CharField(max_length=255, blank=True)
    department = models.CharField(max_length=255, blank=True)
    email = models.EmailField(max_length=254, blank=True)


class Phone(HsdsRecord):
    """A phone number for a service, or for one of its contacts (HSDS `phone`)."""

    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, null=True, blank=True, related_name="phones"
    )
    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, null=True, blank=True, related_name="phones"
    )
    number = models.CharField(max_length=40)
    extension = models.CharField(max_length=16, blank=True)
    type = models.CharField(
        max_length=24, blank=True, help_text="text, voice, fax, cell, video, pager, textphone"
    )
    description = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="directory_phone_belongs_to_one",
                condition=Q(service__isnull=False, contact__isnull=True)
                | Q(service__isnull=True, contact__isnull=False),
            )
        ]


class Schedule(HsdsRecord):
    """When a service is open (HSDS `schedule`, iCalendar recurrence fields)."""

    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, null=True, blank=True, related_name="schedules"
    )
    service_at_location = models.ForeignKey(
        ServiceAtLocation, on_delete=models.CASCADE, null=True, blank=True, related_name="schedules"
    )
    valid_from = models.DateField(null=True, blank=True)
    valid_to = models.DateField(null=True, blank=True)
    dtstart = models.DateField(null=True, blank=True)
    timezone = models.SmallIntegerField(null=True, blank=True)
    until = models.DateField(null=True, blank=True)
    count = models.PositiveIntegerField(null=True, blank=True)
    wkst = models.CharField(max_length=2, blank=True)
    freq = models.CharField(max_length=8, blank=True, help_text="WEEKLY or MONTHLY")
    interval = models.PositiveIntegerField(null=True, blank=True)
    byday = models.CharField(max_length=64, blank=True)
    byweekno = models.CharField(max_length=64, blank=True)
    bymonthday = models.CharField(max_length=128, blank=True)
    byyearday = models.CharField(max_length=128, blank=True)
    description = models.TextField(blank=True)
    opens_at = models.TimeField(null=True, blank=True)
    closes_at = models.TimeField(null=True, blank=True)
    schedule_link = models.URLField(max_length=500, blank=True)
    attending_type = models.CharField(max_length=255, blank=True)
    notes = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="directory_schedule_belongs_to_one",
                condition=Q(service__isnull=False, service_at_location__isnull=True)
                | Q(service__isnull=True, service_at_location__isnull=False),
            )
        ]


class ServiceArea(HsdsRecord):
    """Where a service's users must live (HSDS `service_area`)."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="service_areas")
    name = models.CharField(max_length=255, blank=True)
    description = models.TextField(blank=True)
    extent = models.TextField(blank=True)
    extent_type = models.CharField(max_length=24, blank=True)
    uri = models.URLField(max_length=500, blank=True)


class CostOption(HsdsRecord):
    """What a service costs (HSDS `cost_option`); no amount, or 0, is free. Amounts are in pounds and pence
    as the standard has them (a decimal, never a float); Purse adds the catalogue service it is paid from."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="cost_options")
    valid_from = models.DateField(null=True, blank=True)
    valid_to = models.DateField(null=True, blank=True)
    option = models.CharField(max_length=255, blank=True)
    currency = models.CharField(max_length=3, default="GBP")
    amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    amount_description = models.CharField(max_length=255, blank=True)
    catalogue_service = models.ForeignKey(
        "budgets.Service",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The rate catalogue service this is paid from, and so the stream that can pay.",
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="directory_cost_not_negative", condition=Q(amount__isnull=True) | Q(amount__gte=0)
            ),
            models.CheckConstraint(
                name="directory_cost_valid_in_order",
                condition=Q(valid_from__isnull=True)
                | Q(valid_to__isnull=True)
                | Q(valid_to__gte=models.F("valid_from")),
            ),
        ]


class Language(HsdsRecord):
    """A language a service is offered in (HSDS `language`)."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="languages")
    name = models.CharField(max_length=100, blank=True)
    code = models.CharField(max_length=16, blank=True)
    note = models.TextField(blank=True)


class Funding(HsdsRecord):
    """Where a service's money comes from (HSDS `funding`)."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="funding")
    source = models.TextField()


class Taxonomy(HsdsRecord):
    """A vocabulary of terms (HSDS `taxonomy`), such as Open Referral UK's service types or needs."""

    name = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    uri = models.URLField(max_length=500, blank=True)
    version = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name_plural = "taxonomies"

    def __str__(self) -> str:
        return self.name


class TaxonomyTerm(HsdsRecord):
    """A term of a taxonomy, with its parent (HSDS `taxonomy_term`): a need or a kind of service."""

    taxonomy = models.ForeignKey(
        Taxonomy, on_delete=models.PROTECT, null=True, blank=True, related_name="terms"
    )
    code = models.CharField(max_length=100, blank=True)
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    language = models.CharField(max_length=16, blank=True)
    term_uri = models.URLField(max_length=500, blank=True)

    class Meta:
        indexes = [models.Index(fields=["code"], name="directory_term_code")]

    def __str__(self) -> str:
        return self.name


class Attribute(HsdsRecord):
    """A taxonomy term applied to a service (HSDS `attribute`, `link_entity` "service")."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="attributes")
    taxonomy_term = models.ForeignKey(TaxonomyTerm, on_delete=models.PROTECT, related_name="attributes")
    link_type = models.CharField(max_length=100, blank=True)
    value = models.CharField(max_length=255, blank=True)
    label = models.CharField(max_length=255, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["service", "taxonomy_term"], name="directory_attribute_once")
        ]


class Postcode(models.Model):
    """A postcode's coordinates, loaded from a file (the ONS Postcode Directory), for distances: Purse never
    looks a postcode up online. `postcode` is normalised: upper case, one space before the inward code."""

    postcode = models.CharField(max_length=8, primary_key=True)
    outward_code = models.CharField(max_length=4, db_index=True)
    latitude = models.DecimalField(max_digits=9, decimal_places=6)
    longitude = models.DecimalField(max_digits=9, decimal_places=6)

    def __str__(self) -> str:
        return self.postcode
