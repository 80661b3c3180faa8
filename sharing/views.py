"""Portal pages of the sharing core: the audit log, sync status; error handlers."""

from __future__ import annotations

from http import HTTPStatus

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render

from sharing import access
from sharing.audit import audit_record
from sharing.models import AuditAction
from sharing.sync_feed import partners
from sharing.sync_status import sync_overview


@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not (user.is_superuser or user.role == "agency_admin"):
        audit_record(AuditAction.DENIED, detail={"path": request.path, "attempt": "audit log"})
        raise PermissionDenied("The audit log is for agency admins.")
    entries = access.audit_entries_for(user).order_by("-seq")
    page = Paginator(entries, 100).get_page(request.GET.get("page"))
    return render(request, "portal/audit_log.html", {"page": page})


def _api_problem(request: HttpRequest, status: int, detail: str) -> HttpResponse | None:
    if not request.path.startswith("/api/"):
        return None
    body = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    return JsonResponse(body, status=status, content_type="application/problem+json")


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """A body over DATA_UPLOAD_MAX_MEMORY_SIZE is 413 (Django calls it a bad request); anything
    else Django refuses before a view runs is 400. Problem details on API paths."""
    if isinstance(exception, RequestDataTooBig):
        status = 413
        detail = (
            f"The request body is over the limit of {settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} "
            "bytes; send files as attachments."
        )
    else:
        status, detail = 400, "The request could not be read."
    problem = _api_problem(request, status, detail)
    return problem or render(request, "400.html", {"detail": detail}, status=status)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """API paths answer problem details; portal paths the friendly page."""
    return _api_problem(request, 404, "No such resource.") or render(
        request, "404.html", status=404
    )


def server_error(request: HttpRequest) -> HttpResponse:
    problem = _api_problem(request, 500, "The server failed; the error is logged.")
    return problem or render(request, "500.html", status=500)


@login_required
def sync_status(request: HttpRequest) -> HttpResponse:
    """Sync with partner nodes, for site administrators: state per partner and "resync now"."""
    if not request.user.is_superuser:
        audit_record(AuditAction.DENIED, detail={"path": request.path, "attempt": "sync status"})
        raise PermissionDenied("Sync status is for site administrators.")
    if request.method == "POST":
        from sharing.tasks import sync_pull_partner, sync_reconcile_partner

        node_id = request.POST.get("partner", "")
        if not partners().filter(node_id=node_id).exists():
            return render(request, "400.html", {"detail": "No such partner."}, status=400)
        sync_pull_partner.delay(node_id)
        sync_reconcile_partner.delay(node_id)
        audit_record(AuditAction.SYNC, detail={"resync": node_id})
        messages.success(request, f"A pull and a reconcile with {node_id} are queued.")
        return redirect("sync-status")
    head, rows = sync_overview()
    return render(request, "portal/sync_status.html", {"head": head, "rows": rows})
