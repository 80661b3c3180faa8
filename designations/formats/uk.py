"""The UK HM Treasury consolidated list, CSV edition (the "conlist" of 2010-2022).

Layout: a first line `Last Updated,DD/MM/YYYY` (when the list was generated), a header line,
then ONE ROW PER NAME. The rows of one designation share a Group ID, and they are the product
of its names with its addresses, dates of birth and regimes: a group with three names and two
addresses may have six rows. So a group's names, addresses, dates and regimes are collected
without repeats.

The rows of a group are NOT adjacent in published files (the list is sorted by name: 132 of the
463 groups of the February 2016 file are scattered), so a group cannot be emitted when its rows
end. The parser reads the file once, keeping each group's rows (bounded by the file, a few MB
for the full list), then emits the groups in the order of their first row.

The file is Windows-1252 (curly quotes are bytes 0x91-0x94, "é" is 0xE9), not UTF-8.

Other Information carries the UN reference in the UN's older form ("UN Ref QI.B.62.02."):
`un_reference_current` turns it into the current one (QDi.062) for the cross-reference.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from designations.formats import (
    ListFormatError,
    ListHeader,
    ParsedEntry,
    identifier_item,
    name_item,
)

ENCODING = "cp1252"

NAME_COLUMNS = ("Name 1", "Name 2", "Name 3", "Name 4", "Name 5", "Name 6")
ADDRESS_COLUMNS = ("Address 1", "Address 2", "Address 3", "Address 4", "Address 5")
HEADER = (
    "Name 6",
    "Name 1",
    "Name 2",
    "Name 3",
    "Name 4",
    "Name 5",
    "Title",
    "DOB",
    "Town of Birth",
    "Country of Birth",
    "Nationality",
    "Passport Details",
    "NI Number",
    "Position",
    *ADDRESS_COLUMNS,
    "Address 6",
    "Post/Zip Code",
    "Country",
    "Other Information",
    "Group Type",
    "Alias Type",
    "Regime",
    "Listed On",
    "Last Updated",
    "Group ID",
)

GROUP_TYPES = {"Individual": "person", "Entity": "organisation", "Ship": "vessel"}

# Alias Type -> name kind. "Prime Alias" marks the main name (later files say "Primary Name").
ALIAS_TYPES = {
    "Prime Alias": "primary",
    "Primary Name": "primary",
    "AKA": "alias",
    "Primary Name Variation": "alias",
    "FKA": "former",
}

# Regime (as HM Treasury words it) -> (name, legal basis), where the basis is certain.
REGIMES = {
    "Al-Qaida": (
        "ISIL (Da'esh) and Al-Qaida",
        "UK implementation of UNSC resolutions 1267 (1999), 1989 (2011), 2253 (2015)",
    ),
    "Afghanistan": ("Afghanistan (Taliban)", "UK implementation of UNSC resolution 1988 (2011)"),
    "Terrorism and Terrorist Financing": (
        "Terrorism and Terrorist Financing",
        "Terrorist Asset-Freezing etc. Act 2010",
    ),
}

_DATE = re.compile(r"^(\d{2})/(\d{2})/(\d{4})$")
# A date of birth with unknown parts: "00/00/1969", "dd/mm/1969", "00/09/1960".
_PARTIAL_DOB = re.compile(r"^(?:00|dd)/(\d{2}|00|mm)/(\d{4})$", re.I)
_YEAR_RANGE = re.compile(r"^(\d{4})\s*-\s*(\d{4})$")
# "(1) Tripoli (2) Tunis" and "(a) ... (b) ...": several values in one cell.
_MARKER = re.compile(r"\((?P<first>\d{1,2}|[a-z])\)(?:-\((?P<last>\d{1,2})\))?")
_UN_REF = re.compile(
    r"UN\s+Ref(?:erence)?(?:\s+No)?\s*[.:]*\s*(?P<ref>[A-Z][A-Za-z0-9.,]*[A-Za-z0-9])", re.I
)
_OLD_UN_REF = re.compile(
    r"^(?P<list>[QT])\.?(?P<kind>[IE])\.(?P<initial>[A-Z])[.,](?P<number>\d{1,3})\.(?P<year>\d{2})$"
)
_CURRENT_UN_REF = re.compile(r"^[A-Z]{2}[ie]\.\d{3}$")
_IMO = re.compile(r"\bIMO\s*(?:number|no\.?)?\s*[:.]?\s*(\d{7})\b", re.I)
# Where a document's number ends and what is said about it starts.
_DOCUMENT_REMARK = re.compile(r"(?i)(issued|expir|valid|under name|revoked)")
_NUMBER_WORD = re.compile(r"(?i)\b(?:no|number|nr)\s*[.:]+\s*")
_DOTTED_DATE = re.compile(r"^\d{1,2}[./]\d{1,2}[./]\d{2,4}$")


def un_reference_current(reference: str) -> str | None:
    """The UN's current reference number for a UN reference as HM Treasury wrote it.

    Until 2014 the UN numbered 1267 designations `<list><kind>.<initial>.<number>.<year>`:
    Q (Al-Qaida) or T (Taliban, split off into the 1988 list in 2011), I (individual) or E
    (entity), the initial of the name at listing, a serial number and the two-digit year of
    listing. The current form keeps the list, the kind and the serial number: QD (Al-Qaida)
    or TA (Taliban), i or e, and the number on three digits. "QI.B.62.02" -> "QDi.062",
    "TE.H.12.12" -> "TAe.012". HM Treasury's typing slips ("QI.Z,168.04", "Q.I.A.291.11")
    are read as meant; a reference already in the current form ("QDi.352", "SSi.006") is
    returned as it is.

    The older Iran references ("I.47.D.6", "E.29.I.3": resolution, annex and item) have no
    rule that gives the current IRi/IRe serial, which the UN assigned anew: None, as for
    anything else not understood. The caller keeps the raw text either way.
    """
    reference = reference.strip().rstrip(".")
    if _CURRENT_UN_REF.match(reference):
        return reference
    match = _OLD_UN_REF.match(reference)
    if match is None:
        return None
    prefix = {"Q": "QD", "T": "TA"}[match["list"]]
    return f"{prefix}{match['kind'].lower()}.{int(match['number']):03d}"


def un_references(text: str) -> list[str]:
    """Every UN reference written in Other Information, as written ("QI.B.62.02")."""
    return [m["ref"].rstrip(".,") for m in _UN_REF.finditer(text)]


def split_values(value: str) -> tuple[str, list[str]]:
    """The text before the first marker and the values of "(1) Tripoli (2) Tunis", in the
    order of their numbers.

    An empty value takes the next one: "(1) (2) Egypt" means Egypt twice; "(1)-(5) Tunisia"
    gives it to 1 to 5. "-" stays as an empty value ("(1) - (2) Shabwa": the first town is
    not known), so that towns and countries still pair by number. A cell without markers is
    one value."""
    value = " ".join(value.split())
    markers = list(_MARKER.finditer(value))
    if not markers or not any(m["first"] in {"1", "a"} for m in markers):
        return "", [value] if value and value != "-" else []
    preamble = value[: markers[0].start()].strip()
    items = []
    for marker, following in zip(markers, [*markers[1:], None], strict=True):
        end = following.start() if following else len(value)
        items.append(value[marker.end() : end].strip(" ,;"))
    for index in range(len(items) - 2, -1, -1):
        if not items[index]:
            items[index] = items[index + 1]
    numbered = []
    for marker, item in zip(markers, items, strict=True):
        first = int(marker["first"]) if marker["first"].isdigit() else ord(marker["first"])
        last = int(marker["last"]) if marker["last"] else first
        numbered += [(key, "" if item == "-" else item) for key in range(first, last + 1)]
    # "(1) (2) (4) Libya (3) Morocco" is Libya, Libya, Morocco, Libya.
    ordered = [item for _, item in sorted(numbered, key=lambda pair: pair[0])]
    while ordered and not ordered[-1]:
        ordered.pop()
    return preamble, ordered


def _date(value: str, *, what: str, where: str) -> str | None:
    value = value.strip()
    if not value:
        return None
    match = _DATE.match(value)
    try:
        if match:
            return dt.date(int(match[3]), int(match[2]), int(match[1])).isoformat()
    except ValueError:
        pass
    raise ListFormatError(f"{where}: {what} {value!r} is not a date (DD/MM/YYYY)")


def _birth_date(value: str, *, where: str) -> dict[str, Any] | None:
    value = value.strip()
    if not value:
        return None
    birth: dict[str, Any] = {
        "kind": "exact",
        "date": None,
        "year": None,
        "from_year": None,
        "to_year": None,
    }
    if partial := _PARTIAL_DOB.match(value):
        month = partial[1]
        birth["year"] = int(partial[2])
        note = f"month {month}" if month.isdigit() and month != "00" else ""
        return {**birth, "note": note}
    if span := _YEAR_RANGE.match(value):
        return {
            **birth,
            "kind": "between",
            "from_year": int(span[1]),
            "to_year": int(span[2]),
            "note": "",
        }
    return {**birth, "date": _date(value, what="DOB", where=where), "note": ""}


def _document_number(sentence: str) -> str:
    """The first document number in a sentence of Passport Details or NI Number."""
    head = _DOCUMENT_REMARK.split(sentence, maxsplit=1)[0]
    head = re.sub(r"(\d)-\s+(\d)", r"\1-\2", head)  # "911- 10-77"
    tokens = re.split(r"[\s,;()]+", _NUMBER_WORD.sub(" ", head))
    for index, token in enumerate(tokens):
        token = token.strip(".:;-")
        if sum(c.isdigit() for c in token) >= 3 and not _DOTTED_DATE.match(token):
            previous = tokens[index - 1] if index else ""
            # "L 191609", "BPA 1336597587": a letter series written apart from the number.
            if re.fullmatch(r"[A-Z]{1,3}", previous):
                return f"{previous} {token}"
            return token
    return ""


def _identifier_kind(text: str, *, default: str) -> str:
    lowered = text.casefold()
    if "fiscal code" in lowered or "tax" in lowered:
        return "tax"
    if any(
        word in lowered
        for word in ("driv", "ration card", "social security", "military", "residential card")
    ):
        return "other"
    if default == "passport" and ("national identity" in lowered or "id card" in lowered):
        return "national_id"
    return default


def identifiers_from(text: str, *, default: str, column: str) -> list[dict[str, Any]]:
    """Identifiers in a free-text cell: one per numbered value, and one per further sentence
    that names a document ("Yemeni passport number 02117777 issued ..."). Each keeps its text
    in the note; a value without a number gives no identifier (the cell stays in details)."""
    preamble, items = split_values(text)
    identifiers = []
    for item in filter(None, items):
        sentences = re.split(r"(?<![Nn]o)\.\s+", item)
        for index, sentence in enumerate(sentences):
            if index and not re.search(r"(?i)passport|number|\bno\b|\bid\b", sentence):
                continue
            number = _document_number(sentence)
            if not number:
                continue
            note = item if index == 0 else sentence
            if preamble:
                note = f"{preamble} {note}"
            identifiers.append(
                identifier_item(
                    _identifier_kind(note, default=default),
                    number,
                    type_detail=column,
                    note=note,
                )
            )
    return identifiers


def _name(kind: str, parts: list[str], *, note: str = "") -> dict[str, Any]:
    return name_item(kind, " ".join(parts), parts=parts, note=note)


def _distinct(values: list[Any]) -> list[Any]:
    seen: list[Any] = []
    for value in values:
        if value and value not in seen:
            seen.append(value)
    return seen


def _country(value: str) -> tuple[str, str]:
    """A trailing remark goes to the note: "Iraq (previous)" -> ("Iraq", "previous")."""
    match = re.fullmatch(r"(.+?)\s*\((.+)\)", value)
    if match and not re.search(r"\(", match[1]):
        return match[1], match[2]
    return value, ""


def parse_group(group_id: str, rows: list[tuple[int, dict[str, str]]]) -> ParsedEntry:
    """The rows of one Group ID (with their line numbers) as a designation data dict."""
    where = f"Group ID {group_id}"
    group_types = _distinct([row["Group Type"] for _, row in rows])
    if len(group_types) > 1:
        raise ListFormatError(
            f"{where}: Group Type {' / '.join(group_types)}: the rows of one group disagree "
            "(two subjects under one Group ID?)"
        )
    if not group_types or group_types[0] not in GROUP_TYPES:
        raise ListFormatError(
            f"{where}: Group Type {group_types[0] if group_types else '(empty)'!r} is not one "
            f"of {', '.join(GROUP_TYPES)}"
        )
    subject_kind = GROUP_TYPES[group_types[0]]

    primary_index = next(
        (i for i, (_, row) in enumerate(rows) if ALIAS_TYPES.get(row["Alias Type"]) == "primary"),
        0,
    )
    ordered = [rows[primary_index], *rows[:primary_index], *rows[primary_index + 1 :]]
    names: list[dict[str, Any]] = []
    seen_names: set[str] = set()
    for position, (line, row) in enumerate(ordered):
        parts = [" ".join(row[c].split()) for c in NAME_COLUMNS]
        parts = [p for p in parts if p]
        if not parts:
            raise ListFormatError(f"{where}, line {line}: the row has no name (Name 1 to 6)")
        alias_type = row["Alias Type"]
        kind = "primary" if position == 0 else ALIAS_TYPES.get(alias_type, "alias")
        if kind == "primary" and position:
            kind = "alias"  # a second "Prime Alias" with another name
        full_name = " ".join(parts)
        if full_name in seen_names:
            continue
        seen_names.add(full_name)
        note = "" if alias_type in {"AKA", "FKA", "Prime Alias", "Primary Name"} else alias_type
        if kind == "primary" and alias_type == "FKA":
            note = "FKA: the group gives no other name"
        names.append(_name(kind, parts, note=note))

    first = rows[0][1]
    primary_row = ordered[0][1]
    birth_dates = _distinct(
        [_birth_date(row["DOB"], where=f"{where}, line {line}") for line, row in rows]
    )
    _, towns = split_values(first["Town of Birth"])
    _, countries = split_values(first["Country of Birth"])
    birth_places = []
    if len(towns) == len(countries):
        pairs = list(zip(towns, countries, strict=True))
    elif len(countries) == 1:
        pairs = [(town, countries[0]) for town in towns] or [("", countries[0])]
    elif len(towns) == 1:
        pairs = [(towns[0], country) for country in countries]
    else:
        pairs = [(town, "") for town in towns] + [("", country) for country in countries]
    for town, country in _distinct([pair for pair in pairs if any(pair)]):
        birth_places.append(
            {
                "street": "",
                "city": town,
                "state_province": "",
                "postal_code": "",
                "country": country,
                "note": "",
            }
        )

    addresses = []
    for _, row in rows:
        lines = [" ".join(row[c].split()) for c in ADDRESS_COLUMNS]
        country, note = _country(" ".join(row["Country"].split()))
        address = {
            "street": ", ".join(p for p in lines if p),
            # The last line holds the town (Baghdad, Karachi, London) or else the province.
            "city": " ".join(row["Address 6"].split()),
            "state_province": "",
            "postal_code": " ".join(row["Post/Zip Code"].split()),
            "country": country,
            "note": note,
        }
        if any(address.values()) and address not in addresses:
            addresses.append(address)

    nationalities = [
        {"country": c, "note": ""}
        for c in _distinct([c for _, row in rows for c in split_values(row["Nationality"])[1]])
    ]
    positions = _distinct([p for _, row in rows for p in split_values(row["Position"])[1]])
    titles = _distinct([" ".join(row["Title"].split()) for _, row in rows])
    reasons = "\n".join(_distinct([row["Other Information"].strip() for _, row in rows]))

    passport_details = _distinct([row["Passport Details"].strip() for _, row in rows])
    ni_numbers = _distinct([row["NI Number"].strip() for _, row in rows])
    identifiers = [
        identifier
        for text in passport_details
        for identifier in identifiers_from(text, default="passport", column="Passport Details")
    ] + [
        identifier
        for text in ni_numbers
        for identifier in identifiers_from(text, default="national_id", column="NI Number")
    ]
    if subject_kind == "vessel":
        for number in _distinct(_IMO.findall(reasons)):
            identifiers.append(
                identifier_item("imo", number, type_detail="IMO number (Other Information)")
            )

    regimes = _distinct(
        [
            (
                " ".join(row["Regime"].split()),
                _date(row["Listed On"], what="Listed On", where=f"{where}, line {line}"),
            )
            for line, row in rows
        ]
    )
    regime_code = " ".join(primary_row["Regime"].split())
    if not regime_code:
        raise ListFormatError(f"{where}: the group has no Regime")
    listed_on = next(listed for code, listed in regimes if code == regime_code)
    updated = sorted(
        _distinct(
            [
                _date(row["Last Updated"], what="Last Updated", where=f"{where}, line {line}")
                for line, row in rows
            ]
        )
    )

    raw_un_refs = _distinct(un_references(reasons))
    converted = [(ref, un_reference_current(ref)) for ref in raw_un_refs]
    # The UN's i/e says person or not: a person carrying an entity's reference is a copying
    # slip (Group ID 13135, a person, carries Al-Nusrah Front's QE.A.137.14), not a link.
    kind_letter = "i" if subject_kind == "person" else "e"
    cross_references = _distinct(
        [f"un:{current}" for _, current in converted if current and current[2] == kind_letter]
    )
    mismatched = [ref for ref, current in converted if current and current[2] != kind_letter]
    regime_name, legal_basis = REGIMES.get(regime_code, (regime_code, ""))
    details = {
        key: value
        for key, value in {
            "group_type": group_types[0],
            "regime_name": regime_name,
            "regimes": [{"regime": code, "listed_on": listed} for code, listed in regimes]
            if len(regimes) > 1
            else [],
            "alias_types": dict(Counter(row["Alias Type"] for _, row in rows)),
            "rows": len(rows),
            "un_references": raw_un_refs,
            "un_references_of_another_kind": mismatched,
            "passport_details": passport_details,
            "ni_number": ni_numbers,
            "town_of_birth": first["Town of Birth"].strip(),
            "country_of_birth": first["Country of Birth"].strip(),
        }.items()
        if value
    }
    data = {
        "subject_kind": subject_kind,
        "name": names[0]["full_name"],
        "legal_basis": legal_basis,
        "reference_number": group_id,
        "gender": "",
        "titles": titles,
        "positions": positions,
        "measures": [],
        "reasons": reasons,
        "listed_on": listed_on,
        "source_updated_on": updated,
        "names": names,
        "birth_dates": birth_dates,
        "birth_places": birth_places,
        "addresses": addresses,
        "nationalities": nationalities,
        "identifiers": identifiers,
    }
    return ParsedEntry(
        source_id=group_id,
        source_version=updated[-1] if updated else "",
        reference_number=group_id,
        regime_code=regime_code,
        data=data,
        details=details,
        cross_references=cross_references,
    )


class UKListParser:
    """Iterate over an HM Treasury consolidated list CSV. `header` is known once iteration has
    started; `unknown_elements` counts Alias Type values this parser does not know (read as
    aliases)."""

    def __init__(self, stream: IO[bytes], *, path: Path | None = None) -> None:
        self.stream = stream
        self.header: ListHeader | None = None
        self.unknown_elements: Counter[str] = Counter()

    def __iter__(self) -> Iterator[ParsedEntry]:
        text = io.TextIOWrapper(self.stream, encoding=ENCODING, newline="")
        reader = csv.reader(text, strict=True)
        groups: dict[str, list[tuple[int, dict[str, str]]]] = {}
        try:
            self.header = self._header(next(reader, None))
            columns = next(reader, None)
            if columns is None or tuple(c.strip() for c in columns) != HEADER:
                raise ListFormatError(self._header_problem(columns))
            for values in reader:
                line = reader.line_num
                if not any(v.strip() for v in values):
                    continue
                if len(values) != len(HEADER):
                    raise ListFormatError(
                        f"line {line}: {len(values)} fields, expected {len(HEADER)} "
                        "(a truncated or damaged file)"
                    )
                row = dict(zip(HEADER, values, strict=True))
                group_id = row["Group ID"].strip()
                if not group_id:
                    raise ListFormatError(f"line {line}: the row has no Group ID")
                if row["Alias Type"] not in ALIAS_TYPES:
                    self.unknown_elements[f"Alias Type/{row['Alias Type']}"] += 1
                groups.setdefault(group_id, []).append((line, row))
        except csv.Error as error:
            raise ListFormatError(
                f"line {reader.line_num}: not a well-formed CSV file ({error})"
            ) from error
        except UnicodeDecodeError as error:
            raise ListFormatError(f"the file is not {ENCODING} text: {error}") from error
        finally:
            text.detach()  # the caller owns and closes the byte stream
        for group_id, rows in groups.items():
            yield parse_group(group_id, rows)

    @staticmethod
    def _header(first: list[str] | None) -> ListHeader:
        if not first or first[0].strip() != "Last Updated" or len(first) < 2:
            raise ListFormatError(
                "not an HM Treasury consolidated list: the first line should be "
                f"'Last Updated,DD/MM/YYYY', not {','.join(first or [])!r}"
            )
        match = _DATE.match(first[1].strip())
        try:
            if match:
                date = dt.date(int(match[3]), int(match[2]), int(match[1]))
                return ListHeader(generated_at=dt.datetime.combine(date, dt.time(), dt.UTC))
        except ValueError:
            pass
        raise ListFormatError(f"the list's Last Updated date {first[1]!r} is not DD/MM/YYYY")

    @staticmethod
    def _header_problem(columns: list[str] | None) -> str:
        if not columns:
            return "the file ends after its first line: there is no header line"
        found = [c.strip() for c in columns]
        missing = [c for c in HEADER if c not in found]
        unexpected = [c for c in found if c not in HEADER]
        problem = "; ".join(
            part
            for part in (
                f"missing {', '.join(missing)}" if missing else "",
                f"unexpected {', '.join(unexpected)}" if unexpected else "",
            )
            if part
        )
        return (
            "not an HM Treasury consolidated list: the header line is not the expected "
            f"{len(HEADER)} columns ({problem or 'columns out of order'})"
        )


def parser_for(path: Path) -> type[UKListParser]:
    return UKListParser
