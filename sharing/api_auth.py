"""API authentication (API client tokens) and scopes. Kept apart from sharing.api, which
imports DRF's views: DRF loads these classes while its views module is still importing."""

from __future__ import annotations

from rest_framework import exceptions, permissions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from agencies.api_clients import ClientPrincipal, InvalidToken, api_client_authenticate


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
        return ClientPrincipal(client), client

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
