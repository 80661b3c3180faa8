from __future__ import annotations

import csv
import datetime as dt
import io
import re
import shutil
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from agencies.models import Agency, Node
from agencies.services import agency_create
from designations.formats import ListFormatError
from designations.formats.ofac import (
    Facts,
    OFACCSVParser,
    OFACXMLParser,
    parse_birth_date,
    parse_remarks,
    parser_for,
)
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
from sharing.models import ChangeLogEntry
from tests.conftest import FIXTURES, SHARED_DATA

pytestmark = pytest.mark.django_db

SDN_EXCERPT = FIXTURES / "ofac_sdn_excerpt"
CONS_EXCERPT = FIXTURES / "ofac_cons_excerpt"
XML_EXCERPT = FIXTURES / "ofac_consolidated_nonsdn_excerpt_2024-05-06.xml"
OFAC_DATA = SHARED_DATA / "ofac"
JULY_2021 = dt.datetime(2021, 7, 1, tzinfo=dt.UTC)

# The files of each CSV set, as OFAC names them.
SETS = {
    "sdn.csv": ("add.csv", "alt.csv", "sdn_comments.csv"),
    "cons_prim.csv": ("cons_add.csv", "cons_alt.csv", None),
}
CSV_KINDS = {
    "individual": "person",
    "-0-": "organisation",
    "vessel": "vessel",
    "aircraft": "aircraft",
}
XML_KINDS = {
    "Individual": "person",
    "Entity": "organisation",
    "Vessel": "vessel",
    "Aircraft": "aircraft",
}


@pytest.fixture
def ofac(local_node: Node) -> Agency:
    return agency_create(code="OFAC", name="US OFAC", jurisdiction="US", home_node=local_node)


# --- independent counts ---------------------------------------------------------------------


def csv_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="ascii", newline="") as stream:
        return [row for row in csv.reader(stream) if row != ["\x1a"]]


def full_remarks(folder: Path) -> tuple[str, dict[str, str]]:
    main = "sdn.csv" if (folder / "sdn.csv").exists() else "cons_prim.csv"
    remarks = {}
    for row in csv_rows(folder / main):
        text = row[11].strip()
        remarks[row[0]] = "" if text == "-0-" else text
    comments = SETS[main][2]
    if comments and (folder / comments).exists():
        for ent_num, more in csv_rows(folder / comments):
            remarks[ent_num] += more
    return main, remarks


def expected_csv_counts(folder: Path) -> Counter[str]:
    """What the CSV set holds, counted with plain csv and regular expressions over whole
    remarks (not the importer's part-by-part parsing)."""
    main, remarks = full_remarks(folder)
    add, alt, _ = SETS[main]
    counts: Counter[str] = Counter()
    for row in csv_rows(folder / main):
        counts[CSV_KINDS[row[2].strip()]] += 1
    # Parenthesised notes may hold their own "; " (and a "Passport No.: ..."): not parts.
    text = re.sub(r"\([^()]*\)", "()", "\n".join(remarks.values()))

    def starts(pattern: str) -> int:
        # A remarks part starts the text or follows "; "; parenthesised notes are not parts.
        return len(re.findall(rf"(?:^|; )(?:alt\. )?{pattern}", text, re.M))

    counts["aliases"] = len(csv_rows(folder / alt)) + starts(r"[afn]\.k\.a\. '")
    counts["addresses"] = sum(
        any(v.strip() != "-0-" for v in row[2:]) for row in csv_rows(folder / add)
    )
    counts["birth_dates"] = starts("DOB ")
    counts["birth_places"] = starts("POB ")
    counts["nationalities"] = starts("(?:nationality|citizen) ")
    counts["imo"] = len(re.findall(r"\bIMO \d+|Vessel Registration Identification \d", text))
    counts["digital_currency"] = starts("Digital Currency Address - ")
    counts["bic"] = starts("SWIFT/BIC ")
    counts["passport"] = starts(r"(?:Diplomatic |British National Overseas )?Passport #?[A-Z0-9]")
    counts["gender"] = starts("Gender (?:Male|Female)")
    return counts


def expected_xml_counts(path: Path) -> Counter[str]:
    counts: Counter[str] = Counter()
    root = ET.parse(path).getroot()  # noqa: S314 - our own fixture or the published file
    for entry in root.iterfind("{*}sdnEntry"):
        counts[XML_KINDS[entry.findtext("{*}sdnType")]] += 1
        counts["aliases"] += len(entry.findall("{*}akaList/{*}aka"))
        counts["weak"] += len(
            [a for a in entry.findall("{*}akaList/{*}aka") if a.findtext("{*}category") == "weak"]
        )
        counts["addresses"] += len(entry.findall("{*}addressList/{*}address"))
        counts["birth_dates"] += len(entry.findall("{*}dateOfBirthList/{*}dateOfBirthItem"))
        counts["birth_places"] += len(entry.findall("{*}placeOfBirthList/{*}placeOfBirthItem"))
        counts["nationalities"] += len(entry.findall("{*}nationalityList/{*}nationality"))
        counts["nationalities"] += len(entry.findall("{*}citizenshipList/{*}citizenship"))
        for id_ in entry.iterfind("{*}idList/{*}id"):
            counts[f"id:{id_.findtext('{*}idType')}"] += 1
    return counts


