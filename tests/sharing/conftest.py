"""Fixtures shared by the sync tests of the receiving side."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from agencies.models import Node, Role
from agencies.services import agency_create, node_ensure_local, user_create
from sharing.node_keys import generate_node_keys
from tests.conftest import PASSWORD


@pytest.fixture
def eu(db):
    """This node hosts agencies B and C; partner "un" hosts agency UNSC."""
    call_command("node", "init", stdout=io.StringIO())
    keys = generate_node_keys()
    partner = Node.objects.create(
        node_id="un",
        name="UN node",
        base_url="http://127.0.0.1:8000",
        signing_public_key=keys.signing_public,
        exchange_public_key=keys.exchange_public,
    )
    local = node_ensure_local()
    b = agency_create(code="B", name="Agency B", jurisdiction="B", home_node=local)
    c = agency_create(code="C", name="Agency C", jurisdiction="C", home_node=local)
    people = {
        "bea": user_create(username="bea", agency=b, role=Role.LIAISON, password=PASSWORD),
        "cai": user_create(username="cai", agency=c, role=Role.LIAISON, password=PASSWORD),
    }
    return partner, keys, people
