"""Portal pages for designations. Thin: parse the request, call one selector or service, render."""

from __future__ import annotations

from uuid import UUID

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from agencies.models import Agency, SharingGroup, User
from designations.models import Designation, DesignationStatus, SubjectKind
from designations.selectors import (
    DesignationFilters,
    designation_filter_choices,
    designation_get,
    designation_search,
)
from sharing import access
from sharing.access import Level
from sharing.audit import audit_record
from sharing.grants import grant_create, grant_revoke, grantee_from_key, grants_of
from sharing.models import AuditAction, Marking

PAGE_SIZE = 50
GRANT_LEVELS = [(level.label, level.label.capitalize()) for level in Level]


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


class GrantForm(forms.Form):
    grantee = forms.ChoiceField(label="Share with")
    level = forms.ChoiceField(label="Level", choices=GRANT_LEVELS, initial="view")

    def __init__(self, *args: object, designation: Designation, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        choices: list[tuple[str, object]] = []
        if designation.marking == Marking.RED:
            people = User.objects.filter(is_active=True, agency__isnull=False).select_related(
                "agency"
            )
            choices.append(
                ("People", [(f"user:{p.username}", f"{p} ({p.agency.code})") for p in people])
            )
        else:
            agencies = Agency.objects.exclude(pk=designation.owner_id)
            choices.append(("Agencies", [(f"agency:{a.code}", a.name) for a in agencies]))
            if designation.marking != Marking.AMBER_STRICT:
                groups = SharingGroup.objects.all()
                choices.append(
                    ("Sharing groups", [(f"sharing_group:{g.pk}", g.name) for g in groups])
                )
        self.fields["grantee"].choices = choices


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
    user = request.user
    shows_audience = user.is_superuser or user.agency_id == designation.owner_id
    can_share = access.may_manage_grants(user, designation)
    return render(
        request,
        "portal/designation_detail.html",
        {
            "designation": designation,
            "notes": notes,
            "shows_audience": shows_audience,
            "grants": grants_of(designation) if shows_audience else [],
            "everyone": designation.marking in access.COMMUNITY_MARKINGS,
            "can_share": can_share,
            "grant_form": GrantForm(designation=designation) if can_share else None,
        },
    )


def _shareable_or_deny(request: HttpRequest, designation_id: UUID) -> Designation:
    designation = _visible_or_404(request, designation_id)
    if not access.may_manage_grants(request.user, designation):
        audit_record(AuditAction.DENIED, obj=designation, detail={"attempt": "share"})
        raise PermissionDenied("Only an agency admin of the owner agency shares this object.")
    return designation


@login_required
@require_POST
def designation_grant(request: HttpRequest, designation_id: UUID) -> HttpResponse:
    designation = _shareable_or_deny(request, designation_id)
    form = GrantForm(request.POST, designation=designation)
    if form.is_valid():
        try:
            grant = grant_create(
                actor=request.user,
                obj=designation,
                grantee=grantee_from_key(form.cleaned_data["grantee"]),
                level=Level[form.cleaned_data["level"].upper()],
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"Shared with {grant.grantee} at {grant.level.label} level.")
    else:
        messages.error(request, "Choose who to share with and at which level.")
    return redirect(designation)


@login_required
@require_POST
def designation_revoke(request: HttpRequest, designation_id: UUID) -> HttpResponse:
    designation = _shareable_or_deny(request, designation_id)
    try:
        grantee = grantee_from_key(request.POST.get("grantee", ""))
        grant_revoke(actor=request.user, obj=designation, grantee=grantee)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{grantee} no longer has access.")
    return redirect(designation)
