"""Talking to partner nodes (this node as the client): signed HTTP requests, and the pull run
that reads a partner's feed from the stored cursor and applies it.

One run per partner at a time: a run claims the partner's lease with a conditional UPDATE
(healthchecks' pattern), which works the same on SQLite and PostgreSQL and with any number of
workers. The cursor moves only after a batch is applied (and its unappliable records held),
in the same transaction, so a worker killed mid-batch leaves the cursor where it was and the
next run applies the batch again, which changes nothing twice.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import random
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from agencies.models import Node
from sharing.models import PartnerSync, SyncHeld
from sharing.sync_apply import (
    ApplyResult,
    BatchRejected,
    batch_apply,
    batch_check,
    record_apply,
)
from sharing.sync_feed import DESIGNATION, NOTE, batch_verify
from sharing.sync_http import PartnerUnavailable, partner_request, partner_send, signed_request
from sharing.sync_manifest import digests, held_lines, kind_of

logger = logging.getLogger("sharing.sync")


def _lease() -> dt.timedelta:
    # Renewed with every batch; a worker killed mid-run holds it at most this long.
    return dt.timedelta(seconds=settings.SYNC_LEASE_SECONDS)


@dataclass
class PullResult:
    partner: str
    batches: int = 0
    cursor: int = 0
    applied: int = 0
    retracted: int = 0
    conflicts: int = 0
    held: int = 0
    skipped: bool = False  # another run holds the lease


def claim(state: PartnerSync) -> bool:
    now = timezone.now()
    claimed = PartnerSync.objects.filter(
        Q(lease_until__isnull=True) | Q(lease_until__lt=now), pk=state.pk
    ).update(lease_until=now + _lease())
    return claimed == 1


def sync_pull(partner: Node, *, max_batches: int = 1000) -> PullResult:
    """Read `partner`'s feed from the stored cursor until it has nothing more, applying each
    batch. Raises PartnerUnavailable or BatchRejected (recorded as the last error)."""
    state, _ = PartnerSync.objects.get_or_create(partner=partner)
    result = PullResult(partner=partner.node_id, cursor=state.cursor)
    if not claim(state):
        # Another run is reading this partner's feed: it goes round once more when done.
        PartnerSync.objects.filter(pk=state.pk).update(pull_wanted_at=timezone.now())
        result.skipped = True
        return result
    # The next batch is read while this one is applied (the partner builds it meanwhile).
    reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"feed-{partner.node_id}")
    try:
        _retry_held(partner, result)
        for _round in range(MAX_ROUNDS):
            started = timezone.now()
            _read_to_head(partner, state, reader, result, max_batches)
            if not PartnerSync.objects.filter(pk=state.pk, pull_wanted_at__gte=started).exists():
                break
    except (PartnerUnavailable, BatchRejected) as error:
        PartnerSync.objects.filter(pk=state.pk).update(
            last_error=str(error),
            last_pull_at=timezone.now(),
            lease_until=None,
            failures=F("failures") + 1,
        )
        logger.warning(
            "sync pull failed",
            extra={"event": "pull_failed", "partner": partner.node_id, "error": str(error)},
        )
        raise
    except BaseException:
        PartnerSync.objects.filter(pk=state.pk).update(lease_until=None)
        raise
    finally:
        reader.shutdown(wait=True, cancel_futures=True)
    now = timezone.now()
    PartnerSync.objects.filter(pk=state.pk).update(
        last_error="", last_pull_at=now, last_success_at=now, lease_until=None, failures=0
    )
    logger.info(
        f"sync pull from {partner.node_id}: cursor {result.cursor}",
        extra={"event": "pull", **vars(result)},
    )
    return result


MAX_ROUNDS = 3  # a run asked to go round again while busy; then the periodic pull takes over


def _read_to_head(
    partner: Node,
    state: PartnerSync,
    reader: ThreadPoolExecutor,
    result: PullResult,
    max_batches: int,
) -> None:
    state.refresh_from_db()
    upcoming = _read_feed(reader, partner, state.cursor)
    for _ in range(max_batches):
        batch = upcoming.result()
        if batch.get("more") and isinstance(batch.get("until"), int):
            upcoming = _read_feed(reader, partner, batch["until"])
        batch_check(origin=partner, batch=batch)  # a refusal is audited, not rolled back
        _count(result, apply_at_cursor(partner, state, batch))
        result.batches += 1
        result.cursor = int(batch["until"])
        if not batch.get("more"):
            break


def apply_at_cursor(partner: Node, state: PartnerSync, batch: dict[str, Any]) -> ApplyResult:
    """Apply a checked batch that starts at the stored cursor and move the cursor to its end,
    in one transaction (a batch that starts elsewhere is refused: nothing is skipped). The
    caller holds the partner's lease, which this renews."""
    with transaction.atomic():
        cursor = PartnerSync.objects.select_for_update().values_list("cursor", flat=True)
        current = cursor.get(pk=state.pk)
        if batch.get("after") != current:
            raise BatchRejected(
                f"the batch starts after {batch.get('after')!r}, this node is at {current}"
            )
        applied = batch_apply(origin=partner, batch=batch)
        PartnerSync.objects.filter(pk=state.pk).update(
            cursor=max(current, int(batch["until"])),
            partner_head=int(batch.get("head") or batch["until"]),
            lease_until=timezone.now() + _lease(),
        )
    return applied


