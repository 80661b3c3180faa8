"""REST API reference lists: agencies and sharing groups (known to every member)."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView

from agencies.models import Agency, SharingGroup
from designations.api_schema import problems


class AgencySerializer(serializers.ModelSerializer):
    node = serializers.CharField(source="home_node.node_id")

    class Meta:
        model = Agency
        fields = ["code", "name", "jurisdiction", "node"]


class SharingGroupSerializer(serializers.ModelSerializer):
    members = serializers.SlugRelatedField(many=True, read_only=True, slug_field="code")

    class Meta:
        model = SharingGroup
        fields = ["id", "name", "members", "version"]


@extend_schema(responses={200: AgencySerializer(many=True), **problems(401, 403)})
class AgencyList(ListAPIView):
    serializer_class = AgencySerializer
    queryset = Agency.objects.select_related("home_node").order_by("code")


@extend_schema(responses={200: SharingGroupSerializer(many=True), **problems(401, 403)})
class SharingGroupList(ListAPIView):
    serializer_class = SharingGroupSerializer
    queryset = SharingGroup.objects.prefetch_related("members").order_by("name")


urlpatterns = [
    path("agencies", AgencyList.as_view(), name="agency-list"),
    path("sharing-groups", SharingGroupList.as_view(), name="sharing-group-list"),
]
