from __future__ import annotations

import datetime as dt
import re
import unicodedata
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from agencies.models import Agency, Node
from agencies.services import agency_create
from designations.formats import ListFormatError
from designations.formats.eu import EUv10Parser, EUv11Parser, parser_for
from designations.imports import import_list
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
from sharing.models import ChangeLogEntry
from tests.conftest import FIXTURES, SHARED_DATA

pytestmark = pytest.mark.django_db

V10_EXCERPT = FIXTURES / "eu_fsf_v1_excerpt_2016.xml"
V11_FIXTURE = FIXTURES / "eu_fsf_v11_constructed.xml"
V10_REAL = SHARED_DATA / "eu" / "fsf_v1_2016-02-11_subset.xml"
NS = "{http://eu.europa.ec/fpi/fsd/export}"


@pytest.fixture
def eu(local_node: Node) -> Agency:
    return agency_create(code="EU", name="European Union", jurisdiction="EU", home_node=local_node)


def _non_latin(value: str) -> bool:
    letter = next((c for c in value if c.isalpha()), "")
    return bool(letter) and not unicodedata.name(letter, "").startswith("LATIN")


def expected_counts_v10(path: Path) -> Counter[str]:
    """What a v1.0 file holds, counted with plain ElementTree over a trusted file."""

    def text(element: ET.Element, tag: str) -> str:
        return (element.findtext(tag) or "").strip()

    counts: Counter[str] = Counter()
    root = ET.parse(path).getroot()  # noqa: S314 - our own fixture or the published file
    for record in root.iter("ENTITY"):
        counts[{"P": "person", "E": "organisation"}[record.get("Type")]] += 1
        for index, name in enumerate(record.iter("NAME")):
            if index == 0:
                counts["primary"] += 1
            elif text(name, "LANGUAGE") and _non_latin(text(name, "WHOLENAME")):
                counts["original_script"] += 1
            else:
                counts["aliases"] += 1
        for birth in record.iter("BIRTH"):
            counts["birth_dates"] += bool(text(birth, "DATE"))
            counts["birth_places"] += bool(text(birth, "PLACE") or text(birth, "COUNTRY"))
        counts["identifiers"] += sum(
            bool(text(e, "NUMBER") or text(e, "COUNTRY")) for e in record.iter("PASSPORT")
        )
        counts["nationalities"] += sum(bool(text(e, "COUNTRY")) for e in record.iter("CITIZEN"))
        counts["addresses"] += sum(
            any((c.text or "").strip() for c in e) for e in record.iter("ADDRESS")
        )
    return counts


def expected_counts_v11(path: Path) -> Counter[str]:
    """The same for a v1.1 file: attributes, with country "00"/"UNKNOWN" meaning none."""

    def known_country(element: ET.Element) -> bool:
        return element.get("countryDescription", "UNKNOWN") not in {"", "UNKNOWN"}

    counts: Counter[str] = Counter()
    root = ET.parse(path).getroot()  # noqa: S314 - our own fixture
    for record in root.iter(f"{NS}sanctionEntity"):
        code = record.find(f"{NS}subjectType").get("code")
        counts[{"person": "person", "enterprise": "organisation"}[code]] += 1
        for index, alias in enumerate(record.iter(f"{NS}nameAlias")):
            if index == 0:
                counts["primary"] += 1
            elif alias.get("nameLanguage") and _non_latin(alias.get("wholeName", "")):
                counts["original_script"] += 1
            else:
                counts["aliases"] += 1
        for birth in record.iter(f"{NS}birthdate"):
            counts["birth_dates"] += any(
                birth.get(a) for a in ("birthdate", "year", "yearRangeFrom", "yearRangeTo")
            )
            counts["birth_places"] += bool(
                birth.get("city") or birth.get("region") or known_country(birth)
            )
        counts["identifiers"] += sum(1 for _ in record.iter(f"{NS}identification"))
        counts["nationalities"] += sum(known_country(e) for e in record.iter(f"{NS}citizenship"))
        counts["addresses"] += sum(
            bool(e.get("street") or e.get("city") or known_country(e))
            for e in record.iter(f"{NS}address")
        )
    return counts


