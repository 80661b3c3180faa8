from __future__ import annotations

import csv
import re
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest

from agencies.models import Agency
from designations.formats import ListFormatError
from designations.formats.uk import (
    ENCODING,
    identifiers_from,
    split_values,
    un_reference_current,
    un_references,
)
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

UK_EXCERPT = FIXTURES / "uk_conlist_excerpt_2016.csv"
UK_2016 = SHARED_DATA / "uk" / "conlist_2016-02-12_subset.csv"
UN_DIR = SHARED_DATA / "un"
NAME_COLUMNS = ["Name 1", "Name 2", "Name 3", "Name 4", "Name 5", "Name 6"]
ADDRESS_COLUMNS = [f"Address {n}" for n in range(1, 7)] + ["Post/Zip Code", "Country"]


def needs(path: Path) -> Path:
    if not path.exists():
        pytest.skip("needs ../shared/data")
    return path


def read_rows(path: Path) -> list[dict[str, str]]:
    """The name rows of a file, with plain csv (the first line is the list's date)."""
    with path.open(encoding="cp1252", newline="") as stream:
        stream.readline()
        return list(csv.DictReader(stream))


def expected_counts(path: Path) -> Counter[str]:
    """What the file holds, counted independently of the importer. A group's rows are the
    product of its names with its addresses, dates of birth and regimes, so the names,
    addresses and dates of a group are counted without repeats."""
    rows = read_rows(path)
    groups: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        groups.setdefault(row["Group ID"], []).append(row)
    counts: Counter[str] = Counter(rows=len(rows), groups=len(groups))
    kinds = {"Individual": "person", "Entity": "organisation", "Ship": "vessel"}
    for group in groups.values():
        counts[kinds[group[0]["Group Type"]]] += 1
        names = {
            " ".join(" ".join(r[c].split()) for c in NAME_COLUMNS if r[c].strip()) for r in group
        }
        counts["names"] += len(names)
        counts["birth_dates"] += len({r["DOB"] for r in group if r["DOB"]})
        counts["addresses"] += len(
            {tuple(" ".join(r[c].split()) for c in ADDRESS_COLUMNS) for r in group}
            - {("",) * len(ADDRESS_COLUMNS)}
        )
        nationality = group[0]["Nationality"].strip()
        counts["nationalities"] += len(re.findall(r"\(\d\)", nationality)) or bool(nationality)
        counts["un_ref_groups"] += bool(re.search(r"UN\s+Ref", group[0]["Other Information"], re.I))
    counts["aliases"] = counts["names"] - counts["groups"]
    return counts


