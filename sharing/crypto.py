"""Attachments at rest: streaming envelope encryption (DESIGN.md, "Attachments at rest").

The design follows three formats that have been studied in public: age's STREAM construction
(fixed-size chunks, a counter and a last-chunk flag in the nonce, a header authenticated with a
MAC under the file key), Tink's AES-GCM-HKDF streaming AEAD (a per-file salt and nonce prefix,
the segment key derived from the data key with HKDF) and the AWS Encryption SDK's v2 message
format (a key commitment in the header, an authenticated header, framed bodies with sequence
numbers and a marked final frame).

Layout (all integers big-endian)::

    header (HEADER_SIZE = 137 bytes)
      magic            8   b"SXATT\\x00\\x01\\n"  not one of our files -> refused before any crypto
      format version   1   1                   a future layout is never misread as this one
      cipher suite     1   1 = AES-256-GCM, HKDF-SHA256, HMAC-SHA256 commitment and MAC
      segment size     4   plaintext bytes per segment (64 KiB); tampering breaks the MAC
      salt            32   random per encryption: fresh segment and MAC keys for every file
      attachment id   16   UUID of the attachment this file belongs to
      version          4   attachment version; with the id, stops moving a file (or its
                           header) to another attachment or version: the reader checks both
                           against the database row, and the MAC covers them
      nonce prefix     7   random; the rest of each nonce is the segment index and last flag
      commitment      32   HKDF(data key, salt, "commit"): the header opens under one data key
                           only, so a file cannot be made to decrypt two ways (key commitment)
      header MAC      32   HMAC-SHA256 over all fields above, key HKDF(data key, salt, "mac")
    segments
      AES-256-GCM(segment key, nonce = prefix(7) || index(4) || last(1), plaintext,
                  associated data = SHA-256(header))
      each holds `segment size` plaintext bytes (the last one 0..segment size) plus a 16-byte tag

What each protection stops:

- bit flips anywhere: the GCM tag of that segment, or the header MAC;
- reordering or dropping segments: the index in the nonce;
- truncation, also at a segment boundary: the last flag (the segment that becomes last was
  sealed as not-last); an empty file is one empty final segment, so zero segments is invalid;
- swapping segments between files: every file has its own salt, hence its own segment key;
- swapping headers between attachments: the header MAC is keyed from that attachment's data key,
  and the id and version in the header must match the attachment row;
- a wrong or missing key-encryption key: unwrapping the data key fails with a clear error.

The data key (32 random bytes per attachment version) never sits in the blob: it is wrapped by a
key-encryption key (KEK) named by id, with AES-256-GCM and the attachment id, version and KEK id
as associated data (a key slot cannot be moved to another attachment), and stored in the
database, one slot per KEK (sharing.keyring, designations.models.KeySlot).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import struct
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import IO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAGIC = b"SXATT\x00\x01\n"
FORMAT_VERSION = 1
SUITE_AES256GCM_HKDF_SHA256 = 1
SEGMENT_SIZE = 64 * 1024
TAG_SIZE = 16
KEY_SIZE = 32
_FIELDS = struct.Struct(">8sBBI32s16sI7s32s")  # everything the MAC covers
HEADER_SIZE = _FIELDS.size + 32  # 137


class IntegrityError(Exception):
    """The stored file is not the file that was written (tampered, truncated or misplaced)."""


class KeyUnavailable(Exception):
    """No key-encryption key in the ring can open this attachment's data key."""


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def _derive(data_key: bytes, salt: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_SIZE, salt=salt, info=purpose).derive(
        data_key
    )


@dataclass(frozen=True)
class Header:
    segment_size: int
    salt: bytes
    attachment_id: uuid.UUID
    version: int
    nonce_prefix: bytes
    commitment: bytes
    mac: bytes
    raw: bytes

    @property
    def digest(self) -> bytes:
        return hashlib.sha256(self.raw).digest()


def _seal_header(
    data_key: bytes, *, attachment_id: uuid.UUID, version: int, segment_size: int
) -> Header:
    salt, nonce_prefix = os.urandom(32), os.urandom(7)
    commitment = _derive(data_key, salt, b"sx-attachment commit")
    fields = _FIELDS.pack(
        MAGIC,
        FORMAT_VERSION,
        SUITE_AES256GCM_HKDF_SHA256,
        segment_size,
        salt,
        attachment_id.bytes,
        version,
        nonce_prefix,
        commitment,
    )
    mac = hmac.new(_derive(data_key, salt, b"sx-attachment header mac"), fields, "sha256")
    raw = fields + mac.digest()
    return Header(
        segment_size, salt, attachment_id, version, nonce_prefix, commitment, mac.digest(), raw
    )


