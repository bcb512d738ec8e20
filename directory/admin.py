"""Django admin for the service directory: read-only. Listings are kept by their providers through
`directory.services.listings` (checked, audited, and setting `last_modified`), and whole directories by
import; the admin lets administrators look records up, and changes nothing behind those rules' backs."""

from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from directory.models import (
    Address,
    Attribute,
    Contact,
    CostOption,
    DirectoryOrganisation,
    Location,
    Phone,
    Postcode,
    Schedule,
    Service,
    ServiceArea,
    ServiceAtLocation,
    Taxonomy,
    TaxonomyTerm,
)

URL_FIELDS = {models.URLField: {"assume_scheme": "https"}}


class ReadOnlyAdmin(admin.ModelAdmin):
    formfield_overrides = URL_FIELDS

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    formfield_overrides = URL_FIELDS
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class ContactInline(ReadOnlyInline):
    model = Contact
    fields = ("name", "title", "department", "email")


class CostOptionInline(ReadOnlyInline):
    model = CostOption
    fields = ("option", "amount", "currency", "valid_from", "valid_to", "catalogue_service")


class ServiceAtLocationInline(ReadOnlyInline):
    model = ServiceAtLocation
    fields = ("location", "description")


class AttributeInline(ReadOnlyInline):
    model = Attribute
    fields = ("taxonomy_term", "link_type", "value")


class AddressInline(ReadOnlyInline):
    model = Address
    fields = ("address_1", "city", "postal_code", "country")


@admin.register(DirectoryOrganisation)
class DirectoryOrganisationAdmin(ReadOnlyAdmin):
    list_display = ("name", "provider", "email", "created_at")
    list_select_related = ("provider",)
    search_fields = ("name", "alternate_name", "email")


@admin.register(Service)
class ServiceAdmin(ReadOnlyAdmin):
    list_display = ("name", "organisation", "status", "assured_date", "stale_notified_at", "last_modified")
    list_filter = ("status",)
    list_select_related = ("organisation",)
    search_fields = ("name", "organisation__name")
    date_hierarchy = "assured_date"
    inlines = (ServiceAtLocationInline, ContactInline, CostOptionInline, AttributeInline)


@admin.register(Location)
class LocationAdmin(ReadOnlyAdmin):
    list_display = ("name", "organisation", "location_type", "latitude", "longitude")
    list_filter = ("location_type",)
    list_select_related = ("organisation",)
    search_fields = ("name", "addresses__postal_code")
    inlines = (AddressInline,)


@admin.register(Contact)
class ContactAdmin(ReadOnlyAdmin):
    list_display = ("name", "service", "email")
    list_select_related = ("service",)
    search_fields = ("name", "email", "service__name")


@admin.register(Phone)
class PhoneAdmin(ReadOnlyAdmin):
    list_display = ("number", "type", "service", "contact")
    list_select_related = ("service", "contact")


@admin.register(CostOption)
class CostOptionAdmin(ReadOnlyAdmin):
    list_display = ("service", "option", "amount", "currency", "catalogue_service")
    list_select_related = ("service", "catalogue_service")


@admin.register(Schedule)
class ScheduleAdmin(ReadOnlyAdmin):
    list_display = ("service", "service_at_location", "freq", "byday", "opens_at", "closes_at")
    list_select_related = ("service",)


@admin.register(ServiceArea)
class ServiceAreaAdmin(ReadOnlyAdmin):
    list_display = ("name", "service", "extent_type")
    list_select_related = ("service",)


@admin.register(Taxonomy)
class TaxonomyAdmin(ReadOnlyAdmin):
    list_display = ("name", "version", "uri")
    search_fields = ("name",)


@admin.register(TaxonomyTerm)
class TaxonomyTermAdmin(ReadOnlyAdmin):
    list_display = ("name", "code", "taxonomy", "parent")
    list_filter = ("taxonomy",)
    list_select_related = ("taxonomy", "parent")
    search_fields = ("name", "code")


@admin.register(Postcode)
class PostcodeAdmin(ReadOnlyAdmin):
    list_display = ("postcode", "outward_code", "latitude", "longitude")
    search_fields = ("postcode",)
