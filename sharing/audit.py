"""The audit log: append-only and hash-chained (DESIGN.md, Invariant 4).

Each entry's hash is SHA-256 over the previous entry's hash and the entry's own content in a
canonical JSON form, so `verify_audit` finds the first row altered, inserted or removed by hand.
Who and from where come from the request context that AuditContextMiddleware sets (or from
`audit_context` in commands and tasks), so services need not thread the request through.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import models, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from sharing.models import AuditAction, AuditEntry, AuditHead

GENESIS = "0" * 64


@dataclass(frozen=True)
class AuditContext:
    user: Any = None  # agencies.User or None
    ip_address: str | None = None
    source: str = "cli"


_NO_CONTEXT = AuditContext()
_context: contextvars.ContextVar[AuditContext | None] = contextvars.ContextVar(
    "audit_context", default=None
)


def _current() -> AuditContext:
    return _context.get() or _NO_CONTEXT


@contextmanager
def audit_context(
    *, user: Any = None, ip_address: str | None = None, source: str = "cli"
) -> Iterator[None]:
    token = _context.set(AuditContext(user=user, ip_address=ip_address, source=source))
    try:
        yield
    finally:
        _context.reset(token)


@contextmanager
def acting_as(user: Any) -> Iterator[None]:
    """Name `user` as the actor of what follows, keeping the request's address and source."""
    context = _current()
    with audit_context(user=user, ip_address=context.ip_address, source=context.source):
        yield


def audit_identify(user: Any) -> None:
    """Name the actor once a request has authenticated it (an API client is known only after
    DRF's authentication, inside the middleware's context, which is reset when it ends)."""
    context = _current()
    _context.set(AuditContext(user=user, ip_address=context.ip_address, source=context.source))


def current_user() -> Any:
    return _current().user


class AuditContextMiddleware:
    """Names the request's user and address for every audit entry written while serving it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user if request.user.is_authenticated else None
        source = "api" if request.path.startswith("/api/") else "web"
        with audit_context(user=user, ip_address=request.META.get("REMOTE_ADDR"), source=source):
            return self.get_response(request)


def entry_hash(entry: AuditEntry) -> str:
    # Not the sequence number: the order is fixed by each entry naming its predecessor.
    content = {
        "at": entry.at.isoformat(),
        "action": entry.action,
        "actor_id": entry.actor_id,
        "actor_name": entry.actor_name,
        "agency_code": entry.agency_code,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "object_agency_code": entry.object_agency_code,
        "detail": entry.detail,
        "ip_address": entry.ip_address,
        "source": entry.source,
        "prev_hash": entry.prev_hash,
    }
    encoded = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(encoded.encode()).hexdigest()


def audit_record(
    action: AuditAction,
    *,
    obj: models.Model | None = None,
    actor: Any = None,
    actor_name: str = "",
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry. Inside a change's transaction it commits or rolls back with it."""
    context = _current()
    actor = actor if actor is not None else context.user
    if actor is not None and not isinstance(actor, models.Model):
        # An API client: named in the entry, not linked (it is not a person).
        actor_name = actor_name or actor.get_username()
        agency_code = getattr(actor.agency, "code", "")
        actor = None
    else:
        agency_code = getattr(getattr(actor, "agency", None), "code", "")
    with transaction.atomic():
        # Lock the chain's tip: concurrent appends queue here instead of forking the chain.
        head, _created = AuditHead.objects.select_for_update().get_or_create(
            id=1, defaults={"last_hash": GENESIS}
        )
        owner = getattr(obj, "owner", None)
        entry = AuditEntry(
            at=timezone.now(),
            action=action,
            actor=actor,
            actor_name=actor_name or (actor.get_username() if actor is not None else ""),
            agency_code=agency_code,
            object_type=obj._meta.model_name if obj is not None else "",
            object_id=str(obj.pk) if obj is not None else "",
            object_agency_code=getattr(owner, "code", ""),
            detail=detail or {},
            ip_address=context.ip_address,
            source=context.source,
            prev_hash=head.last_hash,
            hash="",
        )
        entry.hash = entry_hash(entry)
        entry.save()
        head.last_hash = entry.hash
        head.save(update_fields=["last_hash"])
    return entry


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    reason: str


def audit_verify() -> tuple[int, ChainBreak | None]:
    """Walk the chain in order; return how many entries are sound and the first break."""
    previous = GENESIS
    checked = 0
    for entry in AuditEntry.objects.order_by("seq").iterator(chunk_size=2000):
        if entry.prev_hash != previous:
            return checked, ChainBreak(
                entry.seq, "does not link to the entry before it (a row was removed or inserted)"
            )
        if entry_hash(entry) != entry.hash:
            return checked, ChainBreak(entry.seq, "its content does not match its hash (altered)")
        previous = entry.hash
        checked += 1
    head = AuditHead.objects.filter(id=1).first()
    if head is not None and head.last_hash != previous:
        return checked, ChainBreak(
            checked,
            "the newest entries were removed (the chain's tip does not match the last entry)",
        )
    return checked, None
