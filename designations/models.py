"""Designations and everything hanging off them: names, identifiers, addresses, history,
notes, and the published lists they came from."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from agencies.models import Agency
from sharing.models import Marking


class Regime(models.Model):
    """A sanctions programme of one authority (UN 'DPRK', EU 'Syria', ...)."""

    owner = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="regimes")
    code = models.CharField(max_length=64)
    name = models.CharField(max_length=300)
    legal_basis = models.TextField(blank=True)

    class Meta:
        ordering = ["owner__code", "code"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "code"], name="regime_code_per_owner")
        ]

    def __str__(self) -> str:
        return f"{self.owner.code} {self.code}"


class SubjectKind(models.TextChoices):
    PERSON = "person", "Person"
    ORGANISATION = "organisation", "Organisation"
    VESSEL = "vessel", "Vessel"
    AIRCRAFT = "aircraft", "Aircraft"


class DesignationStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    DELISTED = "delisted", "Delisted"


class Publisher(models.TextChoices):
    UN = "un", "UN Security Council"
    OFAC = "ofac", "US OFAC"
    EU = "eu", "European Union"
    UK = "uk", "UK HM Treasury"
    FTM = "ftm", "FollowTheMoney entities"


class Designation(models.Model):
    """Who is sanctioned, by whom, under which regime. Only the owner raises the version."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="designations")
    regime = models.ForeignKey(Regime, on_delete=models.PROTECT, related_name="designations")
    legal_basis = models.TextField(blank=True)
    reference_number = models.CharField(max_length=64, blank=True)
    subject_kind = models.CharField(max_length=20, choices=SubjectKind.choices)
    # The primary name, repeated from names for sorting and display.
    name = models.CharField(max_length=500)
    gender = models.CharField(max_length=20, blank=True)
    titles = models.JSONField(default=list, blank=True)
    positions = models.JSONField(default=list, blank=True, help_text="Functions and ranks held")
    measures = models.JSONField(default=list, blank=True)
    reasons = models.TextField(blank=True, help_text="Statement of reasons and other information")
    listed_on = models.DateField(null=True, blank=True)
    delisted_on = models.DateField(null=True, blank=True)
    source_updated_on = models.JSONField(
        default=list, blank=True, help_text="Dates the publisher reports amending the entry"
    )
    status = models.CharField(
        max_length=10, choices=DesignationStatus.choices, default=DesignationStatus.DRAFT
    )
    version = models.PositiveIntegerField(default=1)
    marking = models.CharField(max_length=12, choices=Marking.choices, default=Marking.AMBER)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        permissions = [
            ("comment_designation", "Can add notes about designation"),
            ("download_designation", "Can download designation attachments"),
        ]
        indexes = [
            # The portal list: filter by agency and status, sorted by name.
            models.Index(fields=["owner", "status", "name"], name="designation_owner_status_idx"),
            # The visibility gate's marking branch (CLEAR/GREEN for every member).
            models.Index(fields=["marking", "status"], name="designation_marking_idx"),
            models.Index(fields=["reference_number"], name="designation_reference_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.reference_number or self.id})"

    def get_absolute_url(self) -> str:
        return reverse("portal:designation-detail", args=[self.pk])


class NameKind(models.TextChoices):
    PRIMARY = "primary", "Primary name"
    ALIAS = "alias", "Also known as"
    FORMER = "former", "Formerly known as"
    ORIGINAL_SCRIPT = "original_script", "Name in original script"


class NameQuality(models.TextChoices):
    # UN: a "good quality" alias identifies; a "low quality" one may match many people.
    NONE = "", "Unspecified"
    GOOD = "good", "Good"
    LOW = "low", "Low"


class Name(models.Model):
    designation = models.ForeignKey(Designation, on_delete=models.CASCADE, related_name="names")
    kind = models.CharField(max_length=20, choices=NameKind.choices)
    full_name = models.CharField(max_length=500)
    parts = models.JSONField(default=list, blank=True, help_text="Name parts in source order")
    quality = models.CharField(max_length=4, choices=NameQuality.choices, blank=True)
    script = models.CharField(max_length=4, blank=True, help_text="ISO 15924, e.g. Latn, Arab")
    # Lower-case, accents and punctuation removed: what name search compares.
    normalized = models.CharField(max_length=500, db_index=True)
    birth_date = models.CharField(max_length=20, blank=True, help_text="Given with this alias")
    birth_place = models.CharField(max_length=300, blank=True, help_text="Given with this alias")
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.full_name


class BirthDateKind(models.TextChoices):
    EXACT = "exact", "Exact"
    APPROXIMATE = "approximate", "Approximately"
    BETWEEN = "between", "Between"


class BirthDate(models.Model):
    designation = models.ForeignKey(
        Designation, on_delete=models.CASCADE, related_name="birth_dates"
    )
    kind = models.CharField(max_length=12, choices=BirthDateKind.choices, blank=True)
    date = models.DateField(null=True, blank=True)
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    from_year = models.PositiveSmallIntegerField(null=True, blank=True)
    to_year = models.PositiveSmallIntegerField(null=True, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        if self.date:
            value = self.date.isoformat()
        elif self.from_year or self.to_year:
            value = f"{self.from_year or '?'} to {self.to_year or '?'}"
        else:
            value = str(self.year or "")
        prefix = "approx. " if self.kind == BirthDateKind.APPROXIMATE else ""
        return f"{prefix}{value}" + (f" ({self.note})" if self.note else "")


class PlaceFields(models.Model):
    street = models.CharField(max_length=500, blank=True)
    city = models.CharField(max_length=200, blank=True)
    state_province = models.CharField(max_length=200, blank=True)
    postal_code = models.CharField(max_length=40, blank=True)
    country = models.CharField(max_length=100, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        abstract = True
        ordering = ["id"]

    def __str__(self) -> str:
        parts = [self.street, self.city, self.state_province, self.postal_code, self.country]
        text = ", ".join(p for p in parts if p)
        return " ".join(p for p in (text, f"({self.note})" if self.note else "") if p)


class BirthPlace(PlaceFields):
    designation = models.ForeignKey(
        Designation, on_delete=models.CASCADE, related_name="birth_places"
    )


class Address(PlaceFields):
    designation = models.ForeignKey(Designation, on_delete=models.CASCADE, related_name="addresses")

    class Meta(PlaceFields.Meta):
        verbose_name_plural = "addresses"


class Nationality(models.Model):
    designation = models.ForeignKey(
        Designation, on_delete=models.CASCADE, related_name="nationalities"
    )
    country = models.CharField(max_length=100)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "nationalities"

    def __str__(self) -> str:
        return self.country


class IdentifierKind(models.TextChoices):
    PASSPORT = "passport", "Passport"
    NATIONAL_ID = "national_id", "National identification"
    IMO = "imo", "IMO number"
    REGISTRATION = "registration", "Registration number"
    BIC = "bic", "BIC / SWIFT"
    TAX = "tax", "Tax number"
    # A wallet address (OFAC lists them as "Digital Currency Address - XBT" and so on).
    DIGITAL_CURRENCY = "digital_currency", "Digital currency address"
    OTHER = "other", "Other"


class Identifier(models.Model):
    designation = models.ForeignKey(
        Designation, on_delete=models.CASCADE, related_name="identifiers"
    )
    kind = models.CharField(max_length=20, choices=IdentifierKind.choices)
    type_detail = models.CharField(max_length=200, blank=True, help_text="As the source words it")
    number = models.CharField(max_length=200, blank=True)
    issuing_country = models.CharField(max_length=100, blank=True)
    country_of_issue = models.CharField(max_length=100, blank=True)
    city_of_issue = models.CharField(max_length=200, blank=True)
    issued_on = models.DateField(null=True, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            # Strong-identifier lookups (same passport, same IMO) for subject matching.
            models.Index(fields=["kind", "number"], name="identifier_kind_number_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number}".strip()


class DesignationVersion(models.Model):
    """The full state of a designation at one version, and who made it so."""

    designation = models.ForeignKey(Designation, on_delete=models.CASCADE, related_name="history")
    version = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=DesignationStatus.choices)
    snapshot = models.JSONField()
    changed_fields = models.JSONField(default=list)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True
    )
    actor_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, null=True, blank=True)
    # Who, when it is not a person of this node (an API client, a list import).
    actor_name = models.CharField(max_length=200, blank=True)
    publication = models.ForeignKey(
        "ListPublication",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="versions",
    )
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["designation", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["designation", "version"], name="one_history_row_per_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.designation_id} v{self.version}"


class ListPublication(models.Model):
    """One imported file of a list publisher."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    publisher = models.CharField(max_length=10, choices=Publisher.choices)
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="publications")
    generated_at = models.DateTimeField()
    file_name = models.CharField(max_length=300)
    file_sha256 = models.CharField(max_length=64)
    record_count = models.PositiveIntegerField()
    added = models.PositiveIntegerField(default=0)
    amended = models.PositiveIntegerField(default=0)
    delisted = models.PositiveIntegerField(default=0)
    relisted = models.PositiveIntegerField(default=0)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True
    )
    imported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-generated_at"]
        get_latest_by = "generated_at"
        constraints = [
            # Re-importing a file changes nothing, so one file is one publication.
            models.UniqueConstraint(
                fields=["publisher", "file_sha256"], name="publication_file_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_publisher_display()} list of {self.generated_at:%Y-%m-%d}"


class SourceEntry(models.Model):
    """Where an imported designation comes from: its identity in the publisher's list."""

    designation = models.OneToOneField(Designation, on_delete=models.CASCADE, related_name="source")
    publisher = models.CharField(max_length=10, choices=Publisher.choices)
    source_id = models.CharField(max_length=64, help_text="UN DATAID, OFAC ent_num, ...")
    reference_number = models.CharField(max_length=64, blank=True)
    source_version = models.CharField(max_length=20, blank=True)
    # SHA-256 of the entry's parsed content: an unchanged entry is skipped without diffing.
    content_hash = models.CharField(max_length=64)
    cross_references = models.JSONField(default=list, blank=True)
    # Source fields with no column of their own (UN LIST_TYPE, SUBMITTED_BY, ...), kept verbatim.
    details = models.JSONField(default=dict, blank=True)
    first_publication = models.ForeignKey(
        ListPublication, on_delete=models.PROTECT, related_name="+"
    )
    last_publication = models.ForeignKey(
        ListPublication, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name_plural = "source entries"
        constraints = [
            # The importer matches entries of a new file by this pair.
            models.UniqueConstraint(fields=["publisher", "source_id"], name="source_entry_once")
        ]

    def __str__(self) -> str:
        return f"{self.publisher}:{self.source_id}"


class IntelligenceNote(models.Model):
    """A note owned by its author's agency; never visible where its designation is not."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    designation = models.ForeignKey(
        Designation, on_delete=models.CASCADE, null=True, blank=True, related_name="notes"
    )
    owner = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True
    )
    title = models.CharField(max_length=300)
    body = models.TextField(help_text="Markdown")
    marking = models.CharField(max_length=12, choices=Marking.choices, default=Marking.AMBER)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [
            ("comment_intelligencenote", "Can comment on note"),
            ("download_intelligencenote", "Can download note attachments"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("portal:note-detail", args=[self.pk])


# Direct foreign-key object permissions (guardian): "what may this agency see" is one indexed
# join instead of a generic text-keyed lookup.
class DesignationUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Designation, on_delete=models.CASCADE)


class DesignationGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Designation, on_delete=models.CASCADE)


class NoteUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(IntelligenceNote, on_delete=models.CASCADE)


class NoteGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(IntelligenceNote, on_delete=models.CASCADE)


class Attachment(models.Model):
    """A file on a designation or a note, stored encrypted (sharing.crypto). Who may download
    it follows its parent at download level; the data key lives in its KeySlots."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    designation = models.ForeignKey(
        Designation, on_delete=models.CASCADE, null=True, blank=True, related_name="attachments"
    )
    note = models.ForeignKey(
        IntelligenceNote,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="attachments",
    )
    owner = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="attachments")
    version = models.PositiveIntegerField(default=1)
    original_name = models.CharField(max_length=255, help_text="Sanitised; metadata only")
    content_type = models.CharField(max_length=150, blank=True)
    size = models.PositiveBigIntegerField(help_text="Plaintext bytes")
    sha256 = models.CharField(max_length=64, help_text="Plaintext SHA-256, for evidence")
    stored_name = models.CharField(max_length=100, unique=True, help_text="Random, not the name")
    # A file received from a partner node is checked against its SHA-256 on first download.
    verified_at = models.DateTimeField(null=True, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(designation__isnull=False, note__isnull=True)
                | models.Q(designation__isnull=True, note__isnull=False),
                name="attachment_has_one_parent",
            )
        ]

    def __str__(self) -> str:
        return self.original_name

    def get_absolute_url(self) -> str:
        return reverse("portal:attachment-download", args=[self.pk])

    @property
    def parent(self) -> Designation | IntelligenceNote:
        return self.designation or self.note


class KeySlot(models.Model):
    """The attachment's data key wrapped by one key-encryption key (named, never stored)."""

    attachment = models.ForeignKey(Attachment, on_delete=models.CASCADE, related_name="slots")
    kek_id = models.CharField(max_length=64)
    wrapped_key = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            # Rewrapping adds the primary KEK's slot once; a rerun finds it and moves on.
            models.UniqueConstraint(fields=["attachment", "kek_id"], name="one_slot_per_kek")
        ]
        indexes = [
            # keys status / rewrap: "attachments without a slot for the primary KEK".
            models.Index(fields=["kek_id"], name="keyslot_kek_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.attachment_id} under {self.kek_id}"


class ProposalKind(models.TextChoices):
    AMEND = "amend", "Proposed amendment"
    DISPUTE = "dispute", "Disputed fields"


class ProposalStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"


class AmendmentProposal(models.Model):
    """An agency that does not own a designation proposes a change to it, or contests fields
    of it, with a reason; the owner accepts (an amendment) or rejects with a reason.

    Two authorities: the proposer's home node for the content, the designation owner's home
    node for the decision (sync applies each only from there)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    designation = models.ForeignKey(Designation, on_delete=models.CASCADE, related_name="proposals")
    proposer = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="proposals")
    proposed_by_name = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=ProposalKind.choices)
    # amend: {field: new value} in the designation data format; dispute: {"fields": [...]}
    changes = models.JSONField(default=dict)
    reason = models.TextField()
    based_on_version = models.PositiveIntegerField()
    status = models.CharField(
        max_length=10, choices=ProposalStatus.choices, default=ProposalStatus.OPEN
    )
    decision_reason = models.TextField(blank=True)
    decided_by_name = models.CharField(max_length=200, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    resulting_version = models.PositiveIntegerField(null=True, blank=True)
    # Raised by the decision, so that the decision travels as a newer version.
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The owner's inbox: open proposals about one agency's designations.
            models.Index(fields=["status", "designation"], name="proposal_inbox_idx")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.designation_id} by {self.proposer_id}"


class LinkMethod(models.TextChoices):
    REFERENCE = "reference", "Cross-reference in the source list"
    IDENTIFIER = "identifier", "Same strong identifier"
    NAME = "name", "Names, birth data and nationality"


class LinkStatus(models.TextChoices):
    LINKED = "linked", "Linked (certain)"
    CANDIDATE = "candidate", "To review"
    CONFIRMED = "confirmed", "Confirmed by a liaison"
    REJECTED = "rejected", "Rejected by a liaison"


class SubjectLink(models.Model):
    """Two designations of different agencies that name the same subject.

    Reconciliation writes links; a liaison's judgement (confirmed, rejected) is kept and later
    runs leave it as it is. A subject is a connected set of linked or confirmed links. The pair
    is stored once, the lower id first."""

    JOINING = (LinkStatus.LINKED, LinkStatus.CONFIRMED)

    id = models.BigAutoField(primary_key=True)
    left = models.ForeignKey(Designation, on_delete=models.CASCADE, related_name="+")
    right = models.ForeignKey(Designation, on_delete=models.CASCADE, related_name="+")
    method = models.CharField(max_length=12, choices=LinkMethod.choices)
    score = models.FloatField(help_text="1.0 for references and identifiers")
    # What matched, for the reviewer and the report: {"names": [...], "birth_dates": ...}.
    explanation = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=LinkStatus.choices)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-score", "id"]
        constraints = [
            models.UniqueConstraint(fields=["left", "right"], name="subject_link_once"),
        ]
        indexes = [
            models.Index(fields=["right"], name="subject_link_right_idx"),
            models.Index(fields=["status", "score"], name="subject_link_review_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.left_id} ~ {self.right_id} ({self.status})"


class ReviewTask(models.Model):
    """Work for an agency that another jurisdiction's change calls for: the UN delisted a
    subject the agency also lists, so the agency decides whether its own listing stands."""

    id = models.BigAutoField(primary_key=True)
    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="review_tasks")
    designation = models.ForeignKey(Designation, on_delete=models.CASCADE, related_name="+")
    cause = models.ForeignKey(Designation, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True
    )
    outcome = models.TextField(blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            # One open task per listing and cause, however often the run repeats.
            models.UniqueConstraint(
                fields=["designation", "cause"],
                condition=models.Q(closed_at__isnull=True),
                name="review_task_open_once",
            )
        ]
        indexes = [models.Index(fields=["agency", "closed_at"], name="review_task_inbox_idx")]

    def __str__(self) -> str:
        return f"{self.agency_id}: {self.reason}"


class ScreeningJobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class ScreeningJob(models.Model):
    """A file of counterparties or payments screened in the background for one person.

    The rows are the requester's customers: only the requester sees the job, and jobs are
    deleted after SCREENING_JOB_DAYS."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="screening_jobs"
    )
    file_name = models.CharField(max_length=300)
    status = models.CharField(
        max_length=10, choices=ScreeningJobStatus.choices, default=ScreeningJobStatus.QUEUED
    )
    total = models.PositiveIntegerField()
    done = models.PositiveIntegerField(default=0)
    alerts = models.PositiveIntegerField(default=0)
    rows = models.JSONField(help_text="The uploaded rows: name, country, wallet, birth date")
    results = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.status}, {self.done}/{self.total})"
