"""Sync events are logged as JSON lines with their fields."""

from __future__ import annotations

import json
import logging

from sharing.log_format import JsonFormatter


def test_a_sync_event_is_one_json_object_with_its_fields() -> None:
    record = logging.makeLogRecord(
        {
            "name": "sharing.sync",
            "levelname": "INFO",
            "msg": "sync pull from %s",
            "args": ("eu",),
            "event": "pull",
            "partner": "eu",
            "cursor": 1884,
        }
    )
    line = JsonFormatter().format(record)
    assert "\n" not in line
    body = json.loads(line)
    assert body["message"] == "sync pull from eu"
    assert (body["event"], body["partner"], body["cursor"]) == ("pull", "eu", 1884)
    assert body["logger"] == "sharing.sync" and "args" not in body
