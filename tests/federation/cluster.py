"""A federation of real nodes for integration tests: each node is its own set of processes
(gunicorn, a Celery worker, Celery beat) with its own database, key files and broker database,
talking to the others over HTTP on loopback.

Databases follow the suite's: PostgreSQL when DATABASE_URL names it (one database per node,
dropped afterwards), SQLite files otherwise. The broker is a Redis server of the federation's
own (one database number per node; a test may stop and restart it) when `redis-server` is
installed, else each node's own filesystem broker.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
MAX_NODES = 4


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_available() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


@dataclass
class Broker:
    """A Redis server for one federation, without persistence: a restart loses what it held,
    as a broker restarted without a disk would."""

    directory: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    def url(self, number: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{number}"

    def start(self) -> None:
        self.directory.mkdir(exist_ok=True)
        log = (self.directory / "redis.log").open("a")
        self.process = subprocess.Popen(  # noqa: S603 - a fixed command line
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for(lambda: _listening(self.port), timeout=20, what="the federation's Redis")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=20)
            self.process = None


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@dataclass
class Response:
    status: int
    body: Any
    headers: dict[str, str]


@dataclass
class LiveNode:
    node_id: str
    agency: str
    var_dir: Path
    port: int
    database_url: str
    broker_url: str
    broker: Broker | None = None
    token: str = ""
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DATABASE_URL", "CELERY_", "NODE_", "DJANGO_"))
        }
        env.update(
            NODE_ID=self.node_id,
            NODE_NAME=f"{self.node_id.upper()} node",
            NODE_BASE_URL=self.base_url,
            VAR_DIR=str(self.var_dir),
            DATABASE_URL=self.database_url,
            CELERY_BROKER_URL=self.broker_url,
            SYNC_PULL_SECONDS="3",
            SYNC_LEASE_SECONDS="8",  # a killed worker's lease runs out within a test's wait
            HEARTBEAT_SECONDS="5",
            API_RATE="100000/minute",
            PYTHONUNBUFFERED="1",
        )
        return env

    def manage(self, *args: str, stdin: str | None = None) -> str:
        done = subprocess.run(  # noqa: S603 - our own command line
            [str(BIN / "python"), "manage.py", *args],
            cwd=ROOT,
            env=self.env(),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{self.node_id}: manage.py {' '.join(args)}: {done.stderr}")
        return done.stdout

    def setup(self) -> None:
        self.manage("migrate", "--noinput")
        self.manage("node", "init")
        out = subprocess.run(  # noqa: S603
            [str(BIN / "python"), str(ROOT / "tests/federation/node_setup.py"), self.agency],
            cwd=ROOT,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout
        self.token = json.loads(out.strip().splitlines()[-1])["token"]

    def start(self, *roles: str) -> None:
        commands = {
            "web": [
                str(BIN / "gunicorn"),
                "sharing.wsgi",
                f"--bind=127.0.0.1:{self.port}",
                "--workers=2",
                "--worker-class=gthread",
                "--threads=2",
                "--log-level=warning",
            ],
            "worker": [
                str(BIN / "celery"),
                "--app=sharing",
                "worker",
                "--loglevel=INFO",
                "--concurrency=2",
                "--without-mingle",
                "--without-gossip",
                f"--hostname={self.node_id}@%h",
            ],
            "beat": [
                str(BIN / "celery"),
                "--app=sharing",
                "beat",
                "--loglevel=INFO",
                f"--schedule={self.var_dir / 'beat-schedule'}",
            ],
        }
        for role in roles or ("web", "worker", "beat"):
            log = (self.var_dir / f"{role}.log").open("a")
            self.processes[role] = subprocess.Popen(  # noqa: S603
                commands[role],
                cwd=ROOT,
                env=self.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        if "web" in self.processes:
            wait_for(self._listening, timeout=30, what=f"{self.node_id} web server")

    def _listening(self) -> bool:
        return _listening(self.port)

    def stop(self, *roles: str, sig: int = signal.SIGTERM) -> None:
        for role in roles or list(self.processes):
            process = self.processes.pop(role, None)
            if process is None:
                continue
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                continue
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def api(
        self, method: str, path: str, body: Any = None, raw: bytes | None = None, **headers: str
    ) -> Response:
        """A call to this node's REST API as its agency's API client (JSON, or `raw` bytes
        with the caller's Content-Type; a binary answer comes back as bytes)."""
        data = json.dumps(body).encode() if body is not None else raw
        request = urllib.request.Request(  # noqa: S310 - loopback
            f"{self.base_url}/api/v1/{path}",
            data=data,
            method=method,
            headers={
                "Authorization": f"Bearer {self.token}",
                "Content-Type": "application/json",
                **headers,
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                answer = response.read()
                if answer and not response.headers.get_content_type().endswith("json"):
                    return Response(response.status, answer, dict(response.headers))  # a file
                return Response(
                    response.status, json.loads(answer) if answer else None, dict(response.headers)
                )
        except urllib.error.HTTPError as error:
            answer = error.read()
            return Response(error.code, json.loads(answer) if answer else None, dict(error.headers))

    def logs(self) -> str:
        return "\n".join(
            f"--- {self.node_id} {path.name}\n{path.read_text()[-4000:]}"
            for path in sorted(self.var_dir.glob("*.log"))
        )


def wait_for(condition: Callable[[], bool], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.3)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def _postgres_admin():  # type: ignore[no-untyped-def]
    import psycopg

    return psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True)


@contextmanager
def federation(tmp_path: Path, nodes: dict[str, str]) -> Iterator[dict[str, LiveNode]]:
    """Nodes {node_id: agency code}, each peered with every other, all processes running."""
    on_postgres = os.getenv("DATABASE_URL", "").startswith("postgres")
    broker = Broker(tmp_path / "broker") if shutil.which("redis-server") else None
    if broker is not None:
        broker.start()
    run = secrets.token_hex(3)
    cluster: dict[str, LiveNode] = {}
    assert len(nodes) <= MAX_NODES
    for index, (node_id, agency) in enumerate(nodes.items()):
        var_dir = tmp_path / node_id
        var_dir.mkdir()
        if on_postgres:
            name = f"sxfed_{node_id}_{run}"
            with _postgres_admin() as admin:
                admin.execute(f'CREATE DATABASE "{name}"')
            database_url = f"postgres://postgres@127.0.0.1:5432/{name}"
        else:
            database_url = f"sqlite:///{var_dir / 'node.sqlite3'}"
        broker_url = broker.url(index) if broker is not None else "filesystem://"
        cluster[node_id] = LiveNode(
            node_id=node_id,
            agency=agency,
            var_dir=var_dir,
            port=free_port(),
            database_url=database_url,
            broker_url=broker_url,
            broker=broker,
        )
    try:
        for node in cluster.values():
            node.setup()
        descriptors = {node_id: node.manage("node", "export") for node_id, node in cluster.items()}
        for node_id, node in cluster.items():
            for other_id, text in descriptors.items():
                if other_id != node_id:
                    node.manage("node", "add-partner", "-", stdin=text)
        for node in cluster.values():
            node.start()
        yield cluster
    except BaseException:
        for node in cluster.values():
            sys.stderr.write(node.logs())
        raise
    finally:
        for node in cluster.values():
            node.stop()
        if broker is not None:
            broker.stop()
        if on_postgres:
            with _postgres_admin() as admin:
                for node in cluster.values():
                    name = node.database_url.rsplit("/", 1)[1]
                    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
