"""Key-encryption keys (KEKs) for attachments' data keys.

KEKs come from the environment (ATTACHMENT_KEKS="id:base64,...", ATTACHMENT_PRIMARY_KEK) or
from a key file outside the repository (ATTACHMENT_KEYRING_FILE, default var/keyring.json,
mode 0600), never from the database or settings.py. The primary KEK wraps new data keys; any
KEK still in the ring opens the slots made with it.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from sharing.crypto import KEY_SIZE, KeyUnavailable


class KeyringError(Exception):
    """The keyring is missing or malformed; the message says what to do."""


@dataclass(frozen=True)
class Keyring:
    keys: dict[str, bytes]
    primary: str
    source: str  # "environment" or the key file's path

    def key(self, kek_id: str) -> bytes:
        try:
            return self.keys[kek_id]
        except KeyError:
            raise KeyUnavailable(
                f"key-encryption key {kek_id!r} is not in the keyring ({self.source})"
            ) from None


def _decode(kek_id: str, text: str) -> bytes:
    try:
        key = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise KeyringError(f"KEK {kek_id!r} is not valid base64") from None
    if len(key) != KEY_SIZE:
        raise KeyringError(f"KEK {kek_id!r} must be {KEY_SIZE} bytes, not {len(key)}")
    return key


def keyring_file() -> Path:
    return Path(settings.ATTACHMENT_KEYRING_FILE)


def load_keyring() -> Keyring:
    if env := os.getenv("ATTACHMENT_KEKS"):
        keys = {}
        for item in env.split(","):
            kek_id, _, text = item.strip().partition(":")
            keys[kek_id] = _decode(kek_id, text)
        primary = os.getenv("ATTACHMENT_PRIMARY_KEK") or list(keys)[-1]
        if primary not in keys:
            raise KeyringError(f"ATTACHMENT_PRIMARY_KEK {primary!r} is not in ATTACHMENT_KEKS")
        return Keyring(keys, primary, "environment")
    path = keyring_file()
    if not path.exists():
        raise KeyringError(
            f"no keyring: set ATTACHMENT_KEKS or run `manage.py keys generate` ({path})"
        )
    try:
        data = json.loads(path.read_text())
        keys = {kek_id: _decode(kek_id, text) for kek_id, text in data["keys"].items()}
        primary = data["primary"]
    except (ValueError, KeyError, TypeError) as error:
        raise KeyringError(f"{path} is not a keyring file: {error}") from None
    if primary not in keys:
        raise KeyringError(f"{path}: primary KEK {primary!r} is not among its keys")
    return Keyring(keys, primary, str(path))


def keyring_add_primary() -> str:
    """Generate a KEK into the key file and make it primary; returns its id."""
    if os.getenv("ATTACHMENT_KEKS"):
        raise KeyringError(
            "KEKs come from ATTACHMENT_KEKS: add a new key there, point ATTACHMENT_PRIMARY_KEK "
            "at it, then run `manage.py keys rewrap`"
        )
    path = keyring_file()
    data = {"primary": "", "keys": {}}
    if path.exists():
        data = json.loads(path.read_text())
    kek_id = f"kek-{timezone.now():%Y%m%d}-{secrets.token_hex(3)}"
    data["keys"][kek_id] = base64.b64encode(secrets.token_bytes(KEY_SIZE)).decode()
    data["primary"] = kek_id
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written to a new file then renamed: an interrupted write never loses the old keys.
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as stream:
        json.dump(data, stream, indent=2)
        stream.flush()
        os.fsync(stream.fileno())
    os.replace(temporary, path)
    return kek_id
