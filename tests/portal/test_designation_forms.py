"""Publishing a designation and adding a note in the portal: the forms write through the
services (history, change log, audit) and refuse bad input without writing anything."""

from __future__ import annotations

import pytest
from django.urls import reverse

from agencies.models import Role
from agencies.services import user_create
from designations.models import Designation, IntelligenceNote, Regime
from sharing.access import Level
from sharing.grants import grant_create
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db
NEW = "/designations/new/"


@pytest.fixture
def regime(agency_a) -> Regime:
    return Regime.objects.create(owner=agency_a, code="R1", name="Regime of A")


def test_a_publisher_publishes_with_aliases_and_finds_it_by_one(client, alice, regime) -> None:
    client.force_login(alice)
    form = client.get(NEW)
    assert form.status_code == 200 and 'name="aliases"' in form.text
    done = client.post(
        NEW,
        {
            "regime": regime.pk,
            "subject_kind": "person",
            "name": "Ivan Formsky",
            "aliases": "Ivan the Form\n\n  Vanya Formsky  ",
            "reasons": "Testing.",
            "marking": "AMBER",
        },
    )
    designation = Designation.objects.get(name="Ivan Formsky")
    assert done.status_code == 302 and done.url == designation.get_absolute_url()
    assert sorted(designation.names.values_list("full_name", flat=True)) == [
        "Ivan Formsky",
        "Ivan the Form",
        "Vanya Formsky",
    ]
    assert designation.history.count() == 1 and designation.marking == "AMBER"
    found = client.get("/designations/", {"q": "Vanya Formsky"})
    assert "Ivan Formsky" in found.text


def test_bad_input_is_refused_and_writes_nothing(client, alice, regime, agency_b) -> None:
    other = Regime.objects.create(owner=agency_b, code="RB", name="Regime of B")
    client.force_login(alice)
    nameless = client.post(NEW, {"regime": regime.pk, "subject_kind": "person", "name": ""})
    assert nameless.status_code == 400 and "This field is required" in nameless.text
    foreign = client.post(
        NEW, {"regime": other.pk, "subject_kind": "person", "name": "X", "marking": "AMBER"}
    )
    assert foreign.status_code == 400  # another agency's regime is not a choice
    assert not Designation.objects.exists()


def test_a_liaison_may_not_publish(client, bob) -> None:
    client.force_login(bob)
    assert client.get(NEW).status_code == 403
    assert client.post(NEW, {"name": "X"}).status_code == 403


def test_a_note_is_added_by_whoever_may_comment(client, alice, bob, charlie, regime) -> None:
    admin = user_create(
        username="ada", agency=alice.agency, role=Role.AGENCY_ADMIN, password=PASSWORD
    )
    client.force_login(alice)
    client.post(
        NEW,
        {"regime": regime.pk, "subject_kind": "person", "name": "Noted", "marking": "AMBER"},
    )
    designation = Designation.objects.get(name="Noted")
    grant_create(actor=admin, obj=designation, grantee=bob.agency, level=Level.COMMENT)
    url = reverse("portal:designation-note-add", args=[designation.pk])

    client.force_login(bob)
    page = client.get(designation.get_absolute_url())
    assert "Add a note" in page.text
    added = client.post(url, {"title": "Seen", "body": "In port.", "marking": "AMBER"})
    assert added.status_code == 302
    note = IntelligenceNote.objects.get()
    assert (note.owner, note.author, note.designation) == (bob.agency, bob, designation)

    client.force_login(charlie)  # may not see it at all
    assert client.post(url, {"title": "X", "body": "Y", "marking": "AMBER"}).status_code == 404
    assert IntelligenceNote.objects.count() == 1


@pytest.fixture
def published(client, alice, regime) -> Designation:
    client.force_login(alice)
    client.post(
        NEW,
        {
            "regime": regime.pk,
            "subject_kind": "person",
            "name": "Amendable",
            "aliases": "Old Alias",
            "marking": "CLEAR",
        },
    )
    return Designation.objects.get(name="Amendable")


def amend_url(designation: Designation) -> str:
    return reverse("portal:designation-amend", args=[designation.pk])


def test_an_amendment_is_a_new_version_with_its_reason(client, published) -> None:
    assert "Amend or delist" in client.get(published.get_absolute_url()).text
    form = client.get(amend_url(published))
    assert form.status_code == 200 and "Old Alias" in form.text
    done = client.post(
        amend_url(published),
        {"name": "Amended", "aliases": "New Alias", "reason": "new facts", "version": 1},
    )
    assert done.status_code == 302
    published.refresh_from_db()
    assert (published.name, published.version) == ("Amended", 2)
    assert sorted(published.names.values_list("full_name", flat=True)) == ["Amended", "New Alias"]
    assert published.history.get(version=2).reason == "new facts"


