"""Endpoints partner nodes call, authenticated by their request signatures (sharing.node_auth),
never by sessions or API tokens."""

from __future__ import annotations

import json
import uuid

from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from agencies.models import Node
from agencies.services import node_ensure_local
from designations.tasks import reconcile_soon
from sharing.audit import audit_record
from sharing.models import AuditAction, PartnerSync
from sharing.node_auth import NodeAuthError, SignedRequest, node_authenticate
from sharing.sync_apply import BatchRejected
from sharing.sync_feed import (
    DESIGNATION,
    MAX_BATCH,
    NOTE,
    batch_sign,
    feed_batch,
    objects_batch,
    servable_attachments,
)
from sharing.sync_manifest import BUCKETS, digests, served_lines
from sharing.sync_push import APPLIED, GAP, inbox_accept
from sharing.uploads import attachment_storage

MAX_OBJECTS = 200


def _problem(status: int, title: str, detail: str, **extra: object) -> JsonResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JsonResponse(body, status=status, content_type="application/problem+json")


def _partner(request: HttpRequest) -> Node | JsonResponse:
    try:
        return node_authenticate(
            SignedRequest(
                method=request.method or "GET",
                path=request.get_full_path(),
                headers=dict(request.headers),
                body=request.body,
            )
        )
    except NodeAuthError as error:
        audit_record(AuditAction.DENIED, detail={"path": request.path, "sync": str(error)})
        return _problem(401, "Unauthorized", str(error))


@csrf_exempt  # a signed node request, not a browser form
@require_POST
def inbox(request: HttpRequest) -> JsonResponse:
    """POST /sync/v1/inbox: a batch of the calling node's feed, pushed; applied if it starts
    at this node's cursor. The answer says what became of it and where this node is."""
    partner = _partner(request)
    if isinstance(partner, JsonResponse):
        return partner
    try:
        batch = json.loads(request.body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _problem(400, "Bad Request", "The body must be a signed batch in JSON.")
    if not isinstance(batch, dict):
        return _problem(400, "Bad Request", "The body must be a signed batch in JSON.")
    try:
        status, cursor = inbox_accept(partner, batch)
    except BatchRejected as error:
        return _problem(422, "Unprocessable Content", str(error))
    if status == APPLIED:
        reconcile_soon()  # new designations may name subjects listed here
    return JsonResponse({"status": status, "cursor": cursor}, status=409 if status == GAP else 200)


@csrf_exempt  # a signed node request, not a browser form
@require_GET
def feed(request: HttpRequest) -> JsonResponse:
    """GET /sync/v1/feed?after=<seq>&limit=<n>: the next signed batch for the calling node."""
    partner = _partner(request)
    if isinstance(partner, JsonResponse):
        return partner
    after, limit = request.GET.get("after", "0"), request.GET.get("limit", str(MAX_BATCH))
    if not after.isdigit() or not limit.isdigit() or not 1 <= int(limit) <= MAX_BATCH:
        return _problem(
            400,
            "Bad Request",
            f"after must be a sequence number and limit from 1 to {MAX_BATCH}.",
        )
    batch = feed_batch(partner=partner, after=int(after), limit=int(limit))
    # Where the partner is: pushes to it start there.
    if not PartnerSync.objects.filter(partner=partner).update(partner_cursor=int(after)):
        PartnerSync.objects.get_or_create(partner=partner, defaults={"partner_cursor": int(after)})
    if batch["records"]:  # what was disclosed, and to whom; an empty poll discloses nothing
        audit_record(
            AuditAction.SYNC,
            actor_name=f"node:{partner.node_id}",
            detail={
                "feed": "served",
                "partner": partner.node_id,
                "after": batch["after"],
                "until": batch["until"],
                "records": len(batch["records"]),
            },
        )
    return JsonResponse(batch)


@csrf_exempt  # a signed node request, not a browser form
@require_GET
def manifest(request: HttpRequest) -> JsonResponse:
    """GET /sync/v1/manifest: digests of what the calling node should hold from this node, by
    bucket; with ?bucket=<hex digit>, that bucket's lines. Signed."""
    partner = _partner(request)
    if isinstance(partner, JsonResponse):
        return partner
    bucket = request.GET.get("bucket")
    if bucket is not None and bucket not in BUCKETS:
        return _problem(400, "Bad Request", "bucket must be one hex digit (0-9, a-f).")
    lines = served_lines(partner)
    body: dict = {
        "origin": node_ensure_local().node_id,
        "recipient": partner.node_id,
        "issued_at": timezone.now().isoformat(),
    }
    if bucket is None:
        body["buckets"] = digests(lines)
    else:
        body["bucket"], body["lines"] = bucket, lines[bucket]
    return JsonResponse(batch_sign(body))


@csrf_exempt  # a signed node request, not a browser form
@require_POST
def objects(request: HttpRequest) -> JsonResponse:
    """POST /sync/v1/objects {"ids": [...], "type": "designation" | "note"}: the current state
    of these objects for the calling node (upserts, or retractions for what it may no longer
    see). Signed."""
    partner = _partner(request)
    if isinstance(partner, JsonResponse):
        return partner
    try:
        body = json.loads(request.body)
        ids = [str(uuid.UUID(str(i))) for i in body["ids"]]
        kind = body.get("type", DESIGNATION)
    except (ValueError, KeyError, TypeError, AttributeError):
        return _problem(400, "Bad Request", 'Send {"ids": [ids], "type": "designation"}.')
    if kind not in (DESIGNATION, NOTE):
        return _problem(400, "Bad Request", 'type is "designation" or "note".')
    if not 1 <= len(ids) <= MAX_OBJECTS:
        return _problem(400, "Bad Request", f"Send 1 to {MAX_OBJECTS} ids.")
    batch = objects_batch(partner=partner, ids=ids, kind=kind)
    audit_record(
        AuditAction.SYNC,
        actor_name=f"node:{partner.node_id}",
        detail={"objects": "served", "partner": partner.node_id, "records": len(batch["records"])},
    )
    return JsonResponse(batch)


@csrf_exempt  # a signed node request, not a browser form
@require_GET
def attachment_content(request: HttpRequest, attachment_id: uuid.UUID) -> HttpResponse:
    """GET /sync/v1/attachments/<id>/content: the stored ciphertext as it is (never decrypted
    here), for a partner whose agencies may download the file."""
    partner = _partner(request)
    if isinstance(partner, JsonResponse):
        return partner
    attachment = servable_attachments(partner).filter(pk=attachment_id).first()
    if attachment is None:
        audit_record(
            AuditAction.DENIED,
            actor_name=f"node:{partner.node_id}",
            detail={"path": request.path, "sync": "attachment not servable"},
        )
        return _problem(404, "Not Found", "No such attachment for you.")
    audit_record(
        AuditAction.SYNC,
        obj=attachment,
        actor_name=f"node:{partner.node_id}",
        detail={"attachment": "ciphertext served", "partner": partner.node_id},
    )
    return FileResponse(
        attachment_storage().open(attachment.stored_name, "rb"),
        content_type="application/octet-stream",
    )