# idTypes of the XML that are identifiers; the others (directives, websites, dates, ...) are
# information kept in details, and "Gender" is the gender.
XML_IDENTIFIER_TYPES = {
    "Tax ID No.": "tax",
    "Registration ID": "registration",
    "ISIN": "other",
    "Government Gazette Number": "registration",
    "Unified Social Credit Code (USCC)": "registration",
    "SWIFT/BIC": "bic",
    "Registration Number": "registration",
    "Legal Entity Number": "registration",
    "Public Registration Number": "registration",
    "BIK (RU)": "other",
    "Business Registration Number": "registration",
    "License": "other",
    "Passport": "passport",
    "V.A.T. Number": "tax",
    "Company Number": "registration",
    "C.R. No.": "registration",
}


def imported_counts() -> Counter[str]:
    kinds = Counter(Designation.objects.values_list("subject_kind", flat=True))
    counts = Counter(
        {
            **kinds,
            "aliases": Name.objects.exclude(kind="primary").count(),
            "addresses": Address.objects.count(),
            "birth_dates": BirthDate.objects.count(),
            "birth_places": BirthPlace.objects.count(),
            "nationalities": Nationality.objects.count(),
        }
    )
    for kind in ("imo", "digital_currency", "bic", "passport"):
        counts[kind] = Identifier.objects.filter(kind=kind).count()
    counts["gender"] = Designation.objects.exclude(gender="").count()
    return +counts


def database_rows() -> dict[str, int]:
    return {
        "designations": Designation.objects.count(),
        "names": Name.objects.count(),
        "identifiers": Identifier.objects.count(),
        "versions": DesignationVersion.objects.count(),
        "publications": ListPublication.objects.count(),
        "sources": SourceEntry.objects.count(),
        "regimes": Regime.objects.count(),
        "change_log": ChangeLogEntry.objects.count(),
    }


def by_ent_num(ent_num: str) -> Designation:
    return Designation.objects.get(source__publisher="ofac", source__source_id=ent_num)


def parse(path: Path) -> tuple[list, OFACCSVParser | OFACXMLParser]:
    cls = parser_for(path)
    main = cls.main_file(path) if hasattr(cls, "main_file") else path
    with main.open("rb") as stream:
        parser = cls(stream, path=path)
        return list(parser), parser


def copy_set(folder: Path, tmp_path: Path, name: str, edits: dict | None = None) -> Path:
    """A copy of a CSV set with each file's text edited by edits[file name]."""
    target = tmp_path / name
    shutil.copytree(folder, target)
    for file_name, edit in (edits or {}).items():
        file = target / file_name
        file.write_bytes(edit(file.read_bytes().decode("ascii")).encode("ascii"))
    return target


def drop_rows(text: str, ent_num: str) -> str:
    return "".join(line for line in text.splitlines(True) if not line.startswith(f"{ent_num},"))


# --- the CSV set ------------------------------------------------------------------------------


def test_csv_excerpt_comes_in_whole(ofac: Agency) -> None:
    result = import_list(publisher="ofac", path=SDN_EXCERPT, agency=ofac, generated_at=JULY_2021)

    expected = expected_csv_counts(SDN_EXCERPT)
    assert expected == Counter(
        {
            "person": 23,
            "organisation": 11,
            "vessel": 3,
            "aircraft": 3,
            "aliases": 114,
            "addresses": 106,
            "birth_dates": 37,
            "birth_places": 18,
            "nationalities": 11,
            "imo": 1,
            "digital_currency": 59,
            "bic": 1,
            "passport": 14,
            "gender": 6,
        }
    )
    assert imported_counts() == expected
    assert (result.added, result.record_count, result.unknown_elements) == (40, 40, {})
    assert result.publication.generated_at == JULY_2021
    assert SourceEntry.objects.filter(publisher="ofac").count() == 40
    assert ChangeLogEntry.objects.filter(action="create", version=1).count() == 40


