"""Output shapes of the API's own endpoints (apps' serializers live beside their viewsets here too)."""

from rest_framework import serializers


class OrganisationSummarySerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id")
    kind = serializers.CharField()
    name = serializers.CharField()


class MeSerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id")
    username = serializers.CharField()
    name = serializers.CharField(source="get_full_name")
    role = serializers.CharField()
    organisation = OrganisationSummarySerializer(allow_null=True)
