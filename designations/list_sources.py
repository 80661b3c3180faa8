"""Periodic re-import of published lists from where they are published (LIST_SOURCES): a
local file or folder, or an https address fetched to a private temporary file first.

Each source is imported on its own (one bad download does not stop the others) through the
same all-or-nothing importer as the command; an unchanged file is a no-op. Failures are
logged and audited, so operators see a list that stopped arriving.
"""

from __future__ import annotations

import logging
import tempfile
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from django.conf import settings

from agencies.models import Agency
from designations.imports import ImportRefused, ImportResult, ListFormatError, import_list
from sharing.audit import audit_record
from sharing.models import AuditAction

log = logging.getLogger(__name__)
TIMEOUT_SECONDS = 60  # for each read
DOWNLOAD_SECONDS = 900  # for the whole file
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}


class SourceUnavailable(Exception):
    """The list could not be fetched (address refused, server down, too large)."""


@dataclass
class SourceOutcome:
    publisher: str
    location: str
    result: ImportResult | None = None
    error: str = ""


def fetch(url: str, directory: Path) -> Path:
    """Download `url` into `directory`, streamed, refusing anything but https (plain http
    only on this machine, for tests) and files larger than LIST_DOWNLOAD_MAX_BYTES."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "https" and not (parts.scheme == "http" and parts.hostname in LOCAL_HOSTS):
        raise SourceUnavailable(f"{url}: only https addresses are fetched")
    name = Path(parts.path).name or "list"
    target = directory / name
    limit = settings.LIST_DOWNLOAD_MAX_BYTES
    deadline = time.monotonic() + DOWNLOAD_SECONDS
    try:
        # No redirects: each hop would need the https check again; configure the final address.
        with requests.get(
            url, stream=True, timeout=TIMEOUT_SECONDS, allow_redirects=False
        ) as response:
            if response.is_redirect:
                location = response.headers.get("Location", "")
                raise SourceUnavailable(f"{url}: redirected to {location}; configure that address")
            if response.status_code != 200:
                raise SourceUnavailable(f"{url}: the server answered {response.status_code}")
            size = 0
            with target.open("wb") as out:
                for chunk in response.iter_content(chunk_size=1 << 16):
                    size += len(chunk)
                    if size > limit:
                        raise SourceUnavailable(f"{url}: larger than {limit} bytes")
                    if time.monotonic() > deadline:
                        raise SourceUnavailable(f"{url}: slower than {DOWNLOAD_SECONDS} s")
                    out.write(chunk)
    except requests.RequestException as error:
        raise SourceUnavailable(f"{url}: {error.__class__.__name__}") from error
    return target


def _import_one(source: Any) -> SourceOutcome:
    if not isinstance(source, dict):
        source = {"location": repr(source)}
    publisher, location = str(source.get("publisher", "")), str(source.get("location", ""))
    outcome = SourceOutcome(publisher, location)
    try:
        code = source.get("agency") or settings.LIST_PUBLISHER_AGENCIES.get(publisher)
        agency = Agency.objects.filter(code=code).select_related("home_node").first()
        if agency is None:
            raise ImportRefused(f"no agency with code {code!r}")
        with tempfile.TemporaryDirectory(prefix="list-") as directory:
            is_url = urllib.parse.urlsplit(location).scheme in {"http", "https"}
            path = fetch(location, Path(directory)) if is_url else Path(location)
            outcome.result = import_list(publisher=publisher, path=path, agency=agency)
    except (SourceUnavailable, ImportRefused, ListFormatError, OSError) as error:
        outcome.error = str(error)
        log.warning("list re-import of %s from %s failed: %s", publisher, location, error)
    except Exception as error:  # anything else: this source fails, the others still come
        outcome.error = f"unexpected {error.__class__.__name__}; see the log"
        log.exception("list re-import of %s from %s failed", publisher, location)
    if outcome.error:
        audit_record(
            AuditAction.IMPORT,
            detail={"publisher": publisher, "location": location, "error": outcome.error},
        )
    return outcome


def reimport_all() -> list[SourceOutcome]:
    return [_import_one(source) for source in settings.LIST_SOURCES]
