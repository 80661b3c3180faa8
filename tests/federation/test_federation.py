"""Three real nodes (UN hosts agency A, EU hosts B, UK hosts C), each with its own processes
and database, over real HTTP: what A shares with B reaches the EU node and never the UK node;
amendments and delisting follow; revoking the grant retracts it from the EU node; sharing-group
changes, notes written on another node, reconciliation and faults."""

from __future__ import annotations

import json
import signal
import time
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


def test_a_note_written_on_eu_reaches_the_owner_on_un(nodes) -> None:
    un, eu, uk = nodes["un"], nodes["eu"], nodes["uk"]
    created = un.api(
        "POST",
        "designations",
        {"regime": "R1", "name": "Noted Subject", "subject_kind": "person", "marking": "CLEAR"},
    )
    designation = created.body["id"]
    wait_for(
        lambda: eu.api("GET", f"designations/{designation}").status == 200,
        timeout=PROPAGATION,
        what="the designation on the EU node",
    )
    written = eu.api(
        "POST",
        "notes",
        {
            "designation": designation,
            "title": "Seen in Rotterdam",
            "body": "Customs report, 2026-11.",
            "marking": "GREEN",
        },
    )
    assert written.status == 201, written.body
    note = written.body["id"]

    def on_un() -> bool:
        listed = un.api("GET", f"notes?designation={designation}").body["results"]
        return note in {row["id"] for row in listed}

    wait_for(on_un, timeout=PROPAGATION, what="B's note on the UN node")
    arrived = un.api("GET", f"notes/{note}").body
    assert (arrived["owner"], arrived["title"]) == ("B", "Seen in Rotterdam")
    # An AMBER note of B's stays with B.
    private = eu.api(
        "POST",
        "notes",
        {"designation": designation, "title": "B only", "body": "x", "marking": "AMBER"},
    )
    assert private.status == 201
    wait_for(lambda: caught_up(un, eu), timeout=PROPAGATION, what="the UN node's pull")
    assert un.api("GET", f"notes/{private.body['id']}").status == 404
    # Onward: the GREEN note on a CLEAR designation is for everyone who sees it, on UK too.
    wait_for(
        lambda: uk.api("GET", f"notes/{note}").status == 200,
        timeout=PROPAGATION,
        what="B's GREEN note on the UK node",
    )
    assert uk.api("GET", f"notes/{private.body['id']}").status == 404


def test_a_proposal_from_eu_is_accepted_on_un_and_eu_sees_the_new_version(nodes) -> None:
    un, eu = nodes["un"], nodes["eu"]
    created = un.api(
        "POST",
        "designations",
        {"regime": "R1", "name": "Proposed Upon", "subject_kind": "person", "marking": "AMBER"},
    )
    designation = created.body["id"]
    un.api("POST", f"designations/{designation}/grants", {"grantee": "agency:B", "level": "view"})
    wait_for(
        lambda: eu.api("GET", f"designations/{designation}").status == 200,
        timeout=PROPAGATION,
        what="the designation on the EU node",
    )
    proposed = eu.api(
        "POST",
        f"designations/{designation}/proposals",
        {
            "kind": "amend",
            "changes": {"reasons": "Directs Northern Star Maritime."},
            "reason": "EU investigation, case 2026/114.",
        },
    )
    assert proposed.status == 201, proposed.body
    proposal = proposed.body["id"]
    wait_for(
        lambda: un.api("GET", f"proposals/{proposal}").status == 200,
        timeout=PROPAGATION,
        what="the proposal on the UN node",
    )
    decided = un.api(
        "POST", f"proposals/{proposal}/decision", {"decision": "accept", "reason": "Verified."}
    )
    assert decided.status == 200, decided.body
    new_version = decided.body["resulting_version"]

    wait_for(
        lambda: eu.api("GET", f"proposals/{proposal}").body.get("status") == "accepted",
        timeout=PROPAGATION,
        what="the decision on the EU node",
    )
    wait_for(
        lambda: eu.api("GET", f"designations/{designation}").body.get("version") == new_version,
        timeout=PROPAGATION,
        what="the new version on the EU node",
    )
    replica = eu.api("GET", f"designations/{designation}").body
    assert replica["reasons"] == "Directs Northern Star Maritime."
    assert nodes["uk"].api("GET", f"proposals/{proposal}").status == 404


