"""Tiny helpers that read settings from the environment (healthchecks style)."""

from __future__ import annotations

import os
from pathlib import Path


def envbool(name: str, default: str) -> bool:
    value = os.getenv(name, default).strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"{name} must be a boolean (true/false), got {value!r}")


def envint(name: str, default: str) -> int:
    return int(os.getenv(name, default))


def envlist(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.getenv(name, default).split(",") if item.strip()]


def envsecret(name: str) -> str | None:
    """A secret from NAME, or from the file named by NAME_FILE (container secrets)."""
    if value := os.getenv(name):
        return value
    if path := os.getenv(f"{name}_FILE"):
        return Path(path).read_text().strip()
    return None
