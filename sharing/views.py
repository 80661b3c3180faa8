"""Portal pages of the sharing core: the audit log."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from sharing import access
from sharing.audit import audit_record
from sharing.models import AuditAction


@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not (user.is_superuser or user.role == "agency_admin"):
        audit_record(AuditAction.DENIED, detail={"path": request.path, "attempt": "audit log"})
        raise PermissionDenied("The audit log is for agency admins.")
    entries = access.audit_entries_for(user).order_by("-seq")
    page = Paginator(entries, 100).get_page(request.GET.get("page"))
    return render(request, "portal/audit_log.html", {"page": page})
