"""Helpers for tests that run real processes (Celery worker and beat) against the test DB."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]


def test_database_url() -> str:
    """The URL of the database this test runs on, for a child process to use."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def process_env(var_dir: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=test_database_url(),
        CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
        VAR_DIR=str(var_dir),
        NODE_ID=settings.NODE_ID,
        **extra,
    )
    return env


@contextmanager
def celery_processes(var_dir: Path, *roles: str, **env: str) -> Iterator[Path]:
    """Start real `celery worker` / `celery beat` processes; stop them on exit. Yields the log
    folder so a failing test can show what the processes said."""
    celery = str(Path(sys.executable).with_name("celery"))
    environment = process_env(var_dir, **env)
    processes = []
    for role in roles:
        command = [celery, "--app", "sharing", role, "--loglevel", "INFO"]
        if role == "worker":
            command += [
                "--concurrency",
                "1",
                "--pool",
                "solo",
                "--without-heartbeat",
                "--without-mingle",
                "--without-gossip",
            ]
        if role == "beat":
            command += ["--schedule", str(var_dir / "beat-schedule")]
        log = (var_dir / f"{role}.log").open("w")
        processes.append(
            subprocess.Popen(  # noqa: S603 - our own command line
                command, cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT
            )
        )
    try:
        yield var_dir
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def wait_until(
    condition: Callable[[], bool], *, timeout: float, what: str, logs: Path | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.25)
    output = ""
    if logs is not None:
        output = "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in logs.glob("*.log"))
    raise AssertionError(f"timed out after {timeout}s waiting for {what}\n{output}")