def imported_counts() -> Counter[str]:
    kinds = Counter(Designation.objects.values_list("subject_kind", flat=True))
    return Counter(
        {
            "person": kinds["person"],
            "organisation": kinds["organisation"],
            "primary": Name.objects.filter(kind="primary").count(),
            "aliases": Name.objects.filter(kind="alias").count(),
            "original_script": Name.objects.filter(kind="original_script").count(),
            "birth_dates": BirthDate.objects.count(),
            "birth_places": BirthPlace.objects.count(),
            "identifiers": Identifier.objects.count(),
            "addresses": Address.objects.count(),
            "nationalities": Nationality.objects.count(),
        }
    )


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


def by_source(source_id: str) -> Designation:
    return Designation.objects.get(source__publisher="eu", source__source_id=source_id)


def variant(tmp_path: Path, *, date: str, edit=None, name: str = "variant.xml") -> Path:
    """A copy of the v1.0 excerpt with a later Date and an optional text edit."""
    text = V10_EXCERPT.read_text(encoding="utf-8")
    text = text.replace('<WHOLE Date="11/02/2016">', f'<WHOLE Date="{date}">')
    if edit is not None:
        text = edit(text)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def remove_entity(text: str, source_id: str) -> str:
    pattern = re.compile(rf'<ENTITY Id="{source_id}" .*?</ENTITY>\n', re.S)
    new_text, count = pattern.subn("", text)
    assert count == 1
    return new_text


def parse(path: Path) -> dict[str, object]:
    with path.open("rb") as stream:
        parser = parser_for(path)(stream, path=path)
        return {entry.source_id: entry for entry in parser}


# v1.0 -------------------------------------------------------------------------------------


def test_parser_for_reads_the_root_element(tmp_path) -> None:
    assert parser_for(V10_EXCERPT) is EUv10Parser
    assert parser_for(V11_FIXTURE) is EUv11Parser
    wrong = tmp_path / "un.xml"
    wrong.write_text('<CONSOLIDATED_LIST dateGenerated="2026-03-01T00:00:00Z"/>')
    with pytest.raises(ListFormatError, match=r"root element is <CONSOLIDATED_LIST>, expected"):
        parser_for(wrong)
    # The v1.1 root outside its namespace is not an EU export either.
    bare = tmp_path / "bare.xml"
    bare.write_text('<export generationDate="2018-12-21T14:39:54+01:00"/>')
    with pytest.raises(ListFormatError, match=re.escape("expected <WHOLE> (v1.0) or <export")):
        parser_for(bare)


def test_v10_import_brings_every_record_and_every_detail(eu: Agency) -> None:
    result = import_list(publisher="eu", path=V10_EXCERPT, agency=eu)

    expected = expected_counts_v10(V10_EXCERPT)
    assert (expected["person"], expected["organisation"]) == (21, 11)
    assert expected == Counter(
        person=21,
        organisation=11,
        primary=32,
        aliases=182,
        original_script=8,
        birth_dates=27,
        birth_places=26,
        identifiers=17,
        nationalities=21,
        addresses=34,
    )
    assert imported_counts() == expected
    assert (result.added, result.record_count) == (32, 32)
    assert result.unknown_elements == {}
    assert result.publication.generated_at == dt.datetime(2016, 2, 11, tzinfo=dt.UTC)
    assert DesignationVersion.objects.filter(version=1).count() == 32
    assert sorted(Regime.objects.values_list("code", flat=True)) == [
        "AFG",
        "COD",
        "IRQ",
        "TAQA",
        "TERR",
        "ZWE",
    ]


