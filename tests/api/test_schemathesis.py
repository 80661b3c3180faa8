"""Property-based API tests generated from our own OpenAPI schema (schemathesis): no server
error, and every response matches the schema, for every operation, with a real API client."""

from __future__ import annotations

import datetime as dt

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from agencies.api_clients import api_client_create
from tests.world import build_world

schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", get_wsgi_application())


@pytest.fixture(autouse=True)
def keep_the_test_connection():
    """Like Django's test client: the in-process WSGI app must not close the connection that
    holds the test's transaction at the end of each request."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def token(db) -> str:
    world = build_world()
    _client, token = api_client_create(
        actor=world.users["a_admin"],
        name="fuzzer",
        scopes=["read", "write", "grants"],
        expires_at=timezone.now() + dt.timedelta(days=1),
    )
    return token


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_conforms_to_its_schema(case, token) -> None:
    # Business rules may refuse a schema-valid request (an unknown regime code, an id that is
    # not there): those 4xx answers are right, so that one check is left out.
    case.call_and_validate(
        headers={"Authorization": f"Bearer {token}"},
        excluded_checks=[positive_data_acceptance],
    )
