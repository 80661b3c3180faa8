"""Batch screening: a CSV of counterparties or payments (names, countries, wallet addresses)
screened in the background, with progress, and the results as CSV with the explanation of
every hit.

The upload is checked whole before anything is written (a clear error, no job); the rows
are screened as the requester (the same gate as everywhere), by a Celery task.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import F
from django.utils import timezone

from agencies.models import User
from designations.exports import _neutralised
from designations.models import ScreeningJob, ScreeningJobStatus
from designations.screen import ScreenQuery, screen

MAX_ROWS = 50_000
MAX_BYTES = 10 * 1024 * 1024
PROGRESS_EVERY = 25  # rows between progress updates
# Header names a file may use for each column (case and spaces ignored).
COLUMNS = {
    "name": {"name", "counterparty", "beneficiary", "customer", "full name", "party"},
    "country": {"country", "nationality", "beneficiary country"},
    "wallet": {"wallet", "wallet address", "address (wallet)", "crypto address"},
    "birth_date": {"birth date", "date of birth", "dob"},
    "reference": {"reference", "id", "payment id", "customer id"},
}


def _column_of(header: str) -> str | None:
    cleaned = " ".join(header.strip().casefold().replace("_", " ").split())
    return next((key for key, names in COLUMNS.items() if cleaned in names), None)


def read_upload(stream: IO[bytes], size: int) -> list[dict[str, str]]:
    """The rows of an uploaded CSV, or a ValidationError saying what is wrong with it."""
    if size > MAX_BYTES:
        raise ValidationError(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB.")
    try:
        text = stream.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError("The file is not UTF-8 text (save it as CSV UTF-8).") from None
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    header = next(reader, None)
    if not header:
        raise ValidationError("The file is empty.")
    columns = {i: key for i, h in enumerate(header) if (key := _column_of(h))}
    if "name" not in columns.values() and "wallet" not in columns.values():
        raise ValidationError(
            "The first line must name the columns, with at least one of: name, wallet "
            "(also accepted: country, birth date, reference)."
        )
    rows = []
    for line, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue
        row = {key: values[i].strip() for i, key in columns.items() if i < len(values)}
        if not row.get("name") and not row.get("wallet"):
            raise ValidationError(f"Line {line} has neither a name nor a wallet address.")
        if any(len(v) > 300 for v in row.values()):
            raise ValidationError(f"Line {line} has a value longer than 300 characters.")
        rows.append(row)
        if len(rows) > MAX_ROWS:
            raise ValidationError(f"More than {MAX_ROWS:,} rows: split the file.")
    if not rows:
        raise ValidationError("The file has a header but no rows.")
    return rows


def job_create(*, actor: User, file_name: str, rows: list[dict[str, str]]) -> ScreeningJob:
    # Every row has every column (empty where the file has none), for the pages and the CSV.
    rows = [{key: row.get(key, "") for key in COLUMNS} for row in rows]
    return ScreeningJob.objects.create(
        requested_by=actor, file_name=file_name[:300], total=len(rows), rows=rows
    )


def _query(row: dict[str, str]) -> ScreenQuery:
    birth = row.get("birth_date", "")
    if birth and not (len(birth) == 4 and birth.isdigit()):
        try:
            birth = dt.date.fromisoformat(birth).isoformat()
        except ValueError:
            birth = ""  # a date we cannot read does not stop the row's screening
    wallet = row.get("wallet", "")
    return ScreenQuery(
        name=row.get("name", ""),
        birth_date=birth,
        nationality=row.get("country", ""),
        identifiers=[{"kind": "digital_currency", "number": wallet}] if wallet else [],
    )


def job_run(job: ScreeningJob) -> None:
    """Screen every row as the requester; progress is saved as it goes."""
    ScreeningJob.objects.filter(pk=job.pk).update(status=ScreeningJobStatus.RUNNING)
    results: list[list[dict[str, Any]]] = []
    alerts = 0
    try:
        for number, row in enumerate(job.rows, start=1):
            matches = screen(job.requested_by, _query(row))
            alerts += bool(matches)
            results.append(
                [
                    {
                        "designation": str(m.designation.pk),
                        "name": m.designation.name,
                        "owner": m.designation.owner.code,
                        "reference_number": m.designation.reference_number,
                        "score": m.score,
                        "explanation": m.explanation,
                    }
                    for m in matches
                ]
            )
            if number % PROGRESS_EVERY == 0:
                ScreeningJob.objects.filter(pk=job.pk).update(done=number, alerts=alerts)
    except Exception as error:
        ScreeningJob.objects.filter(pk=job.pk).update(
            status=ScreeningJobStatus.FAILED, error=str(error)[:2000], finished_at=timezone.now()
        )
        raise
    ScreeningJob.objects.filter(pk=job.pk).update(
        status=ScreeningJobStatus.DONE,
        done=F("total"),
        alerts=alerts,
        results=results,
        finished_at=timezone.now(),
    )


def jobs_expire() -> int:
    """Delete jobs older than SCREENING_JOB_DAYS: their rows are someone's customers."""
    cutoff = timezone.now() - dt.timedelta(days=settings.SCREENING_JOB_DAYS)
    deleted, _ = ScreeningJob.objects.filter(created_at__lt=cutoff).delete()
    return deleted


def explain(match: dict[str, Any]) -> str:
    """One line a compliance officer reads: what matched, and how."""
    parts = []
    explanation = match["explanation"]
    if name := explanation.get("name"):
        parts.append(f"name “{name['matched']}” {name['score']}/100 by {name['by']}")
    if identifier := explanation.get("identifier"):
        parts.append(f"same {identifier['kind'].replace('_', ' ')} {identifier['number']}")
    for fact in ("birth_date", "nationality"):
        if fact in explanation:
            parts.append(f"{fact.replace('_', ' ')} {explanation[fact]}")
    return "; ".join(parts)


RESULT_COLUMNS = [
    "line",
    "reference",
    "name",
    "country",
    "wallet",
    "rank",
    "score",
    "designation",
    "listed_by",
    "listing_reference",
    "designation_id",
    "explanation",
]


def results_csv(job: ScreeningJob) -> Iterator[bytes]:
    """One line per hit (and one per row without a hit), spreadsheet-safe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> bytes:
        data = buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()
        return data

    writer.writerow(RESULT_COLUMNS)
    yield b"\xef\xbb\xbf" + flush()
    for line, (row, matches) in enumerate(zip(job.rows, job.results, strict=False), start=2):
        given = [line, row.get("reference", ""), row.get("name", ""), row.get("country", "")]
        given.append(row.get("wallet", ""))
        if not matches:
            writer.writerow([_neutralised(v) for v in [*given, "", "", "", "", "", "", ""]])
        for rank, match in enumerate(matches, start=1):
            hit = [
                rank,
                match["score"],
                match["name"],
                match["owner"],
                match["reference_number"],
                match["designation"],
                explain(match),
            ]
            writer.writerow([_neutralised(v) for v in [*given, *hit]])
        yield flush()
