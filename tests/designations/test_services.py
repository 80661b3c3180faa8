from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from agencies.models import Agency, User
from designations.models import Designation, DesignationVersion, Regime
from designations.services import (
    designation_amend,
    designation_create,
    designation_delist,
    note_create,
)
from sharing.changelog import change_log_append
from sharing.models import ChangeAction, ChangeLogEntry, Marking

pytestmark = pytest.mark.django_db


@pytest.fixture
def regime_a(agency_a: Agency) -> Regime:
    return Regime.objects.create(owner=agency_a, code="CYBER", name="Cyber-attacks")


def create(alice: User, regime: Regime, **data) -> Designation:
    return designation_create(
        actor=alice,
        regime=regime,
        data={"name": "Ivan Petrov", "subject_kind": "person", **data},
    )


def test_create_writes_history_and_change_log(alice: User, regime_a: Regime) -> None:
    designation = create(alice, regime_a, names=[{"kind": "alias", "full_name": "I. Petroff"}])

    assert designation.version == 1 and designation.status == "active"
    assert [n.kind for n in designation.names.all()] == ["primary", "alias"]
    history = designation.history.get()
    assert (history.version, history.actor, history.actor_agency) == (1, alice, alice.agency)
    assert history.snapshot["names"][1]["full_name"] == "I. Petroff"
    log = ChangeLogEntry.objects.get()
    assert (log.object_id, log.version, log.action) == (designation.pk, 1, "create")


def test_amend_raises_the_version_and_records_what_changed(alice: User, regime_a: Regime) -> None:
    designation = create(alice, regime_a)

    designation_amend(
        actor=alice,
        designation=designation,
        reason="New passport found",
        changes={"identifiers": [{"kind": "passport", "number": "P123"}]},
    )

    designation.refresh_from_db()
    assert designation.version == 2
    assert designation.identifiers.get().number == "P123"
    latest = designation.history.get(version=2)
    assert latest.changed_fields == ["identifiers"] and latest.reason == "New passport found"
    assert list(ChangeLogEntry.objects.values_list("version", "action")) == [
        (1, "create"),
        (2, "update"),
    ]


def test_delist_is_a_new_version(alice: User, regime_a: Regime) -> None:
    designation = create(alice, regime_a)

    designation_delist(actor=alice, designation=designation, reason="Deceased")

    designation.refresh_from_db()
    assert (designation.status, designation.version) == ("delisted", 2)
    assert ChangeLogEntry.objects.filter(action="delist", version=2).count() == 1
    with pytest.raises(ValidationError, match="already delisted"):
        designation_delist(actor=alice, designation=designation, reason="again")


@pytest.mark.parametrize("actor_name", ["charlie", "amir"])
def test_only_a_publisher_of_the_owner_agency_changes_a_designation(
    request, alice: User, regime_a: Regime, actor_name: str
) -> None:
    """charlie is of another agency, amir of the right agency but not a publisher."""
    designation = create(alice, regime_a)
    actor = request.getfixturevalue(actor_name)

    with pytest.raises(PermissionDenied):
        designation_amend(
            actor=actor, designation=designation, changes={"reasons": "x"}, reason="x"
        )
    with pytest.raises(PermissionDenied):
        designation_delist(actor=actor, designation=designation, reason="x")
    with pytest.raises(PermissionDenied):
        designation_create(actor=actor, regime=regime_a, data={"name": "X"})

    designation.refresh_from_db()
    assert designation.version == 1
    assert ChangeLogEntry.objects.count() == 1


def test_bad_amendments_are_refused_and_write_nothing(alice: User, regime_a: Regime) -> None:
    designation = create(alice, regime_a)

    with pytest.raises(ValidationError, match="reason"):
        designation_amend(
            actor=alice, designation=designation, changes={"reasons": "x"}, reason=" "
        )
    with pytest.raises(ValidationError, match="owner"):
        designation_amend(
            actor=alice, designation=designation, changes={"owner": "B"}, reason="take it"
        )
    with pytest.raises(ValidationError):
        designation_amend(
            actor=alice, designation=designation, changes={"subject_kind": "dragon"}, reason="typo"
        )

    designation.refresh_from_db()
    assert (designation.version, designation.subject_kind) == (1, "person")
    assert DesignationVersion.objects.count() == ChangeLogEntry.objects.count() == 1


def test_a_failing_change_leaves_no_change_log_row(
    alice: User, regime_a: Regime, monkeypatch
) -> None:
    designation = create(alice, regime_a)

    def append_then_fail(**kwargs):
        change_log_append(**kwargs)  # the row is written ...
        raise RuntimeError("disk full")  # ... and then the change fails

    monkeypatch.setattr("designations.services.change_log_append", append_then_fail)
    with pytest.raises(RuntimeError, match="disk full"):
        designation_amend(
            actor=alice, designation=designation, changes={"reasons": "x"}, reason="update"
        )

    designation.refresh_from_db()
    assert (designation.version, designation.reasons) == (1, "")
    assert ChangeLogEntry.objects.count() == DesignationVersion.objects.count() == 1


def test_a_failing_change_log_write_undoes_the_change(
    alice: User, regime_a: Regime, monkeypatch
) -> None:
    def log_write_fails(**kwargs):
        raise RuntimeError("log unavailable")

    monkeypatch.setattr("designations.services.change_log_append", log_write_fails)
    with pytest.raises(RuntimeError, match="log unavailable"):
        create(alice, regime_a)

    assert Designation.objects.count() == DesignationVersion.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_the_change_log_refuses_writes_outside_a_transaction(alice: User, regime_a: Regime) -> None:
    designation = create(alice, regime_a)

    with pytest.raises(RuntimeError, match="inside the change's transaction"):
        change_log_append(
            object_type="designation",
            object_id=designation.pk,
            version=2,
            action=ChangeAction.UPDATE,
        )

    assert ChangeLogEntry.objects.count() == 1


def test_notes_only_about_designations_one_may_see(
    alice: User, bob: User, regime_a: Regime
) -> None:
    hidden = create(alice, regime_a)  # AMBER by default: agency A only
    open_one = designation_create(
        actor=alice,
        regime=regime_a,
        marking=Marking.GREEN,
        data={"name": "Open Subject", "subject_kind": "person"},
    )

    with pytest.raises(PermissionDenied):
        note_create(actor=bob, designation=hidden, title="t", body="b")
    note = note_create(actor=bob, designation=open_one, title="Seen", body="in Vienna")

    assert note.owner == bob.agency
    assert ChangeLogEntry.objects.filter(object_type="note", object_id=note.pk).count() == 1