def test_csv_entity_with_addresses_aliases_and_a_weak_alias(ofac: Agency) -> None:
    import_list(publisher="ofac", path=SDN_EXCERPT, agency=ofac, generated_at=JULY_2021)

    bank = by_ent_num("306")
    assert (bank.name, bank.subject_kind, bank.reference_number) == (
        "BANCO NACIONAL DE CUBA",
        "organisation",
        "306",
    )
    assert (bank.regime.code, bank.regime.name) == ("CUBA", "Cuba")
    assert bank.legal_basis == "Cuban Assets Control Regulations, 31 CFR part 515"
    names = list(bank.names.values_list("kind", "full_name", "quality"))
    assert names == [
        ("primary", "BANCO NACIONAL DE CUBA", ""),
        ("alias", "NATIONAL BANK OF CUBA", "good"),
        ("alias", "BNC", "low"),
    ]
    addresses = list(bank.addresses.values_list("street", "city", "country"))
    assert addresses == [
        ("Zweierstrasse 35", "Zurich CH-8022", "Switzerland"),
        ("Avenida de Concha Espina 8", "Madrid E-28036", "Spain"),
        ("Dai-Ichi Bldg. 6th Floor, 10-2 Nihombashi, 2-chome, Chuo-ku", "Tokyo 103", "Japan"),
        ("Federico Boyd Avenue & 51 Street", "Panama City", "Panama"),
    ]
    assert bank.source.details == {
        "programs": ["CUBA"],
        "regime_name": "Cuba",
        "remarks": "a.k.a. 'BNC'.",
    }


def test_csv_person_remarks_become_fields(ofac: Agency) -> None:
    import_list(publisher="ofac", path=SDN_EXCERPT, agency=ofac, generated_at=JULY_2021)

    robow = by_ent_num("11313")
    assert robow.subject_kind == "person"
    assert robow.names.get(kind="primary").parts == ["ROBOW", "Mukhtar"]
    births = list(robow.birth_dates.values_list("kind", "date", "year"))
    assert births == [("exact", None, 1969), ("exact", dt.date(1969, 10, 10), None)]
    places = list(robow.birth_places.values_list("city", "country"))
    assert places == [("Xudur", "Somalia"), ("Keren", "Eritrea")]
    assert list(robow.nationalities.values_list("country", flat=True)) == ["Eritrea"]
    identifiers = list(
        robow.identifiers.values_list("kind", "number", "country_of_issue", "issued_on", "note")
    )
    assert identifiers == [
        ("passport", "0310857", "Eritrea", dt.date(2006, 8, 21), "expires 20 Aug 2008"),
        ("national_id", "1372584", "Kenya", None, ""),
    ]
    # The parenthesised note has its own "; ": it stays whole, unparsed, in details.
    unparsed = robow.source.details["remarks_unparsed"]
    assert len(unparsed) == 1 and unparsed[0].startswith("(Following data derived from")
    assert unparsed[0].endswith("Expire Date 20 August 2008)")


def test_csv_remarks_continue_in_the_comments_file(ofac: Agency) -> None:
    import_list(publisher="ofac", path=SDN_EXCERPT, agency=ofac, generated_at=JULY_2021)

    li = by_ent_num("28264")
    assert li.gender == "Male"
    assert li.regime.code == "DPRK3"
    assert li.source.details["programs"] == ["DPRK3", "CYBER2"]
    # Cut mid-word at 1,000 characters in sdn.csv, the remarks end in sdn_comments.csv.
    assert li.source.details["linked_to"] == ["LAZARUS GROUP"]
    assert li.source.details["remarks"].endswith("a.k.a. 'khaleesi'; Linked To: LAZARUS GROUP.")
    assert li.identifiers.get(kind="national_id").number == "210302198701102136"
    wallets = li.identifiers.filter(kind="digital_currency")
    assert wallets.count() == 12
    assert set(wallets.values_list("type_detail", flat=True)) == {"XBT"}
    assert list(li.names.filter(quality="low").values_list("full_name", flat=True)) == [
        "blackjack1987",
        "khaleesi",
    ]
    # 28263's weak alias is itself split across the two files.
    assert by_ent_num("28263").names.filter(full_name="snowsjohn").exists()
    # 12300's continuation starts mid-word: "PROMO RAI" + "Z S.A.S.".
    assert "PROMO RAIZ S.A.S." in by_ent_num("12300").source.details["linked_to"]