def open_header(raw: bytes, data_key: bytes, *, attachment_id: uuid.UUID, version: int) -> Header:
    """Parse and authenticate a header for the attachment the caller expects."""
    if len(raw) != HEADER_SIZE:
        raise IntegrityError("the file is shorter than its header")
    (
        magic,
        format_version,
        suite,
        segment_size,
        salt,
        id_bytes,
        file_version,
        nonce_prefix,
        commitment,
    ) = _FIELDS.unpack(raw[: _FIELDS.size])
    if magic != MAGIC:
        raise IntegrityError("not an encrypted attachment (bad magic)")
    if format_version != FORMAT_VERSION or suite != SUITE_AES256GCM_HKDF_SHA256:
        raise IntegrityError(f"unsupported format {format_version} / suite {suite}")
    if not hmac.compare_digest(commitment, _derive(data_key, salt, b"sx-attachment commit")):
        raise IntegrityError("the header does not belong to this attachment's key")
    expected = hmac.new(
        _derive(data_key, salt, b"sx-attachment header mac"), raw[: _FIELDS.size], "sha256"
    ).digest()
    if not hmac.compare_digest(expected, raw[_FIELDS.size :]):
        raise IntegrityError("the header was altered")
    if uuid.UUID(bytes=id_bytes) != attachment_id or file_version != version:
        raise IntegrityError("the file belongs to another attachment or version")
    if not 1024 <= segment_size <= 16 * 1024 * 1024:
        raise IntegrityError("implausible segment size")
    return Header(
        segment_size,
        salt,
        attachment_id,
        file_version,
        nonce_prefix,
        commitment,
        raw[_FIELDS.size :],
        raw,
    )


def _nonce(prefix: bytes, index: int, last: bool) -> bytes:
    if index >= 2**32:
        raise ValueError("file too large for this format (2^32 segments)")
    return prefix + struct.pack(">IB", index, 1 if last else 0)


class BackgroundWorker:
    """Runs calls in order on one helper thread, at most `depth` waiting: for work that
    releases the GIL (hashing, file writes), which then overlaps with the caller's."""

    def __init__(self, name: str, depth: int = 4) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._pending: deque[Future[object]] = deque()
        self._depth = depth

    def submit(self, function: Callable[[bytes], object], data: bytes) -> None:
        self._pending.append(self._pool.submit(function, data))
        while len(self._pending) > self._depth:
            self._pending.popleft().result()  # bounded memory; re-raises the worker's error

    def drain(self) -> None:
        try:
            while self._pending:
                self._pending.popleft().result()
        finally:
            self._pool.shutdown(wait=True, cancel_futures=True)


