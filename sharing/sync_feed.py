"""The feed a partner node reads (origin side): changes after a cursor, in sequence order, as
the current state of each object the partner's agencies may see, or a retraction for one it
was shown before and may no longer see. Batches are signed by this node.

Visibility is sharing.access's answer for the partner's agencies, as for anyone else; each
record carries that audience (which of the partner's agencies may see it, at which level), and
the partner enforces it without widening it.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from agencies.models import Agency, Node, SharingGroup
from agencies.services import node_ensure_local
from designations.data import designations_data
from designations.models import (
    AmendmentProposal,
    Attachment,
    Designation,
    DesignationGroupObjectPermission,
    IntelligenceNote,
)
from sharing import access
from sharing.access import Level
from sharing.models import ChangeLogEntry, SyncOffer
from sharing.node_keys import NodeKeys, load_node_keys, verify_signature, wrap_for_node

DESIGNATION = "designation"
NOTE = "note"
PROPOSAL = "proposal"
ATTACHMENT = "attachment"
SHARING_GROUP = "sharing_group"
FEED_VERSION = 1
MAX_BATCH = 1000  # records per batch: about 2 MB of JSON for rich list entries
# Levels a partner agency can hold on an object it does not own.
SHARED_LEVELS = [Level.VIEW, Level.COMMENT, Level.DOWNLOAD]


def canonical(body: dict[str, Any]) -> bytes:
    """The bytes a batch signature covers: sorted keys, no spaces, UTF-8."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def batch_sign(body: dict[str, Any], keys: NodeKeys | None = None) -> dict[str, Any]:
    """The batch with this node's signature (or `keys`', for tests acting as a partner)."""
    return {**body, "signature": (keys or load_node_keys()).sign(canonical(body))}


def batch_verify(origin: Node, batch: dict[str, Any]) -> bool:
    """Whether `batch` is exactly what `origin` signed (checked before anything is applied)."""
    body = {key: value for key, value in batch.items() if key != "signature"}
    signature = batch.get("signature")
    return isinstance(signature, str) and verify_signature(origin, canonical(body), signature)


def _shared_with_group(group_id: Any) -> list[Any]:
    group = SharingGroup.objects.filter(pk=group_id).values_list("group_id", flat=True).first()
    if group is None:
        return []
    return list(
        DesignationGroupObjectPermission.objects.filter(group_id=group)
        .values_list("content_object_id", flat=True)
        .distinct()
    )


def partners() -> QuerySet[Node]:
    """The partner nodes this node exchanges with: registered, with keys."""
    return Node.objects.filter(is_local=False).exclude(signing_public_key="")


def affects(partner: Node, object_type: str, object_id: str) -> bool:
    """Whether a change of the object is news for `partner`: it may see the object, or it was
    shown it before (and must now be told to drop it)."""
    if object_type == SHARING_GROUP:
        return True  # membership changes can widen or narrow any partner's view
    if object_type == PROPOSAL:
        return _servable_proposals(partner).filter(pk=object_id).exists()
    if object_type == NOTE:
        visible = _servable_notes(partner).filter(pk=object_id).exists()
    elif object_type == DESIGNATION:
        visible = _servable(partner).filter(pk=object_id).exists()
    else:
        return False
    return (
        visible
        or SyncOffer.objects.filter(
            partner=partner, object_type=object_type, object_id=object_id
        ).exists()
    )


def _audiences(
    partner: Node, ids: list | None, objects_for: Any = access.designations_for
) -> dict[Any, dict[str, str]]:
    """For each object id (all this node serves when None): the partner's agencies that may
    see it, with their highest level. `objects_for` is the gate's reader for the model."""
    audiences: dict[Any, dict[str, str]] = {pk: {} for pk in ids or []}
    for agency in Agency.objects.filter(home_node=partner).order_by("code"):
        for level in SHARED_LEVELS:  # ascending: a higher level overwrites a lower one
            granted = objects_for(agency, level)
            if ids is not None:
                granted = granted.filter(pk__in=ids)
            for pk in granted.values_list("pk", flat=True):
                audiences.setdefault(pk, {})[agency.code] = level.label
    return audiences


