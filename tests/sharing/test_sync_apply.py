"""Applying a partner's batch by the rules of DESIGN.md: verified first, owner's node only,
newer versions only, conflicts recorded, twice is once, unappliable records held and retried,
and the audience never wider than the origin said."""

from __future__ import annotations

import pytest

from agencies.models import Agency, Node
from agencies.services import agency_create, node_ensure_local
from designations.models import Designation, DesignationGroupObjectPermission
from sharing import access
from sharing.models import AuditEntry, SyncConflict, SyncHeld
from sharing.node_keys import generate_node_keys
from sharing.sync_apply import ApplyResult, BatchRejected, batch_apply, record_apply
from sharing.sync_feed import FEED_VERSION, batch_sign

pytestmark = pytest.mark.django_db
SUBJECT = "4f2a3c1e-0000-4000-8000-000000000001"


def record(version: int = 1, name: str = "Ivan Example", audience=None, **data) -> dict:
    return {
        "seq": version,
        "type": "designation",
        "id": SUBJECT,
        "action": "upsert",
        "version": version,
        "owner": "UNSC",
        "regime": {"code": "1267", "name": "ISIL and Al-Qaida"},
        "audience": {"B": "view"} if audience is None else audience,
        "data": {
            "subject_kind": "person",
            "name": name,
            "marking": "AMBER",
            "status": "active",
            "names": [{"kind": "primary", "full_name": name}],
            **data,
        },
    }


def batch(partner, keys, records, **overrides) -> dict:
    body = {
        "feed_version": FEED_VERSION,
        "origin": partner.node_id,
        "recipient": node_ensure_local().node_id,
        "after": 0,
        "until": max([r["seq"] for r in records] or [0]),
        "more": False,
        "issued_at": "2026-11-27T00:00:00+00:00",
        "records": records,
        "agencies": {"UNSC": {"name": "UN Security Council", "jurisdiction": "UN"}},
        **overrides,
    }
    return batch_sign(body, keys)


def test_a_shared_designation_arrives_for_its_audience_only(eu) -> None:
    partner, keys, people = eu
    result = batch_apply(origin=partner, batch=batch(partner, keys, [record()]))

    assert result.applied == 1
    replica = Designation.objects.get(pk=SUBJECT)
    assert replica.owner.code == "UNSC" and replica.owner.home_node == partner
    assert replica.names.get().full_name == "Ivan Example"
    assert access.designations_for(people["bea"]).filter(pk=SUBJECT).exists()
    assert not access.designations_for(people["cai"]).filter(pk=SUBJECT).exists()
    assert replica.history.get().actor_name == "node:un"


def test_applying_twice_changes_nothing_and_older_versions_are_ignored(eu) -> None:
    partner, keys, _people = eu
    batch_apply(origin=partner, batch=batch(partner, keys, [record(version=2, name="New")]))
    again = batch_apply(origin=partner, batch=batch(partner, keys, [record(version=2, name="New")]))
    late = batch_apply(origin=partner, batch=batch(partner, keys, [record(version=1, name="Old")]))

    assert again.applied == late.applied == 0 and again.unchanged == late.unchanged == 1
    replica = Designation.objects.get(pk=SUBJECT)
    assert (replica.version, replica.name) == (2, "New")
    assert DesignationGroupObjectPermission.objects.filter(content_object=replica).count() == 1


def test_the_same_version_with_other_content_is_a_conflict_the_owner_wins(eu) -> None:
    partner, keys, _people = eu
    batch_apply(origin=partner, batch=batch(partner, keys, [record(name="First")]))
    Designation.objects.filter(pk=SUBJECT).update(name="Edited here")  # a replica drifted

    result = batch_apply(origin=partner, batch=batch(partner, keys, [record(name="First")]))

    assert result.conflicts == 1
    assert Designation.objects.get(pk=SUBJECT).name == "First"
    assert SyncConflict.objects.get().fields == ["name"]


def test_the_audience_is_never_wider_than_the_origin_said(eu) -> None:
    partner, keys, people = eu
    batch_apply(origin=partner, batch=batch(partner, keys, [record(audience={"B": "view"})]))
    # The origin narrows the audience: B drops out, an unknown agency is ignored.
    batch_apply(
        origin=partner,
        batch=batch(partner, keys, [record(version=2, audience={"ZZ": "download"})]),
    )
    assert not access.designations_for(people["bea"]).filter(pk=SUBJECT).exists()
    assert not DesignationGroupObjectPermission.objects.filter(content_object_id=SUBJECT).exists()


