"""Background work on designations: subject reconciliation after imports and sync."""

from __future__ import annotations

import logging

from celery import shared_task
from django.core.cache import cache

from designations.list_sources import reimport_all
from designations.reconcile import reconcile
from designations.reviews import open_reviews_for_all_delistings

log = logging.getLogger(__name__)
# Imports and sync batches arrive in bursts: one run covers a burst.
DEBOUNCE_SECONDS = 30


@shared_task(ignore_result=True, acks_late=True)
def reconcile_subjects() -> None:
    result = reconcile()
    opened = open_reviews_for_all_delistings()
    log.info("subject reconciliation: %s; %d review tasks opened", result.summary(), opened)


def reconcile_soon() -> None:
    """Queue a reconciliation unless one is already queued for the next few seconds. A broker
    that is down costs only a delay: the periodic run (beat) catches up."""
    if not cache.add("reconcile-subjects-queued", 1, timeout=DEBOUNCE_SECONDS):
        return
    try:
        reconcile_subjects.apply_async(countdown=DEBOUNCE_SECONDS)
    except Exception:
        log.warning("could not queue subject reconciliation; the periodic run will", exc_info=True)


@shared_task(ignore_result=True, acks_late=True)
def reimport_lists() -> None:
    """Beat: fetch and import every configured published list; link what changed."""
    outcomes = reimport_all()
    if any(o.result is not None and not o.result.already_imported for o in outcomes):
        reconcile_subjects()
