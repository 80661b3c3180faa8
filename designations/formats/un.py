"""The UN Security Council consolidated list (XML, https://www.un.org/sc/resources/sc-sanctions.xsd).

Streaming: records are parsed one at a time and cleared, so memory stays bounded. Safe: the
file goes through defusedxml (designations.formats.xml_events); a real UN list has no DTD,
entity declaration or external reference.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import IO
from xml.etree.ElementTree import Element

from designations.formats import ListFormatError, ListHeader, ParsedEntry, name_item, xml_events

RECORD_TAGS = {"INDIVIDUAL": "person", "ENTITY": "organisation"}

# The sanctions committees behind UN_LIST_TYPE, with the resolutions that set them up.
REGIMES = {
    "Al-Qaida": (
        "ISIL (Da'esh) and Al-Qaida",
        "UNSC resolutions 1267 (1999), 1989 (2011), 2253 (2015)",
    ),
    "Taliban": ("Taliban (1988 Committee)", "UNSC resolution 1988 (2011)"),
    "DPRK": ("Democratic People's Republic of Korea", "UNSC resolution 1718 (2006)"),
    "Iraq": ("Iraq", "UNSC resolution 1518 (2003)"),
    "Iran": ("Iran", "UNSC resolutions 1737 (2006) and 2231 (2015)"),
    "DRC": ("Democratic Republic of the Congo", "UNSC resolution 1533 (2004)"),
    "Libya": ("Libya", "UNSC resolution 1970 (2011)"),
    "Somalia": ("Al-Shabaab / Somalia", "UNSC resolutions 751 (1992) and 2713 (2023)"),
    "CAR": ("Central African Republic", "UNSC resolution 2127 (2013)"),
    "GB": ("Guinea-Bissau", "UNSC resolution 2048 (2012)"),
    "Yemen": ("Yemen", "UNSC resolution 2140 (2014)"),
    "SouthSudan": ("South Sudan", "UNSC resolution 2206 (2015)"),
    "Sudan": ("Sudan", "UNSC resolution 1591 (2005)"),
    "Haiti": ("Haiti", "UNSC resolution 2653 (2022)"),
    "Mali": ("Mali", "UNSC resolution 2374 (2017)"),
}

# Elements of a record this parser reads; anything else is reported, never silently dropped.
KNOWN_ELEMENTS = {
    "DATAID",
    "VERSIONNUM",
    "FIRST_NAME",
    "SECOND_NAME",
    "THIRD_NAME",
    "FOURTH_NAME",
    "UN_LIST_TYPE",
    "REFERENCE_NUMBER",
    "LISTED_ON",
    "SUBMITTED_BY",
    "SUBMITTED_ON",
    "GENDER",
    "NAME_ORIGINAL_SCRIPT",
    "COMMENTS1",
    "TITLE",
    "DESIGNATION",
    "NATIONALITY",
    "LIST_TYPE",
    "LAST_DAY_UPDATED",
    "INDIVIDUAL_ALIAS",
    "ENTITY_ALIAS",
    "INDIVIDUAL_ADDRESS",
    "ENTITY_ADDRESS",
    "INDIVIDUAL_DATE_OF_BIRTH",
    "INDIVIDUAL_PLACE_OF_BIRTH",
    "INDIVIDUAL_DOCUMENT",
    "SORT_KEY",
    "SORT_KEY_LAST_MOD",
    "DELISTED_ON",
}

ALIAS_QUALITY = {
    # quality -> (name kind, name quality)
    "good": ("alias", "good"),
    "low": ("alias", "low"),
    "a.k.a.": ("alias", ""),
    "f.k.a.": ("former", ""),
    "": ("alias", ""),
}

BIRTH_DATE_KINDS = {"EXACT": "exact", "APPROXIMATELY": "approximate", "BETWEEN": "between", "": ""}

_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})")
_YEAR_RANGE = re.compile(r"^(\d{4})\s*-\s*(\d{4})$")


def _text(element: Element | None) -> str:
    if element is None or element.text is None:
        return ""
    return " ".join(element.text.split())


def _child(record: Element, tag: str) -> str:
    return _text(record.find(tag))


def _values(record: Element, tag: str) -> list[str]:
    return [v for v in (_text(e) for e in record.iterfind(f"{tag}/VALUE")) if v]


def _date(value: str, *, what: str, source_id: str) -> str | None:
    """ISO date from a UN date, which may carry a time-zone suffix (1960-01-01-05:00)."""
    if not value:
        return None
    match = _DATE.match(value)
    try:
        return dt.date.fromisoformat(match.group(1)).isoformat() if match else None
    except ValueError:
        pass
    raise ListFormatError(f"DATAID {source_id}: {what} {value!r} is not a date")


def _year(value: str, *, what: str, source_id: str) -> int | None:
    if not value:
        return None
    if not value.isdigit():
        raise ListFormatError(f"DATAID {source_id}: {what} {value!r} is not a year")
    return int(value)


def _place(element: Element, *, postal: bool) -> dict[str, str] | None:
    place = {
        "street": _child(element, "STREET"),
        "city": _child(element, "CITY"),
        "state_province": _child(element, "STATE_PROVINCE"),
        "postal_code": _child(element, "ZIP_CODE") if postal else "",
        "country": _child(element, "COUNTRY"),
        "note": _child(element, "NOTE"),
    }
    return place if any(place.values()) else None


def _identifier_kind(document_type: str) -> str:
    lowered = document_type.casefold()
    if any(word in lowered for word in ("passport", "pasaporte", "passeport")):
        return "passport"
    if "identif" in lowered or "identity" in lowered or "national id" in lowered:
        return "national_id"
    if "tax" in lowered:
        return "tax"
    if "registration" in lowered:
        return "registration"
    return "other"


def parse_record(record: Element) -> ParsedEntry:
    """One INDIVIDUAL or ENTITY element as a designation data dict."""
    source_id = _child(record, "DATAID")
    if not source_id:
        raise ListFormatError(f"a {record.tag} record has no DATAID")
    parts = [
        _child(record, tag) for tag in ("FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME")
    ]
    parts = [p for p in parts if p]
    if not parts:
        raise ListFormatError(f"DATAID {source_id}: the record has no name")
    regime_code = _child(record, "UN_LIST_TYPE")
    if not regime_code:
        raise ListFormatError(f"DATAID {source_id}: the record has no UN_LIST_TYPE")
    primary = " ".join(parts)

    names = [name_item("primary", primary, parts=parts)]
    if original := _child(record, "NAME_ORIGINAL_SCRIPT"):
        names.append(name_item("original_script", original))
    for alias in record.iterfind(f"{record.tag}_ALIAS"):
        alias_name = _child(alias, "ALIAS_NAME")
        if not alias_name:
            continue  # the UN writes <ALIAS_NAME/> for "no alias"
        quality = _child(alias, "QUALITY").casefold()
        if quality not in ALIAS_QUALITY:
            raise ListFormatError(f"DATAID {source_id}: unknown alias quality {quality!r}")
        kind, name_quality = ALIAS_QUALITY[quality]
        birth_place = ", ".join(
            p for p in (_child(alias, "CITY_OF_BIRTH"), _child(alias, "COUNTRY_OF_BIRTH")) if p
        )
        names.append(
            name_item(
                kind,
                alias_name,
                quality=name_quality,
                birth_date=_child(alias, "DATE_OF_BIRTH"),
                birth_place=birth_place,
                note=_child(alias, "NOTE"),
            )
        )

    birth_dates = []
    for element in record.iterfind("INDIVIDUAL_DATE_OF_BIRTH"):
        type_of_date = _child(element, "TYPE_OF_DATE").upper()
        if type_of_date not in BIRTH_DATE_KINDS:
            raise ListFormatError(f"DATAID {source_id}: unknown TYPE_OF_DATE {type_of_date!r}")
        year, note = _child(element, "YEAR"), _child(element, "NOTE")
        if year_range := _YEAR_RANGE.match(year):
            # Older lists write a span into YEAR ("1955-1958"): keep it as a span.
            type_of_date, year = "BETWEEN", ""
            from_year, to_year = year_range.group(1), year_range.group(2)
        else:
            from_year, to_year = _child(element, "FROM_YEAR"), _child(element, "TO_YEAR")
        birth_date = {
            "kind": BIRTH_DATE_KINDS[type_of_date],
            "date": _date(_child(element, "DATE"), what="DATE_OF_BIRTH", source_id=source_id),
            "year": _year(year, what="YEAR", source_id=source_id),
            "from_year": _year(from_year, what="FROM_YEAR", source_id=source_id),
            "to_year": _year(to_year, what="TO_YEAR", source_id=source_id),
            "note": note,
        }
        if any(v for k, v in birth_date.items() if k != "kind"):
            birth_dates.append(birth_date)

    birth_places = [
        p
        for p in (_place(e, postal=False) for e in record.iterfind("INDIVIDUAL_PLACE_OF_BIRTH"))
        if p
    ]
    addresses = [
        p for p in (_place(e, postal=True) for e in record.iterfind(f"{record.tag}_ADDRESS")) if p
    ]

    identifiers = []
    for element in record.iterfind("INDIVIDUAL_DOCUMENT"):
        type_1, type_2 = _child(element, "TYPE_OF_DOCUMENT"), _child(element, "TYPE_OF_DOCUMENT2")
        identifier = {
            "kind": _identifier_kind(type_1 or type_2),
            "type_detail": " / ".join(t for t in (type_1, type_2) if t),
            "number": _child(element, "NUMBER"),
            "issuing_country": _child(element, "ISSUING_COUNTRY"),
            "country_of_issue": _child(element, "COUNTRY_OF_ISSUE"),
            "city_of_issue": _child(element, "CITY_OF_ISSUE"),
            "issued_on": None,
            "note": _child(element, "NOTE"),
        }
        issued = _child(element, "DATE_OF_ISSUE")
        if issued:
            # Dates of issue are free text in places ("2005"); keep what is not a date in the note.
            match = _DATE.match(issued)
            if match:
                identifier["issued_on"] = _date(issued, what="DATE_OF_ISSUE", source_id=source_id)
            else:
                identifier["note"] = "; ".join(
                    n for n in (identifier["note"], f"Date of issue: {issued}") if n
                )
        if any(v for k, v in identifier.items() if k != "kind"):
            identifiers.append(identifier)

    nationalities = [{"country": c, "note": ""} for c in _values(record, "NATIONALITY")]
    gender = _child(record, "GENDER").capitalize()
    # In date order: the UN lists them in either order from one file to the next.
    updated = sorted(
        d
        for d in (
            _date(v, what="LAST_DAY_UPDATED", source_id=source_id)
            for v in _values(record, "LAST_DAY_UPDATED")
        )
        if d
    )
    regime_name, legal_basis = REGIMES.get(regime_code, (regime_code, ""))
    details = {
        key: value
        for key, value in {
            "list_type": _values(record, "LIST_TYPE"),
            "submitted_by": _values(record, "SUBMITTED_BY") or _child(record, "SUBMITTED_BY"),
            "submitted_on": _child(record, "SUBMITTED_ON"),
            "sort_key": _child(record, "SORT_KEY"),
            "sort_key_last_mod": _child(record, "SORT_KEY_LAST_MOD"),
            "delisted_on": _child(record, "DELISTED_ON"),
            "regime_name": regime_name,
        }.items()
        if value
    }
    data = {
        "subject_kind": RECORD_TAGS[record.tag],
        "name": primary,
        "legal_basis": legal_basis,
        "reference_number": _child(record, "REFERENCE_NUMBER"),
        "gender": gender,
        "titles": _values(record, "TITLE"),
        "positions": _values(record, "DESIGNATION"),
        "measures": [],
        "reasons": (record.findtext("COMMENTS1") or "").strip(),
        "listed_on": _date(_child(record, "LISTED_ON"), what="LISTED_ON", source_id=source_id),
        "source_updated_on": updated,
        "names": names,
        "birth_dates": birth_dates,
        "birth_places": birth_places,
        "addresses": addresses,
        "nationalities": nationalities,
        "identifiers": identifiers,
    }
    return ParsedEntry(
        source_id=source_id,
        source_version=_child(record, "VERSIONNUM"),
        reference_number=data["reference_number"],
        regime_code=regime_code,
        data=data,
        details=details,
    )


class UNListParser:
    """Iterate over a UN consolidated list. `header` is known once iteration has started;
    `unknown_elements` counts record elements this parser does not read."""

    def __init__(self, stream: IO[bytes], *, path: Path | None = None) -> None:
        self.stream = stream
        self.header: ListHeader | None = None
        self.unknown_elements: Counter[str] = Counter()

    def __iter__(self) -> Iterator[ParsedEntry]:
        seen: set[str] = set()
        for event, element, depth in xml_events(self.stream, which="a UN list"):
            if event == "start":
                if depth == 1:
                    self.header = self._header(element)
                continue
            if element.tag in RECORD_TAGS and depth == 2:
                for child in element:
                    if child.tag not in KNOWN_ELEMENTS:
                        self.unknown_elements[f"{element.tag}/{child.tag}"] += 1
                entry = parse_record(element)
                if entry.source_id in seen:
                    raise ListFormatError(f"DATAID {entry.source_id} appears twice")
                seen.add(entry.source_id)
                element.clear()  # bounded memory: drop the parsed record's tree
                yield entry
        if self.header is None:
            raise ListFormatError("the file is empty")

    @staticmethod
    def _header(root: Element) -> ListHeader:
        if root.tag != "CONSOLIDATED_LIST":
            raise ListFormatError(
                f"not a UN consolidated list: the root element is <{root.tag}>, "
                "expected <CONSOLIDATED_LIST>"
            )
        generated = root.get("dateGenerated", "")
        try:
            generated_at = dt.datetime.fromisoformat(generated.replace("Z", "+00:00"))
        except ValueError:
            raise ListFormatError(
                f"the list's dateGenerated {generated!r} is not a timestamp"
            ) from None
        if generated_at.tzinfo is None:
            generated_at = generated_at.replace(tzinfo=dt.UTC)
        return ListHeader(generated_at=generated_at)


def parser_for(path: Path) -> type[UNListParser]:
    return UNListParser
