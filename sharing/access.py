"""The one gate (DESIGN.md, Invariant 1): what a user, an agency or a partner node may see and do.

Every read path asks here: portal pages, search results and counts, the API, exports, downloads,
the admin and the sync feed. No view builds its own filter.

The rules, for a designation or a note:

- TLP:CLEAR and TLP:GREEN (not drafts) reach every member agency at view, comment and download
  level: TLP 2.0 lets them go to the whole community.
- The owner agency sees its own objects, except TLP:RED ones; its publishers may change them.
- TLP:AMBER and TLP:AMBER+STRICT reach the owner plus explicit grants: to an agency (its Group),
  or to a sharing group (every member agency at the time of the request). AMBER+STRICT ignores
  sharing-group grants: TLP 2.0 limits it to named organisations.
- TLP:RED reaches named users only (user grants); agency and group grants do not apply.
- Drafts stay with the owner agency (and named users).
- A note is never visible where its designation is not.
- A grant at one level includes the levels below it: view < comment < download < change.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import IntEnum

from django.contrib.auth.models import AnonymousUser, Permission
from django.db.models import Model, Q, QuerySet, Value

from agencies.api_clients import ClientPrincipal
from agencies.models import Agency, Node, SharingGroup, User
from designations.models import (
    AmendmentProposal,
    Attachment,
    Designation,
    DesignationGroupObjectPermission,
    DesignationStatus,
    DesignationUserObjectPermission,
    IntelligenceNote,
    NoteGroupObjectPermission,
    NoteUserObjectPermission,
)
from sharing.models import AuditEntry, Marking

# TLP 2.0: CLEAR is public, GREEN is the whole community; both reach every member agency.
COMMUNITY_MARKINGS = (Marking.CLEAR, Marking.GREEN)


class Level(IntEnum):
    VIEW = 1
    COMMENT = 2  # add notes
    DOWNLOAD = 3  # attachments
    CHANGE = 4  # amend, delist: the owner agency or an agency it delegates to

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class GuardedModel:
    model: type[Model]
    codename_suffix: str
    group_permissions: type[Model]
    user_permissions: type[Model]

    def codenames(self, level: Level) -> list[str]:
        """Permission codenames that grant `level` (a grant includes every lower level)."""
        return [f"{held.label}_{self.codename_suffix}" for held in Level if held >= level]


DESIGNATIONS = GuardedModel(
    Designation,
    "designation",
    DesignationGroupObjectPermission,
    DesignationUserObjectPermission,
)
NOTES = GuardedModel(
    IntelligenceNote, "intelligencenote", NoteGroupObjectPermission, NoteUserObjectPermission
)
GUARDED = {Designation: DESIGNATIONS, IntelligenceNote: NOTES}


@dataclass(frozen=True)
class Audience:
    """Who is asking: the agencies they act for, and for a person their user id. Group
    memberships (agency Groups, sharing groups) are read with each query, so a change of
    membership counts on the very next request."""

    agency_ids: frozenset[uuid.UUID] = frozenset()
    user_id: int | None = None
    may_publish: bool = False
    everything: bool = False

    @property
    def nobody(self) -> bool:
        return not (self.everything or self.agency_ids or self.user_id)


NOBODY = Audience()

Principal = User | AnonymousUser | Agency | Node | Audience | ClientPrincipal


def audience_of(principal: Principal) -> Audience:
    if isinstance(principal, Audience):
        return principal
    if isinstance(principal, AnonymousUser) or principal is None:
        return NOBODY
    if isinstance(principal, User):
        if not principal.is_active:
            return NOBODY
        if principal.is_superuser:
            return Audience(everything=True)
        if principal.agency_id is None:
            return NOBODY  # staff without an agency: the admin only, and no data
        return Audience(
            agency_ids=frozenset([principal.agency_id]),
            user_id=principal.pk,
            may_publish=principal.may_publish,
        )
    if isinstance(principal, Agency):
        return Audience(agency_ids=frozenset([principal.pk]), may_publish=True)
    if isinstance(principal, ClientPrincipal):
        # An API client acts for its agency, never as a named person; writing needs the
        # write scope.
        return Audience(
            agency_ids=frozenset([principal.agency_id]), may_publish=principal.may_publish
        )
    if isinstance(principal, Node):
        # A partner node sees what its agencies may see, and nothing named for a person.
        agencies = Agency.objects.filter(home_node=principal).values_list("pk", flat=True)
        return Audience(agency_ids=frozenset(agencies))
    raise TypeError(f"not a principal: {principal!r}")


_permission_ids: dict[str, int] = {}


def _permission_id_list(codenames: list[str]) -> list[int]:
    """Permission ids by codename, read once per process: literal ids keep the gate's query
    plan simple. Cleared after migrations (tests flush and recreate the table)."""
    if not all(c in _permission_ids for c in codenames):
        _permission_ids.update(
            Permission.objects.filter(content_type__app_label="designations").values_list(
                "codename", "id"
            )
        )
    return [_permission_ids[c] for c in codenames]


def clear_permission_cache(**kwargs: object) -> None:
    _permission_ids.clear()


def _group_ids(agency_ids: list[uuid.UUID]) -> tuple[list[int], list[int]]:
    """The Groups whose grants reach these agencies: their own, and those of the sharing groups
    they belong to now (read per query, so leaving a group counts at once)."""
    rows = (
        Agency.objects.filter(pk__in=agency_ids)
        .order_by()
        .values_list("group_id", Value(True))
        .union(
            SharingGroup.objects.filter(members__in=agency_ids)
            .order_by()
            .values_list("group_id", Value(False)),
            all=True,
        )
    )
    rows = list(rows)
    return [g for g, own in rows if own], [g for g, own in rows if not own]


def _granted(guarded: GuardedModel, level: Level, group_ids: list[int]) -> Q:
    rows = guarded.group_permissions.objects.filter(
        group_id__in=group_ids,
        permission_id__in=_permission_id_list(guarded.codenames(level)),
    ).values("content_object_id")
    return Q(pk__in=rows)


def _visibility(guarded: GuardedModel, audience: Audience, level: Level) -> Q | None:
    """The filter for one model; None means everything.

    Cheap column tests come before each grant lookup, and one lookup covers agency and
    sharing-group grants, so most rows are decided without touching the grant tables
    (bench/visible_list.py measures this)."""
    if audience.everything:
        return None
    not_draft = ~Q(status=DesignationStatus.DRAFT) if guarded is DESIGNATIONS else Q()
    conditions = Q(pk__in=[])
    if audience.agency_ids and (level < Level.CHANGE or audience.may_publish):
        agency_ids = sorted(audience.agency_ids)
        agency_groups, sharing_groups = _group_ids(agency_ids)
        conditions |= Q(owner_id__in=agency_ids) & ~Q(marking=Marking.RED)
        if level < Level.CHANGE:
            conditions |= Q(marking__in=COMMUNITY_MARKINGS) & not_draft
            conditions |= (
                Q(marking=Marking.AMBER)
                & not_draft
                & _granted(guarded, level, agency_groups + sharing_groups)
            )
            # AMBER+STRICT: named organisations only, so sharing-group grants do not count.
            conditions |= (
                Q(marking=Marking.AMBER_STRICT)
                & not_draft
                & _granted(guarded, level, agency_groups)
            )
        else:
            # Change is delegated to an agency, whatever the (non-RED) marking.
            conditions |= (
                ~Q(marking=Marking.RED) & not_draft & _granted(guarded, level, agency_groups)
            )
    if audience.user_id is not None:
        named = guarded.user_permissions.objects.filter(
            user_id=audience.user_id,
            permission_id__in=_permission_id_list(guarded.codenames(level)),
        ).values("content_object_id")
        conditions |= Q(pk__in=named)
    return conditions


def designations_for(principal: Principal, level: Level = Level.VIEW) -> QuerySet[Designation]:
    """The designations `principal` may see (or comment on, download from, change)."""
    audience = audience_of(principal)
    if audience.nobody:
        return Designation.objects.none()
    conditions = _visibility(DESIGNATIONS, audience, level)
    return (
        Designation.objects.all() if conditions is None else Designation.objects.filter(conditions)
    )


def notes_for(principal: Principal, level: Level = Level.VIEW) -> QuerySet[IntelligenceNote]:
    """The notes `principal` may see at `level`; never a note about a designation it may not
    see."""
    audience = audience_of(principal)
    if audience.nobody:
        return IntelligenceNote.objects.none()
    conditions = _visibility(NOTES, audience, level)
    if conditions is None:
        return IntelligenceNote.objects.all()
    about_visible = Q(designation__isnull=True) | Q(
        designation__in=designations_for(audience).values("pk")
    )
    return IntelligenceNote.objects.filter(conditions & about_visible)


def proposals_for(principal: Principal) -> QuerySet[AmendmentProposal]:
    """Amendment proposals and disputes are between two agencies: the one that proposed and
    the designation's owner (each while it may see the designation); nobody else."""
    audience = audience_of(principal)
    if audience.nobody:
        return AmendmentProposal.objects.none()
    if audience.everything:
        return AmendmentProposal.objects.all()
    agencies = list(audience.agency_ids)
    return AmendmentProposal.objects.filter(
        Q(proposer_id__in=agencies) | Q(designation__owner_id__in=agencies),
        designation__in=designations_for(audience).values("pk"),
    )