def _offered(partner: Node, object_type: str, ids: list[Any]) -> set[Any]:
    """Which of these objects the partner was shown before (it gets retractions for them, until
    it confirms holding the batch that retracted them)."""
    return set(
        SyncOffer.objects.filter(
            partner=partner, object_type=object_type, object_id__in=ids
        ).values_list("object_id", flat=True)
    )


def _offer(
    partner: Node, object_type: str, versions: dict[Any, int], dropped: dict[Any, int]
) -> None:
    """Record what this batch shows the partner, and what it retracts (id -> the retraction's
    sequence). A retracted offer is kept until the partner's cursor passes the retraction
    (_forget_retracted): a batch built and then not applied (lost, refused as busy, its
    worker killed) must retract again when it is built again."""
    by_seq: dict[int, list[Any]] = {}
    for pk, seq in dropped.items():
        by_seq.setdefault(seq, []).append(pk)
    for seq, ids in by_seq.items():
        SyncOffer.objects.filter(
            partner=partner, object_type=object_type, object_id__in=ids
        ).update(retracted_seq=seq)
    SyncOffer.objects.bulk_create(
        [
            SyncOffer(partner=partner, object_type=object_type, object_id=pk, version=version)
            for pk, version in versions.items()
        ],
        update_conflicts=True,
        unique_fields=["partner", "object_type", "object_id"],
        update_fields=["version", "retracted_seq"],
    )


def _forget_retracted(partner: Node, cursor: int) -> None:
    """The partner holds everything up to `cursor`: retractions before it are done."""
    SyncOffer.objects.filter(partner=partner, retracted_seq__lte=cursor).delete()


def _designation_record(
    designation: Designation, seq: int, audience: dict[str, str], data: dict[str, Any]
) -> dict:
    return {
        "seq": seq,
        "type": DESIGNATION,
        "id": str(designation.pk),
        "action": "upsert",
        "version": designation.version,
        "owner": designation.owner.code,
        "regime": {"code": designation.regime.code, "name": designation.regime.name},
        "audience": audience,
        # Without this node's grants: who else may see it is not the partner's business.
        "data": data,
    }


@transaction.atomic
def feed_batch(*, partner: Node, after: int, limit: int = MAX_BATCH) -> dict[str, Any]:
    """The next batch for `partner`: change-log rows after `after` (at most `limit`), each
    object once, at its current state, in sequence order. Signed."""
    _forget_retracted(partner, after)  # asking from `after`, the partner holds all before it
    entries = list(
        ChangeLogEntry.objects.filter(seq__gt=after).order_by("seq")[: min(limit, MAX_BATCH)]
    )
    # Each object once, at its latest row in the batch (later rows win). Other object types
    # travel in later steps of the protocol; the cursor passes them all the same.
    last_seq = {e.object_id: e.seq for e in entries if e.object_type == DESIGNATION}
    note_seq = {e.object_id: e.seq for e in entries if e.object_type == NOTE}
    proposal_seq = {e.object_id: e.seq for e in entries if e.object_type == PROPOSAL}
    attachment_seq = {e.object_id: e.seq for e in entries if e.object_type == ATTACHMENT}
    for entry in entries:
        if entry.object_type == SHARING_GROUP:
            # A member joined or left: every designation shared with the group is news for
            # partners (the joiner gets what was shared before it joined; the leaver gets
            # retractions). The gate and the offers below decide which.
            for object_id in _shared_with_group(entry.object_id):
                last_seq[object_id] = max(last_seq.get(object_id, 0), entry.seq)
    records, owners = _records(partner, last_seq)
    note_records, note_owners = _note_records(partner, note_seq)
    # A parent's change can open (or close) its files to the partner: they go with it.
    for parent_seq in (last_seq, note_seq):
        for pk, seq in _attachments_of(parent_seq).items():
            attachment_seq[pk] = max(attachment_seq.get(pk, 0), seq)
    records = sorted(
        records
        + note_records
        + _proposal_records(partner, proposal_seq)
        + _attachment_records(partner, attachment_seq),
        key=lambda record: record["seq"],
    )
    owners |= note_owners
    until = entries[-1].seq if entries else after
    head = ChangeLogEntry.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    batch = _signed_batch(
        partner, records, owners, after=after, until=until, more=until < head, head=head
    )
    return batch


