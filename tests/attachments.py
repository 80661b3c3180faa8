"""Creating attachments in tests through the real write path (encrypt to storage, record)."""

from __future__ import annotations

import io
import secrets
import uuid

from designations.attachments import attachment_record
from designations.models import Attachment
from sharing.crypto import encrypt_stream, new_data_key
from sharing.uploads import EncryptedUpload, attachment_storage


def make_attachment(actor, parent, content: bytes, name: str = "evidence.pdf") -> Attachment:  # type: ignore[no-untyped-def]
    attachment_id, data_key, stored_name = uuid.uuid4(), new_data_key(), secrets.token_hex(16)
    with attachment_storage().open(stored_name, "wb") as sink:
        encryptor = encrypt_stream(
            io.BytesIO(content), sink, data_key, attachment_id=attachment_id, version=1
        )
    upload = EncryptedUpload(
        attachment_id=attachment_id,
        version=1,
        stored_name=stored_name,
        original_name=name,
        content_type="application/pdf",
        size=len(content),
        sha256=encryptor.sha256,
        data_key=data_key,
    )
    return attachment_record(actor=actor, parent=parent, upload=upload)
