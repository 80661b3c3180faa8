"""The attachment format (sharing.crypto): round trips and every tampering it must catch."""

from __future__ import annotations

import io
import os
import uuid

import pytest

from sharing.crypto import (
    HEADER_SIZE,
    TAG_SIZE,
    IntegrityError,
    KeyUnavailable,
    decrypt_segments,
    encrypt_stream,
    new_data_key,
    unwrap_key,
    wrap_key,
)

SEGMENT = 1024  # small segments: many boundaries in little data
SEALED = SEGMENT + TAG_SIZE
ATTACHMENT = uuid.uuid4()


def encrypt(
    plaintext: bytes,
    key: bytes,
    attachment_id: uuid.UUID = ATTACHMENT,
    version: int = 1,
    segment_size: int = SEGMENT,
) -> bytes:
    sink = io.BytesIO()
    encrypt_stream(
        io.BytesIO(plaintext),
        sink,
        key,
        attachment_id=attachment_id,
        version=version,
        segment_size=segment_size,
    )
    return sink.getvalue()


def decrypt(
    blob: bytes, key: bytes, attachment_id: uuid.UUID = ATTACHMENT, version: int = 1
) -> bytes:
    return b"".join(
        decrypt_segments(io.BytesIO(blob), key, attachment_id=attachment_id, version=version)
    )


def segments(blob: bytes) -> list[bytes]:
    body = blob[HEADER_SIZE:]
    return [body[i : i + SEALED] for i in range(0, len(body), SEALED)]


@pytest.mark.parametrize(
    "size",
    [0, 1, SEGMENT - 1, SEGMENT, SEGMENT + 1, 3 * SEGMENT, 3 * SEGMENT + 7],
    ids=[
        "empty",
        "one-byte",
        "under-one",
        "exactly-one",
        "one-and-a-byte",
        "exactly-three",
        "multi",
    ],
)
def test_round_trip(size: int) -> None:
    key, plaintext = new_data_key(), os.urandom(size)
    blob = encrypt(plaintext, key)

    assert decrypt(blob, key) == plaintext
    full, rest = divmod(size, SEGMENT)
    expected_segments = max(1, full + (1 if rest else 0))
    assert len(blob) == HEADER_SIZE + size + expected_segments * TAG_SIZE


def test_round_trip_with_the_default_segment_size() -> None:
    key, plaintext = new_data_key(), os.urandom(5 * 64 * 1024 + 3)
    assert decrypt(encrypt(plaintext, key, segment_size=64 * 1024), key) == plaintext


def test_two_encryptions_of_the_same_file_differ() -> None:
    key, plaintext = new_data_key(), b"same bytes" * 100
    assert encrypt(plaintext, key) != encrypt(plaintext, key)


@pytest.mark.parametrize(
    "position", [0, 10, 20, 60, 120, HEADER_SIZE - 1, HEADER_SIZE, HEADER_SIZE + SEALED + 5, -1]
)
def test_a_flipped_bit_anywhere_fails(position: int) -> None:
    key = new_data_key()
    blob = bytearray(encrypt(os.urandom(3 * SEGMENT), key))
    blob[position] ^= 0x01

    with pytest.raises(IntegrityError):
        decrypt(bytes(blob), key)


def test_truncation_at_a_segment_boundary_fails() -> None:
    key = new_data_key()
    blob = encrypt(os.urandom(3 * SEGMENT + 10), key)
    cut = HEADER_SIZE + 3 * SEALED  # drop the short final segment: 3 whole segments remain

    with pytest.raises(IntegrityError, match="last segment failed"):
        decrypt(blob[:cut], key)
    with pytest.raises(IntegrityError):
        decrypt(blob[:HEADER_SIZE], key)  # no segment at all
    with pytest.raises(IntegrityError):
        decrypt(blob[: HEADER_SIZE + SEALED + 100], key)  # mid-segment


def test_trailing_bytes_fail() -> None:
    key = new_data_key()
    blob = encrypt(os.urandom(2 * SEGMENT), key)
    with pytest.raises(IntegrityError):
        decrypt(blob + b"\x00" * 20, key)


