"""python manage.py verify_attachments: decrypt and check every stored attachment."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from designations.attachments import attachment_verify
from designations.models import Attachment
from sharing.audit import audit_record
from sharing.crypto import IntegrityError, KeyUnavailable
from sharing.keyring import load_keyring
from sharing.models import AuditAction


class Command(BaseCommand):
    help = "Verify every attachment: its key opens, every segment authenticates, hash matches."

    def handle(self, *args: Any, **options: Any) -> None:
        keyring = load_keyring()
        failures = 0
        attachments = Attachment.objects.prefetch_related("slots").order_by("created_at")
        for attachment in attachments.iterator(chunk_size=200):
            try:
                attachment_verify(attachment, keyring)
            except (IntegrityError, KeyUnavailable) as error:
                failures += 1
                audit_record(AuditAction.INTEGRITY, obj=attachment, detail={"error": str(error)})
                self.stderr.write(f"FAILED {attachment.pk} ({attachment.original_name}): {error}")
        checked = attachments.count()
        if failures:
            raise CommandError(f"{failures} of {checked} attachments failed verification")
        self.stdout.write(self.style.SUCCESS(f"All {checked} attachments verified."))
