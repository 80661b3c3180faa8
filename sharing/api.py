"""Common parts of the REST API: errors as RFC 9457 problem details."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler

PROBLEM_JSON = "application/problem+json"


def problem(status: int, detail: str, **extra: Any) -> Response:
    body = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        **extra,
    }
    return Response(body, status=status, content_type=PROBLEM_JSON)


def etag(obj: Any) -> str:
    """An object's entity tag: its id and version, which every write raises."""
    return f'"{obj.pk}-v{obj.version}"'


def conditional(request: Any, obj: Any, body: Any) -> Response:
    """The object's body with its ETag, or 304 Not Modified when If-None-Match names it."""
    tag = etag(obj)
    wanted = [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]
    if tag in wanted or "*" in wanted:
        return Response(status=304, headers={"ETag": tag})
    return Response(body, headers={"ETag": tag})


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF errors (validation, authentication, permission, not found, throttling) as problem
    details, with field-level errors under "errors"."""
    if isinstance(exc, DjangoValidationError):
        # Services raise Django's ValidationError: a 400 with the same field-level detail.
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        )
    response = exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if isinstance(data, dict) and set(data) == {"detail"}:
        body = problem(response.status_code, str(data["detail"])).data
    else:
        body = problem(response.status_code, "The request is not valid.", errors=data).data
    response.data = body
    response.content_type = PROBLEM_JSON
    return response