def test_an_attachment_opens_on_eu_with_the_right_bytes(nodes) -> None:
    import os

    un, eu, uk = nodes["un"], nodes["eu"], nodes["uk"]
    created = un.api(
        "POST",
        "designations",
        {"regime": "R1", "name": "With Evidence", "subject_kind": "person", "marking": "AMBER"},
    )
    designation = created.body["id"]
    content = os.urandom(300_000)  # several segments
    uploaded = un.api(
        "POST",
        f"designations/{designation}/attachments",
        raw=content,
        **{
            "Content-Type": "application/pdf",
            "Content-Disposition": 'attachment; filename="evidence.pdf"',
        },
    )
    assert uploaded.status == 201, uploaded.body
    attachment = uploaded.body["id"]
    shared = un.api(
        "POST", f"designations/{designation}/grants", {"grantee": "agency:B", "level": "download"}
    )
    assert shared.status == 201, shared.body

    wait_for(
        lambda: eu.api("GET", f"attachments/{attachment}").status == 200,
        timeout=PROPAGATION,
        what="the attachment on the EU node",
    )
    metadata = eu.api("GET", f"attachments/{attachment}").body
    assert (metadata["original_name"], metadata["size"]) == ("evidence.pdf", len(content))
    downloaded = eu.api("GET", f"attachments/{attachment}/content")
    assert downloaded.status == 200, downloaded.headers
    assert downloaded.body == content
    wait_for(lambda: caught_up(uk, un), timeout=PROPAGATION, what="the UK node's pull")
    assert uk.api("GET", f"attachments/{attachment}").status == 404

    # Download level withdrawn (view stays): the file leaves the EU node, the record stays.
    un.api("POST", f"designations/{designation}/grants", {"grantee": "agency:B", "level": "view"})
    wait_for(
        lambda: eu.api("GET", f"attachments/{attachment}").status == 404,
        timeout=PROPAGATION,
        what="the attachment's retraction on the EU node",
    )
    assert eu.api("GET", f"designations/{designation}").status == 200


def drift(node: LiveNode, origin: LiveNode) -> int:
    """Reconcile `node` with `origin` now; the drift it found (0: digests were equal)."""
    deadline = time.monotonic() + PROPAGATION
    while True:
        out = node.manage("sync", "reconcile", origin.node_id)
        if "drift " in out:
            return int(out.split("drift ")[1].split()[0])
        assert time.monotonic() < deadline, out  # "another run is in progress" for too long
        time.sleep(0.5)


def test_every_pair_of_nodes_ends_with_equal_digests(nodes) -> None:
    pairs = [(n, o) for n in nodes.values() for o in nodes.values() if o is not n]
    for node, origin in pairs:
        wait_for(
            lambda node=node, origin=origin: caught_up(node, origin),
            timeout=PROPAGATION,
            what="pulls",
        )
        assert drift(node, origin) == 0, (node.node_id, origin.node_id)