def imported_counts() -> Counter[str]:
    kinds = Counter(Designation.objects.values_list("subject_kind", flat=True))
    return Counter(
        {
            "groups": Designation.objects.count(),
            "person": kinds["person"],
            "organisation": kinds["organisation"],
            "vessel": kinds["vessel"],
            "names": Name.objects.count(),
            "aliases": Name.objects.exclude(kind="primary").count(),
            "birth_dates": BirthDate.objects.count(),
            "addresses": Address.objects.count(),
            "nationalities": Nationality.objects.count(),
            "un_ref_groups": SourceEntry.objects.exclude(details__un_references=None).count(),
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


def variant(tmp_path: Path, *, date: str = "19/02/2016", edit=None, name="later.csv") -> Path:
    """A copy of the excerpt (bytes kept: cp1252, LF) with another date and an optional edit
    of its lines."""
    lines = UK_EXCERPT.read_bytes().split(b"\n")
    lines[0] = f"Last Updated,{date}".encode()
    if edit is not None:
        lines = edit(lines)
    path = tmp_path / name
    path.write_bytes(b"\n".join(lines))
    return path


def without_group(group_id: str):
    def edit(lines: list[bytes]) -> list[bytes]:
        kept = [line for line in lines if not line.endswith(f",{group_id}".encode())]
        assert len(lines) - len(kept) >= 1
        return kept

    return edit


def replacing(old: bytes, new: bytes, count: int = 1):
    def edit(lines: list[bytes]) -> list[bytes]:
        text = b"\n".join(lines)
        assert text.count(old) >= count, old
        return text.replace(old, new, count).split(b"\n")

    return edit


def by_group(group_id: str) -> Designation:
    return Designation.objects.get(source__publisher="uk", source__source_id=group_id)


# The conversion of UN references ------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "current"),
    [
        ("QI.B.62.02", "QDi.062"),  # the README's example
        ("QE.A.5.01", "QDe.005"),
        ("QE.A.112.04", "QDe.112"),
        ("TI.A.148.10", "TAi.148"),
        ("TE.H.12.12", "TAe.012"),
        ("QI.Z,168.04", "QDi.168"),  # a comma for a dot (Group ID 8353)
        ("Q.I.A.291.11", "QDi.291"),  # a dot too many (Group ID 11743)
        ("QI.B.62.02.", "QDi.062"),
        ("QDi.352", "QDi.352"),  # already current (Group ID 13246)
        ("SSi.006", "SSi.006"),
        ("I.47.D.6", None),  # the older Iran numbering: resolution, annex, item
        ("E.29.I.3", None),
        ("E.AC.50.18.04.12", None),
        ("XI.B.62.02", None),
        ("", None),
    ],
)
def test_un_reference_current(written: str, current: str | None) -> None:
    assert un_reference_current(written) == current


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("UN Ref QI.B.62.02. Also referred to as Abu Obeida.", ["QI.B.62.02"]),
        ("UN Ref: QI.A.334.14.", ["QI.A.334.14"]),
        ("UN REF:QDi.352 Commander of Tehrik-e Taliban", ["QDi.352"]),
        ("Date of listing. UN Ref.SSi.006. Appointed", ["SSi.006"]),
        ("UN Reference No: TI.R.172.14.", ["TI.R.172.14"]),
        ("Male. UN Ref I.47.D.6.", ["I.47.D.6"]),
        ("Date of UN designation: 14.04.2015.", []),
    ],
)
def test_un_references_are_found_however_written(text: str, found: list[str]) -> None:
    assert un_references(text) == found


@pytest.mark.parametrize(
    ("cell", "values"),
    [
        ("(1) Tripoli (2) Tunis", ("", ["Tripoli", "Tunis"])),
        (
            "(1) (2) (4) Libyan Arab Jamahirya (3) Morocco",
            ("", ["Libyan Arab Jamahirya"] * 2 + ["Morocco", "Libyan Arab Jamahirya"]),
        ),
        ("(1) - (2) Shabwa", ("", ["", "Shabwa"])),
        ("(1) United States of America (2)  Yemeni", ("", ["United States of America", "Yemeni"])),
        (
            "Qatari passport number (a)01020802  (b)00754833",
            ("Qatari passport number", ["01020802", "00754833"]),
        ),
        ("Tunisian", ("", ["Tunisian"])),
        ("", ("", [])),
    ],
)
def test_several_values_in_one_cell_are_split(cell: str, values) -> None:
    assert split_values(cell) == values


def test_document_numbers_come_out_of_free_text() -> None:
    def numbers(text: str, default: str = "passport") -> list[tuple[str, str]]:
        found = identifiers_from(text, default=default, column="Passport Details")
        return [(i["kind"], i["number"]) for i in found]

    assert numbers("(1) L 191609 (Tunisian). Issued on 28 Feb 1996. (2) 04643632 (Tunisian)") == [
        ("passport", "L 191609"),
        ("passport", "04643632"),
    ]
    assert numbers(
        "Yemeni passport number 17979 issued under name Ahmed Ali Abdullah Saleh. Yemeni "
        "passport number 02117777 issued on 8.11.2005 under name Ahmed Ali Abdullah Al-Ahmar."
    ) == [("passport", "17979"), ("passport", "02117777")]
    assert numbers("W374031, Tunisian national identity number issued on 11 April 2011.") == [
        ("national_id", "W374031")
    ]
    assert numbers("British passport no.205939411 (issued 21.07.2004 expired 21.04.2015)") == [
        ("passport", "205939411")
    ]
    assert numbers("(1) 6487 (Egypt). Issued 30 Jan 1986. (2) (Eqypt). Issued 1993.") == [
        ("passport", "6487")
    ]
    ni = "(1) US Social Security no 548-91-5411 (2) National no 9681029476"
    assert numbers(ni, "national_id") == [("other", "548-91-5411"), ("national_id", "9681029476")]
    assert numbers("Italian Fiscal Code DAOMMD74T11Z352Z", "national_id") == [
        ("tax", "DAOMMD74T11Z352Z")
    ]
    note = identifiers_from(
        "Qatari passport number (a)01020802  (b)00754833 issued 20/05/2007",
        default="passport",
        column="Passport Details",
    )[1]["note"]
    assert note == "Qatari passport number 00754833 issued 20/05/2007"