def test_a_retraction_removes_the_replica(eu) -> None:
    partner, keys, _people = eu
    batch_apply(origin=partner, batch=batch(partner, keys, [record()]))
    retract = {"seq": 2, "type": "designation", "id": SUBJECT, "action": "retract"}
    result = batch_apply(origin=partner, batch=batch(partner, keys, [retract]))
    assert result.retracted == 1
    assert not Designation.objects.filter(pk=SUBJECT).exists()
    # A retraction of something never received is no error.
    assert batch_apply(origin=partner, batch=batch(partner, keys, [retract])).unchanged == 1


def test_a_forged_or_altered_or_misaddressed_batch_is_refused_and_audited(eu) -> None:
    partner, keys, _people = eu
    forged = batch(partner, generate_node_keys(), [record()])
    altered = batch(partner, keys, [record()])
    altered["records"][0]["audience"] = {"B": "view", "C": "view"}
    elsewhere = batch(partner, keys, [record()], recipient="uk")
    for bad in (forged, altered, elsewhere):
        with pytest.raises(BatchRejected):
            batch_apply(origin=partner, batch=bad)
    assert not Designation.objects.filter(pk=SUBJECT).exists()
    assert AuditEntry.objects.filter(action="denied", detail__from="un").count() == 3


def test_an_object_from_a_node_that_does_not_host_its_owner_is_held_then_applied(eu) -> None:
    partner, keys, people = eu
    # UNSC is registered here as hosted on another node: "un" may not speak for it.
    other = Node.objects.create(node_id="elsewhere", name="Elsewhere", base_url="http://x.example")
    unsc = agency_create(
        code="UNSC", name="UN Security Council", jurisdiction="UN", home_node=other
    )

    result = batch_apply(origin=partner, batch=batch(partner, keys, [record()]))

    assert result.applied == 0 and len(result.held) == 1
    held = SyncHeld.objects.get()
    assert "hosted on elsewhere" in held.error and held.record["id"] == SUBJECT
    assert not Designation.objects.filter(pk=SUBJECT).exists()

    # The operator corrects the agency's home; the retry applies the held record.
    Agency.objects.filter(pk=unsc.pk).update(home_node=partner)
    retried = ApplyResult()
    record_apply(origin=partner, record=held.record, directory={}, result=retried)
    assert retried.applied == 1 and not SyncHeld.objects.exists()
    assert access.designations_for(people["bea"]).filter(pk=SUBJECT).exists()


def test_a_malformed_record_is_held_not_dropped(eu) -> None:
    partner, keys, _people = eu
    bad = record()
    del bad["data"]
    result = batch_apply(
        origin=partner, batch=batch(partner, keys, [bad, {**record(), "id": SUBJECT}])
    )
    # The good copy of the same object applied after the bad one settles it.
    assert result.applied == 1 and len(result.held) == 1
    assert not SyncHeld.objects.exists()


NOTE_ID = "4f2a3c1e-0000-4000-8000-0000000000aa"


def note_record(version: int = 1, audience=None) -> dict:
    return {
        "seq": 10 + version,
        "type": "note",
        "id": NOTE_ID,
        "action": "upsert",
        "version": version,
        "owner": "UNSC",
        "designation": SUBJECT,
        "audience": {"B": "view"} if audience is None else audience,
        "data": {
            "title": "Seen in port",
            "body": "Reported by a partner.",
            "marking": "AMBER",
            "author": "Amina Okafor",
            "written_at": "2026-11-27T00:00:00+00:00",
        },
    }


def test_a_note_about_a_designation_not_here_is_held_until_it_arrives(eu) -> None:
    from designations.models import IntelligenceNote

    partner, keys, people = eu
    first = batch_apply(origin=partner, batch=batch(partner, keys, [note_record()]))
    assert len(first.held) == 1 and "is not here" in first.held[0]
    assert not IntelligenceNote.objects.exists()

    batch_apply(origin=partner, batch=batch(partner, keys, [record()]))
    held = SyncHeld.objects.get()
    retried = ApplyResult()
    record_apply(origin=partner, record=held.record, directory={}, result=retried)

    note = IntelligenceNote.objects.get(pk=NOTE_ID)
    assert (note.owner.code, note.designation_id.hex) == ("UNSC", SUBJECT.replace("-", ""))
    assert access.notes_for(people["bea"]).filter(pk=NOTE_ID).exists()
    assert not access.notes_for(people["cai"]).filter(pk=NOTE_ID).exists()
    assert not SyncHeld.objects.exists()


