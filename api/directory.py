"""The service directory (issue 10): searching it, and each service in full as Open Referral UK shapes it.

* `GET /api/v1/directory/services/?q=&term=&free=&max_cost=&stream=&postcode=&within_miles=
  &include_inactive=&page_size=&cursor=`: services matching, ranked as `directory.selectors.search` says
  (open first, then how well they match, nearer, reviewed, most recently reviewed). `term` may be given
  several times (any of them, with their narrower terms). Cursor-paginated as every list is (api.md).
* `GET /api/v1/directory/services/{id}/`: one service as the standard's `GET /services/{id}` gives it
  (`directory.oruk.service_to_oruk`), amounts and coordinates as exact JSON numbers.

Anyone signed in may search: a directory of services is not a person's record. A service that does not
exist is 404. A query that cannot be read is 400, naming the parameter (`/max_cost`); a postcode that is
malformed or that Purse does not know is 422 at `/postcode` (`invalid_postcode`, `unknown_postcode`).
"""

import base64
import binascii
from typing import Any
from uuid import UUID

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from directory.models import Service
from directory.oruk import oruk_dumps, service_to_oruk
from directory.postcodes import InvalidPostcode, UnknownPostcode
from directory.selectors.oruk import SERVICE_PREFETCH
from directory.selectors.search import (
    PAGE_SIZE_DEFAULT,
    PAGE_SIZE_MAX,
    InvalidSearch,
    ServiceSearch,
    services_search,
)
from ledger.errors import DomainErrors


class _SearchQuery(serializers.Serializer):
    q = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    term = serializers.ListField(child=serializers.UUIDField(), required=False, default=list, max_length=20)
    free = serializers.BooleanField(required=False, default=False)
    max_cost = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, required=False)
    stream = serializers.CharField(required=False, max_length=32)
    postcode = serializers.CharField(required=False, max_length=10)
    within_miles = serializers.DecimalField(max_digits=6, decimal_places=1, required=False)
    include_inactive = serializers.BooleanField(required=False, default=False)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=PAGE_SIZE_MAX)
    cursor = serializers.CharField(required=False, max_length=40)

    def validate_cursor(self, value: str) -> int:
        try:
            text = base64.urlsafe_b64decode(value.encode("ascii") + b"==").decode("ascii")
            page = int(text.removeprefix("p")) if text.startswith("p") else 0
        except (binascii.Error, UnicodeError, ValueError):
            page = 0
        if page < 1:
            raise ValidationError("This cursor is not one Purse gave: follow the next or previous link.")
        return page


class _Organisation(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()


class _Place(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    postal_code = serializers.CharField(allow_blank=True)
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True)
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True)


class DirectoryServiceResultSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    service_status = serializers.CharField(help_text="active, temporarily closed, inactive or defunct")
    organisation = _Organisation()
    url = serializers.CharField(allow_blank=True)
    email = serializers.CharField(allow_blank=True)
    is_free = serializers.BooleanField()
    lowest_cost = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField()
    streams = serializers.ListField(
        child=serializers.CharField(), help_text="The streams that can pay for it."
    )
    nearest_place = _Place(allow_null=True)
    distance_miles = serializers.DecimalField(max_digits=7, decimal_places=1, allow_null=True)
    last_reviewed = serializers.DateField(allow_null=True)
    needs_review = serializers.BooleanField(help_text="Not reviewed by its provider for 6 months or more.")


class _Page(serializers.Serializer):
    results = DirectoryServiceResultSerializer(many=True)
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)


def _cursor(page: int) -> str:
    return base64.urlsafe_b64encode(f"p{page}".encode("ascii")).decode("ascii").rstrip("=")


def _place(location: Any) -> dict[str, Any] | None:
    if location is None:
        return None
    addresses = list(location.addresses.all())
    return {
        "id": location.id,
        "name": location.name,
        "postal_code": addresses[0].postal_code if addresses else "",
        "latitude": location.latitude,
        "longitude": location.longitude,
    }


