"""The sharing core's tables: the change log (source of truth for sync)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Marking(models.TextChoices):
    """TLP 2.0: the default audience of an object."""

    CLEAR = "CLEAR", "TLP:CLEAR"
    GREEN = "GREEN", "TLP:GREEN"
    AMBER = "AMBER", "TLP:AMBER"
    AMBER_STRICT = "AMBER+STRICT", "TLP:AMBER+STRICT"
    RED = "RED", "TLP:RED"


class ChangeAction(models.TextChoices):
    CREATE = "create"
    UPDATE = "update"
    DELIST = "delist"
    DELETE = "delete"


class ChangeLogEntry(models.Model):
    """One change to a shareable object, appended in the same transaction as the change.

    Sequence numbers, not timestamps, order changes: timestamps tie and skew between nodes.
    """

    seq = models.BigAutoField(primary_key=True)
    object_type = models.CharField(max_length=40)
    object_id = models.UUIDField()
    version = models.PositiveIntegerField()
    action = models.CharField(max_length=10, choices=ChangeAction.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "change log"
        ordering = ["seq"]
        indexes = [
            # "latest change of this object", for the feed and for history views.
            models.Index(fields=["object_type", "object_id", "seq"], name="changelog_object_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type} {self.object_id} v{self.version}"


class AuditAction(models.TextChoices):
    CHANGE = "change", "Change"
    GRANT = "grant", "Grant"
    REVOKE = "revoke", "Revoke"
    MEMBERSHIP = "membership", "Sharing group membership"
    LOGIN = "login", "Sign-in"
    LOGIN_FAILED = "login_failed", "Failed sign-in"
    LOGOUT = "logout", "Sign-out"
    READ = "read", "Read"
    DOWNLOAD = "download", "Download"
    DENIED = "denied", "Denied"
    INTEGRITY = "integrity", "Integrity failure"
    IMPORT = "import", "List import"
    EXPORT = "export", "Export"
    FEDERATION = "federation", "Federation (node keys, partners)"
    SYNC = "sync", "Sync batch"


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs: object) -> int:
        raise PermissionError("Audit entries are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("Audit entries are append-only")


class AuditEntry(models.Model):
    """One audited act. Append-only and hash-chained: each entry's hash covers its content
    and the previous entry's hash, so altering or removing a row breaks the chain at that row.

    Who and which agency are kept as text as well as links: the record must outlive renames
    and deleted accounts.
    """

    seq = models.BigAutoField(primary_key=True)
    at = models.DateTimeField()
    action = models.CharField(max_length=20, choices=AuditAction.choices)
    # DO_NOTHING without a database constraint: deleting an account must not rewrite (and so
    # break) the entries that name it; actor_name keeps who it was.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
    )
    actor_name = models.CharField(max_length=150, blank=True)
    agency_code = models.CharField(max_length=32, blank=True, db_index=True)
    object_type = models.CharField(max_length=40, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    # The agency that owns the object acted on, so its admins see acts on their objects.
    object_agency_code = models.CharField(max_length=32, blank=True, db_index=True)
    detail = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    source = models.CharField(max_length=20, blank=True, help_text="web, api, cli, worker")
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["seq"]
        verbose_name_plural = "audit log"

    def __str__(self) -> str:
        return f"#{self.seq} {self.at:%Y-%m-%d %H:%M:%S} {self.actor_name} {self.action}"

    def save(self, *args: object, **kwargs: object) -> None:
        if not self._state.adding:
            raise PermissionError("Audit entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise PermissionError("Audit entries are append-only")


class AuditHead(models.Model):
    """The chain's tip, one row. Appenders lock it, so two concurrent appends cannot both
    link to the same previous entry."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_hash = models.CharField(max_length=64)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="one_audit_head")]

    def __str__(self) -> str:
        return f"audit chain tip {self.last_hash[:12]}"


class IdempotencyRecord(models.Model):
    """The answer to a create sent with an Idempotency-Key: a retry with the same key and body
    gets the same answer instead of a second object."""

    principal = models.CharField(max_length=120)
    key = models.CharField(max_length=200)
    request_hash = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField()
    body = models.JSONField()
    location = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            # Two concurrent retries: the second insert fails and reads the first's answer.
            models.UniqueConstraint(fields=["principal", "key"], name="idempotency_key_once")
        ]

    def __str__(self) -> str:
        return f"{self.principal} {self.key}"


