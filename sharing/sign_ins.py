"""Audit entries for sign-ins, sign-outs and failed sign-ins (django.contrib.auth signals)."""

from __future__ import annotations

from typing import Any

from sharing.audit import audit_context, audit_record
from sharing.models import AuditAction


def _address(request: Any) -> str | None:
    return request.META.get("REMOTE_ADDR") if request is not None else None


def signed_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    with audit_context(user=user, ip_address=_address(request), source="web"):
        audit_record(AuditAction.LOGIN, actor=user)


def signed_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        with audit_context(user=user, ip_address=_address(request), source="web"):
            audit_record(AuditAction.LOGOUT, actor=user)


def sign_in_failed(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
) -> None:
    # Only the user name: credentials also hold the password, which never reaches a log.
    username = str(credentials.get("username", ""))[:150]
    with audit_context(ip_address=_address(request), source="web"):
        audit_record(AuditAction.LOGIN_FAILED, actor_name=username)
