"""Name screening: recall, precision and throughput of designations.screening against the
best brute-force rapidfuzz scan, measured in the same run on the same queries.

Names: every name and alias of the UN 2026 list and the OFAC SDN 2021 list (parsed from
../shared/data). Queries (a fixed seed): listed names altered by transliteration, word
order, a missing middle name, a typo or an added honorific (each labelled with its entry),
and as many names that are on no list (words of listed names recombined so that no listed
name has two of their words). Then the name set is grown ten-fold with generated names and
both are measured again.

    .venv/bin/python bench/screening.py [--queries 2000]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sharing.settings")

import django  # noqa: E402

django.setup()

from rapidfuzz import fuzz, process  # noqa: E402
from rapidfuzz.utils import default_process  # noqa: E402

from designations.formats import ofac, un  # noqa: E402
from designations.names import normalize_name  # noqa: E402
from designations.screening import DEFAULT_THRESHOLD, NameIndex  # noqa: E402

DATA = Path(os.getenv("DEMO_DATA_DIR", ROOT.parent / "shared" / "data"))
BRUTE_CUTOFF = 85  # the reference: token_sort_ratio at 85
TRANSLITERATIONS = [
    ("mohammed", "muhammad"), ("muhammad", "mohamed"), ("mohamed", "mohammad"),
    ("ahmed", "ahmad"), ("hussein", "husain"), ("hassan", "hasan"), ("yousef", "yusuf"),
    ("abdul", "abdel"), ("abdel", "abd al"), ("ou", "u"), ("oo", "u"), ("ee", "i"),
    ("ph", "f"), ("ei", "ey"), ("iy", "y"), ("sch", "sh"), ("tch", "ch"), ("ov", "off"),
    ("al-", "al "), ("-", " "), ("q", "k"), ("j", "dzh"), ("y", "i"), ("ai", "ay"),
]  # fmt: skip
HONORIFICS = ["Haji", "Sheikh", "Mullah", "Dr.", "Mr.", "General", "Maulvi", "Sayed"]


def listed_names() -> tuple[list[tuple[str, str]], dict[str, str]]:
    """(entry key, name) for every name and alias; entry key -> subject kind."""
    names, kinds = [], {}
    sources = [
        ("un", un.UNListParser, DATA / "un" / "consolidated_2026-02-27.xml"),
        ("ofac", ofac.parser_for(DATA / "ofac" / "sdn_2021"), DATA / "ofac" / "sdn_2021"),
    ]
    for publisher, parser_class, path in sources:
        main = parser_class.main_file(path) if hasattr(parser_class, "main_file") else path
        with main.open("rb") as stream:
            for entry in parser_class(stream, path=path):
                key = f"{publisher}:{entry.source_id}"
                kinds[key] = entry.data["subject_kind"]
                for name in entry.data["names"]:
                    if name["full_name"].strip():
                        names.append((key, name["full_name"]))
    return names, kinds


def perturb(name: str, how: str, rng: random.Random) -> str:
    words = name.split()
    if how == "transliteration":
        lowered = name.lower()
        rules = [(a, b) for a, b in TRANSLITERATIONS if a in lowered]
        for a, b in rng.sample(rules, min(len(rules), 2)):
            lowered = lowered.replace(a, b, 1)
        return lowered.title()
    if how == "order":
        shuffled = words[:]
        while len(words) > 1 and shuffled == words:
            rng.shuffle(shuffled)
        return " ".join(shuffled)
    if how == "missing middle":
        return " ".join(words[:1] + words[2:]) if len(words) >= 3 else " ".join(words[::-1])
    if how == "typo":
        long = [i for i, w in enumerate(words) if len(w) >= 4]
        i = rng.choice(long)
        word = words[i]
        j = rng.randrange(1, len(word) - 1)
        edit = rng.choice(["swap", "drop", "double", "replace"])
        if edit == "swap":
            word = word[:j] + word[j + 1] + word[j] + word[j + 2 :]
        elif edit == "drop":
            word = word[:j] + word[j + 1 :]
        elif edit == "double":
            word = word[:j] + word[j] + word[j:]
        else:
            word = word[:j] + rng.choice("aeioustrnl") + word[j + 1 :]
        words[i] = word
        return " ".join(words)
    return f"{rng.choice(HONORIFICS)} {name}"  # honorific


def evaluation_set(
    names: list[tuple[str, str]], size: int, rng: random.Random
) -> list[tuple[str, str | None, str]]:
    """(query, intended entry or None, how)."""
    usable = [
        (key, name)
        for key, name in names
        if len(normalize_name(name).split()) >= 2 and any(len(w) >= 4 for w in name.split())
    ]
    hows = ["transliteration", "order", "missing middle", "typo", "honorific"]
    queries = []
    for i, (key, name) in enumerate(rng.sample(usable, size)):
        how = hows[i % len(hows)]
        queries.append((perturb(name, how, rng), key, how))
    # Names on no list: words of listed people recombined, keeping only those that share at
    # most one word with every listed name.
    by_word: dict[str, set[int]] = defaultdict(set)
    words_of = []
    for row, (_key, name) in enumerate(names):
        words = set(normalize_name(name).split())
        words_of.append(words)
        for word in words:
            by_word[word].add(row)
    pool = [w for _k, n in usable for w in n.split() if len(w) >= 3]
    unlisted = 0
    while unlisted < size:
        candidate = " ".join(rng.sample(pool, rng.choice([2, 2, 3])))
        words = set(normalize_name(candidate).split())
        counts: dict[int, int] = defaultdict(int)
        for word in words:
            for row in by_word.get(word, ()):
                counts[row] += 1
        if len(words) >= 2 and max(counts.values(), default=0) <= 1:
            queries.append((candidate, None, "not listed"))
            unlisted += 1
    return queries


def grown(names: list[tuple[str, str]], factor: int, rng: random.Random) -> list[tuple[str, str]]:
    """The names plus (factor - 1) times as many generated ones: listed words recombined
    into new two- to four-word names, under new entry keys."""
    pool = [w for _k, n in names for w in n.split() if len(w) >= 3]
    extra = []
    for i in range((factor - 1) * len(names)):
        words = rng.sample(pool, rng.choice([2, 3, 3, 4]))
        extra.append((f"generated:{i // 2}", " ".join(words)))
    return names + extra


def score(results: list[set[str]], queries: list[tuple[str, str | None, str]]) -> dict:
    tp = fp = found = listed = 0
    for matched, (_query, intended, _how) in zip(results, queries, strict=True):
        if intended is not None:
            listed += 1
            found += intended in matched
        if matched:
            if intended is not None and intended in matched:
                tp += 1
            else:
                fp += 1
    return {
        "recall": found / listed,
        "precision": tp / (tp + fp) if tp + fp else 1.0,
        "alerts_on_unlisted": sum(
            1 for m, q in zip(results, queries, strict=True) if m and q[1] is None
        )
        / max(1, sum(1 for q in queries if q[1] is None)),
    }


_INDEX: NameIndex | None = None  # shared with forked workers


def _search_chunk(chunk: list[str]) -> list[set[str]]:
    assert _INDEX is not None
    return [{m.key for m in _INDEX.search(q)} for q in chunk]


def run_engine(names, queries) -> tuple[dict, float, float, float]:  # type: ignore[no-untyped-def]
    """(scores, queries/s on one core, queries/s on all cores, seconds to build the index)."""
    global _INDEX
    started = time.perf_counter()
    _INDEX = NameIndex(names)
    built = time.perf_counter() - started
    texts = [q for q, _i, _h in queries]
    started = time.perf_counter()
    results = _search_chunk(texts)
    one_core = len(texts) / (time.perf_counter() - started)
    # All cores, as the brute force uses them: the index is shared by fork, queries split.
    cores = os.cpu_count() or 1
    chunks = [texts[i::cores] for i in range(cores)]
    with multiprocessing.get_context("fork").Pool(cores) as pool:
        pool.map(_search_chunk, [[] for _ in range(cores)])  # the workers are up: time queries
        started = time.perf_counter()
        parts = pool.map(_search_chunk, chunks)
        all_cores = len(texts) / (time.perf_counter() - started)
    merged: list[set[str]] = [set()] * len(texts)
    for i, part in enumerate(parts):
        merged[i::cores] = part
    assert merged == results  # the same answers either way
    return score(results, queries), one_core, all_cores, built


def run_bruteforce(names, queries) -> tuple[dict, float]:  # type: ignore[no-untyped-def]
    keys = [key for key, _n in names]
    choices = [default_process(n) for _k, n in names]
    started = time.perf_counter()
    processed = [default_process(q) for q, _i, _h in queries]
    matrix = process.cdist(
        processed,
        choices,
        scorer=fuzz.token_sort_ratio,
        score_cutoff=BRUTE_CUTOFF,
        dtype="uint8",
        workers=-1,
    )
    results = []
    for row in matrix:
        hits = row.nonzero()[0]
        results.append({keys[i] for i in hits})
    elapsed = time.perf_counter() - started
    return score(results, queries), len(queries) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--queries", type=int, default=2000, help="listed (and as many unlisted)")
    args = parser.parse_args()
    rng = random.Random(20261127)
    names, _kinds = listed_names()
    print(f"names and aliases: {len(names):,} (UN 2026 and OFAC SDN 2021)")
    queries = evaluation_set(names, args.queries, rng)
    print(f"queries: {args.queries:,} altered listed names, {args.queries:,} names on no list")

    ours, ours_one, ours_qps, built = run_engine(names, queries)
    print(
        f"engine (threshold {DEFAULT_THRESHOLD:.0f}): recall {ours['recall']:.3f}, precision "
        f"{ours['precision']:.3f}, alerts on unlisted {ours['alerts_on_unlisted']:.3f}, "
        f"{ours_qps:,.0f} queries/s on all cores ({ours_one:,.0f} on one; index built in "
        f"{built:.1f} s)"
    )
    brute, brute_qps = run_bruteforce(names, queries)
    print(
        f"brute force (cdist token_sort_ratio >= {BRUTE_CUTOFF}, all cores): recall "
        f"{brute['recall']:.3f}, precision {brute['precision']:.3f}, alerts on unlisted "
        f"{brute['alerts_on_unlisted']:.3f}, {brute_qps:,.0f} queries/s"
    )
    by_how: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    index = NameIndex(names)
    for query, intended, how in queries:
        if intended is None:
            continue
        by_how[how][0] += intended in {m.key for m in index.search(query)}
        by_how[how][1] += 1
    print(
        "engine recall by alteration: "
        + ", ".join(f"{h} {a / b:.3f}" for h, (a, b) in by_how.items())
    )

    big = grown(names, 10, rng)
    print(f"grown ten-fold: {len(big):,} names")
    ours10, _one10, ours10_qps, built10 = run_engine(big, queries)
    print(
        f"engine at 10x: recall {ours10['recall']:.3f}, precision {ours10['precision']:.3f}, "
        f"{ours10_qps:,.0f} queries/s on all cores (index built in {built10:.1f} s); "
        f"fell {ours_qps / ours10_qps:.2f} times"
    )
    sample = queries[: len(queries) // 8]  # brute force at 10x is slow: a sample of the queries
    _brute10, brute10_qps = run_bruteforce(big, sample)
    print(
        f"brute force at 10x: {brute10_qps:,.0f} queries/s on {len(sample)} queries; "
        f"fell {brute_qps / brute10_qps:.2f} times"
    )
    summary = {
        "bench": "screening",
        "names": len(names),
        "queries": len(queries),
        "threshold": DEFAULT_THRESHOLD,
        "recall": round(ours["recall"], 4),
        "precision": round(ours["precision"], 4),
        "names_per_s": round(ours_qps, 1),
        "names_per_s_one_core": round(ours_one, 1),
        "bruteforce_recall": round(brute["recall"], 4),
        "bruteforce_precision": round(brute["precision"], 4),
        "bruteforce_names_per_s": round(brute_qps, 1),
        "speedup": round(ours_qps / brute_qps, 2),
        "names_per_s_10x": round(ours10_qps, 1),
        "bruteforce_names_per_s_10x": round(brute10_qps, 1),
        "targets_met": {
            "recall": ours["recall"] >= 0.95,
            "precision": ours["precision"] >= 0.90,
            "throughput": ours_qps >= brute_qps,
            "scaling": ours_qps / ours10_qps < 3,
        },
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