def test_v10_record_fields(eu: Agency) -> None:
    import_list(publisher="eu", path=V10_EXCERPT, agency=eu)

    mugabe = by_source("1")
    assert mugabe.name == "Robert Gabriel Mugabe"
    assert (mugabe.subject_kind, mugabe.gender, mugabe.owner) == ("person", "Male", eu)
    assert mugabe.regime.code == "ZWE"
    assert mugabe.regime.name == "Zimbabwe"
    assert mugabe.regime.legal_basis == "Council Regulation (EC) No 314/2004"
    assert mugabe.legal_basis == "151/2012 (OJ L49)"
    assert mugabe.reference_number == ""
    assert mugabe.listed_on == dt.date(2012, 2, 21)
    assert mugabe.positions == ["President", "president"]
    assert mugabe.reasons.startswith("(Entity is sanctioned in regime 310/2002 (OJ L50)")
    assert [(n.kind, n.full_name, n.parts, n.script) for n in mugabe.names.all()] == [
        ("primary", "Robert Gabriel Mugabe", ["Robert", "Gabriel", "Mugabe"], "Latn"),
        ("alias", "Robert Gabriel Mugabe", ["Robert", "Gabriel", "Mugabe"], "Latn"),
    ]
    assert [(b.kind, b.date) for b in mugabe.birth_dates.all()] == [
        ("exact", dt.date(1924, 2, 21)),
        ("exact", dt.date(1924, 2, 21)),
    ]
    assert [(p.city, p.country) for p in mugabe.birth_places.all()] == [("Kutama", "")]
    passport = mugabe.identifiers.get()
    assert (passport.kind, passport.type_detail, passport.number, passport.note) == (
        "passport",
        "National passport",
        "AD001095",
        "((passport))",
    )
    source = mugabe.source
    assert (source.source_id, source.reference_number, source.cross_references) == ("1", "", [])
    assert source.details["programmes"] == ["ZWE"]
    assert source.details["items"][0] == {
        "element": "NAME",
        "id": "1",
        "legal_basis": "898/2005 (OJ L153)",
        "reg_date": "2005-06-16",
        "programme": "ZWE",
    }
    assert sorted(source.details["acts"]) == [
        "151/2012 (OJ L49)",
        "1643/2002 (OJ L247)",
        "898/2005 (OJ L153)",
    ]

    # Birth years, approximate years and approximate spans; AFG entity with TAQA items.
    hassan = by_source("603")
    assert [(b.kind, b.year, b.from_year, b.to_year, b.note) for b in hassan.birth_dates.all()] == [
        ("approximate", 1958, None, None, ""),
        ("approximate", 1958, None, None, ""),
        ("between", None, 1945, 1950, "approximative"),
    ]
    assert hassan.titles == ["Mullah", "Haji"]
    assert hassan.source.details["programmes"] == ["AFG", "TAQA"]
    assert by_source("20").birth_dates.filter(kind="exact", year=1965).exists()

    # Document codes written into PASSPORT/NUMBER.
    hir = by_source("1034")
    assert [
        (i.kind, i.type_detail, i.number, i.issuing_country, i.note) for i in hir.identifiers.all()
    ] == [
        ("passport", "National passport", "A 11263265", "MYS", "((passport))"),
        (
            "national_id",
            "National identification card",
            "660105-01-5297",
            "MYS",
            "((national identification no))",
        ),
        (
            "other",
            "Driving licence",
            "D216157",
            "USA",
            "((driving licence issued in california, usa))",
        ),
    ]
    assert [(a.street, a.city, a.country, a.note) for a in hir.addresses.all()] == [
        ("Seksyen 17, Shah Alam", "Selangor", "MYS", "((previous location))"),
        ("", "Maguindanao, the Philippines", "PHL", "((as at Jan. 2015))"),
    ]
    assert list(hir.nationalities.values_list("country", flat=True)) == ["MYS"]
    assert by_source("604").identifiers.filter(kind="national_id", number="548-91-5411").exists()
    assert by_source("1037").identifiers.get().type_detail == "Temporary Travel Document"

    # An organisation named first in French, with Greek and Bulgarian translations.
    brigade = by_source("202")
    assert (brigade.subject_kind, brigade.name) == ("organisation", "Brigade des martyrs d'Al-Aqsa")
    greek = brigade.names.get(full_name="Ταξιαρχία Μαρτύρων του Al-Aqsa")
    assert (greek.kind, greek.script, greek.note) == ("original_script", "Grek", "Language: EL")
    assert brigade.names.filter(kind="original_script", script="Cyrl").count() == 1
    assert brigade.names.get(kind="primary").note == "Language: FR"

    rashid = by_source("330")
    assert rashid.addresses.all()[1].note == "PHONE[0300-820 91 99, 668 33 01] FAX[662 38 14]"