def test_csv_vessel_and_aircraft(ofac: Agency) -> None:
    import_list(publisher="ofac", path=SDN_EXCERPT, agency=ofac, generated_at=JULY_2021)

    tanker = by_ent_num("15036")
    assert tanker.subject_kind == "vessel"
    assert list(tanker.identifiers.values_list("kind", "type_detail", "number")) == [
        ("imo", "Vessel Registration Identification", "9187629"),
        ("other", "MMSI", "572469210"),
    ]
    assert tanker.source.details["vessel"] == {
        "call_sign": "T2EU4",
        "vessel_type": "Crude/Oil Products Tanker",
        "tonnage": "99,144",
        "gross_registered_tonnage": "56,068",
        "vessel_flag": "Iran",
    }
    assert list(tanker.names.values_list("kind", "full_name", "quality")) == [
        ("primary", "ARTAVIL", ""),
        ("former", "ABADAN", "good"),
        ("former", "SHONA", "good"),
        ("former", "ALPHA", "low"),
    ]
    assert {"type": "Former Vessel Flag", "value": "Tuvalu"} in (
        tanker.source.details["information"]
    )
    plane = by_ent_num("15431")
    assert (plane.subject_kind, plane.name) == ("aircraft", "EP-GOM")
    assert plane.identifiers.get(
        type_detail="Aircraft Manufacturer's Serial Number (MSN)"
    ).number == ("1023409321")
    assert plane.source.details["linked_to"] == ["POUYA AIR"]


@pytest.mark.parametrize(
    "folder",
    [
        SDN_EXCERPT,
        CONS_EXCERPT,
        pytest.param(OFAC_DATA / "sdn_2021", marks=pytest.mark.slow),
        pytest.param(OFAC_DATA / "cons_2025", marks=pytest.mark.slow),
    ],
    ids=["sdn-excerpt", "cons-excerpt", "sdn_2021", "cons_2025"],
)
def test_every_remarks_part_is_mapped_or_kept(folder: Path) -> None:
    """Conservation: each part of the remarks becomes exactly one field value, piece of
    information, link or unparsed text; none is lost."""
    if not folder.exists():
        pytest.skip("needs ../shared/data")
    entries, _ = parse(folder)
    _, remarks = full_remarks(folder)
    from designations.formats.ofac import _split_remarks

    for entry in entries:
        parts = _split_remarks(remarks[entry.source_id])
        details = entry.details
        weak = [n for n in entry.data["names"] if n["quality"] == "low"]
        mapped = (
            len(entry.data["birth_dates"])
            + len(entry.data["birth_places"])
            + len(entry.data["nationalities"])
            + len(entry.data["identifiers"])
            + len(weak)
            + bool(entry.data["gender"])
            + len(details.get("information", []))
            + len(details.get("linked_to", []))
            + len(details.get("remarks_unparsed", []))
        )
        assert mapped == len(parts), entry.source_id
        assert details.get("remarks", "") == remarks[entry.source_id]


def test_consolidated_csv_set_uses_its_own_file_names(ofac: Agency) -> None:
    assert OFACCSVParser.main_file(CONS_EXCERPT) == CONS_EXCERPT / "cons_prim.csv"

    result = import_list(publisher="ofac", path=CONS_EXCERPT, agency=ofac, generated_at=JULY_2021)

    expected = expected_csv_counts(CONS_EXCERPT)
    assert (expected["person"], expected["organisation"]) == (8, 14)
    assert (expected["aliases"], expected["addresses"]) == (71, 40)
    assert imported_counts() == expected
    assert result.added == 22
    assert Regime.objects.get(code="CMIC-EO13959").legal_basis.startswith("Executive Order 13959")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12 Jan 1960", ("exact", "1960-01-12", None, None, None, "")),
        ("1960", ("exact", None, 1960, None, None, "")),
        ("Jan 1960", ("exact", None, 1960, None, None, "Jan 1960")),
        ("circa 1958", ("approximate", None, 1958, None, None, "")),
        ("circa 02 Mar 1958", ("approximate", "1958-03-02", None, None, None, "circa 02 Mar 1958")),
        ("1955 to 1958", ("between", None, None, 1955, 1958, "")),
        ("circa 1955-1958", ("between", None, None, 1955, 1958, "circa 1955-1958")),
        (
            "01 Jan 1961 to 31 Dec 1962",
            ("between", None, None, 1961, 1962, "01 Jan 1961 to 31 Dec 1962"),
        ),
    ],
)
def test_birth_date_forms(value: str, expected: tuple) -> None:
    birth = parse_birth_date(value, record="ent_num 1")
    fields = ("kind", "date", "year", "from_year", "to_year", "note")
    assert tuple(birth[f] for f in fields) == expected


