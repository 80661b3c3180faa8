"""REST API for designations (list, detail, create, amend, delist), attachments (streamed
upload and download), regimes and /me.

Everything is read through sharing.access; objects one may not see answer 404."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from email.message import Message
from uuid import UUID

from django.db.models import QuerySet
from django.http import Http404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.generics import ListAPIView
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from agencies.api_clients import ClientPrincipal
from designations.api_schema import (
    CONTENT_DISPOSITION,
    IDEMPOTENCY_KEY,
    IF_MATCH,
    LIST_FILTERS,
    ME,
    DesignationDetailSerializer,
    problems,
)
from designations.api_serializers import (
    DesignationAmend,
    DesignationCreate,
    DesignationDelist,
    StrictSerializer,
)
from designations.attachments import attachment_record
from designations.data import designation_data
from designations.downloads import attachment_response
from designations.models import (
    Attachment,
    Designation,
    DesignationStatus,
    IntelligenceNote,
    Regime,
    SubjectKind,
)
from designations.selectors import (
    MAX_ID,
    DesignationFilters,
    designation_get,
    designation_search,
)
from designations.services import (
    StaleVersion,
    designation_amend,
    designation_create,
    designation_delist,
)
from sharing import access
from sharing.access import Level
from sharing.api import conditional, etag, problem
from sharing.audit import audit_record
from sharing.crypto import IntegrityError, KeyUnavailable
from sharing.idempotency import Answer, KeyInFlight, KeyReused, idempotent
from sharing.models import AuditAction, Marking
from sharing.uploads import UploadTooLarge, receive_raw_upload


class AttachmentSerializer(serializers.ModelSerializer):
    parent = serializers.SerializerMethodField()
    content_url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = [
            "id",
            "parent",
            "original_name",
            "content_type",
            "size",
            "sha256",
            "version",
            "created_at",
            "content_url",
        ]

    def get_parent(self, attachment: Attachment) -> dict[str, str]:
        kind = "designation" if attachment.designation_id else "note"
        return {"type": kind, "id": str(attachment.designation_id or attachment.note_id)}

    def get_content_url(self, attachment: Attachment) -> str:
        return reverse("api:attachment-content", args=[attachment.pk])


def _file_name(request: Request) -> str:
    """The name from `Content-Disposition: attachment; filename="..."` (RFC 6266)."""
    header = request.headers.get("Content-Disposition", "")
    message = Message()
    message["content-disposition"] = header
    return message.get_filename() or ""


def _denied(request: Request, object_id: UUID, attempt: str) -> Response:
    audit_record(
        AuditAction.DENIED,
        detail={"path": request.path, "object": str(object_id), "attempt": attempt},
    )
    return problem(404, "No such object.")


class AttachmentUpload(APIView):
    """POST the file as the request body, with its media type in Content-Type and its name in
    Content-Disposition. It is encrypted as it arrives; the limit is enforced while reading."""

    parser_classes: list = []  # the body is not parsed: it is the file
    model: type[Designation] | type[IntelligenceNote]

    @extend_schema(
        request={"application/octet-stream": OpenApiTypes.BINARY},
        parameters=[CONTENT_DISPOSITION],
        responses={201: AttachmentSerializer, **problems(400, 401, 403, 404, 413)},
    )
    def post(self, request: Request, object_id: UUID) -> Response:
        parent = access.objects_for(request.user, self.model).filter(pk=object_id).first()
        if parent is None:
            return _denied(request, object_id, "attach file")
        if not access.may_attach(request.user, parent):
            audit_record(AuditAction.DENIED, obj=parent, detail={"attempt": "attach file"})
            return problem(403, "You may not attach files to this object.")
        if request.stream is None:  # DRF's way of saying the body is empty
            return problem(400, "The request body is empty: send the file as the body.")
        length = request.META.get("CONTENT_LENGTH")
        try:
            upload = receive_raw_upload(
                request.stream,
                content_length=int(length) if length and length.isdigit() else None,
                file_name=_file_name(request),
                content_type=request.content_type,
            )
        except UploadTooLarge as error:
            return problem(413, str(error))
        attachment = attachment_record(actor=request.user, parent=parent, upload=upload)
        response = Response(AttachmentSerializer(attachment).data, status=201)
        response["Location"] = reverse("api:attachment-detail", args=[attachment.pk])
        return response


class DesignationAttachmentUpload(AttachmentUpload):
    model = Designation


class NoteAttachmentUpload(AttachmentUpload):
    model = IntelligenceNote


def _downloadable(request: Request, attachment_id: UUID) -> Attachment | None:
    return (
        access.attachments_for(request.user, Level.DOWNLOAD)
        .select_related("owner")
        .filter(pk=attachment_id)
        .first()
    )


class AttachmentDetail(APIView):
    @extend_schema(responses={200: AttachmentSerializer, 304: None, **problems(401, 404)})
    def get(self, request: Request, attachment_id: UUID) -> Response:
        attachment = _downloadable(request, attachment_id)
        if attachment is None:
            return _denied(request, attachment_id, "attachment metadata")
        return conditional(request, attachment, AttachmentSerializer(attachment).data)


class AttachmentContent(APIView):
    @extend_schema(
        responses={
            (200, "application/octet-stream"): OpenApiTypes.BINARY,
            **problems(401, 404, 500),
        },
    )
    def get(self, request: Request, attachment_id: UUID):  # type: ignore[no-untyped-def]
        attachment = _downloadable(request, attachment_id)
        if attachment is None:
            return _denied(request, attachment_id, "download")
        try:
            return attachment_response(attachment)
        except (IntegrityError, KeyUnavailable, FileNotFoundError) as error:
            audit_record(AuditAction.INTEGRITY, obj=attachment, detail={"error": str(error)})
            return problem(
                500,
                "The stored file failed its integrity check and was not delivered; the "
                "incident is logged.",
            )


class DesignationSummarySerializer(serializers.ModelSerializer):
    """The shape of a list row, for the schema. Rows are built by `summaries`, which gives the
    same fields at a fraction of DRF's per-field cost (a third of a list request's time in
    bench/api.py's profile); tests hold the two to the same fields."""

    owner = serializers.CharField(source="owner.code")
    regime = serializers.CharField(source="regime.code")
    url = serializers.CharField(help_text="This designation in the API")

    class Meta:
        model = Designation
        fields = [
            "id",
            "name",
            "reference_number",
            "subject_kind",
            "owner",
            "regime",
            "status",
            "marking",
            "version",
            "listed_on",
            "delisted_on",
            "updated_at",
            "url",
        ]