# The excerpt through import_list --------------------------------------------------------------


def test_excerpt_comes_in_whole(unsc: Agency) -> None:
    result = import_list(publisher="uk", path=UK_EXCERPT, agency=unsc)

    expected = expected_counts(UK_EXCERPT)
    assert (expected["rows"], expected["groups"]) == (107, 31)
    assert (expected["person"], expected["organisation"]) == (22, 9)
    assert (expected["names"], expected["aliases"]) == (72, 41)
    assert imported_counts() == expected - Counter(rows=expected["rows"])
    assert result.added == 31 and result.record_count == 31
    assert result.unknown_elements == {}
    assert result.publication.generated_at.isoformat() == "2016-02-12T00:00:00+00:00"
    assert Name.objects.filter(kind="primary").count() == 31
    assert Name.objects.filter(kind="former").count() == 1


def test_a_designation_keeps_every_field(unsc: Agency) -> None:
    import_list(publisher="uk", path=UK_EXCERPT, agency=unsc)

    person = by_group("7087")
    assert person.name == "Mohamed ABU ABDA"
    assert person.subject_kind == "person"
    assert person.reference_number == "7087"
    assert person.regime.code == "Al-Qaida"
    assert person.regime.legal_basis.startswith("UK implementation of UNSC resolutions 1267")
    assert person.listed_on.isoformat() == "2002-04-24"
    assert person.source_updated_on == ["2015-01-20"]
    assert person.reasons.startswith("UN Ref QI.B.62.02. Also referred to as Abu Obeida.")
    assert [(b.kind, b.date.isoformat()) for b in person.birth_dates.all()] == [
        ("exact", "1969-02-05")
    ]
    assert list(person.birth_places.values_list("city", "country")) == [
        ("Tripoli", "Libyan Arab Jamahiriya"),
        ("Tunis", "Tunisia"),
    ]
    assert list(person.nationalities.values_list("country", flat=True)) == ["Tunisian"]
    assert list(person.identifiers.values_list("kind", "number", "note")) == [
        (
            "national_id",
            "W374031",
            "W374031, Tunisian national identity number issued on 11 April 2011.",
        )
    ]
    source = person.source
    assert source.cross_references == ["un:QDi.062"]
    assert source.details["un_references"] == ["QI.B.62.02"]
    assert source.details["town_of_birth"] == "(1) Tripoli (2) Tunis"

    # Five name parts then the family name (Name 6); the other rows are aliases.
    ramzi = by_group("7098")
    primary = ramzi.names.get(kind="primary")
    assert primary.full_name == "Ramzi Mohamed Abdellah Omar Hassan ALASSIRI"
    assert primary.parts == ["Ramzi", "Mohamed", "Abdellah", "Omar", "Hassan", "ALASSIRI"]
    assert list(ramzi.names.filter(kind="alias").values_list("full_name", flat=True)) == [
        "Mohamed Ali Abdullah BAWAZIR",
        "Ramzi BIN AL SHIBH",
    ]
    assert list(ramzi.birth_places.values_list("city", "country")) == [
        ("Gheil Bawazir, Hadramawt", "Yemen"),
        ("Khartoum", "Sudan"),
    ]
    assert list(ramzi.identifiers.values_list("kind", "number")) == [("passport", "00085243")]


