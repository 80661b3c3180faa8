"""Re-importing the real 2020 UN list, then the 2026 one, gives exactly the delistings,
amendments and new listings a diff of the two files shows; and a UN delisting opens a review
task for every agency whose designation was linked to it."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from agencies.models import Role
from agencies.services import user_create
from designations.imports import import_list
from designations.models import Designation, Regime, ReviewTask, SubjectLink
from designations.reconcile import reconcile
from designations.services import designation_create
from tests.conftest import PASSWORD, SHARED_DATA

pytestmark = pytest.mark.django_db
UN_2020 = SHARED_DATA / "un" / "consolidated_2020-03-20.xml"
UN_2026 = SHARED_DATA / "un" / "consolidated_2026-02-27.xml"


def canonical(element: ET.Element) -> tuple | None:
    """An element as a diff sees it: its text with white space collapsed, its non-empty
    children in any order; empty elements (<TITLE/>, an alias with no name) count as absent."""
    children = tuple(sorted(c for c in map(canonical, element) if c is not None))
    text = " ".join((element.text or "").split())
    return (element.tag, text, children) if text or children else None


def records(path: Path) -> dict[str, tuple | None]:
    """DATAID -> the record's content, read independently of the importer (plain
    ElementTree; the UN's VERSIONNUM is not raised on every amendment, so it cannot be used)."""
    root = ET.parse(path).getroot()  # noqa: S314 - the published file
    return {
        record.findtext("DATAID", "").strip(): canonical(record)
        for record in [*root.iter("INDIVIDUAL"), *root.iter("ENTITY")]
    }


def test_2020_then_2026_gives_the_diff_of_the_files(unsc, agency_a, local_node) -> None:
    if not (UN_2020.exists() and UN_2026.exists()):
        pytest.skip("needs the real lists in ../shared/data")
    old, new = records(UN_2020), records(UN_2026)
    gone, came = set(old) - set(new), set(new) - set(old)
    changed = {i for i in set(old) & set(new) if old[i] != new[i]}

    import_list(publisher="un", path=UN_2020, agency=unsc)
    # Agency A lists two subjects the UN will drop, linked to them; and one it keeps.
    publisher = user_create(username="pub", agency=agency_a, role=Role.PUBLISHER, password=PASSWORD)
    regime = Regime.objects.create(owner=agency_a, code="R", name="R")
    dropped = sorted(gone)[:2]
    for source_id in [*dropped, sorted(set(old) & set(new))[0]]:
        un = Designation.objects.get(source__source_id=source_id)
        mine = designation_create(
            actor=publisher,
            regime=regime,
            data={"name": un.name, "subject_kind": un.subject_kind},
        )
        SubjectLink.objects.create(
            left=un, right=mine, method="identifier", score=1.0, status="linked"
        )

    result = import_list(publisher="un", path=UN_2026, agency=unsc)

    assert (result.added, result.delisted, result.relisted) == (len(came), len(gone), 0)
    assert result.amended == len(changed) == 663
    delisted = set(
        Designation.objects.filter(owner=unsc, status="delisted").values_list(
            "source__source_id", flat=True
        )
    )
    assert delisted == gone
    amended = set(
        Designation.objects.filter(owner=unsc, version=2, status="active").values_list(
            "source__source_id", flat=True
        )
    )
    assert amended == changed
    # One review task per A listing linked to a dropped UN entry; none for the kept one.
    tasks = ReviewTask.objects.filter(agency=agency_a)
    assert result.review_tasks == 2 and tasks.count() == 2
    assert {t.cause.source.source_id for t in tasks} == set(dropped)
    assert reconcile().kept_judgements == 0