@transaction.atomic
def objects_batch(*, partner: Node, ids: list[Any], kind: str = DESIGNATION) -> dict[str, Any]:
    """The current state of the given designations (or notes) for `partner` (reconciliation's
    repair): upserts for what it may see, retractions for what it was shown and may not.
    Signed."""
    head = ChangeLogEntry.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    read = _note_records if kind == NOTE else _records
    records, owners = read(partner, {uuid.UUID(str(object_id)): head for object_id in ids})
    return _signed_batch(partner, records, owners, after=None, until=None, more=False, head=head)


def _signed_batch(
    partner: Node,
    records: list[dict],
    owners: set[Agency],
    *,
    after: int | None,
    until: int | None,
    more: bool,
    head: int,
) -> dict[str, Any]:
    return batch_sign(
        {
            "feed_version": FEED_VERSION,
            "origin": node_ensure_local().node_id,
            "recipient": partner.node_id,
            "after": after,
            "until": until,
            "more": more,
            "head": head,  # this node's change-log head: the partner's lag is head - until
            "issued_at": timezone.now().isoformat(),
            "records": records,
            # The owner agencies the records name, so that the partner can hold replicas.
            "agencies": {
                agency.code: {"name": agency.name, "jurisdiction": agency.jurisdiction}
                for agency in sorted(owners, key=lambda a: a.code)
            },
        }
    )


def _records(partner: Node, last_seq: dict[Any, int]) -> tuple[list[dict], set[Agency]]:
    """Records for the objects in `last_seq` (id -> sequence), in sequence order, and the
    offers updated to match: an upsert for what the partner may see, a retraction for what it
    was shown before and may not see now, nothing for the rest."""
    ids = list(last_seq)
    if not ids:
        return [], set()
    visible = {
        d.pk: d for d in _servable(partner).filter(pk__in=ids).select_related("owner", "regime")
    }
    contents = designations_data(list(visible.values()))
    audiences = _audiences(partner, list(visible))
    offered = _offered(partner, DESIGNATION, ids)
    records = []
    shown: dict[Any, int] = {}
    dropped: dict[Any, int] = {}
    for object_id, seq in sorted(last_seq.items(), key=lambda item: item[1]):
        designation = visible.get(object_id)
        if designation is not None:
            records.append(
                _designation_record(designation, seq, audiences[object_id], contents[object_id])
            )
            shown[object_id] = designation.version
        elif object_id in offered:
            # Shown before, not visible now: the partner must drop it.
            records.append(
                {"seq": seq, "type": DESIGNATION, "id": str(object_id), "action": "retract"}
            )
            dropped[object_id] = seq
    _offer(partner, DESIGNATION, shown, dropped)
    return records, {d.owner for d in visible.values()}


def _note_records(partner: Node, last_seq: dict[Any, int]) -> tuple[list[dict], set[Agency]]:
    """Notes written here (by this node's agencies) that the partner's agencies may see;
    retractions for those shown before and not visible now."""
    ids = list(last_seq)
    if not ids:
        return [], set()
    visible = {
        n.pk: n
        for n in _servable_notes(partner).filter(pk__in=ids).select_related("owner", "author")
    }
    audiences = _audiences(partner, list(visible), access.notes_for)
    offered = _offered(partner, NOTE, ids)
    records = []
    shown: dict[Any, int] = {}
    dropped: dict[Any, int] = {}
    for object_id, seq in sorted(last_seq.items(), key=lambda item: item[1]):
        note = visible.get(object_id)
        if note is not None:
            records.append(
                {
                    "seq": seq,
                    "type": NOTE,
                    "id": str(note.pk),
                    "action": "upsert",
                    "version": note.version,
                    "owner": note.owner.code,
                    "designation": str(note.designation_id) if note.designation_id else None,
                    "audience": audiences[note.pk],
                    "data": {
                        "title": note.title,
                        "body": note.body,
                        "marking": note.marking,
                        "author": note.author.get_full_name() or note.author.get_username()
                        if note.author
                        else "",
                        "written_at": note.created_at.isoformat(),
                    },
                }
            )
            shown[object_id] = note.version
        elif object_id in offered:
            records.append({"seq": seq, "type": NOTE, "id": str(object_id), "action": "retract"})
            dropped[object_id] = seq
    _offer(partner, NOTE, shown, dropped)
    return records, {n.owner for n in visible.values()}


