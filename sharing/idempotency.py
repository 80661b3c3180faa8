"""Idempotent creates: a retry with the same Idempotency-Key and body gets the first answer."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction

from sharing.models import IdempotencyRecord


class KeyReused(Exception):
    """The key was used before with a different request body."""


class KeyInFlight(Exception):
    """Another request with this key is being processed right now."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    location: str = ""


def principal_id(principal: Any) -> str:
    client = getattr(principal, "client", None)
    return f"client:{client.pk}" if client is not None else f"user:{principal.pk}"


def idempotent(
    *, principal: Any, key: str, request_body: Any, create: Callable[[], Answer]
) -> tuple[Answer, bool]:
    """Run `create` once per (principal, key); returns the answer and whether it is a replay.
    The record is written in the create's transaction, so a create that fails leaves none."""
    request_hash = hashlib.sha256(
        json.dumps(request_body, sort_keys=True, default=str).encode()
    ).hexdigest()
    owner = principal_id(principal)
    with transaction.atomic():
        existing = IdempotencyRecord.objects.filter(principal=owner, key=key).first()
        if existing is not None:
            if existing.request_hash != request_hash:
                raise KeyReused(key)
            return Answer(existing.status, existing.body, existing.location), True
        answer = create()
        try:
            with transaction.atomic():
                IdempotencyRecord.objects.create(
                    principal=owner,
                    key=key,
                    request_hash=request_hash,
                    status=answer.status,
                    body=answer.body,
                    location=answer.location,
                )
        except IntegrityError:
            # A concurrent request with the same key won; undo ours.
            raise KeyInFlight(key) from None
    return answer, False
