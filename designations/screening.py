"""Name screening: which listed names a given name (a customer, a payment's counterparty) may
be, ranked, with what matched.

An in-memory index over every name and alias. Names are compared as designations.matching
compares them (Latin letters, no honorifics, any word order). Candidates come from postings
of *pairs* of sound keys of a name's words, so that a query meets the names sharing two of
its words (in any order, with a middle name missing, or with a typo in a third word) rather
than every name sharing one common word ("Mohammed"); single words are used only for
one-word names or as a fallback, and only where few names share them. Only candidates are
scored (rapidfuzz), so the cost of a query grows with how many names resemble it, not with
the size of the lists.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz, process

from designations.matching import PHONETIC_WEIGHT, comparable, phonetic, sound_keys

DEFAULT_THRESHOLD = 88.0
# A word shared by more names than this is too common to find candidates by on its own.
SINGLE_KEY_LIMIT = 200
# Names with more words than this contribute pairs of their first words only (a long
# organisation name would otherwise index hundreds of pairs).
PAIR_WORDS = 6
SUBSET_WEIGHT = 0.95  # all words of the shorter name found in the longer: a little less sure


@dataclass(frozen=True)
class Match:
    key: Hashable  # what the caller indexed the name under (a designation id)
    name: str
    score: float
    explanation: dict[str, Any] = field(default_factory=dict)


def _pairs(keys: list[str]) -> set[tuple[str, str]]:
    words = sorted(set(keys[:PAIR_WORDS]))
    return set(itertools.combinations(words, 2))


def name_score(query: str, name: str) -> tuple[float, str]:
    """(0-100, how) the best of: spelling with words in any order, sound, and all words of the
    shorter name (two or more) found in the longer one."""
    q, n = comparable(query), comparable(name)
    spelt = fuzz.token_sort_ratio(q, n)
    sound = fuzz.ratio(phonetic(query), phonetic(name)) * PHONETIC_WEIGHT
    subset = 0.0
    if min(q.count(" "), n.count(" ")) >= 1:
        subset = fuzz.token_set_ratio(q, n) * SUBSET_WEIGHT
    return max((spelt, "spelling"), (sound, "sound"), (subset, "words contained"))


class NameIndex:
    """Names under keys (designation ids); `search` returns the best matching keys."""

    def __init__(self, entries: Iterable[tuple[Hashable, str]]) -> None:
        self.keys: list[Hashable] = []
        self.names: list[str] = []
        # Per name, what the scorers compare: the comparable and the sound form.
        self.spelt: list[str] = []
        self.sound: list[str] = []
        self.pairs: dict[tuple[str, str], list[int]] = defaultdict(list)
        self.singles: dict[str, list[int]] = defaultdict(list)
        for key, name in entries:
            words = sound_keys(name)
            if not words:
                continue
            row = len(self.names)
            self.keys.append(key)
            self.names.append(name)
            self.spelt.append(comparable(name))
            self.sound.append(phonetic(name))
            for pair in _pairs(words):
                self.pairs[pair].append(row)
            for word in set(words):
                self.singles[word].append(row)

    def __len__(self) -> int:
        return len(self.names)

    def candidates(self, query: str) -> set[int]:
        words = sound_keys(query)
        found: set[int] = set()
        for pair in _pairs(words):
            found.update(self.pairs.get(pair, ()))
        if len(set(words)) < 2 or not found:
            # One word, or no two words in common: the rarer words alone.
            for word in set(words):
                rows = self.singles.get(word, ())
                if len(rows) <= SINGLE_KEY_LIMIT:
                    found.update(rows)
        return found

    def search(
        self, query: str, *, threshold: float = DEFAULT_THRESHOLD, limit: int = 10
    ) -> list[Match]:
        rows = list(self.candidates(query))
        if not rows:
            return []
        # Each scorer runs over all candidates in rapidfuzz's C loop, keeping only those that
        # can reach the threshold; the best of the three counts (as name_score does).
        q_spelt, q_sound = comparable(query), phonetic(query)
        scored: dict[int, tuple[float, str]] = {}

        def keep(choices: list[str], scorer: Any, weight: float, how: str) -> None:
            for _choice, value, i in process.extract(
                q_spelt if how != "sound" else q_sound,
                choices,
                scorer=scorer,
                score_cutoff=threshold / weight,
                limit=None,
            ):
                value *= weight
                if value > scored.get(i, (0.0, ""))[0]:
                    scored[i] = (value, how)

        spelt = [self.spelt[r] for r in rows]
        keep(spelt, fuzz.token_sort_ratio, 1.0, "spelling")
        keep([self.sound[r] for r in rows], fuzz.ratio, PHONETIC_WEIGHT, "sound")
        if " " in q_spelt:
            several = [c if " " in c else "" for c in spelt]  # two words or more on both sides
            keep(several, fuzz.token_set_ratio, SUBSET_WEIGHT, "words contained")
        best: dict[Hashable, Match] = {}
        for i, (value, how) in scored.items():
            row = rows[i]
            key = self.keys[row]
            if key not in best or best[key].score < value:
                name = self.names[row]
                best[key] = Match(key, name, round(value, 1), {"name": name, "by": how})
        return sorted(best.values(), key=lambda m: (-m.score, str(m.key)))[:limit]
