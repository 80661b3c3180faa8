"""Portal pages of agency admins: their agency's API clients."""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from agencies.api_clients import api_client_create, api_client_revoke
from agencies.models import ApiClient, ApiScope, Role


class ApiClientForm(forms.Form):
    name = forms.CharField(max_length=200, help_text="e.g. the system that will use it")
    scopes = forms.MultipleChoiceField(
        choices=ApiScope.choices, widget=forms.CheckboxSelectMultiple, initial=["read"]
    )
    expires_on = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="At most 13 months ahead",
    )


def _require_agency_admin(request: HttpRequest) -> None:
    if request.user.role != Role.AGENCY_ADMIN or request.user.agency_id is None:
        raise PermissionDenied("API clients are managed by agency admins.")


@login_required
def api_clients(request: HttpRequest) -> HttpResponse:
    _require_agency_admin(request)
    token = None
    form = ApiClientForm(
        request.POST or None,
        initial={"expires_on": (timezone.now() + dt.timedelta(days=90)).date()},
    )
    if request.method == "POST" and form.is_valid():
        expires = dt.datetime.combine(
            form.cleaned_data["expires_on"], dt.time(23, 59), tzinfo=dt.UTC
        )
        try:
            client, token = api_client_create(
                actor=request.user,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                expires_at=expires,
            )
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(
                request,
                f"Created API client {client.name}. Copy its token now: it is not shown again.",
            )
            form = ApiClientForm(initial={"expires_on": form.cleaned_data["expires_on"]})
    clients = ApiClient.objects.filter(agency=request.user.agency).order_by("name")
    response = render(
        request,
        "portal/api_clients.html",
        {"form": form, "clients": clients, "token": token, "now": timezone.now()},
    )
    response["Cache-Control"] = "no-store"  # the page may hold a token
    return response


@login_required
@require_POST
def api_client_revoke_view(request: HttpRequest, client_id: UUID) -> HttpResponse:
    _require_agency_admin(request)
    client = ApiClient.objects.filter(pk=client_id, agency=request.user.agency).first()
    if client is None:
        raise Http404("No such API client.")
    api_client_revoke(actor=request.user, client=client)
    messages.success(request, f"Revoked {client.name}: its token no longer works.")
    return redirect("api-clients")
