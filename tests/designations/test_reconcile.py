"""Subject reconciliation: strong evidence links, names make candidates for review,
judgements are kept, and liaisons see only the linked designations they may see."""

from __future__ import annotations

from typing import Any

import pytest

from agencies.models import Role
from agencies.services import user_create
from designations.models import (
    Designation,
    LinkMethod,
    LinkStatus,
    ListPublication,
    Regime,
    SourceEntry,
    SubjectLink,
)
from designations.reconcile import reconcile, subject_of
from designations.services import designation_create
from designations.subjects import linked_designations
from sharing.models import AuditAction, AuditEntry, Marking
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def publishers(unsc, agency_a, agency_b):  # type: ignore[no-untyped-def]
    people = {}
    for agency in (unsc, agency_a, agency_b):
        Regime.objects.create(owner=agency, code="R", name=f"Regime of {agency.code}")
        people[agency.code] = user_create(
            username=f"pub_{agency.code}", agency=agency, role=Role.PUBLISHER, password=PASSWORD
        )
    return people


def publish(publishers, code: str, name: str, marking: str = Marking.CLEAR, **data: Any):  # type: ignore[no-untyped-def]
    actor = publishers[code]
    return designation_create(
        actor=actor,
        regime=Regime.objects.get(owner=actor.agency),
        data={"name": name, "subject_kind": data.pop("kind", "person"), **data},
        marking=marking,
    )


def links() -> dict[frozenset[str], tuple[str, str]]:
    return {
        frozenset({link.left.name, link.right.name}): (link.method, link.status)
        for link in SubjectLink.objects.select_related("left", "right")
    }


def test_a_source_cross_reference_links_to_the_un_designation(publishers, agency_a) -> None:
    un = publish(publishers, "UNSC", "Mohamed Lakhal", reference_number="QDi.062")
    uk = publish(publishers, "A", "Mohamed Ben Belgacem Aouadi")
    publication = ListPublication.objects.create(
        publisher="uk",
        agency=agency_a,
        generated_at="2016-02-12T00:00Z",
        file_name="conlist.csv",
        file_sha256="0" * 64,
        record_count=1,
    )
    SourceEntry.objects.create(
        designation=uk,
        publisher="uk",
        source_id="7087",
        content_hash="x",
        cross_references=["un:QDi.062", "un:QDi.999"],  # the second names nobody
        first_publication=publication,
        last_publication=publication,
    )
    result = reconcile()
    assert links() == {
        frozenset({"Mohamed Lakhal", "Mohamed Ben Belgacem Aouadi"}): (
            LinkMethod.REFERENCE,
            LinkStatus.LINKED,
        )
    }
    assert result.linked == 1 and subject_of(un.pk) == {un.pk, uk.pk}


def test_strong_identifiers_link_only_when_they_identify(publishers) -> None:
    def vessel(code: str, name: str, imo: str):  # type: ignore[no-untyped-def]
        identifiers = [{"kind": "imo", "number": imo}]
        return publish(publishers, code, name, kind="vessel", identifiers=identifiers)

    vessel("A", "Sea Breeze", "IMO 9187629")
    vessel("B", "Ocean Star (ex Sea Breeze)", "9187629")  # written differently: the same
    vessel("A", "Other ship of A", "9187629")  # A's own second listing: not linked to A's
    vessel("B", "Short number", "918762")  # not an IMO number

    def person(code: str, name: str, number: str, country: str):  # type: ignore[no-untyped-def]
        identifiers = [{"kind": "passport", "number": number, "country_of_issue": country}]
        return publish(publishers, code, name, identifiers=identifiers)

    person("A", "Zed Alpha", "A1234567", "Iran")
    person("B", "Zulu Beta", "a-123 4567", "Islamic Republic of Iran")  # same, as written
    person("UNSC", "Yankee Gamma", "A1234567", "Iraq")  # the same number, another country
    wallet = "0x7F367cC41522cE07553e823bf3be79A889DEbe1B"
    publish(
        publishers, "A", "Coin One", identifiers=[{"kind": "digital_currency", "number": wallet}]
    )
    publish(
        publishers,
        "UNSC",
        "Coin Two",
        identifiers=[{"kind": "digital_currency", "number": wallet.lower()}],
    )

    def company(code: str, name: str, number: str, country: str):  # type: ignore[no-untyped-def]
        identifiers = [{"kind": "registration", "number": number, "issuing_country": country}]
        return publish(publishers, code, name, kind="organisation", identifiers=identifiers)

    company("A", "Alpha Trading LLC", "1027700132195", "Russia")
    company("UNSC", "Alfa Torg OOO", "1027700132195", "Russian Federation")
    company("B", "Unrelated GmbH", "1027700132195", "Germany")  # the same digits elsewhere

    reconcile()
    found = {pair: value for pair, value in links().items() if value[0] == LinkMethod.IDENTIFIER}
    assert found == {
        frozenset({"Sea Breeze", "Ocean Star (ex Sea Breeze)"}): ("identifier", "linked"),
        frozenset({"Other ship of A", "Ocean Star (ex Sea Breeze)"}): ("identifier", "linked"),
        frozenset({"Zed Alpha", "Zulu Beta"}): ("identifier", "linked"),
        frozenset({"Coin One", "Coin Two"}): ("identifier", "linked"),
        frozenset({"Alpha Trading LLC", "Alfa Torg OOO"}): ("identifier", "linked"),
    }


