"""factory_boy factories for the service directory (HSDS records). A service is active and reviewed today
unless told otherwise. Give it a place with `ServiceAtLocationFactory`, a price with `CostOptionFactory`."""

from datetime import date
from decimal import Decimal

import factory

from directory.models import (
    Address,
    Attribute,
    Contact,
    CostOption,
    DirectoryOrganisation,
    Location,
    LocationType,
    Phone,
    Postcode,
    Schedule,
    Service,
    ServiceArea,
    ServiceAtLocation,
    ServiceStatus,
    Taxonomy,
    TaxonomyTerm,
)


class DirectoryOrganisationFactory(factory.django.DjangoModelFactory):
    """A community organisation with no Purse provider; pass `provider=` for one of Purse's providers."""

    class Meta:
        model = DirectoryOrganisation

    name = factory.Sequence(lambda n: f"Community group {n}")
    description = "Local support for disabled people and their families."
    provider = None


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service

    organisation = factory.SubFactory(DirectoryOrganisationFactory)
    name = factory.Sequence(lambda n: f"Service {n}")
    description = "A service offered to people in the area."
    status = ServiceStatus.ACTIVE
    assured_date = factory.LazyFunction(date.today)


class LocationFactory(factory.django.DjangoModelFactory):
    """A place in Leeds city centre unless told otherwise."""

    class Meta:
        model = Location

    organisation = None
    location_type = LocationType.PHYSICAL
    name = factory.Sequence(lambda n: f"Centre {n}")
    latitude = Decimal("53.799500")
    longitude = Decimal("-1.549100")


class AddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Address

    location = factory.SubFactory(LocationFactory)
    address_1 = factory.Sequence(lambda n: f"{n} Park Row")
    city = "Leeds"
    postal_code = "LS1 5HD"
    country = "GB"


class ServiceAtLocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceAtLocation

    service = factory.SubFactory(ServiceFactory)
    location = factory.SubFactory(LocationFactory)


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    service = factory.SubFactory(ServiceFactory)
    name = factory.Sequence(lambda n: f"Contact {n}")
    email = factory.Sequence(lambda n: f"contact{n}@example.org")


class PhoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Phone

    service = factory.SubFactory(ServiceFactory)
    contact = None
    number = "0113 496 0000"
    type = "voice"


class ScheduleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Schedule

    service = factory.SubFactory(ServiceFactory)
    service_at_location = None
    freq = "WEEKLY"
    byday = "MO,WE"
    description = "Mondays and Wednesdays, 10am to 2pm."


class ServiceAreaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceArea

    service = factory.SubFactory(ServiceFactory)
    name = "Leeds"


class CostOptionFactory(factory.django.DjangoModelFactory):
    """Free (no amount) unless told otherwise; `catalogue_service=` links it to a rate catalogue service."""

    class Meta:
        model = CostOption

    service = factory.SubFactory(ServiceFactory)
    option = "Everyone"
    currency = "GBP"
    amount = None
    catalogue_service = None


class TaxonomyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Taxonomy

    name = factory.Sequence(lambda n: f"Taxonomy {n}")


class TaxonomyTermFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TaxonomyTerm

    taxonomy = factory.SubFactory(TaxonomyFactory)
    code = factory.Sequence(lambda n: f"term-{n}")
    name = factory.Sequence(lambda n: f"Term {n}")


class AttributeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Attribute

    service = factory.SubFactory(ServiceFactory)
    taxonomy_term = factory.SubFactory(TaxonomyTermFactory)


class PostcodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Postcode

    postcode = "LS1 5HD"
    outward_code = factory.LazyAttribute(lambda p: p.postcode.split()[0])
    latitude = Decimal("53.799500")
    longitude = Decimal("-1.549100")
