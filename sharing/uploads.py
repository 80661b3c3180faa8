"""The encrypting upload handler: attachment bytes are encrypted as they arrive from the
request and written straight to attachment storage, so plaintext never touches disk and memory
stays at a few segments whatever the file size. The size limit is enforced while streaming."""

from __future__ import annotations

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


class EncryptingUploadHandler(FileUploadHandler):
    # Large reads: the multipart parser's cost is per chunk, and a chunk is a few segments.
    chunk_size = 1024 * 1024

    def __init__(self, request: HttpRequest | None = None, *, max_bytes: int | None = None):
        super().__init__(request)
        self.max_bytes = settings.ATTACHMENT_MAX_BYTES if max_bytes is None else max_bytes
        self.upload: EncryptedUpload | None = None
        self.error: str | None = None
        self._encryptor: SegmentEncryptor | None = None
        self._sink: Any = None
        self._stored_name = ""

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):  # type: ignore[no-untyped-def]
        # Refuse early when the client says the body is already too large.
        if content_length and content_length > self.max_bytes + 1024 * 1024:
            self.error = self._too_large()
        return None

    def _too_large(self) -> str:
        return f"The file is larger than the limit of {self.max_bytes:,} bytes."

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
        if field_name != FIELD_NAME or self.upload is not None or self._sink is not None:
            raise SkipFile()  # one attachment per request, from the expected field
        if self.error:
            raise SkipFile()
        self._stored_name = secrets.token_hex(16)
        self._attachment_id = uuid.uuid4()
        self._data_key = new_data_key()
        self._encryptor = SegmentEncryptor(
            self._data_key, attachment_id=self._attachment_id, version=1
        )
        self._sink = attachment_storage().open(self._stored_name, "wb")
        self._sink.write(self._encryptor.start())
        raise StopFutureHandlers()  # no other handler sees this file's bytes

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        if self._encryptor is None:
            return None
        if self._encryptor.plaintext_size + len(raw_data) > self.max_bytes:
            self.error = self._too_large()
            self._discard()
            raise SkipFile()
        self._sink.write(self._encryptor.update(raw_data))
        return None

    def file_complete(self, file_size: int) -> EncryptedUpload | None:
        if self._encryptor is None:
            return None
        self._sink.write(self._encryptor.finish())
        self._sink.close()
        self._sink = None
        self.upload = EncryptedUpload(
            attachment_id=self._attachment_id,
            version=1,
            stored_name=self._stored_name,
            original_name=sanitize_file_name(self.file_name or ""),
            content_type=(self.content_type or "application/octet-stream")[:150],
            size=self._encryptor.plaintext_size,
            sha256=self._encryptor.sha256,
            data_key=self._data_key,
        )
        self._encryptor = None
        # Django expects an UploadedFile-like value in request.FILES; views read .upload.
        return None

    def upload_interrupted(self) -> None:
        self._discard()

    def _discard(self) -> None:
        """Remove a partial file: nothing of a refused upload stays behind."""
        if self._sink is not None:
            self._sink.close()
            self._sink = None
        if self._stored_name:
            attachment_storage().delete(self._stored_name)
        self._encryptor = None
        self.upload = None

    def discard(self) -> None:
        """The view refuses the finished upload (bad form, no permission): delete the file."""
        if self.upload is not None:
            attachment_storage().delete(self.upload.stored_name)
            self.upload = None
