"""Published list formats. Each parser streams a file into `ParsedEntry` values whose `data`
is in the designation data format of `designations.data` (the same shape as a history
snapshot), so that every importer shares one write path."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from designations.names import detect_script


class ListFormatError(ValueError):
    """The file is not a well-formed list of this publisher; nothing was imported."""


@dataclass
class ParsedEntry:
    source_id: str
    source_version: str
    reference_number: str
    regime_code: str
    data: dict[str, Any]
    details: dict[str, Any] = field(default_factory=dict)
    cross_references: list[str] = field(default_factory=list)
    # The regime's name where the file gives it (FtM's Sanction program); else the parser
    # module's REGIMES, else the code.
    regime_name: str = ""


@dataclass
class ListHeader:
    # None when the file does not say (OFAC's CSV set): the importer is then told the date.
    generated_at: dt.datetime | None


def name_item(
    kind: str,
    full_name: str,
    *,
    parts: list[str] | None = None,
    quality: str = "",
    birth_date: str = "",
    birth_place: str = "",
    note: str = "",
) -> dict[str, Any]:
    """One entry of the data format's `names`, its script detected."""
    return {
        "kind": kind,
        "full_name": full_name,
        "parts": parts or [],
        "quality": quality,
        "script": detect_script(full_name),
        "birth_date": birth_date,
        "birth_place": birth_place,
        "note": note,
    }


IDENTIFIER_FIELDS = {
    "type_detail": "",
    "issuing_country": "",
    "country_of_issue": "",
    "city_of_issue": "",
    "issued_on": None,
    "note": "",
}


def identifier_item(kind: str = "other", number: str = "", **fields: Any) -> dict[str, Any]:
    """One entry of the data format's `identifiers`; fields not given are empty."""
    unknown = set(fields) - set(IDENTIFIER_FIELDS)
    if unknown:
        raise TypeError(f"not identifier fields: {sorted(unknown)}")
    return {"kind": kind, "number": number, **IDENTIFIER_FIELDS, **fields}


def xml_events(stream: IO[bytes], *, which: str) -> Iterator[tuple[str, Element, int]]:
    """(event, element, depth) for "start" and "end" events of a published XML list: depth
    is the element's own on start (1 for the root) and its parent's on end. Parsed through
    defusedxml, which refuses DTDs, entity declarations and external references (billion
    laughs, quadratic blow-up, XXE): `which` names the list in the error ("a UN list")."""
    depth = 0
    try:
        events = iterparse(
            stream,
            events=("start", "end"),
            forbid_dtd=True,
            forbid_entities=True,
            forbid_external=True,
        )
        for event, element in events:
            depth += 1 if event == "start" else -1
            yield event, element, depth
    except DefusedXmlException as error:
        raise ListFormatError(
            "refused: the file declares a DTD, entities or external references, which "
            f"{which} never has (possible XML bomb or XXE): {error}"
        ) from error
    except ParseError as error:
        raise ListFormatError(f"not well-formed XML: {error}") from error