def may_propose(user: Principal, designation: Designation) -> bool:
    """Another agency that may see a designation proposes changes to it or contests it; the
    owner amends instead."""
    agency_id = getattr(user, "agency_id", None)
    return (
        agency_id is not None
        and agency_id != designation.owner_id
        and designations_for(user).filter(pk=designation.pk).exists()
    )


def may_decide_proposal(user: Principal, proposal: AmendmentProposal) -> bool:
    """Only publishers of the designation's owner agency decide, on the owner's home node."""
    designation = proposal.designation
    return (
        getattr(user, "agency_id", None) == designation.owner_id
        and bool(getattr(user, "may_publish", False))
        and designation.owner.home_node.is_local
    )


def objects_for(principal: Principal, model: type[Model], level: Level = Level.VIEW) -> QuerySet:
    if model is Designation:
        return designations_for(principal, level)
    if model is IntelligenceNote:
        return notes_for(principal, level)
    raise TypeError(f"{model.__name__} is not guarded")


def may(principal: Principal, level: Level, obj: Designation | IntelligenceNote) -> bool:
    """May `principal` act at `level` on this object?"""
    return objects_for(principal, type(obj), level).filter(pk=obj.pk).exists()


def may_see_audience(user: Principal, obj: Designation | IntelligenceNote) -> bool:
    """Whom an object is shared with is for its owner agency (and site administrators)."""
    if getattr(user, "is_superuser", False):
        return True
    return getattr(user, "agency_id", None) is not None and user.agency_id == obj.owner_id