class BackgroundSha256:
    """SHA-256 on a helper thread: hashlib releases the GIL on large updates, so hashing (the
    slowest step of an upload, ~1.8 GB/s here) runs beside encryption and writing."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self._worker = BackgroundWorker("sha256")

    def update(self, data: bytes) -> None:
        self._worker.submit(self._hash.update, data)

    def hexdigest(self) -> str:
        self._worker.drain()
        return self._hash.hexdigest()


class SegmentEncryptor:
    """Encrypts a stream pushed in pieces of any size; returns ciphertext bytes to write.

    The trailing segment is held back until more data arrives, because only then is it known
    whether it is the last one (sealed with the last flag). Memory: about one input chunk."""

    def __init__(
        self,
        data_key: bytes,
        *,
        attachment_id: uuid.UUID,
        version: int,
        segment_size: int = SEGMENT_SIZE,
    ) -> None:
        self.header = _seal_header(
            data_key, attachment_id=attachment_id, version=version, segment_size=segment_size
        )
        self._aead = AESGCM(_derive(data_key, self.header.salt, b"sx-attachment segment key"))
        self._aad = self.header.digest
        self._pending = b""
        self._index = 0
        self.plaintext_size = 0
        self._sha256 = BackgroundSha256()
        self._digest = ""

    def start(self) -> bytes:
        return self.header.raw

    def update(self, data: bytes) -> bytearray:
        self.plaintext_size += len(data)
        self._sha256.update(data)
        size, sealed = self.header.segment_size, self.header.segment_size + TAG_SIZE
        # Seal every whole segment but keep at least one byte back: what is held may be last.
        count = max(0, (len(self._pending) + len(data) - 1) // size)
        out = bytearray(count * sealed)
        if count == 0:
            self._pending += data
            return out
        with memoryview(data) as source, memoryview(out) as target:
            position = 0
            for n in range(count):
                if n == 0 and self._pending:
                    # Only the held-back bytes are copied; the rest is sealed in place.
                    position = size - len(self._pending)
                    plaintext: bytes | memoryview = self._pending + bytes(source[:position])
                else:
                    plaintext = source[position : position + size]
                    position += size
                self._aead.encrypt_into(
                    _nonce(self.header.nonce_prefix, self._index, False),
                    plaintext,
                    self._aad,
                    target[n * sealed : (n + 1) * sealed],
                )
                self._index += 1
            self._pending = bytes(source[position:])
        return out

    def finish(self) -> bytes:
        sealed = self._aead.encrypt(
            _nonce(self.header.nonce_prefix, self._index, True), self._pending, self._aad
        )
        self._pending = b""
        self._digest = self._sha256.hexdigest()
        return sealed

    @property
    def sha256(self) -> str:
        if not self._digest:
            raise RuntimeError("the digest is known once finish() has run")
        return self._digest


def encrypt_stream(
    source: IO[bytes],
    sink: IO[bytes],
    data_key: bytes,
    *,
    attachment_id: uuid.UUID,
    version: int,
    segment_size: int = SEGMENT_SIZE,
) -> SegmentEncryptor:
    encryptor = SegmentEncryptor(
        data_key, attachment_id=attachment_id, version=version, segment_size=segment_size
    )
    sink.write(encryptor.start())
    for block in iter(lambda: source.read(segment_size * 16), b""):
        sink.write(encryptor.update(block))
    sink.write(encryptor.finish())
    return encryptor


SEGMENTS_PER_READ = 16


def _read_full(source: IO[bytes], size: int) -> bytes:
    """Read `size` bytes, or fewer only at the end: storage streams may return short reads."""
    data = source.read(size)
    if len(data) in (0, size):
        return data
    parts = [data]
    got = len(data)
    while got < size:
        more = source.read(size - got)
        if not more:
            break
        parts.append(more)
        got += len(more)
    return b"".join(parts)


def decrypt_segments(
    source: IO[bytes], data_key: bytes, *, attachment_id: uuid.UUID, version: int
) -> Iterator[bytes]:
    """Yield the plaintext in chunks of up to SEGMENTS_PER_READ segments, each segment only
    after its tag has been verified. Raises IntegrityError at the first segment that fails,
    and at the end if the file was cut short or has trailing bytes."""
    header = open_header(
        _read_full(source, HEADER_SIZE), data_key, attachment_id=attachment_id, version=version
    )
    aead = AESGCM(_derive(data_key, header.salt, b"sx-attachment segment key"))
    aad = header.digest
    sealed_size = header.segment_size + TAG_SIZE
    block_size = sealed_size * SEGMENTS_PER_READ
    index = 0
    block = _read_full(source, block_size)
    while True:
        # Read one block ahead: only then is it known which segment is the last.
        following = _read_full(source, block_size)
        at_end = not following
        count = -(-len(block) // sealed_size) if block else 0
        if count == 0:
            raise IntegrityError(f"segment {index} is missing (the file was cut short)")
        out = bytearray(len(block) - count * TAG_SIZE)
        written = 0
        with memoryview(block) as sealed, memoryview(out) as plain:
            for n in range(count):
                piece = sealed[n * sealed_size : (n + 1) * sealed_size]
                last = at_end and n == count - 1
                if len(piece) < TAG_SIZE or (not last and len(piece) != sealed_size):
                    raise IntegrityError(f"segment {index} is cut short")
                length = len(piece) - TAG_SIZE
                try:
                    aead.decrypt_into(
                        _nonce(header.nonce_prefix, index, last),
                        piece,
                        aad,
                        plain[written : written + length],
                    )
                except InvalidTag:
                    where = "the last segment" if last else f"segment {index}"
                    raise IntegrityError(
                        f"{where} failed authentication (tampered, reordered or truncated)"
                    ) from None
                written += length
                index += 1
        yield bytes(out)
        if at_end:
            return
        block = following


def wrap_key(
    kek: bytes, data_key: bytes, *, kek_id: str, attachment_id: uuid.UUID, version: int
) -> bytes:
    nonce = os.urandom(12)
    aad = f"sx-keyslot|{kek_id}|{attachment_id}|{version}".encode()
    return nonce + AESGCM(kek).encrypt(nonce, data_key, aad)


def unwrap_key(
    kek: bytes, wrapped: bytes, *, kek_id: str, attachment_id: uuid.UUID, version: int
) -> bytes:
    aad = f"sx-keyslot|{kek_id}|{attachment_id}|{version}".encode()
    try:
        return AESGCM(kek).decrypt(bytes(wrapped[:12]), bytes(wrapped[12:]), aad)
    except InvalidTag:
        raise KeyUnavailable(
            f"key slot for KEK {kek_id!r} does not open with that key (wrong key or moved slot)"
        ) from None
