"""python manage.py sync status|pull|reconcile [NODE]: sync with partner nodes, for operators."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sharing.audit import audit_context
from sharing.sync_apply import BatchRejected
from sharing.sync_client import sync_pull, sync_reconcile
from sharing.sync_feed import partners
from sharing.sync_http import PartnerUnavailable
from sharing.sync_status import sync_overview


class Command(BaseCommand):
    help = "Show sync state with partner nodes, or pull from them now."

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="action", required=True)
        commands.add_parser("status", help="cursor, last pull, last error, held records")
        pull = commands.add_parser("pull", help="read a partner's feed now (all if none named)")
        pull.add_argument("node", nargs="?", help="the partner's node id")
        reconcile = commands.add_parser(
            "reconcile", help="compare digests with a partner and repair (all if none named)"
        )
        reconcile.add_argument("node", nargs="?", help="the partner's node id")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        with audit_context(source="cli"):
            getattr(self, action)(**options)

    def status(self, **options: Any) -> None:
        head, rows = sync_overview()
        self.stdout.write(f"this node's change log head: {head}")
        for row in rows:
            state = row.state
            self.stdout.write(
                f"{row.partner.node_id:<12} cursor {state.cursor:<8} "
                f"behind {row.lag_changes:<6} "
                f"last pull {state.last_pull_at or 'never'}  "
                f"held {row.held.count()}  drift {state.last_drift}  "
                f"last error: {state.last_error or '-'}"
            )
            for held in row.held:
                self.stdout.write(f"    held {held.object_type} {held.object_id}: {held.error}")

    def _chosen(self, node: str | None):  # type: ignore[no-untyped-def]
        chosen = partners().order_by("node_id")
        if node:
            chosen = chosen.filter(node_id=node)
            if not chosen.exists():
                raise CommandError(f"{node!r} is not a registered partner")
        return chosen

    def reconcile(self, *, node: str | None, **options: Any) -> None:
        self._run(
            node,
            sync_reconcile,
            lambda r: (
                f"drift {r.drift} ({r.buckets_differing} buckets differed, "
                f"{r.fetched} fetched, {r.dropped} dropped)"
            ),
            "reconciled with",
        )

    def pull(self, *, node: str | None, **options: Any) -> None:
        self._run(
            node,
            sync_pull,
            lambda r: (
                f"cursor {r.cursor}, {r.batches} batches, {r.applied} applied, "
                f"{r.retracted} retracted, {r.conflicts} conflicts, {r.held} held"
            ),
            "pulled from",
        )

    def _run(self, node: str | None, run: Any, describe: Any, verb: str) -> None:
        """One run per chosen partner; a failing partner does not stop the others."""
        failed = False
        for partner in self._chosen(node):
            try:
                result = run(partner)
            except (PartnerUnavailable, BatchRejected) as error:
                self.stderr.write(f"{partner.node_id}: {error}")
                failed = True
                continue
            if result.skipped:
                self.stdout.write(f"{partner.node_id}: another run is in progress")
            else:
                self.stdout.write(f"{partner.node_id}: {describe(result)}")
        if failed:
            raise CommandError(f"some partners could not be {verb} (see above)")
