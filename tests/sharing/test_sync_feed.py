"""The sync feed (origin side): a partner node gets, in sequence order and signed, exactly what
its agencies may see, and a retraction for what it may no longer see."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from agencies.models import Agency, Node
from designations.services import designation_amend
from sharing.access import Level
from sharing.grants import grant_revoke
from sharing.models import AuditEntry
from sharing.node_auth import signed_headers
from sharing.node_keys import generate_node_keys
from sharing.sync_feed import batch_verify
from tests.world import World, build_world, expected_to_see

pytestmark = pytest.mark.django_db
FEED = reverse("sync-feed")


@pytest.fixture
def federation(tmp_path):
    """This node (A and C at home) and partner node "eu", home of agency B."""
    world = build_world(with_attachments=False, with_clients=False)
    call_command("node", "init", stdout=io.StringIO())
    keys = generate_node_keys()
    partner = Node.objects.create(
        node_id="eu",
        name="EU node",
        base_url="http://127.0.0.1:8001",
        signing_public_key=keys.signing_public,
        exchange_public_key=keys.exchange_public,
    )
    Agency.objects.filter(code="B").update(home_node=partner)
    return world, partner, keys


def read_feed(partner: Node, keys, query: str) -> dict:
    path = f"{FEED}?{query}"
    headers = signed_headers(
        method="GET",
        path=path,
        body=b"",
        recipient=Node.objects.get(is_local=True),
        sender=partner.node_id,
        keys=keys,
    )
    response = Client().get(path, headers=headers)
    assert response.status_code == 200, response.content
    return response.json()


def named(world: World, name: str):
    return next(s.designation for s in world.specs if s.designation.name == name)


def test_the_partner_gets_what_its_agencies_may_see_signed(federation) -> None:
    world, partner, keys = federation
    batch = read_feed(partner, keys, "after=0")

    expected = {str(s.designation.pk) for s in world.specs if expected_to_see(world, "b_admin", s)}
    designations = [r for r in batch["records"] if r["type"] == "designation"]
    assert {r["id"] for r in designations} == expected
    # Notes written here travel too, where the partner may see them and their designation.
    notes = {r["id"] for r in batch["records"] if r["type"] == "note"}
    assert notes == {str(world.notes["a_green"].pk)}  # not the one on a hidden designation
    assert all(r["action"] == "upsert" for r in batch["records"])
    seqs = [r["seq"] for r in batch["records"]]
    assert seqs == sorted(seqs)
    by_name = {r["data"]["name"]: r for r in designations}
    assert by_name["AMBER shared with agency:B"]["audience"] == {"B": Level.VIEW.label}
    assert by_name["CLEAR shared with none"]["audience"] == {"B": Level.DOWNLOAD.label}
    assert "RED shared with user:b_liaison" not in by_name  # named people do not travel
    # This node's own grants (other agencies, groups, people) stay here.
    assert all("audience" not in r["data"] for r in designations)
    assert batch["origin"] == Node.objects.get(is_local=True).node_id
    assert batch["recipient"] == "eu" and batch["more"] is False

    local = Node.objects.get(is_local=True)
    assert batch_verify(local, batch)
    altered = json.loads(json.dumps(batch))
    altered["records"][0]["data"]["name"] = "Someone else"
    assert not batch_verify(local, altered)
    assert AuditEntry.objects.filter(action="sync", detail__partner="eu").exists()


def test_a_revoked_grant_is_retracted_and_hidden_changes_say_nothing(federation) -> None:
    world, partner, keys = federation
    first = read_feed(partner, keys, "after=0")
    shared = named(world, "AMBER shared with agency:B")
    hidden = named(world, "AMBER shared with none")

    grant_revoke(actor=world.users["a_admin"], obj=shared, grantee=world.agencies["B"])
    designation_amend(
        actor=world.users["a_publisher"], designation=hidden, changes={"reasons": "x"}, reason="y"
    )
    second = read_feed(partner, keys, f"after={first['until']}")

    assert second["records"] == [
        {
            "seq": second["records"][0]["seq"],
            "type": "designation",
            "id": str(shared.pk),
            "action": "retract",
        }
    ]
    # Read again from the same cursor (the batch never applied: lost, refused while busy, its
    # worker killed): the retraction again.
    again = read_feed(partner, keys, f"after={first['until']}")
    assert again["records"] == second["records"]
    # Once the partner reads on from past it, it holds the retraction: not sent again.
    read_feed(partner, keys, f"after={second['until']}")
    third = read_feed(partner, keys, f"after={first['until']}")
    assert third["records"] == []


def test_pages_follow_the_cursor_to_the_same_state(federation) -> None:
    _world, partner, keys = federation
    seen, after, pages = {}, 0, 0
    while True:
        batch = read_feed(partner, keys, f"after={after}&limit=5")
        # An object changed again later shows up again, at its current state: applying it
        # twice changes nothing (apply rules), so pages may repeat but never disagree.
        for record in batch["records"]:
            assert seen.setdefault(record["id"], record["version"]) == record["version"]
        pages += 1
        after = batch["until"]
        if not batch["more"]:
            break
    assert pages > 2
    whole = read_feed(partner, keys, "after=0")["records"]
    assert seen == {r["id"]: r["version"] for r in whole}


def test_unsigned_or_malformed_requests_are_refused(federation) -> None:
    _world, _partner, keys = federation
    assert Client().get(f"{FEED}?after=0").status_code == 401
    path = f"{FEED}?after=soon"
    headers = signed_headers(
        method="GET",
        path=path,
        body=b"",
        recipient=Node.objects.get(is_local=True),
        sender="eu",
        keys=keys,
    )
    assert Client().get(path, headers=headers).status_code == 400
    assert AuditEntry.objects.filter(action="denied", detail__path=FEED).exists()


def test_leaving_and_joining_a_sharing_group_retracts_and_restores(federation) -> None:
    world, partner, keys = federation
    first = read_feed(partner, keys, "after=0")
    via_group = named(world, "AMBER shared with group:AB")
    assert str(via_group.pk) in {r["id"] for r in first["records"]}

    world.group_ab.members.remove(world.agencies["B"])
    left = read_feed(partner, keys, f"after={first['until']}")
    # Everything shared with the group is reconsidered: what B still sees otherwise (CLEAR,
    # GREEN) comes again unchanged, and what it saw through the group only is retracted.
    assert {r["id"] for r in left["records"] if r["action"] == "retract"} == {str(via_group.pk)}

    world.group_ab.members.add(world.agencies["B"])
    joined = read_feed(partner, keys, f"after={left['until']}")
    # Shared with the group before B joined, and B gets it now.
    upserts = {r["id"]: r for r in joined["records"] if r["action"] == "upsert"}
    assert str(via_group.pk) in upserts and len(upserts) == len(joined["records"])
    assert upserts[str(via_group.pk)]["audience"] == {"B": "view"}


def test_narrowing_the_marking_retracts(federation) -> None:
    world, partner, keys = federation
    first = read_feed(partner, keys, "after=0")
    open_one = named(world, "GREEN shared with none")
    designation_amend(
        actor=world.users["a_publisher"],
        designation=open_one,
        changes={"marking": "AMBER"},
        reason="narrowed",
    )
    second = read_feed(partner, keys, f"after={first['until']}")
    assert {(r["id"], r["action"]) for r in second["records"]} == {(str(open_one.pk), "retract")}


def test_objects_on_request_are_what_the_feed_would_say(federation) -> None:
    from sharing.sync_feed import objects_batch

    world, partner, _keys = federation
    shared = named(world, "AMBER shared with agency:B")
    hidden = named(world, "AMBER shared with none")
    batch = objects_batch(partner=partner, ids=[str(shared.pk), str(hidden.pk)])
    assert [(r["id"], r["action"]) for r in batch["records"]] == [(str(shared.pk), "upsert")]
    assert batch_verify(Node.objects.get(is_local=True), batch)


def test_the_sync_status_page_shows_each_partner_and_queues_a_resync(federation) -> None:
    from sharing.models import PartnerSync, SyncHeld

    world, partner, _keys = federation
    PartnerSync.objects.create(partner=partner, cursor=40, partner_head=45, last_error="timeout")
    SyncHeld.objects.create(
        partner=partner,
        seq=41,
        object_type="designation",
        object_id="4f2a3c1e-0000-4000-8000-000000000001",
        record={},
        error="owner agency 'X' is not known here yet",
    )
    admin = Client()
    admin.force_login(world.users["site_admin"])
    page = admin.get(reverse("sync-status"))
    assert page.status_code == 200
    row = page.context["rows"][0]
    assert (row.partner.node_id, row.state.cursor, row.lag_changes) == ("eu", 40, 5)
    assert b"owner agency &#x27;X&#x27; is not known here yet" in page.content
    assert b"timeout" in page.content

    resync = admin.post(reverse("sync-status"), {"partner": "eu"})
    assert resync.status_code == 302
    assert AuditEntry.objects.filter(action="sync", detail__resync="eu").exists()
    assert admin.post(reverse("sync-status"), {"partner": "nope"}).status_code == 400


def test_sync_commands_name_an_unknown_or_unreachable_partner(federation, settings) -> None:
    from django.core.management import CommandError

    from sharing.models import PartnerSync

    _world, partner, _keys = federation
    settings.SYNC_HTTP_TIMEOUT = 2
    Node.objects.filter(pk=partner.pk).update(base_url="http://127.0.0.1:9")  # nothing there
    with pytest.raises(CommandError, match="not a registered partner"):
        call_command("sync", "pull", "nowhere", stdout=io.StringIO())
    errors = io.StringIO()
    with pytest.raises(CommandError, match="could not be pulled from"):
        call_command("sync", "pull", "eu", stdout=io.StringIO(), stderr=errors)
    assert "eu is unreachable" in errors.getvalue()
    assert "unreachable" in PartnerSync.objects.get(partner=partner).last_error
    status = io.StringIO()
    call_command("sync", "status", stdout=status)
    assert "unreachable" in status.getvalue()


def test_many_designations_are_served_with_exactly_their_single_content(unsc) -> None:
    """The feed reads designations in bulk (designations_data); each must be what
    designation_data says of it alone, its lists in the same order."""
    from designations.data import designation_data, designations_data
    from designations.imports import import_list
    from designations.models import Designation

    import_list(
        publisher="un", path=Path(__file__).parents[1] / "fixtures/un_excerpt_2026.xml", agency=unsc
    )
    designations = list(Designation.objects.select_related("regime"))
    assert len(designations) > 10
    in_bulk = designations_data(designations)
    for designation in designations:
        assert in_bulk[designation.pk] == designation_data(designation, with_audience=False)
    assert any(len(data["names"]) > 2 and data["identifiers"] for data in in_bulk.values())
