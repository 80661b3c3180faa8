"""HTTP to partner nodes: signed requests (sharing.node_auth), JSON answers and file bodies."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

from django.conf import settings

from agencies.models import Node
from sharing.node_auth import signed_headers

CHUNK = 1024 * 1024


class PartnerUnavailable(Exception):
    """The partner did not answer, or answered with an error; the run is retried later."""


def partner_request(partner: Node, method: str, path: str, body: bytes = b"") -> dict[str, Any]:
    """A signed request to `partner`; its JSON answer."""
    return partner_send(partner.node_id, signed_request(partner, method, path, body))


def signed_request(
    partner: Node, method: str, path: str, body: bytes = b""
) -> urllib.request.Request:
    """The request, signed now (this reads the database: build it on the caller's thread)."""
    headers = signed_headers(method=method, path=path, body=body, recipient=partner)
    headers["Content-Type"] = "application/json"
    return urllib.request.Request(  # noqa: S310 (the partner's registered http(s) URL)
        partner.base_url.rstrip("/") + path, data=body or None, headers=headers, method=method
    )


def partner_send(node_id: str, request: urllib.request.Request) -> dict[str, Any]:
    """Send a signed request; its JSON answer. No database access: safe on another thread."""
    try:
        with urllib.request.urlopen(request, timeout=settings.SYNC_HTTP_TIMEOUT) as response:  # noqa: S310
            return json.load(response)
    except urllib.error.HTTPError as error:
        detail = error.read(2000).decode("utf-8", "replace")
        raise PartnerUnavailable(f"{node_id} answered {error.code}: {detail}") from error
    except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
        raise PartnerUnavailable(f"{node_id} is unreachable: {error}") from error
    except json.JSONDecodeError as error:
        raise PartnerUnavailable(f"{node_id} answered something not JSON") from error


def partner_fetch(partner: Node, path: str) -> Iterator[bytes]:
    """A signed GET whose answer is a file: its body in chunks (bounded memory)."""
    headers = signed_headers(method="GET", path=path, body=b"", recipient=partner)
    request = urllib.request.Request(  # noqa: S310 (the partner's registered http(s) URL)
        partner.base_url.rstrip("/") + path, headers=headers, method="GET"
    )
    try:
        response = urllib.request.urlopen(request, timeout=settings.SYNC_HTTP_TIMEOUT)  # noqa: S310
    except urllib.error.HTTPError as error:
        detail = error.read(2000).decode("utf-8", "replace")
        raise PartnerUnavailable(f"{partner.node_id} answered {error.code}: {detail}") from error
    except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
        raise PartnerUnavailable(f"{partner.node_id} is unreachable: {error}") from error
    with response:
        while chunk := response.read(CHUNK):
            yield chunk
