"""REST API for grants on objects one's agency owns: list, grant, revoke."""

from __future__ import annotations

from uuid import UUID

from django.core.exceptions import ValidationError
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from designations.api_schema import problems
from designations.api_serializers import StrictCharField, StrictSerializer
from designations.models import Designation, IntelligenceNote
from sharing import access
from sharing.access import Level
from sharing.api import problem
from sharing.audit import audit_record
from sharing.grants import grant_create, grant_revoke, grantee_from_key, grants_of
from sharing.models import AuditAction


class GrantSerializer(StrictSerializer):
    grantee = StrictCharField(
        help_text="agency:<code>, sharing_group:<uuid> or user:<username> (TLP:RED)"
    )
    level = serializers.ChoiceField(choices=[level.label for level in Level])


def _grants_body(obj: Designation | IntelligenceNote) -> list[dict[str, str]]:
    return [{"grantee": g.key, "level": g.level.label} for g in grants_of(obj)]


class ObjectGrants(APIView):
    """Who an object of your agency is shared with. Reading needs to be of the owner agency;
    granting and revoking need an agency admin or an API client with the grants scope."""

    write_scope = "grants"
    model: type[Designation] | type[IntelligenceNote]

    def _object(self, request: Request, object_id: UUID) -> Designation | IntelligenceNote | None:
        obj = access.objects_for(request.user, self.model).filter(pk=object_id).first()
        if obj is None:
            audit_record(
                AuditAction.DENIED,
                detail={"path": request.path, "object": str(object_id), "attempt": "grants"},
            )
        return obj

    @extend_schema(responses={200: GrantSerializer(many=True), **problems(401, 403, 404)})
    def get(self, request: Request, object_id: UUID) -> Response:
        obj = self._object(request, object_id)
        if obj is None:
            return problem(404, "No such object.")
        if not access.may_see_audience(request.user, obj):
            return problem(403, "Only the owner agency sees whom its objects are shared with.")
        return Response(_grants_body(obj))

    @extend_schema(
        request=GrantSerializer,
        responses={201: GrantSerializer(many=True), **problems(400, 401, 403, 404)},
    )
    def post(self, request: Request, object_id: UUID) -> Response:
        obj = self._object(request, object_id)
        if obj is None:
            return problem(404, "No such object.")
        if not access.may_manage_grants(request.user, obj):
            audit_record(AuditAction.DENIED, obj=obj, detail={"attempt": "share"})
            return problem(403, "Only an agency admin of the owner agency shares this object.")
        serializer = GrantSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        grant_create(
            actor=request.user,
            obj=obj,
            grantee=grantee_from_key(serializer.validated_data["grantee"]),
            level=Level[serializer.validated_data["level"].upper()],
        )
        return Response(_grants_body(obj), status=201)


class ObjectGrant(APIView):
    write_scope = "grants"
    model: type[Designation] | type[IntelligenceNote]

    @extend_schema(responses={204: None, **problems(400, 401, 403, 404)})
    def delete(self, request: Request, object_id: UUID, grantee: str) -> Response:
        obj = access.objects_for(request.user, self.model).filter(pk=object_id).first()
        if obj is None:
            return problem(404, "No such object.")
        if not access.may_manage_grants(request.user, obj):
            audit_record(AuditAction.DENIED, obj=obj, detail={"attempt": "revoke"})
            return problem(403, "Only an agency admin of the owner agency shares this object.")
        try:
            grant_revoke(actor=request.user, obj=obj, grantee=grantee_from_key(grantee))
        except ValidationError as error:
            return problem(404, " ".join(error.messages))
        return Response(status=204)


class DesignationGrants(ObjectGrants):
    model = Designation


class NoteGrants(ObjectGrants):
    model = IntelligenceNote


class DesignationGrant(ObjectGrant):
    model = Designation


class NoteGrant(ObjectGrant):
    model = IntelligenceNote


urlpatterns = [
    path(
        "designations/<uuid:object_id>/grants",
        DesignationGrants.as_view(),
        name="designation-grants",
    ),
    path(
        "designations/<uuid:object_id>/grants/<str:grantee>",
        DesignationGrant.as_view(),
        name="designation-grant",
    ),
    path("notes/<uuid:object_id>/grants", NoteGrants.as_view(), name="note-grants"),
    path("notes/<uuid:object_id>/grants/<str:grantee>", NoteGrant.as_view(), name="note-grant"),
]
