"""Portal actions shared by every guarded object: the sharing panel, grant and revoke."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from designations.models import Designation, IntelligenceNote
from sharing import access
from sharing.access import Level
from sharing.audit import audit_record
from sharing.forms import GrantForm
from sharing.grants import grant_create, grant_revoke, grantee_from_key, grants_of
from sharing.models import AuditAction

Guarded = Designation | IntelligenceNote


def sharing_panel(request: HttpRequest, obj: Guarded) -> dict[str, Any]:
    """Template context: the owner agency's people see who has access; its admins change it."""
    user = request.user
    shows = access.may_see_audience(user, obj)
    can_share = access.may_manage_grants(user, obj)
    return {
        "obj": obj,
        "shows_audience": shows,
        "grants": grants_of(obj) if shows else [],
        "everyone": obj.marking in access.COMMUNITY_MARKINGS,
        "can_share": can_share,
        "grant_form": GrantForm(obj=obj) if can_share else None,
    }


def require_sharer(request: HttpRequest, obj: Guarded) -> None:
    if not access.may_manage_grants(request.user, obj):
        audit_record(AuditAction.DENIED, obj=obj, detail={"attempt": "share"})
        raise PermissionDenied("Only an agency admin of the owner agency shares this object.")


def grant_from_form(request: HttpRequest, obj: Guarded, back: Any) -> HttpResponse:
    require_sharer(request, obj)
    form = GrantForm(request.POST, obj=obj)
    if not form.is_valid():
        messages.error(request, "Choose who to share with and at which level.")
        return redirect(back)
    try:
        grant = grant_create(
            actor=request.user,
            obj=obj,
            grantee=grantee_from_key(form.cleaned_data["grantee"]),
            level=Level[form.cleaned_data["level"].upper()],
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Shared with {grant.grantee} at {grant.level.label} level.")
    return redirect(back)


def revoke_from_form(request: HttpRequest, obj: Guarded, back: Any) -> HttpResponse:
    require_sharer(request, obj)
    try:
        grantee = grantee_from_key(request.POST.get("grantee", ""))
        grant_revoke(actor=request.user, obj=obj, grantee=grantee)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{grantee} no longer has access.")
    return redirect(back)