def test_scattered_rows_of_a_group_make_one_designation(unsc: Agency) -> None:
    import_list(publisher="uk", path=UK_EXCERPT, agency=unsc)

    # Group 12883: eight rows, not adjacent, no "Prime Alias": the first row names it.
    julani = by_group("12883")
    assert julani.name == "Abu Mohammed AL-JULANI"
    assert list(julani.names.filter(kind="alias").values_list("full_name", flat=True)) == [
        "Abu Mohamed AL-JAWLANI",
        "Amjad Muzaffar Hussein Ali AL-NAIMI",
        "Abu Muhammad ALJAWLANI",
        "Abu Mohammed AL-GOLANI",
    ]
    assert list(julani.birth_dates.values_list("kind", "year", "date")) == [
        ("exact", 1975, None),
        ("exact", 1979, None),
        ("exact", 1980, None),
        ("exact", 1978, None),
    ]
    assert list(julani.addresses.values_list("street", "city", "country", "note")) == [
        ("", "", "In Syria as at June 2013", ""),
        ("Mosul, Souq al-Nabi Yunis", "", "", ""),
    ]
    assert julani.source.details["rows"] == 8

    # Group 12704: the "Prime Alias" row is the primary name wherever it stands.
    roshan = by_group("12704")
    assert roshan.subject_kind == "organisation"
    assert roshan.name == "ROSHAN MONEY EXCHANGE"
    assert roshan.names.count() == 9
    assert roshan.addresses.count() == 14  # 20 rows, 14 different addresses
    assert roshan.addresses.filter(
        street="Cholmon Road, Quetta", city="Baluchistan Province", country="Pakistan"
    ).exists()
    assert roshan.source.cross_references == ["un:TAe.011"]


def test_regimes_formers_partial_dates_and_unconvertible_references(unsc: Agency) -> None:
    import_list(publisher="uk", path=UK_EXCERPT, agency=unsc)

    # Three regimes on one group: the primary row's regime, all of them in details.
    jafari = by_group("10638")
    assert jafari.regime.code == "Iran (nuclear proliferation)"
    assert jafari.listed_on.isoformat() == "2008-06-24"
    assert jafari.source.details["regimes"] == [
        {"regime": "Iran (nuclear proliferation)", "listed_on": "2008-06-24"},
        {"regime": "Iran (human rights)", "listed_on": "2011-04-14"},
        {"regime": "Syria", "listed_on": "2011-06-24"},
    ]
    assert jafari.positions == ["General Commander of Iranian Revolutionary Guard Corps"]

    # Group 7247 has one row, an FKA: it names the group. Group 11259 has its FKA beside AKAs.
    gspc = by_group("7247")
    assert list(gspc.names.values_list("kind", "full_name", "note")) == [
        ("primary", "SALAFIST GROUP FOR CALL AND COMBAT", "FKA: the group gives no other name")
    ]
    assert list(by_group("11259").names.values_list("kind", "full_name")) == [
        ("primary", "ASIA MARINE"),
        ("alias", "LEADMARITIME"),
        ("former", "IRISL ASIA PTE LTD"),
    ]

    # "00/09/1977": the year, with the month in the note; one birth date per DOB of the rows.
    partial = by_group("12629").birth_dates.values_list("kind", "date", "year", "note")
    assert list(partial) == [
        ("exact", None, 1977, "month 09"),
        ("exact", None, 1977, "month 08"),
        ("exact", None, 1976, ""),
    ]

    # The older Iran numbering cannot be converted: the text stays, no cross-reference.
    kaveh = by_group("11126")
    assert kaveh.source.cross_references == []
    assert kaveh.source.details["un_references"] == ["E.29.I.7"]
    assert list(kaveh.addresses.values_list("street", "city", "postal_code", "country")) == [
        ("PO Box 91735-549", "Mashad", "", "Iran"),
        ("3rd Km of Khalaj Road, Seyyedi Street", "Mashad", "91638", "Iran"),
    ]

    # A person carrying an entity's reference (Al-Nusrah Front's) is not linked to it.
    ajmi = by_group("13135")
    assert ajmi.source.cross_references == []
    assert ajmi.source.details["un_references_of_another_kind"] == ["QE.A.137.14"]
    assert by_group("12981").source.cross_references == ["un:QDe.137"]

    # Windows-1252 bytes read as the characters they are.
    assert by_group("6963").name == "GROUPE ISLAMIQUE ARM\u00c9"  # byte 0xC9
    assert by_group("13246").source.cross_references == ["un:QDi.352"]
    assert by_group("13022").source.cross_references == ["un:SSi.006"]


