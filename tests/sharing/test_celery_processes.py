"""Real Celery worker and beat processes against the test database and the configured broker
(the filesystem broker by default, Redis in the PostgreSQL CI run)."""

from __future__ import annotations

import pytest

from agencies.models import Node
from agencies.services import node_ensure_local
from sharing.tasks import node_heartbeat
from tests.live import celery_processes, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def heartbeat_seen() -> bool:
    return Node.objects.filter(is_local=True, last_heartbeat_at__isnull=False).exists()


def test_beat_schedules_and_a_worker_runs_the_heartbeat(tmp_path) -> None:
    node_ensure_local()

    with celery_processes(tmp_path, "worker", "beat", HEARTBEAT_SECONDS="1") as logs:
        wait_until(
            heartbeat_seen, timeout=60, what="a heartbeat from beat via the worker", logs=logs
        )

    assert Node.objects.get(is_local=True).last_heartbeat_at is not None


def test_a_task_sent_before_the_worker_starts_is_still_run(tmp_path, settings) -> None:
    """The broker keeps the message until a worker takes it."""
    node_ensure_local()
    if settings.CELERY_BROKER_URL == "filesystem://":
        # Send into the same folders the worker will read.
        from sharing.celery import app

        folder = str(tmp_path / "broker" / settings.NODE_ID / "out")
        (tmp_path / "broker" / settings.NODE_ID / "out").mkdir(parents=True)
        (tmp_path / "broker" / settings.NODE_ID / "processed").mkdir(parents=True)
        options = {
            "data_folder_in": folder,
            "data_folder_out": folder,
            "processed_folder": str(tmp_path / "broker" / settings.NODE_ID / "processed"),
        }
        with app.connection_for_write(transport_options=options) as connection:
            node_heartbeat.apply_async(connection=connection)
    else:
        from sharing.celery import app

        app.control.purge()  # no heartbeat left over from another test may answer for ours
        node_heartbeat.delay()
    assert not heartbeat_seen()

    with celery_processes(tmp_path, "worker") as logs:
        wait_until(heartbeat_seen, timeout=60, what="the queued heartbeat task", logs=logs)
