"""The API's own endpoints. Thin: authenticate, authorise, call one selector, render."""

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.serializers import MeSerializer


class MeView(APIView):
    """Who the caller is: their public id, role and organisation."""

    @extend_schema(responses=MeSerializer, operation_id="me_retrieve")
    def get(self, request: Request) -> Response:
        return Response(MeSerializer(request.user).data)
