"""The designation data format: one plain-JSON dict holding a designation's whole content.

It is what importers produce, what services accept, what a history row stores as its snapshot,
and (later) what the sync feed carries, so that all of them agree on what "the same content" is.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from django.db import models

from designations.models import (
    Address,
    BirthDate,
    BirthPlace,
    Designation,
    Identifier,
    Name,
    Nationality,
)
from designations.names import normalize_name

SCALAR_FIELDS = (
    "subject_kind",
    "name",
    "legal_basis",
    "reference_number",
    "gender",
    "titles",
    "positions",
    "measures",
    "reasons",
    "listed_on",
    "source_updated_on",
)
STATE_FIELDS = ("status", "marking", "delisted_on")
DATE_FIELDS = {"listed_on", "delisted_on"}

# Each list in the data format, the model that stores it, and the fields it carries.
CHILDREN: dict[str, tuple[type[models.Model], tuple[str, ...]]] = {
    "names": (
        Name,
        ("kind", "full_name", "parts", "quality", "script", "birth_date", "birth_place", "note"),
    ),
    "birth_dates": (BirthDate, ("kind", "date", "year", "from_year", "to_year", "note")),
    "birth_places": (
        BirthPlace,
        ("street", "city", "state_province", "postal_code", "country", "note"),
    ),
    "addresses": (
        Address,
        ("street", "city", "state_province", "postal_code", "country", "note"),
    ),
    "nationalities": (Nationality, ("country", "note")),
    "identifiers": (
        Identifier,
        (
            "kind",
            "type_detail",
            "number",
            "issuing_country",
            "country_of_issue",
            "city_of_issue",
            "issued_on",
            "note",
        ),
    ),
}


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def _model_value(field: str, value: Any) -> Any:
    if field in {"date", "issued_on", "listed_on", "delisted_on"} and isinstance(value, str):
        return dt.date.fromisoformat(value)
    return value


def designation_data(designation: Designation, *, with_audience: bool = True) -> dict[str, Any]:
    """The designation's current content, from the database, in the data format. The
    audience (this node's grants) is left out of what goes to other nodes."""
    data: dict[str, Any] = {
        field: _json_value(getattr(designation, field)) for field in SCALAR_FIELDS + STATE_FIELDS
    }
    data["regime"] = designation.regime.code
    from sharing.grants import audience_snapshot  # the sharing core sits above this module

    if with_audience:
        data["audience"] = audience_snapshot(designation)
    for key, (_model, fields) in CHILDREN.items():
        data[key] = [
            {field: _json_value(getattr(row, field)) for field in fields}
            for row in getattr(designation, key).all()
        ]
    return data


def designations_data(designations: list[Designation]) -> dict[Any, dict[str, Any]]:
    """designation_data(d, with_audience=False) for many designations (regime selected), by
    id: one query per list for all of them, without building a model instance per row (the
    sync feed serves hundreds at a time)."""
    lists: dict[str, dict[Any, list[dict[str, Any]]]] = {}
    ids = [designation.pk for designation in designations]
    for key, (model, fields) in CHILDREN.items():
        rows = lists[key] = {pk: [] for pk in ids}
        for row in model.objects.filter(designation_id__in=ids).values("designation_id", *fields):
            rows[row["designation_id"]].append({field: _json_value(row[field]) for field in fields})
    data = {}
    for designation in designations:
        one = {
            field: _json_value(getattr(designation, field))
            for field in SCALAR_FIELDS + STATE_FIELDS
        }
        one["regime"] = designation.regime.code
        for key in CHILDREN:
            one[key] = lists[key][designation.pk]
        data[designation.pk] = one
    return data


def apply_scalars(designation: Designation, data: dict[str, Any]) -> None:
    """Copy the data's single-valued fields onto the (unsaved) designation."""
    for field in SCALAR_FIELDS + STATE_FIELDS:
        if field in data:
            setattr(designation, field, _model_value(field, data[field]))


def child_rows(designation: Designation, data: dict[str, Any]) -> list[models.Model]:
    """Unsaved rows for the data's lists, ready for bulk_create."""
    rows: list[models.Model] = []
    for key, (model, fields) in CHILDREN.items():
        for item in data.get(key, []):
            # Missing keys take the model's defaults; None in a text field means empty.
            values = {field: _model_value(field, item[field]) for field in fields if field in item}
            values = {k: ("" if v is None and _is_text(model, k) else v) for k, v in values.items()}
            if model is Name:
                values["normalized"] = normalize_name(values["full_name"])[:500]
            rows.append(model(designation=designation, **values))
    return rows


def _is_text(model: type[models.Model], field: str) -> bool:
    return isinstance(model._meta.get_field(field), models.CharField | models.TextField)


def changed_fields(old: dict[str, Any] | None, new: dict[str, Any]) -> list[str]:
    if old is None:
        return sorted(new)
    return sorted(key for key in set(old) | set(new) if old.get(key) != new.get(key))


def content_hash(value: Any) -> str:
    encoded = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(encoded.encode()).hexdigest()
