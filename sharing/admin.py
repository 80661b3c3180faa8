from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from sharing.models import AuditEntry, ChangeLogEntry


@admin.register(ChangeLogEntry)
class ChangeLogEntryAdmin(admin.ModelAdmin):
    """Read-only: the change log is appended by services, never edited."""

    list_display = ["seq", "action", "object_type", "object_id", "version", "created_at"]
    list_filter = ["action", "object_type"]
    search_fields = ["object_id"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: nobody edits or deletes audit entries through the app."""

    list_display = [
        "seq",
        "at",
        "actor_name",
        "agency_code",
        "action",
        "object_type",
        "object_id",
        "source",
        "ip_address",
    ]
    list_filter = ["action", "agency_code", "source"]
    search_fields = ["actor_name", "object_id"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
