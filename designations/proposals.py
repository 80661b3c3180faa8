"""Amendment proposals and disputes: services and reads.

A liaison or publisher of an agency that may see a designation but does not own it proposes
an amendment (new values for some fields) or contests fields, with a reason. A publisher of
the owner agency accepts (for an amendment: a new version of the designation, made by the
owner) or rejects, with a reason. Both acts are changes: a change-log row each, so that sync
takes the proposal to the owner's node and the decision back to the proposer's.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from agencies.models import User
from designations.data import CHILDREN, SCALAR_FIELDS
from designations.models import (
    AmendmentProposal,
    Designation,
    ProposalKind,
    ProposalStatus,
)
from designations.services import designation_amend
from sharing import access
from sharing.audit import audit_record
from sharing.changelog import change_log_append
from sharing.models import AuditAction, ChangeAction

PROPOSAL = "proposal"
PROPOSABLE = set(SCALAR_FIELDS) | set(CHILDREN)


def proposals_visible(*, user: Any, status: str = "") -> QuerySet[AmendmentProposal]:
    proposals = access.proposals_for(user).select_related("designation", "proposer")
    return proposals.filter(status=status) if status else proposals


def proposal_create(
    *,
    actor: Any,
    designation: Designation,
    kind: str,
    changes: dict[str, Any],
    reason: str,
) -> AmendmentProposal:
    agency = actor.agency
    if agency is not None and designation.owner_id == agency.pk:
        raise ValidationError({"designation": "Your agency owns it: amend it instead."})
    if not access.may_propose(actor, designation):
        raise PermissionDenied("You may not see this designation.")
    if not reason.strip():
        raise ValidationError({"reason": "Say why."})
    if kind == ProposalKind.AMEND:
        unknown = set(changes) - PROPOSABLE
        if not changes or unknown:
            raise ValidationError(
                {"changes": f"Propose new values for fields of the designation: {sorted(unknown)}"}
            )
    elif kind == ProposalKind.DISPUTE:
        fields = changes.get("fields")
        if not isinstance(fields, list) or not fields or set(fields) - PROPOSABLE:
            raise ValidationError({"changes": 'Name the contested fields: {"fields": [...]}.'})
    else:
        raise ValidationError({"kind": "amend or dispute"})
    with transaction.atomic():
        proposal = AmendmentProposal.objects.create(
            designation=designation,
            proposer=agency,
            proposed_by_name=actor.get_username(),
            kind=kind,
            changes=changes,
            reason=reason,
            based_on_version=designation.version,
        )
        change_log_append(
            object_type=PROPOSAL, object_id=proposal.pk, version=1, action=ChangeAction.CREATE
        )
        audit_record(
            AuditAction.CHANGE,
            obj=designation,
            detail={"proposal": str(proposal.pk), "kind": kind, "reason": reason},
        )
    return proposal


def proposal_decide(
    *, actor: User | Any, proposal: AmendmentProposal, accept: bool, reason: str
) -> AmendmentProposal:
    """The owner's decision. Accepting an amendment amends the designation (a new version)."""
    designation = proposal.designation
    if not access.may_decide_proposal(actor, proposal):
        raise PermissionDenied("Only a publisher of the owner agency decides on proposals.")
    if proposal.status != ProposalStatus.OPEN:
        raise ValidationError({"decision": f"This proposal was {proposal.status} already."})
    if not reason.strip():
        raise ValidationError({"reason": "Say why."})
    with transaction.atomic():
        proposal = AmendmentProposal.objects.select_for_update().get(pk=proposal.pk)
        resulting = None
        if accept and proposal.kind == ProposalKind.AMEND:
            amended = designation_amend(
                actor=actor,
                designation=designation,
                changes=proposal.changes,
                reason=f"Proposal of {proposal.proposer.code} accepted: {reason}",
            )
            resulting = amended.version
        proposal.status = ProposalStatus.ACCEPTED if accept else ProposalStatus.REJECTED
        proposal.decision_reason = reason
        proposal.decided_by_name = actor.get_username()
        proposal.decided_at = timezone.now()
        proposal.resulting_version = resulting
        proposal.version += 1
        proposal.save()
        change_log_append(
            object_type=PROPOSAL,
            object_id=proposal.pk,
            version=proposal.version,
            action=ChangeAction.UPDATE,
        )
        audit_record(
            AuditAction.CHANGE,
            obj=designation,
            detail={"proposal": str(proposal.pk), "decision": proposal.status, "reason": reason},
        )
    return proposal
