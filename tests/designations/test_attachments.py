"""Attachments end to end through the portal: encrypted upload, verified download, keys."""

from __future__ import annotations

import hashlib
import io
import json
import os

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from designations.attachments import attachment_open, attachments_rewrap
from designations.models import Attachment, Designation, KeySlot
from sharing.crypto import HEADER_SIZE, TAG_SIZE, IntegrityError
from sharing.keyring import keyring_file, load_keyring
from sharing.models import AuditEntry, ChangeLogEntry
from tests.attachments import make_attachment
from tests.world import World, build_world

pytestmark = pytest.mark.django_db

MARKER = b"PLAINTEXT-MARKER-"


@pytest.fixture
def world() -> World:
    return build_world(with_attachments=False)


def named(world: World, name: str) -> Designation:
    return next(s.designation for s in world.specs if s.designation.name == name)


def client(world: World, username: str, **kwargs) -> Client:
    c = Client(**kwargs)
    c.force_login(world.users[username])
    return c


def upload(c: Client, designation: Designation, content: bytes, name: str = "scan.pdf"):
    return c.post(
        reverse("portal:designation-attach", args=[designation.pk]),
        {"file": SimpleUploadedFile(name, content, content_type="application/pdf")},
    )


def stored_files(storage_dir) -> list:
    return [p for p in storage_dir.iterdir() if p.is_file()]


def test_upload_is_encrypted_at_rest_and_recorded(world: World, attachment_storage) -> None:
    designation = named(world, "CLEAR shared with none")
    content = MARKER * 200_000  # 3.4 MB: above Django's 2.5 MB spool-to-disk threshold

    response = upload(client(world, "a_publisher"), designation, content, "../../etc/Scan 1.pdf")

    assert response.status_code == 302
    attachment = Attachment.objects.get()
    assert attachment.original_name == "Scan 1.pdf"
    assert (attachment.size, attachment.sha256) == (
        len(content),
        hashlib.sha256(content).hexdigest(),
    )
    assert attachment.stored_name not in {"Scan 1.pdf", "scan.pdf"}
    [stored] = stored_files(attachment_storage)
    assert stored.name == attachment.stored_name
    assert MARKER not in stored.read_bytes()  # ciphertext only
    assert KeySlot.objects.get(attachment=attachment).kek_id == load_keyring().primary
    assert ChangeLogEntry.objects.filter(object_id=attachment.pk, action="create").exists()
    assert AuditEntry.objects.filter(object_id=str(attachment.pk), action="change").exists()


def test_plaintext_never_reaches_a_temporary_file(world: World, settings, tmp_path) -> None:
    spool = tmp_path / "spool"
    spool.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(spool)
    designation = named(world, "CLEAR shared with none")

    upload(client(world, "a_publisher"), designation, MARKER * 300_000)

    assert list(spool.iterdir()) == []
    assert "TemporaryFileUploadHandler" not in "".join(settings.FILE_UPLOAD_HANDLERS)


def test_download_streams_the_verified_plaintext_with_safe_headers(world: World) -> None:
    designation = named(world, "CLEAR shared with none")
    content = os.urandom(300_000)
    attachment = make_attachment(
        world.users["a_publisher"], designation, content, name='report "final".pdf'
    )

    response = client(world, "c_liaison").get(attachment.get_absolute_url())

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == content
    assert response["Content-Length"] == str(len(content))
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Type"] == "application/octet-stream"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "no-store"
    entry = AuditEntry.objects.filter(action="download").latest("seq")
    assert (entry.actor_name, entry.object_id) == ("c_liaison", str(attachment.pk))


def test_without_the_download_level_it_is_404_and_audited(world: World) -> None:
    designation = named(world, "AMBER shared with agency:B")  # B: view level only
    attachment = make_attachment(world.users["a_publisher"], designation, b"secret scan")

    for username in ["b_liaison", "c_liaison"]:
        response = client(world, username).get(attachment.get_absolute_url())
        assert response.status_code == 404
        denied = AuditEntry.objects.filter(action="denied").latest("seq")
        assert denied.actor_name == username
        assert denied.detail["object"] == str(attachment.pk)
    # And the designation page does not list it for B.
    page = client(world, "b_liaison").get(designation.get_absolute_url())
    assert attachment.original_name.encode() not in page.content


