"""Streamed exports: FollowTheMoney JSON lines (checked by the followthemoney library itself)
and CSV, of exactly what the caller may see."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.http import HttpRequest
from django.urls import reverse
from followthemoney import model
from followthemoney.exc import InvalidData

from agencies.models import Agency
from designations.imports import import_list
from designations.models import Designation
from designations.services import designation_amend
from sharing.models import AuditAction, AuditEntry
from tests.conftest import UN_EXCERPT
from tests.world import TOKEN, World, build_world, expected_to_see

pytestmark = pytest.mark.django_db

FTM = reverse("api:export-ftm")
CSV = reverse("api:export-csv")


@pytest.fixture
def world() -> World:
    return build_world(with_attachments=False)


def bearer(world: World, client: str):
    from django.test import Client

    return Client(headers={"Authorization": f"Bearer {world.clients[client][1]}"})


def body_of(response) -> bytes:
    assert response.status_code == 200, response.content
    assert response.streaming, "an export is streamed, not built in memory"
    return b"".join(response.streaming_content)


def valid_entities(body: bytes) -> list:
    """Every line parsed by followthemoney without cleaning, then every value checked against
    its property's type: an unknown schema, property or malformed value fails here."""
    entities = []
    for line in body.decode().splitlines():
        entity = model.get_proxy(json.loads(line), cleaned=False)
        for prop, value in entity.itervalues():
            assert prop.type.clean(value, proxy=entity) is not None, (entity.id, prop.name, value)
        entities.append(entity)
    ids = [e.id for e in entities]
    assert len(ids) == len(set(ids)), "an entity appears twice"
    # Every reference (Sanction.entity, Passport.holder) points at an exported entity.
    for entity in entities:
        for prop, value in entity.itervalues():
            if prop.type.name == "entity":
                assert value in ids, (entity.id, prop.name, value)
    return entities


def expected_ids(world: World, username: str) -> set[str]:
    return {f"sx-{s.designation.pk}" for s in world.specs if expected_to_see(world, username, s)}


def test_ftm_export_is_valid_and_holds_exactly_what_the_caller_may_see(world: World) -> None:
    for client, agency_user in (("client_a", "a_liaison"), ("client_b", "b_admin")):
        entities = valid_entities(body_of(bearer(world, client).get(FTM, {"q": TOKEN})))
        subjects = {e.id for e in entities if e.schema.is_a("Thing")}
        assert subjects == expected_ids(world, agency_user), client
        sanctions = [e for e in entities if e.schema.name == "Sanction"]
        assert {s.first("entity") for s in sanctions} == subjects


def test_csv_export_is_what_the_caller_may_see_one_row_each(world: World) -> None:
    response = bearer(world, "client_b").get(CSV, {"q": TOKEN})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="designations-')
    body = body_of(response)
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert {f"sx-{row['id']}" for row in rows} == expected_ids(world, "b_admin")
    assert all(TOKEN in row["aliases"] for row in rows)


def test_an_export_is_audited_with_its_filters(world: World) -> None:
    before = AuditEntry.objects.filter(action=AuditAction.EXPORT).count()
    body_of(bearer(world, "client_b").get(CSV, {"status": "active"}))
    entry = AuditEntry.objects.filter(action=AuditAction.EXPORT).latest("seq")
    assert AuditEntry.objects.filter(action=AuditAction.EXPORT).count() == before + 1
    assert entry.detail == {"format": "csv", "filters": {"status": "active"}}
    assert entry.actor_name.startswith("api-client:")


