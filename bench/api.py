"""Throughput and latency of the REST API under load, on gunicorn and PostgreSQL.

Seeds a scratch database with the visible_list benchmark's federation (100,000 designations,
50 agencies, sharing groups, ~300,000 grants), starts gunicorn on it in its own processes, and
drives it with wrk (a C load generator, in a second process) for three workloads:

- list:       GET /api/v1/designations?page_size=50 as an agency's API client (the agency whose
              visible share is the median of all agencies), first and later cursor pages
- retrieve:   GET /api/v1/designations/<id> for ids that agency may see
- unfiltered: the same list as a superuser (no permission filter), the reference

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sanctions .venv/bin/python bench/api.py

Needs wrk (`apt-get install -y wrk`). Each workload runs BENCH_ROUNDS times (3) for
BENCH_SECONDS (10), in turn; the median round is reported.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from importlib import import_module
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sanctions")
os.environ["DEBUG"] = "false"  # DEBUG keeps every query in memory; measure what runs

import visible_list  # noqa: E402  (sets up Django)
from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_databases, teardown_databases  # noqa: E402
from django.utils import timezone  # noqa: E402

from agencies.api_clients import ClientPrincipal, api_client_create  # noqa: E402
from agencies.models import Role, User  # noqa: E402
from sharing import access  # noqa: E402

SECONDS = int(os.getenv("BENCH_SECONDS", "10"))
ROUNDS = int(os.getenv("BENCH_ROUNDS", "3"))
CONNECTIONS = 8
WORKERS = 2  # gunicorn processes: one per core
THREADS = 4
PAGE_URLS = 20  # first page and the next 19 cursor pages, requested in turn
RETRIEVE_IDS = 2000
WRK = shutil.which("wrk")

WRK_SCRIPT = """
local paths = {}
for line in io.lines(os.getenv("WRK_PATHS")) do paths[#paths + 1] = line end
local auth_header, auth_value = os.getenv("WRK_HEADER"), os.getenv("WRK_VALUE")
local i = 0
function setup(thread) thread:set("offset", math.random(1, #paths)) end
function init() i = offset end
function request()
  i = i % #paths + 1
  return wrk.format("GET", paths[i], {[auth_header] = auth_value, ["Accept"] = "application/json"})
end
function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'WRK {"requests": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, '
    .. '"non_2xx": %d, "socket_errors": %d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), errors.status, errors.connect + errors.read + errors.write
    + errors.timeout))
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str, header: tuple[str, str]) -> dict:
    request = urllib.request.Request(url, headers={header[0]: header[1]})  # noqa: S310
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return json.load(response)


def page_paths(base: str, header: tuple[str, str]) -> list[str]:
    """The first list page and the cursor pages after it, as a client paging through."""
    url = f"{base}/api/v1/designations?page_size=50"
    paths = []
    while url and len(paths) < PAGE_URLS:
        paths.append(url.removeprefix(base))
        url = get(url, header)["next"]
    return paths