def pull_due(state: PartnerSync | None, now: dt.datetime) -> bool:
    """Whether the periodic pull should read this partner now: always, unless its last pulls
    failed; then after 2, 4, 8... periods (at most 10 minutes), with jitter, so that a partner
    that is down is not called every period by every node."""
    if state is None or not state.failures or state.last_pull_at is None:
        return True
    period = settings.SYNC_PULL_SECONDS
    wait = min(period * 2 ** min(state.failures, 10), 600) * random.uniform(0.8, 1.2)  # noqa: S311
    return now >= state.last_pull_at + dt.timedelta(seconds=wait)


def _read_feed(reader: ThreadPoolExecutor, partner: Node, after: int) -> Future[dict[str, Any]]:
    request = signed_request(partner, "GET", f"/sync/v1/feed?after={after}")
    return reader.submit(partner_send, partner.node_id, request)


def _retry_held(partner: Node, result: PullResult) -> None:
    """Records held earlier are tried again first: what they waited for may be here now."""
    for held in SyncHeld.objects.filter(partner=partner).order_by("seq"):
        applied = ApplyResult()
        record_apply(origin=partner, record=held.record, directory={}, result=applied)
        _count(result, applied)


def _count(result: PullResult, applied: ApplyResult) -> None:
    result.applied += applied.applied
    result.retracted += applied.retracted
    result.conflicts += applied.conflicts
    result.held += len(applied.held)


@dataclass
class ReconcileResult:
    partner: str
    buckets_differing: int = 0
    fetched: int = 0
    dropped: int = 0
    skipped: bool = False

    @property
    def drift(self) -> int:
        return self.fetched + self.dropped


def _verified(partner: Node, body: dict[str, Any]) -> dict[str, Any]:
    from agencies.services import node_ensure_local

    if not batch_verify(partner, body) or body.get("recipient") != node_ensure_local().node_id:
        raise BatchRejected(f"the answer from {partner.node_id} does not verify")
    return body


def sync_reconcile(partner: Node) -> ReconcileResult:
    """Compare digests of what `partner` says this node should hold with what it holds; fetch
    what is missing or stale, drop what is extra; record the drift found."""
    state, _ = PartnerSync.objects.get_or_create(partner=partner)
    result = ReconcileResult(partner=partner.node_id)
    if not claim(state):
        result.skipped = True
        return result
    try:
        remote = _verified(partner, partner_request(partner, "GET", "/sync/v1/manifest"))
        held = held_lines(partner)
        mine = digests(held)
        for bucket, summary in remote["buckets"].items():
            if mine.get(bucket) == summary:
                continue
            result.buckets_differing += 1
            PartnerSync.objects.filter(pk=state.pk).update(lease_until=timezone.now() + _lease())
            answer = _verified(
                partner, partner_request(partner, "GET", f"/sync/v1/manifest?bucket={bucket}")
            )
            theirs = {text.split(":")[0]: text for text in answer["lines"]}
            ours = {text.split(":")[0]: text for text in held.get(bucket, [])}
            stale = [pk for pk, text in theirs.items() if ours.get(pk) != text]
            extra = [pk for pk in ours if pk not in theirs]
            for kind in (DESIGNATION, NOTE):  # designations first: notes are about them
                ids = [pk for pk in stale if kind_of(theirs[pk]) == kind]
                for start in range(0, len(ids), 200):
                    body = {"ids": ids[start : start + 200], "type": kind}
                    batch = partner_request(
                        partner, "POST", "/sync/v1/objects", json.dumps(body).encode()
                    )
                    batch_check(origin=partner, batch=batch)
                    with transaction.atomic():
                        batch_apply(origin=partner, batch=batch)
            if extra:
                # What the origin no longer serves us: dropped, as a retraction would.
                with transaction.atomic():
                    for pk in extra:
                        record_apply(
                            origin=partner,
                            record={"type": kind_of(ours[pk]), "id": pk, "action": "retract"},
                            directory={},
                            result=ApplyResult(),
                        )
            result.fetched += len(stale)
            result.dropped += len(extra)
    except (PartnerUnavailable, BatchRejected) as error:
        PartnerSync.objects.filter(pk=state.pk).update(last_error=str(error), lease_until=None)
        raise
    except BaseException:
        PartnerSync.objects.filter(pk=state.pk).update(lease_until=None)
        raise
    PartnerSync.objects.filter(pk=state.pk).update(
        last_reconcile_at=timezone.now(), last_drift=result.drift, lease_until=None
    )
    logger.info(
        f"reconcile with {partner.node_id}: drift {result.drift}",
        extra={"event": "reconcile", "drift": result.drift, **vars(result)},
    )
    return result
