"""Requests between nodes: signed by the sender's Ed25519 key, verified by the receiver.

The signature covers the method, path and query, the recipient, the time, a nonce and the
body's SHA-256, so a request cannot be altered, sent to another node, replayed (the nonce is
remembered for the skew window) or kept for later (the time must be within the window).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from agencies.models import Node
from sharing.models import NodeRequestNonce
from sharing.node_keys import NodeKeys, load_node_keys, verify_signature

SCHEME = "sx-node-request-v1"
NODE_HEADER = "X-SX-Node"
TIME_HEADER = "X-SX-Time"
NONCE_HEADER = "X-SX-Nonce"
BODY_HEADER = "X-SX-Content-SHA256"
SIGNATURE_HEADER = "X-SX-Signature"


class NodeAuthError(Exception):
    """The request is not from a registered partner, or is altered, stale or replayed."""


def _message(
    *, method: str, path: str, recipient: str, sender: str, at: str, nonce: str, body_hash: str
) -> bytes:
    return "\n".join(
        [SCHEME, method.upper(), path, recipient, sender, at, nonce, body_hash]
    ).encode()


def signed_headers(
    *,
    method: str,
    path: str,
    body: bytes,
    recipient: Node,
    sender: str | None = None,
    keys: NodeKeys | None = None,
    at: int | None = None,
) -> dict[str, str]:
    """Headers that make a request to `recipient` verifiable (path includes the query). The
    sender is this node unless given (tests sign as a partner)."""
    from agencies.services import node_ensure_local

    sender = sender or node_ensure_local().node_id
    keys = keys or load_node_keys()
    at, nonce = str(int(time.time()) if at is None else at), secrets.token_hex(16)
    body_hash = hashlib.sha256(body).hexdigest()
    message = _message(
        method=method,
        path=path,
        recipient=recipient.node_id,
        sender=sender,
        at=at,
        nonce=nonce,
        body_hash=body_hash,
    )
    return {
        NODE_HEADER: sender,
        TIME_HEADER: at,
        NONCE_HEADER: nonce,
        BODY_HEADER: body_hash,
        SIGNATURE_HEADER: keys.sign(message),
    }


@dataclass(frozen=True)
class SignedRequest:
    method: str
    path: str  # with the query string
    headers: dict[str, str]
    body: bytes


def node_authenticate(request: SignedRequest) -> Node:
    """The partner that sent `request`, or NodeAuthError saying why not."""
    from agencies.services import node_ensure_local

    headers = {key.lower(): value for key, value in request.headers.items()}
    missing = [
        name
        for name in (NODE_HEADER, TIME_HEADER, NONCE_HEADER, BODY_HEADER, SIGNATURE_HEADER)
        if not headers.get(name.lower())
    ]
    if missing:
        raise NodeAuthError(f"unsigned request: missing {', '.join(missing)}")
    sender_id, at, nonce = (headers[h.lower()] for h in (NODE_HEADER, TIME_HEADER, NONCE_HEADER))
    node = Node.objects.filter(node_id=sender_id, is_local=False).first()
    if node is None or not node.signing_public_key:
        raise NodeAuthError(f"{sender_id!r} is not a registered partner")
    if not at.isdigit() or abs(time.time() - int(at)) > settings.NODE_CLOCK_SKEW_SECONDS:
        raise NodeAuthError(
            f"the request time is outside the {settings.NODE_CLOCK_SKEW_SECONDS} s window "
            "(check the clocks)"
        )
    if len(nonce) > 64:
        raise NodeAuthError("the nonce is too long")
    body_hash = hashlib.sha256(request.body).hexdigest()
    if headers[BODY_HEADER.lower()] != body_hash:
        raise NodeAuthError("the body does not match its signed hash")
    message = _message(
        method=request.method,
        path=request.path,
        recipient=node_ensure_local().node_id,
        sender=sender_id,
        at=at,
        nonce=nonce,
        body_hash=body_hash,
    )
    if not verify_signature(node, message, headers[SIGNATURE_HEADER.lower()]):
        raise NodeAuthError("the signature does not verify")
    _remember_nonce(node, nonce)
    return node


def _remember_nonce(node: Node, nonce: str) -> None:
    now = timezone.now()
    window = dt.timedelta(seconds=2 * settings.NODE_CLOCK_SKEW_SECONDS)
    try:
        with transaction.atomic():
            NodeRequestNonce.objects.create(node=node, nonce=nonce, seen_at=now)
    except IntegrityError:
        raise NodeAuthError("replayed request (nonce already used)") from None
    # Past the window a replay fails the time check anyway, so old nonces can go.
    NodeRequestNonce.objects.filter(seen_at__lt=now - window).delete()
