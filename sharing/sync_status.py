"""What the sync status page and `sync status` show: per partner, where its feed stands here,
how far behind it is, how the last runs went, and what is held or conflicting."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone

from agencies.models import Node
from sharing.models import ChangeLogEntry, PartnerSync, SyncConflict, SyncHeld
from sharing.sync_feed import partners


@dataclass
class PartnerStatus:
    partner: Node
    state: PartnerSync
    lag_changes: int
    lag_seconds: int | None
    held: QuerySet[SyncHeld]
    conflicts: int


def sync_overview() -> tuple[int, list[PartnerStatus]]:
    head = ChangeLogEntry.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    rows = []
    now = timezone.now()
    for partner in partners().order_by("node_id"):
        state, _ = PartnerSync.objects.get_or_create(partner=partner)
        lag = max(0, state.partner_head - state.cursor)
        since = state.last_success_at
        rows.append(
            PartnerStatus(
                partner=partner,
                state=state,
                lag_changes=lag,
                # Seconds since the feed was last read to its end: how stale this copy may be.
                lag_seconds=int((now - since).total_seconds()) if since else None,
                held=SyncHeld.objects.filter(partner=partner).order_by("seq"),
                conflicts=SyncConflict.objects.filter(partner=partner).count(),
            )
        )
    return head, rows