def test_remarks_parts_map_to_fields() -> None:
    facts = Facts()
    parse_remarks(
        "Linked To: VIC DEL INC. (OFF SHORE); (Linked To: STATE CORPORATION ROSTEC); "
        "Company Number IMO 5055293; Vessel Registration Identification 8606173; "
        "alt. Digital Currency Address - ETH 0x8576acc5c05d6ce88f4e49bf65bdf0c62f91353c; "
        "Passport issued in Sarajevo, Bosnia-Herzegovina; PHONE 850 2 381 8221; "
        "citizen Iraq; Gender Female; n.k.a. 'NEW NAME'; Member ETA.",
        facts,
        record="ent_num 1",
    )

    assert facts.linked_to == ["VIC DEL INC. (OFF SHORE)", "STATE CORPORATION ROSTEC"]
    assert [(i["kind"], i["type_detail"], i["number"]) for i in facts.identifiers] == [
        ("imo", "Company Number", "5055293"),
        ("imo", "Vessel Registration Identification", "8606173"),
        ("digital_currency", "ETH", "0x8576acc5c05d6ce88f4e49bf65bdf0c62f91353c"),
    ]
    assert facts.information == [{"type": "PHONE", "value": "850 2 381 8221"}]
    assert facts.nationalities == [{"country": "Iraq", "note": "citizen"}]
    assert facts.gender == "Female"
    assert [(n["kind"], n["full_name"], n["quality"], n["note"]) for n in facts.names] == [
        ("alias", "NEW NAME", "low", "n.k.a.")
    ]
    assert facts.unparsed == ["Passport issued in Sarajevo, Bosnia-Herzegovina", "Member ETA"]


@pytest.mark.parametrize("value", ["31 Feb 1960", "12 Foo 1960", "sometime", "1960 to 1950"])
def test_bad_birth_dates_are_refused(value: str) -> None:
    with pytest.raises(ListFormatError, match="ent_num 7: date of birth"):
        parse_birth_date(value, record="ent_num 7")


def test_reimport_of_the_same_set_changes_nothing(ofac: Agency) -> None:
    import_list(publisher="ofac", path=SDN_EXCERPT, agency=ofac, generated_at=JULY_2021)
    before = database_rows()

    again = import_list(
        publisher="ofac", path=SDN_EXCERPT, agency=ofac, generated_at=JULY_2021 + dt.timedelta(1)
    )

    assert again.already_imported
    assert database_rows() == before


def test_a_later_set_delists_a_removed_entry_and_versions_a_changed_one(
    ofac: Agency, tmp_path: Path
) -> None:
    import_list(publisher="ofac", path=SDN_EXCERPT, agency=ofac, generated_at=JULY_2021)
    later = copy_set(
        SDN_EXCERPT,
        tmp_path,
        "later",
        {
            "sdn.csv": lambda text: drop_rows(text, "4243").replace(
                "\"a.k.a. 'BNC'.\"", "\"a.k.a. 'BNC'; SWIFT/BIC BNCUCUHH.\""
            ),
            "alt.csv": lambda text: drop_rows(text, "4243"),
        },
    )

    result = import_list(
        publisher="ofac", path=later, agency=ofac, generated_at=JULY_2021 + dt.timedelta(7)
    )

    assert (result.added, result.amended, result.delisted, result.unchanged) == (0, 1, 1, 38)
    gone = by_ent_num("4243")
    assert (gone.status, gone.version, gone.delisted_on) == ("delisted", 2, dt.date(2021, 7, 8))
    bank = by_ent_num("306")
    assert bank.version == 2
    assert list(bank.identifiers.values_list("kind", "number")) == [("bic", "BNCUCUHH")]
    assert bank.history.get(version=2).changed_fields == ["identifiers"]
    assert SourceEntry.objects.get(source_id="306").last_publication == result.publication


class BareReader:
    """A byte stream with read() only, like the import command's progress reader."""

    def __init__(self, stream) -> None:
        self.stream = stream

    def read(self, size: int = -1) -> bytes:
        return self.stream.read(size)


def test_a_wrapped_stream_reads_the_same(ofac: Agency) -> None:
    result = import_list(
        publisher="ofac",
        path=SDN_EXCERPT,
        agency=ofac,
        generated_at=JULY_2021,
        wrap_stream=BareReader,
    )

    assert result.added == 40
    assert imported_counts() == expected_csv_counts(SDN_EXCERPT)


def test_command_imports_a_csv_set_with_its_date(ofac: Agency, tmp_path: Path) -> None:
    call_command(
        "import_list",
        "ofac",
        str(SDN_EXCERPT),
        "--agency",
        "OFAC",
        "--generated-at",
        "2021-07-01",
        "--no-progress",
    )
    assert Designation.objects.count() == 40
    bad = copy_set(
        SDN_EXCERPT, tmp_path, "bad", {"sdn.csv": lambda t: _late(t, "DOB 1969", "DOB 19xx")}
    )

    with pytest.raises(CommandError, match="ent_num 11313: date of birth '19xx' is not a date"):
        call_command(
            "import_list",
            "ofac",
            str(bad),
            "--agency",
            "OFAC",
            "--generated-at",
            "2021-07-08",
            "--no-progress",
        )
    assert Designation.objects.count() == 40 and ListPublication.objects.count() == 1


def test_a_csv_set_needs_its_date(ofac: Agency) -> None:
    with pytest.raises(ImportRefused, match="does not say when it was published"):
        import_list(publisher="ofac", path=SDN_EXCERPT, agency=ofac)

    assert Designation.objects.count() == 0 and ListPublication.objects.count() == 0


