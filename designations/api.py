"""REST API for attachments: streamed upload (the request body is the file) and download.

Everything is read through sharing.access; objects one may not see answer 404."""

from __future__ import annotations

from email.message import Message
from uuid import UUID

from django.urls import path, reverse
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from designations.attachments import attachment_record
from designations.downloads import attachment_response
from designations.models import Attachment, Designation, IntelligenceNote
from sharing import access
from sharing.access import Level
from sharing.api import problem
from sharing.audit import audit_record
from sharing.crypto import IntegrityError, KeyUnavailable
from sharing.models import AuditAction
from sharing.uploads import UploadTooLarge, receive_raw_upload

app_name = "api"


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

    def post(self, request: Request, object_id: UUID) -> Response:
        parent = access.objects_for(request.user, self.model).filter(pk=object_id).first()
        if parent is None:
            return _denied(request, object_id, "attach file")
        if not access.may_attach(request.user, parent):
            audit_record(AuditAction.DENIED, obj=parent, detail={"attempt": "attach file"})
            return problem(403, "You may not attach files to this object.")
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
    def get(self, request: Request, attachment_id: UUID) -> Response:
        attachment = _downloadable(request, attachment_id)
        if attachment is None:
            return _denied(request, attachment_id, "attachment metadata")
        return Response(AttachmentSerializer(attachment).data)


class AttachmentContent(APIView):
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


urlpatterns = [
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
