from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from agencies.models import Agency, Node
from agencies.services import agency_create
from designations.imports import ImportRefused, import_list
from designations.models import (
    Address,
    BirthDate,
    BirthPlace,
    Designation,
    DesignationVersion,
    Identifier,
    ListPublication,
    Name,
    Nationality,
    Regime,
    SourceEntry,
)
from designations.selectors import DesignationFilters, designation_search
from sharing.models import ChangeLogEntry
from tests.conftest import SHARED_DATA, UN_EXCERPT

pytestmark = pytest.mark.django_db


def expected_counts(path: Path) -> Counter[str]:
    """What the file holds, counted independently of the importer (plain ElementTree over a
    trusted file): records per kind and every non-empty detail element."""

    def filled(element: ET.Element, skip: tuple[str, ...] = ()) -> bool:
        return any((c.text or "").strip() for c in element if c.tag not in skip)

    counts: Counter[str] = Counter()
    root = ET.parse(path).getroot()  # noqa: S314 - our own fixture or the published file
    for record in root.iter("INDIVIDUAL"):
        counts["person"] += 1
        counts["birth_dates"] += sum(
            filled(e, skip=("TYPE_OF_DATE",)) for e in record.iter("INDIVIDUAL_DATE_OF_BIRTH")
        )
        counts["birth_places"] += sum(filled(e) for e in record.iter("INDIVIDUAL_PLACE_OF_BIRTH"))
        counts["identifiers"] += sum(filled(e) for e in record.iter("INDIVIDUAL_DOCUMENT"))
    counts["organisation"] = sum(1 for _ in root.iter("ENTITY"))
    for record in [*root.iter("INDIVIDUAL"), *root.iter("ENTITY")]:
        tag = record.tag
        counts["aliases"] += sum(
            bool((e.findtext("ALIAS_NAME") or "").strip()) for e in record.iter(f"{tag}_ALIAS")
        )
        counts["original_script"] += bool((record.findtext("NAME_ORIGINAL_SCRIPT") or "").strip())
        counts["addresses"] += sum(filled(e) for e in record.iter(f"{tag}_ADDRESS"))
        counts["nationalities"] += sum(
            bool((v.text or "").strip()) for v in record.iterfind("NATIONALITY/VALUE")
        )
    return counts


def imported_counts() -> Counter[str]:
    kinds = Counter(Designation.objects.values_list("subject_kind", flat=True))
    return Counter(
        {
            "person": kinds["person"],
            "organisation": kinds["organisation"],
            "aliases": Name.objects.filter(kind__in=["alias", "former"]).count(),
            "original_script": Name.objects.filter(kind="original_script").count(),
            "birth_dates": BirthDate.objects.count(),
            "birth_places": BirthPlace.objects.count(),
            "identifiers": Identifier.objects.count(),
            "addresses": Address.objects.count(),
            "nationalities": Nationality.objects.count(),
        }
    )


def variant(tmp_path: Path, *, generated: str, edit=None, name: str = "variant.xml") -> Path:
    """A copy of the excerpt with a later dateGenerated and an optional text edit."""
    text = UN_EXCERPT.read_text(encoding="utf-8")
    text = re.sub(r'dateGenerated="[^"]+"', f'dateGenerated="{generated}"', text)
    if edit is not None:
        text = edit(text)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def remove_record(text: str, reference: str) -> str:
    pattern = re.compile(
        r"<(INDIVIDUAL|ENTITY)>(?:(?!</\1>).)*?<REFERENCE_NUMBER>"
        + re.escape(reference)
        + r"</REFERENCE_NUMBER>.*?</\1>\s*",
        re.S,
    )
    new_text, count = pattern.subn("", text)
    assert count == 1
    return new_text


def database_rows() -> dict[str, int]:
    return {
        "designations": Designation.objects.count(),
        "names": Name.objects.count(),
        "versions": DesignationVersion.objects.count(),
        "publications": ListPublication.objects.count(),
        "sources": SourceEntry.objects.count(),
        "regimes": Regime.objects.count(),
        "change_log": ChangeLogEntry.objects.count(),
    }


def by_reference(reference: str) -> Designation:
    return Designation.objects.get(source__reference_number=reference)


def test_import_brings_every_record_and_every_detail(unsc: Agency) -> None:
    result = import_list(publisher="un", path=UN_EXCERPT, agency=unsc)

    expected = expected_counts(UN_EXCERPT)
    assert expected["person"] == 7 and expected["organisation"] == 5
    assert imported_counts() == expected
    assert result.added == 12 and result.record_count == 12
    assert result.unknown_elements == {}
    publication = result.publication
    assert (publication.record_count, publication.added, publication.delisted) == (12, 12, 0)
    assert publication.generated_at.isoformat().startswith("2026-02-27T00:00:09")
    # Every designation has its first version in history and in the change log.
    assert DesignationVersion.objects.filter(version=1).count() == 12
    assert ChangeLogEntry.objects.filter(action="create", version=1).count() == 12


