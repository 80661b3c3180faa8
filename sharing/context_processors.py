from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def node(request: HttpRequest) -> dict[str, str]:
    return {"NODE_NAME": settings.NODE_NAME, "NODE_ID": settings.NODE_ID}