def test_reimport_of_the_same_file_changes_nothing(eu: Agency) -> None:
    import_list(publisher="eu", path=V10_EXCERPT, agency=eu)
    before = database_rows()

    again = import_list(publisher="eu", path=V10_EXCERPT, agency=eu)

    assert again.already_imported
    assert database_rows() == before


def test_a_later_file_with_the_same_content_adds_no_version(eu: Agency, tmp_path) -> None:
    import_list(publisher="eu", path=V10_EXCERPT, agency=eu)
    later = variant(tmp_path, date="18/02/2016")

    result = import_list(publisher="eu", path=later, agency=eu)

    assert (result.unchanged, result.added, result.amended, result.delisted) == (32, 0, 0, 0)
    assert DesignationVersion.objects.count() == 32
    assert result.publication.generated_at == dt.datetime(2016, 2, 18, tzinfo=dt.UTC)


def test_a_changed_entry_becomes_a_new_version(eu: Agency, tmp_path) -> None:
    import_list(publisher="eu", path=V10_EXCERPT, agency=eu)
    amended = variant(
        tmp_path,
        date="18/02/2016",
        edit=lambda text: text.replace(
            "<WHOLENAME>Abu Ali</WHOLENAME>", "<WHOLENAME>Abu Ali Al-Tikriti</WHOLENAME>"
        ),
    )

    result = import_list(publisher="eu", path=amended, agency=eu)

    assert (result.amended, result.unchanged) == (1, 31)
    saddam = by_source("13")
    assert saddam.version == 2
    assert saddam.names.filter(kind="alias", full_name="Abu Ali Al-Tikriti").exists()
    assert not saddam.names.filter(full_name="Abu Ali").exists()
    latest = saddam.history.get(version=2)
    assert latest.changed_fields == ["names"]
    assert latest.publication == result.publication


def test_an_entry_gone_from_the_list_is_delisted(eu: Agency, tmp_path) -> None:
    import_list(publisher="eu", path=V10_EXCERPT, agency=eu)
    without = variant(tmp_path, date="18/02/2016", edit=lambda text: remove_entity(text, "3181"))

    result = import_list(publisher="eu", path=without, agency=eu)

    assert (result.delisted, result.unchanged, result.record_count) == (1, 31, 31)
    gone = by_source("3181")
    assert (gone.status, gone.version) == ("delisted", 2)
    assert gone.delisted_on == dt.date(2016, 2, 18)
    assert ChangeLogEntry.objects.filter(object_id=gone.pk, action="delist").count() == 1


@pytest.mark.slow
def test_the_published_v10_file_comes_in_whole(eu: Agency) -> None:
    if not V10_REAL.exists():
        pytest.skip("needs ../shared/data")

    result = import_list(publisher="eu", path=V10_REAL, agency=eu)

    assert result.unknown_elements == {}
    assert result.added == 595
    assert imported_counts() == expected_counts_v10(V10_REAL)
    assert imported_counts() == Counter(
        person=319,
        organisation=276,
        primary=595,
        aliases=2279,
        original_script=119,
        birth_dates=584,
        birth_places=572,
        identifiers=137,
        nationalities=406,
        addresses=503,
    )
    assert Counter(Identifier.objects.values_list("kind", flat=True)) == Counter(
        passport=78, national_id=29, other=30
    )
    assert Counter(BirthDate.objects.values_list("kind", flat=True)) == Counter(
        exact=360, approximate=194, between=30
    )
    assert Counter(Designation.objects.values_list("regime__code", flat=True)) == Counter(
        IRQ=292, TAQA=155, AFG=108, TERR=22, COD=16, ZWE=2
    )
    assert not SourceEntry.objects.exclude(cross_references=[]).exists()


# v1.1 -------------------------------------------------------------------------------------


