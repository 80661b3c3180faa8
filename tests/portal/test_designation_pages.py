from __future__ import annotations

import pytest
from django.http import HttpRequest
from django.test import Client
from django.urls import reverse

from agencies.models import Agency, User
from designations.imports import import_list
from designations.models import Designation, Regime
from designations.services import designation_create, note_create
from sharing.models import Marking
from tests.conftest import PASSWORD, UN_EXCERPT

pytestmark = pytest.mark.django_db

LIST = reverse("portal:designation-list")


def detail(designation: Designation) -> str:
    return reverse("portal:designation-detail", args=[designation.pk])


def signed_in(user: User) -> Client:
    client = Client()
    # django-axes needs the request that the sign-in form would have.
    assert client.login(request=HttpRequest(), username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def un_list(unsc: Agency) -> None:
    import_list(publisher="un", path=UN_EXCERPT, agency=unsc)


@pytest.fixture
def secret_designation(alice: User, agency_a: Agency) -> Designation:
    """Agency A's TLP:AMBER designation: A sees it, nobody else (no grants yet)."""
    regime = Regime.objects.create(owner=agency_a, code="CYBER", name="Cyber-attacks")
    return designation_create(
        actor=alice,
        regime=regime,
        marking=Marking.AMBER,
        data={
            "name": "Hidden Holdings Ltd",
            "subject_kind": "organisation",
            "names": [{"kind": "alias", "full_name": "Abdul Aziz Trading"}],
        },
    )


def test_sign_in_and_out(bob: User) -> None:
    client = Client()
    page = client.get(LIST)
    assert page.status_code == 302 and page.url.startswith(reverse("login"))

    response = client.post(reverse("login"), {"username": "bob", "password": PASSWORD})
    assert response.status_code == 302 and response.url == reverse("home")  # the dashboard
    assert client.get(LIST).status_code == 200

    client.post(reverse("logout"))
    assert client.get(LIST).status_code == 302


def test_wrong_password_is_refused(bob: User) -> None:
    response = Client().post(reverse("login"), {"username": "bob", "password": "wrong"})
    assert response.status_code == 200
    assert b"did not match" in response.content


def test_a_liaison_finds_a_un_listed_person_by_alias(un_list: None, bob: User) -> None:
    client = signed_in(bob)

    page = client.get(LIST, {"q": "Abdul Aziz Mahsud"})

    assert page.status_code == 200
    found = list(page.context["page"].object_list)
    assert [d.reference_number for d in found] == ["TAi.155"]
    assert b"ABDUL AZIZ ABBASIN" in page.content
    assert b"TLP:CLEAR" in page.content


def test_filters_narrow_the_list(un_list: None, bob: User) -> None:
    client = signed_in(bob)
    taliban = Regime.objects.get(code="Taliban")

    everything = client.get(LIST).context["page"].paginator.count
    entities = client.get(LIST, {"kind": "organisation"}).context["page"].object_list
    by_regime = client.get(LIST, {"regime": taliban.pk}).context["page"].object_list
    by_agency = client.get(LIST, {"agency": "UNSC", "status": "active"}).context["page"]
    delisted = client.get(LIST, {"status": "delisted"}).context["page"].paginator.count

    assert everything == 12
    assert {d.subject_kind for d in entities} == {"organisation"} and len(entities) == 5
    assert {d.regime_id for d in by_regime} == {taliban.pk} and len(by_regime) >= 1
    assert by_agency.paginator.count == 12
    assert delisted == 0


def test_detail_shows_all_fields_and_history(un_list: None, bob: User) -> None:
    designation = Designation.objects.get(reference_number="TAi.155")

    page = signed_in(bob).get(detail(designation))

    assert page.status_code == 200
    text = page.content.decode()
    for expected in [
        "ABDUL AZIZ ABBASIN",
        "Abdul Aziz Mahsud",
        "عبد العزيز عباسین",
        "TAi.155",
        "2011-10-04",
        "Version history",
        "Taliban",
        "Haqqani Network",
    ]:
        assert expected in text, expected


def test_another_agency_cannot_find_or_open_an_amber_designation(
    un_list: None, secret_designation: Designation, alice: User, charlie: User
) -> None:
    own = signed_in(alice)
    assert own.get(LIST, {"q": "Hidden Holdings"}).context["page"].paginator.count == 1
    assert own.get(detail(secret_designation)).status_code == 200

    other = signed_in(charlie)
    search = other.get(LIST, {"q": "Abdul Aziz"})
    assert [d.reference_number for d in search.context["page"].object_list] == ["TAi.155"]
    assert other.get(LIST).context["page"].paginator.count == 12  # the UN list only
    assert other.get(LIST, {"agency": "A"}).context["page"].paginator.count == 0
    assert "A" not in {a.code for a in other.get(LIST).context["agencies"]}
    # 404, not 403: charlie must not learn that the object exists.
    assert other.get(detail(secret_designation)).status_code == 404


def test_notes_follow_their_marking(un_list: None, bob: User, charlie: User) -> None:
    designation = Designation.objects.get(reference_number="TAi.155")
    note_create(
        actor=bob,
        designation=designation,
        marking=Marking.GREEN,
        title="Community note",
        body="shared",
    )
    note_create(
        actor=bob,
        designation=designation,
        marking=Marking.AMBER,
        title="B only note",
        body="private",
    )

    as_bob = signed_in(bob).get(detail(designation)).content
    as_charlie = signed_in(charlie).get(detail(designation)).content

    assert b"Community note" in as_bob and b"B only note" in as_bob
    assert b"Community note" in as_charlie and b"B only note" not in as_charlie


def test_pages_send_security_headers(bob: User) -> None:
    response = signed_in(bob).get(LIST)
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_list_and_detail_use_a_bounded_number_of_queries(
    un_list: None, bob: User, django_assert_max_num_queries
) -> None:
    client = signed_in(bob)
    designation = Designation.objects.get(reference_number="TAi.155")
    with django_assert_max_num_queries(10):
        client.get(LIST)
    # Constant, not per row: names, history, notes (each read audited), sharing, attachments,
    # proposals and the forms one may use.
    with django_assert_max_num_queries(30):
        client.get(detail(designation))


def test_malformed_filters_are_harmless(un_list: None, bob: User) -> None:
    client = signed_in(bob)
    for params in [
        {"regime": "x'; drop"},
        {"regime": str(2**63)},
        {"page": "999"},
        {"page": "-1"},
        {"q": "%" * 500},
        # NUL cannot reach PostgreSQL; it matches nothing.
        {"q": "\x00"},
        {"kind": "\x00"},
        {"agency": "A\x00"},
    ]:
        assert client.get(LIST, params).status_code == 200
    assert client.get("/designations/not-a-uuid/").status_code == 404


def test_an_oversize_form_gets_a_friendly_413(db, settings) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = Client().post(reverse("login"), {"username": "x" * 5000, "password": "y"})
    assert response.status_code == 413
    assert b"That request could not be accepted" in response.content
    assert b"1,000 bytes" in response.content