def test_a_decision_comes_from_the_owners_node_and_nobody_else(eu) -> None:
    from designations.models import AmendmentProposal
    from designations.proposals import proposal_create

    partner, keys, people = eu
    batch_apply(origin=partner, batch=batch(partner, keys, [record()]))
    proposal = proposal_create(
        actor=people["bea"],
        designation=Designation.objects.get(pk=SUBJECT),
        kind="dispute",
        changes={"fields": ["name"]},
        reason="Another spelling in our records.",
    )
    decision = {
        "seq": 20,
        "type": "proposal",
        "id": str(proposal.pk),
        "action": "upsert",
        "version": 2,
        "designation": SUBJECT,
        "proposer": "B",
        "data": {},
        "decision": {
            "status": "rejected",
            "reason": "The court record spells it so.",
            "decided_by_name": "unsc.publisher",
            "decided_at": "2026-11-27T10:00:00+00:00",
            "resulting_version": None,
        },
    }
    result = batch_apply(origin=partner, batch=batch(partner, keys, [decision]))
    assert result.applied == 1
    proposal.refresh_from_db()
    assert (proposal.status, proposal.decision_reason) == (
        "rejected",
        decision["decision"]["reason"],
    )

    # A node that is neither the proposer's nor the owner's cannot decide.
    stranger_keys = generate_node_keys()
    stranger = Node.objects.create(
        node_id="xx",
        name="Stranger",
        base_url="http://127.0.0.1:9",
        signing_public_key=stranger_keys.signing_public,
        exchange_public_key=stranger_keys.exchange_public,
    )
    forged = {**decision, "version": 3, "decision": {**decision["decision"], "status": "accepted"}}
    stranger_batch = batch(stranger, stranger_keys, [forged], origin="xx")
    held = batch_apply(origin=stranger, batch=stranger_batch)
    assert len(held.held) == 1 and "neither" in held.held[0]
    assert AmendmentProposal.objects.get().status == "rejected"


def _state(pk: str) -> tuple:
    """Everything a replica is made of here: its data, history and grants."""
    from designations.data import designation_data

    replica = Designation.objects.get(pk=pk)
    history = list(replica.history.values_list("version", "status", "snapshot", "actor_name"))
    grants = sorted(
        DesignationGroupObjectPermission.objects.filter(content_object=replica).values_list(
            "group__name", "permission__codename"
        )
    )
    return designation_data(replica, with_audience=False), history, grants


def test_a_batch_of_new_designations_is_inserted_exactly_as_one_by_one(eu) -> None:
    partner, keys, people = eu
    ids = [f"4f2a3c1e-0000-4000-8000-00000000010{n}" for n in range(3)]
    rich = {
        "birth_dates": [{"date": "1970-01-02", "circa": False}],
        "nationalities": [{"country": "IQ"}],
        "identifiers": [{"kind": "passport", "value": "A123", "country": "IQ"}],
        "names": [
            {"kind": "primary", "full_name": "Ivan Example"},
            {"kind": "alias", "full_name": "Ivan Exemple"},
        ],
    }
    records = [
        {**record(audience={"B": "comment", "C": "view"}, **rich), "id": ids[0], "seq": 1},
        {**record(audience={"B": "view"}), "id": ids[1], "seq": 2},
        {**record(audience={}), "id": ids[2], "seq": 3},
    ]
    in_bulk = batch_apply(origin=partner, batch=batch(partner, keys, records))
    bulk_states = [_state(pk) for pk in ids]

    Designation.objects.filter(pk__in=ids).delete()
    one_by_one = ApplyResult()
    for one in records:
        record_apply(origin=partner, record=one, directory={}, result=one_by_one)

    assert in_bulk.applied == one_by_one.applied == 3
    assert [_state(pk) for pk in ids] == bulk_states
    assert bulk_states[0][2] == [
        ("agency:B", "comment_designation"),
        ("agency:C", "view_designation"),
    ]
    assert access.designations_for(people["cai"]).filter(pk=ids[0]).exists()
    assert not access.designations_for(people["cai"]).filter(pk=ids[1]).exists()


def test_a_record_the_database_refuses_is_held_and_the_rest_of_the_batch_applies(eu) -> None:
    import uuid

    from django.db import connection

    partner, keys, _people = eu
    good = {**record(), "id": "4f2a3c1e-0000-4000-8000-000000000201", "seq": 1}
    # Longer than the column: PostgreSQL refuses the batch insert, then the record alone.
    too_long = {**record(name="x" * 5000), "id": "4f2a3c1e-0000-4000-8000-000000000202", "seq": 2}
    result = batch_apply(origin=partner, batch=batch(partner, keys, [good, too_long]))

    assert Designation.objects.filter(pk=good["id"]).exists()
    if connection.vendor == "postgresql":
        assert result.applied == 1 and len(result.held) == 1
        assert SyncHeld.objects.get().object_id == uuid.UUID(too_long["id"])
        assert not Designation.objects.filter(pk=too_long["id"]).exists()
    else:  # SQLite does not enforce lengths
        assert result.applied == 2 and not result.held