def test_import_keeps_source_identifiers_and_fields(unsc: Agency) -> None:
    import_list(publisher="un", path=UN_EXCERPT, agency=unsc)

    person = by_reference("TAi.155")
    assert person.name == "ABDUL AZIZ ABBASIN"
    assert person.source.source_id == "2975591"
    assert person.owner == unsc
    assert person.regime.code == "Taliban"
    assert person.status == "active" and person.marking == "CLEAR"
    assert person.listed_on.isoformat() == "2011-10-04"
    original = person.names.get(kind="original_script")
    assert original.script == "Arab"
    assert person.names.filter(kind="alias", full_name="Abdul Aziz Mahsud").exists()
    entity = by_reference("KPe.001")
    assert entity.subject_kind == "organisation"
    assert entity.regime.legal_basis.startswith("UNSC resolution 1718")


def test_alias_search_finds_the_listed_person(unsc: Agency, bob) -> None:
    import_list(publisher="un", path=UN_EXCERPT, agency=unsc)

    for query in ["Abdul Aziz Mahsud", "abdul aziz MAHSUD", "عبد العزيز", "TAi.155"]:
        hits = designation_search(user=bob, filters=DesignationFilters(query=query))
        assert [d.reference_number for d in hits] == ["TAi.155"], query
    nothing = designation_search(user=bob, filters=DesignationFilters(query="Nobody Atall"))
    assert not nothing.exists()


def test_reimport_of_the_same_file_changes_nothing(unsc: Agency) -> None:
    import_list(publisher="un", path=UN_EXCERPT, agency=unsc)
    before = database_rows()

    again = import_list(publisher="un", path=UN_EXCERPT, agency=unsc)
    call_command("import_list", "un", str(UN_EXCERPT), "--no-progress")

    assert again.already_imported
    assert database_rows() == before


def test_a_later_file_with_the_same_content_adds_no_version(unsc: Agency, tmp_path) -> None:
    import_list(publisher="un", path=UN_EXCERPT, agency=unsc)
    later = variant(tmp_path, generated="2026-03-06T00:00:00Z")

    result = import_list(publisher="un", path=later, agency=unsc)

    assert (result.unchanged, result.added, result.amended, result.delisted) == (12, 0, 0, 0)
    assert DesignationVersion.objects.count() == 12
    assert SourceEntry.objects.filter(last_publication=result.publication).count() == 12


def test_a_changed_entry_becomes_a_new_version(unsc: Agency, tmp_path) -> None:
    import_list(publisher="un", path=UN_EXCERPT, agency=unsc)
    log_before = ChangeLogEntry.objects.count()
    amended = variant(
        tmp_path,
        generated="2026-03-06T00:00:00Z",
        edit=lambda text: text.replace(
            "<ALIAS_NAME>Abdul Aziz Mahsud</ALIAS_NAME>",
            "<ALIAS_NAME>Abdul Aziz Mahsud</ALIAS_NAME></INDIVIDUAL_ALIAS><INDIVIDUAL_ALIAS>"
            "<QUALITY>Good</QUALITY><ALIAS_NAME>Aziz Abbasin Khan</ALIAS_NAME>",
        ),
    )

    result = import_list(publisher="un", path=amended, agency=unsc)

    assert (result.amended, result.unchanged) == (1, 11)
    person = by_reference("TAi.155")
    assert person.version == 2
    assert person.names.filter(full_name="Aziz Abbasin Khan", quality="good").exists()
    latest = person.history.get(version=2)
    assert latest.changed_fields == ["names"]
    assert latest.publication == result.publication
    assert person.history.get(version=1).snapshot["names"] != latest.snapshot["names"]
    log = ChangeLogEntry.objects.filter(seq__gt=0).order_by("seq")[log_before:]
    assert [(e.object_id, e.version, e.action) for e in log] == [(person.pk, 2, "update")]


