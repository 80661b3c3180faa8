"""The attachments API: raw-body streamed upload, metadata, verified download."""

from __future__ import annotations

import hashlib
import io
import os

import pytest
from django.test import Client
from django.urls import reverse

from designations.models import Attachment, Designation
from sharing.crypto import HEADER_SIZE
from sharing.models import AuditEntry
from sharing.uploads import UploadTooLarge, receive_raw_upload
from tests.attachments import make_attachment
from tests.world import World, build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> World:
    return build_world(with_attachments=False)


def named(world: World, name: str) -> Designation:
    return next(s.designation for s in world.specs if s.designation.name == name)


def api(world: World, username: str, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(world.users[username])
    return client


def post_file(client: Client, designation: Designation, content: bytes, **headers):
    return client.post(
        reverse("api:designation-attachments", args=[designation.pk]),
        data=content,
        content_type="application/pdf",
        headers={"Content-Disposition": 'attachment; filename="Bank statement.pdf"', **headers},
    )


def test_upload_and_download_round_trip(world: World, attachment_storage) -> None:
    designation = named(world, "CLEAR shared with none")
    content = os.urandom(2_500_000)

    response = post_file(api(world, "a_publisher"), designation, content)

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["original_name"] == "Bank statement.pdf"
    assert body["size"] == len(content)
    assert body["sha256"] == hashlib.sha256(content).hexdigest()
    assert body["parent"] == {"type": "designation", "id": str(designation.pk)}
    assert response["Location"] == reverse("api:attachment-detail", args=[body["id"]])
    [stored] = list(attachment_storage.iterdir())
    assert content[:4096] not in stored.read_bytes()

    reader = api(world, "c_liaison")
    metadata = reader.get(response["Location"])
    assert metadata.json()["id"] == body["id"]
    assert (
        reader.get(response["Location"], headers={"If-None-Match": metadata["ETag"]}).status_code
        == 304
    )
    download = reader.get(body["content_url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == content
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"


def test_an_upload_over_the_limit_is_refused_and_leaves_no_file(
    world: World, settings, attachment_storage
) -> None:
    settings.ATTACHMENT_MAX_BYTES = 1000
    response = post_file(
        api(world, "a_publisher"), named(world, "CLEAR shared with none"), os.urandom(5000)
    )

    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["detail"] == "The file is larger than the limit of 1,000 bytes."
    assert list(attachment_storage.iterdir()) == []
    assert not Attachment.objects.exists()


def test_the_limit_holds_while_streaming_without_a_declared_length(attachment_storage) -> None:
    with pytest.raises(UploadTooLarge):
        receive_raw_upload(
            io.BytesIO(os.urandom(3 * 2**20)),
            content_length=None,
            file_name="x",
            content_type="",
            max_bytes=2**20,
            chunk_size=65536,
        )
    assert list(attachment_storage.iterdir()) == []


def test_refusals_are_problems_and_write_nothing(world: World, attachment_storage) -> None:
    clear, hidden = named(world, "CLEAR shared with none"), named(world, "AMBER shared with none")

    liaison = post_file(api(world, "a_liaison"), clear, b"x")
    other_agency = post_file(api(world, "c_liaison"), hidden, b"x")
    anonymous = post_file(Client(), clear, b"x")
    empty = post_file(api(world, "a_publisher"), clear, b"")

    assert liaison.status_code == 403 and liaison.json()["status"] == 403
    assert other_agency.status_code == 404
    assert anonymous.status_code == 401
    assert anonymous["WWW-Authenticate"].startswith("Bearer")
    assert empty.status_code == 400 and "empty" in empty.json()["detail"]
    assert list(attachment_storage.iterdir()) == []
    assert AuditEntry.objects.filter(action="denied", actor_name="c_liaison").exists()


def test_session_uploads_need_the_csrf_token(world: World, attachment_storage) -> None:
    client = api(world, "a_publisher", enforce_csrf_checks=True)
    response = post_file(client, named(world, "CLEAR shared with none"), b"x" * 100)
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert list(attachment_storage.iterdir()) == []


def test_without_the_download_level_it_is_404_and_audited(world: World) -> None:
    designation = named(world, "AMBER shared with agency:B")  # B has view only
    attachment = make_attachment(world.users["a_publisher"], designation, b"scan")
    for url in [
        reverse("api:attachment-detail", args=[attachment.pk]),
        reverse("api:attachment-content", args=[attachment.pk]),
    ]:
        response = api(world, "b_liaison").get(url)
        assert response.status_code == 404
        assert response["Content-Type"] == "application/problem+json"
    assert AuditEntry.objects.filter(action="denied", actor_name="b_liaison").count() == 2


def test_a_damaged_file_is_a_problem_not_a_download(world: World, attachment_storage) -> None:
    attachment = make_attachment(
        world.users["a_publisher"], named(world, "CLEAR shared with none"), os.urandom(10_000)
    )
    path = attachment_storage / attachment.stored_name
    blob = bytearray(path.read_bytes())
    blob[HEADER_SIZE + 10] ^= 1
    path.write_bytes(bytes(blob))

    response = api(world, "b_liaison").get(reverse("api:attachment-content", args=[attachment.pk]))

    assert response.status_code == 500
    assert "integrity" in response.json()["detail"]
    assert AuditEntry.objects.filter(action="integrity", object_id=str(attachment.pk)).exists()


@pytest.mark.parametrize(
    ("header", "stored"),
    [
        ("attachment; filename*=UTF-8''%ff%fe.pdf", "\ufffd\ufffd.pdf"),
        ('attachment; filename="../../etc/passwd"', "passwd"),
        ('attachment; filename="a\\u0000b.txt"', "u0000b.txt"),  # a backslash is a separator
        ("", "attachment"),
    ],
)
def test_hostile_file_names_are_stored_sanitised(world: World, header: str, stored: str) -> None:
    response = post_file(
        api(world, "a_publisher"),
        named(world, "CLEAR shared with none"),
        b"data",
        **{"Content-Disposition": header},
    )
    assert response.status_code == 201, response.content
    assert response.json()["original_name"] == stored
