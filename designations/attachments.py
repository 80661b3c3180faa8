"""Attachments: recording an encrypted upload, reading it back verified, rewrapping data keys."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError as DatabaseIntegrityError
from django.db import transaction
from django.utils import timezone

from agencies.models import User
from designations.models import Attachment, Designation, IntelligenceNote, KeySlot
from sharing import access
from sharing.audit import audit_record
from sharing.changelog import change_log_append
from sharing.crypto import (
    IntegrityError,
    KeyUnavailable,
    decrypt_segments,
    unwrap_key,
    wrap_key,
)
from sharing.keyring import Keyring, load_keyring
from sharing.models import AuditAction, ChangeAction
from sharing.uploads import EncryptedUpload, attachment_storage

ATTACHMENT = "attachment"


def key_slot_create(attachment: Attachment, data_key: bytes, keyring: Keyring) -> KeySlot:
    """The attachment's data key wrapped under this node's primary KEK, bound to the
    attachment and its version."""
    return KeySlot.objects.create(
        attachment=attachment,
        kek_id=keyring.primary,
        wrapped_key=wrap_key(
            keyring.key(keyring.primary),
            data_key,
            kek_id=keyring.primary,
            attachment_id=attachment.pk,
            version=attachment.version,
        ),
    )


def attachment_record(
    *, actor: User, parent: Designation | IntelligenceNote, upload: EncryptedUpload
) -> Attachment:
    """Record a finished encrypted upload on `parent`, its data key wrapped by the primary KEK.
    On any failure the stored file is deleted: nothing half-made stays behind."""
    try:
        if not access.may_attach(actor, parent):
            audit_record(
                AuditAction.DENIED, obj=parent, actor=actor, detail={"attempt": "attach file"}
            )
            raise PermissionDenied("You may not attach files to this object.")
        keyring = load_keyring()
        with transaction.atomic():
            attachment = Attachment.objects.create(
                id=upload.attachment_id,
                designation=parent if isinstance(parent, Designation) else None,
                note=parent if isinstance(parent, IntelligenceNote) else None,
                owner=parent.owner,
                version=upload.version,
                original_name=upload.original_name,
                content_type=upload.content_type,
                size=upload.size,
                sha256=upload.sha256,
                stored_name=upload.stored_name,
                uploaded_by=actor if isinstance(actor, User) else None,
            )
            key_slot_create(attachment, upload.data_key, keyring)
            change_log_append(
                object_type=ATTACHMENT,
                object_id=attachment.pk,
                version=attachment.version,
                action=ChangeAction.CREATE,
            )
            audit_record(
                AuditAction.CHANGE,
                obj=attachment,
                actor=actor,
                detail={
                    "action": "upload",
                    "name": attachment.original_name,
                    "size": attachment.size,
                    "sha256": attachment.sha256,
                    "parent": f"{parent._meta.model_name}:{parent.pk}",
                },
            )
    except BaseException:
        attachment_storage().delete(upload.stored_name)
        raise
    return attachment


def data_key_of(attachment: Attachment, keyring: Keyring | None = None) -> bytes:
    """Unwrap the data key with the first KEK of the ring that has a slot for it."""
    keyring = keyring or load_keyring()
    slots = list(attachment.slots.all())
    for slot in sorted(slots, key=lambda s: s.kek_id != keyring.primary):
        if slot.kek_id in keyring.keys:
            return unwrap_key(
                keyring.keys[slot.kek_id],
                slot.wrapped_key,
                kek_id=slot.kek_id,
                attachment_id=attachment.pk,
                version=attachment.version,
            )
    names = ", ".join(s.kek_id for s in slots) or "none"
    raise KeyUnavailable(
        f"attachment {attachment.pk} is wrapped by KEK(s) {names}, none of which is in the "
        f"keyring ({keyring.source})"
    )


@dataclass
class OpenedAttachment:
    """A plaintext stream verified as it goes; iterate it once.

    Every chunk is released only after the AES-GCM tags of its segments verify, and the final
    one only after the total size matches the record: with the index and last flag in every
    nonce and the header bound to the attachment, that proves the whole file is the one that
    was uploaded, so downloads do not rehash it (verify_attachments does, for evidence)."""

    attachment: Attachment
    segments: Iterator[bytes]
    # Also check the plaintext SHA-256 before the last chunk is released (files received from
    # a partner node, whose encryption this node did not do, on their first download).
    check_sha256: bool = False

    def __iter__(self) -> Iterator[bytes]:
        size = 0
        pending: bytes | None = None
        digest = hashlib.sha256() if self.check_sha256 else None
        for chunk in self.segments:
            if pending is not None:
                yield pending
            size += len(chunk)
            if digest is not None:
                digest.update(chunk)
            pending = chunk
        if size != self.attachment.size:
            raise IntegrityError(
                f"the file holds {size} bytes, the record says {self.attachment.size}"
            )
        if digest is not None and digest.hexdigest() != self.attachment.sha256:
            raise IntegrityError("the plaintext SHA-256 differs from the record")
        if digest is not None:
            Attachment.objects.filter(pk=self.attachment.pk).update(verified_at=timezone.now())
        if pending:
            yield pending


def attachment_open(attachment: Attachment, keyring: Keyring | None = None) -> OpenedAttachment:
    """Unwrap the key and authenticate the header now (so that a wrong key or a misplaced file
    fails before any byte is sent); the segments are checked as they are read."""
    data_key = data_key_of(attachment, keyring)
    stream = attachment_storage().open(attachment.stored_name, "rb")
    segments = decrypt_segments(
        stream, data_key, attachment_id=attachment.pk, version=attachment.version
    )
    try:
        first = next(segments)
    except (IntegrityError, StopIteration) as error:
        stream.close()
        if isinstance(error, StopIteration):
            raise IntegrityError("the file has no segments") from None
        raise

    def all_segments() -> Iterator[bytes]:
        try:
            yield first
            yield from segments
        finally:
            stream.close()

    unverified = attachment.verified_at is None and not attachment.owner.home_node.is_local
    return OpenedAttachment(attachment, all_segments(), check_sha256=unverified)


def attachment_verify(attachment: Attachment, keyring: Keyring | None = None) -> None:
    """Read and check the whole file, and its SHA-256 against the record (the evidence hash);
    raises IntegrityError or KeyUnavailable."""
    digest = hashlib.sha256()
    try:
        for plaintext in attachment_open(attachment, keyring):
            digest.update(plaintext)
    except FileNotFoundError:
        raise IntegrityError("the stored file is missing") from None
    if digest.hexdigest() != attachment.sha256:
        raise IntegrityError("the plaintext SHA-256 differs from the record")


def attachments_rewrap(keyring: Keyring | None = None, *, batch: int = 500) -> int:
    """Give every attachment a slot under the primary KEK and drop its other slots. Bodies are
    not touched. Resumable: each attachment is one transaction, and a rerun skips those already
    done."""
    keyring = keyring or load_keyring()
    done = 0
    while True:
        todo = list(
            Attachment.objects.exclude(slots__kek_id=keyring.primary)
            .prefetch_related("slots")
            .order_by("pk")[:batch]
        )
        if not todo:
            return done
        for attachment in todo:
            data_key = data_key_of(attachment, keyring)
            try:
                with transaction.atomic():
                    key_slot_create(attachment, data_key, keyring)
                    attachment.slots.exclude(kek_id=keyring.primary).delete()
            except DatabaseIntegrityError:
                continue  # another rewrap run got there first
            done += 1