def test_v11_entries_field_by_field() -> None:
    entries = parse(V11_FIXTURE)

    assert list(entries) == ["1", "928", "207", "4020"]
    lakhal = entries["928"]
    assert (lakhal.reference_number, lakhal.regime_code, lakhal.source_version) == (
        "EU.2664.45",
        "TAQA",
        "",
    )
    assert lakhal.cross_references == ["un:QDi.062"]

    def name(kind, full_name, parts, quality, script="Latn", note=""):
        return {
            "kind": kind,
            "full_name": full_name,
            "parts": parts,
            "quality": quality,
            "script": script,
            "birth_date": "",
            "birth_place": "",
            "note": note,
        }

    def place(city, country, **values):
        return {
            "street": "",
            "city": city,
            "state_province": "",
            "postal_code": "",
            "country": country,
            "note": "",
            **values,
        }

    def birth(kind, date=None, year=None, from_year=None, to_year=None, note=""):
        return {
            "kind": kind,
            "date": date,
            "year": year,
            "from_year": from_year,
            "to_year": to_year,
            "note": note,
        }

    assert lakhal.data == {
        "subject_kind": "person",
        "name": "Mohamed Lakhal",
        "legal_basis": "2015/64 (OJ L11)",
        "reference_number": "EU.2664.45",
        "gender": "Male",
        "titles": [],
        "positions": [],
        "measures": [],
        "reasons": "Date of UN designation: 2002-04-24.",
        "listed_on": "2011-01-19",
        "source_updated_on": [],
        "names": [
            name("primary", "Mohamed Lakhal", ["Mohamed", "Lakhal"], ""),
            name("alias", "Lased Ben Heni", ["Lased", "Ben Heni"], "good"),
            name("alias", "Abu Obeida", [], "low"),
        ],
        "birth_dates": [birth("exact", "1969-02-05"), birth("exact", "1970-02-05")],
        "birth_places": [place("Tripoli", "LIBYA"), place("Tunis", "TUNISIA")],
        "addresses": [
            place(
                "Tunis",
                "TUNISIA",
                street="Rue de l'Exemple 7",
                postal_code="1001",
                note="as at listing time; Illustrative address.",
            )
        ],
        "nationalities": [{"country": "TUNISIA", "note": ""}],
        "identifiers": [
            {
                "kind": "national_id",
                "type_detail": "National identification card",
                "number": "W374031",
                "issuing_country": "TUNISIA",
                "country_of_issue": "",
                "city_of_issue": "",
                "issued_on": "2011-04-11",
                "note": "(tunisian national identity number)",
            }
        ],
    }
    assert lakhal.details["programmes"] == ["TAQA"]
    assert lakhal.details["regulations"] == [
        {
            "programme": "TAQA",
            "number_title": "2015/64 (OJ L11)",
            "regulation_type": "amendment",
            "organisation_type": "commission",
            "publication_date": "2015-01-17",
            "entry_into_force_date": "2015-01-18",
            "publication_url": "http://eur-lex.europa.eu/legal-content/EN/TXT/PDF/"
            "?uri=OJ:L:2015:011:FULL&from=EN",
            "logical_id": "110305",
            "remarks": [],
        }
    ]
    assert lakhal.details["items"][2] == {
        "element": "nameAlias",
        "id": "8441",
        "legal_basis": "36/2011 (OJ L14)",
        "reg_date": "2011-01-19",
        "regulation_type": "amendment",
        "url": "http://eur-lex.europa.eu/legal-content/EN/TXT/PDF/?uri=CELEX:32011R0036&from=EN",
        "language": "en",
    }

    mugabe = entries["1"]
    assert mugabe.cross_references == []
    assert (mugabe.data["listed_on"], mugabe.data["positions"]) == (None, ["Former President"])
    # countryIso2Code "00" / "UNKNOWN" is no country: no birth place, no issuing country.
    assert mugabe.data["birth_places"] == []
    assert mugabe.data["identifiers"][0]["issuing_country"] == ""
    assert mugabe.data["identifiers"][0]["note"] == "(passport)"

    front = entries["207"]
    assert front.data["subject_kind"] == "organisation"
    assert [(n["kind"], n["script"], n["note"]) for n in front.data["names"]] == [
        ("primary", "Latn", ""),
        ("alias", "Latn", ""),
        ("original_script", "Cyrl", "Language: BG"),
        ("alias", "Latn", "Language: FR"),
        ("original_script", "Grek", "Language: EL"),
        ("alias", "Latn", ""),
    ]

    marie = entries["4020"]
    assert marie.regime_code == "COD"
    assert marie.details["programmes"] == ["COD", "IRQ"]
    assert marie.details["designation_details"] == (
        "Illustrative entity for the test of the importer."
    )
    assert marie.details["additional_information"] == ["Associated entities: none known"]
    assert (marie.data["gender"], marie.data["titles"], marie.data["positions"]) == (
        "Female",
        ["Colonel"],
        ["Commander"],
    )
    assert marie.data["birth_dates"] == [
        birth("approximate", year=1965, note="month 3"),
        birth("between", from_year=1963, to_year=1966),
    ]
    assert marie.data["birth_places"] == [
        place("Goma", "CONGO, DEMOCRATIC REPUBLIC OF", state_province="North Kivu")
    ]
    assert marie.data["nationalities"] == [{"country": "CONGO, DEMOCRATIC REPUBLIC OF", "note": ""}]
    assert [(i["kind"], i["type_detail"], i["number"]) for i in marie.data["identifiers"]] == [
        ("passport", "Diplomatic passport", "DP0012345"),
        ("tax", "Fiscal Code", "CD-TAX-778"),
    ]
    assert marie.data["identifiers"][0]["note"] == (
        "diplomatic; known to be expired; issued by Ministry of Foreign Affairs; "
        "name on document: Marie Exemple; valid to 2014-12-31"
    )
    assert marie.data["addresses"] == [
        place(
            "Kinshasa",
            "CONGO, DEMOCRATIC REPUBLIC OF",
            street="Avenue de l'Exemple 12",
            note="PO Box 1234; Gombe; PHONE: +243 000 000 000",
        )
    ]


