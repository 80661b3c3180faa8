"""The EU Financial Sanctions Files (FSF): the consolidated list of persons, groups and
entities subject to EU financial sanctions, in its two XML formats.

- v1.0: root `<WHOLE Date="DD/MM/YYYY">`, one `<ENTITY>` per designation with NAME, BIRTH,
  PASSPORT, CITIZEN and ADDRESS children; every element carries the act that added it.
- v1.1: root `<export generationDate=...>` in the namespace http://eu.europa.ec/fpi/fsd/export,
  one `<sanctionEntity>` per designation, details in attributes of regulation, subjectType,
  nameAlias, citizenship, birthdate, identification and address children.

`parser_for(path)` reads the root element to tell them apart. Both parsers stream (one record
at a time, then cleared) through defusedxml, which refuses DTDs, entity declarations and
external references; a published EU file has none of them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any
from xml.etree.ElementTree import Element

from designations.formats import (
    ListFormatError,
    ListHeader,
    ParsedEntry,
    identifier_item,
    name_item,
    xml_events,
)
from designations.names import detect_script

NAMESPACE = "http://eu.europa.ec/fpi/fsd/export"
V10_ROOT = "WHOLE"
V11_ROOT = f"{{{NAMESPACE}}}export"

# EU programme codes (the `programme` of an entity or regulation) -> (name, legal basis).
REGIMES = {
    "AFG": (
        "Afghanistan (Taliban)",
        "Council Regulation (EU) No 753/2011",
    ),
    "COD": (
        "Democratic Republic of the Congo",
        "Council Regulation (EC) No 1183/2005",
    ),
    "IRQ": ("Iraq", "Council Regulation (EC) No 1210/2003"),
    "TAQA": (
        "ISIL (Da'esh) and Al-Qaida",
        "Council Regulation (EC) No 881/2002",
    ),
    "TERR": (
        "Terrorist groups and persons (Common Position 2001/931/CFSP)",
        "Council Regulation (EC) No 2580/2001",
    ),
    "ZWE": ("Zimbabwe", "Council Regulation (EC) No 314/2004"),
}

SUBJECT_KINDS_V10 = {"P": "person", "E": "organisation"}
SUBJECT_KINDS_V11 = {"person": "person", "enterprise": "organisation"}
GENDERS = {"M": "Male", "F": "Female"}

# EU identification type codes (v1.1 identificationTypeCode; in v1.0 the code is written into
# PASSPORT/NUMBER, "AD001095 (passport-National passport) (remark)"). Others are "other",
# with the EU's description kept as the type detail.
IDENTIFIER_KINDS = {
    "passport": "passport",
    "id": "national_id",
    "ssn": "national_id",
    "fiscalcode": "tax",
    "tax": "tax",
    "regnumber": "registration",
    "swiftbic": "bic",
    "imo": "imo",
}

# What the v1.0 parser reads: elements of an ENTITY, their children, and the attributes.
V10_CHILDREN = {
    "NAME": {
        "LASTNAME",
        "FIRSTNAME",
        "MIDDLENAME",
        "WHOLENAME",
        "GENDER",
        "TITLE",
        "FUNCTION",
        "LANGUAGE",
    },
    "BIRTH": {"DATE", "PLACE", "COUNTRY"},
    "PASSPORT": {"NUMBER", "COUNTRY"},
    "CITIZEN": {"COUNTRY"},
    "ADDRESS": {"NUMBER", "STREET", "ZIPCODE", "CITY", "COUNTRY", "OTHER"},
}
V10_ENTITY_ATTRIBUTES = {"Id", "Type", "legal_basis", "reg_date", "pdf_link", "programme", "remark"}
V10_ITEM_ATTRIBUTES = {"Id", "Entity_id", "legal_basis", "reg_date", "pdf_link", "programme"}

# What the v1.1 parser reads, from the published schema (fsd export 1.1): per element, its
# attributes and child elements. Every item element may carry remark, additionalInformation
# and regulationSummary children and the logicalId and regulationLanguage attributes.
_ITEM_ATTRIBUTES = {"logicalId", "regulationLanguage"}
_ITEM_CHILDREN = {"remark", "additionalInformation", "regulationSummary"}
V11_ELEMENTS: dict[str, tuple[set[str], set[str]]] = {
    "sanctionEntity": (
        {
            "logicalId",
            "euReferenceNumber",
            "unitedNationId",
            "designationDate",
            "designationDetails",
            "delistingDate",
        },
        {
            "remark",
            "additionalInformation",
            "regulation",
            "subjectType",
            "nameAlias",
            "citizenship",
            "birthdate",
            "identification",
            "address",
        },
    ),
    "regulation": (
        {
            "logicalId",
            "regulationType",
            "organisationType",
            "publicationDate",
            "entryIntoForceDate",
            "numberTitle",
            "programme",
        },
        {"publicationUrl", "remark", "additionalInformation", "corrigendum"},
    ),
    "subjectType": ({"code", "classificationCode"}, set()),
    "nameAlias": (
        _ITEM_ATTRIBUTES
        | {
            "firstName",
            "middleName",
            "lastName",
            "wholeName",
            "function",
            "gender",
            "title",
            "nameLanguage",
            "strong",
        },
        _ITEM_CHILDREN,
    ),
    "citizenship": (
        _ITEM_ATTRIBUTES
        | {
            "region",
            "countryIso2Code",
            "countryDescription",
            "acquisitionDate",
            "disenfranchisementDate",
        },
        _ITEM_CHILDREN,
    ),
    "birthdate": (
        _ITEM_ATTRIBUTES
        | {
            "circa",
            "calendarType",
            "city",
            "zipCode",
            "birthdate",
            "dayOfMonth",
            "monthOfYear",
            "year",
            "yearRangeFrom",
            "yearRangeTo",
            "region",
            "place",
            "countryIso2Code",
            "countryDescription",
        },
        _ITEM_CHILDREN,
    ),
    "identification": (
        _ITEM_ATTRIBUTES
        | {
            "diplomatic",
            "knownExpired",
            "knownFalse",
            "reportedLost",
            "revokedByIssuer",
            "issueDate",
            "issuedBy",
            "latinNumber",
            "nameOnDocument",
            "number",
            "validFrom",
            "validTo",
            "region",
            "identificationTypeCode",
            "identificationTypeDescription",
            "countryIso2Code",
            "countryDescription",
        },
        _ITEM_CHILDREN,
    ),
    "address": (
        _ITEM_ATTRIBUTES
        | {
            "city",
            "street",
            "poBox",
            "zipCode",
            "region",
            "place",
            "asAtListingTime",
            "countryIso2Code",
            "countryDescription",
        },
        _ITEM_CHILDREN | {"contactInfo"},
    ),
}
_LEAF_ATTRIBUTES = {
    "regulationSummary": {"regulationType", "publicationDate", "numberTitle", "publicationUrl"},
    "additionalInformation": {"key", "value"},
    "contactInfo": {"key", "value"},
}

# Identification flags of v1.1, as a note a reader understands.
_IDENTIFICATION_FLAGS = {
    "diplomatic": "diplomatic",
    "knownExpired": "known to be expired",
    "knownFalse": "known to be false",
    "reportedLost": "reported lost",
    "revokedByIssuer": "revoked by issuer",
}

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_YEAR = re.compile(r"^(\d{4})( \(approximative\))?$")
_YEAR_RANGE = re.compile(r"^(\d{4})\s*-\s*(\d{4})( \(approximative\))?$")
# v1.0 PASSPORT/NUMBER: "<number> (<type code>-<type description>) <remark>".
_V10_DOCUMENT = re.compile(r"^(.*?) \(([a-z]+)-([^()]*)\)(.*)$", re.S)
_UNKNOWN_COUNTRY = {"", "00", "UNKNOWN"}


def _clean(value: str | None) -> str:
    return " ".join(value.split()) if value else ""


def _join(values: Iterable[str], separator: str = " ") -> str:
    return separator.join(v for v in values if v)


def _distinct(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _iso_date(value: str, *, what: str, record: str) -> str | None:
    if not value:
        return None
    if _ISO_DATE.match(value):
        try:
            return dt.date.fromisoformat(value).isoformat()
        except ValueError:
            pass
    raise ListFormatError(f"{record}: {what} {value!r} is not a date (YYYY-MM-DD)")


def _int(value: str, *, what: str, record: str) -> int | None:
    if not value:
        return None
    if not value.isdigit():
        raise ListFormatError(f"{record}: {what} {value!r} is not a number")
    return int(value)


def _name_kind(index: int, full_name: str, language: str) -> str:
    """The first name is the primary one. A name the EU gives in one of its languages and in
    a non-Latin script (Bulgarian, Greek) is filed as an original-script name."""
    if index == 0:
        return "primary"
    if language and detect_script(full_name) not in {"", "Latn"}:
        return "original_script"
    return "alias"


def _place(
    *,
    street: str = "",
    city: str = "",
    state_province: str = "",
    postal_code: str = "",
    country: str = "",
    note: str = "",
) -> dict[str, str] | None:
    place = {
        "street": street,
        "city": city,
        "state_province": state_province,
        "postal_code": postal_code,
        "country": country,
        "note": note,
    }
    return place if any(place.values()) else None


def _data(
    *,
    subject_kind: str,
    names: list[dict[str, Any]],
    legal_basis: str,
    reference_number: str,
    genders: Iterable[str],
    titles: Iterable[str],
    positions: Iterable[str],
    reasons: str,
    listed_on: str | None,
    birth_dates: list[dict[str, Any]],
    birth_places: list[dict[str, str]],
    addresses: list[dict[str, str]],
    nationalities: list[dict[str, str]],
    identifiers: list[dict[str, Any]],
) -> dict[str, Any]:
    gender = next(iter(_distinct(genders)), "")
    return {
        "subject_kind": subject_kind,
        "name": names[0]["full_name"],
        "legal_basis": legal_basis,
        "reference_number": reference_number,
        "gender": GENDERS.get(gender, gender),
        "titles": _distinct(titles),
        "positions": _distinct(positions),
        "measures": [],
        "reasons": reasons,
        "listed_on": listed_on,
        "source_updated_on": [],
        "names": names,
        "birth_dates": birth_dates,
        "birth_places": birth_places,
        "addresses": addresses,
        "nationalities": nationalities,
        "identifiers": identifiers,
    }


class _EUParser:
    """Shared streaming loop: the subclass names its root and record tags and parses one
    record. `header` is known once iteration has started; `unknown_elements` counts what this
    parser does not read (elements and attributes, the latter as `element/@name`)."""

    root_tag = ""
    record_tag = ""
    expected_root = ""
    id_label = ""
    version = ""

    def __init__(self, stream: IO[bytes], *, path: Path | None = None) -> None:
        self.stream = stream
        self.header: ListHeader | None = None
        self.unknown_elements: Counter[str] = Counter()

    def __iter__(self) -> Iterator[ParsedEntry]:
        seen: set[str] = set()
        root: Element | None = None
        for event, element, depth in xml_events(self.stream, which="an EU list"):
            if event == "start":
                if depth == 1:
                    root = element
                    self.header = self._header(element)
                continue
            if depth != 1:
                continue
            if element.tag != self.record_tag:
                self.unknown_elements[f"{_local(self.root_tag)}/{_local(element.tag)}"] += 1
                continue
            entry = self.parse_record(element)
            if entry.source_id in seen:
                raise ListFormatError(f"{self.id_label} {entry.source_id} appears twice")
            seen.add(entry.source_id)
            # Bounded memory: drop the parsed record from the tree.
            element.clear()
            if root is not None:
                root.remove(element)
            yield entry
        if self.header is None:
            raise ListFormatError("the file is empty")

    def _header(self, root: Element) -> ListHeader:
        if root.tag != self.root_tag:
            raise ListFormatError(
                f"not an EU Financial Sanctions File {self.version}: the root element is "
                f"<{root.tag}>, expected {self.expected_root}"
            )
        return ListHeader(generated_at=self.generated_at(root))

    def generated_at(self, root: Element) -> dt.datetime:
        raise NotImplementedError

    def parse_record(self, record: Element) -> ParsedEntry:
        raise NotImplementedError


class EUv10Parser(_EUParser):
    """FSF v1.0 XML (`WHOLE/ENTITY`)."""

    root_tag = V10_ROOT
    record_tag = "ENTITY"
    expected_root = "<WHOLE> (v1.0)"
    id_label = "ENTITY Id"
    version = "v1.0"

    def generated_at(self, root: Element) -> dt.datetime:
        value = root.get("Date", "")
        try:
            day = dt.datetime.strptime(value, "%d/%m/%Y")
        except ValueError:
            raise ListFormatError(f"the list's Date {value!r} is not a date (DD/MM/YYYY)") from None
        return day.replace(tzinfo=dt.UTC)

    def _count_unknown(self, record: Element) -> None:
        for name in record.attrib.keys() - V10_ENTITY_ATTRIBUTES:
            self.unknown_elements[f"ENTITY/@{name}"] += 1
        for child in record:
            known = V10_CHILDREN.get(child.tag)
            if known is None:
                self.unknown_elements[f"ENTITY/{child.tag}"] += 1
                continue
            for name in child.attrib.keys() - V10_ITEM_ATTRIBUTES:
                self.unknown_elements[f"{child.tag}/@{name}"] += 1
            for grandchild in child:
                if grandchild.tag not in known:
                    self.unknown_elements[f"{child.tag}/{grandchild.tag}"] += 1

    def parse_record(self, record: Element) -> ParsedEntry:
        source_id = _clean(record.get("Id"))
        if not source_id:
            raise ListFormatError("an ENTITY has no Id")
        label = f"ENTITY Id {source_id}"
        self._count_unknown(record)
        entity_type = record.get("Type", "")
        if entity_type not in SUBJECT_KINDS_V10:
            raise ListFormatError(f"{label}: unknown Type {entity_type!r} (expected P or E)")
        regime_code = _clean(record.get("programme"))
        if not regime_code:
            raise ListFormatError(f"{label}: the entity has no programme")

        def text(element: Element, tag: str) -> str:
            return _clean(element.findtext(tag))

        acts: dict[str, str] = {}
        items: list[dict[str, str]] = []
        if record.get("legal_basis"):
            acts[record.get("legal_basis", "")] = record.get("pdf_link", "")
        for child in record:
            if child.tag not in V10_CHILDREN:
                continue
            if child.get("Entity_id", source_id) != source_id:
                raise ListFormatError(
                    f"{label}: its {child.tag} Id {child.get('Id')} names another entity "
                    f"(Entity_id {child.get('Entity_id')})"
                )
            _iso_date(child.get("reg_date", ""), what=f"{child.tag} reg_date", record=label)
            items.append(
                {
                    "element": child.tag,
                    "id": child.get("Id", ""),
                    "legal_basis": child.get("legal_basis", ""),
                    "reg_date": child.get("reg_date", ""),
                    "programme": child.get("programme", ""),
                }
            )
            if child.get("legal_basis"):
                acts.setdefault(child.get("legal_basis", ""), child.get("pdf_link", ""))

        names: list[dict[str, Any]] = []
        genders, titles, positions = [], [], []
        for element in record.iterfind("NAME"):
            # Parts in reading order (the file lists LASTNAME first).
            parts = [text(element, t) for t in ("FIRSTNAME", "MIDDLENAME", "LASTNAME")]
            parts = [p for p in parts if p]
            full_name = text(element, "WHOLENAME") or " ".join(parts)
            if not full_name:
                raise ListFormatError(f"{label}: NAME Id {element.get('Id')} has no name")
            language = text(element, "LANGUAGE")
            names.append(
                name_item(
                    _name_kind(len(names), full_name, language),
                    full_name,
                    parts=parts,
                    note=f"Language: {language}" if language else "",
                )
            )
            genders.append(text(element, "GENDER"))
            titles.append(text(element, "TITLE"))
            positions.append(text(element, "FUNCTION"))
        if not names:
            raise ListFormatError(f"{label}: the entity has no NAME")

        birth_dates, birth_places = [], []
        for element in record.iterfind("BIRTH"):
            value = text(element, "DATE")
            if value:
                birth_dates.append(self._birth_date(value, label=label))
            place = _place(city=text(element, "PLACE"), country=text(element, "COUNTRY"))
            if place:
                birth_places.append(place)

        identifiers = []
        for element in record.iterfind("PASSPORT"):
            value, country = text(element, "NUMBER"), text(element, "COUNTRY")
            if not value and not country:
                continue
            match = _V10_DOCUMENT.match(value)
            if match:
                number, code, description, note = (_clean(g) for g in match.groups())
                kind = IDENTIFIER_KINDS.get(code, "other")
            else:
                number, description, note, kind = value, "", "", "passport"
            identifiers.append(
                identifier_item(
                    kind=kind,
                    type_detail=description,
                    number=number,
                    issuing_country=country,
                    note=note,
                )
            )

        nationalities = [
            {"country": c, "note": ""}
            for c in (text(e, "COUNTRY") for e in record.iterfind("CITIZEN"))
            if c
        ]
        addresses = [
            a
            for a in (
                _place(
                    street=_join([text(e, "NUMBER"), text(e, "STREET")]),
                    city=text(e, "CITY"),
                    postal_code=text(e, "ZIPCODE"),
                    country=text(e, "COUNTRY"),
                    note=text(e, "OTHER"),
                )
                for e in record.iterfind("ADDRESS")
            )
            if a
        ]

        legal_basis = _clean(record.get("legal_basis"))
        data = _data(
            subject_kind=SUBJECT_KINDS_V10[entity_type],
            names=names,
            legal_basis=legal_basis,
            # v1.0 has no EU reference number (EU.x.y came with v1.1).
            reference_number="",
            genders=genders,
            titles=titles,
            positions=positions,
            reasons=(record.get("remark") or "").strip(),
            listed_on=_iso_date(record.get("reg_date", ""), what="reg_date", record=label),
            birth_dates=birth_dates,
            birth_places=birth_places,
            addresses=addresses,
            nationalities=nationalities,
            identifiers=identifiers,
        )
        programmes = _distinct([regime_code, *(i["programme"] for i in items)])
        details = {
            "regime_name": REGIMES.get(regime_code, (regime_code, ""))[0],
            "programmes": programmes,
            "pdf_link": record.get("pdf_link", ""),
            # Which act added each name, birth, document, citizenship and address.
            "items": items,
            "acts": acts,
        }
        return ParsedEntry(
            source_id=source_id,
            source_version="",
            reference_number="",
            regime_code=regime_code,
            data=data,
            details=details,
        )

    @staticmethod
    def _birth_date(value: str, *, label: str) -> dict[str, Any]:
        """v1.0 writes birth dates as 1924-02-21, 1960, "1960 (approximative)" or
        "1955 - 1958 (approximative)"."""
        birth_date: dict[str, Any] = {
            "kind": "exact",
            "date": None,
            "year": None,
            "from_year": None,
            "to_year": None,
            "note": "",
        }
        if _ISO_DATE.match(value):
            birth_date["date"] = _iso_date(value, what="BIRTH DATE", record=label)
        elif year := _YEAR.match(value):
            birth_date["year"] = int(year.group(1))
            if year.group(2):
                birth_date["kind"] = "approximate"
        elif span := _YEAR_RANGE.match(value):
            birth_date["kind"] = "between"
            birth_date["from_year"], birth_date["to_year"] = int(span.group(1)), int(span.group(2))
            if span.group(3):
                birth_date["note"] = "approximative"
        else:
            raise ListFormatError(f"{label}: BIRTH DATE {value!r} is not a date")
        return birth_date


class EUv11Parser(_EUParser):
    """FSF v1.1 XML (`export/sanctionEntity`, namespace http://eu.europa.ec/fpi/fsd/export)."""

    root_tag = V11_ROOT
    record_tag = f"{{{NAMESPACE}}}sanctionEntity"
    expected_root = f'<export xmlns="{NAMESPACE}"> (v1.1)'
    id_label = "sanctionEntity logicalId"
    version = "v1.1"

    def generated_at(self, root: Element) -> dt.datetime:
        value = root.get("generationDate", "")
        try:
            generated_at = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ListFormatError(
                f"the list's generationDate {value!r} is not a timestamp"
            ) from None
        if generated_at.tzinfo is None:
            generated_at = generated_at.replace(tzinfo=dt.UTC)
        return generated_at

    def _count_unknown(self, element: Element, name: str) -> None:
        attributes, children = V11_ELEMENTS.get(name, (_LEAF_ATTRIBUTES.get(name, set()), set()))
        for attribute in element.attrib.keys() - attributes:
            self.unknown_elements[f"{name}/@{attribute}"] += 1
        for child in element:
            child_name = _local(child.tag)
            if child.tag != f"{{{NAMESPACE}}}{child_name}" or child_name not in children:
                self.unknown_elements[f"{name}/{child_name}"] += 1
            elif child_name in V11_ELEMENTS or child_name in _LEAF_ATTRIBUTES:
                self._count_unknown(child, child_name)

    def parse_record(self, record: Element) -> ParsedEntry:
        source_id = _clean(record.get("logicalId"))
        if not source_id:
            raise ListFormatError("a sanctionEntity has no logicalId")
        label = f"sanctionEntity logicalId {source_id}"
        self._count_unknown(record, "sanctionEntity")
        ns = f"{{{NAMESPACE}}}"

        def children(element: Element, tag: str) -> list[Element]:
            return element.findall(ns + tag)

        def attr(element: Element, name: str) -> str:
            return _clean(element.get(name))

        def remarks(element: Element) -> list[str]:
            return [r for r in ((e.text or "").strip() for e in children(element, "remark")) if r]

        def country(element: Element) -> str:
            code, description = (
                attr(element, "countryIso2Code"),
                attr(element, "countryDescription"),
            )
            if code in _UNKNOWN_COUNTRY and description in _UNKNOWN_COUNTRY:
                return ""
            return description or code

        def key_values(element: Element, tag: str) -> list[str]:
            return [_join([attr(e, "key"), attr(e, "value")], ": ") for e in children(element, tag)]

        subject = record.find(ns + "subjectType")
        code = attr(subject, "code") if subject is not None else ""
        if code not in SUBJECT_KINDS_V11:
            raise ListFormatError(
                f"{label}: unknown subjectType code {code!r} (expected person or enterprise)"
            )

        regulations: list[dict[str, Any]] = []
        for element in children(record, "regulation"):
            regulations.append(
                {
                    "programme": attr(element, "programme"),
                    "number_title": attr(element, "numberTitle"),
                    "regulation_type": attr(element, "regulationType"),
                    "organisation_type": attr(element, "organisationType"),
                    "publication_date": _iso_date(
                        attr(element, "publicationDate"), what="publicationDate", record=label
                    ),
                    "entry_into_force_date": _iso_date(
                        attr(element, "entryIntoForceDate"),
                        what="entryIntoForceDate",
                        record=label,
                    ),
                    "publication_url": _clean(element.findtext(ns + "publicationUrl")),
                    "logical_id": attr(element, "logicalId"),
                    "remarks": remarks(element),
                }
            )
        programmes = _distinct(r["programme"] for r in regulations)
        if not programmes:
            raise ListFormatError(f"{label}: the entity has no regulation with a programme")
        regime_code = programmes[0]

        items: list[dict[str, str]] = []

        def provenance(element: Element) -> None:
            # Which act added the item: one entry per regulationSummary, empty values left out.
            summaries = children(element, "regulationSummary") or [Element("none")]
            for summary in summaries:
                item = {
                    "element": _local(element.tag),
                    "id": attr(element, "logicalId"),
                    "legal_basis": attr(summary, "numberTitle"),
                    "reg_date": attr(summary, "publicationDate"),
                    "regulation_type": attr(summary, "regulationType"),
                    "url": attr(summary, "publicationUrl"),
                    "language": attr(element, "regulationLanguage"),
                }
                items.append({key: value for key, value in item.items() if value})

        names: list[dict[str, Any]] = []
        genders, titles, positions = [], [], []
        for element in children(record, "nameAlias"):
            parts = [attr(element, a) for a in ("firstName", "middleName", "lastName")]
            parts = [p for p in parts if p]
            full_name = attr(element, "wholeName") or " ".join(parts)
            if not full_name:
                raise ListFormatError(
                    f"{label}: nameAlias logicalId {element.get('logicalId')} has no name"
                )
            kind = _name_kind(len(names), full_name, attr(element, "nameLanguage"))
            strong = attr(element, "strong").casefold()
            quality = "" if kind == "primary" else {"true": "good", "false": "low"}.get(strong, "")
            language = attr(element, "nameLanguage")
            names.append(
                name_item(
                    kind,
                    full_name,
                    parts=parts,
                    quality=quality,
                    note=_join(
                        [f"Language: {language}" if language else "", *remarks(element)], "; "
                    ),
                )
            )
            genders.append(attr(element, "gender"))
            titles.append(attr(element, "title"))
            positions.append(attr(element, "function"))
            provenance(element)
        if not names:
            raise ListFormatError(f"{label}: the entity has no nameAlias")

        birth_dates, birth_places = [], []
        for element in children(record, "birthdate"):
            birth_date = self._birth_date(element, label=label)
            if birth_date:
                birth_dates.append(birth_date)
            place = _place(
                city=attr(element, "city"),
                state_province=attr(element, "region"),
                postal_code=attr(element, "zipCode"),
                country=country(element),
                note=_join([attr(element, "place"), *remarks(element)], "; "),
            )
            if place:
                birth_places.append(place)
            provenance(element)

        nationalities = []
        for element in children(record, "citizenship"):
            note = _join([attr(element, "region"), *remarks(element)], "; ")
            if country(element) or note:
                nationalities.append({"country": country(element), "note": note})
            provenance(element)

        identifiers = []
        for element in children(record, "identification"):
            type_code = attr(element, "identificationTypeCode")
            flags = [
                text
                for flag, text in _IDENTIFICATION_FLAGS.items()
                if attr(element, flag) == "true"
            ]
            note = _join(
                [
                    *flags,
                    f"issued by {attr(element, 'issuedBy')}" if attr(element, "issuedBy") else "",
                    f"number in Latin script: {attr(element, 'latinNumber')}"
                    if attr(element, "latinNumber")
                    else "",
                    f"name on document: {attr(element, 'nameOnDocument')}"
                    if attr(element, "nameOnDocument")
                    else "",
                    f"valid from {attr(element, 'validFrom')}"
                    if attr(element, "validFrom")
                    else "",
                    f"valid to {attr(element, 'validTo')}" if attr(element, "validTo") else "",
                    f"region: {attr(element, 'region')}" if attr(element, "region") else "",
                    *remarks(element),
                ],
                "; ",
            )
            identifier = identifier_item(
                kind=IDENTIFIER_KINDS.get(type_code, "other"),
                type_detail=attr(element, "identificationTypeDescription") or type_code,
                number=attr(element, "number"),
                issuing_country=country(element),
                issued_on=_iso_date(attr(element, "issueDate"), what="issueDate", record=label),
                note=note,
            )
            if identifier["number"] or identifier["issuing_country"] or note:
                identifiers.append(identifier)
            provenance(element)

        addresses = []
        for element in children(record, "address"):
            note = _join(
                [
                    f"PO Box {attr(element, 'poBox')}" if attr(element, "poBox") else "",
                    attr(element, "place"),
                    "as at listing time" if attr(element, "asAtListingTime") == "true" else "",
                    *key_values(element, "contactInfo"),
                    *remarks(element),
                ],
                "; ",
            )
            address = _place(
                street=attr(element, "street"),
                city=attr(element, "city"),
                state_province=attr(element, "region"),
                postal_code=attr(element, "zipCode"),
                country=country(element),
                note=note,
            )
            if address:
                addresses.append(address)
            provenance(element)

        united_nations_id = attr(record, "unitedNationId")
        data = _data(
            subject_kind=SUBJECT_KINDS_V11[code],
            names=names,
            legal_basis=regulations[0]["number_title"],
            reference_number=attr(record, "euReferenceNumber"),
            genders=genders,
            titles=titles,
            positions=positions,
            reasons="\n".join(remarks(record)),
            listed_on=_iso_date(
                attr(record, "designationDate"), what="designationDate", record=label
            ),
            birth_dates=birth_dates,
            birth_places=birth_places,
            addresses=addresses,
            nationalities=nationalities,
            identifiers=identifiers,
        )
        details = {
            key: value
            for key, value in {
                "regime_name": REGIMES.get(regime_code, (regime_code, ""))[0],
                "programmes": programmes,
                "regulations": regulations,
                "designation_details": attr(record, "designationDetails"),
                "delisting_date": attr(record, "delistingDate"),
                "additional_information": key_values(record, "additionalInformation"),
                "items": items,
            }.items()
            if value
        }
        return ParsedEntry(
            source_id=source_id,
            source_version="",
            reference_number=data["reference_number"],
            regime_code=regime_code,
            data=data,
            details=details,
            cross_references=[f"un:{united_nations_id}"] if united_nations_id else [],
        )

    @staticmethod
    def _birth_date(element: Element, *, label: str) -> dict[str, Any] | None:
        def attr(name: str) -> str:
            return _clean(element.get(name))

        full = _iso_date(attr("birthdate"), what="birthdate", record=label)
        year = _int(attr("year"), what="birthdate year", record=label)
        from_year = _int(attr("yearRangeFrom"), what="yearRangeFrom", record=label)
        to_year = _int(attr("yearRangeTo"), what="yearRangeTo", record=label)
        month = _int(attr("monthOfYear"), what="monthOfYear", record=label)
        day = _int(attr("dayOfMonth"), what="dayOfMonth", record=label)
        if not any((full, year, from_year, to_year, month, day)):
            return None
        note = []
        if not full and (month or day):
            # A partial date: the data format has a year, so the month and day go to the note.
            note.append(
                _join([f"month {month}" if month else "", f"day {day}" if day else ""], ", ")
            )
        calendar = attr("calendarType")
        if calendar and calendar != "GREGORIAN":
            note.append(f"calendar: {calendar}")
        if from_year or to_year:
            kind = "between"
        elif attr("circa") == "true":
            kind = "approximate"
        else:
            kind = "exact"
        return {
            "kind": kind,
            "date": full,
            "year": None if full else year,
            "from_year": from_year,
            "to_year": to_year,
            "note": "; ".join(note),
        }


def _root_tag(path: Path) -> str:
    """The tag of the file's root element, reading no further than its start tag."""
    if path.is_dir():
        raise ListFormatError(f"{path.name}: an EU list is one XML file, not a folder")
    with path.open("rb") as stream:
        for _event, element, _depth in xml_events(stream, which="an EU list"):
            return element.tag
    raise ListFormatError("the file is empty")


def parser_for(path: Path) -> type[_EUParser]:
    tag = _root_tag(path)
    if tag == V10_ROOT:
        return EUv10Parser
    if tag == V11_ROOT:
        return EUv11Parser
    raise ListFormatError(
        f"not an EU Financial Sanctions File: the root element is <{tag}>, expected <WHOLE> "
        f'(v1.0) or <export xmlns="{NAMESPACE}"> (v1.1)'
    )
