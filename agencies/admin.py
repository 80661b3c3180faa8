from __future__ import annotations

import json

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.shortcuts import redirect
from django.template.response import TemplateResponse

from agencies.models import Agency, ApiClient, Node, SharingGroup, User
from agencies.services import sharing_group_create
from sharing.node_keys import NodeKeyError, partner_register


class PartnerDescriptorForm(forms.Form):
    descriptor = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 12, "cols": 80}),
        help_text="What `python manage.py node export` printed on the partner node.",
    )
    replace_keys = forms.BooleanField(
        required=False,
        help_text="Only when the partner's operator told you, by another channel, that its "
        "keys changed: a changed key is how an impostor looks.",
    )


@admin.register(Node)
class NodeAdmin(admin.ModelAdmin):
    """Nodes. Adding one registers a partner from its descriptor, as `node add-partner` does
    (keys and hosted agencies included); its keys are never typed by hand."""

    list_display = ["node_id", "name", "base_url", "is_local", "last_heartbeat_at"]
    readonly_fields = [
        "node_id",
        "is_local",
        "signing_public_key",
        "exchange_public_key",
        "last_heartbeat_at",
        "created_at",
    ]

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context=None):  # type: ignore[no-untyped-def]
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = PartnerDescriptorForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                node = partner_register(
                    descriptor=json.loads(form.cleaned_data["descriptor"]),
                    replace_keys=form.cleaned_data["replace_keys"],
                )
            except json.JSONDecodeError:
                form.add_error("descriptor", "This is not the JSON that `node export` prints.")
            except NodeKeyError as error:
                form.add_error("descriptor", str(error))
            else:
                self.message_user(request, f"Partner {node.node_id} registered.")
                return redirect("admin:agencies_node_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": "Register a partner node",
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/agencies/node/add_partner.html", context)


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "jurisdiction", "home_node"]
    list_filter = ["home_node"]
    search_fields = ["code", "name"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "email", "agency", "role", "is_staff", "is_active"]
    list_filter = ["agency", "role", "is_staff", "is_active"]
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        ("Agency", {"fields": ("agency", "role")}),
    )
    add_fieldsets = (
        *BaseUserAdmin.add_fieldsets,
        ("Agency", {"fields": ("agency", "role")}),
    )


@admin.register(SharingGroup)
class SharingGroupAdmin(admin.ModelAdmin):
    """Site administrators create sharing groups and manage membership here; every
    membership change is audited and raises the group's version (sharing.grants)."""

    list_display = ["name", "convener", "owner_node", "version"]
    filter_horizontal = ["members"]
    fields = ["name", "convener", "members", "owner_node", "version"]
    readonly_fields = ["owner_node", "version"]

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        if not change:
            created = sharing_group_create(name=obj.name)
            obj.pk, obj.group, obj.owner_node = created.pk, created.group, created.owner_node
            obj._state.adding = False
        super().save_model(request, obj, form, change)


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    """Agency admins create clients in the portal (the token is shown there once); site
    administrators see them here and can revoke them."""

    list_display = ["name", "agency", "scopes", "expires_at", "revoked_at", "last_used_at"]
    list_filter = ["agency"]
    readonly_fields = [
        "agency",
        "name",
        "scopes",
        "prefix",
        "secret_hash",
        "expires_at",
        "last_used_at",
        "created_by",
        "created_at",
    ]
    fields = [*readonly_fields, "revoked_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
