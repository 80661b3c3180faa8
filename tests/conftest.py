"""Named actors (STYLE.md): agency A publishes, B reads what is shared, C must see nothing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from agencies.models import Agency, Node, Role, User
from agencies.services import agency_create, node_ensure_local, user_create

# Property-based tests (schemathesis) explore new examples on every local run; CI replays a
# fixed set (.ci/run sets HYPOTHESIS_PROFILE=ci) so that a landing does not hang on luck. What
# local runs find is fixed and kept as a regular test.
hypothesis_settings.register_profile("ci", derandomize=True, database=None)
hypothesis_settings.load_profile(os.getenv("HYPOTHESIS_PROFILE", "default"))

FIXTURES = Path(__file__).parent / "fixtures"
UN_EXCERPT = FIXTURES / "un_excerpt_2026.xml"
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
PASSWORD = "correct horse battery staple"


@pytest.fixture
def local_node(db: None) -> Node:
    return node_ensure_local()


def _agency(code: str, node: Node) -> Agency:
    return agency_create(code=code, name=f"Agency {code}", jurisdiction=code, home_node=node)


@pytest.fixture
def unsc(local_node: Node) -> Agency:
    return _agency("UNSC", local_node)


@pytest.fixture
def agency_a(local_node: Node) -> Agency:
    return _agency("A", local_node)


@pytest.fixture
def agency_b(local_node: Node) -> Agency:
    return _agency("B", local_node)


@pytest.fixture
def agency_c(local_node: Node) -> Agency:
    return _agency("C", local_node)


@pytest.fixture
def alice(agency_a: Agency) -> User:
    """Publisher of agency A."""
    return user_create(username="alice", agency=agency_a, role=Role.PUBLISHER, password=PASSWORD)


@pytest.fixture
def bob(agency_b: Agency) -> User:
    """Liaison of agency B."""
    return user_create(username="bob", agency=agency_b, role=Role.LIAISON, password=PASSWORD)


@pytest.fixture
def charlie(agency_c: Agency) -> User:
    """Liaison of agency C, who should see nothing of A's that is not shared."""
    return user_create(username="charlie", agency=agency_c, role=Role.LIAISON, password=PASSWORD)


@pytest.fixture
def amir(agency_a: Agency) -> User:
    """Liaison of agency A: sees A's objects, may not publish."""
    return user_create(username="amir", agency=agency_a, role=Role.LIAISON, password=PASSWORD)


@pytest.fixture(autouse=True)
def past_the_second_step(request, settings) -> None:
    # The code step has its own tests (marked second_step); elsewhere a test user signed in
    # with force_login is past it, as a person who gave the code is.
    if "second_step" not in request.keywords:
        settings.REQUIRE_TOTP = False


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    # Hashing strength is not what these tests test; PBKDF2 would dominate their run time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def attachment_storage(settings, tmp_path, monkeypatch):
    """Each test gets its own attachment storage and keyring file (never the developer's)."""
    from sharing.keyring import keyring_add_primary

    monkeypatch.delenv("ATTACHMENT_KEKS", raising=False)
    monkeypatch.delenv("ATTACHMENT_PRIMARY_KEK", raising=False)
    location = tmp_path / "attachments"
    location.mkdir()
    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(location)},
        },
    }
    settings.ATTACHMENT_KEYRING_FILE = tmp_path / "keyring.json"
    keyring_add_primary()
    # Node keys likewise: a test that needs them runs `node init` into its own directory.
    from sharing.node_keys import forget_cached_keys

    settings.NODE_KEY_FILE = tmp_path / "node.key.json"
    forget_cached_keys()
    return location


@pytest.fixture(autouse=True)
def fresh_cache():
    """API rate counters live in the cache; ids repeat between tests, counters must not."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