def may_manage_grants(user: User | AnonymousUser, obj: Designation | IntelligenceNote) -> bool:
    """Agency admins of the owner agency share its objects (site administrators use the
    admin); they must be able to see the object themselves (TLP:RED: be named on it)."""
    if isinstance(user, ClientPrincipal):
        # An API client of the owner agency with the grants scope.
        return (
            user.has_scope("grants")
            and user.agency_id == obj.owner_id
            and may(user, Level.VIEW, obj)
        )
    if not isinstance(user, User) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return (
        user.role == "agency_admin"
        and user.agency_id == obj.owner_id
        and may(user, Level.VIEW, obj)
    )


def audit_entries_for(user: User | AnonymousUser) -> QuerySet[AuditEntry]:
    """Site administrators read the whole audit log; an agency admin reads the entries of
    acts by the agency's people and of acts on the agency's objects; nobody else reads it."""
    if not isinstance(user, User) or not user.is_active:
        return AuditEntry.objects.none()
    if user.is_superuser:
        return AuditEntry.objects.all()
    if user.role != "agency_admin" or user.agency is None:
        return AuditEntry.objects.none()
    code = user.agency.code
    return AuditEntry.objects.filter(Q(agency_code=code) | Q(object_agency_code=code))


def attachments_for(principal: Principal, level: Level = Level.DOWNLOAD) -> QuerySet[Attachment]:
    """Attachments follow their parent: downloading one needs the download level on it."""
    return Attachment.objects.filter(
        Q(designation__in=designations_for(principal, level).values("pk"))
        | Q(note__in=notes_for(principal, level).values("pk"))
    )


def may_attach(user: User | AnonymousUser, obj: Designation | IntelligenceNote) -> bool:
    """Files on a designation are its owner's content (change level); files on a note are the
    note's, so anyone of the note's agency who can see it may add them."""
    if isinstance(obj, Designation):
        return may(user, Level.CHANGE, obj)
    writer = isinstance(user, User) or (isinstance(user, ClientPrincipal) and user.may_publish)
    return writer and user.agency_id == obj.owner_id and may(user, Level.VIEW, obj)
