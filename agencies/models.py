"""Nodes, agencies, people and sharing groups."""

from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractUser, Group
from django.db import models


class Node(models.Model):
    """One deployment of the platform. The local node is registered like any partner."""

    node_id = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    base_url = models.URLField()
    is_local = models.BooleanField(default=False)
    # Public keys (raw, base64) of partners; filled in by the federation set-up.
    signing_public_key = models.CharField(max_length=100, blank=True)
    exchange_public_key = models.CharField(max_length=100, blank=True)
    last_heartbeat_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            # Exactly one row describes this deployment.
            models.UniqueConstraint(
                fields=["is_local"], condition=models.Q(is_local=True), name="one_local_node"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.node_id})"


class Agency(models.Model):
    """A member organisation, hosted on exactly one node. Its Group carries its grants."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    code = models.SlugField(max_length=32, unique=True, help_text="Short stable code, e.g. UNSC")
    name = models.CharField(max_length=200)
    jurisdiction = models.CharField(max_length=100, help_text="e.g. United Nations, EU, GB")
    home_node = models.ForeignKey(Node, on_delete=models.PROTECT, related_name="agencies")
    group = models.OneToOneField(Group, on_delete=models.PROTECT, related_name="agency")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "agencies"
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def is_local(self) -> bool:
        return self.home_node.is_local


class Role(models.TextChoices):
    # liaison: read, write notes; publisher: also designations; agency admin: also grants
    # and the agency's people.
    LIAISON = "liaison", "Liaison"
    PUBLISHER = "publisher", "Publisher"
    AGENCY_ADMIN = "agency_admin", "Agency admin"


class User(AbstractUser):
    """A person. Everyone but site administrators (staff) belongs to exactly one agency."""

    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, null=True, blank=True, related_name="people"
    )
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.LIAISON)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(is_staff=True) | models.Q(agency__isnull=False),
                name="non_staff_user_has_agency",
            )
        ]

    @property
    def may_publish(self) -> bool:
        return self.agency_id is not None and self.role in {Role.PUBLISHER, Role.AGENCY_ADMIN}


class SharingGroup(models.Model):
    """A named set of agencies (a task force), possibly spanning several nodes."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200, unique=True)
    owner_node = models.ForeignKey(Node, on_delete=models.PROTECT, related_name="sharing_groups")
    # The agency whose admins decide who is in the group; none for groups that site
    # administrators keep in the admin.
    convener = models.ForeignKey(
        "Agency",
        on_delete=models.PROTECT,
        related_name="convened_groups",
        null=True,
        blank=True,
    )
    members = models.ManyToManyField(Agency, related_name="sharing_groups", blank=True)
    # Grants to the sharing group are guardian group permissions on this Group; members are
    # resolved at query time, so joining or leaving changes access on the next request.
    group = models.OneToOneField(Group, on_delete=models.PROTECT, related_name="sharing_group")
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ApiScope(models.TextChoices):
    READ = "read", "Read what the agency may see"
    WRITE = "write", "Publish and amend the agency's designations, add notes and files"
    GRANTS = "grants", "Share the agency's objects"


class ApiClient(models.Model):
    """A partner system acting for one agency over the REST API.

    The secret is shown once at creation and stored only as a SHA-256 hash: it is 256 random
    bits, so a slow password hash would add latency to every request without adding safety.
    The prefix, stored in clear, finds the row without scanning.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="api_clients")
    name = models.CharField(max_length=200)
    scopes = models.JSONField(default=list, help_text="Any of read, write, grants")
    prefix = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        "User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["agency", "name"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "name"], name="api_client_name_per_agency")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.agency.code})"