def test_reordered_segments_fail() -> None:
    key = new_data_key()
    blob = encrypt(os.urandom(3 * SEGMENT + 1), key)
    parts = segments(blob)
    parts[0], parts[1] = parts[1], parts[0]

    with pytest.raises(IntegrityError, match="segment 0 failed"):
        decrypt(blob[:HEADER_SIZE] + b"".join(parts), key)


def test_segments_swapped_between_two_files_fail() -> None:
    """Even with the same data key and attachment: each file has its own salt, so its own
    segment key."""
    key = new_data_key()
    first, second = encrypt(os.urandom(3 * SEGMENT), key), encrypt(os.urandom(3 * SEGMENT), key)
    mixed = segments(first)
    mixed[1] = segments(second)[1]

    with pytest.raises(IntegrityError, match="segment 1 failed"):
        decrypt(first[:HEADER_SIZE] + b"".join(mixed), key)


def test_a_header_or_file_moved_to_another_attachment_fails() -> None:
    key_a, key_b = new_data_key(), new_data_key()
    other = uuid.uuid4()
    blob_a = encrypt(b"evidence A" * 300, key_a)
    blob_b = encrypt(b"evidence B" * 300, key_b, attachment_id=other)

    with pytest.raises(IntegrityError, match="does not belong to this attachment's key"):
        decrypt(blob_b[:HEADER_SIZE] + blob_a[HEADER_SIZE:], key_a)  # header swapped in
    with pytest.raises(IntegrityError, match="another attachment or version"):
        decrypt(blob_a, key_a, attachment_id=other)  # file filed under another attachment
    with pytest.raises(IntegrityError, match="another attachment or version"):
        decrypt(blob_a, key_a, version=2)


def test_the_wrong_data_key_fails() -> None:
    blob = encrypt(b"x" * 5000, new_data_key())
    with pytest.raises(IntegrityError):
        decrypt(blob, new_data_key())


def test_not_our_file_is_refused() -> None:
    with pytest.raises(IntegrityError, match="bad magic"):
        decrypt(b"%PDF-1.7" + os.urandom(400), new_data_key())


def test_key_wrapping_needs_the_right_kek_and_slot() -> None:
    kek, data_key = os.urandom(32), new_data_key()
    wrapped = wrap_key(kek, data_key, kek_id="k1", attachment_id=ATTACHMENT, version=1)
    assert unwrap_key(kek, wrapped, kek_id="k1", attachment_id=ATTACHMENT, version=1) == data_key

    with pytest.raises(KeyUnavailable):
        unwrap_key(os.urandom(32), wrapped, kek_id="k1", attachment_id=ATTACHMENT, version=1)
    with pytest.raises(KeyUnavailable):  # a slot copied onto another attachment
        unwrap_key(kek, wrapped, kek_id="k1", attachment_id=uuid.uuid4(), version=1)
    with pytest.raises(KeyUnavailable):  # or relabelled as another KEK's
        unwrap_key(kek, wrapped, kek_id="k2", attachment_id=ATTACHMENT, version=1)


def test_any_chunking_of_the_input_gives_the_same_plaintext_back() -> None:
    """Uploads arrive in pieces of any size; the encryptor must seal the same segments."""
    import random

    from sharing.crypto import SegmentEncryptor

    rng = random.Random(20261127)
    for size in [0, 1, SEGMENT - 1, SEGMENT, SEGMENT + 1, 4 * SEGMENT, 9_999]:
        key, data = new_data_key(), os.urandom(size)
        encryptor = SegmentEncryptor(key, attachment_id=ATTACHMENT, version=1, segment_size=SEGMENT)
        sink = io.BytesIO()
        sink.write(encryptor.start())
        position = 0
        while position < size:
            step = rng.randint(0, 3 * SEGMENT)
            sink.write(encryptor.update(data[position : position + step]))
            position += step
        sink.write(encryptor.finish())
        assert decrypt(sink.getvalue(), key) == data, size
        assert encryptor.plaintext_size == size
