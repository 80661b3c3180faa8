"""python manage.py keys generate|rotate|rewrap|status: attachment key-encryption keys."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from designations.attachments import attachments_rewrap
from designations.models import Attachment, KeySlot
from sharing.crypto import KeyUnavailable
from sharing.keyring import KeyringError, keyring_add_primary, keyring_file, load_keyring


class Command(BaseCommand):
    help = "Manage the key-encryption keys that wrap attachments' data keys."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["generate", "rotate", "rewrap", "status"])

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        try:
            getattr(self, action)()
        except (KeyringError, KeyUnavailable) as error:
            raise CommandError(str(error)) from error

    def generate(self) -> None:
        """Create the key file with a first KEK (refuses to replace an existing keyring)."""
        if keyring_file().exists():
            raise CommandError(f"{keyring_file()} exists; use `keys rotate` to add a KEK")
        kek_id = keyring_add_primary()
        self.stdout.write(self.style.SUCCESS(f"Generated KEK {kek_id} in {keyring_file()}"))

    def rotate(self) -> None:
        """A new primary KEK, then every data key rewrapped under it (bodies untouched)."""
        kek_id = keyring_add_primary()
        self.stdout.write(f"New primary KEK {kek_id}; rewrapping data keys ...")
        self.rewrap()

    def rewrap(self) -> None:
        count = attachments_rewrap(load_keyring())
        self.stdout.write(self.style.SUCCESS(f"Rewrapped {count} data keys."))
        self.status()

    def status(self) -> None:
        keyring = load_keyring()
        slots = Counter(KeySlot.objects.values_list("kek_id", flat=True))
        total = Attachment.objects.count()
        pending = Attachment.objects.exclude(slots__kek_id=keyring.primary).count()
        self.stdout.write(f"Keyring: {keyring.source}")
        for kek_id in keyring.keys:
            mark = " (primary)" if kek_id == keyring.primary else ""
            self.stdout.write(f"  {kek_id}{mark}: {slots.get(kek_id, 0)} key slots")
        for kek_id in sorted(set(slots) - set(keyring.keys)):
            self.stdout.write(f"  {kek_id}: {slots[kek_id]} key slots, KEK NOT IN THE KEYRING")
        self.stdout.write(f"Attachments: {total}; not yet under the primary KEK: {pending}")