def test_names_with_birth_data_link_or_go_to_review(publishers) -> None:
    born = [{"kind": "exact", "date": "1960-03-01"}]
    publish(publishers, "UNSC", "Mohammed Omar Abdullah", birth_dates=born)
    publish(publishers, "A", "ABDULLAH, Mohammed Omar", birth_dates=born)  # order, punctuation
    publish(publishers, "B", "Muhammad Umar Abdallah", birth_dates=born)  # transliteration
    publish(publishers, "B", "Mohammed Omar Abdullah ", birth_dates=[{"year": 1975}])
    publish(publishers, "A", "Tamil Shipping Lines", kind="organisation")
    publish(publishers, "B", "Mohammed Omar Abdulla", kind="organisation")  # not a person

    reconcile()
    found = links()
    assert found[frozenset({"Mohammed Omar Abdullah", "ABDULLAH, Mohammed Omar"})] == (
        "name",
        "linked",
    )
    # Close but not certain: a reviewer decides.
    assert found[frozenset({"Mohammed Omar Abdullah", "Muhammad Umar Abdallah"})] == (
        "name",
        "candidate",
    )
    # Born fifteen years apart: other people, whatever the name.
    assert frozenset({"Mohammed Omar Abdullah", "Mohammed Omar Abdullah "}) not in found
    assert not any("Mohammed Omar Abdulla" in pair for pair in found)
    link = next(
        link
        for link in SubjectLink.objects.select_related("left", "right")
        if {link.left.name, link.right.name} == {"Mohammed Omar Abdullah", "Muhammad Umar Abdallah"}
    )
    assert link.explanation == {
        "names": link.explanation["names"],
        "name_score": 95.0,
        "sounds_alike": True,
        "birth_dates": ["1960-03-01"],
    }
    assert set(link.explanation["names"]) == {"Mohammed Omar Abdullah", "Muhammad Umar Abdallah"}


def test_judgements_are_kept_and_stale_links_dropped(publishers) -> None:
    born = [{"kind": "exact", "date": "1960-03-01"}]
    un = publish(publishers, "UNSC", "Mohammed Omar Abdullah", birth_dates=born)
    b = publish(publishers, "B", "Muhammad Umar Abdallah", birth_dates=born)
    reconcile()
    link = SubjectLink.objects.get()
    assert link.status == LinkStatus.CANDIDATE and subject_of(un.pk) == {un.pk}
    SubjectLink.objects.filter(pk=link.pk).update(status=LinkStatus.REJECTED)
    result = reconcile()
    assert SubjectLink.objects.get().status == LinkStatus.REJECTED
    assert result.kept_judgements == 1 and result.candidates == 0

    SubjectLink.objects.filter(pk=link.pk).update(status=LinkStatus.CONFIRMED)
    assert subject_of(un.pk) == {un.pk, b.pk}  # a confirmed link joins the subject

    # Evidence that goes away takes its unjudged link with it.
    SubjectLink.objects.all().delete()
    reconcile()
    Designation.objects.filter(pk=b.pk).update(name="Someone Else")
    b.names.update(full_name="Someone Else Entirely")
    result = reconcile()
    assert result.dropped == 1 and not SubjectLink.objects.exists()


