"""Every portal page passes axe-core's WCAG 2.1 A/AA rules, fits a phone's width without
sideways scrolling, and is usable by keyboard: a skip link first, a visible focus ring on
everything that takes focus, forms filled and sent without a mouse."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

from agencies.models import Role, User
from agencies.services import sharing_group_create, user_create
from designations.models import Regime, SubjectLink
from designations.proposals import proposal_create
from designations.screening_jobs import job_create, job_run
from designations.services import designation_amend, designation_create, note_create
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)
WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture
def world(agency_a, agency_b):  # type: ignore[no-untyped-def]
    ada = user_create(username="ada", agency=agency_a, role=Role.AGENCY_ADMIN, password=PASSWORD)
    bea = user_create(username="bea", agency=agency_b, role=Role.LIAISON, password=PASSWORD)
    regime = Regime.objects.create(owner=agency_a, code="R1", name="Regime of A")
    designation = designation_create(
        actor=ada,
        regime=regime,
        data={
            "name": "Orlan Maritime Holdings",
            "subject_kind": "organisation",
            "reference_number": "A.1",
            "reasons": "Ships **oil** for the regime.",
            "names": [{"kind": "alias", "full_name": "Orlan Shipping"}],
        },
        marking="CLEAR",
    )
    designation = designation_amend(
        actor=ada,
        designation=designation,
        changes={"reference_number": "A.2"},
        reason="Renumbered.",
    )
    note_create(actor=ada, designation=designation, title="Port calls", body="Seen in *Tartus*.")
    proposal_create(
        actor=bea,
        designation=designation,
        kind="amend",
        changes={"reasons": "Also ships arms."},
        reason="Our evidence.",
    )
    # The same subject listed by B: one certain link shown on the page, one to review.
    Regime.objects.create(owner=agency_b, code="RB", name="Regime of B")
    publisher_b = user_create(
        username="bob_pub", agency=agency_b, role=Role.PUBLISHER, password=PASSWORD
    )
    for name, status in (("ORLAN MARITIME HOLDINGS", "linked"), ("Orlan Maritim", "candidate")):
        twin = designation_create(
            actor=publisher_b,
            regime=Regime.objects.get(code="RB"),
            data={"name": name, "subject_kind": "organisation"},
            marking="CLEAR",
        )
        SubjectLink.objects.create(
            left=designation,
            right=twin,
            method="name",
            score=0.95,
            status=status,
            explanation={"names": [designation.name, name], "name_score": 95.0},
        )
    group = sharing_group_create(name="Task force", members=[agency_a, agency_b])
    group.convener = agency_a
    group.save(update_fields=["convener"])
    job = job_create(actor=ada, file_name="payments.csv", rows=[{"name": "Orlan Maritime"}])
    job_run(job)
    return {"ada": ada, "designation": designation, "job": job}


def pages(designation, job) -> list[str]:  # type: ignore[no-untyped-def]
    detail = designation.get_absolute_url()
    return [
        "/",
        "/designations/",
        "/designations/?q=orlan&sort=-updated",
        detail,
        f"{detail}diff/?from=1&to=2",
        f"{detail}amend/",
        "/designations/new/",
        "/designations/proposals/",
        "/designations/links/",
        "/screening/",
        "/divergence/",
        f"/screening/jobs/{job.pk}/",
        f"/designations/notes/{designation.notes.get().pk}/",
        "/sharing-groups/",
        "/account/",
        "/audit/",
        "/api-clients/",
        "/designations/00000000-0000-0000-0000-000000000000/",  # the friendly 404
    ]


def sign_in(page, base: str, username: str = "ada") -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/login/")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")  # the form is sent from the keyboard
    page.wait_for_url(f"{base}/")


def violations(page) -> list[str]:  # type: ignore[no-untyped-def]
    results = Axe().run(page, options=WCAG)
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
    ]


def problems(page) -> list[str]:  # type: ignore[no-untyped-def]
    found = violations(page)
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    if overflow > 0:
        found.append(f"scrolls sideways by {overflow}px")
    return found


def test_every_page_passes_axe_at_desktop_and_phone_width(  # type: ignore[no-untyped-def]
    browser, live_server, world, screenshots
) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    base = live_server.url
    page.goto(f"{base}/login/")
    found = {f"/login/ @{DESKTOP['width']}": violations(page)}
    # The check is live: an unlabelled field added to the page is reported.
    page.evaluate("document.querySelector('main').append(document.createElement('input'))")
    assert any(problem.startswith("label ") for problem in violations(page))
    sign_in(page, base)
    for viewport in (DESKTOP, PHONE):
        page.set_viewport_size(viewport)
        for path in pages(world["designation"], world["job"]):
            page.goto(f"{base}{path}")
            found[f"{path} @{viewport['width']}"] = problems(page)
            if viewport is PHONE and path == world["designation"].get_absolute_url():
                page.screenshot(path=screenshots / "phone-designation-detail.png")
    # Screening answers a POST (names stay out of addresses): its results, filled in.
    page.goto(f"{base}/screening/")
    page.get_by_label("Name:", exact=True).fill("Orlan Maritime Holding")
    with page.expect_navigation():
        page.get_by_role("button", name="Screen", exact=True).click()
    assert "Orlan Maritime Holdings" in page.content()
    found["/screening/ (results)"] = problems(page)
    # The sync status page is for site administrators.
    User.objects.create_superuser("root", password=PASSWORD)
    context.clear_cookies()
    sign_in(page, base, "root")
    for viewport in (DESKTOP, PHONE):
        page.set_viewport_size(viewport)
        page.goto(f"{base}/sync/")
        found[f"/sync/ @{viewport['width']}"] = problems(page)
    context.close()
    assert {key: problems for key, problems in found.items() if problems} == {}


def test_the_keyboard_alone_reaches_and_uses_the_portal(browser, live_server, world) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport=DESKTOP)
    base = live_server.url
    sign_in(page, base)
    page.goto(f"{base}/designations/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Skip to content"
    page.keyboard.press("Enter")
    page.wait_for_url("**#main")
    page.keyboard.press("Tab")  # the next stop is in the content, past the header
    assert page.evaluate("document.querySelector('main').contains(document.activeElement)")

    # Everything that takes focus, from the top of the page, shows where the focus is.
    page.goto(f"{base}/designations/")
    unringed, reached = [], 0
    for _ in range(40):
        page.keyboard.press("Tab")
        style = page.evaluate(
            "(() => { const e = document.activeElement, s = getComputedStyle(e);"
            " return [e.tagName + ' ' + (e.textContent || e.name || '').trim().slice(0, 30),"
            " s.outlineStyle, s.outlineWidth]; })()"
        )
        if style[0].startswith("BODY"):
            break  # past the last control: the focus left the page
        if style[1] == "none" or style[2] == "0px":
            unringed.append(style[0])
        reached += 1
    assert unringed == [] and reached > 15

    # Search with the keyboard: focus the search field by its label, type, Enter, then open
    # the result with Tab and Enter.
    page.get_by_label("Name, alias or reference").focus()
    page.keyboard.type("Orlan Shipping")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    link = page.get_by_role("link", name="Orlan Maritime Holdings")
    link.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}{world['designation'].get_absolute_url()}")

    # Add a note without the mouse: open the folded form, then Tab through labelled fields.
    page.locator("summary", has_text="Add a note").focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.labels[0].textContent") == "Title:"
    page.keyboard.type("Keyboard note")
    page.keyboard.press("Tab")
    page.keyboard.type("Written *without* a mouse.")
    page.keyboard.press("Tab")  # the marking
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Add note"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert world["designation"].notes.filter(title="Keyboard note").exists()
    page.close()
