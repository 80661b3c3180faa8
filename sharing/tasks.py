"""Celery tasks of the sharing core. Tasks take ids, call one function, and are idempotent."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from agencies.models import Node


@shared_task(ignore_result=True)
def node_heartbeat() -> None:
    """Beat -> broker -> worker -> database: the sync status page shows this node is alive."""
    Node.objects.filter(is_local=True).update(last_heartbeat_at=timezone.now())
