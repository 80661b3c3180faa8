from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from sharing.settings import check_production_settings

ROOT = Path(__file__).resolve().parents[2]
GOOD_KEY = "k3y-" + "x9Qz7LmN2vB8cR4tY6uI0oP1aS5dF3gH" * 2


def start_node(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Load the settings in a fresh interpreter, as a production server would at start."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DEBUG", "SECRET_KEY", "SECRET_KEY_FILE", "ALLOWED_HOSTS"}
    }
    environment.update(VAR_DIR=str(tmp_path), SANCTIONS_ENV="production", **env)
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('started')"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_production_refuses_debug(tmp_path) -> None:
    result = start_node(tmp_path, DEBUG="true", SECRET_KEY=GOOD_KEY, ALLOWED_HOSTS="node.example")
    assert result.returncode != 0
    assert "DEBUG must be off in production" in result.stderr


def test_production_refuses_a_missing_or_weak_secret(tmp_path) -> None:
    missing = start_node(tmp_path, ALLOWED_HOSTS="node.example")
    weak = start_node(tmp_path, SECRET_KEY="django-insecure-changeme", ALLOWED_HOSTS="a.example")
    for result in (missing, weak):
        assert result.returncode != 0
        assert "SECRET_KEY (or SECRET_KEY_FILE) must be set" in result.stderr


def test_production_starts_with_safe_settings_from_a_secret_file(tmp_path) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_text(GOOD_KEY)
    result = start_node(tmp_path, SECRET_KEY_FILE=str(secret_file), ALLOWED_HOSTS="a.example")
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"debug": True}, "DEBUG"),
        ({"secret_key": "short"}, "SECRET_KEY"),
        ({"secret_key": "a" * 60}, "SECRET_KEY"),
        ({"allowed_hosts": []}, "ALLOWED_HOSTS"),
    ],
)
def test_each_unsafe_setting_is_named(kwargs: dict, problem: str) -> None:
    settings = {"debug": False, "secret_key": GOOD_KEY, "allowed_hosts": ["a.example"]}
    with pytest.raises(ImproperlyConfigured, match=problem):
        check_production_settings(**{**settings, **kwargs})
    check_production_settings(**settings)


def test_development_key_is_random_and_outside_the_repository(settings) -> None:
    key_file = Path(settings.VAR_DIR) / "dev-secret-key"
    assert key_file.read_text().strip() == settings.SECRET_KEY
    assert len(settings.SECRET_KEY) >= 50
    tracked = subprocess.run(
        ["git", "ls-files", "var"],  # noqa: S607 - git from PATH, as developers run it
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert tracked.stdout == ""


def test_production_refuses_to_sign_in_without_the_code_step(tmp_path) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_text(GOOD_KEY)
    result = start_node(
        tmp_path, SECRET_KEY_FILE=str(secret_file), ALLOWED_HOSTS="a.example", REQUIRE_TOTP="false"
    )
    assert result.returncode != 0
    assert "REQUIRE_TOTP=false is for the local demo" in result.stderr
