"""Portal pages for designations. Thin: parse the request, call one selector or service, render."""

from __future__ import annotations

from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from designations.models import Designation, DesignationStatus, IntelligenceNote, SubjectKind
from designations.selectors import (
    DesignationFilters,
    designation_filter_choices,
    designation_get,
    designation_search,
)
from sharing import access
from sharing.audit import audit_record
from sharing.models import AuditAction
from sharing.sharing_views import grant_from_form, revoke_from_form, sharing_panel

PAGE_SIZE = 50


@login_required
def designation_list(request: HttpRequest) -> HttpResponse:
    filters = DesignationFilters(
        query=request.GET.get("q", "")[:200],
        regime=request.GET.get("regime", ""),
        kind=request.GET.get("kind", ""),
        status=request.GET.get("status", ""),
        agency=request.GET.get("agency", ""),
    )
    designations = designation_search(user=request.user, filters=filters)
    page = Paginator(designations, PAGE_SIZE).get_page(request.GET.get("page"))
    query_without_page = request.GET.copy()
    query_without_page.pop("page", None)
    return render(
        request,
        "portal/designation_list.html",
        {
            "page": page,
            "filters": filters,
            "kinds": SubjectKind.choices,
            "statuses": DesignationStatus.choices,
            "query_without_page": query_without_page.urlencode(),
            **designation_filter_choices(user=request.user),
        },
    )


def _visible_or_404(request: HttpRequest, designation_id: UUID) -> Designation:
    try:
        return designation_get(user=request.user, designation_id=designation_id)
    except Http404:
        # Recorded without saying whether the object exists.
        audit_record(
            AuditAction.DENIED,
            detail={"path": request.path, "object": str(designation_id), "attempt": "view"},
        )
        raise


@login_required
def designation_detail(request: HttpRequest, designation_id: UUID) -> HttpResponse:
    designation = _visible_or_404(request, designation_id)
    notes = list(
        access.notes_for(request.user)
        .filter(designation=designation)
        .select_related("owner", "author")
    )
    for note in notes:
        audit_record(AuditAction.READ, obj=note)
    return render(
        request,
        "portal/designation_detail.html",
        {
            "designation": designation,
            "notes": notes,
            **sharing_panel(request, designation),
            "grant_url": reverse("portal:designation-grant", args=[designation.pk]),
            "revoke_url": reverse("portal:designation-revoke", args=[designation.pk]),
        },
    )


@login_required
@require_POST
def designation_grant(request: HttpRequest, designation_id: UUID) -> HttpResponse:
    designation = _visible_or_404(request, designation_id)
    return grant_from_form(request, designation, back=designation)


@login_required
@require_POST
def designation_revoke(request: HttpRequest, designation_id: UUID) -> HttpResponse:
    designation = _visible_or_404(request, designation_id)
    return revoke_from_form(request, designation, back=designation)


def _note_or_404(request: HttpRequest, note_id: UUID) -> IntelligenceNote:
    note = (
        access.notes_for(request.user)
        .select_related("owner", "author", "designation")
        .filter(pk=note_id)
        .first()
    )
    if note is None:
        audit_record(
            AuditAction.DENIED,
            detail={"path": request.path, "object": str(note_id), "attempt": "view note"},
        )
        raise Http404("No such note.")
    return note


@login_required
def note_detail(request: HttpRequest, note_id: UUID) -> HttpResponse:
    note = _note_or_404(request, note_id)
    audit_record(AuditAction.READ, obj=note)
    return render(
        request,
        "portal/note_detail.html",
        {
            "note": note,
            **sharing_panel(request, note),
            "grant_url": reverse("portal:note-grant", args=[note.pk]),
            "revoke_url": reverse("portal:note-revoke", args=[note.pk]),
        },
    )


@login_required
@require_POST
def note_grant(request: HttpRequest, note_id: UUID) -> HttpResponse:
    note = _note_or_404(request, note_id)
    return grant_from_form(request, note, back=note)


@login_required
@require_POST
def note_revoke(request: HttpRequest, note_id: UUID) -> HttpResponse:
    note = _note_or_404(request, note_id)
    return revoke_from_form(request, note, back=note)