SUMMARY_COLUMNS = [
    f for f in DesignationSummarySerializer.Meta.fields if f not in {"owner", "regime", "url"}
]


def summary_columns(designations: QuerySet[Designation]) -> QuerySet[Designation]:
    """Only the columns a summary shows: list pages skip the long text and JSON fields."""
    return designations.select_related("owner", "regime").only(
        *SUMMARY_COLUMNS, "owner__code", "regime__code"
    )


def summaries(designations: Iterable[Designation]) -> list[dict[str, object]]:
    url = reverse("api:designation-detail", args=[UUID(int=0)]).replace(str(UUID(int=0)), "{}")
    return [
        {
            "id": str(d.pk),
            "name": d.name,
            "reference_number": d.reference_number,
            "subject_kind": d.subject_kind,
            "owner": d.owner.code,
            "regime": d.regime.code,
            "status": d.status,
            "marking": d.marking,
            "version": d.version,
            "listed_on": d.listed_on.isoformat() if d.listed_on else None,
            "delisted_on": d.delisted_on.isoformat() if d.delisted_on else None,
            "updated_at": drf_datetime.to_representation(d.updated_at),
            "url": url.format(d.pk),
        }
        for d in designations
    ]


drf_datetime = serializers.DateTimeField()


class DesignationPageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = DesignationSummarySerializer(many=True)


class DesignationCursor(CursorPagination):
    """Stable order (by id, which never changes) so that pages neither skip nor repeat rows
    while designations are being amended."""

    ordering = "id"
    page_size = 50
    max_page_size = 200
    page_size_query_param = "page_size"


def _utc_timestamp(text: str) -> dt.datetime | None:
    """An ISO 8601 timestamp in UTC (naive means UTC), or None. Converted here because
    PostgreSQL refuses offsets past 15:59 that Python accepts."""
    try:
        moment = parse_datetime(text)
        if moment is None:
            return None
        if timezone.is_naive(moment):
            return timezone.make_aware(moment, dt.UTC)
        return moment.astimezone(dt.UTC)
    except (ValueError, OverflowError):  # month 13; year 1 at +05:00 is before year 1 in UTC
        return None


def list_filters(request: Request) -> DesignationFilters | Response:
    """The list filters from the query, or a 400 naming each bad one. A parameter that is sent
    must be valid, also when it is sent empty."""
    params = request.query_params
    errors = {}
    if "kind" in params and params["kind"] not in SubjectKind.values:
        errors["kind"] = [f"Choose from {', '.join(SubjectKind.values)}."]
    if "status" in params and params["status"] not in DesignationStatus.values:
        errors["status"] = [f"Choose from {', '.join(DesignationStatus.values)}."]
    if "regime" in params and not (params["regime"].isdigit() and int(params["regime"]) <= MAX_ID):
        errors["regime"] = [f"A regime id (an integer up to {MAX_ID})."]
    page_sizes = params.getlist("page_size")
    if page_sizes and (
        len(page_sizes) > 1
        or not page_sizes[0].isdigit()
        or not 1 <= int(page_sizes[0]) <= DesignationCursor.max_page_size
    ):
        errors["page_size"] = [f"One integer from 1 to {DesignationCursor.max_page_size}."]
    changed_since = None
    if "changed_since" in params:
        changed_since = _utc_timestamp(params["changed_since"])
        if changed_since is None:
            errors["changed_since"] = ["Not a timestamp."]
    if errors:
        return problem(400, "The request is not valid.", errors=errors)
    return DesignationFilters(
        query=params.get("q", "")[:200],
        regime=params.get("regime", ""),
        kind=params.get("kind", ""),
        status=params.get("status", ""),
        agency=params.get("agency", ""),
        changed_since=changed_since,
    )


