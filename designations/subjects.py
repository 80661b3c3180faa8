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

    def visible(ids: set[Any]) -> set[Any]:
        return set(
            access.designations_for(principal).filter(pk__in=ids).values_list("pk", flat=True)
        )

    subject = subject_of(designation.pk, within=visible)
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
    """Candidate links that touch my agency's listings, between designations I may both see,
    best first. Each agency judges the links of its own listings: a judgement is kept by later
    runs and decides what other agencies see as the same subject."""
    agency_id = getattr(principal, "agency_id", None)
    if agency_id is None:
        return SubjectLink.objects.none()
    visible = access.designations_for(principal).values("pk")
    return (
        SubjectLink.objects.filter(status=LinkStatus.CANDIDATE)
        .filter(Q(left__owner_id=agency_id) | Q(right__owner_id=agency_id))
        .filter(left__in=visible, right__in=visible)
        .select_related("left__owner", "right__owner", "left__regime", "right__regime")
        .order_by("-score", "id")
    )


def link_decide(*, actor: User, link: SubjectLink, confirm: bool, reason: str) -> SubjectLink:
    """A liaison's judgement on a link; later reconciliation runs keep it."""
    if not isinstance(actor, User) or actor.agency_id is None:
        raise PermissionDenied("Links are judged from an agency account.")
    if not links_to_review(actor).filter(pk=link.pk).exists():
        audit_record(AuditAction.DENIED, detail={"attempt": "judge link", "link": link.pk})
        raise PermissionDenied("Links are judged by the agencies whose listings they join.")
    if not reason.strip():
        raise ValidationError({"reason": "Say why."})
    decided_at = timezone.now()
    # Only a link still awaiting review: a reconciliation run may have dropped or changed it.
    judged = SubjectLink.objects.filter(pk=link.pk, status=LinkStatus.CANDIDATE).update(
        status=LinkStatus.CONFIRMED if confirm else LinkStatus.REJECTED,
        decided_by=actor,
        decided_at=decided_at,
        decision_reason=reason.strip(),
    )
    if not judged:
        raise ValidationError({"link": "This possible match is no longer awaiting review."})
    link.refresh_from_db()
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
