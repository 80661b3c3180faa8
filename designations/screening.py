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

from designations.matching import PHONETIC_WEIGHT, STOP_WORDS, comparable, phonetic, sound_of

DEFAULT_THRESHOLD = 88.0
# A word shared by more names than this is too common to find candidates by on its own.
SINGLE_KEY_LIMIT = 200
# Names with more words than this contribute pairs of their first words only (a long
# organisation name would otherwise index hundreds of pairs).
PAIR_WORDS = 6
EDGE_WORDS = 4  # words whose first and last letters make typo-tolerant pairs
SUBSET_WEIGHT = 0.95  # all words of the shorter name found in the longer: a little less sure
COVERAGE = 0.6  # ... and they must be most of the longer name's telling words
COVER_RATIO = 80  # a word of one "is" a word of the other from this similarity (typos)


@dataclass(frozen=True)
class Match:
    key: Hashable  # what the caller indexed the name under (a designation id)
    name: str
    score: float
    explanation: dict[str, Any] = field(default_factory=dict)


def _words(name: str) -> list[str]:
    """The words a name is found by (folded spellings): its telling words, or all of them
    where it has fewer than two ("Abu Hasan", "Al Rahman")."""
    words = [w for w in comparable(name).split() if len(w) > 1]
    telling = [w for w in words if w not in STOP_WORDS]
    return telling if len(set(telling)) >= 2 else words


def _keys(name: str, *, query: bool = False) -> tuple[set[tuple[str, str]], set[str]]:
    """(pair keys, single keys) of a name. Pairs: the sounds of two of its words, and, so
    that a typo in one word still finds it, the first or last three letters of one word with
    the sound of another. Singles: each word's sound and spelling."""
    words = _words(name)
    sounds = [sound_of(w) for w in words]
    pairs = set(itertools.combinations(sorted(set(sounds[:PAIR_WORDS])), 2))
    # Names carry these for their first words; a query uses them only when it has just two
    # words (with three or more, two words without the typo remain).
    two_words = len(set(sounds)) == 2
    edged = (words if two_words else []) if query else words[:EDGE_WORDS]
    for i, word in enumerate(edged):
        if len(word) < 4:
            continue
        for j, sound in enumerate(sounds[:EDGE_WORDS]):
            if i != j:
                pairs.add(("^" + word[:3], sound))
                pairs.add(("$" + word[-3:], sound))
    singles = set(sounds) | {"=" + w for w in words}
    return pairs, singles


def covers(query: str, name: str) -> bool:
    """Whether the shorter of two names (comparable forms) has two telling words or more and
    they stand for most of the longer one's: "Jamil Haqqani" covers "Jamil Abdul Rahman
    Haqqani"; "Korea Trading" does not cover "Korea Daeryonggang Trading Corporation"."""
    shorter, longer = sorted(
        ([w for w in text.split() if w not in STOP_WORDS] for text in (query, name)), key=len
    )
    if len(shorter) < 2 or not longer:
        return False
    found = sum(1 for w in longer if any(fuzz.ratio(w, v) >= COVER_RATIO for v in shorter))
    return found / len(longer) >= COVERAGE


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
            pairs, singles = _keys(name)
            if not singles:
                continue
            row = len(self.names)
            self.keys.append(key)
            self.names.append(name)
            self.spelt.append(comparable(name))
            self.sound.append(phonetic(name))
            for pair in pairs:
                self.pairs[pair].append(row)
            for single in singles:
                self.singles[single].append(row)

    def __len__(self) -> int:
        return len(self.names)

    def candidates(self, query: str) -> set[int]:
        pairs, singles = _keys(query, query=True)
        found: set[int] = set()
        for pair in pairs:
            found.update(self.pairs.get(pair, ()))
        if not pairs or not found:
            # One word, or no two words in common: the rarer words alone.
            for single in singles:
                rows = self.singles.get(single, ())
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
        # can reach the threshold; the best of the three counts: spelling with words in any
        # order, sound, and all words of the shorter name (two or more) in the longer one.
        q_spelt, q_sound = comparable(query), phonetic(query)
        scored: dict[int, tuple[float, str]] = {}

        def keep(choices: list[str], scorer: Any, weight: float, how: str) -> None:
            for choice, value, i in process.extract(
                q_spelt if how != "sound" else q_sound,
                choices,
                scorer=scorer,
                score_cutoff=threshold / weight,
                limit=None,
            ):
                value *= weight
                if value <= scored.get(i, (0.0, ""))[0]:
                    continue
                # Words contained count only where the shorter name stands for most of the
                # longer (checked on the few that pass, not on every candidate).
                if how == "words contained" and not covers(q_spelt, choice):
                    continue
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
