"""Screening a name (a customer, a payment's counterparty) against the designations a caller
may see: ranked matches with scores and what matched.

Names go through the in-memory index of designations.screening, built from every active
designation's names and rebuilt when they change; the gate (sharing.access) then keeps the
matches the caller may see, so nothing about other designations shows, not even a count.
Identifiers (wallet addresses, IMO numbers, passport numbers) match exactly, as the
reconciliation compares them. A birth date or nationality given with the name raises or
lowers a name match's score and says so.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Max

from designations.matching import comparable, profiles
from designations.models import Designation, DesignationStatus, Identifier, Name
from designations.reconcile import country_code, identifier_key
from designations.screening import DEFAULT_THRESHOLD, NameIndex
from sharing import access

MAX_MATCHES = 10
# Candidates taken from the index before the gate keeps the visible ones.
INDEX_DEPTH = 50
# A different birth year outweighs a name written the same: other people share names.
BIRTH_BONUS, BIRTH_PENALTY, NATIONALITY_PENALTY = 3.0, 15.0, 5.0


@dataclass
class ScreenQuery:
    name: str = ""
    birth_date: str = ""  # YYYY-MM-DD or YYYY
    nationality: str = ""
    identifiers: list[dict[str, str]] = field(default_factory=list)  # kind, number, country


@dataclass
class ScreenMatch:
    designation: Designation
    score: float
    explanation: dict[str, Any]


_lock = threading.Lock()
_cached: tuple[Any, NameIndex] | None = None


def _stamp() -> Any:
    """Changes whenever an active designation's names may have changed."""
    active = Designation.objects.filter(status=DesignationStatus.ACTIVE)
    return (active.count(), active.aggregate(latest=Max("updated_at"))["latest"])


def name_index() -> NameIndex:
    """The index of every active designation's names (this process's copy, rebuilt when a
    designation changed)."""
    global _cached
    stamp = _stamp()
    with _lock:
        if _cached is None or _cached[0] != stamp:
            rows = Name.objects.filter(designation__status=DesignationStatus.ACTIVE).values_list(
                "designation_id", "full_name"
            )
            _cached = (stamp, NameIndex(rows.iterator(chunk_size=5000)))
        return _cached[1]


def _birth(value: str) -> tuple[dt.date | None, int | None]:
    if len(value) == 10:
        date = dt.date.fromisoformat(value)
        return date, date.year
    return None, int(value) if value else None


def _identifier_matches(query: ScreenQuery) -> dict[Any, dict[str, Any]]:
    """Designation id -> the identifier that matched exactly."""
    found: dict[Any, dict[str, Any]] = {}
    for given in query.identifiers:
        kind, number = given.get("kind", ""), given.get("number", "")
        country = country_code(given.get("country", ""))
        key = identifier_key(kind, number, country or "?")
        if key is None:
            continue
        # Numbers are compared normalised (spaces, dashes, case), so in Python: the rows of one
        # kind are few (hundreds of wallets, thousands of passports).
        rows = Identifier.objects.filter(kind=kind, designation__status=DesignationStatus.ACTIVE)
        for designation_id, stored, c1, c2 in rows.values_list(
            "designation_id", "number", "country_of_issue", "issuing_country"
        ):
            stored_key = identifier_key(kind, stored, country_code(c1 or c2) or "?")
            if stored_key is None:
                continue
            same = stored_key == key or (
                # Without a country on one side, the number alone, said as such.
                kind in {"passport", "national_id"}
                and stored_key[1].split("/")[0] == key[1].split("/")[0]
                and "?" in (stored_key[1].split("/")[1], key[1].split("/")[1])
            )
            if same:
                found[designation_id] = {"kind": kind, "number": stored}
    return found


def _visible(principal: Any, ids: Any) -> dict[Any, Designation]:
    if not ids:
        return {}
    rows = access.designations_for(principal).filter(pk__in=list(ids))
    return {d.pk: d for d in rows.select_related("owner", "regime")}


def screen(
    principal: Any,
    query: ScreenQuery,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    index: NameIndex | None = None,
) -> list[ScreenMatch]:
    """`index`: name_index() taken once by a caller screening many names (a batch, an API
    request), rather than checked for changes per name."""
    index = index or name_index()
    scores: dict[Any, float] = {}
    explanations: dict[Any, dict[str, Any]] = defaultdict(dict)
    for designation_id, identifier in _identifier_matches(query).items():
        scores[designation_id] = 100.0
        explanations[designation_id]["identifier"] = identifier
    visible = _visible(principal, scores)
    if query.name.strip():
        # The index holds every active designation; the gate keeps the caller's. Where the
        # best matches are mostly hidden ones, look deeper rather than return too few.
        depth = INDEX_DEPTH
        while True:
            matches = index.search(query.name, threshold=threshold, limit=depth)
            found = _visible(principal, {m.key for m in matches} - set(visible))
            visible.update(found)
            named = [m for m in matches if m.key in visible]
            if len(named) >= MAX_MATCHES or len(matches) < depth:
                break
            depth *= 8
        for match in named:
            scores[match.key] = max(scores.get(match.key, 0.0), match.score)
            explanations[match.key]["name"] = {
                "matched": match.name,
                "score": match.score,
                "by": match.explanation["by"],
            }
    if not visible:
        return []
    known = profiles(visible)
    born_on, born_in = _birth(query.birth_date)
    nationality = country_code(query.nationality)
    results = []
    for pk, designation in visible.items():
        score, explanation = scores[pk], explanations[pk]
        profile = known[pk]
        if "identifier" not in explanation:
            if born_in and profile.years:
                if (born_on and born_on in profile.dates) or (
                    not born_on and born_in in profile.years
                ):
                    score, explanation["birth_date"] = score + BIRTH_BONUS, "same"
                elif born_in not in profile.years:
                    score, explanation["birth_date"] = score - BIRTH_PENALTY, "differs"
            if nationality and profile.countries:
                if nationality in profile.countries:
                    explanation["nationality"] = "same"
                else:
                    score, explanation["nationality"] = score - NATIONALITY_PENALTY, "differs"
            if score < threshold:
                continue
        results.append(ScreenMatch(designation, round(min(score, 100.0), 1), explanation))
    results.sort(key=lambda m: (-m.score, comparable(m.designation.name)))
    return results[:MAX_MATCHES]
