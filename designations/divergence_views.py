"""Divergence reports: a portal page (with an SVG chart of implementation lag), CSV, REST."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from designations.api_schema import problems
from designations.divergence import Report, Subject, divergence_report, lag_chart
from designations.exports import csv_stream
from sharing.api import problem

CSV_COLUMNS = [
    "subject",
    "subject_name",
    "jurisdiction",
    "designation",
    "designation_name",
    "reference_number",
    "status",
    "listed_on",
    "lag_days",
    "delisted_elsewhere",
    "conflicts",
]


@login_required
def divergence(request: HttpRequest) -> HttpResponse:
    """GET /divergence/: subjects across jurisdictions, as far as I may see them."""
    report = divergence_report(request.user)
    page = Paginator(report.subjects, 50).get_page(request.GET.get("page"))
    rows = [
        (
            subject,
            [
                (
                    listing := subject.by_jurisdiction().get(j),
                    subject.lag_days(j) if listing else None,
                )
                for j in report.jurisdictions
            ],
        )
        for subject in page
    ]
    matrix = [
        (
            row,
            [(column, counts[column]) for column in report.jurisdictions],
            report.single.get(row, 0),
        )
        for row, counts in report.not_listed_by.items()
    ]
    context = {
        "report": report,
        "page": page,
        "rows": rows,
        "matrix": matrix,
        "chart": lag_chart(report.lag),
    }
    return render(request, "portal/divergence.html", context)


def _csv_rows(report: Report) -> Iterator[list[Any]]:
    for subject in report.subjects:
        for listing in sorted(
            subject.listings, key=lambda i: (i.jurisdiction, str(i.designation.pk))
        ):
            designation = listing.designation
            yield [
                subject.id,
                subject.name,
                listing.jurisdiction,
                designation.pk,
                designation.name,
                designation.reference_number,
                designation.status,
                designation.listed_on or "",
                _lag(subject, listing),
                "yes" if subject.split_status else "",
                "; ".join(subject.conflicts),
            ]


def _lag(subject: Subject, listing: Any) -> Any:
    first = subject.first_listed
    on = listing.designation.listed_on
    return (on - first).days if first and on else ""


@login_required
def divergence_csv(request: HttpRequest) -> HttpResponse:
    """GET /divergence.csv: one line per listing of every subject listed in two jurisdictions."""
    report = divergence_report(request.user)
    lines = csv_stream(CSV_COLUMNS, _csv_rows(report))
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="divergence.csv"'
    return response


def subject_json(subject: Subject) -> dict[str, Any]:
    return {
        "subject": subject.id,
        "name": subject.name,
        "first_listed": subject.first_listed,
        "delisted_elsewhere": subject.split_status,
        "conflicts": subject.conflicts,
        "listings": [
            {
                "jurisdiction": item.jurisdiction,
                "designation": item.designation.pk,
                "name": item.designation.name,
                "reference_number": item.designation.reference_number,
                "status": item.designation.status,
                "listed_on": item.designation.listed_on,
                "lag_days": _lag(subject, item) if _lag(subject, item) != "" else None,
            }
            for item in sorted(subject.listings, key=lambda i: i.jurisdiction)
        ],
    }


class Divergence(APIView):
    @extend_schema(
        operation_id="divergence",
        parameters=[
            OpenApiParameter("offset", OpenApiTypes.INT, description="First subject (0)"),
            OpenApiParameter("limit", OpenApiTypes.INT, description="Subjects, at most 500"),
        ],
        responses={200: OpenApiTypes.OBJECT, **problems(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        """Subjects listed in two jurisdictions or more (among the designations you may see):
        counts of who lists what others do not, subjects delisted in one jurisdiction and
        active in another, conflicting data, and the lag from first listing per jurisdiction."""
        try:
            offset = max(0, int(request.query_params.get("offset", 0)))
            limit = min(500, max(1, int(request.query_params.get("limit", 100))))
        except ValueError:
            return problem(400, "offset and limit are whole numbers.")
        report = divergence_report(request.user)
        return Response(
            {
                "jurisdictions": report.jurisdictions,
                "subjects_shared": len(report.subjects),
                "listed_by_one_only": report.single,
                "active_here_not_there": report.not_listed_by,
                "lag": report.lag,
                "delisted_elsewhere": [s.id for s in report.split],
                "conflicting": [s.id for s in report.conflicting],
                "subjects": [subject_json(s) for s in report.subjects[offset : offset + limit]],
            }
        )


urlpatterns = [path("divergence", Divergence.as_view(), name="divergence")]
