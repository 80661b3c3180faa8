"""Run inside one test node's environment: its agency, people, a regime and an API client.
Prints the client's token as JSON (the multi-node tests drive each node over its REST API)."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sharing.settings")

import django

django.setup()

from django.utils import timezone  # noqa: E402

from agencies.api_clients import api_client_create  # noqa: E402
from agencies.models import Role  # noqa: E402
from agencies.services import agency_create, node_ensure_local, user_create  # noqa: E402
from designations.models import Regime  # noqa: E402
from sharing.keyring import keyring_add_primary  # noqa: E402


def main(code: str) -> None:
    keyring_add_primary()  # this node's own KEK, in its VAR_DIR
    agency = agency_create(
        code=code, name=f"Agency {code}", jurisdiction=code, home_node=node_ensure_local()
    )
    admin = user_create(
        username=f"{code.lower()}_admin",
        agency=agency,
        role=Role.AGENCY_ADMIN,
        password="federation test only",
    )
    Regime.objects.create(owner=agency, code="R1", name=f"Regime of {code}")
    _client, token = api_client_create(
        actor=admin,
        name="federation-test",
        scopes=["read", "write", "grants"],
        expires_at=timezone.now() + dt.timedelta(days=1),
    )
    print(json.dumps({"token": token}))


if __name__ == "__main__":
    main(sys.argv[1])