def test_v11_import_keeps_the_un_cross_reference(eu: Agency) -> None:
    result = import_list(publisher="eu", path=V11_FIXTURE, agency=eu)

    assert result.added == 4
    assert result.unknown_elements == {}
    assert imported_counts() == expected_counts_v11(V11_FIXTURE)
    assert imported_counts() == Counter(
        person=3,
        organisation=1,
        primary=4,
        aliases=6,
        original_script=2,
        birth_dates=5,
        birth_places=3,
        identifiers=4,
        nationalities=2,
        addresses=2,
    )
    assert result.publication.generated_at == dt.datetime(
        2018, 12, 21, 13, 39, 54, 511000, tzinfo=dt.UTC
    )
    lakhal = by_source("928")
    assert lakhal.reference_number == "EU.2664.45"
    assert lakhal.source.reference_number == "EU.2664.45"
    assert lakhal.source.cross_references == ["un:QDi.062"]
    assert lakhal.regime.name == "ISIL (Da'esh) and Al-Qaida"
    assert lakhal.names.get(full_name="Abu Obeida").quality == "low"
    assert list(
        SourceEntry.objects.exclude(cross_references=[]).values_list("source_id", flat=True)
    ) == ["928"]


def test_v11_records_report_unknown_elements(tmp_path) -> None:
    text = V11_FIXTURE.read_text(encoding="utf-8").replace(
        '<subjectType code="person" classificationCode="P"/>',
        '<subjectType code="person" classificationCode="P" since="2001"/><vessel imo="1"/>',
        1,
    )
    path = tmp_path / "extra.xml"
    path.write_text(text, encoding="utf-8")

    with path.open("rb") as stream:
        parser = EUv11Parser(stream)
        assert len(list(parser)) == 4

    assert dict(parser.unknown_elements) == {
        "subjectType/@since": 1,
        "sanctionEntity/vessel": 1,
    }


