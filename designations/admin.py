"""Site administrators' view of everything. Guarded objects use guardian's object permission
admin, so grants can be inspected and managed per object."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from guardian.admin import GuardedModelAdmin

from designations.models import (
    Address,
    BirthDate,
    BirthPlace,
    Designation,
    DesignationVersion,
    Identifier,
    IntelligenceNote,
    ListPublication,
    Name,
    Nationality,
    Regime,
    SourceEntry,
)
from sharing import access


class ReadOnlyAdminMixin:
    """Content, history and provenance are written by services only (they keep the version,
    the history and the change log in step); the admin shows them and manages grants."""

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Regime)
class RegimeAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "owner"]
    list_filter = ["owner"]
    search_fields = ["code", "name"]


class NameInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Name
    extra = 0
    exclude = ["normalized"]


class BirthDateInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = BirthDate
    extra = 0


class BirthPlaceInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = BirthPlace
    extra = 0


class AddressInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Address
    extra = 0


class NationalityInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Nationality
    extra = 0


class IdentifierInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Identifier
    extra = 0


class VersionInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = DesignationVersion
    extra = 0
    fields = [
        "version",
        "status",
        "changed_fields",
        "actor",
        "actor_agency",
        "reason",
        "created_at",
    ]
    readonly_fields = fields


class ContentReadOnlyGuardedAdmin(GuardedModelAdmin):
    """Grants are managed here (guardian's object permissions page); content is not edited
    here, because an edit outside the services would skip history and the change log."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        return [f.name for f in self.model._meta.concrete_fields]

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        # Staff who are not superusers see only what the gate lets them see.
        return access.objects_for(request.user, self.model).select_related("owner")


@admin.register(Designation)
class DesignationAdmin(ContentReadOnlyGuardedAdmin):
    list_display = [
        "name",
        "reference_number",
        "owner",
        "regime",
        "subject_kind",
        "status",
        "marking",
        "version",
    ]
    list_filter = ["owner", "status", "subject_kind", "marking", "regime"]
    search_fields = ["name", "reference_number", "names__normalized"]
    list_select_related = ["owner", "regime"]
    inlines = [
        NameInline,
        BirthDateInline,
        BirthPlaceInline,
        AddressInline,
        NationalityInline,
        IdentifierInline,
        VersionInline,
    ]

    def get_search_results(self, request, queryset, search_term):  # type: ignore[no-untyped-def]
        queryset, _duplicates = super().get_search_results(request, queryset, search_term)
        return queryset.distinct(), False


@admin.register(DesignationVersion)
class DesignationVersionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["designation", "version", "status", "actor_agency", "publication", "created_at"]
    list_select_related = ["designation", "actor_agency", "publication"]


@admin.register(ListPublication)
class ListPublicationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "publisher",
        "agency",
        "generated_at",
        "file_name",
        "record_count",
        "added",
        "amended",
        "delisted",
        "relisted",
        "imported_at",
    ]
    list_filter = ["publisher", "agency"]


@admin.register(SourceEntry)
class SourceEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["publisher", "source_id", "reference_number", "designation", "last_publication"]
    list_filter = ["publisher"]
    search_fields = ["source_id", "reference_number"]


@admin.register(IntelligenceNote)
class IntelligenceNoteAdmin(ContentReadOnlyGuardedAdmin):
    list_display = ["title", "owner", "designation", "marking", "version", "created_at"]
    list_filter = ["owner", "marking"]
    search_fields = ["title"]
