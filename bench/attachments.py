"""Attachment upload and download speed and memory, through the real code paths.

A 1 GiB file (BENCH_ATTACHMENT_MIB) goes in as a multipart POST through Django's WSGI handler
(middleware, session, CSRF, the upload view, the encrypting upload handler, attachment storage)
and comes back through the download view, streamed and verified. In the same run, over the same
bytes, two references:

- plain copy: file to storage and storage to file, no encryption, in 64 KiB blocks like the
  reference copy of DESIGN.md (the I/O limit). The copy into storage is made durable (fsync)
  as the upload path makes each file durable before recording it; the download side saves
  what it receives, as a client does. Copies in 1 MiB blocks are printed too, for context;
- raw AESGCM: the cipher alone, in memory, in the same segment size (the cipher limit).

Peak RSS growth is measured per phase (Linux: /proc/self/clear_refs resets the high-water mark).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sanctions .venv/bin/python bench/attachments.py
"""

from __future__ import annotations

import io
import json
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sharing.settings")
WORK = Path(tempfile.mkdtemp(prefix="bench-attachments-", dir=os.getenv("BENCH_DIR")))
os.environ["ATTACHMENTS_DIR"] = str(WORK / "store")
os.environ["ATTACHMENT_KEYRING_FILE"] = str(WORK / "keyring.json")
os.environ.pop("ATTACHMENT_KEKS", None)

import django  # noqa: E402

django.setup()

from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.db import connection  # noqa: E402
from django.middleware.csrf import _get_new_csrf_string, _mask_cipher_secret  # noqa: E402
from django.test.utils import setup_databases, teardown_databases  # noqa: E402
from django.urls import reverse  # noqa: E402

from agencies.models import Role  # noqa: E402
from agencies.services import agency_create, node_ensure_local, user_create  # noqa: E402
from designations.models import Attachment, Regime  # noqa: E402
from designations.services import designation_create  # noqa: E402
from sharing.crypto import SEGMENT_SIZE  # noqa: E402
from sharing.keyring import keyring_add_primary  # noqa: E402
from sharing.uploads import attachment_storage, make_durable  # noqa: E402

SIZE = int(os.getenv("BENCH_ATTACHMENT_MIB", "1024")) * 1024 * 1024
MB = 1_000_000
ROUNDS = int(os.getenv("BENCH_ROUNDS", "3"))


CACHE_NOTE = "page cache dropped before each phase"


def drop_caches() -> None:
    global CACHE_NOTE
    try:
        Path("/proc/sys/vm/drop_caches").write_text("3")
    except OSError:
        # Not root: phases may find earlier phases' pages cached, and figures vary more.
        CACHE_NOTE = "page cache NOT dropped (needs root): expect noisier figures"


def rss_reset() -> int:
    """Reset the peak-RSS mark; return the current RSS in bytes."""
    Path("/proc/self/clear_refs").write_text("5")
    return _status("VmRSS")


def rss_peak() -> int:
    return _status("VmHWM")


