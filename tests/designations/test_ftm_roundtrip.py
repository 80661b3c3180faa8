"""Our FollowTheMoney export, imported again, gives the same designations: the same subjects
with the same names, birth dates, nationalities, identifiers, references and regimes, and an
export of the re-imported designations equal to the first export."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from agencies.models import Agency, User
from agencies.services import agency_create
from designations.exports import _birth_date_values, ftm_lines
from designations.formats import ListFormatError
from designations.imports import import_list
from designations.models import Designation, ListPublication, SourceEntry
from designations.reconcile import reconcile
from designations.selectors import DesignationFilters, designations_for_export
from tests.conftest import SHARED_DATA, UN_EXCERPT

pytestmark = pytest.mark.django_db
WHEN = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def export(agency: Agency, path: Path) -> Path:
    reader = User.objects.filter(is_superuser=True).first() or User.objects.create_superuser(
        "exporter", password="x" * 20
    )
    filters = DesignationFilters(agency=agency.code)
    with path.open("wb") as out:
        for line in ftm_lines(designations_for_export(user=reader, filters=filters)):
            out.write(line)
    return path


def comparable(designation: Designation) -> dict:
    """What FtM carries of a designation (names by what they are to a reader: the primary
    name, other names, weak and former ones; countries by their code)."""
    from followthemoney.types import registry

    def kind(name) -> str:  # type: ignore[no-untyped-def]
        if name.kind == "primary":
            return "primary"
        return "former" if name.kind == "former" else ("weak" if name.quality == "low" else "alias")

    return {
        "kind": designation.subject_kind,
        # FtM cleans names as it reads them (surrounding quotes and spaces go).
        "name": registry.name.clean(designation.name),
        "names": sorted(
            {(kind(n), registry.name.clean(n.full_name)) for n in designation.names.all()}
        ),
        "reference": designation.reference_number,
        "regime": designation.regime.code,
        "listed_on": designation.listed_on,
        "reasons": registry.text.clean(designation.reasons) or "",
        "gender": designation.gender,
        # FtM properties are sets: a value the source repeats travels once.
        "titles": sorted(set(designation.titles)),
        "positions": sorted(set(designation.positions)),
        # FtM dates are prefixes: a range of years travels as its two ends.
        "birth": sorted({v for b in designation.birth_dates.all() for v in _birth_date_values(b)}),
        # ... and cleans addresses (separators, spaces).
        "places": sorted({registry.string.clean(str(p)) for p in designation.birth_places.all()}),
        "addresses": sorted({registry.address.clean(str(a)) for a in designation.addresses.all()}),
        "countries": sorted(
            {
                registry.country.clean(n.country) or n.country
                for n in designation.nationalities.all()
            }
        ),
        # An identifier the source gives without a number (a note only) has nothing to travel.
        # FtM writes IMO numbers its own way (IMO9187629): the same number.
        "identifiers": sorted(
            {
                (i.kind, i.number.removeprefix("IMO") if i.kind == "imo" else i.number)
                for i in designation.identifiers.all()
                if i.number
            }
        ),
    }


def entities_without_ids(path: Path) -> list[str]:
    """The export's entities, minus what differs by construction: ids, the authority (another
    agency now holds them) and modification times."""
    kept = []
    for line in path.read_text(encoding="utf-8").splitlines():
        entity = json.loads(line)
        props = {
            k: sorted(v)
            for k, v in entity["properties"].items()
            if k not in {"entity", "holder", "authority", "modifiedAt"}
        }
        kept.append(json.dumps([entity["schema"], props], sort_keys=True))
    return sorted(kept)


def roundtrip(list_path: Path, tmp_path: Path, local_node) -> tuple[Agency, Agency]:  # type: ignore[no-untyped-def]
    unsc = Agency.objects.get(code="UNSC")
    import_list(publisher="un", path=list_path, agency=unsc)
    mirror = agency_create(code="MIR", name="Mirror", jurisdiction="XX", home_node=local_node)
    first = export(unsc, tmp_path / "first.ftm.json")
    result = import_list(publisher="ftm", path=first, agency=mirror, generated_at=WHEN)
    assert result.added == Designation.objects.filter(owner=unsc).count()
    for original in Designation.objects.filter(owner=unsc):
        copy = SourceEntry.objects.get(publisher="ftm", source_id=f"sx-{original.pk}").designation
        assert comparable(copy) == comparable(original), original.reference_number
    second = export(mirror, tmp_path / "second.ftm.json")
    assert entities_without_ids(second) == entities_without_ids(first)
    return unsc, mirror


def test_the_excerpt_comes_back_the_same(unsc, local_node, tmp_path) -> None:
    _, mirror = roundtrip(UN_EXCERPT, tmp_path, local_node)
    # Re-importing the same export changes nothing; the UN reference links each copy.
    again = import_list(publisher="ftm", path=tmp_path / "first.ftm.json", agency=mirror)
    assert again.already_imported
    result = reconcile()
    assert result.by_method["reference"] == Designation.objects.filter(owner=mirror).count()


def test_the_whole_2026_un_list_comes_back_the_same(unsc, local_node, tmp_path) -> None:
    path = SHARED_DATA / "un" / "consolidated_2026-02-27.xml"
    if not path.exists():
        pytest.skip("needs the real list in ../shared/data")
    roundtrip(path, tmp_path, local_node)
    assert Designation.objects.filter(owner__code="MIR").count() == 1003


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ('{"id": "x", "schema": "Person"', "not an FtM entity"),
        ('{"id": "x", "schema": "Unicorn", "properties": {}}', "not an FtM entity"),
        ('{"schema": "Person", "properties": {"name": ["A"]}}', "has no id"),
        ('{"id": "p", "schema": "Person", "properties": {"name": ["A"]}}', "no Sanction"),
        (
            '{"id": "p", "schema": "Person", "properties": '
            '{"name": ["A"], "birthDate": ["1960-02-31"]}}\n'
            '{"id": "s", "schema": "Sanction", "properties": {"entity": ["p"]}}',
            "birthDate '1960-02-31' is not a valid date",
        ),
        (
            '{"id": "p", "schema": "Person", "properties": {"name": ["A"]}}\n'
            '{"id": "s", "schema": "Sanction", "properties": {"entity": ["p"]}}\n'
            '{"id": "q", "schema": "Person", "properties": {"name": ["B"]}}\n'
            '{"id": "t", "schema": "Sanction", "properties": {"entity": ["q"]}}\n'
            '{"id": "d", "schema": "Passport", "properties": {"holder": ["p"], "number": ["1"]}}',
            "write each subject's entities together",
        ),
        ('{"id": "p", "schema": "Person", "properties": {"name": "Abc"}}', "a list of values"),
        (
            '{"id": "p", "schema": "Person", "properties": {"name": ["A"], '
            '"birthDate": ["yesterday"]}}',
            "not a valid date",
        ),
        ('{"id": "' + "x" * 70 + '", "schema": "Person", "properties": {}}', "over 64"),
        (
            '{"id": "p", "schema": "Person", "properties": {"name": ["' + "N" * 501 + '"]}}\n'
            '{"id": "s", "schema": "Sanction", "properties": {"entity": ["p"]}}',
            "longer than 500 characters",
        ),
    ],
)
def test_bad_files_are_refused_and_write_nothing(unsc, tmp_path, lines, message) -> None:
    path = tmp_path / "bad.ftm.json"
    path.write_text(lines + "\n", encoding="utf-8")
    with pytest.raises(ListFormatError, match=message):
        import_list(publisher="ftm", path=path, agency=unsc, generated_at=WHEN)
    assert not Designation.objects.exists() and not ListPublication.objects.exists()


def test_wallets_vessels_and_aircraft_travel_as_valid_ftm(
    alice, agency_a, local_node, tmp_path
) -> None:
    from designations.models import Regime
    from designations.services import designation_create
    from tests.api.test_exports import valid_entities

    regime = Regime.objects.create(owner=agency_a, code="CYBER", name="Cyber")
    for kind, name, identifiers in [
        (
            "person",
            "Ivan Walletov",
            [
                {
                    "kind": "digital_currency",
                    "number": "bc1qexamplewalletaddress000000000000",
                    "type_detail": "XBT",
                }
            ],
        ),
        ("vessel", "Sea Wind", [{"kind": "imo", "number": "9187629"}]),
        ("aircraft", "Tail EP-ABC", [{"kind": "registration", "number": "EP-ABC"}]),
        ("organisation", "Front Company LLC", [{"kind": "bic", "number": "ABCDRUMM"}]),
    ]:
        designation_create(
            actor=alice,
            regime=regime,
            marking="CLEAR",
            data={"name": name, "subject_kind": kind, "identifiers": identifiers},
        )
    path = export(agency_a, tmp_path / "a.ftm.json")
    entities = valid_entities(path.read_bytes())
    assert sorted(e.schema.name for e in entities) == [
        "Airplane",
        "CryptoWallet",
        "Organization",
        "Person",
        "Sanction",
        "Sanction",
        "Sanction",
        "Sanction",
        "Vessel",
    ]
    mirror = agency_create(code="MIR", name="Mirror", jurisdiction="XX", home_node=local_node)
    import_list(publisher="ftm", path=path, agency=mirror, generated_at=WHEN)
    for original in Designation.objects.filter(owner=agency_a):
        copy = SourceEntry.objects.get(publisher="ftm", source_id=f"sx-{original.pk}").designation
        assert comparable(copy) == comparable(original)
    wallet = Designation.objects.get(owner=mirror, name="Ivan Walletov").identifiers.get()
    assert (wallet.kind, wallet.type_detail) == ("digital_currency", "XBT")


def test_ftm_datasets_as_published_are_read(unsc, tmp_path) -> None:
    """Month-precision birth dates and a subject with one lifted and one standing sanction."""
    path = tmp_path / "dataset.ftm.json"
    path.write_bytes(
        b'{"id": "p", "schema": "Person", "properties": {"name": ["Ana Pop"], '
        b'"birthDate": ["1970-05"]}}\n'
        b'{"id": "s1", "schema": "Sanction", "properties": {"entity": ["p"], '
        b'"status": ["Delisted"]}}\n'
        b'{"id": "s2", "schema": "Sanction", "properties": {"entity": ["p"], '
        b'"programId": ["EU-RUS"], "program": ["Russia"]}}\n'
    )
    result = import_list(publisher="ftm", path=path, agency=unsc, generated_at=WHEN)
    assert result.added == 1
    person = Designation.objects.get()
    birth = person.birth_dates.get()
    assert (birth.year, birth.note) == (1970, "month given: 1970-05")
    assert (person.regime.code, person.regime.name) == ("EU-RUS", "Russia")
    bad = tmp_path / "latin1.ftm.json"
    bad.write_bytes(
        '{"id": "p", "schema": "Person", "properties": {"name": ["Jos\xe9"]}}\n'.encode("latin-1")
    )
    with pytest.raises(ListFormatError, match="not UTF-8"):
        import_list(publisher="ftm", path=bad, agency=unsc, generated_at=WHEN)
