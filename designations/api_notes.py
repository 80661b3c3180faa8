"""REST API for intelligence notes, and bulk reads of designations."""

from __future__ import annotations

from uuid import UUID

from django.urls import path, reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from designations.api import DesignationSummarySerializer, summaries, summary_columns
from designations.api_schema import problems
from designations.api_serializers import StrictCharField, StrictSerializer, StrictUUIDField
from designations.models import IntelligenceNote
from designations.services import note_create
from sharing import access
from sharing.access import Level
from sharing.api import conditional, problem
from sharing.audit import audit_record
from sharing.models import AuditAction, Marking


class NoteSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.code")
    url = serializers.SerializerMethodField()

    class Meta:
        model = IntelligenceNote
        fields = [
            "id",
            "designation",
            "owner",
            "title",
            "body",
            "marking",
            "version",
            "created_at",
            "updated_at",
            "url",
        ]

    def get_url(self, note: IntelligenceNote) -> str:
        return reverse("api:note-detail", args=[note.pk])


class NoteCreate(StrictSerializer):
    designation = StrictUUIDField(allow_null=True)
    title = StrictCharField(max_length=300)
    body = StrictCharField(max_length=200_000, help_text="Markdown")
    marking = serializers.ChoiceField(choices=Marking.choices, default=Marking.AMBER)


class NotePageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = NoteSerializer(many=True)


class NoteCursor(CursorPagination):
    ordering = "id"
    page_size = 50


class NoteList(APIView):
    @extend_schema(
        operation_id="notes_list",
        parameters=[
            OpenApiParameter("designation", OpenApiTypes.UUID),
            OpenApiParameter("cursor", OpenApiTypes.STR),
        ],
        responses={200: NotePageSerializer, **problems(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        """Notes the caller may see (never about a designation it may not see)."""
        notes = access.notes_for(request.user).select_related("owner")
        if "designation" in request.query_params:
            try:
                notes = notes.filter(designation_id=UUID(request.query_params["designation"]))
            except ValueError:
                return problem(
                    400, "The request is not valid.", errors={"designation": ["Not a UUID."]}
                )
        paginator = NoteCursor()
        try:
            page = paginator.paginate_queryset(notes.order_by("id"), request, view=self)
        except NotFound:
            return problem(400, "The request is not valid.", errors={"cursor": ["Invalid cursor."]})
        for note in page:
            audit_record(AuditAction.READ, obj=note)
        return paginator.get_paginated_response(NoteSerializer(page, many=True).data)

    @extend_schema(
        operation_id="notes_create",
        request=NoteCreate,
        responses={201: NoteSerializer, **problems(400, 401, 403, 404)},
    )
    def post(self, request: Request) -> Response:
        """Write a note about a designation you may comment on."""
        serializer = NoteCreate(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        designation = None
        if data["designation"] is not None:
            designation = (
                access.designations_for(request.user).filter(pk=data["designation"]).first()
            )
            if designation is None:
                return problem(404, "No such designation.")
        note = note_create(
            actor=request.user,
            designation=designation,
            title=data["title"],
            body=data["body"],
            marking=data["marking"],
        )
        response = Response(NoteSerializer(note).data, status=201)
        response["Location"] = reverse("api:note-detail", args=[note.pk])
        return response


class NoteDetail(APIView):
    @extend_schema(
        operation_id="notes_retrieve",
        responses={200: NoteSerializer, 304: None, **problems(401, 404)},
    )
    def get(self, request: Request, note_id: UUID) -> Response:
        note = access.notes_for(request.user).select_related("owner").filter(pk=note_id).first()
        if note is None:
            audit_record(
                AuditAction.DENIED,
                detail={"path": request.path, "object": str(note_id), "attempt": "view note"},
            )
            return problem(404, "No such note.")
        audit_record(AuditAction.READ, obj=note)
        return conditional(request, note, NoteSerializer(note).data)


class BulkRequest(StrictSerializer):
    ids = serializers.ListField(child=StrictUUIDField(), min_length=1, max_length=200)


class BulkResponse(serializers.Serializer):
    results = DesignationSummarySerializer(many=True)
    missing = serializers.ListField(
        child=serializers.UUIDField(), help_text="Not found, or not visible to you"
    )


class DesignationBulk(APIView):
    write_scope = "read"  # a POST only because a list of ids does not fit in a URL

    @extend_schema(
        operation_id="designations_bulk_read",
        request=BulkRequest,
        responses={200: BulkResponse, **problems(400, 401, 403)},
    )
    def post(self, request: Request) -> Response:
        """Many designations by id at once; those you may not see are listed as missing."""
        serializer = BulkRequest(data=request.data)
        serializer.is_valid(raise_exception=True)
        ids = list(dict.fromkeys(serializer.validated_data["ids"]))
        found = summary_columns(
            access.designations_for(request.user, Level.VIEW).filter(pk__in=ids)
        )
        by_id = {d.pk: d for d in found}
        return Response(
            {
                "results": summaries(by_id[i] for i in ids if i in by_id),
                "missing": [str(i) for i in ids if i not in by_id],
            }
        )


urlpatterns = [
    path("notes", NoteList.as_view(), name="note-list"),
    path("notes/<uuid:note_id>", NoteDetail.as_view(), name="note-detail"),
    path("designations/bulk", DesignationBulk.as_view(), name="designation-bulk"),
]
