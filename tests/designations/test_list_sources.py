"""The periodic re-import: each configured list is fetched (over real HTTP, or from a path)
and imported; an unchanged file changes nothing; a failing source is audited and does not
stop the others."""

from __future__ import annotations

import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from designations.list_sources import SourceUnavailable, fetch, reimport_all
from designations.models import Designation, ListPublication
from sharing.models import AuditAction, AuditEntry
from tests.conftest import UN_EXCERPT
from tests.designations.test_un_import import remove_record, variant

pytestmark = pytest.mark.django_db


@pytest.fixture
def list_server(tmp_path):  # type: ignore[no-untyped-def]
    """A real HTTP server on this machine serving `tmp_path/www`."""
    root = tmp_path / "www"
    root.mkdir()

    class Handler(SimpleHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/moved":
                self.send_response(302)
                self.send_header("Location", "/un.xml")
                self.end_headers()
                return
            super().do_GET()

    handler = functools.partial(Handler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_lists_are_fetched_imported_and_unchanged_files_skipped(
    unsc, settings, list_server, tmp_path
) -> None:
    root, base = list_server
    (root / "un.xml").write_bytes(UN_EXCERPT.read_bytes())
    settings.LIST_SOURCES = [{"publisher": "un", "location": f"{base}/un.xml"}]
    [first] = reimport_all()
    assert first.error == "" and first.result.added == 12
    [again] = reimport_all()
    assert again.result.already_imported and ListPublication.objects.count() == 1

    # The publisher drops an entry: the next run delists it.
    later = variant(
        tmp_path,
        generated="2026-03-06T00:00:00Z",
        edit=lambda text: remove_record(text, "CDi.001"),
    )
    (root / "un.xml").write_bytes(later.read_bytes())
    [third] = reimport_all()
    assert third.result.delisted == 1
    assert Designation.objects.get(reference_number="CDi.001").status == "delisted"


def test_a_failing_source_is_audited_and_the_others_still_come(
    unsc, settings, list_server, tmp_path
) -> None:
    root, base = list_server
    (root / "broken.xml").write_text("<CONSOLIDATED_LIST dateGenerated=", encoding="utf-8")
    settings.LIST_SOURCES = [
        {"publisher": "un", "location": f"{base}/missing.xml"},  # 404
        {"publisher": "un", "location": f"{base}/broken.xml"},  # not a list
        {"publisher": "un", "location": "http://192.0.2.1/un.xml"},  # not https
        {"publisher": "un", "location": "file:///etc/passwd"},  # a path, and no list
        {"publisher": "uk", "location": str(UN_EXCERPT)},  # no agency OFSI here
        {"publisher": "dutch", "location": str(UN_EXCERPT)},  # no such format: unexpected
        "not a source",
        {"publisher": "un", "location": f"{base}/moved"},  # redirects are not followed
        {"publisher": "un", "location": str(UN_EXCERPT)},  # fine
    ]
    outcomes = reimport_all()
    errors = [o.error for o in outcomes]
    assert "answered 404" in errors[0]
    assert "not well-formed" in errors[1]
    assert "only https addresses are fetched" in errors[2]
    assert errors[3] and errors[4] == "no agency with code 'OFSI'"
    assert errors[5] and errors[6]
    assert "redirected to /un.xml; configure that address" in errors[7]
    assert errors[8] == "" and outcomes[8].result.added == 12
    assert ListPublication.objects.count() == 1
    audited = AuditEntry.objects.filter(action=AuditAction.IMPORT, detail__has_key="error")
    assert audited.count() == 8


def test_a_download_larger_than_allowed_is_refused(settings, list_server, tmp_path) -> None:
    root, base = list_server
    (root / "big.xml").write_bytes(b"x" * 200_000)
    settings.LIST_DOWNLOAD_MAX_BYTES = 100_000
    with pytest.raises(SourceUnavailable, match="larger than 100000 bytes"):
        fetch(f"{base}/big.xml", tmp_path)
