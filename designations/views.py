"""Portal pages for designations. Thin: parse the request, call one selector, render."""

from __future__ import annotations

from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from designations.models import DesignationStatus, SubjectKind
from designations.selectors import (
    DesignationFilters,
    designation_filter_choices,
    designation_get,
    designation_search,
)
from sharing import access

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


@login_required
def designation_detail(request: HttpRequest, designation_id: UUID) -> HttpResponse:
    designation = designation_get(user=request.user, designation_id=designation_id)
    notes = access.notes_visible_to(request.user).filter(designation=designation)
    return render(
        request,
        "portal/designation_detail.html",
        {
            "designation": designation,
            "notes": notes.select_related("owner", "author"),
        },
    )
