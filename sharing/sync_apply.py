"""Applying a partner's batch (receiving side), by DESIGN.md's rules:

- the batch must verify against the origin's key, and name this node as its recipient;
- an object is accepted only from its owner's home node;
- a version is applied only if newer; the same version with other content is a conflict,
  recorded, and the owner's copy wins; applying a batch twice changes nothing;
- a record that cannot be applied is held with its error and retried, never skipped;
- the replica's audience is the one its origin computed, for this node's agencies only, and
  is never widened here (the replica's grants are exactly those).
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import Group, Permission
from django.db import DatabaseError, DataError, transaction
from django.db import IntegrityError as ConstraintViolated
from django.db.models import Q

from agencies.models import Agency, Node
from agencies.services import node_ensure_local
from designations.attachments import attachment_open, key_slot_create
from designations.data import CHILDREN, apply_scalars, child_rows, designation_data
from designations.models import (
    AmendmentProposal,
    Attachment,
    Designation,
    DesignationGroupObjectPermission,
    DesignationVersion,
    IntelligenceNote,
    NoteGroupObjectPermission,
    Regime,
)
from designations.services import replace_children
from sharing.access import DESIGNATIONS, NOTES, Level
from sharing.audit import audit_record
from sharing.bulk_insert import bulk_insert
from sharing.crypto import IntegrityError, KeyUnavailable
from sharing.keyring import load_keyring
from sharing.models import AuditAction, SyncConflict, SyncHeld
from sharing.node_keys import NodeKeyError, unwrap_from_node
from sharing.sync_feed import (
    ATTACHMENT,
    DESIGNATION,
    FEED_VERSION,
    NOTE,
    PROPOSAL,
    batch_verify,
)
from sharing.sync_http import PartnerUnavailable, partner_fetch
from sharing.uploads import attachment_storage, make_durable


class BatchRejected(Exception):
    """The batch as a whole is not acceptable (forged, altered, misaddressed); nothing of it
    was applied."""


class RecordNotApplicable(Exception):
    """One record cannot be applied yet; it is held with this message."""


@dataclass
class ApplyResult:
    applied: int = 0
    unchanged: int = 0
    retracted: int = 0
    conflicts: int = 0
    held: list[str] = field(default_factory=list)


def batch_check(*, origin: Node, batch: dict[str, Any]) -> None:
    """BatchRejected (audited) unless `batch` is what `origin` signed, for this node. Call it
    outside the transaction that applies the batch, so that the audit entry of a refusal is
    not rolled back with it."""
    local = node_ensure_local()
    if not isinstance(batch, dict) or not batch_verify(origin, batch):
        audit_record(AuditAction.DENIED, detail={"sync": "batch signature", "from": origin.node_id})
        raise BatchRejected(f"the batch from {origin.node_id} does not verify against its key")
    if batch.get("origin") != origin.node_id or batch.get("recipient") != local.node_id:
        audit_record(AuditAction.DENIED, detail={"sync": "misaddressed", "from": origin.node_id})
        raise BatchRejected("the batch is addressed from or to another node")
    if batch.get("feed_version") != FEED_VERSION:
        raise BatchRejected(f"feed version {batch.get('feed_version')!r} is not supported")


def batch_apply(*, origin: Node, batch: dict[str, Any]) -> ApplyResult:
    """Verify `batch` from `origin`, then apply its records in sequence order."""
    batch_check(origin=origin, batch=batch)
    result = ApplyResult()
    directory = batch.get("agencies") or {}
    records = batch.get("records", [])
    if not records:
        return result  # nothing to apply, and nothing to audit
    inserted = _insert_new_designations(origin, records, directory, result)
    for record in records:
        if id(record) not in inserted:
            record_apply(origin=origin, record=record, directory=directory, result=result)
    audit_record(
        AuditAction.SYNC,
        actor_name=f"node:{origin.node_id}",
        detail={
            "batch": "applied",
            "from": origin.node_id,
            "after": batch.get("after"),
            "until": batch.get("until"),
            "applied": result.applied,
            "unchanged": result.unchanged,
            "retracted": result.retracted,
            "conflicts": result.conflicts,
            "held": len(result.held),
        },
    )
    return result


def _insert_new_designations(
    origin: Node, records: list[Any], directory: dict[str, Any], result: ApplyResult
) -> set[int]:
    """Designations this node does not hold yet, inserted with a fixed number of statements
    for the whole batch (an initial sync is almost all of these). Returns the `id()`s of the
    records done; every other record, and any this path cannot settle (unknown owner, held
    before, malformed), goes through record_apply one by one, which holds what fails."""
    candidates: dict[str, dict[str, Any]] = {}
    repeated: set[str] = set()  # an object twice in one batch: in order, one by one
    for record in records:
        if not isinstance(record, dict) or record.get("type") != DESIGNATION:
            continue
        if record.get("action") != "upsert":
            continue
        try:
            pk = str(uuid.UUID(str(record["id"])))
        except (KeyError, TypeError, ValueError):
            continue
        if pk in candidates:
            repeated.add(pk)
        candidates[pk] = record
    ids = list(candidates)
    if not ids:
        return set()
    taken = {str(pk) for pk in Designation.objects.filter(pk__in=ids).values_list("pk", flat=True)}
    taken |= {
        str(pk)
        for pk in SyncHeld.objects.filter(
            partner=origin, object_type=DESIGNATION, object_id__in=ids
        ).values_list("object_id", flat=True)
    }
    owners: dict[str, Agency | None] = {}
    regimes: dict[tuple[int, str], Regime] = {}
    grants = _GrantRows(DESIGNATIONS, DesignationGroupObjectPermission)
    designations, children, versions, rows, done = [], [], [], [], set()
    for pk, record in candidates.items():
        if pk in taken or pk in repeated:
            continue
        try:
            code = record["owner"]
            if code not in owners:
                try:
                    owners[code] = _owner(origin, code, directory, record.get("owner_agency"))
                except RecordNotApplicable:
                    owners[code] = None
            owner = owners[code]
            if owner is None:
                continue
            regime_info = record["regime"]
            if (owner.pk, regime_info["code"]) not in regimes:
                regimes[owner.pk, regime_info["code"]] = Regime.objects.update_or_create(
                    owner=owner,
                    code=regime_info["code"],
                    defaults={"name": regime_info.get("name", "")},
                )[0]
            data = dict(record["data"])
            data.pop("regime", None)
            designation = Designation(
                pk=pk,
                owner=owner,
                regime=regimes[owner.pk, regime_info["code"]],
                version=int(record["version"]),
            )
            apply_scalars(designation, data)
            new_children = child_rows(designation, data)
            new_rows = grants.rows(designation, record["audience"])
        except (KeyError, TypeError, ValueError, AttributeError):
            continue  # record_apply holds it with its error
        designations.append(designation)
        children.extend(new_children)
        rows.extend(new_rows)
        versions.append(
            DesignationVersion(
                designation=designation,
                version=designation.version,
                status=designation.status,
                snapshot=data,
                actor_name=f"node:{origin.node_id}",
                actor_agency=owner,
                reason="received from its owner's node",
            )
        )
        done.add(id(record))
    if not designations:
        return set()
    try:
        with transaction.atomic():
            bulk_insert(Designation, designations)
            for model, _fields in CHILDREN.values():
                bulk_insert(model, [row for row in children if isinstance(row, model)])
            bulk_insert(DesignationVersion, versions)
            bulk_insert(DesignationGroupObjectPermission, rows)
    except DatabaseError:
        return set()  # rolled back to the savepoint: one by one, each held on its own error
    result.applied += len(designations)
    return done


class _GrantRows:
    """Permission rows that give this node's agencies a replica's audience (levels below
    change: a replica is read, noted and proposed on here, never edited)."""

    def __init__(self, guarded, rows_model) -> None:  # type: ignore[no-untyped-def]
        self.guarded, self.rows_model = guarded, rows_model
        self.groups = dict(
            Agency.objects.filter(home_node__is_local=True).values_list("code", "group_id")
        )
        self.levels = {level.label: level for level in Level if level < Level.CHANGE}
        self.permissions = {
            p.codename: p
            for p in Permission.objects.filter(
                content_type__app_label=guarded.model._meta.app_label,
                codename__in=[guarded.codenames(level)[0] for level in self.levels.values()],
            )
        }

    def wanted(self, audience: dict[str, str]) -> set[tuple[int, str]]:
        return {
            (self.groups[code], self.guarded.codenames(self.levels[label])[0])
            for code, label in audience.items()
            if code in self.groups and label in self.levels
        }

    def rows(self, obj, audience: dict[str, str]) -> list:  # type: ignore[no-untyped-def]
        return [
            self.rows_model(content_object=obj, group_id=group_id, permission=self.permissions[c])
            for group_id, c in self.wanted(audience)
        ]


def record_apply(
    *, origin: Node, record: dict[str, Any], directory: dict[str, Any], result: ApplyResult
) -> None:
    """Apply one record, or hold it with its error."""
    try:
        with transaction.atomic():
            kind, action = record.get("type"), record.get("action")
            upserts = {
                DESIGNATION: _upsert,
                NOTE: _upsert_note,
                PROPOSAL: _upsert_proposal,
                ATTACHMENT: _upsert_attachment,
            }
            if action == "retract" and kind in (DESIGNATION, NOTE, ATTACHMENT):
                _retract(origin, record, result)
            elif action == "upsert" and kind in upserts:
                upserts[kind](origin, record, directory, result)
            else:
                raise RecordNotApplicable(f"unknown record: {kind!r} {action!r}")
    except (
        RecordNotApplicable,
        KeyError,
        TypeError,
        ValueError,
        DataError,
        ConstraintViolated,
    ) as error:
        # DataError, ConstraintViolated: this record's values, refused by the database (its
        # savepoint is rolled back); a broken connection is not the record's fault and raises.
        message = str(error) if isinstance(error, RecordNotApplicable) else f"malformed: {error!r}"
        # Kept with the owner's directory entry, so that a retry has what the batch had.
        owner = record.get("owner") if isinstance(record, dict) else None
        if owner in directory:
            record = {**record, "owner_agency": directory[owner]}
        _hold(origin, record, message)
        result.held.append(message)
        return
    # Applied (or superseded): an older held copy of this object is settled.
    SyncHeld.objects.filter(
        partner=origin, object_type=record["type"], object_id=record["id"]
    ).delete()


def _hold(origin: Node, record: dict[str, Any], error: str) -> None:
    held, created = SyncHeld.objects.get_or_create(
        partner=origin,
        object_type=str(record.get("type", ""))[:40],
        object_id=record["id"],
        defaults={"seq": record.get("seq", 0), "record": record, "error": error},
    )
    if not created:
        held.seq, held.record, held.error = record.get("seq", 0), record, error
        held.attempts += 1
        held.save()


def _owner(
    origin: Node, code: str, directory: dict[str, Any], record_agency: dict | None = None
) -> Agency:
    agency = Agency.objects.select_related("home_node").filter(code=code).first()
    if agency is None:
        entry = directory.get(code) or record_agency
        if not entry:
            raise RecordNotApplicable(f"owner agency {code!r} is not known here yet")
        group, _ = Group.objects.get_or_create(name=f"agency:{code}")
        return Agency.objects.create(
            code=code,
            name=entry["name"],
            jurisdiction=entry.get("jurisdiction", ""),
            home_node=origin,
            group=group,
        )
    if agency.home_node_id != origin.pk:
        raise RecordNotApplicable(
            f"agency {code!r} is hosted on {agency.home_node.node_id}, not on {origin.node_id}: "
            "only the owner's home node may send its designations"
        )
    return agency


def _upsert(
    origin: Node, record: dict[str, Any], directory: dict[str, Any], result: ApplyResult
) -> None:
    owner = _owner(origin, record["owner"], directory, record.get("owner_agency"))
    version = int(record["version"])
    data = dict(record["data"])
    existing = Designation.objects.select_for_update().filter(pk=record["id"]).first()
    if existing is not None and existing.owner_id != owner.pk:
        raise RecordNotApplicable("the designation belongs to another agency here")
    if existing is not None and existing.version > version:
        result.unchanged += 1  # an older state arriving late
        return
    if existing is not None and existing.version == version:
        differs = _differences(designation_data(existing, with_audience=False), data)
        if not differs:
            _set_audience(existing, record["audience"])  # idempotent
            result.unchanged += 1
            return
        SyncConflict.objects.create(
            partner=origin,
            object_type=DESIGNATION,
            object_id=existing.pk,
            version=version,
            fields=differs,
        )
        result.conflicts += 1  # and the owner's copy wins, below
    regime_info = record["regime"]
    regime, _ = Regime.objects.update_or_create(
        owner=owner, code=regime_info["code"], defaults={"name": regime_info.get("name", "")}
    )
    data.pop("regime", None)
    designation = existing or Designation(pk=record["id"])
    designation.owner, designation.regime, designation.version = owner, regime, version
    apply_scalars(designation, data)
    designation.save()
    replace_children(designation, data)
    DesignationVersion.objects.update_or_create(
        designation=designation,
        version=version,
        defaults={
            "status": designation.status,
            "snapshot": data,
            "actor_name": f"node:{origin.node_id}",
            "actor_agency": owner,
            "reason": "received from its owner's node",
        },
    )
    _set_audience(designation, record["audience"])
    result.applied += 1


def _differences(held: dict[str, Any], incoming: dict[str, Any]) -> list[str]:
    """Fields where what this node holds differs from what arrived, judged on what arrived
    (a feed sends every field; a missing one is a default, not a difference)."""

    def same(mine: Any, theirs: Any) -> bool:
        if isinstance(theirs, list) and isinstance(mine, list):
            return len(mine) == len(theirs) and all(map(same, mine, theirs))
        if isinstance(theirs, dict) and isinstance(mine, dict):
            return all(same(mine.get(key), value) for key, value in theirs.items())
        return mine == theirs

    return sorted(key for key, value in incoming.items() if not same(held.get(key), value))


def _set_audience(designation: Designation, audience: dict[str, str]) -> None:
    _set_grants(DESIGNATIONS, DesignationGroupObjectPermission, designation, audience)


def _set_grants(guarded, rows_model, obj, audience: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    """The replica's grants are exactly the origin's audience for this node's agencies."""
    grants = _GrantRows(guarded, rows_model)
    wanted = grants.wanted(audience)
    rows = rows_model.objects.filter(content_object=obj)
    current = {(r.group_id, r.permission.codename): r for r in rows.select_related("permission")}
    for key, row in current.items():
        if key not in wanted:
            row.delete()
    rows_model.objects.bulk_create(
        [
            rows_model(content_object=obj, group_id=group_id, permission=grants.permissions[c])
            for group_id, c in wanted - set(current)
        ]
    )


