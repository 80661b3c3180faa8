"""Writes to designations and notes. Each is one transaction holding the change, its history
row and its change-log row, so that sync never sees a change without its log entry or the
reverse (DESIGN.md, Invariant 3)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from agencies.models import Agency, User
from designations.data import (
    CHILDREN,
    SCALAR_FIELDS,
    apply_scalars,
    changed_fields,
    child_rows,
    designation_data,
)
from designations.models import (
    Designation,
    DesignationStatus,
    DesignationVersion,
    IntelligenceNote,
    ListPublication,
    Regime,
)
from sharing import access
from sharing.access import Level
from sharing.audit import audit_record
from sharing.changelog import change_log_append
from sharing.models import AuditAction, ChangeAction, Marking

DESIGNATION = "designation"
NOTE = "note"


def _require_publisher(actor: User, agency: Agency) -> None:
    if not actor.may_publish or actor.agency_id != agency.pk:
        raise PermissionDenied("Only a publisher of the owner agency may publish for it.")
    if not agency.is_local:
        raise PermissionDenied("This agency is hosted on another node; publish there.")


def _require_change(actor: User, designation: Designation) -> None:
    # Invariant 2: only the owner's home node changes a designation; replicas are read-only.
    if not designation.owner.is_local:
        raise PermissionDenied("This designation is a replica; its owner's node changes it.")
    if not access.may(actor, Level.CHANGE, designation):
        audit_record(AuditAction.DENIED, obj=designation, actor=actor, detail={"attempt": "change"})
        raise PermissionDenied("Only a publisher of the owner agency may change this designation.")


def record_version(
    *,
    designation: Designation,
    data: dict[str, Any],
    previous: dict[str, Any] | None,
    action: ChangeAction,
    actor: User | None = None,
    publication: ListPublication | None = None,
    reason: str = "",
) -> DesignationVersion:
    """History row and change-log row for the designation's current version."""
    entry = DesignationVersion.objects.create(
        designation=designation,
        version=designation.version,
        status=designation.status,
        snapshot=data,
        changed_fields=changed_fields(previous, data),
        actor=actor if isinstance(actor, User) else None,
        actor_name=actor.get_username() if actor is not None else "",
        actor_agency=actor.agency if actor else designation.owner,
        publication=publication,
        reason=reason,
    )
    change_log_append(
        object_type=DESIGNATION,
        object_id=designation.pk,
        version=designation.version,
        action=action,
    )
    audit_record(
        AuditAction.CHANGE,
        obj=designation,
        actor=actor,
        detail={
            "action": str(action),
            "version": designation.version,
            "fields": entry.changed_fields,
            "reason": reason,
        },
    )
    return entry


def replace_children(designation: Designation, data: dict[str, Any]) -> None:
    for key in CHILDREN:
        getattr(designation, key).all().delete()
    rows = child_rows(designation, data)
    for model, _fields in CHILDREN.values():
        model.objects.bulk_create([row for row in rows if isinstance(row, model)])


@transaction.atomic
def designation_create(
    *,
    actor: User,
    regime: Regime,
    data: dict[str, Any],
    marking: str = Marking.AMBER,
    status: str = DesignationStatus.ACTIVE,
) -> Designation:
    agency = actor.agency
    if agency is None:
        raise PermissionDenied("Site administrators publish through an agency account.")
    _require_publisher(actor, agency)
    if regime.owner_id != agency.pk:
        raise ValidationError({"regime": "Use one of your agency's regimes."})
    if marking == Marking.RED and not isinstance(actor, User):
        raise ValidationError({"marking": "TLP:RED names people; publish it in the portal."})
    if not data.get("name"):
        raise ValidationError({"name": "A designation needs a name."})
    designation = Designation(owner=agency, regime=regime, marking=marking, status=status)
    apply_scalars(designation, data)
    designation.full_clean()
    designation.save()
    primary = {"kind": "primary", "full_name": designation.name}
    if not any(n.get("kind") == "primary" for n in data.get("names", [])):
        data = {**data, "names": [primary, *data.get("names", [])]}
    replace_children(designation, data)
    record_version(
        designation=designation,
        data=designation_data(designation),
        previous=None,
        action=ChangeAction.CREATE,
        actor=actor,
    )
    if designation.marking == Marking.RED:
        # TLP:RED reaches named people only; the first one named is its author.
        from sharing.grants import grant_named_author

        grant_named_author(obj=designation, author=actor)
    return designation


class StaleVersion(Exception):
    """The caller changed a version that is no longer the current one."""


