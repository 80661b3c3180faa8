from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from agencies.models import Node
from agencies.services import agency_create
from designations.models import Designation
from designations.services import designation_amend, note_create
from sharing import access
from sharing.access import Level
from sharing.grants import grant_create, grant_revoke, grants_of
from sharing.models import AuditEntry, ChangeLogEntry, Marking
from tests.world import World, build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> World:
    return build_world()


def named(world: World, name: str) -> Designation:
    return next(s.designation for s in world.specs if s.designation.name == name)


def signed_in(world: World, username: str) -> Client:
    client = Client()
    client.force_login(world.users[username])
    return client


def test_a_grant_is_a_change_with_history_change_log_and_audit(world: World) -> None:
    designation = named(world, "AMBER shared with none")
    admin, agency_c = world.users["a_admin"], world.agencies["C"]
    version = designation.version
    log = ChangeLogEntry.objects.count()

    grant_create(actor=admin, obj=designation, grantee=agency_c, level=Level.COMMENT)

    designation.refresh_from_db()
    assert designation.version == version + 1
    latest = designation.history.get(version=designation.version)
    assert latest.changed_fields == ["audience"]
    assert latest.snapshot["audience"] == [{"grantee": "agency:C", "level": "comment"}]
    assert latest.actor == admin and "agency:C" in latest.reason
    assert ChangeLogEntry.objects.count() == log + 1
    entry = AuditEntry.objects.filter(action="grant").latest("seq")
    assert (entry.actor, entry.object_id, entry.detail["grantee"]) == (
        admin,
        str(designation.pk),
        "agency:C",
    )
    assert access.may(world.users["c_liaison"], Level.COMMENT, designation)
    assert not access.may(world.users["c_liaison"], Level.DOWNLOAD, designation)


def test_changing_the_level_replaces_the_grant(world: World) -> None:
    designation = named(world, "AMBER shared with agency:B")
    admin, agency_b = world.users["a_admin"], world.agencies["B"]

    grant_create(actor=admin, obj=designation, grantee=agency_b, level=Level.DOWNLOAD)
    version = Designation.objects.get(pk=designation.pk).version
    grant_create(actor=admin, obj=designation, grantee=agency_b, level=Level.DOWNLOAD)

    assert [(g.key, g.level) for g in grants_of(designation)] == [("agency:B", Level.DOWNLOAD)]
    assert Designation.objects.get(pk=designation.pk).version == version  # no-op: no version


def test_revoking_takes_effect_on_the_next_request(world: World) -> None:
    designation = named(world, "AMBER shared with agency:B")
    bob = signed_in(world, "b_liaison")
    assert bob.get(designation.get_absolute_url()).status_code == 200

    response = signed_in(world, "a_admin").post(
        reverse("portal:designation-revoke", args=[designation.pk]), {"grantee": "agency:B"}
    )

    assert response.status_code == 302
    assert bob.get(designation.get_absolute_url()).status_code == 404
    listed = bob.get(reverse("portal:designation-list"), {"q": designation.name})
    assert listed.context["page"].paginator.count == 0
    assert AuditEntry.objects.filter(action="revoke", object_id=str(designation.pk)).exists()


def test_leaving_a_sharing_group_takes_effect_on_the_next_request(world: World) -> None:
    designation = named(world, "AMBER shared with group:AB")
    bob = signed_in(world, "b_liaison")
    assert bob.get(designation.get_absolute_url()).status_code == 200
    version = world.group_ab.version

    world.group_ab.members.remove(world.agencies["B"])

    assert bob.get(designation.get_absolute_url()).status_code == 404
    world.group_ab.refresh_from_db()
    assert world.group_ab.version == version + 1
    entry = AuditEntry.objects.filter(action="membership").latest("seq")
    assert entry.detail == {"change": "remove", "agencies": ["B"]}

    world.group_ab.members.add(world.agencies["C"])  # and joining gives access at once
    assert signed_in(world, "c_liaison").get(designation.get_absolute_url()).status_code == 200


def test_sharing_in_the_portal(world: World) -> None:
    designation = named(world, "AMBER shared with none")
    admin = signed_in(world, "a_admin")

    page = admin.get(designation.get_absolute_url())
    assert b"Who can see this" in page.content and b"Share</button>" in page.content
    response = admin.post(
        reverse("portal:designation-grant", args=[designation.pk]),
        {"grantee": f"sharing_group:{world.group_ab.pk}", "level": "download"},
    )

    assert response.status_code == 302
    assert [(g.key, g.level.label) for g in grants_of(designation)] == [
        (f"sharing_group:{world.group_ab.pk}", "download")
    ]
    page = admin.get(designation.get_absolute_url())
    assert b"Task force AB" in page.content and b"Revoke" in page.content
    assert access.may(world.users["b_liaison"], Level.DOWNLOAD, designation)