def test_reimport_of_the_same_file_changes_nothing(unsc: Agency) -> None:
    import_list(publisher="uk", path=UK_EXCERPT, agency=unsc)
    before = database_rows()

    again = import_list(publisher="uk", path=UK_EXCERPT, agency=unsc)

    assert again.already_imported
    assert database_rows() == before


def test_a_later_file_delists_what_is_gone_and_versions_what_changed(
    unsc: Agency, tmp_path
) -> None:
    import_list(publisher="uk", path=UK_EXCERPT, agency=unsc)
    later = variant(
        tmp_path,
        edit=lambda lines: replacing(b"Deported from Italy", b"Expelled from Italy")(
            without_group("6995")(lines)
        ),
    )

    result = import_list(publisher="uk", path=later, agency=unsc)

    assert (result.delisted, result.amended, result.unchanged, result.added) == (1, 1, 29, 0)
    gone = by_group("6995")
    assert (gone.status, gone.version, gone.delisted_on.isoformat()) == (
        "delisted",
        2,
        "2016-02-19",
    )
    changed = by_group("7087")
    assert changed.version == 2
    assert "Expelled from Italy" in changed.reasons
    assert changed.history.get(version=2).changed_fields == ["reasons"]


def _truncated(lines: list[bytes]) -> list[bytes]:
    # Cut inside a quoted cell ("W374031, Tunisian national identity ...").
    text = b"\n".join(lines)
    return [text[: text.index(b"Tunisian national identity")]]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (_truncated, "not a well-formed CSV file"),
        (lambda lines: [*lines[:-2], lines[-2][:60]], "fields, expected 29"),
        (lambda lines: [b'<CONSOLIDATED_LIST dateGenerated="2016-02-19">'], "not an HM Treasury"),
        (
            lambda lines: [lines[0], lines[1].replace(b"Group ID", b"Group"), *lines[2:]],
            "missing Group ID",
        ),
        (lambda lines: [b"Last Updated,31/02/2016", *lines[1:]], "'31/02/2016' is not DD/MM/YYYY"),
        (
            replacing(b",24/04/2002,", b",24/13/2002,"),
            "Group ID 7087, line 3: Listed On '24/13/2002'",
        ),
        (replacing(b",05/02/1969,", b",1969-02-05,"), "Group ID 7087, line 3: DOB '1969-02-05'"),
        # A Group ID shared by a person and an entity: two subjects under one id.
        (
            lambda lines: [
                *lines[:-1],
                next(line for line in lines if line.endswith(b",12981")).replace(
                    b",12981", b",13135"
                ),
                b"",
            ],
            "Group ID 13135: Group Type Individual / Entity",
        ),
        (replacing(b"ABU ABDA,Mohamed,", b",,"), "Group ID 7087, line 3: the row has no name"),
        (replacing(b",7087\n", b",\n"), "line 3: the row has no Group ID"),
        (
            replacing(b",Individual,AKA,Al-Qaida,24/04/2002,", b",Person,AKA,Al-Qaida,24/04/2002,"),
            "Group ID 7087: Group Type 'Person' is not one of Individual, Entity, Ship",
        ),
    ],
    ids=[
        "truncated-in-a-quote",
        "truncated-row",
        "wrong-format",
        "wrong-header",
        "bad-list-date",
        "bad-listed-on",
        "bad-dob",
        "one-id-two-subjects",
        "missing-name",
        "missing-group-id",
        "unknown-group-type",
    ],
)
def test_bad_files_are_refused_and_write_nothing(unsc: Agency, tmp_path, edit, message) -> None:
    import_list(publisher="uk", path=UK_EXCERPT, agency=unsc)
    before = database_rows()
    path = variant(tmp_path, edit=edit, name="bad.csv")

    with pytest.raises(ListFormatError, match=re.escape(message)):
        import_list(publisher="uk", path=path, agency=unsc)

    assert database_rows() == before


