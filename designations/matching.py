"""Name matching: whether two designations name the same subject, from names (any script or
transliteration), birth data and nationality.

Names are compared in Latin letters (rigour's transliteration), without honorifics, case,
accents or punctuation; word order does not count. Candidate pairs come from a token index
over phonetic keys (so "Mohammed" meets "Muhammad") limited to tokens that few designations
share; only those pairs are scored, with rapidfuzz.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from rapidfuzz import fuzz
from rigour.names import remove_person_prefixes
from rigour.text import ascii_text, metaphone

from designations.models import (
    BirthDate,
    Designation,
    Identifier,
    IdentifierKind,
    LinkMethod,
    LinkStatus,
    Name,
    Nationality,
)
from designations.names import normalize_name

# A token more designations than this share ("mohammed", "al", "company") finds too many
# pairs to be worth scoring on its own.
BLOCK_LIMIT = 60
CANDIDATE = 88.0  # name similarity (0-100) from which a pair is worth a reviewer's look
CERTAIN = 96.0  # ... and from which, with the same full birth date, it is certain
# Words too common in names to tell them apart ("Abu Bakr al-Baghdadi": bakr, baghdadi).
STOP_WORDS = {"al", "el", "bin", "ibn", "abu", "abd", "abdul", "de", "the", "of", "and"}
_STOP = STOP_WORDS
# Honorifics and ranks that lists and payment messages add or leave out (rigour removes the
# Western ones: Mr, Mrs, Dr, ...).
HONORIFICS = {
    "haji", "hajji", "hadji", "alhaj", "alhaji", "sheikh", "shaikh", "sheik", "mullah", "mulla",
    "maulvi", "mawlawi", "maulana", "mawlana", "qari", "mufti", "sayed", "sayyid", "syed",
    "general", "gen", "colonel", "col", "brigadier", "major", "captain", "capt", "lieutenant",
    "prof", "professor", "dr", "doctor", "mr", "mrs", "ms", "sir", "hon",
}  # fmt: skip


@lru_cache(maxsize=500_000)
def comparable(name: str) -> str:
    """A name as compared: Latin letters, no honorifics, lower case, the spellings that
    transliteration systems disagree on folded together, words sorted."""
    latin = ascii_text(remove_person_prefixes(name)) or name
    words = normalize_name(latin).split()
    kept = [w for w in words if w not in HONORIFICS] or words
    return " ".join(sorted(_fold(w) for w in kept))


# Spellings of one sound across transliteration systems (Russian, French, English of Arabic
# and Persian names): Dzhamil / Djamil / Jamil, Yassin / Iassin, Youssef / Yusuf, Seif / Sayf,
# Rakhman / Rahman (Russian has no h), Haqqani / Hakkani.
_FOLDS = [("dzh", "j"), ("dj", "j"), ("zh", "j"), ("kh", "h"), ("q", "k"), ("y", "i"),
          ("ou", "u"), ("oo", "u"), ("ee", "i"), ("ph", "f"), ("ei", "ai")]  # fmt: skip


def _fold(word: str) -> str:
    for spelling, folded in _FOLDS:
        word = word.replace(spelling, folded)
    return word


def sound_of(token: str) -> str:
    key = metaphone(token) or token
    # Transliterations disagree most on first vowels (Omar, Umar): any one stands for all.
    return "A" + key[1:] if key[0] in "AEIOU" else key


@lru_cache(maxsize=500_000)
def sound_keys(name: str, *, keep_common: bool = False) -> list[str]:
    """Sound keys of the name's telling words (not "al", "bin", single letters; with
    `keep_common`, "al" and "bin" too)."""
    return [
        sound_of(t)
        for t in comparable(name).split()
        if len(t) > 1 and (keep_common or t not in _STOP)
    ]


def phonetic_tokens(name: str) -> frozenset[str]:
    return frozenset(sound_keys(name))


@lru_cache(maxsize=500_000)
def phonetic(name: str) -> str:
    """The name as sounds: metaphone keys of its words, sorted ("Muhammad Umar" and
    "Mohammed Omar" sound alike)."""
    return " ".join(sorted(sound_of(token) for token in comparable(name).split()))


# Sounding alike is weaker than being spelt alike: it counts for a little less.
PHONETIC_WEIGHT = 0.95


# Names shorter than this (acronyms: "IMU", "JUD") say too little to match on.
MIN_LETTERS = 5


def matchable(name: str) -> bool:
    return sum(c.isalpha() for c in comparable(name)) >= MIN_LETTERS


def similarity(a: str, b: str) -> tuple[float, float]:
    """(spelling, sound) similarity 0-100 of two names. Sound counts only for names of two
    words or more: one short word sounds like too many others."""
    left, right = comparable(a), comparable(b)
    spelt = fuzz.token_sort_ratio(left, right)
    if " " not in left or " " not in right:
        return spelt, 0.0
    return spelt, fuzz.ratio(phonetic(a), phonetic(b)) * PHONETIC_WEIGHT


@dataclass
class Profile:
    """What matching knows of one designation."""

    owner_id: Any
    kind: str
    names: list[str] = field(default_factory=list)
    dates: set[dt.date] = field(default_factory=set)
    years: set[int] = field(default_factory=set)
    countries: set[str] = field(default_factory=set)
    # IMO and registration numbers (digits only): two ships or companies that both carry one
    # and share none are two subjects, however alike their names.
    hulls: set[str] = field(default_factory=set)


def profiles(designation_ids: Iterable[Any] | None = None) -> dict[Any, Profile]:
    """What matching knows of these designations (None: all)."""
    designations = Designation.objects.all()
    ids = None if designation_ids is None else list(designation_ids)

    def of(model: type[Any]) -> Any:
        rows = model.objects.all()
        return rows if ids is None else rows.filter(designation_id__in=ids)

    if ids is not None:
        designations = designations.filter(pk__in=ids)
    found = {
        pk: Profile(owner_id=owner_id, kind=kind)
        for pk, owner_id, kind in designations.values_list("pk", "owner_id", "subject_kind")
    }
    for designation_id, full_name in of(Name).values_list("designation_id", "full_name"):
        if designation_id in found and matchable(full_name):
            found[designation_id].names.append(full_name)
    births = of(BirthDate).values_list("designation_id", "date", "year", "from_year", "to_year")
    for designation_id, date, year, from_year, to_year in births:
        profile = found.get(designation_id)
        if profile is None:
            continue
        if date:
            profile.dates.add(date)
            profile.years.add(date.year)
        elif year:
            profile.years.add(year)
        elif from_year and to_year and 0 <= to_year - from_year <= 15:
            profile.years.update(range(from_year, to_year + 1))
    from designations.reconcile import country_code  # the same country reading as identifiers

    for designation_id, country in of(Nationality).values_list("designation_id", "country"):
        if designation_id in found and country:
            found[designation_id].countries.add(country_code(country))
    strong = of(Identifier).filter(kind__in=[IdentifierKind.IMO, IdentifierKind.REGISTRATION])
    for designation_id, kind, number in strong.values_list("designation_id", "kind", "number"):
        digits = "".join(c for c in number if c.isdigit())
        if designation_id in found and digits:
            found[designation_id].hulls.add(f"{kind}:{digits}")
    return found


def _kinds_compatible(a: str, b: str) -> bool:
    # Lists disagree on entity kinds (an "entity" in one is a "vessel" in another), never on
    # whether a subject is a person.
    return (a == "person") == (b == "person")


def judge(a: Profile, b: Profile) -> tuple[str, float, dict[str, Any]] | None:
    """(status, score 0-1, explanation) for a pair, or None when it is not worth a look."""
    for kind in ("imo:", "registration:"):
        mine = {h for h in a.hulls if h.startswith(kind)}
        theirs = {h for h in b.hulls if h.startswith(kind)}
        if mine and theirs and not mine & theirs:
            return None  # both numbered, differently: two ships (or companies) of one name
    best, spelt_best, best_names = 0.0, 0.0, ("", "")
    for name_a in a.names:
        for name_b in b.names:
            spelt, sound = similarity(name_a, name_b)
            spelt_best = max(spelt_best, spelt)
            if max(spelt, sound) > best:
                best, best_names = max(spelt, sound), (name_a, name_b)
    if best < CANDIDATE:
        return None
    explanation: dict[str, Any] = {"names": list(best_names), "name_score": round(best, 1)}
    if spelt_best < best:
        explanation["sounds_alike"] = True
    person = a.kind == "person" and b.kind == "person"
    if person and a.years and b.years and not a.years & b.years:
        return None  # different birth years: different people with similar names
    same_dates = sorted(d.isoformat() for d in a.dates & b.dates)
    same_years = sorted(a.years & b.years)
    # Both give full dates of birth and none agrees: a clerical variant or another person.
    dates_differ = bool(a.dates and b.dates and not same_dates)
    if same_dates:
        explanation["birth_dates"] = same_dates
    elif same_years:
        explanation["birth_years"] = same_years[:3]
    if dates_differ:
        explanation["birth_dates"] = "differ"
    shared_countries: list[str] = []
    if a.countries and b.countries:
        shared_countries = sorted(a.countries & b.countries)
        explanation["nationalities"] = shared_countries or "differ"
    score = best / 100
    if person:
        # Certain: the same name as written, and the same date of birth, or (where the lists
        # give only years) the same years and nationality.
        born_alike = bool(same_dates) or (
            bool(same_years)
            and bool(shared_countries)
            and not a.dates & b.dates
            and not dates_differ
        )
        certain = spelt_best >= CERTAIN and born_alike
        score = min(1.0, score + (0.05 if same_dates else 0.02 if same_years else 0))
        if dates_differ:
            score -= 0.05
    else:
        certain = spelt_best >= 99.5 and explanation.get("nationalities") != "differ"
    if explanation.get("nationalities") == "differ":
        score -= 0.05
        certain = False
    return (LinkStatus.LINKED if certain else LinkStatus.CANDIDATE), round(score, 3), explanation


def name_candidates(scope: set[Any] | None = None) -> dict[tuple[Any, Any], Any]:
    """Evidence from names for pairs of designations of different agencies."""
    from designations.reconcile import Evidence, pair

    everyone = profiles()
    index: dict[str, set[Any]] = defaultdict(set)
    for pk, profile in everyone.items():
        for name in profile.names:
            for token in phonetic_tokens(name):
                index[token].add(pk)
    pairs: set[tuple[Any, Any]] = set()
    for holders in index.values():
        if len(holders) < 2 or len(holders) > BLOCK_LIMIT:
            continue
        ordered = sorted(holders, key=str)
        for i, a in enumerate(ordered):
            for b in ordered[i + 1 :]:
                if scope is None or a in scope or b in scope:
                    pairs.add((a, b))
    found = {}
    for a, b in pairs:
        left, right = everyone[a], everyone[b]
        if left.owner_id == right.owner_id or not _kinds_compatible(left.kind, right.kind):
            continue
        judged = judge(left, right)
        if judged is not None:
            status, score, explanation = judged
            found[pair(a, b)] = Evidence(LinkMethod.NAME, score, status, explanation)
    return found
