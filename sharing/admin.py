from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from sharing.models import AuditEntry, ChangeLogEntry, PartnerSync, SyncConflict, SyncHeld


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


@admin.register(PartnerSync)
class PartnerSyncAdmin(admin.ModelAdmin):
    """Sync state per partner; edited by sync runs only. "Resync now" queues a pull and a
    reconcile."""

    list_display = [
        "partner",
        "cursor",
        "partner_head",
        "last_pull_at",
        "last_push_at",
        "last_reconcile_at",
        "last_drift",
        "last_error",
    ]
    readonly_fields = [f.name for f in PartnerSync._meta.fields]
    actions = ["resync_now"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.action(description="Resync now (pull and reconcile)")
    def resync_now(self, request: HttpRequest, queryset) -> None:  # type: ignore[no-untyped-def]
        from sharing.tasks import sync_pull_partner, sync_reconcile_partner

        for state in queryset.select_related("partner"):
            sync_pull_partner.delay(state.partner.node_id)
            sync_reconcile_partner.delay(state.partner.node_id)
        self.message_user(request, f"Queued a pull and a reconcile for {queryset.count()}.")


@admin.register(SyncHeld)
class SyncHeldAdmin(admin.ModelAdmin):
    """Records a partner sent that could not be applied yet; retried by every pull."""

    list_display = ["partner", "seq", "object_type", "object_id", "attempts", "error"]
    list_filter = ["partner"]
    readonly_fields = [f.name for f in SyncHeld._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(SyncConflict)
class SyncConflictAdmin(admin.ModelAdmin):
    list_display = ["partner", "object_type", "object_id", "version", "fields", "found_at"]
    readonly_fields = [f.name for f in SyncConflict._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
