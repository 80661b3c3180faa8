"""Screening in the portal: one name at once, and a file of counterparties screened by a
real Celery worker, with progress and results as CSV explaining each hit."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from designations.imports import import_list
from designations.models import ScreeningJob
from designations.screening_jobs import job_run
from tests.conftest import UN_EXCERPT
from tests.live import celery_processes, wait_until

pytestmark = pytest.mark.django_db
BATCH = (
    "Reference,Name,Country,Wallet\n"
    "P-1,Husain al-Tikriti Sadam,Iraq,\n"
    "P-2,Jane Ordinary Customer,France,\n"
    'P-3,=HYPERLINK("http://evil"),,\n'
)


@pytest.fixture
def un_list(unsc):  # type: ignore[no-untyped-def]
    import_list(publisher="un", path=UN_EXCERPT, agency=unsc)


def upload(client, text: str | bytes, name: str = "payments.csv"):  # type: ignore[no-untyped-def]
    data = text.encode() if isinstance(text, str) else text
    return client.post("/screening/jobs/", {"file": SimpleUploadedFile(name, data)})


def test_one_name_is_screened_on_the_page(client, bob, un_list) -> None:
    client.force_login(bob)
    page = client.post("/screening/", {"name": "Sadam Husain al Tikriti", "nationality": "Iraq"})
    assert page.status_code == 200
    [best, *_] = page.context["matches"]
    assert best.designation.reference_number == "IQi.001" and "name" in best.explanation
    nothing = client.post("/screening/", {"name": "Jane Ordinary Customer"})
    assert nothing.context["matches"] == [] and "No match" in nothing.text
    bad = client.post("/screening/", {"name": "", "wallet": ""})
    assert bad.status_code == 400 and "Give a name, a wallet address, or both." in bad.text
    bad_date = client.post("/screening/", {"name": "X Y", "birth_date": "31/01/1970"})
    assert bad_date.status_code == 400 and "A date (YYYY-MM-DD) or a year" in bad_date.text


def test_a_file_is_screened_and_its_results_explain_each_hit(client, bob, un_list) -> None:
    client.force_login(bob)
    created = upload(client, BATCH)
    job = ScreeningJob.objects.get()
    assert created.status_code == 302 and created.url == f"/screening/jobs/{job.pk}/"
    assert (job.status, job.total, job.requested_by) == ("queued", 3, bob)
    job_run(job)  # what the worker does (a real worker runs it in the next test)
    progress = client.get(f"/screening/jobs/{job.pk}/progress").json()
    assert progress == {"status": "done", "done": 3, "total": 3, "alerts": 1}
    page = client.get(f"/screening/jobs/{job.pk}/")
    assert "1 row with possible matches" in page.text
    results = client.get(f"/screening/jobs/{job.pk}/results.csv")
    assert results["Cache-Control"] == "no-store"
    rows = list(
        csv.DictReader(io.StringIO(b"".join(results.streaming_content).decode("utf-8-sig")))
    )
    hit = next(r for r in rows if r["reference"] == "P-1")
    assert hit["listing_reference"] == "IQi.001" and hit["rank"] == "1"
    assert "name “SADDAM HUSSEIN AL-TIKRITI”" in hit["explanation"]
    assert "nationality same" in hit["explanation"]
    assert next(r for r in rows if r["reference"] == "P-2")["designation"] == ""
    # A cell a spreadsheet would run is neutralised.
    assert next(r for r in rows if r["reference"] == "P-3")["name"].startswith("'=")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff\xfeN\x00a\x00", "not UTF-8"),
        ("", "The submitted file is empty."),  # Django refuses it before we read it
        ("Colour,Size\nred,big\n", "The first line must name the columns"),
        ("Name,Country\n", "header but no rows"),
        ("Name,Country\n,France\n", "Line 2 has neither a name nor a wallet address."),
        ("Name\n" + "x" * 301 + "\n", "longer than 300 characters"),
    ],
)
def test_a_bad_file_is_refused_and_no_job_is_made(client, bob, content, message) -> None:
    client.force_login(bob)
    answer = upload(client, content)
    assert answer.status_code == 400 and message in answer.content.decode()
    assert not ScreeningJob.objects.exists()


def test_a_job_is_its_requesters_alone(client, bob, charlie, un_list) -> None:
    client.force_login(bob)
    upload(client, BATCH)
    job = ScreeningJob.objects.get()
    job_run(job)
    client.force_login(charlie)
    for path in ("", "progress", "results.csv"):
        assert client.get(f"/screening/jobs/{job.pk}/{path}").status_code == 404
    assert "payments.csv" not in client.get("/screening/").text


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_screens_the_file(client, bob, un_list) -> None:
    client.force_login(bob)
    # The worker reads the broker this process sends to (its folders, or the CI's Redis).
    with celery_processes(Path(settings.VAR_DIR), "worker") as logs:
        upload(client, BATCH)
        job = ScreeningJob.objects.get()
        wait_until(
            lambda: ScreeningJob.objects.get(pk=job.pk).status == "done",
            timeout=60,
            what="the worker to screen the file",
            logs=logs,
        )
    job.refresh_from_db()
    assert (job.done, job.alerts) == (3, 1)
    assert job.results[0][0]["reference_number"] == "IQi.001"


def test_a_hit_no_longer_visible_leaves_the_stored_results(client, alice, bob, agency_a) -> None:
    """A job keeps its hits, but shows and downloads only those its requester may still see:
    A narrows its listing after B's file was screened."""
    from designations.models import Regime
    from designations.services import designation_amend, designation_create

    regime = Regime.objects.create(owner=agency_a, code="R", name="R")
    listing = designation_create(
        actor=alice,
        regime=regime,
        marking="CLEAR",
        data={"name": "Jane Ordinary Customer", "subject_kind": "person"},
    )
    client.force_login(bob)
    upload(client, BATCH)
    job = ScreeningJob.objects.get()
    job_run(job)
    job.refresh_from_db()
    assert job.results[1][0]["designation"] == str(listing.pk)  # P-2 hit A's listing

    designation_amend(
        actor=alice, designation=listing, changes={"marking": "AMBER"}, reason="Narrowed."
    )
    page = client.get(f"/screening/jobs/{job.pk}/")
    results = b"".join(client.get(f"/screening/jobs/{job.pk}/results.csv").streaming_content)
    assert str(listing.pk) not in page.text and str(listing.pk) not in results.decode()
    assert "Jane Ordinary Customer" in results.decode()  # the row itself, with no hit