def test_reconcile_repairs_a_replica_lost_or_altered_on_the_partner(nodes) -> None:
    un, eu = nodes["un"], nodes["eu"]
    created = un.api(
        "POST",
        "designations",
        {"regime": "R1", "name": "Repair Me", "subject_kind": "person", "marking": "CLEAR"},
    )
    designation = created.body["id"]
    wait_for(
        lambda: eu.api("GET", f"designations/{designation}").status == 200,
        timeout=PROPAGATION,
        what="the designation on the EU node",
    )
    # Damage on the EU node's side: the replica is lost (as after restoring an old backup).
    eu.manage(
        "shell",
        "-c",
        "from designations.models import Designation;"
        f"Designation.objects.filter(pk='{designation}').delete()",
    )
    assert eu.api("GET", f"designations/{designation}").status == 404
    assert drift(eu, un) == 1
    assert eu.api("GET", f"designations/{designation}").body["name"] == "Repair Me"
    assert drift(eu, un) == 0

    # A note travels the same way and is repaired the same way: lost, and one left behind.
    written = un.api(
        "POST",
        "notes",
        {"designation": designation, "title": "Repair", "body": "x", "marking": "GREEN"},
    )
    assert written.status == 201, written.body
    note = written.body["id"]
    wait_for(
        lambda: eu.api("GET", f"notes/{note}").status == 200,
        timeout=PROPAGATION,
        what="the note on the EU node",
    )
    eu.manage(
        "shell",
        "-c",
        "from designations.models import IntelligenceNote;"
        f"IntelligenceNote.objects.filter(pk='{note}').delete()",
    )
    assert drift(eu, un) == 1
    assert eu.api("GET", f"notes/{note}").body["title"] == "Repair"
    # The origin stops serving a note (deleted there without the change reaching EU): dropped.
    un.manage(
        "shell",
        "-c",
        "from designations.models import IntelligenceNote;"
        f"IntelligenceNote.objects.filter(pk='{note}').delete()",
    )
    assert drift(eu, un) == 1
    assert eu.api("GET", f"notes/{note}").status == 404
    assert drift(eu, un) == 0


def test_a_partner_down_for_a_while_catches_up_when_back(nodes) -> None:
    un, eu = nodes["un"], nodes["eu"]
    eu.stop()
    created = un.api(
        "POST",
        "designations",
        {
            "regime": "R1",
            "name": "While You Were Out",
            "subject_kind": "person",
            "marking": "GREEN",
        },
    )
    designation = created.body["id"]
    time.sleep(3)  # the push fails meanwhile and is retried with backoff
    eu.start()
    wait_for(
        lambda: eu.api("GET", f"designations/{designation}").status == 200,
        timeout=PROPAGATION,
        what="the EU node to catch up after its restart",
    )
    wait_for(lambda: caught_up(eu, un), timeout=PROPAGATION, what="the EU node's cursor")
    assert drift(eu, un) == 0


def test_a_worker_killed_mid_run_loses_and_doubles_nothing(nodes) -> None:
    un, eu = nodes["un"], nodes["eu"]
    ids = []
    for n in range(40):
        created = un.api(
            "POST",
            "designations",
            {"regime": "R1", "name": f"Bulk {n}", "subject_kind": "person", "marking": "CLEAR"},
        )
        ids.append(created.body["id"])
        if n == 20:
            eu.stop("worker", sig=signal.SIGKILL)  # mid-stream, tasks in flight
    eu.start("worker")
    wait_for(
        lambda: all(eu.api("GET", f"designations/{pk}").status == 200 for pk in ids[-3:]),
        timeout=PROPAGATION,
        what="the EU node to apply everything after the worker was killed",
    )
    wait_for(lambda: caught_up(eu, un), timeout=PROPAGATION, what="the EU node's cursor")
    assert drift(eu, un) == 0
    listed = eu.api("GET", "designations?q=Bulk&page_size=200").body["results"]
    assert sorted(row["id"] for row in listed) == sorted(ids)  # each once


