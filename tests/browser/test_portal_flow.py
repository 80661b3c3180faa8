"""The liaisons' day in a real browser: A's admin signs in with a password and a code,
publishes a designation, shares it with B and attaches a file; B's liaison finds it by an
alias, reads it, downloads the file and adds a note; C's liaison cannot find it by search or
by its address; A revokes and B no longer sees it. Wrong codes and passwords lock out."""

from __future__ import annotations

from pathlib import Path

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from agencies.models import Role
from agencies.services import user_create
from designations.models import Designation, IntelligenceNote, Regime
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.second_step]
FILE_BYTES = b"Vessel manifest, port of call 2026-11.\n" * 50


def code_for(user, *, wrong: bool = False) -> str:  # type: ignore[no-untyped-def]
    device = TOTPDevice.objects.get(user=user)
    value = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    return f"{(value + 1) % 10**6 if wrong else value:06d}"


def with_authenticator(user):  # type: ignore[no-untyped-def]
    TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    return user


@pytest.fixture
def people(agency_a, agency_b, agency_c, settings):  # type: ignore[no-untyped-def]
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # each code here is typed once
    Regime.objects.create(owner=agency_a, code="R1", name="Regime of A")
    make = {
        "ada": (agency_a, Role.AGENCY_ADMIN),
        "bea": (agency_b, Role.LIAISON),
        "cai": (agency_c, Role.LIAISON),
    }
    return {
        name: with_authenticator(
            user_create(username=name, agency=agency, role=role, password=PASSWORD)
        )
        for name, (agency, role) in make.items()
    }


def sign_in(page, base: str, user, shots: Path | None = None) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/login/")
    page.get_by_label("User name").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    if shots:
        page.screenshot(path=shots / "sign-in.png")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Code from your authenticator app").fill(code_for(user))
    if shots:
        page.screenshot(path=shots / "sign-in-code.png")
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(f"{base}/")  # the dashboard