def _retract(origin: Node, record: dict[str, Any], result: ApplyResult) -> None:
    model = {DESIGNATION: Designation, NOTE: IntelligenceNote, ATTACHMENT: Attachment}[
        record["type"]
    ]
    obj = model.objects.filter(pk=record["id"]).select_related("owner").first()
    if obj is None:
        result.unchanged += 1
        return
    if obj.owner.home_node_id != origin.pk:
        raise RecordNotApplicable(f"only the owner's home node may retract its {record['type']}")
    # The stored files of what goes (the object's own, or its parent's) go with it, once the
    # deletion is committed.
    files = list(
        Attachment.objects.filter(
            Q(pk=obj.pk)
            | Q(designation_id=obj.pk)
            | Q(note_id=obj.pk)
            | Q(note__designation_id=obj.pk)
        ).values_list("stored_name", flat=True)
    )
    obj.delete()
    transaction.on_commit(lambda: [attachment_storage().delete(name) for name in files])
    result.retracted += 1


def _upsert_attachment(
    origin: Node, record: dict[str, Any], directory: dict[str, Any], result: ApplyResult
) -> None:
    """Fetch the ciphertext from the origin as it is, open the data key wrapped for this node
    and wrap it under this node's own KEK; the file is checked (header and first segment now,
    its SHA-256 on first download) but never decrypted in transit."""
    owner = _owner(origin, record["owner"], directory, record.get("owner_agency"))
    version = int(record["version"])
    existing = Attachment.objects.filter(pk=record["id"]).first()
    if existing is not None:
        if existing.owner_id != owner.pk:
            raise RecordNotApplicable("the attachment belongs to another agency here")
        result.unchanged += 1  # files do not change: a new file is a new attachment
        return
    parent_model = Designation if record["parent"]["type"] == DESIGNATION else IntelligenceNote
    parent = parent_model.objects.filter(pk=record["parent"]["id"]).first()
    if parent is None:
        raise RecordNotApplicable(f"the {record['parent']['type']} it is attached to is not here")
    try:
        data_key = unwrap_from_node(
            record["wrapped_key"], attachment_id=record["id"], version=version
        )
    except NodeKeyError as error:
        raise RecordNotApplicable(f"the data key does not open: {error}") from None
    stored_name = secrets.token_hex(16)
    storage = attachment_storage()
    try:
        with storage.open(stored_name, "wb") as sink:
            for chunk in partner_fetch(origin, f"/sync/v1/attachments/{record['id']}/content"):
                sink.write(chunk)
            make_durable(sink)
        keyring = load_keyring()
        data = record["data"]
        attachment = Attachment.objects.create(
            id=uuid.UUID(record["id"]),  # a UUID, as the file's header binds it
            designation=parent if parent_model is Designation else None,
            note=parent if parent_model is IntelligenceNote else None,
            owner=owner,
            version=version,
            original_name=data["original_name"],
            content_type=data["content_type"],
            size=int(data["size"]),
            sha256=data["sha256"],
            stored_name=stored_name,
        )
        key_slot_create(attachment, data_key, keyring)
        # The key, the header and the first segment must agree before it is recorded.
        opened = attachment_open(attachment)
        opened.segments.close()  # type: ignore[attr-defined]
    except PartnerUnavailable as error:
        storage.delete(stored_name)
        raise RecordNotApplicable(f"the file could not be fetched: {error}") from None
    except (IntegrityError, KeyUnavailable) as error:
        storage.delete(stored_name)
        raise RecordNotApplicable(f"the file does not open with its key: {error}") from None
    except BaseException:
        storage.delete(stored_name)
        raise
    result.applied += 1


