"""API clients: partner systems acting for one agency. Secrets are shown once, stored hashed,
and checked in constant time; revoking or expiry takes effect on the next request."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from agencies.models import Agency, ApiClient, ApiScope, Role, User

TOKEN_PREFIX = "sx"  # noqa: S105 - a label, not a secret
MAX_LIFETIME = dt.timedelta(days=397)  # about 13 months, like public TLS certificates
LAST_USE_RESOLUTION = dt.timedelta(minutes=1)


class InvalidToken(Exception):
    """The token is unknown, malformed, expired or revoked; the message says which."""


@dataclass(frozen=True, eq=False)
class ClientPrincipal:
    """What `request.user` is for a request made with an API client's token."""

    client: ApiClient
    is_authenticated = True
    is_active = True
    is_superuser = False
    is_staff = False
    pk = None

    @property
    def agency(self) -> Agency:
        return self.client.agency

    @property
    def agency_id(self) -> object:
        return self.client.agency_id

    @property
    def role(self) -> str:
        return Role.PUBLISHER if self.may_publish else Role.LIAISON

    @property
    def may_publish(self) -> bool:
        return ApiScope.WRITE in self.client.scopes

    def has_scope(self, scope: str) -> bool:
        return scope in self.client.scopes

    def get_username(self) -> str:
        return f"api-client:{self.client.name}"

    def __str__(self) -> str:
        return self.get_username()


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def api_client_create(
    *, actor: User, name: str, scopes: list[str], expires_at: dt.datetime
) -> tuple[ApiClient, str]:
    """Create a client for the actor's agency; returns it and its token (shown once)."""
    if not (actor.is_active and actor.role == Role.AGENCY_ADMIN and actor.agency_id):
        raise PermissionDenied("Agency admins create API clients for their agency.")
    unknown = set(scopes) - set(ApiScope.values)
    if not scopes or unknown:
        raise ValidationError({"scopes": f"Choose from {', '.join(ApiScope.values)}."})
    now = timezone.now()
    if not now < expires_at <= now + MAX_LIFETIME:
        raise ValidationError({"expires_at": "Choose a date within the next 13 months."})
    if ApiClient.objects.filter(agency=actor.agency, name=name).exists():
        raise ValidationError({"name": "Your agency already has a client of that name."})
    prefix, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    client = ApiClient.objects.create(
        agency=actor.agency,
        name=name,
        scopes=sorted(set(scopes)),
        prefix=prefix,
        secret_hash=_hash(secret),
        expires_at=expires_at,
        created_by=actor,
    )
    return client, f"{TOKEN_PREFIX}_{prefix}_{secret}"


def api_client_revoke(*, actor: User, client: ApiClient) -> None:
    if not (actor.role == Role.AGENCY_ADMIN and actor.agency_id == client.agency_id):
        raise PermissionDenied("Agency admins revoke their agency's API clients.")
    ApiClient.objects.filter(pk=client.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


def api_client_authenticate(token: str) -> ApiClient:
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        raise InvalidToken("Malformed token.")
    _, prefix, secret = parts
    client = ApiClient.objects.select_related("agency").filter(prefix=prefix).first()
    # Compare even when the prefix is unknown, so timing tells nothing about prefixes.
    expected = client.secret_hash if client else _hash(secrets.token_urlsafe(32))
    if not hmac.compare_digest(expected, _hash(secret)) or client is None:
        raise InvalidToken("Invalid token.")
    now = timezone.now()
    if client.revoked_at is not None:
        raise InvalidToken("This API client has been revoked.")
    if client.expires_at <= now:
        raise InvalidToken("This API client has expired.")
    if client.last_used_at is None or client.last_used_at < now - LAST_USE_RESOLUTION:
        # At most one write a minute per client, not one per request.
        ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
    return client
