"""FollowTheMoney entities (one JSON object per line), as designations.exports writes them and
as sanctions datasets publish them: a subject (Person, Organization, Vessel, Airplane), its
Sanction, and its documents (Passport, Identification) and wallets (CryptoWallet).

The entities of one subject follow each other in our export, so the file is read as a
stream, one subject at a time; an entity that names a subject read before is refused rather
than silently dropped. A subject whose Sanction says it was delisted is not an entry of the
list (as with the other lists, an entry missing from a later file is delisted).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from followthemoney import model
from followthemoney.exc import InvalidData
from followthemoney.types import registry

from designations.formats import ListFormatError, ListHeader, ParsedEntry
from designations.names import detect_script

SUBJECT_KINDS = {
    "Person": "person",
    "Organization": "organisation",
    "Company": "organisation",
    "LegalEntity": "organisation",
    "Vessel": "vessel",
    "Airplane": "aircraft",
}
# Subject properties that carry an identifier, and the kind they carry.
IDENTIFIER_PROPERTIES = {
    "passportNumber": "passport",
    "idNumber": "national_id",
    "imoNumber": "imo",
    "registrationNumber": "registration",
    "swiftBic": "bic",
    "taxNumber": "tax",
}
DOCUMENT_KINDS = {"Passport": "passport", "Identification": "national_id"}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_YEAR = re.compile(r"^\d{4}$")


def _first(entity: dict[str, Any], prop: str) -> str:
    values = entity.get("properties", {}).get(prop) or [""]
    return str(values[0])


def _all(entity: dict[str, Any], prop: str) -> list[str]:
    return [str(v) for v in entity.get("properties", {}).get(prop, []) if v]


def _country(code: str) -> str:
    return registry.country.caption(code) or code


def _place(text: str) -> dict[str, str]:
    # Our export writes a place as one line; it comes back as one line.
    return {"street": text, "city": "", "state_province": "", "postal_code": "", "country": ""}


def _name(kind: str, full_name: str, quality: str = "") -> dict[str, Any]:
    return {
        "kind": kind,
        "full_name": full_name,
        "parts": [],
        "quality": quality,
        "script": detect_script(full_name),
        "birth_date": "",
        "birth_place": "",
        "note": "",
    }


def _birth_date(value: str, subject_id: str) -> dict[str, Any]:
    if _DATE.match(value):
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            raise ListFormatError(f"entity {subject_id}: birth date {value!r}") from None
        return {"kind": "exact", "date": value, "year": None, "from_year": None, "to_year": None}
    if _YEAR.match(value):
        return {"kind": "", "date": None, "year": int(value), "from_year": None, "to_year": None}
    raise ListFormatError(f"entity {subject_id}: birth date {value!r} is not a date or a year")


def _iso_date(value: str, *, what: str, subject_id: str) -> str | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value[:10]).isoformat()
    except ValueError:
        raise ListFormatError(f"entity {subject_id}: {what} {value!r} is not a date") from None


class FtMParser:
    """Iterate over an FtM entities file. `header.generated_at` is the file's time (FtM lines
    carry no list date); `unknown_elements` counts what is not imported."""

    def __init__(self, stream: IO[bytes], *, path: Path | None = None) -> None:
        self.stream = stream
        generated = (
            dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.UTC)
            if path is not None and path.is_file()
            else None
        )
        self.header = ListHeader(generated_at=generated)
        self.unknown_elements: Counter[str] = Counter()

    def __iter__(self) -> Iterator[ParsedEntry]:
        current: dict[str, Any] | None = None
        related: list[dict[str, Any]] = []
        done: set[str] = set()
        text = io.TextIOWrapper(self.stream, encoding="utf-8")  # type: ignore[arg-type]
        for number, line in enumerate(text, start=1):
            if not line.strip():
                continue
            entity = self._entity(line, number)
            schema = entity["schema"]
            if schema in SUBJECT_KINDS:
                if current is not None:
                    entry = self._entry(current, related)
                    done.add(current["id"])
                    if entry is not None:
                        yield entry
                if entity["id"] in done:
                    raise ListFormatError(f"line {number}: entity {entity['id']} appears twice")
                current, related = entity, []
                continue
            refers = {
                str(v)
                for prop in ("entity", "holder")
                for v in entity.get("properties", {}).get(prop, [])
            }
            if current is not None and current["id"] in refers:
                related.append(entity)
            elif refers & done:
                raise ListFormatError(
                    f"line {number}: a {schema} of entity {sorted(refers & done)[0]} comes "
                    "after other subjects; write each subject's entities together"
                )
            else:
                self.unknown_elements[schema] += 1
        if current is not None:
            entry = self._entry(current, related)
            if entry is not None:
                yield entry

    def _entity(self, line: str, number: int) -> dict[str, Any]:
        try:
            data = json.loads(line)
            proxy = model.get_proxy(data)  # checks the schema and properties
        except (json.JSONDecodeError, InvalidData, TypeError, AttributeError) as error:
            raise ListFormatError(f"line {number}: not an FtM entity ({error})") from None
        if not proxy.id:
            raise ListFormatError(f"line {number}: a {proxy.schema.name} has no id")
        return {
            "id": proxy.id,
            "schema": proxy.schema.name,
            "properties": proxy.to_dict()["properties"],
        }

    def _entry(self, subject: dict[str, Any], related: list[dict[str, Any]]) -> ParsedEntry | None:
        subject_id = subject["id"]
        sanctions = [e for e in related if e["schema"] == "Sanction"]
        if not sanctions:
            raise ListFormatError(f"entity {subject_id}: no Sanction names it")
        sanction = sanctions[0]
        if _first(sanction, "status").casefold() == "delisted":
            self.unknown_elements["delisted subjects (not entries of the list)"] += 1
            return None
        primary = _first(subject, "name")
        if not primary:
            raise ListFormatError(f"entity {subject_id}: no name")
        names = [_name("primary", primary)]
        names += [_name("alias", n) for n in _all(subject, "name")[1:]]
        names += [_name("alias", n) for n in _all(subject, "alias")]
        names += [_name("alias", n, "low") for n in _all(subject, "weakAlias")]
        names += [_name("former", n) for n in _all(subject, "previousName")]

        identifiers, numbers = [], set()
        for document in related:
            kind = DOCUMENT_KINDS.get(document["schema"])
            if kind is None:
                continue
            number = _first(document, "number")
            numbers.add(number)
            identifiers.append(
                {
                    "kind": kind,
                    "type_detail": _first(document, "type"),
                    "number": number,
                    "issuing_country": _country(_first(document, "country")),
                    "country_of_issue": "",
                    "city_of_issue": "",
                    "issued_on": _iso_date(
                        _first(document, "startDate"), what="startDate", subject_id=subject_id
                    ),
                    "note": _first(document, "summary"),
                }
            )
        for prop, kind in IDENTIFIER_PROPERTIES.items():
            for number in _all(subject, prop):
                if number not in numbers:
                    identifiers.append(self._identifier(kind, number))
        for wallet in (e for e in related if e["schema"] == "CryptoWallet"):
            identifier = self._identifier("digital_currency", _first(wallet, "publicKey"))
            identifier["type_detail"] = _first(wallet, "currencySymbol")
            identifiers.append(identifier)

        countries = _all(subject, "nationality") or _all(subject, "country")
        reference = _first(sanction, "recordId")
        data = {
            "subject_kind": SUBJECT_KINDS[subject["schema"]],
            "name": primary,
            "legal_basis": "",
            "reference_number": reference,
            "gender": _first(subject, "gender").capitalize(),
            "titles": _all(subject, "title"),
            "positions": _all(subject, "position"),
            "measures": _all(sanction, "provisions"),
            "reasons": _first(subject, "notes") or _first(sanction, "reason"),
            "listed_on": _iso_date(
                _first(sanction, "listingDate") or _first(sanction, "startDate"),
                what="listingDate",
                subject_id=subject_id,
            ),
            "source_updated_on": [],
            "names": names,
            "birth_dates": [_birth_date(v, subject_id) for v in _all(subject, "birthDate")],
            "birth_places": [_place(p) for p in _all(subject, "birthPlace")],
            "addresses": [_place(a) for a in _all(subject, "address")],
            "nationalities": [{"country": _country(c), "note": ""} for c in countries],
            "identifiers": identifiers,
        }
        regime = _first(sanction, "programId") or _first(sanction, "program") or "FTM"
        return ParsedEntry(
            source_id=subject_id[:64],
            source_version=_first(subject, "modifiedAt")[:20],
            reference_number=reference[:64],
            regime_code=regime[:50],
            data=data,
            details={
                "authority": _first(sanction, "authority"),
                "program": _first(sanction, "program"),
            },
            cross_references=[f"un:{ref}" for ref in _all(sanction, "unscId")],
            regime_name=_first(sanction, "program")[:200],
        )

    @staticmethod
    def _identifier(kind: str, number: str) -> dict[str, Any]:
        return {
            "kind": kind,
            "type_detail": "",
            "number": number,
            "issuing_country": "",
            "country_of_issue": "",
            "city_of_issue": "",
            "issued_on": None,
            "note": "",
        }


def parser_for(path: Path) -> type[FtMParser]:
    return FtMParser