def session_cookie(user: User) -> str:
    """A signed-in session for a superuser, as the portal would hold (GETs need no CSRF)."""
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def run_wrk(base: str, paths: list[str], header: tuple[str, str], seconds: int) -> dict:
    with tempfile.TemporaryDirectory() as scratch:
        script, path_file = Path(scratch, "bench.lua"), Path(scratch, "paths")
        script.write_text(WRK_SCRIPT)
        path_file.write_text("\n".join(paths) + "\n")
        env = {**os.environ, "WRK_PATHS": str(path_file), "WRK_HEADER": header[0]}
        env["WRK_VALUE"] = header[1]
        output = subprocess.run(
            [WRK, "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", "-s", str(script), base],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    line = next(line for line in output.splitlines() if line.startswith("WRK "))
    result = json.loads(line.removeprefix("WRK "))
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def start_gunicorn(port: int, database_url: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DEBUG": "false",
        "API_RATE": "100000000/minute",  # measuring throughput, not the limiter
    }
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "sharing.wsgi",
            f"--bind=127.0.0.1:{port}",
            f"--workers={WORKERS}",
            "--worker-class=gthread",
            f"--threads={THREADS}",
            "--log-level=warning",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("gunicorn did not start")


def main() -> None:
    if WRK is None:
        raise SystemExit("bench/api.py needs wrk: apt-get install -y wrk")
    old_config = setup_databases(verbosity=0, interactive=False)
    server = None
    try:
        rng = random.Random(20261127)
        started = time.perf_counter()
        _agencies, users = visible_list.seed(rng)
        print(f"seeding took {time.perf_counter() - started:.1f} s on {connection.vendor}")
        # The agency with the median visible share: neither the best- nor worst-served.
        counted = sorted((access.designations_for(u.agency).count(), u.username, u) for u in users)
        visible, _name, liaison = counted[len(counted) // 2]
        print(f"measured agency {liaison.agency.code}: sees {visible:,} designations")
        admin = User.objects.create(
            username="bench-admin", agency=liaison.agency, role=Role.AGENCY_ADMIN
        )
        client, token = api_client_create(
            actor=admin,
            name="bench",
            scopes=["read"],
            expires_at=timezone.now() + dt.timedelta(days=1),
        )
        superuser = User.objects.create_superuser(username="bench-root", password=None)
        ids = list(
            access.designations_for(ClientPrincipal(client))
            .order_by("?")
            .values_list("pk", flat=True)[:RETRIEVE_IDS]
        )
        db = connection.settings_dict
        database_url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        connection.close()  # the server's processes do the work from here on
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = start_gunicorn(port, database_url)

        client_header = ("Authorization", f"Bearer {token}")
        root_header = ("Cookie", session_cookie(superuser))
        list_paths = page_paths(base, client_header)
        root_paths = page_paths(base, root_header)
        retrieve_paths = [f"/api/v1/designations/{pk}" for pk in ids]
        assert get(base + retrieve_paths[0], client_header)["id"] == str(ids[0])

        workloads = [
            ("list", list_paths, client_header),
            ("retrieve", retrieve_paths, client_header),
            ("unfiltered_list", root_paths, root_header),
        ]
        for _name, paths, header in workloads:
            run_wrk(base, paths, header, 3)  # warm the workers, their connections and caches
        # Rounds, each workload in turn, so that the machine's drift (this VM's page cache,
        # autovacuum after seeding) falls on all three alike; the median round is reported.
        rounds: dict[str, list[dict]] = {name: [] for name, _p, _h in workloads}
        for round_number in range(1, ROUNDS + 1):
            for name, paths, header in workloads:
                result = run_wrk(base, paths, header, SECONDS)
                rounds[name].append(result)
                print(
                    f"round {round_number} {name:<16} {result['rps']:8.1f} req/s   "
                    f"p50 {result['p50_us'] / 1000:7.2f} ms   "
                    f"p95 {result['p95_us'] / 1000:7.2f} ms   "
                    f"p99 {result['p99_us'] / 1000:7.2f} ms   "
                    f"non-2xx {result['non_2xx']}   socket errors {result['socket_errors']}"
                )
                if result["non_2xx"]:
                    raise SystemExit(f"{name}: {result['non_2xx']} responses were not 2xx")
        results = {
            name: sorted(runs, key=lambda r: r["rps"])[len(runs) // 2]
            for name, runs in rounds.items()
        }
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        connection.close()
        teardown_databases(old_config, verbosity=0)

    ratio = results["list"]["rps"] / results["unfiltered_list"]["rps"]
    print(f"list req/s / unfiltered list req/s = {ratio:.2f}")
    print(
        json.dumps(
            {
                "bench": "api",
                "database": "postgresql",
                "designations": visible_list.DESIGNATIONS,
                "visible_to_measured_agency": visible,
                "server": f"gunicorn gthread {WORKERS}x{THREADS}",
                "connections": CONNECTIONS,
                "seconds": SECONDS,
                "rounds": ROUNDS,
                "list_rps": round(results["list"]["rps"], 1),
                "list_p95_ms": round(results["list"]["p95_us"] / 1000, 2),
                "retrieve_rps": round(results["retrieve"]["rps"], 1),
                "retrieve_p95_ms": round(results["retrieve"]["p95_us"] / 1000, 2),
                "unfiltered_list_rps": round(results["unfiltered_list"]["rps"], 1),
                "unfiltered_list_p95_ms": round(results["unfiltered_list"]["p95_us"] / 1000, 2),
                "ratio_list_to_unfiltered_rps": round(ratio, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
