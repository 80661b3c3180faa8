"""API authentication (API client tokens) and scopes. Kept apart from sharing.api, which
imports DRF's views: DRF loads these classes while its views module is still importing."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.authentication import SessionScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions, permissions
from rest_framework.authentication import (
    BaseAuthentication,
    SessionAuthentication,
    get_authorization_header,
)
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from agencies.api_clients import ClientPrincipal, InvalidToken, api_client_authenticate
from sharing.audit import audit_identify


class ApiClientAuthentication(BaseAuthentication):
    """`Authorization: Bearer sx_<prefix>_<secret>`; failures answer 401 with the reason."""

    def authenticate(self, request: Request) -> tuple[ClientPrincipal, object] | None:
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != b"bearer":
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Send one token: Authorization: Bearer <token>.")
        try:
            client = api_client_authenticate(header[1].decode("ascii", "replace"))
        except InvalidToken as error:
            raise exceptions.AuthenticationFailed(str(error)) from error
        principal = ClientPrincipal(client)
        audit_identify(principal)
        return principal, client

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="sanctions-exchange"'


class HasScope(permissions.BasePermission):
    """API clients need the read scope to read and the view's `write_scope` to write; people
    signed in to the portal act with their role (checked by the services)."""

    message = "This API client lacks the scope for this request."

    def has_permission(self, request: Request, view: object) -> bool:
        principal = request.user
        if not isinstance(principal, ClientPrincipal):
            return bool(principal and principal.is_authenticated)
        if request.method in permissions.SAFE_METHODS:
            return principal.has_scope("read")
        return principal.has_scope(getattr(view, "write_scope", "write"))


class ClientRateThrottle(SimpleRateThrottle):
    """Requests per API client (or per signed-in person, or per address), API_RATE each;
    over it: 429 with Retry-After. Counts live in the cache: set CACHE_URL to Redis so that
    all web processes share them."""

    scope = "client"

    def get_rate(self) -> str:
        return settings.API_RATE  # read per request, so an operator's change needs no restart

    def get_cache_key(self, request: Request, view: object) -> str:
        principal = request.user
        if isinstance(principal, ClientPrincipal):
            ident = f"client:{principal.client.pk}"
        elif principal is not None and principal.is_authenticated:
            ident = f"user:{principal.pk}"
        else:
            ident = f"address:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class VerifiedSessionAuthentication(SessionAuthentication):
    """The portal's session, once past the sign-in's code step: a password alone does not
    open the API."""

    def authenticate(self, request: Request) -> tuple[Any, None] | None:
        from agencies.sign_in import second_step_due

        result = super().authenticate(request)
        if result is not None and second_step_due(request._request):
            return None
        return result


class VerifiedSessionScheme(SessionScheme):
    """The portal's session, described as DRF's session authentication is."""

    target_class = "sharing.api_auth.VerifiedSessionAuthentication"


class ApiClientAuthenticationScheme(OpenApiAuthenticationExtension):
    """Describes the token scheme in the OpenAPI schema."""

    target_class = "sharing.api_auth.ApiClientAuthentication"
    name = "apiClientToken"

    def get_security_definition(self, auto_schema: object) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "sx_<prefix>_<secret>",
            "description": "An API client token, created by an agency admin in the portal.",
        }


class ProblemJSONRenderer(JSONRenderer):
    """Lets problem details be negotiated and documented as application/problem+json."""

    media_type = "application/problem+json"
