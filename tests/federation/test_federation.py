"""Three real nodes (UN hosts agency A, EU hosts B, UK hosts C), each with its own processes
and database, over real HTTP: what A shares with B reaches the EU node and never the UK node;
amendments and delisting follow; revoking the grant retracts it from the EU node."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.federation.cluster import LiveNode, federation, wait_for

NODES = {"un": "A", "eu": "B", "uk": "C"}
PROPAGATION = 30  # seconds; push makes it about one, the periodic pull at most a few


@pytest.fixture(scope="module")
def nodes(tmp_path_factory) -> Iterator[dict[str, LiveNode]]:
    with federation(tmp_path_factory.mktemp("federation"), NODES) as cluster:
        yield cluster


def cursor_of(node: LiveNode, partner: str) -> int:
    for line in node.manage("sync", "status").splitlines():
        if line.startswith(partner + " "):
            return int(line.split("cursor")[1].split()[0])
    return 0


def head_of(node: LiveNode) -> int:
    return int(node.manage("sync", "status").splitlines()[0].rsplit(" ", 1)[1])


def caught_up(node: LiveNode, origin: LiveNode) -> bool:
    return cursor_of(node, origin.node_id) >= head_of(origin)


def test_a_designation_shared_with_b_reaches_eu_and_not_uk(nodes) -> None:
    un, eu, uk = nodes["un"], nodes["eu"], nodes["uk"]
    created = un.api(
        "POST",
        "designations",
        {
            "regime": "R1",
            "name": "Ivan Federation",
            "subject_kind": "person",
            "marking": "AMBER",
            "names": [{"kind": "alias", "full_name": "Ivan the Shared"}],
        },
    )
    assert created.status, created.body
    designation = created.body["id"]
    shared = un.api(
        "POST", f"designations/{designation}/grants", {"grantee": "agency:B", "level": "view"}
    )
    assert shared.status == 201, shared.body

    wait_for(
        lambda: eu.api("GET", f"designations/{designation}").status == 200,
        timeout=PROPAGATION,
        what="the designation on the EU node",
    )
    replica = eu.api("GET", f"designations/{designation}").body
    assert replica["name"] == "Ivan Federation" and replica["owner"] == "A"
    assert {n["full_name"] for n in replica["names"]} >= {"Ivan the Shared"}

    wait_for(lambda: caught_up(uk, un), timeout=PROPAGATION, what="the UK node's pull")
    assert uk.api("GET", f"designations/{designation}").status == 404
    assert uk.api("GET", "designations?q=Ivan").body["results"] == []

    # Amend on the owner's node: the new version reaches EU.
    current = un.api("GET", f"designations/{designation}")
    amended = un.api(
        "PATCH",
        f"designations/{designation}",
        {"name": "Ivan Federation-Amended", "reason": "new facts"},
        **{"If-Match": current.headers["ETag"]},
    )
    assert amended.status == 200, amended.body
    wait_for(
        lambda: (
            eu.api("GET", f"designations/{designation}").body.get("name")
            == "Ivan Federation-Amended"
        ),
        timeout=PROPAGATION,
        what="the amendment on the EU node",
    )

    # Delist: the replica shows it delisted.
    current = un.api("GET", f"designations/{designation}")
    delisted = un.api(
        "POST",
        f"designations/{designation}/delist",
        {"reason": "court ruling"},
        **{"If-Match": current.headers["ETag"]},
    )
    assert delisted.status == 200, delisted.body
    wait_for(
        lambda: eu.api("GET", f"designations/{designation}").body.get("status") == "delisted",
        timeout=PROPAGATION,
        what="the delisting on the EU node",
    )
    assert (
        eu.api("GET", f"designations/{designation}").body["version"]
        == (un.api("GET", f"designations/{designation}").body["version"])
    )

    # Revoke B's grant: the EU node drops it.
    revoked = un.api("DELETE", f"designations/{designation}/grants/agency:B")
    assert revoked.status == 204
    wait_for(
        lambda: eu.api("GET", f"designations/{designation}").status == 404,
        timeout=PROPAGATION,
        what="the retraction on the EU node",
    )
    assert uk.api("GET", f"designations/{designation}").status == 404


def test_replicas_cannot_be_changed_on_the_receiving_node(nodes) -> None:
    un, eu = nodes["un"], nodes["eu"]
    created = un.api(
        "POST",
        "designations",
        {
            "regime": "R1",
            "name": "Open Listing",
            "subject_kind": "organisation",
            "marking": "GREEN",
        },
    )
    designation = created.body["id"]
    wait_for(
        lambda: eu.api("GET", f"designations/{designation}").status == 200,
        timeout=PROPAGATION,
        what="the GREEN designation on the EU node",
    )
    replica = eu.api("GET", f"designations/{designation}")
    attempt = eu.api(
        "PATCH",
        f"designations/{designation}",
        {"name": "Hijacked", "reason": "x"},
        **{"If-Match": replica.headers["ETag"]},
    )
    assert attempt.status == 403
    assert un.api("GET", f"designations/{designation}").body["name"] == "Open Listing"


def test_a_sharing_group_member_on_another_node_gets_older_shares_and_loses_them(nodes) -> None:
    un, eu, uk = nodes["un"], nodes["eu"], nodes["uk"]
    group_id = un.manage(
        "shell",
        "-c",
        "from agencies.models import Agency; from agencies.services import sharing_group_create;"
        "g = sharing_group_create(name='Task force', members=[Agency.objects.get(code='A')]);"
        "print(g.pk)",
    ).split()[-1]  # after the shell's own banner line
    created = un.api(
        "POST",
        "designations",
        {"regime": "R1", "name": "Task Force Target", "subject_kind": "person", "marking": "AMBER"},
    )
    designation = created.body["id"]
    shared = un.api(
        "POST",
        f"designations/{designation}/grants",
        {"grantee": f"sharing_group:{group_id}", "level": "view"},
    )
    assert shared.status == 201, (group_id, shared.body)
    wait_for(lambda: caught_up(eu, un), timeout=PROPAGATION, what="the EU node's pull")
    assert eu.api("GET", f"designations/{designation}").status == 404  # B is not a member yet

    membership = (
        "from agencies.models import Agency, SharingGroup;"
        f"g = SharingGroup.objects.get(pk='{group_id}');"
        "g.members.{}(Agency.objects.get(code='B'))"
    )
    un.manage("shell", "-c", membership.format("add"))
    wait_for(
        lambda: eu.api("GET", f"designations/{designation}").status == 200,
        timeout=PROPAGATION,
        what="the group's older share on the EU node after B joined",
    )
    un.manage("shell", "-c", membership.format("remove"))
    wait_for(
        lambda: eu.api("GET", f"designations/{designation}").status == 404,
        timeout=PROPAGATION,
        what="the retraction on the EU node after B left",
    )
    assert uk.api("GET", f"designations/{designation}").status == 404
