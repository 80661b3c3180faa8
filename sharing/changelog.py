"""Appending to the change log. Callers must already be inside the change's transaction."""

from __future__ import annotations

import uuid

from django.db import transaction

from sharing.models import ChangeAction, ChangeLogEntry


def _require_transaction() -> None:
    # Outside a transaction the change and its log row could be split by a crash; refuse.
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("the change log must be written inside the change's transaction")


def change_log_append(
    *, object_type: str, object_id: uuid.UUID, version: int, action: ChangeAction
) -> ChangeLogEntry:
    _require_transaction()
    return ChangeLogEntry.objects.create(
        object_type=object_type, object_id=object_id, version=version, action=action
    )


def change_log_append_many(entries: list[ChangeLogEntry]) -> list[ChangeLogEntry]:
    """Bulk form for imports; rows get their sequence numbers in list order."""
    _require_transaction()
    return ChangeLogEntry.objects.bulk_create(entries)