def test_a_broker_restart_costs_a_delay_not_a_change(nodes) -> None:
    """The broker goes away and comes back empty (no persistence): the change made while it is
    down is committed all the same, the messages it held are lost, workers and beat reconnect,
    and the periodic pull brings everything, once."""
    un, eu = nodes["un"], nodes["eu"]
    if un.broker is None:
        pytest.skip("needs redis-server")
    un.stop("worker")  # the push of the first change waits in the broker, and is lost with it
    before = un.api(
        "POST",
        "designations",
        {"regime": "R1", "name": "Before Restart", "subject_kind": "person", "marking": "CLEAR"},
    )
    assert before.status == 201, before.body
    un.broker.stop()
    during = un.api(
        "POST",
        "designations",
        {"regime": "R1", "name": "During Restart", "subject_kind": "person", "marking": "CLEAR"},
    )
    assert during.status == 201, during.body  # the broker is not needed to publish
    assert "could not queue the push" in (un.var_dir / "web.log").read_text()
    un.broker.start()
    un.start("worker")
    ids = [before.body["id"], during.body["id"]]
    wait_for(
        lambda: all(eu.api("GET", f"designations/{pk}").status == 200 for pk in ids),
        timeout=PROPAGATION,
        what="both changes on the EU node after the broker's restart",
    )
    wait_for(lambda: caught_up(eu, un), timeout=PROPAGATION, what="the EU node's cursor")
    assert drift(eu, un) == 0
    listed = eu.api("GET", "designations?q=Restart&page_size=50").body["results"]
    assert sorted(row["id"] for row in listed) == sorted(ids)  # each once


def test_pushed_batches_repeated_or_out_of_order_change_nothing_twice(nodes) -> None:
    """UN's real signed batches, posted to the EU node's inbox by hand: the last one first (a
    gap: refused, nothing applied), each twice (a duplicate the second time), then in order."""
    un, eu = nodes["un"], nodes["eu"]
    for node in (un, eu):
        node.stop("worker", "beat")  # no push and no pull but these
    ids = [
        un.api(
            "POST",
            "designations",
            {"regime": "R1", "name": f"Pushed {n}", "subject_kind": "person", "marking": "GREEN"},
        ).body["id"]
        for n in range(3)
    ]
    start = cursor_of(eu, "un")
    batches, after = [], start
    while True:
        status, body = _signed(un, eu, "GET", f"/sync/v1/feed?after={after}&limit=1")
        assert status == 200, body
        batches.append(body)
        after = json.loads(body)["until"]
        if not json.loads(body)["more"]:
            break
    assert len(batches) >= 3

    def post(body: bytes) -> tuple[int, dict]:
        status, answer = _signed(eu, un, "POST", "/sync/v1/inbox", body)
        return status, json.loads(answer)

    assert post(batches[-1]) == (409, {"status": "gap", "cursor": start})
    assert all(eu.api("GET", f"designations/{pk}").status == 404 for pk in ids)
    for body in batches:
        until = json.loads(body)["until"]
        assert post(body) == (200, {"status": "applied", "cursor": until})
        assert post(body) == (200, {"status": "duplicate", "cursor": until})
    assert post(batches[0])[1]["status"] == "duplicate"  # a late one
    assert cursor_of(eu, "un") == head_of(un)
    listed = eu.api("GET", "designations?q=Pushed&page_size=50").body["results"]
    assert sorted(row["id"] for row in listed) == sorted(ids)
    for node in (un, eu):
        node.start("worker", "beat")
    assert drift(eu, un) == 0


def test_a_note_that_arrives_before_its_designation_is_held_then_applied(nodes) -> None:
    """UK writes a note on a UN designation; it reaches the EU node while UN is down and EU
    does not hold the designation yet: held, with its error, shown in the sync status, and
    applied once UN is back and its designation arrives."""
    un, eu, uk = nodes["un"], nodes["eu"], nodes["uk"]
    eu.stop()  # EU does not take UN's designation yet (neither pulled nor pushed to its inbox)
    created = un.api(
        "POST",
        "designations",
        {"regime": "R1", "name": "Noted Before", "subject_kind": "person", "marking": "CLEAR"},
    )
    designation = created.body["id"]
    wait_for(
        lambda: uk.api("GET", f"designations/{designation}").status == 200,
        timeout=PROPAGATION,
        what="the designation on the UK node",
    )
    un.stop()  # UN is down: the EU node cannot get the designation from it
    written = uk.api(
        "POST",
        "notes",
        {"designation": designation, "title": "Early", "body": "From UK.", "marking": "GREEN"},
    )
    assert written.status == 201, written.body
    note = written.body["id"]
    eu.start()
    wait_for(
        lambda: "held 1" in _status_line(eu, "uk"),
        timeout=PROPAGATION,
        what="the EU node to hold UK's note",
    )
    status = eu.manage("sync", "status")
    assert f"held note {note}" in status and "not here" in status, status
    assert eu.api("GET", f"notes/{note}").status == 404

    un.start()
    wait_for(
        lambda: eu.api("GET", f"notes/{note}").status == 200,
        timeout=PROPAGATION,
        what="the held note applied once its designation arrived",
    )
    assert eu.api("GET", f"designations/{designation}").status == 200
    wait_for(lambda: "held 0" in _status_line(eu, "uk"), timeout=PROPAGATION, what="no held")