def _status(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(field)


class MultipartBody:
    """A multipart/form-data body read from disk as the server reads it: never whole in
    memory (a client streaming a large file)."""

    def __init__(self, path: Path, csrf_token: str) -> None:
        self.boundary = uuid.uuid4().hex
        head = (
            f"--{self.boundary}\r\n"
            'Content-Disposition: form-data; name="csrfmiddlewaretoken"\r\n\r\n'
            f"{csrf_token}\r\n"
            f"--{self.boundary}\r\n"
            'Content-Disposition: form-data; name="file"; filename="evidence.bin"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        tail = f"\r\n--{self.boundary}--\r\n".encode()
        self.parts = [head, path, tail]
        self.length = len(head) + path.stat().st_size + len(tail)
        self._index, self._file, self._offset = 0, None, 0

    def readline(self, size: int = -1) -> bytes:
        # WSGI streams have it; the multipart parser reads blocks and never calls it.
        raise NotImplementedError

    def read(self, size: int = -1) -> bytes:
        if size > 0 and self._file is not None:
            data = self._file.read(size)  # the usual case: a block of the file, no copy
            if len(data) == size:
                return data
            self._file.close()
            self._file, self._index = None, self._index + 1
            return data + self.read(size - len(data))
        out = bytearray()
        while (size < 0 or len(out) < size) and self._index < len(self.parts):
            part = self.parts[self._index]
            want = -1 if size < 0 else size - len(out)
            if isinstance(part, Path):
                if self._file is None:
                    self._file = part.open("rb")
                data = self._file.read(want)
                if not data:
                    self._file.close()
                    self._file, self._index = None, self._index + 1
                out += data
            else:
                data = (
                    part[self._offset :] if want < 0 else part[self._offset : self._offset + want]
                )
                self._offset += len(data)
                out += data
                if self._offset >= len(part):
                    self._index, self._offset = self._index + 1, 0
        return bytes(out)


def signed_in_cookies(user) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    secret = _get_new_csrf_string()
    cookie = f"{settings.SESSION_COOKIE_NAME}={session.session_key}; csrftoken={secret}"
    return cookie, _mask_cipher_secret(secret)


def environ(method: str, path: str, cookie: str, **extra: object) -> dict:
    return {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_COOKIE": cookie,
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "REMOTE_ADDR": "127.0.0.1",
        **extra,
    }


def make_source(path: Path) -> None:
    block = os.urandom(16 * 1024 * 1024)
    with path.open("wb") as out:
        for _ in range(SIZE // len(block)):
            out.write(block)
        out.write(block[: SIZE % len(block)])


def timed(function) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    """Seconds and peak RSS growth of one phase. Dirty pages of earlier phases are flushed and
    the page cache is dropped first (where permitted), so every phase starts cold: no phase
    pays for another's writeback or profits from what another left in memory."""
    os.sync()
    drop_caches()
    before = rss_reset()
    started = time.perf_counter()
    function()
    return time.perf_counter() - started, max(0, rss_peak() - before)


def main() -> None:
    keyring_add_primary()
    source = WORK / "source.bin"
    make_source(source)
    old_config = setup_databases(verbosity=0, interactive=False)
    try:
        node = node_ensure_local()
        agency = agency_create(code="A", name="Agency A", jurisdiction="A", home_node=node)
        publisher = user_create(
            username="publisher",
            agency=agency,
            role=Role.PUBLISHER,
            password=secrets.token_urlsafe(16),
        )
        regime = Regime.objects.create(owner=agency, code="R", name="Regime")
        designation = designation_create(
            actor=publisher, regime=regime, data={"name": "Bench Subject", "subject_kind": "person"}
        )
        cookie, csrf_token = signed_in_cookies(publisher)
        app = WSGIHandler()
        storage = attachment_storage()

        def upload() -> None:
            body = MultipartBody(source, csrf_token)
            response = app(
                environ(
                    "POST",
                    reverse("portal:designation-attach", args=[designation.pk]),
                    cookie,
                    CONTENT_TYPE=f"multipart/form-data; boundary={body.boundary}",
                    CONTENT_LENGTH=str(body.length),
                    HTTP_REFERER="http://127.0.0.1/",
                    **{"wsgi.input": body},
                ),
                lambda status, headers: None,
            )
            response.close()

        def download() -> None:
            # The client saves what it receives, as a browser does.
            attachment = Attachment.objects.get()
            status, received = {}, 0
            response = app(
                environ(
                    "GET", attachment.get_absolute_url(), cookie, **{"wsgi.input": io.BytesIO()}
                ),
                lambda s, headers: status.setdefault("s", s),
            )
            with (WORK / "downloaded.bin").open("wb") as saved:
                for chunk in response:
                    received += len(chunk)
                    saved.write(chunk)
            response.close()
            assert status["s"].startswith("200") and received == SIZE, (status, received)

        def copy_in(chunk: int):  # type: ignore[no-untyped-def]
            def copy_in() -> None:
                with source.open("rb") as src, storage.open("plain-copy", "wb") as dst:
                    for block in iter(lambda: src.read(chunk), b""):
                        dst.write(block)
                    make_durable(dst)  # as the upload path does before recording the file

            return copy_in

        def copy_out(chunk: int):  # type: ignore[no-untyped-def]
            def copy_out() -> None:
                target = (WORK / "copied.bin").open("wb")
                with storage.open("plain-copy", "rb") as src, target as dst:
                    for block in iter(lambda: src.read(chunk), b""):
                        dst.write(block)

            return copy_out

        def clean_up() -> None:
            for attachment in Attachment.objects.all():
                storage.delete(attachment.stored_name)
                attachment.delete()
            storage.delete("plain-copy")
            for name in ("downloaded.bin", "copied.bin"):
                (WORK / name).unlink(missing_ok=True)

        # Ours and the references take turns (the order rotates every round), so that none
        # always runs on a fresher page cache; the median of the rounds is reported.
        phases_in = [("up", upload), ("cin", copy_in(SEGMENT_SIZE)), ("cin1m", copy_in(2**20))]
        phases_out = [
            ("down", download),
            ("cout", copy_out(SEGMENT_SIZE)),
            ("cout1m", copy_out(2**20)),
        ]
        runs: dict[str, list[tuple[float, int]]] = {n: [] for n, _ in phases_in + phases_out}
        for round_ in range(ROUNDS):
            for phases in (phases_in, phases_out):
                for name, phase in phases[round_ % 3 :] + phases[: round_ % 3]:
                    runs[name].append(timed(phase))
                    for leftover in ("downloaded.bin", "copied.bin"):
                        (WORK / leftover).unlink(missing_ok=True)
            assert Attachment.objects.get().size == SIZE
            clean_up()
        seconds = {n: statistics.median(t for t, _ in values) for n, values in runs.items()}
        for name, values in runs.items():
            rates = ", ".join(f"{SIZE / t / MB:.0f}" for t, _ in values)
            print(f"  {name:<7} MB/s per round: {rates}")
        upload_s, copy_in_s, download_s, copy_out_s = (
            seconds[k] for k in ("up", "cin", "down", "cout")
        )
        upload_rss = max(rss for _, rss in runs["up"])
        download_rss = max(rss for _, rss in runs["down"])

        aead, nonce, segment = (
            AESGCM(AESGCM.generate_key(256)),
            os.urandom(12),
            os.urandom(SEGMENT_SIZE),
        )
        count = SIZE // SEGMENT_SIZE
        sealed = aead.encrypt(nonce, segment, b"aad")

        def cipher_encrypt() -> None:
            for _ in range(count):
                aead.encrypt(nonce, segment, b"aad")

        def cipher_decrypt() -> None:
            for _ in range(count):
                aead.decrypt(nonce, sealed, b"aad")

        enc_s, _ = timed(cipher_encrypt)
        dec_s, _ = timed(cipher_decrypt)
        vendor = connection.vendor
    finally:
        teardown_databases(old_config, verbosity=0)
        shutil.rmtree(WORK, ignore_errors=True)

    def rate(seconds: float) -> float:
        return SIZE / seconds / MB

    backend = settings.STORAGES["attachments"]["BACKEND"]
    print(
        f"file: {SIZE / 2**20:.0f} MiB; median of {ROUNDS} rounds; {CACHE_NOTE}; "
        f"database: {vendor}; storage: {backend}"
    )
    print(
        f"upload   (view + encrypting handler + storage): {rate(upload_s):8.0f} MB/s  "
        f"peak RSS growth {upload_rss / 2**20:6.1f} MiB"
    )
    print(
        f"download (view + verified decryption):         {rate(download_s):8.0f} MB/s  "
        f"peak RSS growth {download_rss / 2**20:6.1f} MiB"
    )
    print(
        f"plain copy into storage, 64 KiB (I/O limit):   {rate(copy_in_s):8.0f} MB/s  "
        f"(1 MiB blocks: {rate(seconds['cin1m']):.0f} MB/s)"
    )
    print(
        f"plain copy out of storage, 64 KiB (I/O limit): {rate(copy_out_s):8.0f} MB/s  "
        f"(1 MiB blocks: {rate(seconds['cout1m']):.0f} MB/s)"
    )
    print(
        f"raw AESGCM encrypt / decrypt (cipher limit):   {rate(enc_s):8.0f} / "
        f"{rate(dec_s):.0f} MB/s"
    )
    up_ratio, down_ratio = copy_in_s / upload_s, copy_out_s / download_s
    print(
        f"upload / plain copy = {up_ratio:.2f}; download / plain copy = {down_ratio:.2f} "
        "(target >= 0.6); RSS target < 64 MiB"
    )
    print(
        json.dumps(
            {
                "bench": "attachments",
                "mib": SIZE // 2**20,
                "rounds": ROUNDS,
                "upload_mb_s": round(rate(upload_s), 1),
                "download_mb_s": round(rate(download_s), 1),
                "copy_in_mb_s": round(rate(copy_in_s), 1),
                "copy_out_mb_s": round(rate(copy_out_s), 1),
                "copy_in_1mib_mb_s": round(rate(seconds["cin1m"]), 1),
                "copy_out_1mib_mb_s": round(rate(seconds["cout1m"]), 1),
                "aesgcm_encrypt_mb_s": round(rate(enc_s), 1),
                "aesgcm_decrypt_mb_s": round(rate(dec_s), 1),
                "upload_ratio_to_copy": round(up_ratio, 2),
                "download_ratio_to_copy": round(down_ratio, 2),
                "upload_rss_growth_mib": round(upload_rss / 2**20, 1),
                "download_rss_growth_mib": round(download_rss / 2**20, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
