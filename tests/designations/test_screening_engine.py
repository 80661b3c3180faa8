"""The name index behind screening: what it finds (and what it must not)."""

from __future__ import annotations

import pytest

from designations.screening import NameIndex

LISTED = [
    ("un:1", "Jamil Abdul Rahman Haqqani"),
    ("un:2", "DHAR, Abu"),
    ("un:3", "Saddam Hussein al-Tikriti"),
    ("ofac:4", "Korea Daeryonggang Trading Corporation"),
    ("ofac:5", "Yassin Sayyid Ahmad"),
    ("ofac:6", "Ocean Star Shipping Company"),
    ("un:7", "Abu Hasan"),
]


@pytest.fixture(scope="module")
def index() -> NameIndex:
    return NameIndex(LISTED)


@pytest.mark.parametrize(
    ("query", "expected", "how"),
    [
        ("Dzhamil Abdul Rakhman Khakkani", "un:1", None),  # Russian-style transliteration
        ("Haqqani Jamil Abdul Rahman", "un:1", "spelling"),  # word order
        ("Jamil Haqqani", "un:1", "words contained"),  # middle names missing
        ("Abu Dhaar", "un:2", None),  # a typo in the one telling word, "Abu" common
        ("Sheikh Saddam Husain al Tikriti", "un:3", None),  # honorific, spelling
        ("Korea Daeryonggang Tradng Corporation", "ofac:4", "spelling"),  # typo
        ("Iassin Saiid Akhmad", "ofac:5", None),  # French-style transliteration
        ("Hasan Abu", "un:7", "spelling"),  # two common words, swapped
    ],
)
def test_altered_names_are_found(index: NameIndex, query: str, expected: str, how) -> None:  # type: ignore[no-untyped-def]
    matches = index.search(query)
    assert matches and matches[0].key == expected, matches
    assert matches[0].score >= 88
    if how is not None:
        assert matches[0].explanation["by"] == how


@pytest.mark.parametrize(
    "query",
    [
        "Jamil Smith",  # one word in common
        "Ocean Breeze Holdings",
        "Korea Trading",  # two generic words of a longer organisation name
        "Abdul Rahman",  # two common words of a longer name
        "Saddam",  # one word
    ],
)
def test_other_names_raise_no_alert(index: NameIndex, query: str) -> None:
    assert index.search(query) == []


def test_results_are_one_per_key_best_first_and_limited() -> None:
    index = NameIndex(
        [("a", "Ivan Petrov"), ("a", "Ivan Petrof"), ("b", "Ivan Petrova"), ("c", "Ivanov Petr")]
    )
    matches = index.search("Ivan Petrov", limit=2)
    assert [m.key for m in matches] == ["a", "b"]
    assert matches[0].score == 100.0 and matches[0].name == "Ivan Petrov"
