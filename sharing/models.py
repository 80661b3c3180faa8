"""The sharing core's tables: the change log (source of truth for sync)."""

from __future__ import annotations

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