def _late(text: str, old: str, new: str) -> str:
    # Edit the LAST occurrence: every earlier record was already parsed.
    head, found, tail = text.rpartition(old)
    assert found
    return head + new + tail


CSV_BAD_SETS = {
    "truncated": (
        {"sdn.csv": lambda text: text[: text.rindex("Digital Currency")]},
        "sdn.csv, line 40: not a well-formed CSV row",
    ),
    "header-row": (
        {
            "sdn.csv": lambda text: (
                "ent_num,SDN_Name,SDN_Type,Program,Title,Call_Sign,"
                "Vess_type,Tonnage,GRT,Vess_flag,Vess_owner,Remarks\r\n" + text
            )
        },
        "sdn.csv, line 1: ent_num 'ent_num' is not a number",
    ),
    "missing-column": (
        {"sdn.csv": lambda text: text.replace('906,"HAVIN', '307,"A",-0- ,"CUBA"\r\n906,"HAVIN')},
        "sdn.csv, line 2: 4 columns, expected 12",
    ),
    "bad-date": (
        {"sdn.csv": lambda text: _late(text, "DOB 10 Oct 1969", "DOB 31 Feb 1969")},
        "ent_num 11313: date of birth '31 Feb 1969' is not a date",
    ),
    "duplicate-id": (
        {"sdn.csv": lambda text: text.replace('906,"HAVIN', '306,"HAVIN')},
        "sdn.csv: ent_num 306 appears twice",
    ),
    "missing-name": (
        {"sdn.csv": lambda text: text.replace('"SAND SWAN"', "-0- ")},
        "ent_num 4243: the entry has no name",
    ),
    "unknown-type": (
        {"sdn.csv": lambda text: text.replace('"SAND SWAN","vessel"', '"SAND SWAN","spaceship"')},
        "ent_num 4243: unknown SDN_Type 'spaceship'",
    ),
    "no-programme": (
        {
            "sdn.csv": lambda text: text.replace(
                '"SAND SWAN","vessel","CUBA"', '"SAND SWAN","vessel",-0- '
            )
        },
        "ent_num 4243: the entry names no sanctions programme",
    ),
    "unordered-aliases": (
        {"alt.csv": lambda text: '30000,1,"aka","X",-0- \r\n' + text},
        "alt.csv: ent_num 306 comes after 30000",
    ),
}


@pytest.mark.parametrize("case", sorted(CSV_BAD_SETS))
def test_bad_csv_sets_are_refused_and_write_nothing(
    ofac: Agency, tmp_path: Path, case: str
) -> None:
    import_list(publisher="ofac", path=SDN_EXCERPT, agency=ofac, generated_at=JULY_2021)
    before = database_rows()
    edits, message = CSV_BAD_SETS[case]
    bad = copy_set(SDN_EXCERPT, tmp_path, case, edits)

    with pytest.raises(ListFormatError, match=re.escape(message)):
        import_list(
            publisher="ofac", path=bad, agency=ofac, generated_at=JULY_2021 + dt.timedelta(7)
        )

    assert database_rows() == before


def test_a_set_without_its_alias_file_is_refused(ofac: Agency, tmp_path: Path) -> None:
    bad = copy_set(SDN_EXCERPT, tmp_path, "no-alt")
    (bad / "alt.csv").unlink()

    with pytest.raises(ListFormatError, match=re.escape("the CSV set lacks alt.csv")):
        import_list(publisher="ofac", path=bad, agency=ofac, generated_at=JULY_2021)

    assert Designation.objects.count() == 0 and ListPublication.objects.count() == 0


def test_a_folder_without_a_main_file_is_refused(ofac: Agency, tmp_path: Path) -> None:
    (tmp_path / "add.csv").write_text("1,2,-0- ,-0- ,-0- ,-0- \r\n")

    with pytest.raises(
        ListFormatError, match=re.escape("holds exactly one of sdn.csv or cons_prim.csv")
    ):
        import_list(publisher="ofac", path=tmp_path, agency=ofac, generated_at=JULY_2021)


def test_rows_of_unknown_entries_are_counted_not_dropped(tmp_path: Path) -> None:
    folder = copy_set(
        SDN_EXCERPT,
        tmp_path,
        "orphans",
        {"add.csv": lambda text: text.replace("\x1a", "") + '99999,1,"Street",-0- ,-0- ,-0- \r\n'},
    )

    entries, parser = parse(folder)

    assert len(entries) == 40
    assert parser.unknown_elements == {"add.csv: row of an ent_num not in the main file": 1}


# --- the XML schema -----------------------------------------------------------------------------