def test_people_who_are_not_the_owner_agency_admin_cannot_share(world: World) -> None:
    designation = named(world, "CLEAR shared with none")
    for username in ["a_publisher", "a_liaison", "b_admin", "c_liaison"]:
        with pytest.raises(PermissionDenied):
            grant_create(
                actor=world.users[username],
                obj=designation,
                grantee=world.agencies["C"],
                level=Level.VIEW,
            )
        with pytest.raises(PermissionDenied):
            grant_revoke(actor=world.users[username], obj=designation, grantee=world.agencies["B"])
    assert grants_of(designation) == []
    # The publisher sees no sharing form; other agencies do not see the audience at all.
    assert (
        b"Share</button>"
        not in signed_in(world, "a_publisher").get(designation.get_absolute_url()).content
    )
    assert (
        b"Who can see this"
        not in signed_in(world, "b_admin").get(designation.get_absolute_url()).content
    )


@pytest.mark.parametrize(
    ("name", "grantee", "level", "message"),
    [
        ("RED shared with none", "agency:C", Level.VIEW, "named people only"),
        ("AMBER+STRICT shared with none", "group", Level.VIEW, "not groups"),
        ("AMBER shared with none", "agency:A", Level.VIEW, "owner agency has access"),
        ("AMBER shared with none", "group", Level.CHANGE, "not a group"),
        ("AMBER shared with none", "remote", Level.CHANGE, "hosted on this node"),
    ],
)
def test_grants_that_break_the_rules_are_refused_and_write_nothing(
    world: World, name: str, grantee: str, level: Level, message: str
) -> None:
    designation = named(world, name)
    if grantee == "group":
        target = world.group_ab
    elif grantee == "remote":
        remote = Node.objects.create(node_id="far", name="Far", base_url="https://far.example")
        target = agency_create(code="FAR", name="Far", jurisdiction="X", home_node=remote)
    else:
        target = world.agencies[grantee.removeprefix("agency:")]
    before = (grants_of(designation), ChangeLogEntry.objects.count(), AuditEntry.objects.count())

    with pytest.raises(ValidationError, match=message):
        grant_create(actor=world.users["a_admin"], obj=designation, grantee=target, level=level)

    after = (grants_of(designation), ChangeLogEntry.objects.count(), AuditEntry.objects.count())
    assert after == before


def test_a_refused_grant_in_the_portal_shows_why(world: World) -> None:
    designation = named(world, "AMBER+STRICT shared with none")
    response = signed_in(world, "a_admin").post(
        reverse("portal:designation-grant", args=[designation.pk]),
        {"grantee": "agency:NOPE", "level": "view"},
    )
    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Choose who to share with and at which level."
    ]
    assert grants_of(designation) == []


def test_change_can_be_delegated_to_a_local_agency(world: World) -> None:
    designation = named(world, "AMBER shared with none")
    b_admin = world.users["b_admin"]  # agency admins may publish
    with pytest.raises(PermissionDenied):
        designation_amend(
            actor=b_admin, designation=designation, changes={"reasons": "x"}, reason="not yet"
        )

    grant_create(
        actor=world.users["a_admin"],
        obj=designation,
        grantee=world.agencies["B"],
        level=Level.CHANGE,
    )
    designation_amend(
        actor=b_admin, designation=designation, changes={"reasons": "Updated"}, reason="delegated"
    )

    designation.refresh_from_db()
    assert designation.reasons == "Updated"
    # A liaison of the delegate still cannot change it: change needs a publisher.
    with pytest.raises(PermissionDenied):
        designation_amend(
            actor=world.users["b_liaison"],
            designation=designation,
            changes={"reasons": "y"},
            reason="no",
        )


def test_a_note_is_never_visible_where_its_designation_is_not(world: World) -> None:
    designation = named(world, "AMBER shared with agency:B")
    note = note_create(
        actor=world.users["a_publisher"],
        designation=designation,
        marking=Marking.CLEAR,
        title="Clear note",
        body="public words",
    )
    assert access.may(world.users["b_liaison"], Level.VIEW, note)
    assert not access.may(world.users["c_liaison"], Level.VIEW, note)  # CLEAR, but hidden

    grant_revoke(actor=world.users["a_admin"], obj=designation, grantee=world.agencies["B"])

    assert not access.may(world.users["b_liaison"], Level.VIEW, note)
    assert not access.notes_for(world.users["b_liaison"]).filter(pk=note.pk).exists()


