"""Exports of designations: FollowTheMoney entities (one JSON object per line) and CSV.

Both are built one designation at a time so that a view can stream them: memory stays flat
however many designations the caller may see. Which designations is the caller's business
(designations.selectors.designations_for_export); this module only shapes them.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator

from followthemoney import model
from followthemoney.proxy import EntityProxy

from designations.models import (
    BirthDate,
    BirthDateKind,
    Designation,
    Identifier,
    IdentifierKind,
    NameKind,
    NameQuality,
    Publisher,
    SubjectKind,
)

FTM_SCHEMA = {
    SubjectKind.PERSON: "Person",
    SubjectKind.ORGANISATION: "Organization",
    SubjectKind.VESSEL: "Vessel",
    SubjectKind.AIRCRAFT: "Airplane",
}

# Identifier kinds that FtM models as a property of the subject (where the schema has it).
IDENTIFIER_PROPERTY = {
    IdentifierKind.PASSPORT: "passportNumber",
    IdentifierKind.NATIONAL_ID: "idNumber",
    IdentifierKind.IMO: "imoNumber",
    IdentifierKind.REGISTRATION: "registrationNumber",
    IdentifierKind.BIC: "swiftBic",
    IdentifierKind.TAX: "taxNumber",
}


def entity_id(designation: Designation) -> str:
    return f"sx-{designation.pk}"


def _birth_date_values(birth_date: BirthDate) -> list[str]:
    """FtM dates are ISO prefixes: an exact date, or a year. A range gives both ends, as
    sanctions lists in FtM do (OpenSanctions), so that screening can match either."""
    if birth_date.date:
        return [birth_date.date.isoformat()]
    if birth_date.year:
        return [str(birth_date.year)]
    return [str(year) for year in (birth_date.from_year, birth_date.to_year) if year]


def _add(entity: EntityProxy, prop: str, values: Iterable[object]) -> None:
    """Add where the schema has the property; values FtM cannot clean (an unknown country
    name, say) are dropped rather than exported wrong."""
    if prop in entity.schema.properties:
        for value in values:
            if value:
                entity.add(prop, str(value), quiet=True)


def _identifier_entity(subject: EntityProxy, identifier: Identifier, index: int) -> EntityProxy:
    document = model.make_entity(
        "Passport" if identifier.kind == IdentifierKind.PASSPORT else "Identification"
    )
    document.id = f"{subject.id}-id-{index}"
    document.add("holder", subject.id)
    document.add("number", identifier.number)
    _add(document, "type", [identifier.type_detail or identifier.get_kind_display()])
    _add(document, "country", [identifier.issuing_country or identifier.country_of_issue])
    _add(document, "startDate", [identifier.issued_on and identifier.issued_on.isoformat()])
    _add(document, "summary", [identifier.note])
    return document


def _wallet_entity(subject: EntityProxy, identifier: Identifier, index: int) -> EntityProxy:
    wallet = model.make_entity("CryptoWallet")
    wallet.id = f"{subject.id}-wallet-{index}"
    wallet.add("holder", subject.id)
    wallet.add("publicKey", identifier.number)
    _add(wallet, "currencySymbol", [identifier.type_detail])
    return wallet


def ftm_entities(designation: Designation) -> Iterator[EntityProxy]:
    """The subject, its Sanction and its identity documents. Expects owner, regime and source
    to be selected and the children (names, birth data, ...) prefetched."""
    subject = model.make_entity(FTM_SCHEMA[SubjectKind(designation.subject_kind)])
    subject.id = entity_id(designation)
    subject.add("name", designation.name)
    names = list(designation.names.all())
    for name in names:
        if name.full_name == designation.name and name.kind == NameKind.PRIMARY:
            continue
        if name.kind == NameKind.FORMER:
            prop = "previousName"
        elif name.quality == NameQuality.LOW:
            prop = "weakAlias"
        else:
            prop = "alias"
        _add(subject, prop, [name.full_name])
    _add(subject, "topics", ["sanction"])
    _add(subject, "gender", [designation.gender.lower()])
    _add(subject, "title", designation.titles)
    _add(subject, "position", designation.positions)
    _add(subject, "notes", [designation.reasons])
    for birth_date in designation.birth_dates.all():
        _add(subject, "birthDate", _birth_date_values(birth_date))
    _add(subject, "birthPlace", [str(place) for place in designation.birth_places.all()])
    _add(subject, "address", [str(address) for address in designation.addresses.all()])
    countries = [nationality.country for nationality in designation.nationalities.all()]
    _add(subject, "nationality" if subject.schema.name == "Person" else "country", countries)
    _add(subject, "modifiedAt", [designation.updated_at.isoformat()])
    documents = []
    for index, identifier in enumerate(designation.identifiers.all(), start=1):
        if identifier.kind == IdentifierKind.DIGITAL_CURRENCY and identifier.number:
            documents.append(_wallet_entity(subject, identifier, index))
            continue
        prop = IDENTIFIER_PROPERTY.get(IdentifierKind(identifier.kind))
        if prop:
            _add(subject, prop, [identifier.number])
        if identifier.number and identifier.kind in (
            IdentifierKind.PASSPORT,
            IdentifierKind.NATIONAL_ID,
        ):
            documents.append(_identifier_entity(subject, identifier, index))
    yield subject

    sanction = model.make_entity("Sanction")
    sanction.id = f"{subject.id}-sanction"
    sanction.add("entity", subject.id)
    sanction.add("authority", designation.owner.name)
    sanction.add("program", designation.regime.name or designation.regime.code)
    sanction.add("programId", designation.regime.code)
    _add(sanction, "reason", [designation.reasons])
    _add(sanction, "provisions", designation.measures)
    _add(sanction, "listingDate", [designation.listed_on and designation.listed_on.isoformat()])
    _add(sanction, "startDate", [designation.listed_on and designation.listed_on.isoformat()])
    _add(sanction, "endDate", [designation.delisted_on and designation.delisted_on.isoformat()])
    _add(sanction, "status", [designation.get_status_display()])
    _add(sanction, "recordId", [designation.reference_number])
    source = getattr(designation, "source", None)
    if source is not None and source.publisher == Publisher.UN:
        _add(sanction, "unscId", [source.reference_number])
    elif source is not None:
        # Another list's reference to the UN entry (UK "UN Ref", EU unitedNationId).
        refs = [r.removeprefix("un:") for r in source.cross_references if r.startswith("un:")]
        _add(sanction, "unscId", refs)
    _add(sanction, "modifiedAt", [designation.updated_at.isoformat()])
    yield sanction
    yield from documents


def ftm_lines(designations: Iterable[Designation]) -> Iterator[bytes]:
    for designation in designations:
        for entity in ftm_entities(designation):
            yield json.dumps(entity.to_dict(), ensure_ascii=False).encode() + b"\n"


CSV_COLUMNS = [
    "id",
    "version",
    "owner",
    "regime",
    "reference_number",
    "subject_kind",
    "status",
    "marking",
    "name",
    "aliases",
    "birth_dates",
    "birth_places",
    "nationalities",
    "addresses",
    "identifiers",
    "listed_on",
    "delisted_on",
    "updated_at",
]
# Several values in one cell, as the UK and OFAC CSV lists do; "; " never occurs in a name
# in the lists we import, and a cell is still one field for a spreadsheet.
MULTI = "; "


def _csv_row(designation: Designation) -> list[object]:
    def birth(birth_date: BirthDate) -> str:
        text = " to ".join(_birth_date_values(birth_date))
        return f"circa {text}" if birth_date.kind == BirthDateKind.APPROXIMATE else text

    return [
        designation.pk,
        designation.version,
        designation.owner.code,
        designation.regime.code,
        designation.reference_number,
        designation.subject_kind,
        designation.status,
        designation.marking,
        designation.name,
        MULTI.join(n.full_name for n in designation.names.all() if n.kind != NameKind.PRIMARY),
        MULTI.join(birth(b) for b in designation.birth_dates.all()),
        MULTI.join(str(p) for p in designation.birth_places.all()),
        MULTI.join(n.country for n in designation.nationalities.all()),
        MULTI.join(str(a) for a in designation.addresses.all()),
        MULTI.join(
            f"{i.get_kind_display()}: {i.number}"
            + (f" ({country})" if (country := i.issuing_country or i.country_of_issue) else "")
            for i in designation.identifiers.all()
        ),
        designation.listed_on or "",
        designation.delisted_on or "",
        designation.updated_at.isoformat(),
    ]


def _neutralised(value: object) -> str:
    """A cell a spreadsheet would run as a formula (=, +, -, @) is prefixed with an apostrophe
    (OWASP CSV injection): list data comes from other authorities and must not execute."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_stream(header: list[str], rows: Iterable[list[object]]) -> Iterator[bytes]:
    """A CSV file as it is written, one row at a time (for a streamed response): a
    byte-order mark so that spreadsheet programs read the UTF-8 (Arabic, Cyrillic) right, and
    every cell neutralised against formulas."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> bytes:
        data = buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()
        return data

    writer.writerow(header)
    yield b"\xef\xbb\xbf" + flush()
    for row in rows:
        writer.writerow([_neutralised(value) for value in row])
        yield flush()


def csv_lines(designations: Iterable[Designation]) -> Iterator[bytes]:
    return csv_stream(CSV_COLUMNS, (_csv_row(designation) for designation in designations))