def test_xml_excerpt_comes_in_whole(ofac: Agency) -> None:
    result = import_list(publisher="ofac", path=XML_EXCERPT, agency=ofac)

    expected = expected_xml_counts(XML_EXCERPT)
    assert (expected["person"], expected["organisation"], expected["aliases"]) == (6, 11, 90)
    counts = imported_counts()
    for key in ("person", "organisation", "aliases", "addresses", "birth_dates"):
        assert counts[key] == expected[key], key
    for key in ("birth_places", "nationalities"):
        assert counts[key] == expected[key], key
    assert Name.objects.filter(quality="low").count() == expected["weak"] == 5
    identifiers = Counter(Identifier.objects.values_list("type_detail", flat=True))
    assert identifiers == {
        t: n for key, n in expected.items() if (t := key[3:]) in XML_IDENTIFIER_TYPES
    }
    assert (result.added, result.unknown_elements) == (17, {})
    assert result.publication.generated_at == dt.datetime(2024, 5, 6, tzinfo=dt.UTC)


def test_xml_fields(ofac: Agency) -> None:
    import_list(publisher="ofac", path=XML_EXCERPT, agency=ofac)

    haniya = by_ent_num("9639")
    assert (haniya.name, haniya.subject_kind, haniya.regime.code) == (
        "HANIYA, Ismail Abdul Salah",
        "person",
        "NS-PLC",
    )
    assert haniya.names.get(kind="primary").parts == ["HANIYA", "Ismail Abdul Salah"]
    assert list(haniya.birth_dates.values_list("kind", "year")) == [("exact", 1962)]
    assert list(haniya.birth_places.values_list("city", "country", "note")) == [("", "", "Shati")]
    zahhar = by_ent_num("9647")
    assert zahhar.gender == "Male"
    assert list(zahhar.nationalities.values_list("country", "note")) == [("Palestinian", "")]
    assert zahhar.source.details["programs"] == ["NS-PLC", "SDGT"]
    assert list(zahhar.names.filter(quality="low").values_list("kind", "full_name")) == [
        ("alias", "ZAHAR, Mahmoud"),
        ("alias", "AL-ZAHAR, Mahmoud"),
    ]
    kayakiran = by_ent_num("26182")
    assert list(kayakiran.nationalities.values_list("country", "note")) == [("Turkey", "citizen")]
    assert list(kayakiran.identifiers.values_list("kind", "number", "country_of_issue")) == [
        ("passport", "U00242309", "Turkey")
    ]
    vtb = by_ent_num("17013")
    assert (vtb.subject_kind, vtb.regime.code) == ("organisation", "UKRAINE-EO13662")
    assert vtb.regime.legal_basis == "Executive Order 13662"
    assert list(vtb.identifiers.filter(kind="bic").values_list("number", flat=True)) == ["VTBRRUMM"]
    information = vtb.source.details["information"]
    assert {"type": "Website", "value": "www.vtb.com"} in information
    assert {"type": "Website", "value": "www.vtb.ru"} in information
    assert Regime.objects.get(code="561-Related").name.startswith("CAPTA list")


def xml_variant(edit) -> str:
    return edit(XML_EXCERPT.read_text(encoding="ascii"))


def _later(text: str) -> str:
    return text.replace("05/06/2024", "05/13/2024")


XML_BAD = {
    "billion-laughs": (
        '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aa"><!ENTITY b "&a;&a;">]>'
        "<sdnList><sdnEntry><uid>1</uid><lastName>&b;</lastName></sdnEntry></sdnList>",
        "refused: the file declares a DTD",
    ),
    "truncated": (lambda text: _later(text)[:-400], "not well-formed XML"),
    "wrong-root": ("<CONSOLIDATED_LIST/>", "the root element is <CONSOLIDATED_LIST>"),
    "bad-publish-date": (
        lambda text: text.replace("05/06/2024", "2024-05-13"),
        "Publish_Date '2024-05-13' is not a date",
    ),
    "bad-birth-date": (
        lambda text: _late(_later(text), "<dateOfBirth>", "<dateOfBirth>45 Jan "),
        "date of birth '45 Jan ",
    ),
    "duplicate-id": (
        lambda text: _later(text).replace("<uid>9640</uid>", "<uid>9639</uid>", 1),
        "uid 9639 appears twice",
    ),
    "missing-name": (
        lambda text: re.sub(
            r"<lastName>ABU TEIR</lastName>",
            "",
            _later(text).replace("<firstName>Mohammed</firstName>", "", 1),
            count=1,
        ),
        "uid 9640: the entry has no name",
    ),
    "record-count": (
        lambda text: _later(text).replace("<Record_Count>17<", "<Record_Count>18<"),
        "says it holds 18 entries (Record_Count) but has 17",
    ),
}


