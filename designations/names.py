"""Name normalisation and script detection, shared by import, search and (later) matching."""

from __future__ import annotations

import re
import unicodedata

_NON_WORD = re.compile(r"[^\w]+|_", re.UNICODE)

# Unicode character-name prefixes to ISO 15924 codes, for the scripts sanctions lists use.
_SCRIPTS = {
    "LATIN": "Latn",
    "ARABIC": "Arab",
    "CYRILLIC": "Cyrl",
    "CJK": "Hani",
    "HANGUL": "Hang",
    "GREEK": "Grek",
    "HEBREW": "Hebr",
    "DEVANAGARI": "Deva",
    "THAI": "Thai",
    "GEORGIAN": "Geor",
    "ARMENIAN": "Armn",
    "ETHIOPIC": "Ethi",
    "MYANMAR": "Mymr",
    "KHMER": "Khmr",
    "HIRAGANA": "Jpan",
    "KATAKANA": "Jpan",
}


def normalize_name(value: str) -> str:
    """Lower case, accents and punctuation removed, single spaces: what name search compares."""
    decomposed = unicodedata.normalize("NFKD", value.casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(_NON_WORD.sub(" ", stripped).split())


def detect_script(value: str) -> str:
    """ISO 15924 code of the first letter's script, '' when there is no letter."""
    for char in value:
        if char.isalpha():
            prefix = unicodedata.name(char, "").split(" ", 1)[0]
            return _SCRIPTS.get(prefix, "Zyyy")
    return ""