def test_a_group_of_mixed_kinds_is_refused(unsc: Agency, tmp_path) -> None:
    # Only one of the two rows of group 11126 turns into a ship: the rows disagree.
    def one_ship(lines: list[bytes]) -> list[bytes]:
        index = next(i for i, line in enumerate(lines) if line.endswith(b",11126"))
        lines[index] = lines[index].replace(b",Entity,", b",Ship,")
        return lines

    path = variant(tmp_path, edit=one_ship)

    with pytest.raises(ListFormatError, match="Group ID 11126: Group Type Ship / Entity"):
        import_list(publisher="uk", path=path, agency=unsc)

    assert Designation.objects.count() == 0 and ListPublication.objects.count() == 0


def test_an_unknown_alias_type_is_counted_and_read_as_an_alias(unsc: Agency, tmp_path) -> None:
    path = variant(tmp_path, edit=replacing(b",Entity,AKA,", b",Entity,Nickname,"))

    result = import_list(publisher="uk", path=path, agency=unsc)

    assert result.unknown_elements == {"Alias Type/Nickname": 1}
    assert Name.objects.filter(note="Nickname").count() == 1


def test_a_ship_is_a_vessel_with_its_imo_number(unsc: Agency, tmp_path) -> None:
    # The excerpt has no ship: group 6963 (one row) is made one for this test.
    def ship(lines: list[bytes]) -> list[bytes]:
        return [
            line.replace(b",Entity,", b",Ship,").replace(
                b"UN Ref QE.A.6.01.", b"IMO number: 9187629. UN Ref QE.A.6.01."
            )
            if line.endswith(b",6963")
            else line
            for line in lines
        ]

    import_list(publisher="uk", path=variant(tmp_path, edit=ship), agency=unsc)

    vessel = by_group("6963")
    assert vessel.subject_kind == "vessel"
    assert list(vessel.identifiers.values_list("kind", "number")) == [("imo", "9187629")]
    assert vessel.source.details["group_type"] == "Ship"


# The real file --------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_published_list_comes_in_whole(unsc: Agency) -> None:
    path = needs(UK_2016)
    assert path.read_bytes().startswith(b"Last Updated,12/02/2016\n")
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")  # Windows-1252, not UTF-8
    path.read_bytes().decode(ENCODING)

    result = import_list(publisher="uk", path=path, agency=unsc)

    expected = expected_counts(path)
    assert (expected["rows"], expected["groups"]) == (800, 463)
    assert (expected["person"], expected["organisation"], expected["vessel"]) == (323, 140, 0)
    # 800 rows - 463 groups = 337 rows beyond the first of each group, but a name is written
    # again on each row of its other addresses and dates: 708 distinct names, 245 aliases.
    assert (expected["names"], expected["aliases"]) == (708, 245)
    assert expected["un_ref_groups"] == 203
    assert imported_counts() == expected - Counter(rows=expected["rows"])
    assert result.record_count == 463 and result.unknown_elements == {}
    assert Counter(Name.objects.exclude(kind="primary").values_list("kind", flat=True)) == {
        "alias": 244,
        "former": 1,
    }
    assert (BirthPlace.objects.count(), Identifier.objects.count()) == (266, 168)
    assert Counter(Identifier.objects.values_list("kind", flat=True)) == {
        "passport": 104,
        "national_id": 52,
        "other": 9,  # ration cards, driving licences, a social security and a military number
        "tax": 3,  # Italian fiscal codes
    }
    # Every group's Passport Details and NI Number kept verbatim.
    rows = read_rows(path)
    assert SourceEntry.objects.exclude(details__passport_details=None).count() == len(
        {r["Group ID"] for r in rows if r["Passport Details"]}
    )
    assert SourceEntry.objects.exclude(details__ni_number=None).count() == len(
        {r["Group ID"] for r in rows if r["NI Number"]}
    )


