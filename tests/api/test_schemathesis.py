"""Property-based API tests generated from our own OpenAPI schema (schemathesis): no server
error, and every response matches the schema, for every operation, with a real API client."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from agencies.api_clients import api_client_create
from agencies.models import ApiClient
from tests.world import build_world

schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", get_wsgi_application())
# The fuzzer's API client gets a fixed token, because schemathesis sets credentials on cases
# it generates while collecting, before any fixture has run.
FUZZER_PREFIX = "f0220000f022"
FUZZER_TOKEN = f"sx_{FUZZER_PREFIX}_fuzzer-secret-for-tests-only"


@schema.auth()
class ApiClientToken:
    """A real API client's bearer token, for every operation, stateless and stateful."""

    def get(self, case, context) -> str:  # type: ignore[no-untyped-def]
        return FUZZER_TOKEN

    def set(self, case, data: str, context) -> None:  # type: ignore[no-untyped-def]
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@schema.hook
def map_body(context, body):  # type: ignore[no-untyped-def]
    """Creates name one of the fuzzer's agency's regimes (a random code is refused), so that
    stateful sequences start from a designation that exists."""
    if context.operation.label == "POST /api/v1/designations" and isinstance(body, dict):
        regime = body.get("regime")
        # Only a schema-valid code is swapped: a negative case must stay negative.
        if isinstance(regime, str) and 1 <= len(regime) <= 64:
            return {**body, "regime": "TEST"}
    return body


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
    # The real client, with its secret replaced by the fixed one (hashed as any other).
    ApiClient.objects.filter(prefix=token.split("_")[1]).update(
        prefix=FUZZER_PREFIX,
        secret_hash=hashlib.sha256(FUZZER_TOKEN.split("_", 2)[2].encode()).hexdigest(),
    )
    return FUZZER_TOKEN


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_conforms_to_its_schema(case, token) -> None:
    # Business rules may refuse a schema-valid request (an unknown regime code, an id that is
    # not there): those 4xx answers are right, so that one check is left out.
    case.call_and_validate(excluded_checks=[positive_data_acceptance])


def test_api_statefully(token) -> None:
    """Sequences of calls linked through the schema's OpenAPI links (create, then read, amend,
    delist, attach, share what was created): no server error, no response off the schema."""
    machine = schema.as_state_machine()

    seen: Counter[tuple[str, int]] = Counter()

    class Partner(machine):  # type: ignore[misc, valid-type]
        def after_call(self, response, case) -> None:  # type: ignore[no-untyped-def]
            seen[(case.operation.label, response.status_code)] += 1

        def validate_response(self, response, case, additional_checks=None, **kwargs):  # type: ignore[no-untyped-def]
            case.validate_response(
                response, excluded_checks=[positive_data_acceptance], transport_kwargs=kwargs
            )

    Partner.run(
        settings=settings(
            max_examples=60,
            deadline=None,
            stateful_step_count=8,
            derandomize=True,  # the same sequences on every CI run
            suppress_health_check=list(HealthCheck),
        )
    )
    # The sequences reached real objects: designations were created and then used.
    assert seen[("POST /api/v1/designations", 201)] > 0, seen
    assert seen[("POST /api/v1/notes", 201)] > 0, seen
