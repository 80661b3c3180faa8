"""bench/sync.py's hands inside one node (run in that node's environment: NODE_ID, VAR_DIR,
DATABASE_URL...). Prints one JSON object.

    seed N FIRST   N designations for the node's agency, made from the real UN list's entries
                   (cycled, each a new subject), with history and change-log rows, as an import
                   writes them: 70% CLEAR or GREEN, 30% AMBER shared with every partner agency
    pull PARTNER K     K pulls from PARTNER when nothing changed: milliseconds each
    reconcile PARTNER K  K reconcile passes with PARTNER: seconds each, and the drift found
    kick PARTNER   queue a pull from PARTNER through the broker (the node's worker runs it)
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sharing.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import Permission  # noqa: E402
from django.db import transaction  # noqa: E402

from agencies.models import Agency, Node  # noqa: E402
from designations.data import CHILDREN, apply_scalars, child_rows  # noqa: E402
from designations.formats.un import UNListParser  # noqa: E402
from designations.models import (  # noqa: E402
    Designation,
    DesignationGroupObjectPermission,
    DesignationVersion,
    Regime,
)
from sharing.changelog import change_log_append_many  # noqa: E402
from sharing.models import ChangeAction, ChangeLogEntry, Marking  # noqa: E402
from sharing.sync_client import sync_pull, sync_reconcile  # noqa: E402

UN_LIST = ROOT.parent / "shared/data/un/consolidated_2026-02-27.xml"
CHUNK = 2000


def seed(count: int, first: int) -> dict:
    with UN_LIST.open("rb") as stream:
        entries = list(UNListParser(stream))
    agency = Agency.objects.get(home_node__is_local=True)
    regime = Regime.objects.get(owner=agency, code="R1")
    partner_groups = list(
        Agency.objects.filter(home_node__is_local=False).values_list("group_id", flat=True)
    )
    view = Permission.objects.get(codename="view_designation")
    for start in range(first, first + count, CHUNK):
        designations, children, versions, grants, log = [], [], [], [], []
        for n in range(start, min(start + CHUNK, first + count)):
            entry = entries[n % len(entries)]
            marking = (Marking.CLEAR, Marking.GREEN, Marking.AMBER)[
                0 if n % 10 < 5 else 1 if n % 10 < 7 else 2
            ]
            data = {
                **entry.data,
                "name": f"{entry.data['name']} {n}",  # a new subject each time round
                "reference_number": f"BENCH.{n}",
                "status": "active",
                "marking": marking,
            }
            data["names"] = [
                {**name, "full_name": f"{name['full_name']} {n}"} for name in data.get("names", [])
            ]
            designation = Designation(id=uuid.uuid4(), owner=agency, regime=regime)
            apply_scalars(designation, data)
            designations.append(designation)
            children.extend(child_rows(designation, data))
            versions.append(
                DesignationVersion(
                    designation=designation,
                    version=1,
                    status=designation.status,
                    snapshot={**data, "regime": regime.code},
                    actor_name="bench seed",
                    actor_agency=agency,
                )
            )
            if marking == Marking.AMBER:
                grants.extend(
                    DesignationGroupObjectPermission(
                        content_object=designation, group_id=group, permission=view
                    )
                    for group in partner_groups
                )
            log.append(
                ChangeLogEntry(
                    object_type="designation",
                    object_id=designation.pk,
                    version=1,
                    action=ChangeAction.CREATE,
                )
            )
        with transaction.atomic():
            Designation.objects.bulk_create(designations)
            for model, _fields in CHILDREN.values():
                model.objects.bulk_create([row for row in children if isinstance(row, model)])
            DesignationVersion.objects.bulk_create(versions)
            DesignationGroupObjectPermission.objects.bulk_create(grants)
            change_log_append_many(log)
    return {"seeded": count, "held": Designation.objects.count()}


def timed(run, times: int) -> list[float]:  # type: ignore[no-untyped-def]
    """Seconds of each of `times` runs that did the work (a run that found the partner's
    lease taken by the node's own worker is not counted, and tried again)."""
    spent: list[float] = []
    attempts = 0
    while len(spent) < times and attempts < times * 20:
        attempts += 1
        started = time.perf_counter()
        result = run()
        elapsed = time.perf_counter() - started
        if result.skipped:
            time.sleep(0.05)
            continue
        spent.append(elapsed)
    return spent


def main() -> None:
    command, *args = sys.argv[1:]
    if command == "seed":
        answer = seed(int(args[0]), int(args[1]))
    elif command == "kick":
        from sharing.tasks import sync_pull_partner

        sync_pull_partner.delay(args[0])
        answer = {"queued": args[0]}
    elif command == "pull":
        partner = Node.objects.get(node_id=args[0])
        results: list = []

        def pull():  # type: ignore[no-untyped-def]
            results.append(sync_pull(partner))
            return results[-1]

        spent = timed(pull, int(args[1]))
        answer = {
            "pull_ms_median": round(statistics.median(spent) * 1000, 2),
            "pull_ms_p95": round(statistics.quantiles(spent, n=20)[-1] * 1000, 2),
            "runs": len(spent),
            "applied": sum(r.applied for r in results),
        }
    elif command == "reconcile":
        partner = Node.objects.get(node_id=args[0])
        drifts: list[int] = []

        def reconcile():  # type: ignore[no-untyped-def]
            result = sync_reconcile(partner)
            drifts.append(result.drift)
            return result

        spent = timed(reconcile, int(args[1]))
        answer = {
            "reconcile_s_median": round(statistics.median(spent), 3),
            "runs": len(spent),
            "drift": drifts,
        }
    else:
        raise SystemExit(__doc__)
    print(json.dumps(answer))


if __name__ == "__main__":
    main()