def test_liaisons_see_linked_designations_they_may_see(publishers, bob, agency_b) -> None:
    born = [{"kind": "exact", "date": "1971-05-05"}]
    un = publish(publishers, "UNSC", "Ivan Petrovich Sidorov", birth_dates=born)
    shown = publish(publishers, "A", "SIDOROV Ivan Petrovich", birth_dates=born)
    hidden = publish(publishers, "B", "Sidorov, Ivan Petrovich", birth_dates=born)
    secret = publish(
        publishers, "A", "Ivan Petrovich Sidorov", marking=Marking.AMBER, birth_dates=born
    )
    reconcile()
    assert subject_of(un.pk) == {un.pk, shown.pk, hidden.pk, secret.pk}
    # Bob (agency B) sees A's CLEAR listing and his own, never A's AMBER one.
    seen = {row.designation.pk for row in linked_designations(bob, un)}
    assert seen == {shown.pk, hidden.pk}
    page = _detail(bob, un)
    assert "The same subject in other jurisdictions" in page and "SIDOROV Ivan Petrovich" in page
    assert str(secret.pk) not in page


def _detail(user, designation) -> str:  # type: ignore[no-untyped-def]
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client.get(designation.get_absolute_url()).text


def test_a_liaison_judges_a_candidate_in_the_portal(client, publishers, bob, charlie) -> None:
    born = [{"kind": "exact", "date": "1960-03-01"}]
    publish(publishers, "UNSC", "Mohammed Omar Abdullah", birth_dates=born)
    publish(publishers, "B", "Muhammad Umar Abdallah", birth_dates=born)
    hidden = publish(
        publishers, "A", "Mohammad Omar Abdalla", marking=Marking.AMBER, birth_dates=born
    )
    reconcile()
    candidates = SubjectLink.objects.filter(status=LinkStatus.CANDIDATE)
    visible = candidates.exclude(left=hidden).exclude(right=hidden).get()
    unseen = candidates.filter(left=hidden).first() or candidates.filter(right=hidden).first()
    assert unseen is not None

    client.force_login(bob)
    page = client.get("/designations/links/")
    assert page.status_code == 200 and "Muhammad Umar Abdallah" in page.text
    assert "Mohammad Omar Abdalla" not in page.text  # B may not see A's AMBER listing
    url = f"/designations/links/{visible.pk}/decision/"
    prefix = f"link-{visible.pk}"
    bad = client.post(url, {f"{prefix}-decision": "confirm"}, follow=True)  # no reason
    assert "say why" in bad.text and SubjectLink.objects.get(pk=visible.pk).status == "candidate"
    refused = client.post(
        f"/designations/links/{unseen.pk}/decision/",
        {f"link-{unseen.pk}-decision": "reject", f"link-{unseen.pk}-reason": "x"},
    )
    assert refused.status_code == 404
    # C sees both listings but owns neither: the judgement is UNSC's or B's to make.
    client.force_login(charlie)
    assert "Muhammad Umar Abdallah" not in client.get("/designations/links/").text
    decision = {f"{prefix}-decision": "reject", f"{prefix}-reason": "Not mine."}
    assert client.post(url, decision).status_code == 404
    client.force_login(bob)
    done = client.post(url, {f"{prefix}-decision": "confirm", f"{prefix}-reason": "Same DOB."})
    assert done.status_code == 302
    visible.refresh_from_db()
    assert (visible.status, visible.decided_by, visible.decision_reason) == (
        "confirmed",
        bob,
        "Same DOB.",
    )
    assert AuditEntry.objects.filter(action=AuditAction.CHANGE, detail__decision="confirmed")
    reconcile()
    assert SubjectLink.objects.get(pk=visible.pk).status == "confirmed"


def test_ships_of_one_name_with_other_imo_numbers_are_not_linked(publishers) -> None:
    def ship(code: str, imo: str | None):  # type: ignore[no-untyped-def]
        identifiers = [{"kind": "imo", "number": imo}] if imo else []
        return publish(publishers, code, "OCEAN GLORY", kind="vessel", identifiers=identifiers)

    ship("UNSC", "9187629")
    ship("A", "9354521")  # another ship of the same name
    ship("B", None)  # no number: the name decides
    reconcile()
    owners = {
        frozenset({link.left.owner.code, link.right.owner.code})
        for link in SubjectLink.objects.select_related("left__owner", "right__owner")
    }
    assert owners == {frozenset({"UNSC", "B"}), frozenset({"A", "B"})}


def test_the_review_queue_says_when_birth_dates_differ(client, publishers, bob) -> None:
    publish(publishers, "UNSC", "Mohammed Omar Abdullah", birth_dates=[{"date": "1960-03-01"}])
    publish(publishers, "B", "Mohammed Omar Abdullah", birth_dates=[{"date": "1960-07-09"}])
    reconcile()
    link = SubjectLink.objects.get()
    assert link.status == "candidate" and link.explanation["birth_dates"] == "differ"
    client.force_login(bob)
    page = client.get("/designations/links/").text
    assert "dates of birth differ" in page and "same birth date" not in page
