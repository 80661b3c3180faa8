"""python manage.py verify_audit: check the audit log's hash chain."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from sharing.audit import audit_verify


class Command(BaseCommand):
    help = "Verify the audit log's hash chain; name the first broken entry."

    def handle(self, *args: Any, **options: Any) -> None:
        checked, broken = audit_verify()
        if broken is not None:
            raise CommandError(
                f"audit entry #{broken.seq} is broken: {broken.reason}. "
                f"{checked} entries before it are intact."
            )
        self.stdout.write(self.style.SUCCESS(f"Audit log intact: {checked} entries verified."))
