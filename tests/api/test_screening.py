"""POST /api/v1/screen: ranked matches among the designations the caller may see, with what
matched; identifiers match exactly; bad requests get a problem and write nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from agencies.api_clients import api_client_create
from agencies.models import Role
from agencies.services import user_create
from designations.imports import import_list
from designations.models import Regime
from designations.services import designation_create
from sharing.models import AuditAction, AuditEntry
from tests.conftest import PASSWORD, UN_EXCERPT

pytestmark = pytest.mark.django_db
URL = "/api/v1/screen"


@pytest.fixture
def lists(unsc, alice, agency_a):  # type: ignore[no-untyped-def]
    """The UN excerpt (public), and A's AMBER listing that nobody else may see."""
    import_list(publisher="un", path=UN_EXCERPT, agency=unsc)
    regime = Regime.objects.create(owner=agency_a, code="R", name="R")
    secret = designation_create(
        actor=alice,
        regime=regime,
        marking="AMBER",
        data={
            "name": "Viktor Secretovich Hidden",
            "subject_kind": "person",
            "birth_dates": [{"kind": "exact", "date": "1970-01-02"}],
            "nationalities": [{"country": "Russia"}],
            "identifiers": [
                {"kind": "digital_currency", "number": "bc1qsecretwallet0000000000000000000000"},
                {"kind": "passport", "number": "AB 1234 56", "issuing_country": "Russia"},
            ],
        },
    )
    vessel = designation_create(
        actor=alice,
        regime=regime,
        marking="CLEAR",
        data={
            "name": "Ocean Glory",
            "subject_kind": "vessel",
            "identifiers": [{"kind": "imo", "number": "IMO 9187629"}],
        },
    )
    return {"secret": secret, "vessel": vessel}


def client_of(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def post(client: Client, *subjects: dict):  # type: ignore[no-untyped-def]
    return client.post(URL, {"subjects": list(subjects)}, content_type="application/json")


def test_altered_names_find_the_listed_subject_with_an_explanation(lists, bob) -> None:
    answer = post(
        client_of(bob),
        {"name": "Vanya Kamara Danielle"},  # nobody
        {"name": "Husain al-Tikriti, Sadam"},  # word order and transliteration of a listed name
    )
    assert answer.status_code == 200, answer.json()
    nobody, listed = answer.json()["results"]
    assert nobody["matches"] == []
    best = listed["matches"][0]
    assert best["owner"] == "UNSC" and best["score"] >= 88
    assert best["explanation"]["name"]["by"] in {"spelling", "sound", "words contained"}
    audit = AuditEntry.objects.filter(action=AuditAction.READ, detail__screened=2).get()
    assert audit.detail == {"screened": 2, "alerts": 1}  # counts, not the names screened


def test_identifiers_match_exactly_and_only_where_visible(lists, alice, bob) -> None:
    wallet = {"kind": "digital_currency", "number": "bc1qsecretwallet0000000000000000000000"}
    # Written differently on each side: compared without spaces, dashes and case.
    passport = {"kind": "passport", "number": "ab-123456", "country": "Russian Federation"}
    imo = {"kind": "imo", "number": "9187629"}
    mine = post(client_of(alice), {"identifiers": [wallet]}, {"identifiers": [passport]}).json()
    for result in mine["results"]:
        [match] = result["matches"]
        assert match["designation"] == str(lists["secret"].pk) and match["score"] == 100.0
    assert mine["results"][0]["matches"][0]["explanation"]["identifier"]["kind"] == (
        "digital_currency"
    )
    # B may not see A's AMBER listing: no match, no hint.
    theirs = post(client_of(bob), {"identifiers": [wallet]}, {"name": "Viktor Hidden"}).json()
    assert [r["matches"] for r in theirs["results"]] == [[], []]
    ship = post(client_of(bob), {"name": "Someone Else", "identifiers": [imo]}).json()
    assert ship["results"][0]["matches"][0]["designation"] == str(lists["vessel"].pk)
    near = {"kind": "digital_currency", "number": "bc1qsecretwallet0000000000000000000001"}
    assert post(client_of(alice), {"identifiers": [near]}).json()["results"][0]["matches"] == []


def test_birth_date_and_nationality_weigh_in(lists, alice) -> None:
    client = client_of(alice)
    same = post(
        client,
        {
            "name": "Viktor Secretovich Hidden",
            "birth_date": "1970-01-02",
            "nationality": "Russian Federation",
        },
    )
    other = post(client, {"name": "Viktor Secretovich Hidden", "birth_date": "1955"})
    [same_match] = same.json()["results"][0]["matches"]
    assert same_match["explanation"]["birth_date"] == "same"
    assert same_match["explanation"]["nationality"] == "same"
    elsewhere = post(client, {"name": "Viktor Secretovich Hidden", "nationality": "France"})
    [match] = elsewhere.json()["results"][0]["matches"]
    assert match["explanation"]["nationality"] == "differs" and match["score"] == 95.0
    assert other.json()["results"][0]["matches"] == []  # 15 years apart: not this person


def test_an_api_client_needs_only_the_read_scope(lists, agency_b) -> None:
    admin = user_create(
        username="b_admin", agency=agency_b, role=Role.AGENCY_ADMIN, password=PASSWORD
    )
    _client, token = api_client_create(
        actor=admin,
        name="bank screening",
        scopes=["read"],
        expires_at=timezone.now() + dt.timedelta(days=30),
    )
    api = Client(headers={"Authorization": f"Bearer {token}"})
    answer = post(api, {"name": "Ocean Glory"})
    assert answer.status_code == 200
    assert answer.json()["results"][0]["matches"][0]["name"] == "Ocean Glory"
    assert Client().post(URL, {"subjects": [{"name": "x"}]}).status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "subjects"),
        ({"subjects": []}, "subjects"),
        ({"subjects": [{}]}, "subjects"),
        ({"subjects": [{"name": "A", "birth_date": "31/01/1970"}]}, "subjects"),
        ({"subjects": [{"name": "A", "colour": "red"}]}, "subjects"),
        ({"subjects": [{"identifiers": [{"kind": "shoe", "number": "1"}]}]}, "subjects"),
        ({"subjects": [{"name": "A"}] * 101}, "subjects"),
        ({"subjects": [{"identifiers": [{"kind": "tax", "number": "123"}]}]}, "subjects"),
        (
            {"subjects": [{"identifiers": [{"kind": "imo", "number": "9187629"}] * 20}] * 11},
            "subjects",
        ),
    ],
)
def test_bad_requests_get_a_problem(lists, bob, body, field) -> None:
    client = client_of(bob)
    before = AuditEntry.objects.count()
    answer = client.post(URL, body, content_type="application/json")
    assert answer.status_code == 400
    assert answer["Content-Type"].startswith("application/problem+json")
    assert field in answer.json()["errors"]
    assert AuditEntry.objects.count() == before