def _upsert_note(
    origin: Node, record: dict[str, Any], directory: dict[str, Any], result: ApplyResult
) -> None:
    """A note written on the origin (often about a designation this node owns)."""
    owner = _owner(origin, record["owner"], directory, record.get("owner_agency"))
    version, data = int(record["version"]), record["data"]
    designation = None
    if record.get("designation"):
        designation = Designation.objects.filter(pk=record["designation"]).first()
        if designation is None:
            # Held: the designation may arrive later (or access to it may be granted).
            raise RecordNotApplicable(
                f"the designation {record['designation']} this note is about is not here"
            )
    existing = IntelligenceNote.objects.select_for_update().filter(pk=record["id"]).first()
    if existing is not None and existing.owner_id != owner.pk:
        raise RecordNotApplicable("the note belongs to another agency here")
    if existing is not None and existing.version >= version:
        if existing.version == version:
            _set_note_audience(existing, record["audience"])
        result.unchanged += 1
        return
    note = existing or IntelligenceNote(pk=record["id"])
    note.owner, note.designation, note.version = owner, designation, version
    note.title, note.body, note.marking = data["title"], data["body"], data["marking"]
    note.save()
    _set_note_audience(note, record["audience"])
    result.applied += 1


def _upsert_proposal(
    origin: Node, record: dict[str, Any], directory: dict[str, Any], result: ApplyResult
) -> None:
    """The content from the proposer's node; the decision from the designation owner's."""
    designation = (
        Designation.objects.select_related("owner__home_node")
        .filter(pk=record["designation"])
        .first()
    )
    if designation is None:
        raise RecordNotApplicable(f"the designation {record['designation']} is not here")
    proposer = Agency.objects.select_related("home_node").filter(code=record["proposer"]).first()
    if proposer is None:
        raise RecordNotApplicable(f"the proposing agency {record['proposer']!r} is not known here")
    existing = AmendmentProposal.objects.select_for_update().filter(pk=record["id"]).first()
    version = int(record["version"])
    if existing is not None and existing.version >= version:
        result.unchanged += 1
        return
    if origin.pk == proposer.home_node_id and designation.owner.home_node.is_local:
        # To the owner's node: the proposal as written (its decision is made here).
        data = record["data"]
        if existing is None:
            AmendmentProposal.objects.create(
                pk=record["id"],
                designation=designation,
                proposer=proposer,
                proposed_by_name=data["proposed_by_name"],
                kind=data["kind"],
                changes=data["changes"],
                reason=data["reason"],
                based_on_version=data["based_on_version"],
            )
            result.applied += 1
        else:
            result.unchanged += 1
        return
    if origin.pk == designation.owner.home_node_id and proposer.home_node.is_local:
        # Back to the proposer's node: the owner's decision.
        if existing is None:
            raise RecordNotApplicable("a decision on a proposal this node does not hold")
        decision = record["decision"]
        existing.status = decision["status"]
        existing.decision_reason = decision["reason"]
        existing.decided_by_name = decision["decided_by_name"]
        existing.decided_at = decision["decided_at"]
        existing.resulting_version = decision["resulting_version"]
        existing.version = version
        existing.save()
        result.applied += 1
        return
    raise RecordNotApplicable(
        f"{origin.node_id} is neither the proposer's node nor the designation owner's"
    )


def _set_note_audience(note: IntelligenceNote, audience: dict[str, str]) -> None:
    _set_grants(NOTES, NoteGroupObjectPermission, note, audience)