def test_an_oversized_upload_is_refused_and_leaves_no_file(
    world: World, settings, attachment_storage
) -> None:
    settings.ATTACHMENT_MAX_BYTES = 100_000
    designation = named(world, "CLEAR shared with none")

    response = upload(client(world, "a_publisher"), designation, os.urandom(250_000))

    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Not uploaded: The file is larger than the limit of 100,000 bytes."
    ]
    assert not Attachment.objects.exists()
    assert stored_files(attachment_storage) == []


def test_uploads_need_the_right_to_attach_and_read_nothing_otherwise(
    world: World, attachment_storage
) -> None:
    designation = named(world, "CLEAR shared with none")
    for username, status in [("a_liaison", 403), ("b_admin", 403)]:
        assert upload(client(world, username), designation, b"x" * 1000).status_code == status
    hidden = named(world, "AMBER shared with none")
    assert upload(client(world, "c_liaison"), hidden, b"x" * 1000).status_code == 404
    assert stored_files(attachment_storage) == []
    assert not Attachment.objects.exists()


def test_an_upload_without_a_csrf_token_is_refused_and_leaves_no_file(
    world: World, attachment_storage
) -> None:
    designation = named(world, "CLEAR shared with none")
    response = upload(
        client(world, "a_publisher", enforce_csrf_checks=True), designation, b"x" * 5000
    )
    assert response.status_code == 403
    assert stored_files(attachment_storage) == []


def test_notes_take_attachments_from_their_agency(world: World) -> None:
    note = world.notes["a_green"]
    response = client(world, "a_liaison").post(
        reverse("portal:note-attach", args=[note.pk]),
        {"file": SimpleUploadedFile("memo.txt", b"memo text")},
    )
    assert response.status_code == 302
    attachment = Attachment.objects.get(note=note)
    # The note is GREEN (download level for every agency that sees it), on a designation
    # that B may see and C may not: the note's file follows the note, within the designation.
    assert client(world, "b_liaison").get(attachment.get_absolute_url()).status_code == 200
    assert client(world, "c_liaison").get(attachment.get_absolute_url()).status_code == 404
    # Only the note's agency adds files to it.
    response = client(world, "b_admin").post(
        reverse("portal:note-attach", args=[note.pk]),
        {"file": SimpleUploadedFile("x.txt", b"x")},
    )
    assert response.status_code == 403


def _tamper(attachment_storage, attachment: Attachment, edit) -> None:  # type: ignore[no-untyped-def]
    path = attachment_storage / attachment.stored_name
    path.write_bytes(edit(path.read_bytes()))


SEALED = 64 * 1024 + TAG_SIZE


@pytest.mark.parametrize(
    "edit",
    [
        lambda blob: blob[: HEADER_SIZE + 20 * SEALED],  # cut at a segment boundary
        lambda blob: blob[:-1] + bytes([blob[-1] ^ 1]),  # last tag flipped
        lambda blob: blob[:1_500_000] + bytes([blob[1_500_000] ^ 1]) + blob[1_500_001:],
    ],
    ids=["truncated", "last-byte-flipped", "middle-flipped"],
)
def test_a_tampered_file_is_never_delivered_whole(world: World, attachment_storage, edit) -> None:
    designation = named(world, "CLEAR shared with none")
    content = os.urandom(40 * 64 * 1024 + 100)  # several read blocks: fails mid-stream
    attachment = make_attachment(world.users["a_publisher"], designation, content)
    _tamper(attachment_storage, attachment, edit)

    response = client(world, "b_liaison").get(attachment.get_absolute_url())

    assert response.status_code == 200  # the first blocks are sound
    received = b""
    with pytest.raises(IntegrityError):
        for chunk in response.streaming_content:
            received += chunk
    assert len(received) < len(content)  # the transfer falls short of Content-Length
    assert content.startswith(received)
    failure = AuditEntry.objects.filter(action="integrity").latest("seq")
    assert failure.object_id == str(attachment.pk)


def test_damage_in_the_first_block_fails_before_sending(world: World, attachment_storage) -> None:
    designation = named(world, "CLEAR shared with none")
    attachment = make_attachment(world.users["a_publisher"], designation, os.urandom(300_000))
    _tamper(attachment_storage, attachment, lambda b: b[:1000] + bytes([b[1000] ^ 1]) + b[1001:])

    response = client(world, "b_liaison").get(attachment.get_absolute_url())

    assert response.status_code == 500
    assert b"failed its integrity check" in response.content
    assert AuditEntry.objects.filter(action="integrity", object_id=str(attachment.pk)).exists()


