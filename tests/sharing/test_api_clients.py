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
    return build_world(with_attachments=False, with_clients=False)


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
    for text in ["yesterday", "2026-13-01T00:00:00", "0001-01-01T00:00:00+05:00"]:
        bad = api.get(LIST, {"changed_since": text})
        assert bad.status_code == 400, text
        assert bad.json()["errors"] == {"changed_since": ["Not a timestamp."]}
    # NUL cannot reach PostgreSQL; it matches nothing.
    assert api.get(LIST, {"q": "\x00", "agency": "\x00"}).json()["results"] == []
    # An offset PostgreSQL would refuse (past 15:59) is converted, not passed on.
    far = api.get(LIST, {"changed_since": "0087-09-24T00:26:51-22:05"})
    assert far.status_code == 200 and len(far.json()["results"]) > 0


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


def new_designation(**extra) -> dict:
    return {
        "regime": "TEST",
        "name": "Volkov Shipping LLC",
        "subject_kind": "organisation",
        "names": [{"kind": "alias", "full_name": "Wolf Maritime"}],
        "identifiers": [{"kind": "imo", "number": "9123456"}],
        "listed_on": "2026-11-01",
        "marking": "AMBER",
        **extra,
    }


def test_publish_through_the_api_with_an_idempotency_key(world: World) -> None:
    api = bearer(token_for(world, admin="a_admin", scopes=("read", "write")))
    headers = {"Idempotency-Key": "create-volkov-1"}

    first = api.post(LIST, new_designation(), content_type="application/json", headers=headers)
    again = api.post(LIST, new_designation(), content_type="application/json", headers=headers)

    assert first.status_code == 201, first.content
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    body = first.json()
    assert (body["owner"], body["version"], body["marking"]) == ("A", 1, "AMBER")
    assert body["identifiers"][0]["number"] == "9123456"
    from designations.models import Designation

    assert Designation.objects.filter(name="Volkov Shipping LLC").count() == 1
    version = Designation.objects.get(name="Volkov Shipping LLC").history.get()
    assert version.actor is None and version.actor_name == "api-client:screening-2-30"

    reused = api.post(
        LIST, new_designation(name="Other"), content_type="application/json", headers=headers
    )
    assert reused.status_code == 422


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (new_designation(colour="red"), "colour"),
        (new_designation(subject_kind="dragon"), "subject_kind"),
        (new_designation(regime="NOPE"), "regime"),
        (new_designation(names=[{"kind": "alias"}]), "names"),
        (new_designation(listed_on="yesterday"), "listed_on"),
        (new_designation(marking="RED"), "marking"),
        # JSON types are kept: DRF would quietly turn a number into a name.
        (new_designation(name=8.2e256), "name"),
        (new_designation(names=[{"kind": "alias", "full_name": "x", "note": 3}]), "names"),
        (new_designation(birth_dates=[{"year": "1950"}]), "birth_dates"),
        (new_designation(titles=[True]), "titles"),
    ],
)
def test_malformed_creates_are_400_with_the_field_and_write_nothing(world, body, field) -> None:
    from designations.models import Designation

    count = Designation.objects.count()
    api = bearer(token_for(world, admin="a_admin", scopes=("read", "write")))
    response = api.post(LIST, body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert field in response.json()["errors"]
    assert Designation.objects.count() == count


def test_an_oversize_json_body_is_413_and_writes_nothing(world: World, settings) -> None:
    from designations.models import Designation

    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    count = Designation.objects.count()
    api = bearer(token_for(world, admin="a_admin", scopes=("read", "write")))
    response = api.post(
        LIST, new_designation(reasons="x" * 20_000), content_type="application/json"
    )
    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"
    assert "10,000 bytes" in response.json()["detail"]
    assert Designation.objects.count() == count


def test_amend_needs_if_match_and_refuses_a_stale_version(world: World) -> None:
    spec = next(s for s in world.specs if s.designation.name == "AMBER shared with none")
    api = bearer(token_for(world, admin="a_admin", scopes=("read", "write")))
    url = reverse("api:designation-detail", args=[spec.designation.pk])
    etag = api.get(url)["ETag"]
    change = {"reasons": "Controls the vessel fleet", "reason": "new evidence"}

    missing = api.patch(url, change, content_type="application/json")
    done = api.patch(url, change, content_type="application/json", headers={"If-Match": etag})
    stale = api.patch(url, change, content_type="application/json", headers={"If-Match": etag})

    assert missing.status_code == 428
    assert done.status_code == 200 and done.json()["reasons"] == "Controls the vessel fleet"
    assert done["ETag"] != etag
    assert stale.status_code == 412 and stale.json()["current_etag"] == done["ETag"]
    no_reason = api.patch(
        url, {"reasons": "x"}, content_type="application/json", headers={"If-Match": done["ETag"]}
    )
    assert no_reason.status_code == 400 and "reason" in no_reason.json()["errors"]


def test_delist_through_the_api(world: World) -> None:
    spec = next(s for s in world.specs if s.designation.name == "CLEAR shared with none")
    api = bearer(token_for(world, admin="a_admin", scopes=("read", "write")))
    url = reverse("api:designation-detail", args=[spec.designation.pk])
    response = api.post(
        reverse("api:designation-delist", args=[spec.designation.pk]),
        {"reason": "court ruling"},
        content_type="application/json",
        headers={"If-Match": api.get(url)["ETag"]},
    )
    assert response.status_code == 200
    assert response.json()["status"] == "delisted"


def test_other_agencies_cannot_amend(world: World) -> None:
    spec = next(s for s in world.specs if s.designation.name == "CLEAR shared with none")
    api = bearer(token_for(world, admin="b_admin", scopes=("read", "write")))
    url = reverse("api:designation-detail", args=[spec.designation.pk])
    response = api.patch(
        url,
        {"reasons": "x", "reason": "y"},
        content_type="application/json",
        headers={"If-Match": api.get(url)["ETag"]},
    )
    assert response.status_code == 403
    hidden = next(s for s in world.specs if s.designation.name == "AMBER shared with none")
    assert (
        api.patch(
            reverse("api:designation-detail", args=[hidden.designation.pk]),
            {},
            content_type="application/json",
        ).status_code
        == 404
    )


def test_an_agency_admin_creates_a_client_in_the_portal_and_sees_the_token_once(
    world: World,
) -> None:
    portal = Client()
    portal.force_login(world.users["b_admin"])
    page = portal.post(
        reverse("api-clients"),
        {
            "name": "Bank screening engine",
            "scopes": ["read"],
            "expires_on": (timezone.now() + dt.timedelta(days=60)).date().isoformat(),
        },
    )
    token = page.context["token"]
    assert token.startswith("sx_") and token.encode() in page.content
    assert bearer(token).get(LIST).status_code == 200
    again = portal.get(reverse("api-clients"))
    assert token.encode() not in again.content  # never shown again
    assert b"Bank screening engine" in again.content

    bad = portal.post(
        reverse("api-clients"),
        {
            "name": "Too long",
            "scopes": ["read"],
            "expires_on": (timezone.now() + dt.timedelta(days=900)).date().isoformat(),
        },
    )
    assert bad.context["token"] is None
    assert "within the next 13 months" in str(bad.context["form"].errors)
    assert ApiClient.objects.count() == 1


def test_sharing_through_the_api(world: World) -> None:
    spec = next(s for s in world.specs if s.designation.name == "AMBER shared with none")
    owner = bearer(token_for(world, admin="a_admin", scopes=("read", "grants")))
    reader = bearer(token_for(world, admin="b_admin"))
    grants = reverse("api:designation-grants", args=[spec.designation.pk])
    detail = reverse("api:designation-detail", args=[spec.designation.pk])
    assert reader.get(detail).status_code == 404
    typo = owner.post(
        grants, {"grantee": "agency:B", "levle": "view"}, content_type="application/json"
    )
    assert typo.status_code == 400 and set(typo.json()["errors"]) == {"levle"}
    assert owner.get(grants).json() == []

    shared = owner.post(
        grants, {"grantee": "agency:B", "level": "view"}, content_type="application/json"
    )

    assert shared.status_code == 201
    assert shared.json() == [{"grantee": "agency:B", "level": "view"}]
    assert reader.get(detail).status_code == 200
    assert owner.get(grants).json() == [{"grantee": "agency:B", "level": "view"}]

    revoked = owner.delete(reverse("api:designation-grant", args=[spec.designation.pk, "agency:B"]))
    assert revoked.status_code == 204
    assert reader.get(detail).status_code == 404
    read_only = bearer(token_for(world, admin="a_admin"))
    refused = read_only.post(
        grants, {"grantee": "agency:B", "level": "view"}, content_type="application/json"
    )
    assert refused.status_code == 403


def test_reference_lists(world: World) -> None:
    api = bearer(token_for(world))
    assert {a["code"] for a in api.get(reverse("api:agency-list")).json()} == {"A", "B", "C"}
    groups = api.get(reverse("api:sharing-group-list")).json()
    assert groups[0]["members"] == ["A", "B"]
    assert api.get(reverse("api:regime-list")).json()[0]["code"] == "TEST"


def test_notes_through_the_api(world: World) -> None:
    spec = next(s for s in world.specs if s.designation.name == "CLEAR shared with none")
    writer = bearer(token_for(world, admin="b_admin", scopes=("read", "write")))
    created = writer.post(
        reverse("api:note-list"),
        {
            "designation": str(spec.designation.pk),
            "title": "Seen in Dubai",
            "body": "Reported by a partner FIU.",
            "marking": "AMBER",
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    note = created.json()
    assert note["owner"] == "B"
    # AMBER: agency B only; the designation's owner A does not see B's note.
    a_reader = bearer(token_for(world, admin="a_admin"))
    assert a_reader.get(created["Location"]).status_code == 404
    read = writer.get(created["Location"])
    assert read.json()["title"] == "Seen in Dubai"
    assert read["ETag"] == f'"{note["id"]}-v1"'
    assert (
        writer.get(created["Location"], headers={"If-None-Match": read["ETag"]}).status_code == 304
    )
    # A tag of another object or version is no match.
    other = writer.get(created["Location"], headers={"If-None-Match": f'"{note["id"]}-v2"'})
    assert other.status_code == 200
    listed = writer.get(reverse("api:note-list"), {"designation": str(spec.designation.pk)})
    assert note["id"] in {row["id"] for row in listed.json()["results"]}
    red = writer.post(
        reverse("api:note-list"),
        {"designation": None, "title": "x", "body": "y", "marking": "RED"},
        content_type="application/json",
    )
    assert red.status_code == 400 and "marking" in red.json()["errors"]


def test_bulk_read_lists_what_is_missing(world: World) -> None:
    import uuid

    visible = next(s for s in world.specs if s.designation.name == "CLEAR shared with none")
    hidden = next(s for s in world.specs if s.designation.name == "AMBER shared with none")
    unknown = uuid.uuid4()
    api = bearer(token_for(world))
    body = api.post(
        reverse("api:designation-bulk"),
        {"ids": [str(visible.designation.pk), str(hidden.designation.pk), str(unknown)]},
        content_type="application/json",
    ).json()
    assert [row["id"] for row in body["results"]] == [str(visible.designation.pk)]
    # Hidden and unknown look the same: nobody learns what exists.
    assert body["missing"] == [str(hidden.designation.pk), str(unknown)]
    too_many = api.post(
        reverse("api:designation-bulk"),
        {"ids": [str(unknown)] * 201},
        content_type="application/json",
    )
    assert too_many.status_code == 400


def test_a_red_note_names_its_author(world: World) -> None:
    from designations.services import note_create
    from sharing import access

    author = world.users["b_liaison"]
    note = note_create(
        actor=author, designation=None, title="Source identity", body="...", marking="RED"
    )
    assert access.may(author, access.Level.VIEW, note)
    assert not access.may(world.users["b_admin"], access.Level.VIEW, note)
