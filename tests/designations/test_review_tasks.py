"""A UN delisting asks every agency that lists the same subject whether its listing stands."""

from __future__ import annotations

import pytest

from agencies.models import Role
from agencies.services import user_create
from designations.imports import import_list
from designations.models import LinkStatus, Regime, ReviewTask, SubjectLink
from designations.reviews import open_reviews_for_all_delistings
from designations.services import designation_create
from sharing.models import AuditAction, AuditEntry
from tests.conftest import PASSWORD, UN_EXCERPT
from tests.designations.test_un_import import by_reference, remove_record, variant

pytestmark = pytest.mark.django_db


@pytest.fixture
def listed_by_a_and_b(unsc, alice, agency_b):  # type: ignore[no-untyped-def]
    """The UN excerpt, and A and B each list the subject of UN CDi.001 (B's already delisted
    by B itself)."""
    import_list(publisher="un", path=UN_EXCERPT, agency=unsc)
    un = by_reference("CDi.001")
    publisher_b = user_create(
        username="pub_b", agency=agency_b, role=Role.PUBLISHER, password=PASSWORD
    )
    listings = {}
    for actor, status in ((alice, "active"), (publisher_b, "delisted")):
        regime = Regime.objects.create(owner=actor.agency, code="R", name="R")
        listing = designation_create(
            actor=actor,
            regime=regime,
            data={"name": un.name, "subject_kind": un.subject_kind},
            status=status,
        )
        SubjectLink.objects.create(
            left=un, right=listing, method="identifier", score=1.0, status=LinkStatus.LINKED
        )
        listings[actor.agency.code] = listing
    return un, listings


def test_a_un_delisting_opens_a_task_for_each_agency_still_listing(
    client, unsc, alice, bob, listed_by_a_and_b, tmp_path
) -> None:
    un, listings = listed_by_a_and_b
    without = variant(
        tmp_path,
        generated="2026-03-06T00:00:00Z",
        edit=lambda text: remove_record(text, "CDi.001"),
    )
    result = import_list(publisher="un", path=without, agency=unsc)
    assert result.delisted == 1 and result.review_tasks == 1
    task = ReviewTask.objects.get()
    assert (task.agency.code, task.designation, task.cause) == ("A", listings["A"], un)
    assert task.reason == "The UN delisted this subject on 2026-03-06: does your listing stand?"

    # Later runs (after sync, hourly) do not ask again.
    assert open_reviews_for_all_delistings() == 0

    client.force_login(alice)
    board = client.get("/")
    assert "does your listing stand?" in board.text and "UNSC CDi.001" in board.text
    close = f"/designations/reviews/{task.pk}/close/"
    client.post(close, {"outcome": "   "})
    task.refresh_from_db()
    assert task.closed_at is None  # a decision needs words

    client.force_login(bob)  # another agency's person cannot close it, nor learn of it
    assert client.post(close, {"outcome": "Delisted."}).status_code == 404
    assert "does your listing stand?" not in client.get("/").text

    client.force_login(alice)
    assert client.post(close, {"outcome": "Kept: our own evidence."}).status_code == 302
    task.refresh_from_db()
    assert (task.closed_by, task.outcome) == (alice, "Kept: our own evidence.")
    assert AuditEntry.objects.filter(action=AuditAction.CHANGE, detail__review_task=task.pk)
    assert "does your listing stand?" not in client.get("/").text
    assert open_reviews_for_all_delistings() == 0  # closed stays closed


def test_a_liaison_sees_the_task_but_a_publisher_closes_it(
    client, unsc, amir, listed_by_a_and_b, tmp_path
) -> None:
    without = variant(
        tmp_path,
        generated="2026-03-06T00:00:00Z",
        edit=lambda text: remove_record(text, "CDi.001"),
    )
    import_list(publisher="un", path=without, agency=unsc)
    task = ReviewTask.objects.get()
    client.force_login(amir)  # a liaison of A
    board = client.get("/").text
    assert "does your listing stand?" in board and "Close task" not in board
    assert (
        client.post(f"/designations/reviews/{task.pk}/close/", {"outcome": "x"}).status_code == 403
    )
    task.refresh_from_db()
    assert task.closed_at is None
