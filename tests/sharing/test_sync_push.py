"""The inbox (receiving side of a push): a signed batch that starts at this node's cursor is
applied; a repeated, late, out-of-order, altered or malformed one changes nothing and says
why, with this node's cursor."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from agencies.models import Node
from designations.models import Designation
from sharing.models import AuditAction, AuditEntry, PartnerSync
from sharing.node_auth import signed_headers
from sharing.sync_feed import batch_sign
from tests.sharing.test_sync_apply import SUBJECT, batch, record

pytestmark = pytest.mark.django_db
SECOND = "4f2a3c1e-0000-4000-8000-000000000002"


def push(partner: Node, keys, body: bytes):  # type: ignore[no-untyped-def]
    path = reverse("sync-inbox")
    headers = signed_headers(
        method="POST",
        path=path,
        body=body,
        recipient=Node.objects.get(is_local=True),
        sender=partner.node_id,
        keys=keys,
    )
    return Client().post(path, body, content_type="application/json", headers=headers)


def cursor(partner: Node) -> int:
    state = PartnerSync.objects.filter(partner=partner).first()
    return state.cursor if state else 0


def test_a_batch_at_the_cursor_is_applied_and_the_same_batch_again_changes_nothing(eu) -> None:
    partner, keys, _people = eu
    first = json.dumps(batch(partner, keys, [record()], after=0, until=4)).encode()

    applied = push(partner, keys, first)
    assert applied.status_code == 200 and applied.json() == {"status": "applied", "cursor": 4}
    assert Designation.objects.filter(pk=SUBJECT).count() == 1

    again = push(partner, keys, first)
    assert again.status_code == 200 and again.json() == {"status": "duplicate", "cursor": 4}
    assert Designation.objects.filter(pk=SUBJECT).count() == 1
    assert Designation.objects.get(pk=SUBJECT).history.count() == 1
    assert cursor(partner) == 4


def test_a_batch_out_of_order_waits_for_the_one_before_it(eu) -> None:
    partner, keys, _people = eu
    early = record()
    late = {**record(name="Second Subject"), "id": SECOND, "seq": 9}
    second = json.dumps(batch(partner, keys, [late], after=5, until=9)).encode()

    gap = push(partner, keys, second)
    assert gap.status_code == 409 and gap.json() == {"status": "gap", "cursor": 0}
    assert not Designation.objects.exists() and cursor(partner) == 0

    first = json.dumps(batch(partner, keys, [early], after=0, until=5)).encode()
    assert push(partner, keys, first).json() == {"status": "applied", "cursor": 5}
    assert push(partner, keys, second).json() == {"status": "applied", "cursor": 9}
    assert set(Designation.objects.values_list("name", flat=True)) == {
        "Ivan Example",
        "Second Subject",
    }


def test_an_altered_or_misaddressed_batch_is_refused_audited_and_changes_nothing(eu) -> None:
    partner, keys, _people = eu
    signed = batch(partner, keys, [record()], after=0, until=1)
    signed["records"][0]["audience"] = {"B": "view", "C": "view"}  # widened after signing
    altered = push(partner, keys, json.dumps(signed).encode())
    assert altered.status_code == 422 and "does not verify" in altered.json()["detail"]

    elsewhere = batch(partner, keys, [record()], after=0, until=1, recipient="uk")
    misaddressed = push(partner, keys, json.dumps(elsewhere).encode())
    assert misaddressed.status_code == 422

    assert AuditEntry.objects.filter(action=AuditAction.DENIED).count() == 2
    assert not Designation.objects.exists() and cursor(partner) == 0


def test_a_batch_without_its_bounds_or_not_json_is_refused(eu) -> None:
    partner, keys, _people = eu
    unbounded = batch_sign(
        {**batch(partner, keys, [record()]), "after": None, "until": None, "signature": None},
        keys,
    )
    assert push(partner, keys, json.dumps(unbounded).encode()).status_code == 422
    assert push(partner, keys, b"not json").status_code == 400
    assert push(partner, keys, b"[1, 2]").status_code == 400
    unsigned = Client().post(reverse("sync-inbox"), b"{}", content_type="application/json")
    assert unsigned.status_code == 401
    assert not Designation.objects.exists()


def test_a_push_during_a_pull_asks_the_pull_to_go_round_again(eu) -> None:
    partner, keys, _people = eu
    PartnerSync.objects.create(
        partner=partner, lease_until=timezone.now() + dt.timedelta(seconds=60)
    )
    busy = push(partner, keys, json.dumps(batch(partner, keys, [record()], after=0)).encode())

    assert busy.json() == {"status": "busy", "cursor": 0}
    assert not Designation.objects.exists()
    assert PartnerSync.objects.get(partner=partner).pull_wanted_at is not None
