"""The same subjects across the same week's UN, EU and UK lists (2016, real files): every UK
entry whose Other Information gives a UN reference is linked to that UN designation, and EU
entries checked by hand against the UN list are linked by names, birth data and documents."""

from __future__ import annotations

import pytest

from agencies.services import agency_create
from designations.imports import import_list
from designations.models import Designation, LinkStatus, SourceEntry, SubjectLink
from designations.reconcile import pair, reconcile
from tests.conftest import SHARED_DATA

pytestmark = pytest.mark.django_db
UN_2016 = SHARED_DATA / "un" / "consolidated_2016-02-11_subset.xml"
EU_2016 = SHARED_DATA / "eu" / "fsf_v1_2016-02-11_subset.xml"
UK_2016 = SHARED_DATA / "uk" / "conlist_2016-02-12_subset.csv"

# Checked by hand in the files: the same names (in other spellings and word orders), the same
# years or dates of birth and nationality, and where given the same passport or ID card.
EU_UN_BY_HAND = {
    "644": "TAi.011",  # Akhtar Mohammad Mansour: passport SE-011697, born 1960
    "779": "TAi.139",  # Shenwary Haji Abdul Ghafar / Abdul Ghafar Shinwari: D 000763, 1965-03-29
    "597": "TAi.040",  # Jalaluddin Haqqani: born 1942 or 1948, Afghan
    "767": "TAi.008",  # Shams Ur-Rahman Abdul Zahir: born 1969, tazkira 2132370 and 812673
    "618": "TAi.047",  # Jamal, Qudratullah: born 1963, Afghan
    "330": "QDe.005",  # Al Rashid Trust
    "458": "QDe.010",  # Islamic Movement of Uzbekistan
    "2560": "QDe.115",  # Jama'at al-Tawhid Wa'al-Jihad, a.k.a. Al-Qaida in Iraq
}


@pytest.fixture
def three_lists(local_node):  # type: ignore[no-untyped-def]
    if not (UN_2016.exists() and EU_2016.exists() and UK_2016.exists()):
        pytest.skip("needs the real lists in ../shared/data")
    agencies = {
        code: agency_create(code=code, name=code, jurisdiction=code, home_node=local_node)
        for code in ("UNSC", "EU", "OFSI")
    }
    import_list(publisher="un", path=UN_2016, agency=agencies["UNSC"])
    import_list(publisher="eu", path=EU_2016, agency=agencies["EU"])
    import_list(publisher="uk", path=UK_2016, agency=agencies["OFSI"])
    return reconcile()


def _un_by_reference() -> dict[str, Designation]:
    return {d.reference_number: d for d in Designation.objects.filter(owner__code="UNSC")}


def test_every_uk_entry_with_a_un_reference_is_linked_to_it(three_lists) -> None:
    un = _un_by_reference()
    expected = set()
    for source in SourceEntry.objects.filter(publisher="uk").exclude(cross_references=[]):
        for reference in source.cross_references:
            target = un.get(reference.removeprefix("un:"))
            if target is not None:
                expected.add(pair(source.designation_id, target.pk))
    found = set(
        SubjectLink.objects.filter(method="reference", status=LinkStatus.LINKED).values_list(
            "left_id", "right_id"
        )
    )
    # 53 UK entries name a UN entry that this trimmed UN file holds (Taliban, Iran, two of
    # Al-Qaida's individuals); each is linked, and nothing else by reference.
    assert len(expected) == 53 and found == expected
    old_form = [
        s
        for s in SourceEntry.objects.filter(publisher="uk")
        if any(
            ref.startswith(("TI.", "QI.", "TE.", "QE."))
            for ref in s.details.get("un_references", [])
        )
        and any(r.removeprefix("un:") in un for r in s.cross_references)
    ]
    assert len(old_form) > 20  # most of them in the older form (TI.A.6.01 is TAi.006)


def test_eu_entries_checked_by_hand_are_linked_to_the_un_ones(three_lists) -> None:
    un = _un_by_reference()
    eu = {s.source_id: s.designation for s in SourceEntry.objects.filter(publisher="eu")}
    for eu_id, reference in EU_UN_BY_HAND.items():
        left, right = pair(eu[eu_id].pk, un[reference].pk)
        link = SubjectLink.objects.get(left_id=left, right_id=right)
        assert link.status == LinkStatus.LINKED, (eu_id, reference, link.explanation)
    methods = dict(
        SubjectLink.objects.filter(
            left_id__in=[eu["644"].pk, un["TAi.011"].pk],
            right_id__in=[eu["644"].pk, un["TAi.011"].pk],
        ).values_list("method", "explanation")
    )
    assert methods == {"identifier": {"identifier": {"kind": "passport", "value": "SE011697/af"}}}
    # No UN entry is linked to two EU entries except the EU's two Al-Haramain branches.
    many = {}
    for link in SubjectLink.objects.filter(status=LinkStatus.LINKED).select_related(
        "left__owner", "right__owner"
    ):
        for one, other in ((link.left, link.right), (link.right, link.left)):
            if one.owner.code == "UNSC" and other.owner.code == "EU":
                many.setdefault(one.reference_number, set()).add(other.pk)
    assert {ref for ref, others in many.items() if len(others) > 1} == {"QDe.071"}
    assert three_lists.linked > 300


def test_the_older_uk_reference_form_finds_todays_un_number(local_node) -> None:
    un_2020 = SHARED_DATA / "un" / "consolidated_2020-03-20.xml"
    if not (un_2020.exists() and UK_2016.exists()):
        pytest.skip("needs the real lists in ../shared/data")
    unsc = agency_create(code="UNSC", name="UNSC", jurisdiction="UN", home_node=local_node)
    ofsi = agency_create(code="OFSI", name="OFSI", jurisdiction="UK", home_node=local_node)
    import_list(publisher="un", path=un_2020, agency=unsc)
    import_list(publisher="uk", path=UK_2016, agency=ofsi)
    reconcile()
    uk = SourceEntry.objects.get(publisher="uk", source_id="7087").designation
    assert "QI.B.62.02" in " ".join(uk.source.details["un_references"])
    un = Designation.objects.get(owner=unsc, reference_number="QDi.062")
    left, right = pair(uk.pk, un.pk)
    link = SubjectLink.objects.get(left_id=left, right_id=right)
    assert (link.method, link.status, link.explanation) == (
        "reference",
        "linked",
        {"reference": "un:QDi.062"},
    )
