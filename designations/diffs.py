"""A readable difference between two versions of a designation, from their history snapshots:
for each field that differs, the old and new value; for lists (names, identifiers...), the
entries removed and added rather than two long lists side by side."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from designations.data import CHILDREN

HIDDEN = {"audience"}  # this node's grants: shown in the sharing panel, not as content


@dataclass
class FieldDiff:
    name: str
    old: str = ""
    new: str = ""
    removed: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)


def _entry(item: dict[str, Any]) -> str:
    """One list entry as a line: its non-empty values."""
    return " · ".join(str(value) for value in item.values() if value not in (None, "", [], {}))


def _scalar(value: Any) -> str:
    if isinstance(value, list):
        return "; ".join(str(item) for item in value)
    return "" if value is None else str(value)


def version_diff(old: dict[str, Any], new: dict[str, Any]) -> list[FieldDiff]:
    diffs = []
    for name in sorted((set(old) | set(new)) - HIDDEN):
        before, after = old.get(name), new.get(name)
        if before == after:
            continue
        if name in CHILDREN:
            was = [_entry(item) for item in before or []]
            now = [_entry(item) for item in after or []]
            diffs.append(
                FieldDiff(
                    name=name.replace("_", " "),
                    removed=[e for e in was if e not in now],
                    added=[e for e in now if e not in was],
                )
            )
        else:
            diffs.append(
                FieldDiff(name=name.replace("_", " "), old=_scalar(before), new=_scalar(after))
            )
    return diffs
