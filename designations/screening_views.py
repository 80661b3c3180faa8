"""Portal pages of screening: one name at once, or a file of them in the background."""

from __future__ import annotations

from uuid import UUID

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.files.uploadhandler import MemoryFileUploadHandler
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from designations.models import ScreeningJob
from designations.screen import ScreenQuery, screen
from designations.screening_jobs import (
    MAX_BYTES,
    expiry_cutoff,
    job_create,
    read_upload,
    results_csv,
    visible_results,
)
from designations.tasks import run_screening_job


class ScreenForm(forms.Form):
    name = forms.CharField(max_length=300, required=False, label="Name")
    birth_date = forms.CharField(
        max_length=10, required=False, label="Birth date or year", help_text="YYYY-MM-DD or YYYY"
    )
    nationality = forms.CharField(max_length=100, required=False, label="Country")
    wallet = forms.CharField(max_length=200, required=False, label="Wallet address")

    def clean_birth_date(self) -> str:
        value = self.cleaned_data["birth_date"].strip()
        if value and not (len(value) == 4 and value.isdigit()):
            try:
                return forms.DateField().clean(value).isoformat()
            except ValidationError:
                raise ValidationError("A date (YYYY-MM-DD) or a year (YYYY).") from None
        return value

    def clean(self) -> dict:
        data = super().clean()
        if not data.get("name", "").strip() and not data.get("wallet", "").strip():
            raise ValidationError("Give a name, a wallet address, or both.")
        return data


class BatchForm(forms.Form):
    file = forms.FileField(
        label="CSV of counterparties or payments",
        help_text="First line: column names, with name and/or wallet; also country, birth "
        "date, reference.",
    )


def _my_jobs(request: HttpRequest):  # type: ignore[no-untyped-def]
    """My jobs not yet expired (the daily expiry deletes them; until it runs they are gone
    all the same)."""
    return ScreeningJob.objects.filter(
        requested_by=request.user, created_at__gte=expiry_cutoff()
    ).defer("rows", "results")


@login_required
@require_http_methods(["GET", "POST"])
def screening(request: HttpRequest) -> HttpResponse:
    """GET /screening/: the forms and my batch jobs; POST screens one name (a POST, so that a
    customer's name stays out of addresses, browser history and access logs)."""
    form = ScreenForm(request.POST if request.method == "POST" else None)
    matches = None
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        wallet = data["wallet"].strip()
        matches = screen(
            request.user,
            ScreenQuery(
                name=data["name"],
                birth_date=data["birth_date"],
                nationality=data["nationality"],
                identifiers=[{"kind": "digital_currency", "number": wallet}] if wallet else [],
            ),
        )
    context = {
        "form": form,
        "matches": matches,
        "batch": BatchForm(),
        "jobs": _my_jobs(request)[:20],
    }
    return render(request, "portal/screening.html", context, status=400 if form.errors else 200)


class _UploadInMemory(MemoryFileUploadHandler):
    """Batch files up to MAX_BYTES are read in memory (the site's handlers keep uploads
    beyond 2.5 MB for the encrypting attachment handler); a larger one is refused."""

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):  # type: ignore[no-untyped-def]
        # A little more than the file: the form's own fields travel with it.
        self.activated = content_length is not None and content_length <= MAX_BYTES + 65536


@login_required
@csrf_exempt  # the upload handlers are chosen before the token is read; checked just below
@require_POST
def screening_job_new(request: HttpRequest) -> HttpResponse:
    request.upload_handlers = [_UploadInMemory(request)]
    return _screening_job_new(request)


@csrf_protect
def _screening_job_new(request: HttpRequest) -> HttpResponse:
    """POST /screening/jobs/: upload a file; it is checked whole, then screened by a worker."""
    batch = BatchForm(request.POST, request.FILES)
    if not request.upload_handlers[0].activated:
        batch = BatchForm(request.POST, {})
        batch.full_clean()
        batch.errors["file"] = batch.error_class(
            [f"The file is larger than {MAX_BYTES // 2**20} MB."]
        )
    elif batch.is_valid():
        upload = batch.cleaned_data["file"]
        try:
            rows = read_upload(upload, upload.size)
        except ValidationError as error:
            batch.add_error("file", error)
        else:
            job = job_create(actor=request.user, file_name=upload.name, rows=rows)
            try:
                run_screening_job.delay(str(job.pk))
            except Exception:  # the broker is down: say so rather than leave it spinning
                job.delete()
                messages.error(request, "Screening could not start now; try again shortly.")
                return redirect("screening")
            return redirect("screening-job", job_id=job.pk)
    context = {
        "form": ScreenForm(),
        "matches": None,
        "batch": batch,
        "jobs": _my_jobs(request)[:20],
    }
    return render(request, "portal/screening.html", context, status=400)


def _job_or_404(request: HttpRequest, job_id: UUID, *, whole: bool = True) -> ScreeningJob:
    jobs = ScreeningJob.objects.filter(
        pk=job_id, requested_by=request.user, created_at__gte=expiry_cutoff()
    )
    job = (jobs if whole else jobs.defer("rows", "results")).first()
    if job is None:
        raise Http404("No such screening job.")
    return job


@login_required
def screening_job(request: HttpRequest, job_id: UUID) -> HttpResponse:
    job = _job_or_404(request, job_id)
    pairs = zip(job.rows, visible_results(job), strict=False)
    hits = [(row, matches) for row, matches in pairs if matches][:200]
    return render(request, "portal/screening_job.html", {"job": job, "hits": hits})


@login_required
@require_GET
def screening_job_progress(request: HttpRequest, job_id: UUID) -> JsonResponse:
    job = _job_or_404(request, job_id, whole=False)  # polled every second: not the rows
    return JsonResponse(
        {"status": job.status, "done": job.done, "total": job.total, "alerts": job.alerts}
    )


@login_required
@require_GET
def screening_job_results(request: HttpRequest, job_id: UUID) -> HttpResponse:
    job = _job_or_404(request, job_id)
    if job.status != "done":
        raise Http404("The results are not ready.")
    response = StreamingHttpResponse(results_csv(job), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="screening-{job.pk}.csv"'
    response["Cache-Control"] = "no-store"
    return response
