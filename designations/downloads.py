"""The streamed, verified download of an attachment, shared by the portal and the API."""

from __future__ import annotations

from collections.abc import Iterator

from django.http import StreamingHttpResponse
from django.utils.http import content_disposition_header

from designations.attachments import OpenedAttachment, attachment_open
from designations.models import Attachment
from sharing.audit import audit_record
from sharing.crypto import IntegrityError
from sharing.models import AuditAction


def _verified(opened: OpenedAttachment) -> Iterator[bytes]:
    try:
        yield from opened
    except IntegrityError as error:
        # The client has a short body (Content-Length says more): the transfer fails, it is
        # never taken for the whole file.
        audit_record(AuditAction.INTEGRITY, obj=opened.attachment, detail={"error": str(error)})
        raise


def attachment_response(attachment: Attachment) -> StreamingHttpResponse:
    """Open (key, header and first block checked now, so a wrong key or misplaced file fails
    before any byte is sent: IntegrityError, KeyUnavailable, FileNotFoundError), audit, and
    stream with headers that keep browsers from rendering or caching the file."""
    opened = attachment_open(attachment)
    audit_record(
        AuditAction.DOWNLOAD,
        obj=attachment,
        detail={"name": attachment.original_name, "size": attachment.size},
    )
    response = StreamingHttpResponse(_verified(opened), content_type="application/octet-stream")
    response["Content-Length"] = str(attachment.size)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=attachment.original_name
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
