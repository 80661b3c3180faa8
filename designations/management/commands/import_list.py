"""python manage.py import_list {un,ofac,eu,uk} PATH [--agency CODE] [--generated-at DATE]"""

from __future__ import annotations

import datetime as dt
import io
import sys
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from agencies.models import Agency
from designations.imports import PARSERS, ImportRefused, ListFormatError, import_list
from designations.reconcile import reconcile


class Command(BaseCommand):
    help = "Import a published sanctions list file (all-or-nothing, idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("publisher", choices=sorted(PARSERS), help="whose list format")
        parser.add_argument(
            "path", type=Path, help="the list file, or the folder of OFAC's CSV set"
        )
        parser.add_argument(
            "--generated-at",
            type=_date,
            help="publication date (YYYY-MM-DD) of a list whose file carries none (OFAC CSV)",
        )
        parser.add_argument(
            "--agency",
            help="code of the (local) agency that publishes the list; default from "
            "LIST_PUBLISHER_AGENCIES",
        )
        parser.add_argument("--no-progress", action="store_true")

    def handle(
        self,
        *args: Any,
        publisher: str,
        path: Path,
        agency: str | None,
        no_progress: bool,
        generated_at: dt.datetime | None = None,
        **options: Any,
    ) -> None:
        if not path.exists():
            raise CommandError(f"{path}: no such file or folder")
        code = agency or settings.LIST_PUBLISHER_AGENCIES.get(publisher)
        owner = Agency.objects.filter(code=code).select_related("home_node").first()
        if owner is None:
            raise CommandError(f"no agency with code {code!r}; create it first or pass --agency")

        size = sum(f.stat().st_size for f in ([path] if path.is_file() else path.iterdir()))
        show = not no_progress and sys.stderr.isatty()
        with tqdm(total=size, unit="B", unit_scale=True, desc=path.name, disable=not show) as bar:
            try:
                result = import_list(
                    publisher=publisher,
                    path=path,
                    agency=owner,
                    wrap_stream=lambda stream: io.BufferedReader(_ProgressReader(stream, bar)),
                    generated_at=generated_at,
                )
            except (ListFormatError, ImportRefused) as error:
                raise CommandError(f"{path.name}: {error}. Nothing was imported.") from error

        if result.already_imported:
            self.stdout.write(
                f"{path.name} was already imported on {result.publication.imported_at:%Y-%m-%d}"
                " as publication of "
                f"{result.publication.generated_at:%Y-%m-%d}; nothing changed."
            )
            return
        for element, count in sorted(result.unknown_elements.items()):
            self.stderr.write(f"warning: {count} <{element}> elements are not imported")
        self.stdout.write(self.style.SUCCESS(f"Imported {path.name}: {result.summary()}"))
        # The new entries may name subjects other agencies list: link them now.
        self.stdout.write(f"Subject links: {reconcile().summary()}")


def _date(value: str) -> dt.datetime:
    try:
        return dt.datetime.combine(dt.date.fromisoformat(value), dt.time(), tzinfo=dt.UTC)
    except ValueError:
        raise CommandError(f"--generated-at {value!r} is not a date (YYYY-MM-DD)") from None


class _ProgressReader(io.RawIOBase):
    """Moves the progress bar as the parser reads the file (a real stream, so that parsers may
    wrap it in a text reader)."""

    def __init__(self, stream: IO[bytes], bar: tqdm) -> None:
        self.stream, self.bar = stream, bar

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.stream.read(len(buffer))
        buffer[: len(data)] = data
        self.bar.update(len(data))
        return len(data)
