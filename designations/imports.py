"""Importing a published list: compare with the last publication and write the difference.

Published lists carry no change records, so a change is found by comparing each entry's
content hash with the one stored at the last import; an entry gone from the file is delisted.
One file is one transaction: a bad record anywhere leaves the database as it was.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib
import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from agencies.models import Agency, User
from designations.data import CHILDREN, apply_scalars, changed_fields, child_rows, content_hash
from designations.formats import ListFormatError, ParsedEntry
from designations.models import (
    Designation,
    DesignationStatus,
    DesignationVersion,
    ListPublication,
    Publisher,
    Regime,
    SourceEntry,
)
from designations.reviews import open_reviews_for_delistings
from designations.services import DESIGNATION
from sharing.audit import audit_record
from sharing.changelog import change_log_append_many
from sharing.models import AuditAction, ChangeAction, ChangeLogEntry, Marking

BATCH_SIZE = 500


class ImportRefused(Exception):
    """The file cannot be imported as asked; nothing was written."""


@dataclass
class ImportResult:
    publication: ListPublication
    already_imported: bool = False
    added: int = 0
    amended: int = 0
    delisted: int = 0
    relisted: int = 0
    unchanged: int = 0
    unknown_elements: dict[str, int] = field(default_factory=dict)
    review_tasks: int = 0

    @property
    def record_count(self) -> int:
        return self.added + self.amended + self.relisted + self.unchanged

    def summary(self) -> str:
        return (
            f"{self.record_count} records: {self.added} added, {self.amended} amended, "
            f"{self.relisted} relisted, {self.delisted} delisted, {self.unchanged} unchanged"
        )


# Each publisher's parser module. A module has `parser_for(path)`, which picks the parser
# class for the file (or folder, for a set of files) at `path`, and may have `REGIMES`:
# regime code -> (name, legal basis).
PARSERS: dict[str, str] = {
    Publisher.UN: "designations.formats.un",
    Publisher.OFAC: "designations.formats.ofac",
    Publisher.EU: "designations.formats.eu",
    Publisher.UK: "designations.formats.uk",
    Publisher.FTM: "designations.formats.ftm",
}


def _format_module(publisher: str) -> Any:
    return importlib.import_module(PARSERS[publisher])


def _files_of(path: Path) -> list[Path]:
    """The files that make up one publication: the file, or a folder's files (OFAC's CSV set)."""
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
    return [path]


def file_sha256(path: Path) -> str:
    """SHA-256 of the publication: of the file, or of a folder's file names and contents."""
    digest = hashlib.sha256()
    files = _files_of(path)
    for file in files:
        if len(files) > 1 or path.is_dir():
            digest.update(f"{file.name}\n".encode())
        with file.open("rb") as stream:
            for block in iter(lambda: stream.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def _spaced(value: Any) -> Any:
    """Text with its runs of white space as one space: a file re-wrapped by its publisher
    (the UN's 2026 file breaks lines its 2020 file did not) is not an amendment."""
    if isinstance(value, str):
        return " ".join(value.split())
    if isinstance(value, dict):
        return {key: _spaced(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_spaced(item) for item in value]
    return value


def _entry_hash(entry: ParsedEntry) -> str:
    return content_hash(
        _spaced(
            {
                "regime": entry.regime_code,
                "data": entry.data,
                "details": entry.details,
                "cross_references": entry.cross_references,
                "source_version": entry.source_version,
            }
        )
    )


class _Importer:
    """One import run: holds the lookups and the pending rows of the current batch."""

    def __init__(
        self, *, publisher: str, agency: Agency, publication: ListPublication, actor: User | None
    ) -> None:
        self.publisher = publisher
        self.agency = agency
        self.publication = publication
        self.actor = actor
        self.regimes = {r.code: r for r in Regime.objects.filter(owner=agency)}
        # source_id -> (source entry, designation) for everything this publisher listed before.
        self.known = {
            s.source_id: s
            for s in SourceEntry.objects.filter(
                publisher=publisher, designation__owner=agency
            ).select_related("designation")
        }
        self.seen: set[str] = set()
        self.delisted_ids: list[Any] = []
        self.result = ImportResult(publication=publication)
        self.pending: list[tuple[str, ParsedEntry, str]] = []
        # Unchanged entries: only their last_publication moves.
        self.touched: list[SourceEntry] = []

    def regime(self, code: str, name_given: str = "") -> Regime:
        if code not in self.regimes:
            known = getattr(_format_module(self.publisher), "REGIMES", {})
            name, legal_basis = known.get(code, (name_given or code, ""))
            self.regimes[code] = Regime.objects.create(
                owner=self.agency, code=code, name=name, legal_basis=legal_basis
            )
        return self.regimes[code]

    def add(self, entry: ParsedEntry) -> None:
        self.seen.add(entry.source_id)
        digest = _entry_hash(entry)
        source = self.known.get(entry.source_id)
        unchanged = (
            source is not None
            and source.content_hash == digest
            # The same content back after a delisting is a relisting, so a new version.
            and source.designation.status != DesignationStatus.DELISTED
        )
        if unchanged:
            self.result.unchanged += 1
            self.touched.append(source)
            return
        self.pending.append((entry.source_id, entry, digest))
        if len(self.pending) >= BATCH_SIZE:
            self.flush()

    def flush(self) -> None:
        """Write the pending entries with a fixed number of queries per batch."""
        new_designations, changed, sources_new, sources_changed = [], [], [], []
        previous_snapshots = self._latest_snapshots(
            [self.known[s].designation_id for s, _, _ in self.pending if s in self.known]
        )
        versions, log, children = [], [], []
        for source_id, entry, digest in self.pending:
            source = self.known.get(source_id)
            previous = previous_snapshots.get(source.designation_id) if source else None
            data = {
                **entry.data,
                "status": DesignationStatus.ACTIVE,
                # A published list is public; a marking or grants set here outlive amendments.
                "marking": source.designation.marking if source else Marking.CLEAR,
                "delisted_on": None,
                "regime": entry.regime_code,
                "audience": (previous or {}).get("audience", []),
            }
            if source is None:
                designation = Designation(
                    owner=self.agency, regime=self.regime(entry.regime_code, entry.regime_name)
                )
                apply_scalars(designation, data)
                new_designations.append(designation)
                source = SourceEntry(
                    designation=designation,
                    publisher=self.publisher,
                    source_id=source_id,
                    first_publication=self.publication,
                )
                sources_new.append(source)
                action = ChangeAction.CREATE
                self.result.added += 1
            else:
                designation = source.designation
                was_delisted = designation.status == DesignationStatus.DELISTED
                designation.regime = self.regime(entry.regime_code, entry.regime_name)
                apply_scalars(designation, data)
                designation.version += 1
                changed.append(designation)
                sources_changed.append(source)
                action = ChangeAction.UPDATE
                if was_delisted:
                    self.result.relisted += 1
                else:
                    self.result.amended += 1
            source.reference_number = entry.reference_number
            source.source_version = entry.source_version
            source.content_hash = digest
            source.cross_references = entry.cross_references
            source.details = entry.details
            source.last_publication = self.publication
            children.extend(child_rows(designation, data))
            versions.append(self._version(designation, data, previous))
            log.append(self._log(designation, action))

        Designation.objects.bulk_create(new_designations)
        # One plain UPDATE per changed row: Django's bulk_update builds a CASE expression per
        # field and row, which is several times slower at these sizes.
        designation_fields = [
            f.name
            for f in Designation._meta.concrete_fields
            if f.name not in {"id", "owner", "created_at"}
        ]
        for designation in changed:
            designation.updated_at = timezone.now()
            designation.save(update_fields=designation_fields)
        if changed:
            for model, _fields in CHILDREN.values():
                model.objects.filter(designation__in=changed).delete()
        for model, _fields in CHILDREN.values():
            model.objects.bulk_create([row for row in children if isinstance(row, model)])
        SourceEntry.objects.bulk_create(sources_new)
        for source in sources_changed:
            source.save(
                update_fields=[
                    "reference_number",
                    "source_version",
                    "content_hash",
                    "cross_references",
                    "details",
                    "last_publication",
                ]
            )
        DesignationVersion.objects.bulk_create(versions)
        change_log_append_many(log)
        self.pending = []

    def delist_missing(self) -> None:
        gone = [
            source
            for source_id, source in self.known.items()
            if source_id not in self.seen
            and source.designation.status != DesignationStatus.DELISTED
        ]
        delisted_on = self.publication.generated_at.date()
        for start in range(0, len(gone), BATCH_SIZE):
            batch = gone[start : start + BATCH_SIZE]
            snapshots = self._latest_snapshots([s.designation_id for s in batch])
            versions, log, designations = [], [], []
            for source in batch:
                designation = source.designation
                designation.status = DesignationStatus.DELISTED
                designation.delisted_on = delisted_on
                designation.version += 1
                designation.updated_at = timezone.now()
                previous = snapshots.get(designation.pk, {})
                data = {
                    **previous,
                    "status": designation.status,
                    "delisted_on": delisted_on.isoformat(),
                }
                designations.append(designation)
                versions.append(self._version(designation, data, previous))
                log.append(self._log(designation, ChangeAction.DELIST))
            self.delisted_ids.extend(d.pk for d in designations)
            Designation.objects.filter(pk__in=[d.pk for d in designations]).update(
                status=DesignationStatus.DELISTED,
                delisted_on=delisted_on,
                version=F("version") + 1,
                updated_at=timezone.now(),
            )
            DesignationVersion.objects.bulk_create(versions)
            change_log_append_many(log)
            self.result.delisted += len(designations)

    def _latest_snapshots(self, designation_ids: Iterable[Any]) -> dict[Any, dict[str, Any]]:
        ids = list(designation_ids)
        if not ids:
            return {}
        rows = (
            DesignationVersion.objects.filter(designation_id__in=ids)
            .order_by("designation_id", "-version")
            .values_list("designation_id", "snapshot")
        )
        latest: dict[Any, dict[str, Any]] = {}
        for designation_id, snapshot in rows:
            latest.setdefault(designation_id, snapshot)
        return latest

    def _version(
        self, designation: Designation, data: dict[str, Any], previous: dict[str, Any] | None
    ) -> DesignationVersion:
        return DesignationVersion(
            designation=designation,
            version=designation.version,
            status=designation.status,
            snapshot=data,
            changed_fields=changed_fields(previous, data),
            actor=self.actor,
            actor_agency=self.agency,
            publication=self.publication,
            reason=f"{self.publication}",
        )

    @staticmethod
    def _log(designation: Designation, action: ChangeAction) -> ChangeLogEntry:
        return ChangeLogEntry(
            object_type=DESIGNATION,
            object_id=designation.pk,
            version=designation.version,
            action=action,
        )


def import_list(
    *,
    publisher: str,
    path: Path,
    agency: Agency,
    actor: User | None = None,
    wrap_stream: Callable[[IO[bytes]], IO[bytes]] = lambda stream: stream,
    generated_at: dt.datetime | None = None,
) -> ImportResult:
    """Import one published file (or folder, for a set of files) for `agency`. Raises
    ListFormatError or ImportRefused, having written nothing, when it cannot be imported.
    `generated_at` dates a list whose file carries no date (OFAC's CSV set)."""
    if publisher not in PARSERS:
        raise ImportRefused(f"no importer for publisher {publisher!r}")
    if not path.exists():
        raise ImportRefused(f"{path}: no such file or folder")
    if not agency.is_local:
        raise ImportRefused(
            f"{agency.code} is hosted on node {agency.home_node.node_id}; import it there"
        )
    sha256 = file_sha256(path)
    existing = ListPublication.objects.filter(publisher=publisher, file_sha256=sha256).first()
    if existing is not None:
        return ImportResult(publication=existing, already_imported=True)

    parser_class = _format_module(publisher).parser_for(path)
    main_file = parser_class.main_file(path) if hasattr(parser_class, "main_file") else path
    with transaction.atomic(), main_file.open("rb") as raw:
        parser = parser_class(wrap_stream(raw), path=path)
        entries = iter(parser)
        first = next(entries, None)
        if first is None:
            raise ImportRefused(
                "the file lists no designations; importing it would delist every entry"
            )
        header = parser.header
        if generated_at is not None:
            header.generated_at = generated_at
        if header.generated_at is None:
            raise ImportRefused(
                "the file does not say when it was published; give its date (--generated-at)"
            )
        latest = (
            ListPublication.objects.filter(publisher=publisher, agency=agency)
            .order_by("-generated_at")
            .first()
        )
        if latest is not None and header.generated_at <= latest.generated_at:
            raise ImportRefused(
                f"the file was generated on {header.generated_at:%Y-%m-%d %H:%M}, not after the "
                f"last imported list ({latest.generated_at:%Y-%m-%d %H:%M}); importing it would "
                "undo newer changes"
            )
        publication = ListPublication.objects.create(
            publisher=publisher,
            agency=agency,
            generated_at=header.generated_at,
            file_name=path.name[:300],
            file_sha256=sha256,
            record_count=0,
            imported_by=actor,
        )
        importer = _Importer(
            publisher=publisher, agency=agency, publication=publication, actor=actor
        )
        for entry in itertools.chain([first], entries):
            importer.add(entry)
        importer.flush()
        touched = [source.pk for source in importer.touched]
        for start in range(0, len(touched), BATCH_SIZE):
            SourceEntry.objects.filter(pk__in=touched[start : start + BATCH_SIZE]).update(
                last_publication=publication
            )
        importer.delist_missing()
        result = importer.result
        # Agencies that list a subject this list dropped are asked whether theirs stands.
        result.review_tasks = open_reviews_for_delistings(importer.delisted_ids)
        result.unknown_elements = dict(parser.unknown_elements)
        publication.record_count = result.record_count
        publication.added, publication.amended = result.added, result.amended
        publication.delisted, publication.relisted = result.delisted, result.relisted
        publication.save()
        audit_record(
            AuditAction.IMPORT,
            obj=publication,
            actor=actor,
            detail={"file": publication.file_name, "sha256": sha256, "summary": result.summary()},
        )
    return result


__all__ = ["ImportRefused", "ImportResult", "ListFormatError", "import_list"]
