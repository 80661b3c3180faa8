"""Portal pages of sharing groups: the task forces my agency is in, who else is in them, and
(for agency admins) creating a group, adding and removing members, leaving."""

from __future__ import annotations

from uuid import UUID

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from agencies.models import Agency, SharingGroup
from agencies.sharing_groups import (
    MAX_NAME,
    group_add_member,
    group_create,
    group_remove_member,
    may_create_group,
    may_leave,
    may_manage_members,
)


class GroupCreateForm(forms.Form):
    name = forms.CharField(max_length=MAX_NAME, label="Name of the new group")


def groups_of(user: object) -> list[SharingGroup]:
    """The groups of the user's agency (site administrators: every group)."""
    groups = SharingGroup.objects.prefetch_related("members").select_related(
        "owner_node", "convener"
    )
    if getattr(user, "is_superuser", False):
        return list(groups)
    agency_id = getattr(user, "agency_id", None)
    return [] if agency_id is None else list(groups.filter(members__id=agency_id))


@login_required
def sharing_groups(request: HttpRequest) -> HttpResponse:
    """GET/POST /sharing-groups/: my agency's groups; POST creates one convened by my agency."""
    form = GroupCreateForm()
    status = 200
    if request.method == "POST":
        form = GroupCreateForm(request.POST)
        if form.is_valid():
            try:
                group = group_create(actor=request.user, name=form.cleaned_data["name"])
            except ValidationError as error:
                form.add_error("name", error.message_dict.get("name", error.messages))
            else:
                messages.success(request, f"Created {group.name}. Add the agencies to share with.")
                return redirect("sharing-groups")
        status = 400
    user = request.user
    agencies = list(Agency.objects.order_by("name"))
    rows = []
    for group in groups_of(user):
        members = list(group.members.all())
        member_ids = {agency.pk for agency in members}
        rows.append(
            {
                "group": group,
                "members": members,
                "manages": may_manage_members(user, group),
                "may_leave": may_leave(user, group),
                "candidates": [a for a in agencies if a.pk not in member_ids],
            }
        )
    context = {"rows": rows, "form": form if may_create_group(user) else None}
    return render(request, "portal/sharing_groups.html", context, status=status)


def _group_and_agency(request: HttpRequest, group_id: UUID) -> tuple[SharingGroup, Agency | None]:
    # Only groups one can see (one's agency is in them) are found; others are a 404.
    group = next((g for g in groups_of(request.user) if g.pk == group_id), None)
    if group is None:
        raise Http404("No such sharing group.")
    try:
        agency = Agency.objects.get(pk=request.POST.get("agency", ""))
    except (Agency.DoesNotExist, ValidationError, ValueError):
        agency = None
    return group, agency


@login_required
@require_POST
def sharing_group_add(request: HttpRequest, group_id: UUID) -> HttpResponse:
    group, agency = _group_and_agency(request, group_id)
    if agency is None:
        messages.error(request, "Choose an agency to add.")
        return redirect("sharing-groups")
    try:
        group_add_member(actor=request.user, group=group, agency=agency)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{agency.name} is now in {group.name}.")
    return redirect("sharing-groups")


@login_required
@require_POST
def sharing_group_remove(request: HttpRequest, group_id: UUID) -> HttpResponse:
    group, agency = _group_and_agency(request, group_id)
    if agency is None:
        messages.error(request, "Choose an agency to remove.")
        return redirect("sharing-groups")
    try:
        group_remove_member(actor=request.user, group=group, agency=agency)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{agency.name} is no longer in {group.name}.")
    return redirect("sharing-groups")
