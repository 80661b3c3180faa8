"""The dashboard: what is new for a person since their previous sign-in, their agency's
pending work, and how sync with partner nodes stands. Everything through the gate."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from agencies.models import User
from designations.models import (
    AmendmentProposal,
    Designation,
    IntelligenceNote,
    ProposalStatus,
    ReviewTask,
)
from designations.reviews import cause_visible, open_reviews_for
from sharing import access
from sharing.models import AuditAction, AuditEntry

RECENT = 20
FIRST_VISIT = dt.timedelta(days=7)  # with no earlier sign-in: the last week


@dataclass
class Dashboard:
    since: dt.datetime
    first_visit: bool
    changed: list[Designation]
    changed_count: int
    notes: list[IntelligenceNote]
    proposals_to_decide: list[AmendmentProposal]
    proposals_waiting: list[AmendmentProposal]
    reviews: list[ReviewTask] = field(default_factory=list)
    sync: list[Any] = field(default_factory=list)
    sync_trouble: int = 0


def previous_sign_in(user: User) -> dt.datetime | None:
    """When this person signed in before this session (the audit log keeps each sign-in)."""
    times = list(
        AuditEntry.objects.filter(action=AuditAction.LOGIN, actor=user)
        .order_by("-at")
        .values_list("at", flat=True)[:2]
    )
    return times[1] if len(times) == 2 else None


def dashboard_for(user: User) -> Dashboard:
    previous = previous_sign_in(user)
    since = previous or timezone.now() - FIRST_VISIT
    changed = access.designations_for(user).filter(updated_at__gt=since)
    proposals = access.proposals_for(user).filter(status=ProposalStatus.OPEN)
    board = Dashboard(
        since=since,
        first_visit=previous is None,
        changed=list(changed.select_related("owner", "regime").order_by("-updated_at")[:RECENT]),
        changed_count=changed.count(),
        notes=list(
            access.notes_for(user)
            .filter(created_at__gt=since)
            .select_related("owner", "designation")
            .order_by("-created_at")[:RECENT]
        ),
        proposals_to_decide=list(
            proposals.filter(designation__owner=user.agency)
            .select_related("designation", "proposer")
            .order_by("created_at")[:RECENT]
        ),
        proposals_waiting=list(
            proposals.filter(proposer=user.agency)
            .select_related("designation")
            .order_by("created_at")[:RECENT]
        ),
    )
    board.reviews = list(open_reviews_for(user)[:RECENT])
    cause_visible(user, board.reviews)
    if user.is_superuser:
        from sharing.sync_status import sync_overview

        _head, board.sync = sync_overview()
        board.sync_trouble = sum(
            1 for row in board.sync if row.state.last_error or row.held.exists()
        )
    return board
