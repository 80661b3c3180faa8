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

from designations.formats import (
    ListFormatError,
    ListHeader,
    ParsedEntry,
    identifier_item,
    name_item,
)

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
_MONTH = re.compile(r"^(\d{4})-\d{2}$")  # FtM dates are prefixes: a month stands for its year
MAX_LINE = 1_000_000  # characters in one entity: memory stays bounded
MAX_VALUE = 5_000  # characters in one value (names, numbers, notes)
NOT_IN_FORCE = {"delisted", "draft"}


def _first(entity: dict[str, Any], prop: str) -> str:
    values = entity.get("properties", {}).get(prop) or [""]
    return str(values[0])


def _all(entity: dict[str, Any], prop: str) -> list[str]:
    return [str(v) for v in entity.get("properties", {}).get(prop, []) if v]


def _country(code: str) -> str:
    return registry.country.caption(code) or code


# A place's columns in the order its text joins them with ", ", and their sizes.
PLACE_COLUMNS = [("street", 500), ("city", 200), ("state_province", 200), ("country", 100)]


def _place(text: str) -> dict[str, str]:
    """Our export writes a place as one line ("street, city, ..., country"); it comes back
    as the same line: its parts fill the columns in order, as long as each allows."""
    place = {"street": "", "city": "", "state_province": "", "postal_code": "", "country": ""}
    parts = text.split(", ")
    columns = iter(PLACE_COLUMNS)
    column, size = next(columns)
    for part in parts:
        joined = f"{place[column]}, {part}" if place[column] else part
        while len(joined) > size:
            try:
                column, size = next(columns)
            except StopIteration:
                place["street"] = text  # too long for the columns: _fits refuses it
                return place
            joined = part
        place[column] = joined
    return place


def _birth_date(value: str, subject_id: str) -> dict[str, Any]:
    if _DATE.match(value):
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            raise ListFormatError(f"entity {subject_id}: birth date {value!r}") from None
        return {"kind": "exact", "date": value, "year": None, "from_year": None, "to_year": None}
    year_only, month = _YEAR.match(value), _MONTH.match(value)
    if year_only or month:
        return {
            "kind": "",
            "date": None,
            "year": int(value[:4]),
            "from_year": None,
            "to_year": None,
            "note": "" if year_only else f"month given: {value}",
        }
    raise ListFormatError(f"entity {subject_id}: birth date {value!r} is not a date or a year")


def _iso_date(value: str, *, what: str, subject_id: str) -> str | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value[:10]).isoformat()
    except ValueError:
        raise ListFormatError(f"entity {subject_id}: {what} {value!r} is not a date") from None


# What our columns hold (designations.models): a longer value is refused, not cut.
LIMITS = {
    "names": ("full_name", 500),
    "identifiers": ("number", 200),
    "nationalities": ("country", 100),
    "birth_places": ("street", 500),
    "addresses": ("street", 500),  # a place longer than all its columns stays here, refused
}


def _fits(subject_id: str, data: dict[str, Any]) -> None:
    for key, (field_name, limit) in LIMITS.items():
        for item in data[key]:
            if len(item.get(field_name) or "") > limit:
                raise ListFormatError(
                    f"entity {subject_id}: a value of {key} is longer than {limit} characters"
                )
    if len(data["reference_number"]) > 64 or len(data["gender"]) > 20:
        raise ListFormatError(f"entity {subject_id}: a reference or gender is too long")


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
        number = 0
        while True:
            try:
                line = text.readline(MAX_LINE + 1)
            except UnicodeDecodeError:
                raise ListFormatError(f"after line {number}: not UTF-8 text") from None
            if not line:
                break
            number += 1
            if len(line) > MAX_LINE:
                raise ListFormatError(f"line {number}: longer than {MAX_LINE} characters")
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
            properties = data.get("properties", {})
            if not isinstance(properties, dict) or not all(
                isinstance(v, list) for v in properties.values()
            ):
                raise InvalidData("properties must map each name to a list of values")
            schema = model.get(data.get("schema", ""))
            if schema is None:
                raise InvalidData(f"unknown schema {data.get('schema')!r}")
            # Each value checked against its property's type as given: the input is another
            # system's, and FtM's own cleaning would drop a bad value silently.
            for name, values in properties.items():
                prop = schema.get(name)
                if prop is None:
                    raise InvalidData(f"{schema.name} has no property {name!r}")
                for value in values:
                    if not isinstance(value, str) or prop.type.clean(value) is None:
                        raise InvalidData(f"{name} {value!r} is not a valid {prop.type.name}")
                    if len(value) > MAX_VALUE:
                        raise InvalidData(f"{name} is longer than {MAX_VALUE} characters")
            proxy = model.get_proxy(data, cleaned=True)  # checked above: kept as given
        except (json.JSONDecodeError, InvalidData, TypeError, AttributeError) as error:
            raise ListFormatError(f"line {number}: not an FtM entity ({error})") from None
        if not proxy.id:
            raise ListFormatError(f"line {number}: a {proxy.schema.name} has no id")
        if len(proxy.id) > 64:
            raise ListFormatError(f"line {number}: the id {proxy.id[:70]}… is over 64 characters")
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
        # An entry of the list is sanctioned now: a delisted or draft one is not (our export
        # gives the owner its drafts); of several sanctions, one in force counts.
        in_force = [s for s in sanctions if _first(s, "status").casefold() not in NOT_IN_FORCE]
        if not in_force:
            self.unknown_elements["subjects delisted or draft (not entries of the list)"] += 1
            return None
        sanction = in_force[0]
        primary = _first(subject, "name")
        if not primary:
            raise ListFormatError(f"entity {subject_id}: no name")
        names = [name_item("primary", primary)]
        names += [name_item("alias", n) for n in _all(subject, "name")[1:]]
        names += [name_item("alias", n) for n in _all(subject, "alias")]
        names += [name_item("alias", n, quality="low") for n in _all(subject, "weakAlias")]
        names += [name_item("former", n) for n in _all(subject, "previousName")]

        identifiers, numbers = [], set()
        for document in related:
            kind = DOCUMENT_KINDS.get(document["schema"])
            if kind is None:
                continue
            number = _first(document, "number")
            numbers.add(number)
            identifiers.append(
                identifier_item(
                    kind,
                    number,
                    type_detail=_first(document, "type"),
                    issuing_country=_country(_first(document, "country")),
                    issued_on=_iso_date(
                        _first(document, "startDate"), what="startDate", subject_id=subject_id
                    ),
                    note=_first(document, "summary"),
                )
            )
        for prop, kind in IDENTIFIER_PROPERTIES.items():
            for number in _all(subject, prop):
                if number not in numbers:
                    identifiers.append(identifier_item(kind, number))
        for wallet in (e for e in related if e["schema"] == "CryptoWallet"):
            identifier = identifier_item("digital_currency", _first(wallet, "publicKey"))
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
        _fits(subject_id, data)
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


def parser_for(path: Path) -> type[FtMParser]:
    return FtMParser
