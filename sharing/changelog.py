"""Appending to the change log. Callers must already be inside the change's transaction."""

from __future__ import annotations

import logging
import uuid

from django.db import transaction

from sharing.models import ChangeAction, ChangeLogEntry, ChangeLogHead

logger = logging.getLogger("sharing.sync")
ALL_OBJECTS = "*"  # a push for many changes at once: every partner is told


def _require_transaction() -> None:
    # Outside a transaction the change and its log row could be split by a crash; refuse.
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("the change log must be written inside the change's transaction")
    # Sequence numbers in commit order (see ChangeLogHead): held until this change commits.
    ChangeLogHead.objects.select_for_update().get_or_create(id=1)


def change_log_append(
    *, object_type: str, object_id: uuid.UUID, version: int, action: ChangeAction
) -> ChangeLogEntry:
    _require_transaction()
    entry = ChangeLogEntry.objects.create(
        object_type=object_type, object_id=object_id, version=version, action=action
    )
    transaction.on_commit(lambda: _push(object_type, str(object_id)))
    return entry


def _push(object_type: str, object_id: str) -> None:
    """Wake the push task once the change is committed. If the broker is down, the change is
    still in the log and the periodic pull brings it to partners: log, do not fail the change."""
    from sharing.sync_feed import partners
    from sharing.tasks import sync_push

    if not partners().exists():
        return
    try:
        sync_push.delay(object_type, object_id)
    except Exception:  # the broker's errors are many and transport-specific
        logger.warning("could not queue the push of %s %s", object_type, object_id, exc_info=True)


def change_log_append_many(entries: list[ChangeLogEntry]) -> list[ChangeLogEntry]:
    """Bulk form for imports; rows get their sequence numbers in list order."""
    _require_transaction()
    created = ChangeLogEntry.objects.bulk_create(entries)
    if created:
        transaction.on_commit(lambda: _push(ALL_OBJECTS, ""))  # one wake-up for the import
    return created