# Bad input --------------------------------------------------------------------------------

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<WHOLE Date="18/02/2016"><ENTITY Id="1" Type="P" programme="ZWE" reg_date="2012-02-21">
<NAME Id="1"><WHOLENAME>&lol2;</WHOLENAME></NAME></ENTITY></WHOLE>"""


def _v10_edit(pattern: str, replacement: str, *, last: bool = False):
    def edit(text: str) -> str:
        if last:
            head, match, tail = text.rpartition(pattern)
            assert match
            return head + replacement + tail
        assert pattern in text
        return text.replace(pattern, replacement, 1)

    return edit


def _duplicate_id(text: str) -> str:
    text = text.replace('Entity_id="3181"', 'Entity_id="1"')
    return text.replace('<ENTITY Id="3181" ', '<ENTITY Id="1" ', 1)


def _foreign_item(text: str) -> str:
    return text.replace('Entity_id="3181"', 'Entity_id="1"', 1)


def _nameless(text: str) -> str:
    # Entity 1037 has one NAME; empty every part of it.
    block = re.search(r'<ENTITY Id="1037" .*?</ENTITY>\n', text, re.S).group(0)
    emptied = re.sub(r"<(LASTNAME|FIRSTNAME|WHOLENAME)>[^<]*</\1>", r"<\1/>", block)
    return text.replace(block, emptied)


def _v11(text: str) -> str:
    return V11_FIXTURE.read_text(encoding="utf-8").replace(*text.split("|"))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (BILLION_LAUGHS, "refused: the file declares a DTD"),
        ('<WHOLE Date="18/02/2016"><ENTITY Id="1" Type="P">', "not well-formed XML"),
        ("<sdnList><sdnEntry/></sdnList>", "root element is <sdnList>, expected <WHOLE> (v1.0)"),
        ('<WHOLE Date="2016-02-18"><ENTITY/></WHOLE>', "Date '2016-02-18' is not a date"),
        (
            _v10_edit("<DATE>1965-10-12</DATE>", "<DATE>1965-13-12</DATE>", last=True),
            "ENTITY Id 1964: BIRTH DATE '1965-13-12' is not a date",
        ),
        (
            _v10_edit("<DATE>1966</DATE>", "<DATE>circa 1966</DATE>"),
            "ENTITY Id 20: BIRTH DATE 'circa 1966' is not a date",
        ),
        (_duplicate_id, "ENTITY Id 1 appears twice"),
        (_foreign_item, "ENTITY Id 3181: its NAME Id 4303 names another entity (Entity_id 1)"),
        (_nameless, "ENTITY Id 1037: NAME Id"),
        (_v10_edit('<ENTITY Id="3181" ', '<ENTITY Id="" '), "an ENTITY has no Id"),
        (_v10_edit('Type="E"', 'Type="V"'), "ENTITY Id 202: unknown Type 'V'"),
        (
            _v11('generationDate="2018-12-21T14:39:54.511+01:00"|generationDate="21/12/2018"'),
            "generationDate '21/12/2018' is not a timestamp",
        ),
        (
            _v11('code="enterprise"|code="vessel"'),
            "sanctionEntity logicalId 207: unknown subjectType code 'vessel'",
        ),
        (_v11('logicalId="4020"|logicalId="928"'), "sanctionEntity logicalId 928 appears twice"),
        (
            _v11('wholeName="IBDA-C"|wholeName=""'),
            "sanctionEntity logicalId 207: nameAlias logicalId 328 has no name",
        ),
        (
            _v11('issueDate="2011-04-11"|issueDate="11.4.2011"'),
            "sanctionEntity logicalId 928: issueDate '11.4.2011' is not a date",
        ),
    ],
    ids=[
        "billion-laughs",
        "truncated",
        "wrong-root",
        "bad-list-date",
        "late-bad-birth-date",
        "free-text-birth-date",
        "duplicate-id",
        "item-of-another-entity",
        "missing-name",
        "missing-id",
        "unknown-type",
        "v11-bad-timestamp",
        "v11-unknown-subject-type",
        "v11-duplicate-id",
        "v11-missing-name",
        "v11-bad-issue-date",
    ],
)
def test_bad_files_are_refused_with_a_clear_error_and_write_nothing(
    eu: Agency, tmp_path, content, message: str
) -> None:
    import_list(publisher="eu", path=V10_EXCERPT, agency=eu)
    before = database_rows()
    path = tmp_path / "bad.xml"
    if callable(content):
        text = V10_EXCERPT.read_text(encoding="utf-8")
        path.write_text(content(text).replace("11/02/2016", "18/02/2016"), encoding="utf-8")
    else:
        path.write_text(content, encoding="utf-8")

    with pytest.raises(CommandError, match=re.escape(message)) as error:
        call_command("import_list", "eu", str(path), "--agency", "EU", "--no-progress")

    assert "Nothing was imported" in str(error.value)
    assert database_rows() == before
