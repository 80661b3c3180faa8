"""The dashboard shows what is new since the person's previous sign-in, and their agency's
pending proposals."""

from __future__ import annotations

import pytest
from django.http import HttpRequest
from django.test import Client

from designations.models import Designation, Regime
from designations.proposals import proposal_create
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def publish(regime: Regime, name: str) -> Designation:
    return Designation.objects.create(
        owner=regime.owner, regime=regime, subject_kind="person", name=name, status="active",
        marking="CLEAR",
    )  # fmt: skip


def sign_in(username: str) -> Client:
    client = Client()
    assert client.login(request=HttpRequest(), username=username, password=PASSWORD)
    return client


def test_what_is_new_since_the_previous_sign_in(alice, bob, agency_a) -> None:
    regime = Regime.objects.create(owner=agency_a, code="R1", name="R1")
    publish(regime, "Before Last Visit")
    sign_in("bob")  # the previous visit
    publish(regime, "After Last Visit")
    page = sign_in("bob").get("/")
    board = page.context["board"]
    assert not board.first_visit
    assert [d.name for d in board.changed] == ["After Last Visit"]
    assert "previous sign-in" in page.text


def test_a_first_visit_shows_the_last_week(alice, bob, agency_a) -> None:
    regime = Regime.objects.create(owner=agency_a, code="R1", name="R1")
    publish(regime, "Recent")
    board = sign_in("bob").get("/").context["board"]
    assert board.first_visit and [d.name for d in board.changed] == ["Recent"]


def test_pending_proposals_for_each_side(alice, bob, agency_a) -> None:
    regime = Regime.objects.create(owner=agency_a, code="R1", name="R1")
    target = publish(regime, "Proposed On")
    proposal_create(
        actor=bob, designation=target, kind="amend", changes={"name": "Better"}, reason="typo"
    )
    owner_board = sign_in("alice").get("/").context["board"]
    proposer_board = sign_in("bob").get("/").context["board"]
    assert [p.designation for p in owner_board.proposals_to_decide] == [target]
    assert [p.designation for p in proposer_board.proposals_waiting] == [target]
    assert not owner_board.proposals_waiting and not proposer_board.proposals_to_decide