def test_comment_level_is_needed_to_add_a_note(world: World) -> None:
    designation = named(world, "AMBER shared with agency:B")  # view level only
    with pytest.raises(PermissionDenied):
        note_create(actor=world.users["b_liaison"], designation=designation, title="t", body="b")
    assert AuditEntry.objects.filter(action="denied", object_id=str(designation.pk)).exists()

    grant_create(
        actor=world.users["a_admin"],
        obj=designation,
        grantee=world.agencies["B"],
        level=Level.COMMENT,
    )
    note = note_create(actor=world.users["b_liaison"], designation=designation, title="t", body="b")
    assert note.owner == world.agencies["B"]


def test_a_partner_node_sees_what_its_agencies_may_see(world: World) -> None:
    remote = Node.objects.create(node_id="b-node", name="B node", base_url="https://b.example")
    far = agency_create(code="FAR", name="Far", jurisdiction="X", home_node=remote)
    designation = named(world, "AMBER shared with none")
    visible = set(access.designations_for(remote).values_list("name", flat=True))
    assert visible == {
        s.designation.name for s in world.specs if s.marking in ("CLEAR", "GREEN") and not s.draft
    }

    grant_create(actor=world.users["a_admin"], obj=designation, grantee=far, level=Level.VIEW)

    assert access.designations_for(remote).filter(pk=designation.pk).exists()
    # Named-user grants never reach a node.
    assert (
        not access.designations_for(remote).filter(name="RED shared with user:b_liaison").exists()
    )


def test_site_admins_grant_through_guardians_admin_pages_and_it_is_recorded(world: World) -> None:
    designation = named(world, "AMBER shared with none")
    admin = Client()
    admin.force_login(world.users["site_admin"])
    group = world.agencies["C"].group
    page = reverse("admin:designations_designation_permissions", args=[designation.pk])
    assert admin.get(page).status_code == 200
    url = reverse(
        "admin:designations_designation_permissions_manage_group", args=[designation.pk, group.pk]
    )

    response = admin.post(url, {"permissions": ["view_designation"]})

    assert response.status_code == 302
    assert access.may(world.users["c_liaison"], Level.VIEW, designation)
    entry = AuditEntry.objects.filter(action="grant").latest("seq")
    assert (entry.actor_name, entry.detail["grantee"]) == ("site_admin", "agency:C")
    designation.refresh_from_db()
    assert designation.history.get(version=designation.version).changed_fields == ["audience"]

    admin.post(url, {"permissions": [], "_save": "Save"})  # and revoking there too

    assert not access.may(world.users["c_liaison"], Level.VIEW, designation)
    assert AuditEntry.objects.filter(action="revoke", actor_name="site_admin").exists()


def test_agency_admins_share_their_notes_in_the_portal(world: World) -> None:
    note = world.notes["b_amber"]  # agency B's AMBER note on a CLEAR designation
    charlie = signed_in(world, "c_liaison")
    assert charlie.get(note.get_absolute_url()).status_code == 404

    response = signed_in(world, "b_admin").post(
        reverse("portal:note-grant", args=[note.pk]), {"grantee": "agency:C", "level": "view"}
    )

    assert response.status_code == 302
    assert charlie.get(note.get_absolute_url()).status_code == 200
    note.refresh_from_db()
    assert note.version == 2
    assert ChangeLogEntry.objects.filter(object_id=note.pk, version=2).exists()
    # The designation's owner cannot share another agency's note.
    assert (
        signed_in(world, "a_admin")
        .post(reverse("portal:note-revoke", args=[note.pk]), {"grantee": "agency:C"})
        .status_code
        == 404
    )  # and does not even see it: it is B's AMBER note


def test_changing_the_marking_is_a_change_and_moves_the_audience(world: World) -> None:
    designation = named(world, "AMBER shared with none")
    charlie = world.users["c_liaison"]
    assert not access.may(charlie, Level.VIEW, designation)

    designation_amend(
        actor=world.users["a_publisher"],
        designation=designation,
        changes={"marking": Marking.GREEN},
        reason="released to partners",
    )

    designation.refresh_from_db()
    assert access.may(charlie, Level.VIEW, designation)
    latest = designation.history.get(version=designation.version)
    assert latest.changed_fields == ["marking"] and latest.reason == "released to partners"
    entry = AuditEntry.objects.filter(action="change", object_id=str(designation.pk)).latest("seq")
    assert entry.detail["fields"] == ["marking"]
