"""A small federation member for access tests: agencies A, B, C, a sharing group {A, B}, people of
every role, and agency A's designations of every marking with and without grants.

`expected_to_see` is the test's own statement of the rules (TLP 2.0 plus grants), written
independently of sharing.access, which the tests check against it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.contrib.auth.models import AnonymousUser, Permission
from django.utils import timezone

from agencies.api_clients import ClientPrincipal, api_client_create
from agencies.models import Agency, Role, SharingGroup, User
from agencies.services import agency_create, node_ensure_local, sharing_group_create, user_create
from designations.models import (
    Attachment,
    Designation,
    DesignationGroupObjectPermission,
    IntelligenceNote,
    Regime,
)
from designations.services import designation_create, note_create
from sharing.access import Level
from sharing.grants import grant_create
from sharing.models import Marking
from tests.conftest import PASSWORD

MARKINGS = [Marking.CLEAR, Marking.GREEN, Marking.AMBER, Marking.AMBER_STRICT, Marking.RED]
# How each of A's designations is shared besides its marking.
GRANTS = ["none", "agency:B", "group:AB", "user:b_liaison"]
# A word every matrix designation carries in an alias, so one search should find them all.
TOKEN = "zqxmatrix"


@dataclass
class Spec:
    designation: Designation
    marking: str
    grant: str
    draft: bool = False
    # People named on the object (user grants); a TLP:RED object names its author.
    named: frozenset[str] = frozenset()


@dataclass
class World:
    agencies: dict[str, Agency]
    group_ab: SharingGroup
    users: dict[str, User | AnonymousUser]
    specs: list[Spec]
    notes: dict[str, IntelligenceNote] = field(default_factory=dict)
    note_about: dict[str, Spec] = field(default_factory=dict)
    # Attachments on designations, by the designation's name.
    attachments: dict[str, Attachment] = field(default_factory=dict)
    # API clients (principal, token): client_a of A with every scope, client_b of B read-only.
    clients: dict[str, tuple[object, str]] = field(default_factory=dict)

    def designations(self) -> list[Designation]:
        return [spec.designation for spec in self.specs]


def expected_to_see(world: World, username: str, spec: Spec) -> bool:
    user = world.users[username]
    if isinstance(user, AnonymousUser) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    if username in spec.named:
        return True  # named people see it whatever the marking
    if user.agency_id is None or spec.marking == Marking.RED:
        return False  # staff without agency see nothing; RED is for named people only
    agency = user.agency.code
    if agency == "A":
        return True  # the owner
    if spec.draft:
        return False
    if spec.marking in (Marking.CLEAR, Marking.GREEN):
        return True
    if spec.grant == f"agency:{agency}":
        return True
    in_group = agency in {a.code for a in world.group_ab.members.all()}
    return spec.grant == "group:AB" and in_group and spec.marking != Marking.AMBER_STRICT


def expected_note_visible(world: World, username: str, note_key: str) -> bool:
    """Notes here are GREEN (everyone who sees the designation) or AMBER by agency B."""
    spec = world.note_about[note_key]
    if not expected_to_see(world, username, spec):
        return False
    note = world.notes[note_key]
    user = world.users[username]
    if note.marking == Marking.GREEN or user.is_superuser:
        return True
    return user.agency_id == note.owner_id


def _raw_group_grant(designation: Designation, group_id: int) -> None:
    """A grant row the portal would refuse (made as if through guardian's admin pages), to
    prove that the gate ignores it."""
    DesignationGroupObjectPermission.objects.create(
        content_object=designation,
        group_id=group_id,
        permission=Permission.objects.get(codename="view_designation"),
    )


def build_world(*, with_attachments: bool = True, with_clients: bool = True) -> World:
    node = node_ensure_local()
    agencies = {
        code: agency_create(code=code, name=f"Agency {code}", jurisdiction=code, home_node=node)
        for code in "ABC"
    }
    group_ab = sharing_group_create(name="Task force AB", members=[agencies["A"], agencies["B"]])
    people = {
        "a_admin": ("A", Role.AGENCY_ADMIN),
        "a_publisher": ("A", Role.PUBLISHER),
        "a_liaison": ("A", Role.LIAISON),
        "b_admin": ("B", Role.AGENCY_ADMIN),
        "b_liaison": ("B", Role.LIAISON),
        "c_liaison": ("C", Role.LIAISON),
    }
    users: dict[str, User | AnonymousUser] = {
        name: user_create(username=name, agency=agencies[code], role=role, password=PASSWORD)
        for name, (code, role) in people.items()
    }
    site_admin = User.objects.create_superuser("site_admin", password=PASSWORD)
    staff = User.objects.create_user("staff", password=PASSWORD, is_staff=True)
    users.update(site_admin=site_admin, staff=staff, anonymous=AnonymousUser())

    regime = Regime.objects.create(owner=agencies["A"], code="TEST", name="Test regime")
    publisher, admin = users["a_publisher"], users["a_admin"]
    specs = []
    for marking in MARKINGS:
        for grant in GRANTS:
            designation = designation_create(
                actor=admin if marking == Marking.RED else publisher,
                regime=regime,
                marking=marking,
                data={
                    "name": f"{marking} shared with {grant}",
                    "subject_kind": "person",
                    "names": [{"kind": "alias", "full_name": f"{TOKEN} {marking} {grant}"}],
                },
            )
            if marking == Marking.RED and grant in {"agency:B", "group:AB"}:
                group = agencies["B"].group if grant == "agency:B" else group_ab.group
                _raw_group_grant(designation, group.pk)
            elif marking == Marking.AMBER_STRICT and grant == "group:AB":
                _raw_group_grant(designation, group_ab.group.pk)
            elif grant == "agency:B":
                grant_create(actor=admin, obj=designation, grantee=agencies["B"], level=Level.VIEW)
            elif grant == "group:AB":
                grant_create(actor=admin, obj=designation, grantee=group_ab, level=Level.VIEW)
            elif grant == "user:b_liaison":
                grant_create(
                    actor=admin, obj=designation, grantee=users["b_liaison"], level=Level.VIEW
                )
            named = {grant.removeprefix("user:")} if grant.startswith("user:") else set()
            if marking == Marking.RED:
                named.add("a_admin")
            specs.append(Spec(designation, marking, grant, named=frozenset(named)))
    draft = designation_create(
        actor=publisher,
        regime=regime,
        marking=Marking.GREEN,
        status="draft",
        data={
            "name": "Draft shared with agency:B",
            "subject_kind": "person",
            "names": [{"kind": "alias", "full_name": f"{TOKEN} draft"}],
        },
    )
    grant_create(actor=admin, obj=draft, grantee=agencies["B"], level=Level.VIEW)
    specs.append(Spec(draft, Marking.GREEN, "agency:B", draft=True))

    world = World(agencies=agencies, group_ab=group_ab, users=users, specs=specs)
    clients = [
        ("client_a", "a_admin", ["read", "write", "grants"]),
        ("client_b", "b_admin", ["read"]),
    ]
    for name, admin_name, scopes in clients if with_clients else []:
        api_client, token = api_client_create(
            actor=users[admin_name],
            name=name,
            scopes=scopes,
            expires_at=timezone.now() + dt.timedelta(days=30),
        )
        world.clients[name] = (ClientPrincipal(api_client), token)
    by_name = {spec.designation.name: spec for spec in specs}
    # A GREEN note by A on an AMBER designation shared with B, and an AMBER note by B on a
    # CLEAR one (which A, the designation's owner, must not see: the note is B's).
    about = by_name["AMBER shared with agency:B"]
    clear = by_name["CLEAR shared with none"]
    world.notes["a_green"] = note_create(
        actor=publisher,
        designation=about.designation,
        marking=Marking.GREEN,
        title="A green note",
        body="seen wherever the designation is",
    )
    world.notes["b_amber"] = note_create(
        actor=users["b_liaison"],
        designation=clear.designation,
        marking=Marking.AMBER,
        title="B amber note",
        body="agency B only",
    )
    world.note_about = {"a_green": about, "b_amber": clear}
    # A GREEN note on an AMBER designation nobody else may see: hidden with it.
    hidden = by_name["AMBER shared with none"]
    world.notes["on_hidden"] = note_create(
        actor=publisher,
        designation=hidden.designation,
        marking=Marking.GREEN,
        title="Note on a hidden designation",
        body="never beyond its designation",
    )
    world.note_about["on_hidden"] = hidden
    from tests.attachments import make_attachment

    names = ["CLEAR shared with none", "AMBER shared with agency:B", "RED shared with none"]
    for name in names if with_attachments else []:
        spec = by_name[name]
        author = admin if spec.marking == Marking.RED else publisher
        world.attachments[name] = make_attachment(author, spec.designation, name.encode() * 50)
    return world


def expected_to_download(world: World, username: str, spec: Spec) -> bool:
    """Download level: the owner agency, the community for CLEAR/GREEN, named people with
    change (a RED object's author); the grants in this world are at view level only."""
    user = world.users[username]
    if not expected_to_see(world, username, spec):
        return False
    if user.is_superuser:
        return True
    if spec.marking == Marking.RED:
        return username == "a_admin"
    return user.agency.code == "A" or spec.marking in (Marking.CLEAR, Marking.GREEN)


def expected_to_attach(world: World, username: str, spec: Spec) -> bool:
    """Files on a designation need the change level: the owner's publishers and admins (for
    RED, the named author)."""
    user = world.users[username]
    if not expected_to_see(world, username, spec):
        return False
    if user.is_superuser:
        return True
    if spec.marking == Marking.RED:
        return username == "a_admin"
    return user.agency.code == "A" and user.may_publish
