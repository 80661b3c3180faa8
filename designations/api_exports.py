"""Streamed exports of every designation the caller may see: FollowTheMoney JSON lines and
CSV. The same filters as the list; no pagination, so a partner takes a full copy in one
request while the server holds one chunk of rows at a time."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from django.http import StreamingHttpResponse
from django.urls import path
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from designations.api import list_filters
from designations.api_schema import LIST_FILTERS, problems
from designations.exports import csv_lines, ftm_lines
from designations.models import Designation
from designations.selectors import designations_for_export
from sharing.api_auth import ProblemJSONRenderer
from sharing.audit import audit_record
from sharing.models import AuditAction

FTM_MEDIA_TYPE = "application/x-ndjson"
CSV_MEDIA_TYPE = "text/csv"


class NDJSONRenderer(JSONRenderer):
    """Lets `Accept: application/x-ndjson` through content negotiation. The export itself is
    streamed past the renderer; only error bodies are rendered, and they carry their own
    problem+json media type."""

    media_type = FTM_MEDIA_TYPE
    format = "ftm"


class CSVRenderer(NDJSONRenderer):
    media_type = CSV_MEDIA_TYPE
    format = "csv"


EXPORT_PARAMETERS = [p for p in LIST_FILTERS if p.name not in ("cursor", "page_size")]


class Export(APIView):
    media_type: str
    extension: str
    lines: Callable[[Iterable[Designation]], Iterator[bytes]]

    def get(self, request: Request) -> Response | StreamingHttpResponse:
        filters = list_filters(request)
        if isinstance(filters, Response):
            return filters
        # Audited before streaming: the entry must exist even if the client stops reading.
        audit_record(
            AuditAction.EXPORT,
            detail={"format": self.extension, "filters": dict(request.query_params.items())},
        )
        designations = designations_for_export(user=request.user, filters=filters)
        response = StreamingHttpResponse(
            type(self).lines(designations), content_type=f"{self.media_type}; charset=utf-8"
        )
        stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
        response["Content-Disposition"] = (
            f'attachment; filename="designations-{stamp}.{self.extension}"'
        )
        return response


def _export_schema(operation_id: str, media_type: str, description: str) -> Callable:
    return extend_schema(
        operation_id=operation_id,
        parameters=EXPORT_PARAMETERS,
        responses={
            (200, media_type): OpenApiResponse(OpenApiTypes.STR, description=description),
            **problems(400, 401, 403),
        },
    )


class FtMExport(Export):
    """Designations the caller may see as FollowTheMoney entities, one JSON object per line:
    the subject (Person, Organization, Vessel, Airplane), its Sanction, and its identity
    documents (Passport, Identification)."""

    renderer_classes = [NDJSONRenderer, ProblemJSONRenderer]
    media_type = FTM_MEDIA_TYPE
    extension = "ftm.json"
    lines = staticmethod(ftm_lines)

    @_export_schema(
        "designations_export_ftm", FTM_MEDIA_TYPE, "FollowTheMoney entities, one per line"
    )
    def get(self, request: Request) -> Response | StreamingHttpResponse:
        return super().get(request)


class CSVExport(Export):
    """Designations the caller may see, one row each (UTF-8 with a byte-order mark)."""

    renderer_classes = [CSVRenderer, ProblemJSONRenderer]
    media_type = CSV_MEDIA_TYPE
    extension = "csv"
    lines = staticmethod(csv_lines)

    @_export_schema("designations_export_csv", CSV_MEDIA_TYPE, "One designation per row")
    def get(self, request: Request) -> Response | StreamingHttpResponse:
        return super().get(request)


urlpatterns = [
    path("exports/designations.ftm.json", FtMExport.as_view(), name="export-ftm"),
    path("exports/designations.csv", CSVExport.as_view(), name="export-csv"),
]
