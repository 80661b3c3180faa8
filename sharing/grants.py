"""Sharing an object: grants to agencies, sharing groups and named users (django-guardian rows).

One row per grantee and object holds the granted level's permission; a grant includes the
levels below it (see sharing.access). Every grant and revocation, from the portal, the API or
guardian's admin pages, changes the object's audience: the permission-row signals below record
it as a change (new version, history, change log) and in the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Model
from django.db.models.signals import m2m_changed, post_delete, post_save

from agencies.models import Agency, SharingGroup, User
from designations.models import Designation, IntelligenceNote
from sharing import access
from sharing.access import GUARDED, Level
from sharing.audit import acting_as, audit_record, current_user
from sharing.models import AuditAction, Marking

Grantee = Agency | SharingGroup | User


@dataclass(frozen=True)
class Grant:
    grantee: Grantee
    level: Level

    @property
    def kind(self) -> str:
        return {Agency: "agency", SharingGroup: "sharing_group", User: "user"}[type(self.grantee)]

    @property
    def key(self) -> str:
        """A stable form-safe reference to the grantee, e.g. 'agency:EU-FISMA'."""
        if isinstance(self.grantee, Agency):
            return f"agency:{self.grantee.code}"
        if isinstance(self.grantee, SharingGroup):
            return f"sharing_group:{self.grantee.pk}"
        return f"user:{self.grantee.get_username()}"


def _level_of(codename: str) -> Level:
    return Level[codename.split("_", 1)[0].upper()]


def grants_of(obj: Designation | IntelligenceNote) -> list[Grant]:
    guarded = GUARDED[type(obj)]
    grants: list[Grant] = []
    group_rows = guarded.group_permissions.objects.filter(content_object=obj).select_related(
        "group__agency", "group__sharing_group", "permission"
    )
    best: dict[int, Grant] = {}
    for row in group_rows:
        grantee = getattr(row.group, "agency", None) or getattr(row.group, "sharing_group", None)
        if grantee is None:
            continue  # a stray Group that is neither an agency nor a sharing group
        level = _level_of(row.permission.codename)
        if row.group_id not in best or best[row.group_id].level < level:
            best[row.group_id] = Grant(grantee, level)
    grants.extend(best.values())
    users: dict[int, Grant] = {}
    for row in guarded.user_permissions.objects.filter(content_object=obj).select_related(
        "user", "permission"
    ):
        level = _level_of(row.permission.codename)
        if row.user_id not in users or users[row.user_id].level < level:
            users[row.user_id] = Grant(row.user, level)
    grants.extend(users.values())
    return sorted(grants, key=lambda g: (g.kind, str(g.grantee)))


def audience_snapshot(obj: Designation | IntelligenceNote) -> list[dict[str, str]]:
    """The grants in plain JSON, for history snapshots and (later) the sync feed."""
    return [{"grantee": g.key, "level": g.level.label} for g in grants_of(obj)]


def grantee_from_key(key: str) -> Grantee:
    kind, _, value = key.partition(":")
    try:
        if kind == "agency":
            return Agency.objects.get(code=value)
        if kind == "sharing_group":
            return SharingGroup.objects.get(pk=value)
        if kind == "user":
            return User.objects.get(username=value, is_active=True)
    except (Agency.DoesNotExist, SharingGroup.DoesNotExist, User.DoesNotExist, ValidationError):
        pass
    raise ValidationError({"grantee": f"No such agency, sharing group or user: {key!r}."})


def _permission(obj: Model, level: Level) -> Permission:
    guarded = GUARDED[type(obj)]
    return Permission.objects.get(
        content_type__app_label=obj._meta.app_label, codename=guarded.codenames(level)[0]
    )


def _validate(obj: Designation | IntelligenceNote, grantee: Grantee, level: Level) -> None:
    if isinstance(grantee, Agency) and grantee.pk == obj.owner_id:
        raise ValidationError({"grantee": "The owner agency has access already."})
    if obj.marking == Marking.RED and not isinstance(grantee, User):
        raise ValidationError({"grantee": "TLP:RED objects are shared with named people only."})
    if obj.marking == Marking.AMBER_STRICT and isinstance(grantee, SharingGroup):
        raise ValidationError(
            {"grantee": "TLP:AMBER+STRICT is shared with named organisations, not groups."}
        )
    if isinstance(grantee, User) and (grantee.agency_id is None or not grantee.is_active):
        raise ValidationError({"grantee": "Share with people who belong to an agency."})
    if level == Level.CHANGE:
        if isinstance(grantee, SharingGroup):
            raise ValidationError({"level": "Change is delegated to one agency, not a group."})
        agency = grantee if isinstance(grantee, Agency) else grantee.agency
        if not agency.is_local:
            raise ValidationError(
                {"level": "Change can only be delegated to an agency hosted on this node."}
            )


def _group_of(grantee: Agency | SharingGroup) -> Group:
    return grantee.group


@transaction.atomic
def grant_create(
    *, actor: User, obj: Designation | IntelligenceNote, grantee: Grantee, level: Level
) -> Grant:
    """Share `obj` with `grantee` at `level`, replacing any earlier level for that grantee."""
    if not access.may_manage_grants(actor, obj):
        raise PermissionDenied("Only an agency admin of the owner agency shares this object.")
    _validate(obj, grantee, level)
    guarded = GUARDED[type(obj)]
    permission = _permission(obj, level)
    if isinstance(grantee, User):
        rows = guarded.user_permissions.objects.filter(content_object=obj, user=grantee)
        new = guarded.user_permissions(content_object=obj, user=grantee, permission=permission)
    else:
        group = _group_of(grantee)
        rows = guarded.group_permissions.objects.filter(content_object=obj, group=group)
        new = guarded.group_permissions(content_object=obj, group=group, permission=permission)
    existing = list(rows)
    if len(existing) == 1 and existing[0].permission_id == permission.pk:
        return Grant(grantee, level)  # already so: no new version
    with acting_as(actor):  # the row signals record the change in the actor's name
        for row in existing[1:]:
            row.delete()
        if existing:
            existing[0].permission = permission
            existing[0].save()
        else:
            new.save()
    return Grant(grantee, level)


@transaction.atomic
def grant_revoke(*, actor: User, obj: Designation | IntelligenceNote, grantee: Grantee) -> None:
    if not access.may_manage_grants(actor, obj):
        raise PermissionDenied("Only an agency admin of the owner agency shares this object.")
    guarded = GUARDED[type(obj)]
    if isinstance(grantee, User):
        rows = guarded.user_permissions.objects.filter(content_object=obj, user=grantee)
    else:
        rows = guarded.group_permissions.objects.filter(content_object=obj, group=grantee.group)
    existing = list(rows)
    if not existing:
        raise ValidationError({"grantee": "That grantee has no grant on this object."})
    with acting_as(actor):
        for row in existing:
            row.delete()  # each deletion is recorded by the signal below


def grant_named_author(*, obj: Designation | IntelligenceNote, author: User) -> None:
    """Name the author of a TLP:RED object on it, so that its author can still see it."""
    guarded = GUARDED[type(obj)]
    guarded.user_permissions.objects.create(
        content_object=obj, user=author, permission=_permission(obj, Level.CHANGE)
    )


def _describe(row: Model) -> dict[str, str]:
    if hasattr(row, "group"):
        grantee = getattr(row.group, "agency", None) or getattr(row.group, "sharing_group", None)
        key = Grant(grantee, Level.VIEW).key if grantee else f"group:{row.group.name}"
    else:
        key = f"user:{row.user.get_username()}"
    return {"grantee": key, "level": _level_of(row.permission.codename).label}


def _permission_row_changed(sender: type[Model], instance: Model, **kwargs: object) -> None:
    from designations.services import audience_changed

    created = kwargs.get("created")
    deleted = kwargs.get("signal") is post_delete
    model = next(
        m for m, g in GUARDED.items() if sender in (g.group_permissions, g.user_permissions)
    )
    obj = model.objects.filter(pk=instance.content_object_id).first()
    if obj is None:
        return  # the object itself is being deleted
    if not Agency.objects.filter(pk=obj.owner_id, home_node__is_local=True).exists():
        return  # a replica: its audience comes from its origin (sharing.sync_apply), as is
    detail = _describe(instance)
    action = AuditAction.REVOKE if deleted else AuditAction.GRANT
    detail["change"] = "revoked" if deleted else ("granted" if created else "level changed")
    audience_changed(
        obj,
        actor=current_user(),
        reason=f"{detail['change']}: {detail['grantee']} ({detail['level']})",
    )
    audit_record(action, obj=obj, detail=detail)


def _membership_changed(
    sender: type[Model], instance: SharingGroup, action: str, pk_set: set | None, **kwargs: object
) -> None:
    """Joining or leaving a sharing group changes access at once (the gate reads membership
    per request); record it as a change of the group and in the audit log."""
    if action not in {"post_add", "post_remove", "post_clear"} or not isinstance(
        instance, SharingGroup
    ):
        return
    from sharing.changelog import change_log_append
    from sharing.models import ChangeAction

    codes = sorted(Agency.objects.filter(pk__in=pk_set or []).values_list("code", flat=True))
    # Atomic on its own when the membership change was made outside a transaction.
    with transaction.atomic():
        SharingGroup.objects.filter(pk=instance.pk).update(version=models.F("version") + 1)
        instance.refresh_from_db(fields=["version"])
        change_log_append(
            object_type="sharing_group",
            object_id=instance.pk,
            version=instance.version,
            action=ChangeAction.UPDATE,
        )
        audit_record(
            AuditAction.MEMBERSHIP,
            obj=instance,
            detail={"change": action.removeprefix("post_"), "agencies": codes},
        )


def connect_signals() -> None:
    m2m_changed.connect(
        _membership_changed,
        sender=SharingGroup.members.through,
        dispatch_uid="sharing-group-membership",
    )
    for guarded in GUARDED.values():
        for model in (guarded.group_permissions, guarded.user_permissions):
            post_save.connect(
                _permission_row_changed, sender=model, dispatch_uid=f"grants-save-{model.__name__}"
            )
            post_delete.connect(
                _permission_row_changed,
                sender=model,
                dispatch_uid=f"grants-delete-{model.__name__}",
            )