def _check_version(designation: Designation, expected_version: int | None) -> None:
    if expected_version is not None and designation.version != expected_version:
        raise StaleVersion(
            f"version {expected_version} is not current (the designation is at version "
            f"{designation.version})"
        )


def designation_amend(
    *,
    actor: User,
    designation: Designation,
    changes: dict[str, Any],
    reason: str,
    expected_version: int | None = None,
) -> Designation:
    # Checked before the transaction, so that the audited denial is not rolled back with it.
    _require_change(actor, designation)
    if not reason.strip():
        raise ValidationError({"reason": "Say why the designation is amended."})
    unknown = set(changes) - set(SCALAR_FIELDS) - set(CHILDREN) - {"marking"}
    if unknown:
        raise ValidationError({field: "This field cannot be amended." for field in unknown})
    with transaction.atomic():
        # Lock the row: two amendments must not both raise the version from the same value.
        designation = Designation.objects.select_for_update().get(pk=designation.pk)
        _check_version(designation, expected_version)
        previous = designation_data(designation)
        apply_scalars(designation, changes)
        designation.version += 1
        designation.full_clean()
        designation.save()
        if set(changes) & set(CHILDREN):
            replace_children(designation, {**previous, **changes})
        record_version(
            designation=designation,
            data=designation_data(designation),
            previous=previous,
            action=ChangeAction.UPDATE,
            actor=actor,
            reason=reason,
        )
    return designation


def designation_delist(
    *,
    actor: User,
    designation: Designation,
    reason: str,
    delisted_on: dt.date | None = None,
    expected_version: int | None = None,
) -> Designation:
    _require_change(actor, designation)
    with transaction.atomic():
        designation = Designation.objects.select_for_update().get(pk=designation.pk)
        _check_version(designation, expected_version)
        if designation.status == DesignationStatus.DELISTED:
            raise ValidationError("The designation is already delisted.")
        previous = designation_data(designation)
        designation.status = DesignationStatus.DELISTED
        designation.delisted_on = delisted_on or timezone.localdate()
        designation.version += 1
        designation.save()
        record_version(
            designation=designation,
            data=designation_data(designation),
            previous=previous,
            action=ChangeAction.DELIST,
            actor=actor,
            reason=reason,
        )
    return designation


def note_create(
    *,
    actor: User,
    designation: Designation | None,
    title: str,
    body: str,
    marking: str = Marking.AMBER,
) -> IntelligenceNote:
    if actor.agency is None:
        raise PermissionDenied("Notes are written from an agency account.")
    if marking == Marking.RED and not isinstance(actor, User):
        raise ValidationError({"marking": "TLP:RED names people; write it in the portal."})
    if designation is not None and not access.may(actor, Level.COMMENT, designation):
        audit_record(
            AuditAction.DENIED, obj=designation, actor=actor, detail={"attempt": "add note"}
        )
        raise PermissionDenied("You may not add notes to this designation.")
    with transaction.atomic():
        note = IntelligenceNote(
            designation=designation,
            owner=actor.agency,
            author=actor if isinstance(actor, User) else None,
            title=title,
            body=body,
            marking=marking,
        )
        note.full_clean()
        note.save()
        change_log_append(
            object_type=NOTE, object_id=note.pk, version=note.version, action=ChangeAction.CREATE
        )
        audit_record(
            AuditAction.CHANGE,
            obj=note,
            actor=actor,
            detail={
                "action": "create",
                "version": 1,
                "designation": str(designation.pk) if designation else "",
            },
        )
        if note.marking == Marking.RED:
            # TLP:RED reaches named people only; the first one named is its author.
            from sharing.grants import grant_named_author

            grant_named_author(obj=note, author=actor)
    return note


@transaction.atomic
def audience_changed(
    obj: Designation | IntelligenceNote, *, actor: User | None, reason: str
) -> None:
    """A grant or revocation changed who may see `obj`: that is a change like any other (a
    new version, a history row, a change-log row), so partners learn of it through sync."""
    if isinstance(obj, Designation):
        designation = Designation.objects.select_for_update().get(pk=obj.pk)
        previous = designation.history.order_by("-version").values_list("snapshot", flat=True)
        designation.version += 1
        designation.save(update_fields=["version", "updated_at"])
        record_version(
            designation=designation,
            data=designation_data(designation),
            previous=previous.first(),
            action=ChangeAction.UPDATE,
            actor=actor,
            reason=reason,
        )
        return
    note = IntelligenceNote.objects.select_for_update().get(pk=obj.pk)
    note.version += 1
    note.save(update_fields=["version", "updated_at"])
    change_log_append(
        object_type=NOTE, object_id=note.pk, version=note.version, action=ChangeAction.UPDATE
    )
