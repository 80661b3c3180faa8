"""API clients: tokens for partner systems, and the designation endpoints they read."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from agencies.api_clients import api_client_create, api_client_revoke
from agencies.models import ApiClient
from designations.services import designation_amend
from tests.world import TOKEN, World, build_world, expected_to_see

pytestmark = pytest.mark.django_db

LIST = reverse("api:designation-list")


@pytest.fixture
def world() -> World:
    return build_world(with_attachments=False)


def token_for(world: World, admin: str = "b_admin", scopes=("read",), days: int = 30) -> str:
    _client, token = api_client_create(
        actor=world.users[admin],
        name=f"screening-{len(scopes)}-{days}",
        scopes=list(scopes),
        expires_at=timezone.now() + dt.timedelta(days=days),
    )
    return token


def bearer(token: str) -> Client:
    return Client(headers={"Authorization": f"Bearer {token}"})


def test_the_secret_is_shown_once_and_stored_hashed(world: World) -> None:
    token = token_for(world)
    client = ApiClient.objects.get()
    _, prefix, secret = token.split("_", 2)
    assert client.prefix == prefix
    assert secret not in client.secret_hash and len(client.secret_hash) == 64
    assert client.agency.code == "B" and client.scopes == ["read"]


def test_a_client_sees_what_its_agency_may_see(world: World) -> None:
    api = bearer(token_for(world))

    me = api.get(reverse("api:me")).json()
    assert me == {
        "kind": "api_client",
        "name": "api-client:screening-1-30",
        "agency": {"code": "B", "name": "Agency B"},
        "role": "liaison",
        "scopes": ["read"],
    }
    names = set()
    url = f"{LIST}?q={TOKEN}&page_size=4"
    while url:
        page = api.get(url).json()
        names |= {row["name"] for row in page["results"]}
        assert len(page["results"]) <= 4
        url = page["next"]
    # What agency B may see, without anything named for one of its people (b_admin is named
    # on nothing, so the same set as hers).
    expected = {s.designation.name for s in world.specs if expected_to_see(world, "b_admin", s)}
    assert "RED shared with user:b_liaison" not in names
    assert names == expected
    assert ApiClient.objects.get().last_used_at is not None


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("Bearer sx_000000000000_nope", "Invalid token."),
        ("Bearer not-a-token", "Malformed token."),
        ("Bearer a b", "Send one token"),
    ],
)
def test_bad_tokens_get_401_with_a_challenge(world: World, header: str, message: str) -> None:
    response = Client(headers={"Authorization": header}).get(LIST)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response["Content-Type"] == "application/problem+json"
    assert message in response.json()["detail"]


def test_revoking_and_expiry_take_effect_on_the_next_request(world: World) -> None:
    token = token_for(world)
    api = bearer(token)
    assert api.get(LIST).status_code == 200

    api_client_revoke(actor=world.users["b_admin"], client=ApiClient.objects.get())
    revoked = api.get(LIST)
    assert revoked.status_code == 401 and "revoked" in revoked.json()["detail"]

    expiring = token_for(world, days=1)
    ApiClient.objects.filter(revoked_at__isnull=True).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    expired = bearer(expiring).get(LIST)
    assert expired.status_code == 401 and "expired" in expired.json()["detail"]


def test_scopes_limit_what_a_client_may_do(world: World) -> None:
    grants_only = bearer(token_for(world, scopes=("grants",)))
    assert grants_only.get(LIST).status_code == 403

    read_only = bearer(token_for(world, admin="a_admin"))
    designation = next(s.designation for s in world.specs if s.marking == "CLEAR")
    upload = read_only.post(
        reverse("api:designation-attachments", args=[designation.pk]),
        data=b"x",
        content_type="application/octet-stream",
    )
    assert upload.status_code == 403
    assert "scope" in upload.json()["detail"]


def test_only_agency_admins_create_and_revoke_clients(world: World) -> None:
    later = timezone.now() + dt.timedelta(days=30)
    for username in ["b_liaison", "a_publisher", "site_admin"]:
        with pytest.raises(PermissionDenied):
            api_client_create(
                actor=world.users[username], name="x", scopes=["read"], expires_at=later
            )
    token_for(world)
    with pytest.raises(PermissionDenied):
        api_client_revoke(actor=world.users["a_admin"], client=ApiClient.objects.get())
    assert ApiClient.objects.get().revoked_at is None


@pytest.mark.parametrize(
    ("scopes", "days", "field"),
    [
        ([], 30, "scopes"),
        (["read", "admin"], 30, "scopes"),
        (["read"], 0, "expires_at"),
        (["read"], 500, "expires_at"),
    ],
)
def test_bad_client_settings_are_refused(world: World, scopes, days, field) -> None:
    with pytest.raises(ValidationError) as error:
        api_client_create(
            actor=world.users["b_admin"],
            name="x",
            scopes=scopes,
            expires_at=timezone.now() + dt.timedelta(days=days),
        )
    assert field in error.value.message_dict
    assert not ApiClient.objects.exists()


def test_etag_and_conditional_get(world: World) -> None:
    spec = next(s for s in world.specs if s.designation.name == "AMBER shared with agency:B")
    api = bearer(token_for(world))
    url = reverse("api:designation-detail", args=[spec.designation.pk])

    first = api.get(url)
    assert first.status_code == 200
    assert first.json()["name"] == "AMBER shared with agency:B"
    assert first.json()["names"][1]["full_name"].startswith(TOKEN)
    assert api.get(url, headers={"If-None-Match": first["ETag"]}).status_code == 304

    designation_amend(
        actor=world.users["a_publisher"],
        designation=spec.designation,
        changes={"reasons": "New facts"},
        reason="update",
    )
    second = api.get(url, headers={"If-None-Match": first["ETag"]})
    assert second.status_code == 200 and second["ETag"] != first["ETag"]
    assert second.json()["reasons"] == "New facts"


def test_changed_since_filters_and_a_bad_timestamp_is_a_problem(world: World) -> None:
    api = bearer(token_for(world))
    later = (timezone.now() + dt.timedelta(minutes=5)).isoformat()
    assert api.get(LIST, {"changed_since": later}).json()["results"] == []
    bad = api.get(LIST, {"changed_since": "yesterday"})
    assert bad.status_code == 400
    assert bad.json()["errors"] == {"changed_since": ["Not a timestamp."]}


def test_each_client_is_throttled_with_retry_after(world: World, settings) -> None:
    from django.core.cache import cache

    cache.clear()
    settings.API_RATE = "3/minute"
    first, second = bearer(token_for(world)), bearer(token_for(world, admin="a_admin"))

    statuses = [first.get(LIST).status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    limited = first.get(LIST)
    assert int(limited["Retry-After"]) > 0
    assert limited["Content-Type"] == "application/problem+json"
    assert second.get(LIST).status_code == 200  # another client has its own budget
    cache.clear()
