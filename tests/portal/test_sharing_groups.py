"""Sharing groups in the portal: agency admins convene groups and decide who is in them;
membership decides access at once; nobody joins on their own."""

from __future__ import annotations

import pytest

from agencies.models import Role, SharingGroup
from agencies.services import sharing_group_create, user_create
from designations.models import Designation, Regime
from sharing import access
from sharing.access import Level
from sharing.grants import grant_create
from sharing.models import AuditAction, AuditEntry
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db
GROUPS = "/sharing-groups/"


@pytest.fixture
def admin_a(agency_a):
    return user_create(username="ada", agency=agency_a, role=Role.AGENCY_ADMIN, password=PASSWORD)


@pytest.fixture
def admin_b(agency_b):
    return user_create(username="bea", agency=agency_b, role=Role.AGENCY_ADMIN, password=PASSWORD)


def _add(client, group, agency):
    return client.post(f"{GROUPS}{group.pk}/members/", {"agency": agency.pk})


def _remove(client, group, agency):
    return client.post(f"{GROUPS}{group.pk}/members/remove/", {"agency": agency.pk})


def test_groups_of_my_agency_only(client, alice, agency_a, agency_b, agency_c) -> None:
    sharing_group_create(name="Task force AB", members=[agency_a, agency_b])
    sharing_group_create(name="Task force BC", members=[agency_b, agency_c])
    client.force_login(alice)
    page = client.get(GROUPS)
    assert "Task force AB" in page.text and "Task force BC" not in page.text
    assert "Agency B" in page.text  # who else is in it
    assert "Create group" not in page.text  # a publisher does not convene groups


def test_an_admin_convenes_a_group_and_membership_decides_access(
    client, admin_a, admin_b, bob, agency_a, agency_b
) -> None:
    client.force_login(admin_a)
    created = client.post(GROUPS, {"name": "Task force Kestrel"})
    group = SharingGroup.objects.get(name="Task force Kestrel")
    assert created.status_code == 302
    assert group.convener == agency_a and list(group.members.all()) == [agency_a]

    regime = Regime.objects.create(owner=agency_a, code="R1", name="Regime of A")
    designation = Designation.objects.create(
        owner=agency_a,
        regime=regime,
        name="Kestrel Shipping",
        marking="AMBER",
        status="active",
    )
    grant_create(actor=admin_a, obj=designation, grantee=group, level=Level.VIEW)
    assert not access.may(bob, Level.VIEW, designation)

    assert _add(client, group, agency_b).status_code == 302
    assert access.may(bob, Level.VIEW, designation)  # joining opens what was shared before
    assert "Agency B" in client.get(GROUPS).text

    assert _remove(client, group, agency_b).status_code == 302
    assert not access.may(bob, Level.VIEW, designation)
    changes = AuditEntry.objects.filter(action=AuditAction.MEMBERSHIP, object_id=str(group.pk))
    assert [(e.detail["change"], e.detail.get("agencies")) for e in changes.order_by("pk")] == [
        ("add", ["A"]),  # the convener, as the group is created
        ("create", None),
        ("add", ["B"]),
        ("remove", ["B"]),
    ]


def test_a_member_admin_takes_the_agency_out_but_cannot_change_the_group(
    client, admin_b, agency_a, agency_b, agency_c
) -> None:
    group = sharing_group_create(name="Task force", members=[agency_a, agency_b])
    SharingGroup.objects.filter(pk=group.pk).update(convener=agency_a)
    client.force_login(admin_b)
    page = client.get(GROUPS)
    assert "Take Agency B out of Task force" in page.text and "Add an agency" not in page.text

    assert _add(client, group, agency_c).status_code == 403  # no adding others
    assert _remove(client, group, agency_a).status_code == 403  # no removing others
    assert set(group.members.all()) == {agency_a, agency_b}
    assert AuditEntry.objects.filter(action=AuditAction.DENIED).count() == 2

    assert _remove(client, group, agency_b).status_code == 302
    assert list(group.members.all()) == [agency_a]


def test_nobody_joins_on_their_own_or_sees_others_groups(
    client, admin_a, admin_b, agency_a, agency_b
) -> None:
    group = sharing_group_create(name="Task force A", members=[agency_a])
    SharingGroup.objects.filter(pk=group.pk).update(convener=agency_a)
    client.force_login(admin_b)
    assert "Task force A" not in client.get(GROUPS).text
    assert _add(client, group, agency_b).status_code == 404  # not even told it exists
    assert list(group.members.all()) == [agency_a]


def test_liaisons_and_publishers_do_not_convene(client, bob, alice) -> None:
    for user in (bob, alice):
        client.force_login(user)
        assert client.post(GROUPS, {"name": f"Group of {user}"}).status_code == 403
    assert not SharingGroup.objects.exists()


def test_bad_input_is_refused_and_writes_nothing(client, admin_a, agency_a, agency_b) -> None:
    client.force_login(admin_a)
    client.post(GROUPS, {"name": "Task force"})
    group = SharingGroup.objects.get()
    before = AuditEntry.objects.count()
    for name in ("", "   ", "task FORCE", "x" * 121):
        page = client.post(GROUPS, {"name": name})
        assert page.status_code == 400 and 'class="errorlist' in page.text
    assert SharingGroup.objects.count() == 1

    for body in ({}, {"agency": "not-a-uuid"}, {"agency": str(group.pk)}):
        page = client.post(f"{GROUPS}{group.pk}/members/", body, follow=True)
        assert "Choose an agency to add." in page.text
    assert _remove(client, group, agency_a).status_code == 302  # the convener stays
    assert _remove(client, group, agency_b).status_code == 302  # not a member
    assert list(group.members.all()) == [agency_a]
    assert AuditEntry.objects.count() == before