class DesignationList(APIView):
    @extend_schema(
        operation_id="designations_create",
        request=DesignationCreate,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: DesignationDetailSerializer, **problems(400, 401, 403, 409, 422)},
    )
    def post(self, request: Request) -> Response:
        """Publish a designation of your agency. Send an Idempotency-Key to retry safely."""
        serializer = DesignationCreate(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.to_data()
        regime = Regime.objects.filter(
            owner_id=getattr(request.user, "agency_id", None), code=data.pop("regime")
        ).first()
        if regime is None:
            return problem(
                400,
                "The request is not valid.",
                errors={"regime": ["Not one of your agency's regimes."]},
            )
        marking = data.pop("marking", Marking.AMBER)

        def create() -> Answer:
            designation = designation_create(
                actor=request.user, regime=regime, data=data, marking=marking
            )
            return Answer(
                201,
                _detail_body(designation),
                reverse("api:designation-detail", args=[designation.pk]),
            )

        key = request.headers.get("Idempotency-Key", "").strip()
        if not key:
            answer, replay = create(), False
        else:
            try:
                answer, replay = idempotent(
                    principal=request.user, key=key[:200], request_body=request.data, create=create
                )
            except KeyReused:
                return problem(422, "This Idempotency-Key was used with another request body.")
            except KeyInFlight:
                return problem(409, "A request with this Idempotency-Key is in progress; retry.")
        response = Response(answer.body, status=answer.status)
        response["Location"] = answer.location
        # The version is in the body, so a replay's tag is the same as the first answer's.
        response["ETag"] = f'"{answer.body["id"]}-v{answer.body["version"]}"'
        if replay:
            response["Idempotent-Replayed"] = "true"
        return response

    @extend_schema(
        operation_id="designations_list",
        parameters=LIST_FILTERS,
        responses={200: DesignationPageSerializer, **problems(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        """Designations the caller may see: search by name, alias or reference (`q`), filter
        by `regime` (id), `kind`, `status`, `agency` (code), `changed_since` (ISO timestamp)."""
        filters = list_filters(request)
        if isinstance(filters, Response):
            return filters
        designations = designation_search(user=request.user, filters=filters)
        paginator = DesignationCursor()
        try:
            page = paginator.paginate_queryset(
                summary_columns(designations).order_by("id"),
                request,
                view=self,
            )
        except NotFound:
            return problem(400, "The request is not valid.", errors={"cursor": ["Invalid cursor."]})
        return paginator.get_paginated_response(summaries(page))


def _detail_body(designation: Designation) -> dict[str, object]:
    return {
        "id": str(designation.pk),
        "owner": designation.owner.code,
        "version": designation.version,
        **designation_data(designation),
        "history": [
            {
                "version": v.version,
                "status": v.status,
                "changed_fields": v.changed_fields,
                "reason": v.reason,
                "at": v.created_at.isoformat(),
            }
            for v in designation.history.all()  # prefetched newest first (designation_get)
        ],
        "source": (
            {
                "publisher": designation.source.publisher,
                "source_id": designation.source.source_id,
                "reference_number": designation.source.reference_number,
            }
            if hasattr(designation, "source")
            else None
        ),
    }


def _expected_version(request: Request, designation: Designation) -> int | Response:
    """If-Match is required on writes: 428 without it (or with `*`, which names no version,
    so would not prevent a lost update), 412 when it names another version."""
    tags = [tag.strip() for tag in request.headers.get("If-Match", "").split(",") if tag.strip()]
    if not tags or "*" in tags:
        return problem(428, "Send If-Match with the designation's ETag (its current version).")
    if etag(designation) not in tags:
        return problem(
            412,
            "The designation has changed since you read it; read it again.",
            current_etag=etag(designation),
        )
    return designation.version


def _writable(request: Request, designation_id: UUID) -> Designation | Response:
    designation = (
        access.designations_for(request.user)
        .select_related("owner")
        .filter(pk=designation_id)
        .first()
    )
    if designation is None:
        return _denied(request, designation_id, "change")
    if not access.may(request.user, Level.CHANGE, designation):
        audit_record(AuditAction.DENIED, obj=designation, detail={"attempt": "change"})
        return problem(403, "Only a publisher of the owner agency may change this designation.")
    return designation


def _change(
    request: Request,
    designation_id: UUID,
    input_class: type[StrictSerializer],
    perform: Callable[[Designation, dict, int], Designation],
) -> Response:
    """A write to a designation: visible (404), may change (403), valid input (400), If-Match
    (428/412), then the service; answers with the new state and ETag. The body is checked
    before the precondition: a request that would fail anyway gets its real error, not a 412
    (RFC 9110, 13.2.1)."""
    designation = _writable(request, designation_id)
    if isinstance(designation, Response):
        return designation
    serializer = input_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    data = serializer.to_data()
    expected = _expected_version(request, designation)
    if isinstance(expected, Response):
        return expected
    try:
        designation = perform(designation, data, expected)
    except StaleVersion as error:
        return problem(412, str(error))
    return Response(_detail_body(designation), headers={"ETag": etag(designation)})


class DesignationDetail(APIView):
    """Everything about one designation; its ETag is its version."""

    @extend_schema(
        operation_id="designations_retrieve",
        responses={200: DesignationDetailSerializer, 304: None, **problems(401, 404)},
    )
    def get(self, request: Request, designation_id: UUID) -> Response:
        try:
            designation = designation_get(user=request.user, designation_id=designation_id)
        except Http404:
            return _denied(request, designation_id, "view")
        return conditional(request, designation, _detail_body(designation))

    @extend_schema(
        operation_id="designations_amend",
        request=DesignationAmend,
        parameters=[IF_MATCH],
        responses={200: DesignationDetailSerializer, **problems(400, 401, 403, 404, 412, 428)},
    )
    def patch(self, request: Request, designation_id: UUID) -> Response:
        """Amend: send only the fields that change, a `reason`, and If-Match."""

        def amend(designation: Designation, data: dict, expected: int) -> Designation:
            reason = data.pop("reason")
            return designation_amend(
                actor=request.user,
                designation=designation,
                changes=data,
                reason=reason,
                expected_version=expected,
            )

        return _change(request, designation_id, DesignationAmend, amend)


class DesignationDelistView(APIView):
    @extend_schema(
        operation_id="designations_delist",
        request=DesignationDelist,
        parameters=[IF_MATCH],
        responses={200: DesignationDetailSerializer, **problems(400, 401, 403, 404, 412, 428)},
    )
    def post(self, request: Request, designation_id: UUID) -> Response:
        def delist(designation: Designation, data: dict, expected: int) -> Designation:
            return designation_delist(
                actor=request.user,
                designation=designation,
                reason=data["reason"],
                delisted_on=data.get("delisted_on"),
                expected_version=expected,
            )

        return _change(request, designation_id, DesignationDelist, delist)


class Me(APIView):
    """Who the caller is, for which agency, with which rights."""

    @extend_schema(responses={200: ME, **problems(401)})
    def get(self, request: Request) -> Response:
        principal = request.user
        agency = principal.agency
        body = {
            "kind": "api_client" if isinstance(principal, ClientPrincipal) else "person",
            "name": principal.get_username(),
            "agency": {"code": agency.code, "name": agency.name} if agency else None,
            "role": principal.role if agency else "site_admin",
            "scopes": principal.client.scopes if isinstance(principal, ClientPrincipal) else [],
        }
        return Response(body)


class RegimeSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.code")

    class Meta:
        model = Regime
        fields = ["id", "owner", "code", "name", "legal_basis"]


@extend_schema(responses={200: RegimeSerializer(many=True), **problems(401, 403)})
class RegimeList(ListAPIView):
    """Sanctions regimes of every agency (public knowledge)."""

    serializer_class = RegimeSerializer
    queryset = Regime.objects.select_related("owner").order_by("owner__code", "code")


urlpatterns = [
    path("regimes", RegimeList.as_view(), name="regime-list"),
    path("me", Me.as_view(), name="me"),
    path("designations", DesignationList.as_view(), name="designation-list"),
    path(
        "designations/<uuid:designation_id>", DesignationDetail.as_view(), name="designation-detail"
    ),
    path(
        "designations/<uuid:designation_id>/delist",
        DesignationDelistView.as_view(),
        name="designation-delist",
    ),
    path(
        "designations/<uuid:object_id>/attachments",
        DesignationAttachmentUpload.as_view(),
        name="designation-attachments",
    ),
    path(
        "notes/<uuid:object_id>/attachments",
        NoteAttachmentUpload.as_view(),
        name="note-attachments",
    ),
    path("attachments/<uuid:attachment_id>", AttachmentDetail.as_view(), name="attachment-detail"),
    path(
        "attachments/<uuid:attachment_id>/content",
        AttachmentContent.as_view(),
        name="attachment-content",
    ),
]
