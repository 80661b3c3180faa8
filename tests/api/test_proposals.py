"""Amendment proposals and disputes through the API: B proposes on A's designation, A's
publisher accepts (a new version) or rejects, with reasons; nobody else takes part."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from designations.models import AmendmentProposal, Designation
from sharing.models import ChangeLogEntry
from tests.world import World, build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> World:
    return build_world(with_attachments=False, with_clients=False)


def as_user(world: World, username: str) -> Client:
    client = Client()
    client.force_login(world.users[username])
    return client


def named(world: World, name: str) -> Designation:
    return next(s.designation for s in world.specs if s.designation.name == name)


def propose(client: Client, designation: Designation, **body):
    return client.post(
        reverse("api:designation-proposals", args=[designation.pk]),
        body,
        content_type="application/json",
    )


def decide(client: Client, proposal_id: str, decision: str, reason: str = "checked"):
    return client.post(
        reverse("api:proposal-decision", args=[proposal_id]),
        {"decision": decision, "reason": reason},
        content_type="application/json",
    )


def test_a_proposal_accepted_by_the_owner_becomes_a_new_version(world: World) -> None:
    designation = named(world, "AMBER shared with agency:B")
    designation.refresh_from_db()
    before = designation.version
    b = as_user(world, "b_liaison")
    created = propose(
        b,
        designation,
        kind="amend",
        changes={"reasons": "Also directs a shipping company."},
        reason="Our investigation found this.",
    )
    assert created.status_code == 201, created.content
    proposal = created.json()
    assert (proposal["proposer"], proposal["status"]) == ("B", "open")
    assert ChangeLogEntry.objects.filter(object_type="proposal", object_id=proposal["id"]).exists()

    # The owner's publisher sees it in the inbox and accepts it.
    a = as_user(world, "a_publisher")
    inbox = a.get(reverse("api:proposal-list"), {"status": "open"}).json()["results"]
    assert [p["id"] for p in inbox] == [proposal["id"]]
    accepted = decide(a, proposal["id"], "accept")
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["status"] == "accepted"
    designation.refresh_from_db()
    assert designation.version == before + 1 == accepted.json()["resulting_version"]
    assert designation.reasons == "Also directs a shipping company."
    assert "Proposal of B accepted" in designation.history.first().reason
    # Decided once only.
    assert decide(a, proposal["id"], "reject").status_code == 400


def test_a_rejected_dispute_changes_nothing_and_says_why(world: World) -> None:
    designation = named(world, "CLEAR shared with none")
    designation.refresh_from_db()
    before = designation.version
    created = propose(
        as_user(world, "c_liaison"),
        designation,
        kind="dispute",
        changes={"fields": ["birth_dates"]},
        reason="Our records give another date.",
    )
    assert created.status_code == 201, created.content
    rejected = decide(as_user(world, "a_admin"), created.json()["id"], "reject", "Court record.")
    assert rejected.json()["status"] == "rejected"
    assert rejected.json()["decision_reason"] == "Court record."
    designation.refresh_from_db()
    assert designation.version == before


@pytest.mark.parametrize(
    ("username", "name", "body", "status", "field"),
    [
        (
            "a_publisher",
            "CLEAR shared with none",
            {"kind": "dispute", "changes": {"fields": ["name"]}},
            400,
            "designation",
        ),
        (
            "c_liaison",
            "AMBER shared with agency:B",
            {"kind": "dispute", "changes": {"fields": ["name"]}},
            404,
            None,
        ),
        (
            "b_liaison",
            "CLEAR shared with none",
            {"kind": "amend", "changes": {"colour": "red"}},
            400,
            "changes",
        ),
        ("b_liaison", "CLEAR shared with none", {"kind": "amend", "changes": {}}, 400, "changes"),
        (
            "b_liaison",
            "CLEAR shared with none",
            {"kind": "dispute", "changes": {"fields": ["nope"]}},
            400,
            "changes",
        ),
        ("b_liaison", "CLEAR shared with none", {"kind": "vote", "changes": {}}, 400, "kind"),
    ],
)
def test_bad_proposals_are_refused_and_write_nothing(world, username, name, body, status, field):
    response = propose(as_user(world, username), named(world, name), reason="x", **body)
    assert response.status_code == status, response.content
    if field:
        assert field in response.json()["errors"]
    assert not AmendmentProposal.objects.exists()


def test_only_the_owners_publishers_decide(world: World) -> None:
    created = propose(
        as_user(world, "b_liaison"),
        named(world, "AMBER shared with agency:B"),
        kind="dispute",
        changes={"fields": ["name"]},
        reason="x",
    )
    proposal = created.json()["id"]
    assert decide(as_user(world, "b_admin"), proposal, "accept").status_code == 403
    assert decide(as_user(world, "a_liaison"), proposal, "accept").status_code == 403
    assert decide(as_user(world, "c_liaison"), proposal, "accept").status_code == 404
    assert AmendmentProposal.objects.get().status == "open"
