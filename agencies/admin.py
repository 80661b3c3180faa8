from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.http import HttpRequest

from agencies.models import Agency, ApiClient, Node, SharingGroup, User
from agencies.services import sharing_group_create


@admin.register(Node)
class NodeAdmin(admin.ModelAdmin):
    list_display = ["node_id", "name", "base_url", "is_local", "last_heartbeat_at"]
    readonly_fields = ["last_heartbeat_at", "created_at"]


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

    list_display = ["name", "owner_node", "version"]
    filter_horizontal = ["members"]
    fields = ["name", "members", "owner_node", "version"]
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