@pytest.mark.parametrize("case", sorted(XML_BAD))
def test_bad_xml_files_are_refused_and_write_nothing(
    ofac: Agency, tmp_path: Path, case: str
) -> None:
    import_list(publisher="ofac", path=XML_EXCERPT, agency=ofac)
    before = database_rows()
    content, message = XML_BAD[case]
    path = tmp_path / "bad.xml"
    path.write_text(content if isinstance(content, str) else xml_variant(content))

    with pytest.raises((ListFormatError, ImportRefused), match=re.escape(message)):
        import_list(publisher="ofac", path=path, agency=ofac)

    assert database_rows() == before


def test_a_changed_xml_entry_becomes_a_new_version(ofac: Agency, tmp_path: Path) -> None:
    import_list(publisher="ofac", path=XML_EXCERPT, agency=ofac)
    path = tmp_path / "later.xml"
    path.write_text(
        xml_variant(
            lambda text: _later(text).replace(
                "<firstName>Ismaeel</firstName>", "<firstName>Ismail Abdel</firstName>", 1
            )
        )
    )

    result = import_list(publisher="ofac", path=path, agency=ofac)

    assert (result.amended, result.unchanged, result.delisted) == (1, 16, 0)
    haniya = by_ent_num("9639")
    assert haniya.version == 2
    assert haniya.names.filter(full_name="HANIYYA, Ismail Abdel").exists()


def test_xml_in_the_older_namespace_reads_the_same() -> None:
    older = XML_EXCERPT.read_text(encoding="ascii").replace(
        "https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/XML",
        "http://tempuri.org/sdnList.xsd",
    )
    entries, parser = parse(XML_EXCERPT)
    with_older = list(OFACXMLParser(io.BytesIO(older.encode("ascii"))))

    assert [e.data for e in with_older] == [e.data for e in entries]
    assert len(entries) == 17 and parser.unknown_elements == {}


def test_parser_for_picks_by_path(tmp_path: Path) -> None:
    assert parser_for(SDN_EXCERPT) is OFACCSVParser
    assert parser_for(SDN_EXCERPT / "sdn.csv") is OFACCSVParser
    assert parser_for(XML_EXCERPT) is OFACXMLParser
    with pytest.raises(ListFormatError, match="folder of CSV files"):
        parser_for(tmp_path / "list.json")


# --- the full published files -------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    ("folder", "readme"),
    [
        ("sdn_2021", {"person": 4620, "organisation": 3673, "vessel": 406, "aircraft": 277}),
        ("cons_2025", {"person": 79, "organisation": 363}),
    ],
)
def test_full_csv_sets_come_in_whole(ofac: Agency, folder: str, readme: dict) -> None:
    path = OFAC_DATA / folder
    if not path.exists():
        pytest.skip("needs ../shared/data")

    result = import_list(publisher="ofac", path=path, agency=ofac, generated_at=JULY_2021)

    expected = expected_csv_counts(path)
    assert imported_counts() == expected
    assert {k: expected[k] for k in readme} == readme
    assert result.unknown_elements == {}
    main, add, alt = (
        ("sdn.csv", "add.csv", "alt.csv")
        if folder == "sdn_2021"
        else ("cons_prim.csv", "cons_add.csv", "cons_alt.csv")
    )
    # The README's figures: rows of each file (some address rows are all "-0-").
    rows = tuple(len(csv_rows(path / f)) for f in (main, add, alt))
    assert rows == {"sdn_2021": (8976, 13837, 11910), "cons_2025": (442, 574, 1073)}[folder]
    assert result.added == rows[0]
    unparsed = sum(len(s.details.get("remarks_unparsed", [])) for s in SourceEntry.objects.all())
    assert unparsed == {"sdn_2021": 1661, "cons_2025": 62}[folder]


@pytest.mark.slow
def test_full_xml_comes_in_whole(ofac: Agency) -> None:
    path = OFAC_DATA / "consolidated_nonsdn_2024-05-06.xml"
    if not path.exists():
        pytest.skip("needs ../shared/data")

    result = import_list(publisher="ofac", path=path, agency=ofac)

    expected = expected_xml_counts(path)
    assert (expected["organisation"], expected["person"]) == (364, 79)
    counts = imported_counts()
    for key in ("person", "organisation", "aliases", "addresses", "birth_dates"):
        assert counts[key] == expected[key], key
    for key in ("birth_places", "nationalities"):
        assert counts[key] == expected[key], key
    identifiers = Counter(Identifier.objects.values_list("type_detail", flat=True))
    assert identifiers == {
        t: n for key, n in expected.items() if (t := key[3:]) in XML_IDENTIFIER_TYPES
    }
    assert sum(identifiers.values()) == 888
    assert Designation.objects.exclude(gender="").count() == expected["id:Gender"] == 2
    assert (result.added, result.unknown_elements) == (443, {})