def _result(result: Any) -> dict[str, Any]:
    service = result.service
    return {
        "id": service.id,
        "name": service.name,
        "description": service.description,
        "service_status": service.status,
        "organisation": {"id": result.organisation.id, "name": result.organisation.name},
        "url": service.url,
        "email": service.email,
        "is_free": result.is_free,
        "lowest_cost": result.lowest_cost,
        "currency": "GBP",
        "streams": [stream.code for stream in result.streams],
        "nearest_place": _place(result.nearest_location),
        "distance_miles": result.distance_miles,
        "last_reviewed": result.last_reviewed_date,
        "needs_review": result.is_stale,
    }


class DirectoryServiceListView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="directory_services_list",
        parameters=[
            OpenApiParameter("q", str, description="Words, each to be found in the service"),
            OpenApiParameter(
                "term", OpenApiTypes.UUID, many=True, description="Taxonomy term ids (any of them)"
            ),
            OpenApiParameter("free", bool, description="Only free services"),
            OpenApiParameter("max_cost", OpenApiTypes.DECIMAL, description="The most it may cost, in pounds"),
            OpenApiParameter("stream", str, description="A funding stream's code that can pay for it"),
            OpenApiParameter("postcode", str, description="Measure distances from this UK postcode"),
            OpenApiParameter(
                "within_miles", OpenApiTypes.DECIMAL, description="Only this near (needs postcode)"
            ),
            OpenApiParameter("include_inactive", bool, description="Also inactive and defunct services"),
            OpenApiParameter(
                "page_size", int, description=f"Default {PAGE_SIZE_DEFAULT}, at most {PAGE_SIZE_MAX}"
            ),
            OpenApiParameter("cursor", str, description="From a next or previous link"),
        ],
        responses={200: _Page},
    )
    def get(self, request: Request) -> Response:
        query = _SearchQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        page = data.get("cursor", 1)
        search = ServiceSearch(
            text=data["q"],
            term_ids=tuple(data["term"]),
            free_only=data["free"],
            max_cost=data.get("max_cost"),
            stream_code=data.get("stream"),
            postcode=data.get("postcode"),
            within_miles=data.get("within_miles"),
            include_inactive=data["include_inactive"],
            page=page,
            page_size=data.get("page_size", PAGE_SIZE_DEFAULT),
        )
        try:
            found = services_search(query=search)
        except (InvalidPostcode, UnknownPostcode) as error:
            raise DomainErrors(
                [{"code": error.code, "pointer": "/postcode", "detail": error.message}]
            ) from None
        except InvalidSearch as error:
            raise DomainErrors(
                [
                    {
                        "code": error.code,
                        "pointer": f"/{_PARAMETERS.get(error.field, error.field)}",
                        "detail": error.message,
                    }
                ]
            ) from None
        return Response(
            {
                "results": DirectoryServiceResultSerializer(
                    [_result(result) for result in found.results], many=True
                ).data,
                "next": self._link(request, page + 1) if found.has_next else None,
                "previous": self._link(request, page - 1) if page > 1 else None,
            }
        )

    @staticmethod
    def _link(request: Request, page: int) -> str:
        params = request.query_params.copy()
        params["cursor"] = _cursor(page)
        return request.build_absolute_uri(f"{request.path}?{params.urlencode()}")


# The search's field names, as this endpoint's parameters are named.
_PARAMETERS = {
    "text": "q",
    "term_ids": "term",
    "free_only": "free",
    "stream_code": "stream",
    "page": "cursor",
}


class DirectoryServiceView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="directory_services_retrieve",
        responses={
            200: OpenApiResponse(
                OpenApiTypes.OBJECT, description="The service as Open Referral UK shapes it"
            ),
            404: OpenApiResponse(description="No such service"),
        },
    )
    def get(self, request: Request, service_id: UUID) -> HttpResponse:
        service = (
            Service.objects.select_related("organisation")
            .prefetch_related(*SERVICE_PREFETCH)
            .filter(pk=service_id)
            .first()
        )
        if service is None:
            raise NotFound
        return HttpResponse(oruk_dumps(service_to_oruk(service)), content_type="application/json")