class NodeRequestNonce(models.Model):
    """A signed request's nonce, kept for the clock-skew window: a second request with the
    same nonce from the same node is a replay."""

    node = models.ForeignKey("agencies.Node", on_delete=models.CASCADE, related_name="+")
    nonce = models.CharField(max_length=64)
    seen_at = models.DateTimeField()

    class Meta:
        constraints = [
            # The replay check is this constraint: the insert of a repeated nonce fails.
            models.UniqueConstraint(fields=["node", "nonce"], name="node_nonce_once")
        ]
        indexes = [models.Index(fields=["seen_at"], name="node_nonce_seen_idx")]  # the purge

    def __str__(self) -> str:
        return f"{self.node_id}:{self.nonce}"


class SyncOffer(models.Model):
    """What this node has sent a partner in its feed, at which version: a later change that
    takes the object out of the partner's sight is sent as a retraction, and only then (a
    partner never learns of objects it was never shown)."""

    partner = models.ForeignKey("agencies.Node", on_delete=models.CASCADE, related_name="+")
    object_type = models.CharField(max_length=40)
    object_id = models.UUIDField()
    version = models.PositiveIntegerField()
    # Retracted at this sequence, kept until the partner's cursor passes it.
    retracted_seq = models.BigIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "object_type", "object_id"], name="one_offer_per_object"
            )
        ]
        indexes = [
            # Every feed request forgets the retractions the partner holds: a few rows among
            # all the offers, found without reading the others.
            models.Index(
                fields=["partner", "retracted_seq"],
                condition=models.Q(retracted_seq__isnull=False),
                name="offer_retracted_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.partner_id}: {self.object_type} {self.object_id} v{self.version}"


class PartnerSync(models.Model):
    """This node's sync state with one partner: how far its feed has been applied, and how the
    last runs went (the sync status page and `sync status` read it)."""

    partner = models.OneToOneField("agencies.Node", on_delete=models.CASCADE, related_name="sync")
    cursor = models.BigIntegerField(default=0, help_text="Last sequence of the partner applied")
    partner_head = models.BigIntegerField(
        default=0, help_text="The partner's change-log head at the last pull"
    )
    last_pull_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_push_at = models.DateTimeField(null=True, blank=True, help_text="Last batch pushed")
    last_reconcile_at = models.DateTimeField(null=True, blank=True)
    last_drift = models.PositiveIntegerField(
        default=0, help_text="Objects the last reconcile found missing, stale or extra"
    )
    # One run per partner at a time: a run claims the lease with a conditional UPDATE.
    lease_until = models.DateTimeField(null=True, blank=True)
    pull_wanted_at = models.DateTimeField(
        null=True, blank=True, help_text="A pull asked for while a run held the lease"
    )
    failures = models.PositiveIntegerField(
        default=0, help_text="Pulls failed in a row (the periodic pull backs off)"
    )
    partner_cursor = models.BigIntegerField(
        default=0, help_text="How far the partner has read this node's feed (as it last said)"
    )

    def __str__(self) -> str:
        return f"sync with {self.partner_id} at {self.cursor}"


class SyncHeld(models.Model):
    """A record from a partner that could not be applied: kept with its error, retried on
    every run, applied once possible (never skipped silently)."""

    partner = models.ForeignKey("agencies.Node", on_delete=models.CASCADE, related_name="+")
    seq = models.BigIntegerField()
    object_type = models.CharField(max_length=40)
    object_id = models.UUIDField()
    record = models.JSONField()
    error = models.TextField()
    attempts = models.PositiveIntegerField(default=1)
    first_failed_at = models.DateTimeField(auto_now_add=True)
    last_failed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["partner", "seq"]
        constraints = [
            # The latest failing record per object: a newer one replaces it.
            models.UniqueConstraint(
                fields=["partner", "object_type", "object_id"], name="one_held_record_per_object"
            )
        ]

    def __str__(self) -> str:
        return f"held {self.object_type} {self.object_id} from {self.partner_id}: {self.error}"


class SyncConflict(models.Model):
    """The same version arrived with other content than this node holds: the owner's copy
    won, and the difference is kept for operators."""

    partner = models.ForeignKey("agencies.Node", on_delete=models.CASCADE, related_name="+")
    object_type = models.CharField(max_length=40)
    object_id = models.UUIDField()
    version = models.PositiveIntegerField()
    fields = models.JSONField(default=list)
    found_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"conflict on {self.object_type} {self.object_id} v{self.version}"


class ChangeLogHead(models.Model):
    """One row that every change locks before it takes a sequence number: with concurrent
    transactions on PostgreSQL, sequence numbers would otherwise become visible out of order
    (11 committed before 10), and a partner whose cursor passed 11 would never see 10."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)

    def __str__(self) -> str:
        return "change log head"
