"""Push, both halves: after a change commits, this node sends a partner the next batch of its
feed (POST /sync/v1/inbox); the partner applies it if it starts at its cursor, and answers with
the last sequence it holds.

A push only shortens the wait: the pull remains the way in. A pushed batch that is late,
repeated or out of order is answered with the receiver's cursor and changes nothing (the
sender starts again from that cursor); one that arrives while a pull is running makes that
pull go round again; one that is lost is brought by the next pull.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from agencies.models import Node
from sharing.models import ChangeLogEntry, PartnerSync
from sharing.sync_apply import BatchRejected, batch_check
from sharing.sync_client import apply_at_cursor, claim
from sharing.sync_feed import MAX_BATCH, feed_batch
from sharing.sync_http import PartnerUnavailable, partner_request

logger = logging.getLogger("sharing.sync")

APPLIED, DUPLICATE, GAP, BUSY = "applied", "duplicate", "gap", "busy"
LEFT_TO_PULL = "left to the partner's pull"
MAX_PUSHED_BATCHES = 4  # a larger backlog is left to the partner's pull


@dataclass
class PushResult:
    partner: str
    batches: int = 0
    cursor: int = 0
    status: str = ""


def push_to(partner: Node) -> PushResult:
    """Send `partner` what it has not read of this node's feed, a batch at a time, from where
    it last said it was. Raises PartnerUnavailable (the task retries with backoff)."""
    state, _ = PartnerSync.objects.get_or_create(partner=partner)
    result = PushResult(partner=partner.node_id, cursor=state.partner_cursor)
    after = state.partner_cursor
    head = ChangeLogEntry.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    if head - after > MAX_PUSHED_BATCHES * MAX_BATCH:
        # Far behind (or down for a while): its own pull reads the backlog; building batches
        # here for a partner that may not answer would only slow the pushes to the others.
        result.status = LEFT_TO_PULL
        return result
    for _ in range(MAX_PUSHED_BATCHES):
        batch = feed_batch(partner=partner, after=after)
        if batch["until"] == after and result.batches:
            break  # nothing more since the last batch
        answer = partner_request(partner, "POST", "/sync/v1/inbox", json.dumps(batch).encode())
        cursor = answer.get("cursor")
        if not isinstance(cursor, int):
            raise PartnerUnavailable(f"{partner.node_id} answered a push without its cursor")
        PartnerSync.objects.filter(pk=state.pk).update(
            partner_cursor=cursor, last_push_at=timezone.now()
        )
        result.status, result.cursor = answer.get("status", ""), cursor
        result.batches += 1
        if result.status == BUSY or (result.status == APPLIED and not batch["more"]):
            break
        if result.status in (DUPLICATE, GAP) and cursor == after:
            break  # it is where we started and did not take the batch: its pull will do
        after = cursor  # the partner said where it is: go on from there
    logger.info(
        f"sync push to {partner.node_id}: {result.status}, cursor {result.cursor}",
        extra={"event": "push", **vars(result)},
    )
    return result


def inbox_accept(partner: Node, batch: Any) -> tuple[str, int]:
    """A batch pushed by `partner`: applied if it starts at this node's cursor for it. Returns
    the outcome and the cursor after it. Raises BatchRejected (audited) for a batch that does
    not verify or does not say where it starts and ends."""
    batch_check(origin=partner, batch=batch)
    if not isinstance(batch.get("after"), int) or not isinstance(batch.get("until"), int):
        raise BatchRejected("a pushed batch must say where it starts and ends")
    state, _ = PartnerSync.objects.get_or_create(partner=partner)
    if batch["until"] <= state.cursor:
        return DUPLICATE, state.cursor  # held already (a repeat, or a late one)
    if batch["after"] != state.cursor:
        _pull_soon(partner)  # this node is behind what the partner thought: read its feed
        return GAP, state.cursor
    if not claim(state):
        PartnerSync.objects.filter(pk=state.pk).update(pull_wanted_at=timezone.now())
        return BUSY, state.cursor
    try:
        applied = apply_at_cursor(partner, state, batch)
    except BaseException:
        PartnerSync.objects.filter(pk=state.pk).update(lease_until=None)
        raise
    now = timezone.now()
    PartnerSync.objects.filter(pk=state.pk).update(
        lease_until=None, last_error="", last_pull_at=now, last_success_at=now
    )
    logger.info(
        f"sync push from {partner.node_id} applied: cursor {batch['until']}",
        extra={
            "event": "push_applied",
            "partner": partner.node_id,
            "cursor": batch["until"],
            "applied": applied.applied,
            "retracted": applied.retracted,
            "held": len(applied.held),
        },
    )
    if applied.held:
        _pull_soon(partner)  # held records are retried by the pull
    return APPLIED, batch["until"]


def _pull_soon(partner: Node) -> None:
    from sharing.tasks import sync_pull_partner

    try:
        sync_pull_partner.delay(partner.node_id)
    except Exception:  # the broker is down: the periodic pull comes all the same
        logger.warning("could not queue a pull from %s", partner.node_id, exc_info=True)