def _un_references_in(path: Path) -> set[str]:
    root = ET.parse(path).getroot()  # noqa: S314 - the published file
    return {(e.text or "").strip() for e in root.iter("REFERENCE_NUMBER")}


@pytest.mark.slow
def test_uk_un_references_point_at_un_designations(unsc: Agency) -> None:
    """The UK's "UN Ref" against the UN's own reference numbers: the 2016 UN file of the same
    week first, then (it is a subset: 2 Al-Qaida individuals only) the full 2020 and 2026."""
    import_list(publisher="uk", path=needs(UK_2016), agency=unsc)
    un_2016 = _un_references_in(needs(UN_DIR / "consolidated_2016-02-11_subset.xml"))
    un_later = _un_references_in(needs(UN_DIR / "consolidated_2020-03-20.xml")) | (
        _un_references_in(needs(UN_DIR / "consolidated_2026-02-27.xml"))
    )
    sources = SourceEntry.objects.filter(publisher="uk")
    linked = {s.source_id: s.cross_references for s in sources if s.cross_references}
    references = {r.removeprefix("un:") for refs in linked.values() for r in refs}

    assert len(linked) == 182
    assert all(len(refs) == 1 for refs in linked.values())
    assert len(references) == 182  # no two UK groups point at one UN designation
    in_2016 = references & un_2016
    assert Counter(r[:3] for r in in_2016) == {"QDe": 24, "QDi": 1, "TAi": 28}
    # Not in the 2016 subset but in the full lists of 2020 or 2026.
    later_only = (references - un_2016) & un_later
    assert Counter(r[:3] for r in later_only) == {
        "QDi": 81,
        "QDe": 14,
        "TAi": 15,
        "TAe": 4,
        "SSi": 2,
    }
    # In no UN file here: Al-Qaida individuals delisted between 2016 and March 2020 (the
    # 2016 file holds only 2 Al-Qaida individuals), e.g. Gulbuddin Hekmatyar, QDi.088.
    nowhere = references - un_2016 - un_later
    assert sorted(nowhere) == [
        "QDi.088",
        "QDi.148",
        "QDi.151",
        "QDi.160",
        "QDi.168",
        "QDi.180",
        "QDi.200",
        "QDi.233",
        "QDi.234",
        "QDi.255",
        "QDi.259",
        "QDi.274",
        "QDi.285",
    ]

    # The references that give no link, with the reason.
    raw = {s.source_id: s.details["un_references"] for s in sources if "un_references" in s.details}
    assert len(raw) == 203
    unlinked = {gid: refs for gid, refs in raw.items() if gid not in linked}
    assert sorted(r for refs in unlinked.values() for r in refs) == sorted(
        [
            # Iran, older numbering (resolution, annex, item): no rule gives IRi/IRe.
            "E.03.III.5",
            "E.29.I.1",
            "E.29.I.18",
            "E.29.I.2",
            "E.29.I.20",
            "E.29.I.3",
            "E.29.I.7",
            "E.29.II.1",
            "E.29.II.3",
            "E.37.A.3",
            "E.47.A.7",
            "E.47.A.9",
            "E.AC.50.18.04.12",
            "I.03.I.6",
            "I.37.D.4",
            "I.47.C.6",
            "I.47.D.3",
            "I.47.D.5",
            "I.47.D.6",
            "I.47.D.7",
            # A person (Group ID 13135) carrying Al-Nusrah Front's reference.
            "QE.A.137.14",
        ]
    )
