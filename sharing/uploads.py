"""The encrypting upload handler: attachment bytes are encrypted as they arrive from the
request and written straight to attachment storage, so plaintext never touches disk and memory
stays at a few segments whatever the file size. The size limit is enforced while streaming."""

from __future__ import annotations

import os
import re
import secrets
import unicodedata
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.files.storage import storages
from django.core.files.uploadhandler import FileUploadHandler, SkipFile, StopFutureHandlers
from django.http import HttpRequest

from sharing.crypto import SegmentEncryptor, new_data_key

FIELD_NAME = "file"


def attachment_storage():  # type: ignore[no-untyped-def]
    return storages["attachments"]


def sanitize_file_name(name: str) -> str:
    """A display name that is safe in headers and on any file system: no path, no control or
    separator characters, bounded length; the stored name is random anyway."""
    # Lone surrogates (from undecodable header bytes) cannot be stored: replace them.
    name = name.encode("utf-8", "replace").decode("utf-8")
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(r"[\x00-\x1f\x7f\"<>:|?*;]", "_", name).strip(" .")
    if len(name) > 200:
        stem, dot, extension = name.rpartition(".")
        name = (stem[:190] + dot + extension[:9]) if dot else name[:200]
    return name or "attachment"


@dataclass
class EncryptedUpload:
    """What the handler produced; the view records it (sharing.attachments) or discards it."""

    attachment_id: uuid.UUID
    version: int
    stored_name: str
    original_name: str
    content_type: str
    size: int
    sha256: str
    data_key: bytes


def make_durable(sink: Any) -> None:
    """Flush the file to disk before its database row is committed: after a crash, a recorded
    attachment must not point at a file the kernel had not written yet. (Object storages
    commit on close, so only local files need this.)"""
    sink.flush()
    try:
        descriptor = sink.fileno()
    except (AttributeError, OSError, ValueError):
        return
    os.fsync(descriptor)


class UploadTooLarge(Exception):
    pass


def too_large_message(max_bytes: int) -> str:
    return f"The file is larger than the limit of {max_bytes:,} bytes."


class EncryptedWriter:
    """Encrypts bytes as they arrive and writes them to attachment storage under a random
    name. Used by the portal's multipart handler and by the API's raw-body upload."""

    def __init__(self, *, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.attachment_id = uuid.uuid4()
        self.stored_name = secrets.token_hex(16)
        self._data_key = new_data_key()
        self._encryptor = SegmentEncryptor(
            self._data_key, attachment_id=self.attachment_id, version=1
        )
        self._sink: Any = attachment_storage().open(self.stored_name, "wb")
        self._sink.write(self._encryptor.start())

    def write(self, data: bytes) -> None:
        if self._encryptor.plaintext_size + len(data) > self.max_bytes:
            self.discard()
            raise UploadTooLarge(too_large_message(self.max_bytes))
        self._sink.write(self._encryptor.update(data))

    def finish(self, *, file_name: str, content_type: str) -> EncryptedUpload:
        self._sink.write(self._encryptor.finish())
        make_durable(self._sink)
        self._sink.close()
        self._sink = None
        return EncryptedUpload(
            attachment_id=self.attachment_id,
            version=1,
            stored_name=self.stored_name,
            original_name=sanitize_file_name(file_name),
            content_type=(content_type or "application/octet-stream")[:150],
            size=self._encryptor.plaintext_size,
            sha256=self._encryptor.sha256,
            data_key=self._data_key,
        )

    def discard(self) -> None:
        """Remove the partial file: nothing of a refused upload stays behind."""
        if self._sink is not None:
            self._sink.close()
            self._sink = None
        attachment_storage().delete(self.stored_name)


def receive_raw_upload(
    stream: Any,
    *,
    content_length: int | None,
    file_name: str,
    content_type: str,
    max_bytes: int | None = None,
    chunk_size: int = 1024 * 1024,
) -> EncryptedUpload:
    """An upload whose request body is the file itself (the API). Raises UploadTooLarge having
    stored nothing."""
    max_bytes = settings.ATTACHMENT_MAX_BYTES if max_bytes is None else max_bytes
    if content_length is not None and content_length > max_bytes:
        raise UploadTooLarge(too_large_message(max_bytes))
    writer = EncryptedWriter(max_bytes=max_bytes)
    try:
        for block in iter(lambda: stream.read(chunk_size), b""):
            writer.write(block)
        return writer.finish(file_name=file_name, content_type=content_type)
    except UploadTooLarge:
        raise
    except BaseException:
        writer.discard()
        raise


class EncryptingUploadHandler(FileUploadHandler):
    """Django upload handler for the portal's multipart forms; one file, field "file"."""

    # Large reads: the multipart parser's cost is per chunk, and a chunk is a few segments.
    chunk_size = 1024 * 1024

    def __init__(self, request: HttpRequest | None = None, *, max_bytes: int | None = None):
        super().__init__(request)
        self.max_bytes = settings.ATTACHMENT_MAX_BYTES if max_bytes is None else max_bytes
        self.upload: EncryptedUpload | None = None
        self.error: str | None = None
        self._writer: EncryptedWriter | None = None

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):  # type: ignore[no-untyped-def]
        # Refuse early when the client says the body is already too large.
        if content_length and content_length > self.max_bytes + 1024 * 1024:
            self.error = too_large_message(self.max_bytes)
        return None

    def new_file(
        self,
        field_name,
        file_name,
        content_type,
        content_length,
        charset=None,  # type: ignore[no-untyped-def]
        content_type_extra=None,
    ):
        super().new_file(
            field_name, file_name, content_type, content_length, charset, content_type_extra
        )
        if field_name != FIELD_NAME or self.upload is not None or self._writer is not None:
            raise SkipFile()  # one attachment per request, from the expected field
        if self.error:
            raise SkipFile()
        self._writer = EncryptedWriter(max_bytes=self.max_bytes)
        raise StopFutureHandlers()  # no other handler sees this file's bytes

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        if self._writer is None:
            return None
        try:
            self._writer.write(raw_data)
        except UploadTooLarge as error:
            self.error, self._writer = str(error), None
            raise SkipFile() from error
        return None

    def file_complete(self, file_size: int) -> None:
        if self._writer is not None:
            self.upload = self._writer.finish(
                file_name=self.file_name or "", content_type=self.content_type or ""
            )
            self._writer = None
        # Nothing goes into request.FILES; the view takes `self.upload`.
        return None

    def upload_interrupted(self) -> None:
        if self._writer is not None:
            self._writer.discard()
            self._writer = None

    def discard(self) -> None:
        """The view refuses the finished upload (bad form, no permission): delete the file."""
        if self._writer is not None:
            self._writer.discard()
            self._writer = None
        if self.upload is not None:
            attachment_storage().delete(self.upload.stored_name)
            self.upload = None
