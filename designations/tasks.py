"""Background work on designations: subject reconciliation after imports and sync."""

from __future__ import annotations

import logging

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

from designations.list_sources import reimport_all
from designations.models import Designation
from designations.reconcile import reconcile
from designations.reviews import open_reviews_for_all_delistings
from designations.screening_jobs import job_claim, job_run, jobs_expire

log = logging.getLogger(__name__)
# Imports and sync batches arrive in bursts: a burst queues one run (not one per batch).
DEBOUNCE_SECONDS = 10
MAX_ROUNDS = 3
QUEUED = "reconcile-subjects-queued"


@shared_task(ignore_result=True, acks_late=True)
def reconcile_subjects() -> None:
    """Queued at once, never with a countdown: a message held unacknowledged for its ETA is
    what a broker restart loses (and kombu's restore of it can stop the worker). Designations
    that change while a run works get another round."""
    cache.delete(QUEUED)  # changes from now on queue a new run (where the cache is shared)
    for _round in range(MAX_ROUNDS):
        started = timezone.now()
        result = reconcile()
        opened = open_reviews_for_all_delistings()
        log.info("subject reconciliation: %s; %d review tasks opened", result.summary(), opened)
        if not Designation.objects.filter(updated_at__gte=started).exists():
            break


def reconcile_soon() -> None:
    """Queue a reconciliation unless this process queued one in the last few seconds (that run
    sees this change, or goes round again for it). A broker that is down costs only a delay:
    the periodic run (beat) catches up."""
    if not cache.add(QUEUED, 1, timeout=DEBOUNCE_SECONDS):
        return
    try:
        reconcile_subjects.delay()
    except Exception:
        log.warning("could not queue subject reconciliation; the periodic run will", exc_info=True)


@shared_task(ignore_result=True, acks_late=True)
def reimport_lists() -> None:
    """Beat: fetch and import every configured published list; link what changed."""
    outcomes = reimport_all()
    if any(o.result is not None and not o.result.already_imported for o in outcomes):
        reconcile_subjects()


@shared_task(ignore_result=True, acks_late=True)
def run_screening_job(job_id: str) -> None:
    """Screen a batch file's rows (queued by the portal)."""
    job = job_claim(job_id)
    if job is None:
        return  # taken by another delivery of this message, or expired
    job_run(job)


@shared_task(ignore_result=True)
def expire_screening_jobs() -> None:
    """Beat, daily: batch files are someone's customers; they go after SCREENING_JOB_DAYS."""
    jobs_expire()
