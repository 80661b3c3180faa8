"""How long the full UN consolidated list takes to import, on the database of DATABASE_URL.

Runs in a scratch test database (created and dropped here, like the test runner does), three
times each: a first import of the 2026 list into an empty database, and an update import of the
2026 list over the 2020 one (amendments, additions and delistings). The parser alone is timed
in the same run as the reference: the ratio shows what the database writes cost.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sanctions .venv/bin/python bench/import_un.py
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sharing.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_databases, teardown_databases  # noqa: E402

from agencies.services import agency_create, node_ensure_local  # noqa: E402
from designations.formats.un import UNListParser  # noqa: E402
from designations.imports import import_list  # noqa: E402
from designations.models import DesignationVersion, Name  # noqa: E402

DATA = Path(os.getenv("DEMO_DATA_DIR", ROOT.parent / "shared" / "data")) / "un"
LIST_2026 = DATA / "consolidated_2026-02-27.xml"
LIST_2020 = DATA / "consolidated_2020-03-20.xml"
RUNS = 3


def parse_only() -> float:
    started = time.perf_counter()
    with LIST_2026.open("rb") as stream:
        for _entry in UNListParser(stream):
            pass
    return time.perf_counter() - started


def fresh_agency():  # type: ignore[no-untyped-def]
    call_command("flush", interactive=False, verbosity=0)
    return agency_create(code="UNSC", name="UNSC", jurisdiction="UN", home_node=node_ensure_local())


def main() -> None:
    old_config = setup_databases(verbosity=0, interactive=False)
    try:
        vendor = connection.vendor
        parse_times = [parse_only() for _ in range(RUNS)]
        first, update, rows = [], [], 0
        for _ in range(RUNS):
            agency = fresh_agency()
            started = time.perf_counter()
            result = import_list(publisher="un", path=LIST_2026, agency=agency)
            first.append(time.perf_counter() - started)
            records = result.record_count
            rows = Name.objects.count()

            agency = fresh_agency()
            import_list(publisher="un", path=LIST_2020, agency=agency)
            started = time.perf_counter()
            updated = import_list(publisher="un", path=LIST_2026, agency=agency)
            update.append(time.perf_counter() - started)
            versions = DesignationVersion.objects.count()
    finally:
        teardown_databases(old_config, verbosity=0)

    seconds, update_seconds, parse_seconds = (
        statistics.median(first),
        statistics.median(update),
        statistics.median(parse_times),
    )
    print(f"database: {vendor}; median of {RUNS} runs each")
    print(
        f"parse only (reference):  {parse_seconds:.3f} s  {records / parse_seconds:,.0f} records/s"
    )
    print(
        f"first import, 2026 list: {seconds:.3f} s  {records / seconds:,.0f} records/s  "
        f"({records} records, {rows} names)  {seconds / parse_seconds:.1f}x the parse"
    )
    print(
        f"update import 2020->2026: {update_seconds:.3f} s  "
        f"{records / update_seconds:,.0f} records/s  ({updated.summary()}; "
        f"{versions} versions in history)"
    )
    print(
        json.dumps(
            {
                "bench": "import_un",
                "database": vendor,
                "seconds": round(seconds, 3),
                "records_per_s": round(records / seconds, 1),
                "update_seconds": round(update_seconds, 3),
                "update_records_per_s": round(records / update_seconds, 1),
                "parse_seconds": round(parse_seconds, 3),
                "import_to_parse_ratio": round(seconds / parse_seconds, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