def test_a_file_swapped_for_another_attachments_fails_before_sending(
    world: World, attachment_storage
) -> None:
    designation = named(world, "CLEAR shared with none")
    first = make_attachment(world.users["a_publisher"], designation, b"first" * 1000)
    second = make_attachment(world.users["a_publisher"], designation, b"second" * 1000)
    (attachment_storage / first.stored_name).write_bytes(
        (attachment_storage / second.stored_name).read_bytes()
    )

    response = client(world, "b_liaison").get(first.get_absolute_url())

    assert response.status_code == 500
    assert b"failed its integrity check" in response.content
    assert AuditEntry.objects.filter(action="integrity", object_id=str(first.pk)).exists()
    with pytest.raises(CommandError, match="1 of 2 attachments failed"):
        call_command("verify_attachments")


def test_verify_attachments_passes_on_intact_files(world: World, capsys) -> None:
    designation = named(world, "CLEAR shared with none")
    for size in (0, 1, 64 * 1024, 200_000):
        make_attachment(world.users["a_publisher"], designation, os.urandom(size))
    call_command("verify_attachments")
    assert "All 4 attachments verified." in capsys.readouterr().out


def test_rotation_rewraps_every_key_and_old_files_still_open(world: World, capsys) -> None:
    designation = named(world, "CLEAR shared with none")
    contents = [os.urandom(n) for n in (10, 70_000, 140_000)]
    attachments = [make_attachment(world.users["a_publisher"], designation, c) for c in contents]
    old = load_keyring().primary
    stored_before = {a.stored_name: a for a in attachments}

    call_command("keys", "rotate")

    keyring = load_keyring()
    assert keyring.primary != old
    assert set(KeySlot.objects.values_list("kek_id", flat=True)) == {keyring.primary}
    # Drop the old KEK from the ring: the files still open, through their new slots.
    data = json.loads(keyring_file().read_text())
    del data["keys"][old]
    keyring_file().write_text(json.dumps(data))
    for attachment, content in zip(attachments, contents, strict=True):
        attachment.refresh_from_db()
        assert attachment.stored_name in stored_before  # bodies untouched
        assert b"".join(attachment_open(attachment)) == content
    assert "not yet under the primary KEK: 0" in capsys.readouterr().out


def test_an_interrupted_rewrap_resumes(world: World, monkeypatch) -> None:
    designation = named(world, "CLEAR shared with none")
    attachments = [
        make_attachment(world.users["a_publisher"], designation, os.urandom(100)) for _ in range(4)
    ]
    from sharing import keyring as keyring_module

    keyring_module.keyring_add_primary()
    calls = {"n": 0}
    import designations.attachments as service

    real_wrap = service.wrap_key

    def crash_on_third(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt("operator pressed Ctrl-C")
        return real_wrap(*args, **kwargs)

    monkeypatch.setattr(service, "wrap_key", crash_on_third)
    with pytest.raises(KeyboardInterrupt):
        attachments_rewrap()
    primary = load_keyring().primary
    assert KeySlot.objects.filter(kek_id=primary).count() == 2

    monkeypatch.setattr(service, "wrap_key", real_wrap)
    assert attachments_rewrap() == 2  # only the rest

    assert KeySlot.objects.filter(kek_id=primary).count() == 4
    assert KeySlot.objects.count() == 4
    for attachment in attachments:
        assert len(b"".join(attachment_open(attachment))) == 100


def test_a_missing_kek_gives_a_clear_error(world: World) -> None:
    designation = named(world, "CLEAR shared with none")
    attachment = make_attachment(world.users["a_publisher"], designation, b"data" * 100)
    data = json.loads(keyring_file().read_text())
    kek_id = data["primary"]
    data["keys"] = {"kek-other": data["keys"][kek_id]}
    data["primary"] = "kek-other"
    keyring_file().write_text(json.dumps(data))

    response = client(world, "b_liaison").get(attachment.get_absolute_url())

    assert response.status_code == 500
    failure = AuditEntry.objects.filter(action="integrity").latest("seq")
    assert f"KEK(s) {kek_id}, none of which is in the keyring" in failure.detail["error"]
    with pytest.raises(CommandError):
        call_command("verify_attachments")


def test_keys_generate_refuses_to_replace_a_keyring(world: World) -> None:
    with pytest.raises(CommandError, match="exists; use `keys rotate`"):
        call_command("keys", "generate")
    out = io.StringIO()
    call_command("keys", "status", stdout=out)
    assert "(primary)" in out.getvalue()