def test_an_amendment_without_a_reason_or_on_a_stale_version_writes_nothing(
    client, published
) -> None:
    no_reason = client.post(amend_url(published), {"name": "X", "version": 1})
    assert no_reason.status_code == 400
    client.post(amend_url(published), {"name": "First", "reason": "a", "version": 1})
    stale = client.post(amend_url(published), {"name": "Second", "reason": "b", "version": 1})
    assert stale.status_code == 400 and "meanwhile" in stale.text
    published.refresh_from_db()
    assert (published.name, published.version) == ("First", 2)


def test_delisting_needs_a_reason(client, published) -> None:
    url = reverse("portal:designation-delist", args=[published.pk])
    client.post(url, {"reason": "", "version": 1})
    published.refresh_from_db()
    assert published.status == "active"
    client.post(url, {"reason": "court ruling", "version": 1})
    published.refresh_from_db()
    assert (published.status, published.version) == ("delisted", 2)


def test_others_may_not_amend_or_delist(client, published, bob) -> None:
    client.force_login(bob)  # sees it (CLEAR) but is not its publisher
    assert client.get(amend_url(published)).status_code == 403
    url = reverse("portal:designation-delist", args=[published.pk])
    assert client.post(url, {"reason": "x", "version": 1}).status_code == 403
    published.refresh_from_db()
    assert (published.status, published.version) == ("active", 1)


def test_two_versions_are_compared_field_by_field(client, published) -> None:
    client.post(
        amend_url(published),
        {"name": "Renamed", "aliases": "New Alias", "reason": "new facts", "version": 1},
    )
    url = reverse("portal:designation-diff", args=[published.pk])
    page = client.get(url, {"from": 1, "to": 2})
    assert page.status_code == 200
    diffs = {d.name: d for d in page.context["diffs"]}
    assert (diffs["name"].old, diffs["name"].new) == ("Amendable", "Renamed")
    assert any("Old Alias" in entry for entry in diffs["names"].removed)
    assert any("New Alias" in entry for entry in diffs["names"].added)
    assert "reasons" not in diffs and "audience" not in diffs
    assert "<del>Amendable</del>" in page.text and "<ins>Renamed</ins>" in page.text
    # Any two versions, either way round; a version that does not exist is a 400.
    assert client.get(url, {"from": 2, "to": 1}).context["diffs"][0].new == "Amendable"
    assert client.get(url, {"from": 1, "to": 9}).status_code == 400
    assert client.get(url, {"from": "x"}).status_code == 400


def test_another_agency_proposes_and_the_owner_accepts_in_the_portal(
    client, published, alice, bob, charlie
) -> None:
    propose = reverse("portal:designation-propose", args=[published.pk])
    client.force_login(alice)  # the owner does not propose: it amends
    assert "Propose a change" not in client.get(published.get_absolute_url()).text

    client.force_login(bob)
    assert "Propose a change" in client.get(published.get_absolute_url()).text
    nothing = client.post(propose, {"kind": "amend", "field": "name", "reason": "x"})
    assert nothing.status_code == 302
    assert not published.proposals.exists()  # no value: nothing sent
    client.post(
        propose,
        {"kind": "amend", "field": "name", "value": "Amendable Jr", "reason": "spelling"},
    )
    client.post(propose, {"kind": "dispute", "field": "reasons", "reason": "outdated"})
    assert published.proposals.count() == 2

    inbox = reverse("portal:proposal-inbox")
    assert "Amendable" in client.get(inbox).text  # bob sees what his agency sent
    amend = published.proposals.get(kind="amend")
    decide = reverse("portal:proposal-decision", args=[amend.pk])
    client.post(decide, {"decision": "accept", "reason": "mine now"})
    amend.refresh_from_db()
    assert amend.status == "open"  # the proposer may not decide

    client.force_login(alice)
    page = client.get(inbox)
    assert "spelling" in page.text and "outdated" in page.text
    client.post(decide, {"decision": "accept", "reason": "agreed"})
    amend.refresh_from_db()
    published.refresh_from_db()
    assert amend.status == "accepted" and published.name == "Amendable Jr"

    client.force_login(charlie)  # CLEAR: sees the designation, not B's proposals
    assert "spelling" not in client.get(inbox).text
    dispute = published.proposals.get(kind="dispute")
    assert (
        client.post(
            reverse("portal:proposal-decision", args=[dispute.pk]),
            {"decision": "reject", "reason": "no"},
        ).status_code
        == 404
    )


def test_the_list_sorts_by_name_or_by_latest_change(client, alice, regime) -> None:
    client.force_login(alice)
    for name in ("Beta", "Alpha", "Gamma"):
        client.post(
            NEW, {"regime": regime.pk, "subject_kind": "person", "name": name, "marking": "CLEAR"}
        )

    def order(**params: str) -> list[str]:
        page = client.get("/designations/", params)
        return [d.name for d in page.context["page"].object_list]

    assert order() == ["Alpha", "Beta", "Gamma"]
    assert order(sort="changed") == ["Gamma", "Alpha", "Beta"]
    assert order(sort="reference'; drop table") == ["Alpha", "Beta", "Gamma"]  # the default
