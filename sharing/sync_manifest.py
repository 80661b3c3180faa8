"""Digests for reconciliation: what a partner should hold from this node, and what this node
holds from a partner, as (id, version, audience) lines in 16 buckets by the id's first hex
digit, for designations and notes (a note's line ends in ":note"). Equal digests mean equal
holdings; a differing bucket is compared line by line."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from typing import Any

from agencies.models import Node
from designations.models import (
    Designation,
    DesignationGroupObjectPermission,
    IntelligenceNote,
    NoteGroupObjectPermission,
)
from sharing import access
from sharing.access import DESIGNATIONS, NOTES, Level
from sharing.sync_feed import DESIGNATION, NOTE, _audiences, _servable, _servable_notes

BUCKETS = "0123456789abcdef"
LEVEL_OF = {
    codename: level
    for level in Level
    for codename in (
        f"{level.label}_{DESIGNATIONS.codename_suffix}",
        f"{level.label}_{NOTES.codename_suffix}",
    )
}


def line(object_id: Any, version: int, audience: dict[str, str], kind: str = DESIGNATION) -> str:
    grants = ",".join(f"{code}={label}" for code, label in sorted(audience.items()))
    text = f"{object_id}:{version}:{grants}"
    return text if kind == DESIGNATION else f"{text}:{kind}"


def kind_of(text: str) -> str:
    """The object type a line is about."""
    return NOTE if text.endswith(f":{NOTE}") else DESIGNATION


def bucket_of(object_id: Any) -> str:
    return str(object_id)[0]


def served_lines(partner: Node) -> dict[str, list[str]]:
    """Origin side: the lines `partner` should hold, by bucket."""
    designations = list(_servable(partner).values_list("pk", "version"))
    audiences = _audiences(partner, None)
    notes = list(_servable_notes(partner).values_list("pk", "version"))
    note_audiences = _audiences(partner, None, access.notes_for)
    return _by_bucket(
        [line(pk, version, audiences.get(pk, {})) for pk, version in designations]
        + [line(pk, version, note_audiences.get(pk, {}), NOTE) for pk, version in notes]
    )


def held_lines(origin: Node) -> dict[str, list[str]]:
    """Partner side: the lines this node holds from `origin` (its replicas and their grants)."""
    lines = []
    for kind, model, rows_model in (
        (DESIGNATION, Designation, DesignationGroupObjectPermission),
        (NOTE, IntelligenceNote, NoteGroupObjectPermission),
    ):
        rows = list(model.objects.filter(owner__home_node=origin).values_list("pk", "version"))
        audiences: dict[Any, dict[str, Level]] = defaultdict(dict)
        grants = rows_model.objects.filter(
            content_object__owner__home_node=origin, group__agency__home_node__is_local=True
        ).values_list("content_object_id", "group__agency__code", "permission__codename")
        for pk, code, codename in grants:
            level = LEVEL_OF.get(codename)
            if level is not None and level > audiences[pk].get(code, 0):
                audiences[pk][code] = level
        lines += [
            line(pk, version, {c: lv.label for c, lv in audiences.get(pk, {}).items()}, kind)
            for pk, version in rows
        ]
    return _by_bucket(lines)


def _by_bucket(lines: Any) -> dict[str, list[str]]:
    buckets: dict[str, list[str]] = {bucket: [] for bucket in BUCKETS}
    for text in lines:
        buckets[text[0]].append(text)
    return {bucket: sorted(entries) for bucket, entries in buckets.items()}


def digests(buckets: dict[str, list[str]]) -> dict[str, dict[str, Any]]:
    return {
        bucket: {
            "digest": hashlib.sha256("\n".join(entries).encode()).hexdigest(),
            "count": len(entries),
        }
        for bucket, entries in buckets.items()
    }
