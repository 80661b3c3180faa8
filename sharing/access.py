"""The one gate (DESIGN.md, Invariant 1): which designations and notes a user may see.

Every read path asks here; no view builds its own filter. This first version grants an
agency's own objects plus everything marked TLP:CLEAR or TLP:GREEN (which TLP 2.0 lets every
member community see); explicit grants and sharing groups come with the access-control work.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q, QuerySet

from agencies.models import User
from designations.models import Designation, DesignationStatus, IntelligenceNote
from sharing.models import Marking

# TLP 2.0: CLEAR is public, GREEN is the whole community; both reach every member agency.
COMMUNITY_MARKINGS = (Marking.CLEAR, Marking.GREEN)


def _community_or_own(user: User) -> Q:
    return Q(owner_id=user.agency_id) | Q(marking__in=COMMUNITY_MARKINGS)


def designations_visible_to(user: User | AnonymousUser) -> QuerySet[Designation]:
    if not user.is_authenticated or not user.is_active:
        return Designation.objects.none()
    if user.is_superuser:
        return Designation.objects.all()
    if user.agency_id is None:
        return Designation.objects.none()
    # Drafts stay with their owner whatever their marking.
    shared = Q(marking__in=COMMUNITY_MARKINGS) & ~Q(status=DesignationStatus.DRAFT)
    return Designation.objects.filter(Q(owner_id=user.agency_id) | shared)


def designation_visible(user: User | AnonymousUser, designation: Designation) -> bool:
    return designations_visible_to(user).filter(pk=designation.pk).exists()


def notes_visible_to(user: User | AnonymousUser) -> QuerySet[IntelligenceNote]:
    if not user.is_authenticated or not user.is_active:
        return IntelligenceNote.objects.none()
    if user.is_superuser:
        return IntelligenceNote.objects.all()
    if user.agency_id is None:
        return IntelligenceNote.objects.none()
    # A note is never visible where its designation is not.
    visible_designations = designations_visible_to(user).values("pk")
    return IntelligenceNote.objects.filter(_community_or_own(user)).filter(
        Q(designation__isnull=True) | Q(designation__in=visible_designations)
    )