def _status_line(node: LiveNode, partner: str) -> str:
    for line in node.manage("sync", "status").splitlines():
        if line.startswith(partner + " "):
            return line
    return ""


def _keys_of(node: LiveNode):  # type: ignore[no-untyped-def]
    """A node's private keys, read from its key file (the test acts as that node)."""
    import json as _json

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    from sharing.node_keys import NodeKeys, unb64

    body = _json.loads((node.var_dir / f"node-{node.node_id}.key.json").read_text())
    return NodeKeys(
        signing=Ed25519PrivateKey.from_private_bytes(
            unb64(body["signing_private_key"], size=32, what="key")
        ),
        exchange=X25519PrivateKey.from_private_bytes(
            unb64(body["exchange_private_key"], size=32, what="key")
        ),
    )


def _signed(
    origin: LiveNode,
    sender: LiveNode,
    method: str,
    path: str,
    body: bytes = b"",
    keys=None,
    at=None,
):  # type: ignore[no-untyped-def]
    """A request to `origin` signed as `sender` (by its key file, or by `keys`)."""
    import urllib.error
    import urllib.request

    from agencies.models import Node
    from sharing.node_auth import signed_headers

    headers = signed_headers(
        method=method,
        path=path,
        body=body,
        recipient=Node(node_id=origin.node_id),
        sender=sender.node_id,
        keys=keys or _keys_of(sender),
        at=at,
    )
    headers["Content-Type"] = "application/json"
    request = urllib.request.Request(  # noqa: S310
        origin.base_url + path, data=body or None, headers=headers, method=method
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _signed_get(origin: LiveNode, sender: LiveNode, path: str, keys=None, at=None):  # type: ignore[no-untyped-def]
    return _signed(origin, sender, "GET", path, keys=keys, at=at)


def test_forged_stale_and_replayed_requests_are_refused_by_a_real_node(nodes) -> None:
    from sharing.node_keys import generate_node_keys

    un, eu = nodes["un"], nodes["eu"]
    path = "/sync/v1/feed?after=0&limit=1"
    assert _signed_get(un, eu, path)[0] == 200  # the real key, now: accepted
    forged = _signed_get(un, eu, path, keys=generate_node_keys())
    assert forged[0] == 401 and b"signature" in forged[1]
    skewed = _signed_get(un, eu, path, at=int(time.time()) - 120)
    assert skewed[0] == 401 and b"window" in skewed[1]
    audited = un.manage(
        "shell",
        "-c",
        "from sharing.models import AuditEntry;"
        "print(AuditEntry.objects.filter(action='denied', detail__path='/sync/v1/feed').count())",
    )
    assert int(audited.split()[-1]) >= 2


def test_an_altered_batch_is_rejected_audited_and_the_real_one_applied_later(nodes) -> None:
    """The EU node's registered address for UN points at an impostor that serves UN's real,
    signed batches with one value changed: the EU node applies nothing of them, records the
    error, and catches up once UN is reachable again."""
    import json as _json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from tests.federation.cluster import free_port

    un, eu = nodes["un"], nodes["eu"]
    created = un.api(
        "POST",
        "designations",
        {"regime": "R1", "name": "Genuine Name", "subject_kind": "person", "marking": "CLEAR"},
    )
    designation = created.body["id"]
    wait_for(lambda: caught_up(eu, un), timeout=PROPAGATION, what="the EU node's pull")
    eu_keys = _keys_of(eu)

    class Impostor(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, body = _signed_get(un, eu, self.path, keys=eu_keys)  # the real batch
            if status == 200 and self.path.startswith("/sync/v1/feed"):
                batch = _json.loads(body)
                for record in batch["records"]:
                    if record.get("data", {}).get("name", "").startswith("Genuine"):
                        record["data"]["name"] = "Tampered Name"
                body = _json.dumps(batch).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            self.send_response(202)
            self.end_headers()

        def log_message(self, *args) -> None:  # type: ignore[no-untyped-def]
            pass

    un.stop("worker")  # no push: the EU node reads UN's feed, through the impostor
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Impostor)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    descriptor = _json.loads(un.manage("node", "export"))
    try:
        eu.manage(
            "node",
            "add-partner",
            "-",
            stdin=_json.dumps({**descriptor, "base_url": f"http://127.0.0.1:{server.server_port}"}),
        )
        amended_version = un.api("GET", f"designations/{designation}")
        un.api(
            "PATCH",
            f"designations/{designation}",
            {"name": "Genuine Name Amended", "reason": "update"},
            **{"If-Match": amended_version.headers["ETag"]},
        )
        wait_for(
            lambda: "does not verify" in eu.manage("sync", "status"),
            timeout=PROPAGATION,
            what="the EU node to reject the altered batch",
        )
        assert eu.api("GET", f"designations/{designation}").body["name"] == "Genuine Name"
        denied = eu.manage(
            "shell",
            "-c",
            "from sharing.models import AuditEntry;"
            "print(AuditEntry.objects.filter(action='denied', detail__sync='batch signature')"
            ".count())",
        )
        assert int(denied.split()[-1]) >= 1
    finally:
        eu.manage("node", "add-partner", "-", stdin=_json.dumps(descriptor))
        server.shutdown()
        un.start("worker")
    wait_for(
        lambda: (
            eu.api("GET", f"designations/{designation}").body.get("name") == "Genuine Name Amended"
        ),
        timeout=PROPAGATION,
        what="the real amendment on the EU node",
    )
    assert drift(eu, un) == 0


def test_a_synced_designation_is_linked_to_the_same_subject_by_the_worker(nodes) -> None:
    """Sync brings UN's listing to the EU node, whose worker reconciles: the EU agency's own
    listing of the same passport holder is linked to it there, with nobody acting."""
    un, eu = nodes["un"], nodes["eu"]
    passport = {"kind": "passport", "number": "P7654321", "issuing_country": "Syria"}
    mine = eu.api(
        "POST",
        "designations",
        {
            "regime": "R1",
            "name": "Bassam Khalil",
            "subject_kind": "person",
            "marking": "CLEAR",
            "identifiers": [passport],
        },
    )
    assert mine.status == 201, mine.body
    theirs = un.api(
        "POST",
        "designations",
        {
            "regime": "R1",
            "name": "KHALIL, Bassam",
            "subject_kind": "person",
            "marking": "CLEAR",
            "identifiers": [{**passport, "issuing_country": "Syrian Arab Republic"}],
        },
    )
    assert theirs.status == 201, theirs.body
    check = (
        "from designations.models import SubjectLink as L;"
        f"print(L.objects.filter(left_id__in=['{mine.body['id']}', '{theirs.body['id']}'],"
        f" right_id__in=['{mine.body['id']}', '{theirs.body['id']}'], method='identifier',"
        " status='linked').count())"
    )
    wait_for(
        lambda: eu.manage("shell", "-c", check).split()[-1] == "1",
        timeout=PROPAGATION,
        what="the EU node's worker to link the synced UN listing",
    )
