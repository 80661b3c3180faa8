"""This node's identity: an Ed25519 key that signs its requests and batches, and an X25519 key
that partners wrap attachment data keys for.

The private keys live in a key file outside the repository and the database (NODE_KEY_FILE,
default var/node-<NODE_ID>.key.json, mode 0600); the public halves are on the local Node row
and in the descriptor that `node export` prints for partners.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from django.conf import settings
from django.db import transaction

from agencies.models import Node

RAW = serialization.Encoding.Raw
RAW_PUBLIC = serialization.PublicFormat.Raw
RAW_PRIVATE = serialization.PrivateFormat.Raw
NO_ENCRYPTION = serialization.NoEncryption()


class NodeKeyError(Exception):
    """The node key file is missing or malformed, or a public key is not valid."""


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def unb64(text: str, *, size: int, what: str) -> bytes:
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise NodeKeyError(f"{what} is not valid base64") from None
    if len(data) != size:
        raise NodeKeyError(f"{what} must be {size} bytes, not {len(data)}")
    return data


@dataclass(frozen=True)
class NodeKeys:
    signing: Ed25519PrivateKey
    exchange: X25519PrivateKey

    @property
    def signing_public(self) -> str:
        return b64(self.signing.public_key().public_bytes(RAW, RAW_PUBLIC))

    @property
    def exchange_public(self) -> str:
        return b64(self.exchange.public_key().public_bytes(RAW, RAW_PUBLIC))

    def sign(self, message: bytes) -> str:
        return b64(self.signing.sign(message))


def node_key_file() -> Path:
    return Path(settings.NODE_KEY_FILE)


def generate_node_keys() -> NodeKeys:
    return NodeKeys(signing=Ed25519PrivateKey.generate(), exchange=X25519PrivateKey.generate())


def save_node_keys(keys: NodeKeys, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {
        "signing_private_key": b64(keys.signing.private_bytes(RAW, RAW_PRIVATE, NO_ENCRYPTION)),
        "exchange_private_key": b64(keys.exchange.private_bytes(RAW, RAW_PRIVATE, NO_ENCRYPTION)),
    }
    # Created 0600 from the start: there is no moment where others may read it.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(body, handle)


_cache: dict[str, NodeKeys] = {}


def load_node_keys() -> NodeKeys:
    path = node_key_file()
    if str(path) in _cache:
        return _cache[str(path)]
    try:
        body = json.loads(path.read_text())
        keys = NodeKeys(
            signing=Ed25519PrivateKey.from_private_bytes(
                unb64(body["signing_private_key"], size=32, what="signing_private_key")
            ),
            exchange=X25519PrivateKey.from_private_bytes(
                unb64(body["exchange_private_key"], size=32, what="exchange_private_key")
            ),
        )
    except FileNotFoundError:
        raise NodeKeyError(
            f"no node key file at {path}; run `python manage.py node init`"
        ) from None
    except (ValueError, KeyError, TypeError) as error:
        raise NodeKeyError(f"the node key file {path} is malformed: {error}") from None
    _cache[str(path)] = keys
    return keys


def forget_cached_keys() -> None:
    _cache.clear()


def verify_signature(node: Node, message: bytes, signature: str) -> bool:
    """Whether `signature` is the partner's Ed25519 signature of `message`."""
    try:
        public = Ed25519PublicKey.from_public_bytes(
            unb64(node.signing_public_key, size=32, what="signing key")
        )
        public.verify(unb64(signature, size=64, what="signature"), message)
    except (InvalidSignature, NodeKeyError):
        return False
    return True


def exchange_public_key(node: Node) -> X25519PublicKey:
    return X25519PublicKey.from_public_bytes(
        unb64(node.exchange_public_key, size=32, what=f"{node.node_id}'s exchange key")
    )


def descriptor(node: Node) -> dict[str, Any]:
    """What a partner needs to register this node: who it is, where, its public keys, and the
    agencies it hosts (so that the partner can share with them)."""
    return {
        "node_id": node.node_id,
        "name": node.name,
        "base_url": node.base_url,
        "signing_public_key": node.signing_public_key,
        "exchange_public_key": node.exchange_public_key,
        "agencies": [
            {"code": a.code, "name": a.name, "jurisdiction": a.jurisdiction}
            for a in node.agencies.order_by("code")
        ],
    }


def node_init() -> Node:
    """Create this node's keys (refusing to replace existing ones: partners trust them) and
    publish the public halves on the local Node row."""
    from agencies.services import node_ensure_local

    path = node_key_file()
    if path.exists():
        raise NodeKeyError(f"{path} exists: this node already has keys; partners trust them")
    keys = generate_node_keys()
    save_node_keys(keys, path)
    forget_cached_keys()
    node = node_ensure_local()
    node.signing_public_key = keys.signing_public
    node.exchange_public_key = keys.exchange_public
    node.save(update_fields=["signing_public_key", "exchange_public_key"])
    return node


