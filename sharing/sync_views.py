"""Endpoints partner nodes call, authenticated by their request signatures (sharing.node_auth),
never by sessions or API tokens."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from agencies.models import Node
from sharing.audit import audit_record
from sharing.models import AuditAction
from sharing.node_auth import NodeAuthError, SignedRequest, node_authenticate
from sharing.sync_feed import MAX_BATCH, feed_batch


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
def notify(request: HttpRequest) -> JsonResponse:
    """POST /sync/v1/notify: the partner has news for us; pull from it now."""
    partner = _partner(request)
    if isinstance(partner, JsonResponse):
        return partner
    from sharing.tasks import sync_pull_partner

    sync_pull_partner.delay(partner.node_id)
    return JsonResponse({"status": "pull queued"}, status=202)


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
