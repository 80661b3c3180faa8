"""Writes to nodes, agencies and people."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction

from agencies.models import Agency, Node, Role, SharingGroup, User


def node_ensure_local() -> Node:
    """The row describing this deployment, created from settings on first use."""
    node, created = Node.objects.get_or_create(
        is_local=True,
        defaults={
            "node_id": settings.NODE_ID,
            "name": settings.NODE_NAME,
            "base_url": settings.NODE_BASE_URL,
        },
    )
    if not created and (node.base_url, node.name) != (settings.NODE_BASE_URL, settings.NODE_NAME):
        # The settings say where this node is now (a new port, a new host name).
        node.base_url, node.name = settings.NODE_BASE_URL, settings.NODE_NAME
        node.save(update_fields=["base_url", "name"])
    return node


@transaction.atomic
def agency_create(*, code: str, name: str, jurisdiction: str, home_node: Node) -> Agency:
    # The group carries the agency's object grants (guardian), so it is created with it.
    group = Group.objects.create(name=f"agency:{code}")
    return Agency.objects.create(
        code=code, name=name, jurisdiction=jurisdiction, home_node=home_node, group=group
    )


@transaction.atomic
def user_create(*, username: str, agency: Agency, role: Role, password: str, **fields: str) -> User:
    user = User(username=username, agency=agency, role=role, **fields)
    user.set_password(password)
    user.full_clean()
    user.save()
    user.groups.add(agency.group)
    return user


@transaction.atomic
def sharing_group_create(*, name: str, members: list[Agency] | None = None) -> SharingGroup:
    # Grants to the sharing group are guardian permissions of this Group.
    group = Group.objects.create(name=f"sharing-group:{name}"[:150])
    sharing_group = SharingGroup.objects.create(
        name=name, owner_node=node_ensure_local(), group=group
    )
    if members:
        sharing_group.members.add(*members)
    return sharing_group