def test_publish_share_attach_find_download_note_revoke(  # type: ignore[no-untyped-def]
    browser, live_server, people, screenshots, tmp_path
):
    base = live_server.url
    upload = tmp_path / "manifest.txt"
    upload.write_bytes(FILE_BYTES)

    # A's admin publishes, shares with B and attaches a file.
    ada = browser.new_context(accept_downloads=True)
    page = ada.new_page()
    sign_in(page, base, people["ada"], screenshots)
    page.get_by_role("navigation").get_by_role("link", name="Designations").click()
    page.get_by_role("link", name="New designation").click()
    page.get_by_label("Regime").select_option(str(Regime.objects.get(code="R1").pk))
    page.get_by_label("Primary name").fill("Boris Browserov")
    page.get_by_label("Also known as").fill("Borya the Tester")
    page.get_by_label("Marking").select_option("AMBER")
    page.screenshot(path=screenshots / "designation-new.png", full_page=True)
    page.get_by_role("button", name="Publish").click()
    designation = Designation.objects.get(name="Boris Browserov")
    assert page.url == f"{base}{designation.get_absolute_url()}"
    page.get_by_label("Share with").select_option("agency:B")
    page.get_by_label("Level").select_option("view")
    page.get_by_role("button", name="Share").click()
    page.get_by_role("listitem").filter(has_text="agency · view").wait_for()
    page.get_by_label("Add a file (encrypted on arrival)").set_input_files(str(upload))
    # Sent by the page's script (with a progress bar), not as a plain form post.
    with page.expect_response(
        lambda r: "/attachments/" in r.url and r.request.resource_type == "xhr"
    ) as sent:
        page.get_by_role("button", name="Upload").click()
    assert sent.value.status < 400  # the redirect to the page, which the script follows
    page.get_by_role("link", name="manifest.txt").wait_for()
    page.screenshot(path=screenshots / "designation-detail.png", full_page=True)

    # B's liaison finds it by the alias and reads it; at view level the file stays closed.
    bea = browser.new_context(accept_downloads=True)
    b_page = bea.new_page()
    sign_in(b_page, base, people["bea"])
    assert b_page.get_by_role("link", name="Boris Browserov").is_visible()  # new since last time
    b_page.screenshot(path=screenshots / "dashboard.png", full_page=True)
    b_page.get_by_role("navigation").get_by_role("link", name="Designations").click()
    b_page.get_by_label("Name, alias or reference").fill("Borya the Tester")
    b_page.keyboard.press("Enter")
    b_page.wait_for_url("**/designations/?q=**")  # the results, not the page before them
    b_page.screenshot(path=screenshots / "designation-list.png", full_page=True)
    b_page.get_by_role("link", name="Boris Browserov").click()
    assert b_page.get_by_role("heading", name="Boris Browserov").is_visible()
    assert b_page.get_by_role("link", name="manifest.txt").count() == 0

    # A raises B to download (which includes comment): B downloads the file and adds a note.
    page.get_by_label("Share with").select_option("agency:B")
    page.get_by_label("Level").select_option("download")
    page.get_by_role("button", name="Share").click()
    page.get_by_role("listitem").filter(has_text="agency · download").wait_for()
    b_page.reload()
    with b_page.expect_download() as download:
        b_page.get_by_role("link", name="manifest.txt").click()
    assert Path(download.value.path()).read_bytes() == FILE_BYTES
    b_page.get_by_text("Add a note").click()
    b_page.get_by_label("Title").fill("Seen in Rotterdam")
    b_page.get_by_label("Note").fill("Customs report, 2026-11.")
    b_page.get_by_role("button", name="Add note").click()
    b_page.get_by_role("link", name="Seen in Rotterdam").wait_for()
    assert IntelligenceNote.objects.get().owner.code == "B"

    # C's liaison: not by search, not by its address.
    cai = browser.new_context()
    c_page = cai.new_page()
    sign_in(c_page, base, people["cai"])
    assert c_page.get_by_role("link", name="Boris Browserov").count() == 0  # not on C's board
    c_page.get_by_role("navigation").get_by_role("link", name="Designations").click()
    c_page.get_by_label("Name, alias or reference").fill("Borya the Tester")
    c_page.keyboard.press("Enter")
    c_page.wait_for_url("**/designations/?q=**")  # the results, not the page before them
    assert c_page.get_by_role("link", name="Boris Browserov").count() == 0
    response = c_page.goto(f"{base}{designation.get_absolute_url()}")
    assert response is not None and response.status == 404

    # A revokes: B no longer sees it.
    page.reload()
    page.get_by_role("listitem").filter(has_text="Agency B").get_by_role(
        "button", name="Revoke"
    ).click()
    page.get_by_role("listitem").filter(has_text="agency · download").wait_for(state="detached")
    response = b_page.goto(f"{base}{designation.get_absolute_url()}")
    assert response is not None and response.status == 404
    for context in (ada, bea, cai):
        context.close()


def test_a_wrong_code_and_repeated_wrong_passwords_lock_out(  # type: ignore[no-untyped-def]
    browser, live_server, people, screenshots, settings
):
    settings.AXES_FAILURE_LIMIT = 3
    base = live_server.url
    context = browser.new_context()
    page = context.new_page()
    bea = people["bea"]
    page.goto(f"{base}/login/")
    page.get_by_label("User name").fill("bea")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Code from your authenticator app").fill(code_for(bea, wrong=True))
    page.get_by_role("button", name="Verify").click()
    assert page.get_by_role("alert").inner_text().startswith("That code is not right")
    page.screenshot(path=screenshots / "sign-in-wrong-code.png")
    page.goto(f"{base}/designations/")
    assert "/login/code/" in page.url  # still not past the code step

    other = browser.new_context()
    c_page = other.new_page()
    for _ in range(3):
        c_page.goto(f"{base}/login/")
        c_page.get_by_label("User name").fill("cai")
        c_page.get_by_label("Password").fill("not the password")
        c_page.get_by_role("button", name="Sign in").click()
    c_page.goto(f"{base}/login/")
    c_page.get_by_label("User name").fill("cai")
    c_page.get_by_label("Password").fill(PASSWORD)
    c_page.get_by_role("button", name="Sign in").click()
    assert "locked" in c_page.get_by_role("heading").first.inner_text()
    c_page.screenshot(path=screenshots / "sign-in-locked.png")
    context.close()
    other.close()
