"""Sync between nodes, measured on real nodes: PostgreSQL, a Redis broker, Celery workers
and beat, gunicorn, HTTP on loopback (the federation tests' cluster, tests/federation).

Node A publishes; B and C are partners whose agencies A shares with (CLEAR/GREEN, and AMBER
granted to them). Measured:

1. B pulls A's first 10,000 designations; then, B's worker stopped, the cost of a pull that
   finds nothing new (median of 100, databases vacuumed first) at 10,000 objects.
2. A grows to 100,000. C, a node joining now, syncs all of it: designations per second, from
   the first pull task queued to the last designation stored (start-up excluded).
3. The no-change pull at 100,000 objects (C's worker stopped), and reconcile passes that find
   no drift (median of 3).
4. 200 amendments on A, one at a time: from A's answer to the PATCH to the new version read
   back from C's REST API (polled every 10 ms): p50, p95.

    .venv/bin/python bench/sync.py            # BENCH_SYNC_TOTAL=100000, BENCH_SYNC_FIRST=10000

Needs PostgreSQL on 127.0.0.1:5432 and redis-server (the nodes get a Redis of their own).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.federation.cluster import (  # noqa: E402
    BIN,
    Broker,
    LiveNode,
    _postgres_admin,
    free_port,
    wait_for,
)

TOTAL = int(os.getenv("BENCH_SYNC_TOTAL", "100000"))
FIRST = int(os.getenv("BENCH_SYNC_FIRST", "10000"))
CHANGES = int(os.getenv("BENCH_SYNC_CHANGES", "200"))


def helper(node: LiveNode, *args: str) -> dict:
    """Run bench/sync_node.py in the node's environment; its JSON answer."""
    done = subprocess.run(
        [str(BIN / "python"), str(ROOT / "bench/sync_node.py"), *args],
        cwd=ROOT,
        env=node.env(),
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{node.node_id}: sync_node.py {' '.join(args)}: {done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def held(node: LiveNode) -> int:
    """Designations in the node's database (a query, not a process: polling must not load the
    machine it measures)."""
    import psycopg

    with psycopg.connect(node.database_url.replace("postgres://", "postgresql://")) as db:
        return db.execute("SELECT count(*) FROM designations_designation").fetchone()[0]


def settle(*nodes: LiveNode) -> None:
    """VACUUM ANALYZE the nodes' databases: measure a node at rest, not autovacuum catching up
    with the rows just written (on two cores it competes with what is measured)."""
    import psycopg

    for node in nodes:
        url = node.database_url.replace("postgres://", "postgresql://")
        with psycopg.connect(url, autocommit=True) as db:
            db.execute("VACUUM ANALYZE")


def main() -> None:
    if not shutil.which("redis-server"):
        raise SystemExit("needs redis-server (the nodes' broker)")
    work = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    broker = Broker(work / "broker")
    broker.start()
    nodes: dict[str, LiveNode] = {}
    agencies = {"a": "A", "b": "B", "c": "C"}
    for node_id, agency in agencies.items():
        name = f"sxbench_{node_id}"
        with _postgres_admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}"')
        (work / node_id).mkdir()
        nodes[node_id] = LiveNode(
            node_id=node_id,
            agency=agency,
            var_dir=work / node_id,
            port=free_port(),
            database_url=f"postgres://postgres@127.0.0.1:5432/{name}",
            broker_url=broker.url(len(nodes)),
        )
    a, b, c = nodes["a"], nodes["b"], nodes["c"]
    figures: dict[str, float] = {}
    try:
        for node in nodes.values():
            node.setup()
        descriptors = {node_id: node.manage("node", "export") for node_id, node in nodes.items()}
        for node_id, node in nodes.items():
            for other_id, text in descriptors.items():
                if other_id != node_id:
                    node.manage("node", "add-partner", "-", stdin=text)

        # 1. The first 10,000 to B; the no-change pull at 10,000.
        print(f"seeding {FIRST:,} designations on A ...", flush=True)
        helper(a, "seed", str(FIRST), "0")
        a.start()
        b.start()
        wait_for(lambda: held(b) >= FIRST, timeout=900, what=f"B to hold {FIRST:,}")
        b.stop("worker", "beat")
        settle(a, b)
        small = helper(b, "pull", "a", "100")
        figures["nochange_pull_ms_10k"] = small["pull_ms_median"]
        print(
            f"no-change pull at {FIRST:>7,}: median {small['pull_ms_median']:.2f} ms, "
            f"p95 {small['pull_ms_p95']:.2f} ms ({small['runs']} pulls, "
            f"{small['applied']} applied)",
            flush=True,
        )
        b.stop()

        # 2. A grows to 100,000; C joins and syncs all of it.
        print(f"seeding {TOTAL - FIRST:,} more on A ...", flush=True)
        helper(a, "seed", str(TOTAL - FIRST), str(FIRST))
        c.start("web")
        c.start("worker")
        time.sleep(3)  # the worker is up and listening
        started = time.perf_counter()
        helper(c, "kick", "a")
        wait_for(lambda: held(c) >= TOTAL, timeout=3600, what=f"C to hold {TOTAL:,}")
        elapsed = time.perf_counter() - started
        figures["initial_per_s"] = round(TOTAL / elapsed, 1)
        print(
            f"initial sync of {TOTAL:,} designations A -> C: {elapsed:.1f} s, "
            f"{TOTAL / elapsed:,.0f} designations/s",
            flush=True,
        )

        # 3. No-change pull and reconcile at 100,000.
        c.stop("worker")
        settle(a, c)
        large = helper(c, "pull", "a", "100")
        figures["nochange_pull_ms_100k"] = large["pull_ms_median"]
        print(
            f"no-change pull at {TOTAL:>7,}: median {large['pull_ms_median']:.2f} ms, "
            f"p95 {large['pull_ms_p95']:.2f} ms ({large['runs']} pulls, "
            f"{large['applied']} applied)",
            flush=True,
        )
        print(
            f"no-change pull {TOTAL:,} / {FIRST:,}: "
            f"{large['pull_ms_median'] / small['pull_ms_median']:.2f}",
            flush=True,
        )
        reconcile = helper(c, "reconcile", "a", "3")
        figures["reconcile_s_100k"] = reconcile["reconcile_s_median"]
        print(
            f"reconcile with no drift at {TOTAL:,}: median {reconcile['reconcile_s_median']:.2f} s"
            f" (drift found {reconcile['drift']})",
            flush=True,
        )

        # 4. Change-to-visibility latency, A -> C.
        c.start("worker", "beat")
        ids = [
            row["id"] for row in a.api("GET", f"designations?page_size={CHANGES}").body["results"]
        ]
        latencies = []
        for n, pk in enumerate(ids[:CHANGES]):
            current = a.api("GET", f"designations/{pk}")
            changed = a.api(
                "PATCH",
                f"designations/{pk}",
                {"name": f"{current.body['name']} (amended {n})", "reason": "bench"},
                **{"If-Match": current.headers["ETag"]},
            )
            assert changed.status == 200, changed.body
            committed = time.perf_counter()
            version = changed.body["version"]
            while True:
                seen = c.api("GET", f"designations/{pk}")
                if seen.status == 200 and seen.body["version"] >= version:
                    break
                if time.perf_counter() - committed > 60:
                    raise AssertionError(f"{pk} v{version} not on C after 60 s")
                time.sleep(0.01)
            latencies.append(time.perf_counter() - committed)
        p50 = statistics.median(latencies)
        p95 = statistics.quantiles(latencies, n=20)[-1]
        figures["latency_p50_s"] = round(p50, 3)
        figures["latency_p95_s"] = round(p95, 3)
        print(
            f"change on A -> visible on C ({len(latencies)} changes): "
            f"p50 {p50:.3f} s, p95 {p95:.3f} s, max {max(latencies):.3f} s",
            flush=True,
        )
    except BaseException:
        for node in nodes.values():
            sys.stderr.write(node.logs())
        raise
    finally:
        for node in nodes.values():
            node.stop()
        broker.stop()
        with _postgres_admin() as admin:
            for node_id in nodes:
                admin.execute(f'DROP DATABASE IF EXISTS "sxbench_{node_id}" WITH (FORCE)')
    targets = {
        "initial_per_s": figures["initial_per_s"] >= 1000,
        "latency_p95_s": figures["latency_p95_s"] < 2,
        "nochange_pull_ms": max(figures["nochange_pull_ms_10k"], figures["nochange_pull_ms_100k"])
        < 20,
    }
    print(json.dumps({"bench": "sync", "designations": TOTAL, **figures, "targets_met": targets}))


if __name__ == "__main__":
    main()
