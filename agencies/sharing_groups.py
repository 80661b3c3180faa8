"""Agency admins run task forces: create a sharing group, add and remove member agencies,
leave a group.

Membership decides access (a grant to the group reaches every member), so it is a
decision of the convening agency's admins alone: nobody joins a group on their own. A member
agency's admin may take the agency out. Groups made by site administrators in the admin have
no convener: only site administrators change them. Every membership change is audited and raises the
group's version (sharing.grants), which the sync feed turns into widened or retracted
audiences on partner nodes.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from agencies.models import Agency, Role, SharingGroup, User
from agencies.services import sharing_group_create
from sharing.audit import audit_record
from sharing.models import AuditAction

MAX_NAME = 120  # the group's Django Group is named "sharing-group:<name>" (150 at most)


def _agency_admin(user: object) -> bool:
    return (
        isinstance(user, User)
        and user.is_active
        and user.role == Role.AGENCY_ADMIN
        and user.agency_id is not None
    )


def may_create_group(user: object) -> bool:
    return _agency_admin(user)


def may_manage_members(user: object, group: SharingGroup) -> bool:
    """The convener's agency admins (and site administrators) add and remove members."""
    if isinstance(user, User) and user.is_active and user.is_superuser:
        return True
    return (
        _agency_admin(user)
        and group.convener_id is not None
        and user.agency_id == group.convener_id  # type: ignore[union-attr]
    )


def may_leave(user: object, group: SharingGroup) -> bool:
    """A member agency's admin takes the agency out; the convener stays (it runs the group)."""
    return (
        _agency_admin(user)
        and user.agency_id != group.convener_id  # type: ignore[union-attr]
        and any(m.pk == user.agency_id for m in group.members.all())  # type: ignore[union-attr]
    )


def _refuse(user: object, group: SharingGroup | None, attempt: str) -> None:
    audit_record(AuditAction.DENIED, obj=group, detail={"attempt": attempt})
    raise PermissionDenied("Only an agency admin of the convening agency changes this group.")


# Refusals are checked before each transaction opens, so their audit entries stay.


def group_create(*, actor: User, name: str) -> SharingGroup:
    """A new group convened by the actor's agency, which is its first member."""
    if not may_create_group(actor):
        _refuse(actor, None, "create sharing group")
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give the group a name."})
    if len(name) > MAX_NAME:
        raise ValidationError({"name": f"At most {MAX_NAME} characters."})
    with transaction.atomic():
        if SharingGroup.objects.filter(name__iexact=name).exists():
            raise ValidationError({"name": f"A sharing group named {name!r} exists already."})
        group = sharing_group_create(name=name, members=[actor.agency])  # type: ignore[list-item]
        SharingGroup.objects.filter(pk=group.pk).update(convener=actor.agency)
        group.convener = actor.agency
        audit_record(AuditAction.MEMBERSHIP, obj=group, detail={"change": "create", "name": name})
    return group


def group_add_member(*, actor: User, group: SharingGroup, agency: Agency) -> None:
    if not may_manage_members(actor, group):
        _refuse(actor, group, "add sharing group member")
    with transaction.atomic():
        if group.members.filter(pk=agency.pk).exists():
            raise ValidationError({"agency": f"{agency.name} is in {group.name} already."})
        group.members.add(agency)


def group_remove_member(*, actor: User, group: SharingGroup, agency: Agency) -> None:
    """The convener removes a member, or a member's admin takes the agency out."""
    leaving = agency.pk == getattr(actor, "agency_id", None) != group.convener_id
    allowed = may_leave(actor, group) if leaving else may_manage_members(actor, group)
    if not allowed:
        _refuse(actor, group, "remove sharing group member")
    if agency.pk == group.convener_id:
        raise ValidationError({"agency": "The convening agency stays in the group it runs."})
    with transaction.atomic():
        if not group.members.filter(pk=agency.pk).exists():
            raise ValidationError({"agency": f"{agency.name} is not in {group.name}."})
        group.members.remove(agency)
