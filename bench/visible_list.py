"""What the visibility gate costs on a page of the designation list, at federation scale.

Seeds a scratch database (DATABASE_URL; PostgreSQL is the target) with 100,000 designations,
50 agencies, 10 sharing groups and about 300,000 permission rows (a realistic mix: open lists,
AMBER designations shared with a handful of agencies or a task force, a few RED ones named to
people), then times, for liaisons of several agencies, one page of 50 rows plus the total count
of what they may see, three ways in the same run:

- gate:       sharing.access.designations_for (the one gate)
- stock:      django-guardian's get_objects_for_user for the explicit grants, ORed with the
              same owner and TLP:CLEAR/GREEN conditions (what one would write with guardian alone)
- unfiltered: no permission filter at all (a superuser's view)

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sanctions .venv/bin/python bench/visible_list.py
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sharing.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import Group, Permission  # noqa: E402
from django.db import connection, reset_queries  # noqa: E402
from django.db.models import Q, QuerySet  # noqa: E402
from django.test.utils import setup_databases, teardown_databases  # noqa: E402
from guardian.shortcuts import get_objects_for_user  # noqa: E402

from agencies.models import Agency, Role, SharingGroup, User  # noqa: E402
from agencies.services import node_ensure_local  # noqa: E402
from designations.models import (  # noqa: E402
    Designation,
    DesignationGroupObjectPermission,
    DesignationUserObjectPermission,
    Regime,
)
from sharing import access  # noqa: E402
from sharing.models import Marking  # noqa: E402

DESIGNATIONS = int(os.getenv("BENCH_DESIGNATIONS", "100000"))
AGENCIES = 50
SHARING_GROUPS = 10
PAGE = 50
REPEATS = int(os.getenv("BENCH_REPEATS", "40"))
MEASURED_AGENCIES = 5
BATCH = 5000

# Share of each marking among designations, and status mix.
MARKING_MIX = [
    (Marking.CLEAR, 0.20),
    (Marking.GREEN, 0.20),
    (Marking.AMBER, 0.45),
    (Marking.AMBER_STRICT, 0.10),
    (Marking.RED, 0.05),
]
STATUS_MIX = [("active", 0.95), ("delisted", 0.03), ("draft", 0.02)]


def pick(rng: random.Random, mix: list[tuple[str, float]]) -> str:
    return rng.choices([value for value, _ in mix], weights=[w for _, w in mix])[0]


def seed(rng: random.Random) -> tuple[list[Agency], list[User]]:
    node = node_ensure_local()
    groups = Group.objects.bulk_create(
        [Group(name=f"agency:{i:02d}") for i in range(AGENCIES)]
        + [Group(name=f"sharing-group:{i}") for i in range(SHARING_GROUPS)]
    )
    groups = list(Group.objects.order_by("id"))
    agencies = Agency.objects.bulk_create(
        [
            Agency(
                code=f"AG{i:02d}",
                name=f"Agency {i:02d}",
                jurisdiction=f"J{i:02d}",
                home_node=node,
                group=groups[i],
            )
            for i in range(AGENCIES)
        ]
    )
    sharing_groups = SharingGroup.objects.bulk_create(
        [
            SharingGroup(name=f"Task force {i}", owner_node=node, group=groups[AGENCIES + i])
            for i in range(SHARING_GROUPS)
        ]
    )
    membership = {}
    for sharing_group in sharing_groups:
        members = rng.sample(agencies, rng.randint(4, 10))
        sharing_group.members.add(*members)
        membership[sharing_group.pk] = members
    users = User.objects.bulk_create(
        [
            User(username=f"liaison{i:02d}", agency=agency, role=Role.LIAISON)
            for i, agency in enumerate(agencies)
        ]
    )
    users = list(User.objects.filter(agency__isnull=False).order_by("username"))
    # guardian's stock shortcut knows only user.groups: put each liaison in the Groups that
    # carry its agency's grants, so both ways answer the same question.
    for user, agency in zip(users, agencies, strict=True):
        user.groups.add(agency.group)
    for sharing_group, members in membership.items():
        group = SharingGroup.objects.get(pk=sharing_group).group
        for member in members:
            group.user_set.add(*[u for u in users if u.agency_id == member.pk])
    regimes = Regime.objects.bulk_create(
        [Regime(owner=agency, code="R", name=f"Regime of {agency.code}") for agency in agencies]
    )
    regime_of = {regime.owner_id: regime for regime in regimes}

    view = Permission.objects.get(codename="view_designation")
    comment = Permission.objects.get(codename="comment_designation")
    designations, group_rows, user_rows = [], [], []
    for n in range(DESIGNATIONS):
        owner = rng.choice(agencies)
        marking = pick(rng, MARKING_MIX)
        designation = Designation(
            id=uuid.UUID(int=rng.getrandbits(128)),
            owner=owner,
            regime=regime_of[owner.pk],
            subject_kind="person",
            name=f"Subject {rng.getrandbits(40):012x}",
            reference_number=f"R{n}",
            status=pick(rng, STATUS_MIX),
            marking=marking,
        )
        designations.append(designation)
        if marking in (Marking.AMBER, Marking.AMBER_STRICT, Marking.CLEAR, Marking.GREEN):
            # AMBER is shared with a handful of agencies; open ones get comment grants.
            count = rng.randint(2, 8) if marking.startswith("AMBER") else rng.randint(0, 1)
            for grantee in rng.sample(agencies, count):
                if grantee.pk != owner.pk:
                    group_rows.append(
                        DesignationGroupObjectPermission(
                            content_object=designation,
                            group_id=grantee.group_id,
                            permission=view if marking.startswith("AMBER") else comment,
                        )
                    )
            if marking == Marking.AMBER and rng.random() < 0.4:
                group_rows.append(
                    DesignationGroupObjectPermission(
                        content_object=designation,
                        group_id=rng.choice(sharing_groups).group_id,
                        permission=view,
                    )
                )
        elif marking == Marking.RED:
            for person in rng.sample(users, rng.randint(1, 3)):
                user_rows.append(
                    DesignationUserObjectPermission(
                        content_object=designation,
                        user=person,
                        permission=view,
                    )
                )
    Designation.objects.bulk_create(designations, batch_size=BATCH)
    DesignationGroupObjectPermission.objects.bulk_create(group_rows, batch_size=BATCH)
    DesignationUserObjectPermission.objects.bulk_create(user_rows, batch_size=BATCH)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("VACUUM ANALYZE")
        else:
            cursor.execute("ANALYZE")
    print(
        f"seeded {len(designations):,} designations, {AGENCIES} agencies, "
        f"{SHARING_GROUPS} sharing groups, {len(group_rows) + len(user_rows):,} permission "
        f"rows ({len(group_rows):,} group, {len(user_rows):,} user)"
    )
    return agencies, users


def gate(user: User) -> QuerySet[Designation]:
    return access.designations_for(user)


def stock(user: User) -> QuerySet[Designation]:
    granted = get_objects_for_user(
        user, "designations.view_designation", klass=Designation, accept_global_perms=False
    )
    open_or_own = Designation.objects.filter(
        Q(owner_id=user.agency_id) | (Q(marking__in=access.COMMUNITY_MARKINGS) & ~Q(status="draft"))
    )
    return open_or_own | granted


def unfiltered(user: User) -> QuerySet[Designation]:
    return Designation.objects.all()


def page_and_count(queryset: QuerySet[Designation], page: int) -> tuple[int, int]:
    rows = list(queryset.order_by("name", "id")[page * PAGE : (page + 1) * PAGE])
    return len(rows), queryset.count()


def measure(
    way: Callable[[User], QuerySet], users: list[User], rng: random.Random
) -> tuple[list[float], int]:
    times, total = [], 0
    for _ in range(REPEATS):
        for user in users:
            page = rng.choice([0, 0, 1, 5, 20])
            started = time.perf_counter()
            _rows, total = page_and_count(way(user), page)
            times.append((time.perf_counter() - started) * 1000)
            reset_queries()
    return times, total


def p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def main() -> None:
    old_config = setup_databases(verbosity=0, interactive=False)
    try:
        rng = random.Random(20261127)
        started = time.perf_counter()
        _agencies, users = seed(rng)
        print(f"seeding took {time.perf_counter() - started:.1f} s on {connection.vendor}")
        measured = rng.sample(users, MEASURED_AGENCIES)
        results = {}
        for name, way in [("unfiltered", unfiltered), ("gate", gate), ("stock", stock)]:
            page_and_count(way(measured[0]), 0)  # warm the cache and the plan
            times, total = measure(way, measured, random.Random(1))
            results[name] = (p(times, 50), p(times, 95), total)
            print(
                f"{name:<11} p50 {results[name][0]:7.2f} ms   p95 {results[name][1]:7.2f} ms"
                f"   (last count {total:,})"
            )
        counts = {user.username: gate(user).count() for user in measured}
        stock_counts = {user.username: stock(user).count() for user in measured}
        print(f"visible per liaison (gate):  {counts}")
        print(
            f"visible per liaison (stock): {stock_counts}  (stock ignores TLP:RED and "
            "AMBER+STRICT rules, so it may show more)"
        )
    finally:
        teardown_databases(old_config, verbosity=0)

    gate_p95, stock_p95, unfiltered_p95 = (results[w][1] for w in ("gate", "stock", "unfiltered"))
    ratio_unfiltered = gate_p95 / unfiltered_p95
    ratio_stock = gate_p95 / stock_p95
    print(f"gate p95 / unfiltered p95 = {ratio_unfiltered:.2f} (target <= 2.0)")
    print(f"gate p95 / stock p95      = {ratio_stock:.2f} (target < 1.0)")
    print(
        json.dumps(
            {
                "bench": "visible_list",
                "database": connection.vendor,
                "designations": DESIGNATIONS,
                "p50_ms_gate": round(results["gate"][0], 2),
                "p95_ms_gate": round(gate_p95, 2),
                "p50_ms_stock": round(results["stock"][0], 2),
                "p95_ms_stock": round(stock_p95, 2),
                "p50_ms_unfiltered": round(results["unfiltered"][0], 2),
                "p95_ms_unfiltered": round(unfiltered_p95, 2),
                "ratio_gate_to_unfiltered": round(ratio_unfiltered, 2),
                "ratio_gate_to_stock": round(ratio_stock, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
