"""Appending to the change log. Callers must already be inside the change's transaction."""

from __future__ import annotations

import uuid

from django.db import transaction

from sharing.models import ChangeAction, ChangeLogEntry


def change_log_append(
    *, object_type: str, object_id: uuid.UUID, version: int, action: ChangeAction
) -> ChangeLogEntry:
    # Outside a transaction the change and its log row could be split by a crash; refuse.
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("change_log_append must run inside the change's transaction")
    return ChangeLogEntry.objects.create(
        object_type=object_type, object_id=object_id, version=version, action=action
    )
