"""The same subject across jurisdictions, as a liaison sees it: the designations linked to
one (through the gate: only those the person may see), and the review of candidate links."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.utils import timezone

from agencies.models import User
from designations.models import Designation, LinkStatus, SubjectLink
from designations.reconcile import subject_of
from sharing import access
from sharing.audit import audit_record
from sharing.models import AuditAction


@dataclass
class Linked:
    designation: Designation
    link: SubjectLink | None  # the direct link, if any (else joined through others)

    @property
    def certain(self) -> bool:
        return self.link is None or self.link.status in SubjectLink.JOINING


def linked_designations(principal: Any, designation: Designation) -> list[Linked]:
    """Designations of the same subject (and candidates awaiting review) that `principal`
    may see, other than this one."""
    subject = subject_of(designation.pk)
    direct = {
        (link.right_id if link.left_id == designation.pk else link.left_id): link
        for link in SubjectLink.objects.filter(
            Q(left_id=designation.pk) | Q(right_id=designation.pk)
        ).exclude(status=LinkStatus.REJECTED)
    }
    others = (subject | set(direct)) - {designation.pk}
    if not others:
        return []
    visible = (
        access.designations_for(principal)
        .filter(pk__in=others)
        .select_related("owner", "regime")
        .order_by("listed_on", "name")
    )
    return [Linked(d, direct.get(d.pk)) for d in visible]


def links_to_review(principal: Any) -> QuerySet[SubjectLink]:
    """Candidate links between designations the person may both see, best first."""
    visible = access.designations_for(principal).values("pk")
    return (
        SubjectLink.objects.filter(status=LinkStatus.CANDIDATE)
        .filter(left__in=visible, right__in=visible)
        .select_related("left__owner", "right__owner", "left__regime", "right__regime")
        .order_by("-score", "id")
    )


def link_decide(*, actor: User, link: SubjectLink, confirm: bool, reason: str) -> SubjectLink:
    """A liaison's judgement on a link; later reconciliation runs keep it."""
    if not isinstance(actor, User) or actor.agency_id is None:
        raise PermissionDenied("Links are judged from an agency account.")
    seen = access.designations_for(actor).filter(pk__in=[link.left_id, link.right_id]).count()
    if seen != 2:
        audit_record(AuditAction.DENIED, detail={"attempt": "judge link", "link": link.pk})
        raise PermissionDenied("You may not see both designations.")
    if not reason.strip():
        raise ValidationError({"reason": "Say why."})
    link.status = LinkStatus.CONFIRMED if confirm else LinkStatus.REJECTED
    link.decided_by, link.decided_at = actor, timezone.now()
    link.decision_reason = reason.strip()
    link.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
    audit_record(
        AuditAction.CHANGE,
        obj=link.left,
        detail={
            "link": link.pk,
            "with": str(link.right_id),
            "decision": link.status,
            "reason": link.decision_reason,
        },
    )
    return link
