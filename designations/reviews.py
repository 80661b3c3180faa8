"""Review tasks: a delisting by the UN asks every agency that lists the same subject to decide
whether its own listing stands (many regimes implement UN listings; a UN delisting usually
means theirs should go too, but each authority decides)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.utils import timezone

from agencies.models import User
from designations.models import Designation, DesignationStatus, ReviewTask
from designations.reconcile import subject_of
from sharing import access
from sharing.audit import audit_record
from sharing.models import AuditAction


def open_reviews_for_delistings(designation_ids: Iterable[Any]) -> int:
    """For each delisted UN designation, a task for every other agency's active listing of the
    same subject. Returns how many tasks were opened."""
    un_code = settings.LIST_PUBLISHER_AGENCIES.get("un", "")
    delisted = Designation.objects.filter(
        pk__in=list(designation_ids), owner__code=un_code, status=DesignationStatus.DELISTED
    ).values_list("pk", "delisted_on")
    tasks = []
    for cause_id, delisted_on in delisted:
        linked = (
            Designation.objects.filter(pk__in=subject_of(cause_id) - {cause_id})
            .exclude(owner__code=un_code)
            .exclude(status=DesignationStatus.DELISTED)
            # Asked where someone can answer: agencies hosted here (replicas' owners are
            # asked on their own nodes, which reconcile the same delisting).
            .filter(owner__home_node__is_local=True)
            .values_list("pk", "owner_id")
        )
        for designation_id, owner_id in linked:
            tasks.append(
                ReviewTask(
                    agency_id=owner_id,
                    designation_id=designation_id,
                    cause_id=cause_id,
                    # What the UN listing was is shown to those who may see it (the page).
                    reason="The UN delisted this subject"
                    + (f" on {delisted_on:%Y-%m-%d}" if delisted_on else "")
                    + ": does your listing stand?",
                )
            )
    # A listing is asked once per cause: not again on later runs, nor after it was closed.
    asked = set(
        ReviewTask.objects.filter(cause_id__in=[t.cause_id for t in tasks]).values_list(
            "designation_id", "cause_id"
        )
    )
    fresh = [t for t in tasks if (t.designation_id, t.cause_id) not in asked]
    ReviewTask.objects.bulk_create(fresh)
    return len(fresh)


def open_reviews_for_all_delistings() -> int:
    """The same for every delisted UN designation this node holds (replicas included), for
    delistings that arrived by sync."""
    un_code = settings.LIST_PUBLISHER_AGENCIES.get("un", "")
    return open_reviews_for_delistings(
        Designation.objects.filter(
            owner__code=un_code, status=DesignationStatus.DELISTED
        ).values_list("pk", flat=True)
    )


def open_reviews_for(user: Any) -> QuerySet[ReviewTask]:
    """My agency's open tasks about listings I may see (a TLP:RED listing is for the people
    named on it, even within the agency)."""
    agency_id = getattr(user, "agency_id", None)
    if agency_id is None:
        return ReviewTask.objects.none()
    return (
        ReviewTask.objects.filter(agency_id=agency_id, closed_at__isnull=True)
        .filter(designation__in=access.designations_for(user).values("pk"))
        .select_related("designation", "cause__owner")
        .order_by("created_at", "id")
    )


def cause_visible(user: Any, tasks: list[ReviewTask]) -> None:
    """Mark each task with whether the user may see the delisted designation it is about;
    the page links to it, and names its reference, only then."""
    causes = {t.cause_id for t in tasks}
    seen = set(access.designations_for(user).filter(pk__in=causes).values_list("pk", flat=True))
    for task in tasks:
        task.cause_shown = task.cause_id in seen


def review_close(*, actor: User, task: ReviewTask, outcome: str) -> ReviewTask:
    """A publisher of the agency records what it decided (delisted too, or keeps the listing
    and why)."""
    if actor.agency_id != task.agency_id or actor.role not in {"publisher", "agency_admin"}:
        raise PermissionDenied("A publisher of the agency closes its review tasks.")
    if not outcome.strip():
        raise ValidationError({"outcome": "Say what your agency decided."})
    task.closed_at, task.closed_by, task.outcome = timezone.now(), actor, outcome.strip()
    task.save(update_fields=["closed_at", "closed_by", "outcome"])
    audit_record(
        AuditAction.CHANGE,
        obj=task.designation,
        detail={"review_task": task.pk, "outcome": task.outcome},
    )
    return task
