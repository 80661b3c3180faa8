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
from designations.exports import csv_stream
from designations.models import ScreeningJob, ScreeningJobStatus
from designations.screen import ScreenQuery, name_index, screen
from sharing import access

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
    try:
        return _rows(reader)
    except csv.Error as error:
        raise ValidationError(f"Line {reader.line_num} is not CSV: {error}.") from None


def _rows(reader: Any) -> list[dict[str, str]]:
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
    for values in reader:
        line = reader.line_num  # the file's own line (a quoted cell may span several)
        if not any(v.strip() for v in values):
            continue
        row = {key: values[i].strip() for i, key in columns.items() if i < len(values)}
        if not row.get("name") and not row.get("wallet"):
            raise ValidationError(f"Line {line} has neither a name nor a wallet address.")
        if any(len(v) > 300 for v in row.values()):
            raise ValidationError(f"Line {line} has a value longer than 300 characters.")
        rows.append({**row, "line": line})
        if len(rows) > MAX_ROWS:
            raise ValidationError(f"More than {MAX_ROWS:,} rows: split the file.")
    if not rows:
        raise ValidationError("The file has a header but no rows.")
    return rows


def job_create(*, actor: User, file_name: str, rows: list[dict[str, str]]) -> ScreeningJob:
    # Every row has every column (empty where the file has none), for the pages and the CSV.
    rows = [{key: row.get(key, "") for key in [*COLUMNS, "line"]} for row in rows]
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


def job_claim(job_id: Any) -> ScreeningJob | None:
    """The queued job, now running; None if another delivery of the task took it."""
    claimed = ScreeningJob.objects.filter(pk=job_id, status=ScreeningJobStatus.QUEUED).update(
        status=ScreeningJobStatus.RUNNING
    )
    return ScreeningJob.objects.get(pk=job_id) if claimed else None


def job_run(job: ScreeningJob) -> None:
    """Screen every row as the requester; progress is saved as it goes."""
    ScreeningJob.objects.filter(pk=job.pk).update(status=ScreeningJobStatus.RUNNING)
    results: list[list[dict[str, Any]]] = []
    alerts = 0
    try:
        index = name_index()
        for number, row in enumerate(job.rows, start=1):
            matches = screen(job.requested_by, _query(row), index=index)
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
    except Exception:
        # The reason goes to the log; the page says only that it stopped.
        ScreeningJob.objects.filter(pk=job.pk).update(
            status=ScreeningJobStatus.FAILED,
            error="An internal error stopped the screening; the operators have the details.",
            finished_at=timezone.now(),
        )
        raise
    ScreeningJob.objects.filter(pk=job.pk).update(
        status=ScreeningJobStatus.DONE,
        done=F("total"),
        alerts=alerts,
        results=results,
        finished_at=timezone.now(),
    )


def expiry_cutoff() -> dt.datetime:
    return timezone.now() - dt.timedelta(days=settings.SCREENING_JOB_DAYS)


def jobs_expire() -> int:
    """Delete jobs older than SCREENING_JOB_DAYS: their rows are someone's customers."""
    deleted, _ = ScreeningJob.objects.filter(created_at__lt=expiry_cutoff()).delete()
    return deleted


def visible_results(job: ScreeningJob) -> list[list[dict[str, Any]]]:
    """The job's hits that its requester may still see (a grant revoked since the run takes
    its hits away, as everywhere)."""
    ids = {m["designation"] for matches in job.results for m in matches}
    seen = {
        str(pk)
        for pk in access.designations_for(job.requested_by)
        .filter(pk__in=ids)
        .values_list("pk", flat=True)
    }
    return [[m for m in matches if m["designation"] in seen] for matches in job.results]


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
    return csv_stream(RESULT_COLUMNS, _result_rows(job))


def _result_rows(job: ScreeningJob) -> Iterator[list[Any]]:
    for row, matches in zip(job.rows, visible_results(job), strict=False):
        given = [row.get("line", ""), row.get("reference", ""), row.get("name", "")]
        given += [row.get("country", ""), row.get("wallet", "")]
        if not matches:
            yield [*given, "", "", "", "", "", "", ""]
        for rank, match in enumerate(matches, start=1):
            yield [
                *given,
                rank,
                match["score"],
                match["name"],
                match["owner"],
                match["reference_number"],
                match["designation"],
                explain(match),
            ]
