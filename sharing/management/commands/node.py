"""python manage.py node init|export|add-partner FILE: this node's keys and its partners."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from agencies.services import node_ensure_local
from sharing.audit import audit_context, audit_record
from sharing.models import AuditAction
from sharing.node_keys import (
    NodeKeyError,
    descriptor,
    node_init,
    node_key_file,
    partner_register,
)


class Command(BaseCommand):
    help = "Create this node's keys, print its public descriptor, or register a partner."

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="action", required=True)
        init = commands.add_parser("init", help="generate this node's Ed25519 and X25519 keys")
        init.add_argument(
            "--exist-ok", action="store_true", help="do nothing if the node has keys already"
        )
        commands.add_parser("export", help="print this node's public descriptor (JSON)")
        add = commands.add_parser("add-partner", help="register a partner from its descriptor")
        add.add_argument("file", type=Path, help="the partner's `node export` output, or -")
        add.add_argument(
            "--replace-keys",
            action="store_true",
            help="accept new keys for a partner already registered",
        )

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        try:
            with audit_context(source="cli"):
                getattr(self, action.replace("-", "_"))(**options)
        except NodeKeyError as error:
            raise CommandError(str(error)) from error

    def init(self, *, exist_ok: bool, **options: Any) -> None:
        if exist_ok and node_key_file().exists():
            self.stdout.write(f"Node keys exist ({node_key_file()}).")
            return
        node = node_init()
        audit_record(AuditAction.FEDERATION, detail={"node": node.node_id, "keys": "created"})
        self.stdout.write(self.style.SUCCESS(f"Keys created for node {node.node_id}."))

    def export(self, **options: Any) -> None:
        node = node_ensure_local()
        if not node.signing_public_key:
            raise CommandError("this node has no keys yet; run `python manage.py node init`")
        self.stdout.write(json.dumps(descriptor(node), indent=2))

    def add_partner(self, *, file: Path, replace_keys: bool, **options: Any) -> None:
        text = sys.stdin.read() if str(file) == "-" else _read(file)
        try:
            body = json.loads(text)
        except json.JSONDecodeError as error:
            raise CommandError(f"{file} is not JSON: {error}") from error
        if not isinstance(body, dict):
            raise CommandError(f"{file} is not a node descriptor (a JSON object)")
        node = partner_register(descriptor=body, replace_keys=replace_keys)
        audit_record(
            AuditAction.FEDERATION,
            detail={"partner": node.node_id, "base_url": node.base_url, "keys": "registered"},
        )
        self.stdout.write(self.style.SUCCESS(f"Partner {node.node_id} at {node.base_url}."))


def _read(file: Path) -> str:
    try:
        return file.read_text()
    except OSError as error:
        raise CommandError(f"cannot read {file}: {error.strerror}") from error