def test_an_entry_gone_from_the_list_is_delisted_and_can_return(unsc: Agency, tmp_path) -> None:
    import_list(publisher="un", path=UN_EXCERPT, agency=unsc)
    without = variant(
        tmp_path,
        generated="2026-03-06T00:00:00Z",
        name="without.xml",
        edit=lambda text: remove_record(text, "CDi.001"),
    )

    result = import_list(publisher="un", path=without, agency=unsc)

    assert (result.delisted, result.unchanged, result.record_count) == (1, 11, 11)
    gone = by_reference("CDi.001")
    assert gone.status == "delisted" and gone.version == 2
    assert gone.delisted_on.isoformat() == "2026-03-06"
    assert gone.history.get(version=2).changed_fields == ["delisted_on", "status"]
    assert ChangeLogEntry.objects.filter(object_id=gone.pk, action="delist").count() == 1

    back = variant(tmp_path, generated="2026-03-13T00:00:00Z", name="back.xml")
    relisted = import_list(publisher="un", path=back, agency=unsc)

    assert relisted.relisted == 1
    gone.refresh_from_db()
    assert (gone.status, gone.version, gone.delisted_on) == ("active", 3, None)


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<CONSOLIDATED_LIST dateGenerated="2026-03-01T00:00:00Z"><INDIVIDUALS><INDIVIDUAL>
<DATAID>1</DATAID><FIRST_NAME>&lol3;</FIRST_NAME><UN_LIST_TYPE>DPRK</UN_LIST_TYPE>
</INDIVIDUAL></INDIVIDUALS></CONSOLIDATED_LIST>"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<CONSOLIDATED_LIST dateGenerated="2026-03-01T00:00:00Z"><INDIVIDUALS><INDIVIDUAL>
<DATAID>1</DATAID><FIRST_NAME>&secret;</FIRST_NAME><UN_LIST_TYPE>DPRK</UN_LIST_TYPE>
</INDIVIDUAL></INDIVIDUALS></CONSOLIDATED_LIST>"""


def _late_bad_record(text: str) -> str:
    # The last record carries a broken date: every earlier record was already parsed.
    head, _, tail = text.rpartition("<DATAID>")
    return head + "<LISTED_ON>2026-13-45</LISTED_ON><DATAID>" + tail


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (BILLION_LAUGHS, "refused: the file declares a DTD"),
        (EXTERNAL_ENTITY, "refused: the file declares a DTD"),
        (
            '<CONSOLIDATED_LIST dateGenerated="2026-03-01T00:00:00Z"><INDIVIDUALS><INDIVIDUAL>',
            "not well-formed XML",
        ),
        (
            '<CONSOLIDATED_LIST dateGenerated="yesterday"><INDIVIDUALS/></CONSOLIDATED_LIST>',
            "dateGenerated 'yesterday' is not a timestamp",
        ),
        ('<sdnList dateGenerated="2026-03-01"/>', "not a UN consolidated list"),
        ('<CONSOLIDATED_LIST dateGenerated="2026-03-01T00:00:00Z"/>', "lists no designations"),
        (None, "LISTED_ON '2026-13-45' is not a date"),
    ],
    ids=[
        "billion-laughs",
        "external-entity",
        "truncated",
        "bad-timestamp",
        "wrong-root",
        "empty",
        "late-bad-date",
    ],
)
def test_bad_files_are_refused_with_a_clear_error_and_write_nothing(
    unsc: Agency, tmp_path, content: str | None, message: str
) -> None:
    import_list(publisher="un", path=UN_EXCERPT, agency=unsc)
    before = database_rows()
    if content is None:
        path = variant(tmp_path, generated="2026-03-06T00:00:00Z", edit=_late_bad_record)
    else:
        path = tmp_path / "bad.xml"
        path.write_text(content)

    with pytest.raises(CommandError, match=re.escape(message)) as error:
        call_command("import_list", "un", str(path), "--no-progress")

    assert "Nothing was imported" in str(error.value)
    assert database_rows() == before


def test_an_older_file_is_refused(unsc: Agency) -> None:
    import_list(publisher="un", path=UN_EXCERPT, agency=unsc)
    older = SHARED_DATA / "un" / "consolidated_2016-02-11_subset.xml"
    if not older.exists():
        pytest.skip("needs ../shared/data")
    before = database_rows()

    with pytest.raises(ImportRefused, match="not after the last imported list"):
        import_list(publisher="un", path=older, agency=unsc)

    assert database_rows() == before


def test_only_the_agency_home_node_imports_its_list(local_node: Node) -> None:
    partner = Node.objects.create(node_id="eu", name="EU node", base_url="https://eu.example")
    replica = agency_create(code="EU", name="EU", jurisdiction="EU", home_node=partner)

    with pytest.raises(ImportRefused, match="hosted on node eu"):
        import_list(publisher="un", path=UN_EXCERPT, agency=replica)

    assert Designation.objects.count() == 0


def test_command_reports_unknown_agency_and_missing_file(local_node: Node, tmp_path) -> None:
    with pytest.raises(CommandError, match="no such file"):
        call_command("import_list", "un", str(tmp_path / "missing.xml"))
    with pytest.raises(CommandError, match="no agency with code 'NOPE'"):
        call_command("import_list", "un", str(UN_EXCERPT), "--agency", "NOPE")


@pytest.mark.slow
@pytest.mark.parametrize(
    "file_name",
    [
        "consolidated_2026-02-27.xml",
        "consolidated_2020-03-20.xml",
        "consolidated_2016-02-11_subset.xml",
    ],
)
def test_full_published_lists_come_in_whole(unsc: Agency, file_name: str) -> None:
    path = SHARED_DATA / "un" / file_name
    if not path.exists():
        pytest.skip("needs ../shared/data")

    result = import_list(publisher="un", path=path, agency=unsc)

    assert imported_counts() == expected_counts(path)
    assert result.unknown_elements == {}
    if file_name.startswith("consolidated_2026"):
        assert (imported_counts()["person"], imported_counts()["organisation"]) == (730, 273)
        assert imported_counts()["aliases"] == 2752