@pytest.mark.parametrize(("url", "accept"), [(FTM, "application/x-ndjson"), (CSV, "text/csv")])
def test_bad_filters_and_bad_tokens_are_problems(world: World, url: str, accept: str) -> None:
    bad = bearer(world, "client_b").get(url, {"kind": "spaceship", "changed_since": "soon"})
    assert bad.status_code == 400
    assert bad["Content-Type"] == "application/problem+json"
    assert set(bad.json()["errors"]) == {"kind", "changed_since"}

    from django.test import Client

    anonymous = Client().get(url, headers={"Accept": accept})
    assert anonymous.status_code == 401
    assert anonymous["Content-Type"] == "application/problem+json"
    assert AuditEntry.objects.filter(action=AuditAction.EXPORT).count() == 0


def test_filters_narrow_the_export(world: World) -> None:
    spec = next(s for s in world.specs if s.designation.name == "AMBER shared with agency:B")
    designation_amend(
        actor=world.users["a_publisher"],
        designation=spec.designation,
        changes={"reasons": "New facts"},
        reason="update",
    )
    since = Designation.objects.get(pk=spec.designation.pk).updated_at.isoformat()
    rows = body_of(bearer(world, "client_b").get(CSV, {"changed_since": since})).splitlines()
    assert len(rows) == 2 and str(spec.designation.pk).encode() in rows[1]


def test_a_real_list_exports_as_ftm_with_names_dates_and_documents(unsc: Agency, db) -> None:
    from django.test import Client

    from tests.conftest import PASSWORD

    import_list(publisher="un", path=UN_EXCERPT, agency=unsc)
    from agencies.models import Role
    from agencies.services import user_create

    user_create(username="ana", password=PASSWORD, agency=unsc, role=Role.LIAISON)
    portal = Client()
    assert portal.login(request=HttpRequest(), username="ana", password=PASSWORD)  # axes
    entities = valid_entities(body_of(portal.get(FTM)))
    assert sum(e.schema.name == "Sanction" for e in entities) == Designation.objects.count()

    bozize = next(
        e for e in entities if e.schema.name == "Sanction" and "CFi.001" in e.get("unscId")
    )
    person = next(e for e in entities if e.id == bozize.first("entity"))
    assert person.schema.name == "Person"
    assert person.first("name") == "FRANÇOIS YANGOUVONDA BOZIZÉ"
    assert set(person.get("alias")) >= {"Bozize Yangouvonda", "Samuel Peter Mudde"}
    assert set(person.get("birthDate")) == {"1946-10-14", "1948-12-16"}
    assert set(person.get("nationality")) == {"cf", "ss"}
    assert "D00002264" in person.get("passportNumber")
    passport = next(
        e for e in entities if e.schema.name == "Passport" and e.first("holder") == person.id
    )
    assert passport.first("number") == "D00002264"
    assert bozize.first("listingDate") == "2014-05-09"
    assert bozize.first("authority") == unsc.name


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(world: World) -> None:
    spec = next(s for s in world.specs if s.designation.name == "GREEN shared with none")
    designation_amend(
        actor=world.users["a_publisher"],
        designation=spec.designation,
        changes={"name": '=HYPERLINK("http://evil.example","x")'},
        reason="test",
    )
    rows = list(
        csv.DictReader(io.StringIO(body_of(bearer(world, "client_b").get(CSV)).decode("utf-8-sig")))
    )
    row = next(r for r in rows if r["id"] == str(spec.designation.pk))
    assert row["name"] == '\'=HYPERLINK("http://evil.example","x")'


def test_the_export_reads_in_chunks_not_per_designation(
    world: World, django_assert_max_num_queries
) -> None:
    # 17 designations visible to A's client; per-designation queries would pass 17 * 6.
    with django_assert_max_num_queries(20):
        body = body_of(bearer(world, "client_a").get(FTM))
    assert body.count(b'"schema": "Sanction"') == len(expected_ids(world, "a_liaison")) == 17


def test_unknown_schema_is_refused_by_the_validator() -> None:
    # The check above has teeth: followthemoney refuses what it does not know.
    with pytest.raises(InvalidData):
        model.get_proxy({"id": "x", "schema": "Spaceship", "properties": {}}, cleaned=False)