def partner_register(*, descriptor: dict, replace_keys: bool = False) -> Node:
    """Register (or update) a partner from its exported descriptor. A partner whose keys
    change is refused unless the operator says so: a changed key is how an impostor looks."""
    from django.core.exceptions import ValidationError
    from django.core.validators import URLValidator
    from django.utils.text import slugify

    required = ["node_id", "name", "base_url", "signing_public_key", "exchange_public_key"]
    missing = [key for key in required if not isinstance(descriptor.get(key), str)]
    if missing:
        raise NodeKeyError(f"the descriptor lacks {', '.join(missing)}")
    node_id = descriptor["node_id"]
    if slugify(node_id) != node_id:
        raise NodeKeyError(f"node_id {node_id!r} is not a slug")
    try:
        URLValidator(schemes=["http", "https"])(descriptor["base_url"])
    except ValidationError:
        raise NodeKeyError(f"base_url {descriptor['base_url']!r} is not an http(s) URL") from None
    unb64(descriptor["signing_public_key"], size=32, what="signing_public_key")
    unb64(descriptor["exchange_public_key"], size=32, what="exchange_public_key")
    existing = Node.objects.filter(node_id=node_id).first()
    if existing is not None and existing.is_local:
        raise NodeKeyError(f"{node_id} is this node, not a partner")
    keys_changed = existing is not None and (
        existing.signing_public_key != descriptor["signing_public_key"]
        or existing.exchange_public_key != descriptor["exchange_public_key"]
    )
    if keys_changed and existing.signing_public_key and not replace_keys:
        raise NodeKeyError(
            f"{node_id} is registered with other keys; check with its operator, then "
            "pass --replace-keys"
        )
    agencies = descriptor.get("agencies", [])
    if not isinstance(agencies, list) or not all(
        isinstance(a, dict) and isinstance(a.get("code"), str) and isinstance(a.get("name"), str)
        for a in agencies
    ):
        raise NodeKeyError("agencies must be a list of {code, name, jurisdiction}")
    from agencies.models import Agency

    for entry in agencies:
        hosted = Agency.objects.filter(code=entry["code"]).exclude(home_node__node_id=node_id)
        if hosted.exists():
            raise NodeKeyError(
                f"agency {entry['code']!r} is already hosted on {hosted.get().home_node.node_id}"
            )
    with transaction.atomic():
        node, _created = Node.objects.update_or_create(
            node_id=node_id,
            defaults={key: descriptor[key] for key in required if key != "node_id"},
        )
        for entry in agencies:
            _replica_agency(node, entry)
        # New details (an address, keys): the periodic pull tries it at once, not after a backoff.
        from sharing.models import PartnerSync

        PartnerSync.objects.filter(partner=node).update(failures=0)
    return node


def _replica_agency(node: Node, entry: dict[str, str]) -> None:
    """A partner's agency, known here so that it can be granted access (its people are not)."""
    from django.contrib.auth.models import Group

    from agencies.models import Agency

    agency = Agency.objects.filter(code=entry["code"]).first()
    if agency is None:
        group, _ = Group.objects.get_or_create(name=f"agency:{entry['code']}")
        Agency.objects.create(
            code=entry["code"],
            name=entry["name"],
            jurisdiction=entry.get("jurisdiction", ""),
            home_node=node,
            group=group,
        )
    else:
        agency.name, agency.jurisdiction = entry["name"], entry.get("jurisdiction", "")
        agency.save(update_fields=["name", "jurisdiction"])


def _node_wrap_key(shared: bytes, *, recipient: str, attachment_id: str, version: int) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    info = f"sx-node-keywrap|{recipient}|{attachment_id}|{version}".encode()
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(shared)


def wrap_for_node(node: Node, data_key: bytes, *, attachment_id: str, version: int) -> str:
    """An attachment's data key for a partner node: X25519 with a fresh ephemeral key, HKDF,
    AES-GCM; bound to the recipient, the attachment and its version. Only that node's X25519
    private key opens it; the file itself is never decrypted on the way."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    ephemeral = X25519PrivateKey.generate()
    kek = _node_wrap_key(
        ephemeral.exchange(exchange_public_key(node)),
        recipient=node.node_id,
        attachment_id=attachment_id,
        version=version,
    )
    nonce = os.urandom(12)
    sealed = AESGCM(kek).encrypt(nonce, data_key, f"{attachment_id}|{version}".encode())
    return b64(ephemeral.public_key().public_bytes(RAW, RAW_PUBLIC) + nonce + sealed)


def unwrap_from_node(wrapped: str, *, attachment_id: str, version: int) -> bytes:
    """This node's side of wrap_for_node; NodeKeyError if it does not open."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from agencies.services import node_ensure_local

    try:
        raw = base64.b64decode(wrapped, validate=True)
    except (binascii.Error, ValueError):
        raise NodeKeyError("the wrapped key is not base64") from None
    if len(raw) < 32 + 12 + 16:
        raise NodeKeyError("the wrapped key is too short")
    peer = X25519PublicKey.from_public_bytes(raw[:32])
    kek = _node_wrap_key(
        load_node_keys().exchange.exchange(peer),
        recipient=node_ensure_local().node_id,
        attachment_id=attachment_id,
        version=version,
    )
    try:
        return AESGCM(kek).decrypt(raw[32:44], raw[44:], f"{attachment_id}|{version}".encode())
    except InvalidTag:
        raise NodeKeyError("the wrapped key does not open with this node's key") from None
