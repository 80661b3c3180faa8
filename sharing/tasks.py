"""Celery tasks of the sharing core. Tasks take ids, call one function, and are idempotent."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from agencies.models import Node
from designations.tasks import reconcile_soon
from sharing.changelog import ALL_OBJECTS
from sharing.sync_apply import BatchRejected
from sharing.sync_client import pull_due, sync_pull, sync_reconcile
from sharing.sync_feed import affects, partners
from sharing.sync_http import PartnerUnavailable
from sharing.sync_push import push_to


@shared_task(ignore_result=True)
def node_heartbeat() -> None:
    """Beat -> broker -> worker -> database: the sync status page shows this node is alive."""
    Node.objects.filter(is_local=True).update(last_heartbeat_at=timezone.now())


# Sync between nodes. The change log is the source of truth and every run starts from the
# stored cursor, so a lost, duplicated or reordered message costs a delay, never a change.
SYNC_TASK = {
    "acks_late": True,  # a worker killed mid-run leaves the message to be delivered again
    "ignore_result": True,
}


@shared_task(**SYNC_TASK)
def sync_pull_partner(node_id: str) -> None:
    """Read one partner's feed from the stored cursor and apply it. Not retried by Celery: the
    periodic pull is the retry, backing off while the partner fails (sync_client.pull_due)."""
    partner = partners().filter(node_id=node_id).first()
    if partner is None:
        return
    try:
        result = sync_pull(partner)
    except (PartnerUnavailable, BatchRejected):
        return  # recorded on the partner's sync state (and audited when refused)
    if result.applied or result.retracted:
        reconcile_soon()  # new designations may name subjects listed here


@shared_task(**SYNC_TASK)
def sync_pull_all() -> None:
    """Beat: a pull from every partner that is due, so a missed push is caught up without
    anyone acting."""
    now = timezone.now()
    for partner in partners().select_related("sync"):
        if pull_due(getattr(partner, "sync", None), now):
            sync_pull_partner.delay(partner.node_id)


@shared_task(
    **SYNC_TASK,
    autoretry_for=(PartnerUnavailable,),
    retry_backoff=2,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=5,  # then the partner's periodic pull brings it
)
def sync_push_partner(node_id: str) -> None:
    """Push: send a partner the batches of this node's feed it has not read yet."""
    partner = partners().filter(node_id=node_id).first()
    if partner is not None:
        push_to(partner)


@shared_task(**SYNC_TASK)
def sync_push(object_type: str, object_id: str) -> None:
    """After a change commits: push to the partners it concerns (those that may see the object
    now, or were shown it before and must get a retraction)."""
    for partner in partners():
        if object_type == ALL_OBJECTS or affects(partner, object_type, object_id):
            sync_push_partner.delay(partner.node_id)


@shared_task(
    **SYNC_TASK,
    autoretry_for=(PartnerUnavailable,),
    retry_backoff=30,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=4,
)
def sync_reconcile_partner(node_id: str) -> None:
    """Compare digests with one partner and repair the difference."""
    partner = partners().filter(node_id=node_id).first()
    if partner is None:
        return
    try:
        sync_reconcile(partner)
    except BatchRejected:
        return  # recorded on the partner's sync state


@shared_task(**SYNC_TASK)
def sync_reconcile_all() -> None:
    """Beat: reconcile with every partner."""
    for node_id in partners().values_list("node_id", flat=True):
        sync_reconcile_partner.delay(node_id)