def _servable_proposals(partner: Node) -> QuerySet[AmendmentProposal]:
    """A proposal goes between two nodes only: from the proposer's to the designation owner's
    (the content), and back (the decision)."""
    return AmendmentProposal.objects.filter(
        Q(proposer__home_node__is_local=True, designation__owner__home_node=partner)
        | Q(designation__owner__home_node__is_local=True, proposer__home_node=partner)
    )


def _proposal_records(partner: Node, last_seq: dict[Any, int]) -> list[dict]:
    if not last_seq:
        return []
    proposals = _servable_proposals(partner).filter(pk__in=list(last_seq))
    return [
        {
            "seq": last_seq[p.pk],
            "type": PROPOSAL,
            "id": str(p.pk),
            "action": "upsert",
            "version": p.version,
            "designation": str(p.designation_id),
            "proposer": p.proposer.code,
            "data": {
                "kind": p.kind,
                "changes": p.changes,
                "reason": p.reason,
                "proposed_by_name": p.proposed_by_name,
                "based_on_version": p.based_on_version,
            },
            "decision": {
                "status": p.status,
                "reason": p.decision_reason,
                "decided_by_name": p.decided_by_name,
                "decided_at": p.decided_at.isoformat() if p.decided_at else None,
                "resulting_version": p.resulting_version,
            },
        }
        for p in proposals.select_related("proposer")
    ]


def _attachments_of(parent_seq: dict[Any, int]) -> dict[Any, int]:
    if not parent_seq:
        return {}
    rows = Attachment.objects.filter(
        Q(designation_id__in=list(parent_seq)) | Q(note_id__in=list(parent_seq))
    ).values_list("pk", "designation_id", "note_id")
    return {pk: parent_seq[designation or note] for pk, designation, note in rows}


def servable_attachments(partner: Node) -> QuerySet[Attachment]:
    """Files the partner's agencies may download, on objects this node owns."""
    return access.attachments_for(partner, Level.DOWNLOAD).filter(owner__home_node__is_local=True)


def _attachment_records(partner: Node, last_seq: dict[Any, int]) -> list[dict]:
    """Metadata and the data key wrapped for the partner's X25519 key; the partner fetches the
    ciphertext itself (GET /sync/v1/attachments/<id>/content) and never sees a plaintext."""
    from designations.attachments import data_key_of

    ids = list(last_seq)
    if not ids:
        return []
    visible = {a.pk: a for a in servable_attachments(partner).filter(pk__in=ids)}
    offered = _offered(partner, ATTACHMENT, ids)
    records = []
    shown: dict[Any, int] = {}
    dropped: dict[Any, int] = {}
    for object_id, seq in sorted(last_seq.items(), key=lambda item: item[1]):
        attachment = visible.get(object_id)
        if attachment is not None:
            parent = (
                {"type": DESIGNATION, "id": str(attachment.designation_id)}
                if attachment.designation_id
                else {"type": NOTE, "id": str(attachment.note_id)}
            )
            records.append(
                {
                    "seq": seq,
                    "type": ATTACHMENT,
                    "id": str(attachment.pk),
                    "action": "upsert",
                    "version": attachment.version,
                    "owner": attachment.owner.code,
                    "parent": parent,
                    "data": {
                        "original_name": attachment.original_name,
                        "content_type": attachment.content_type,
                        "size": attachment.size,
                        "sha256": attachment.sha256,
                    },
                    "wrapped_key": wrap_for_node(
                        partner,
                        data_key_of(attachment),
                        attachment_id=str(attachment.pk),
                        version=attachment.version,
                    ),
                }
            )
            shown[object_id] = attachment.version
        elif object_id in offered:
            records.append(
                {"seq": seq, "type": ATTACHMENT, "id": str(object_id), "action": "retract"}
            )
            dropped[object_id] = seq
    _offer(partner, ATTACHMENT, shown, dropped)
    return records


def _servable_notes(partner: Node) -> QuerySet[IntelligenceNote]:
    """Notes this node's agencies wrote that the partner's agencies may see (a note travels
    from its owner's home node, also back to the node that owns its designation)."""
    return access.notes_for(partner).filter(owner__home_node__is_local=True)


def _servable(partner: Node) -> QuerySet[Designation]:
    """What this node serves `partner`: what its agencies may see, of what this node owns (a
    replica is served by its owner's home node alone)."""
    return access.designations_for(partner).filter(owner__home_node__is_local=True)
