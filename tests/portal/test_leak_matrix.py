"""The leak matrix: every route, requested as every kind of person, shows exactly what the rules
allow: lists, counts, search hits, filters, details, notes, and 404 (not 403) for objects one
may not know exist.

A route joins the matrix by being registered once in ROUTES; a route that is not registered
fails `test_every_route_is_in_the_leak_matrix`, so no page or endpoint is added unchecked.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import json
from collections.abc import Callable

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from agencies.api_clients import ClientPrincipal
from designations.models import AmendmentProposal, Attachment, Designation, IntelligenceNote
from sharing.models import AuditEntry, Marking
from tests.world import (
    TOKEN,
    World,
    build_world,
    expected_note_visible,
    expected_to_attach,
    expected_to_download,
    expected_to_see,
)

pytestmark = pytest.mark.django_db

LIST = reverse("portal:designation-list")


def client_for(world: World, username: str) -> Client:
    client = Client()
    user = world.users[username]
    if not isinstance(user, AnonymousUser):
        client.force_login(user)
    return client


def lacks_scope(world: World, username: str, scope: str) -> bool:
    """An API client without the scope a write needs: refused (403) before anything is
    looked up, so the answer says nothing about the object."""
    user = world.users[username]
    return isinstance(user, ClientPrincipal) and not user.has_scope(scope)


def anonymous(world: World, username: str) -> bool:
    return isinstance(world.users[username], AnonymousUser)


def assert_sent_to_login(response, login_url: str = "/login/") -> None:
    assert response.status_code == 302 and response.url.startswith(login_url), response


def visible_names(world: World, username: str) -> set[str]:
    return {spec.designation.name for spec in world.specs if expected_to_see(world, username, spec)}


# --- probes: one per route ---------------------------------------------------------------


def probe_home(world: World, username: str, client: Client) -> None:
    """The dashboard lists what is new: only what the person may see."""
    response = client.get(reverse("home"))
    if anonymous(world, username):
        assert_sent_to_login(response)
        return
    assert response.status_code == 200, username
    shown = {d.pk for d in response.context["board"].changed}
    for spec in world.specs:
        if not expected_to_see(world, username, spec):
            assert spec.designation.pk not in shown, (username, spec.designation.name)
            assert spec.designation.name not in response.text, (username, spec.designation.name)


def probe_designation_list(world: World, username: str, client: Client) -> None:
    if anonymous(world, username):
        assert_sent_to_login(client.get(LIST))
        return
    expected = visible_names(world, username)

    def shown(**params: str) -> tuple[set[str], int]:
        page = client.get(LIST, params).context["page"]
        names = {d.name for d in page.object_list}
        return names, page.paginator.count

    assert shown() == (expected, len(expected)), username
    assert shown(q=TOKEN) == (expected, len(expected)), username
    assert shown(q=TOKEN, agency="A") == (expected, len(expected)), username
    assert shown(q=TOKEN, agency="B") == (set(), 0)
    assert shown(q="amber")[1] == sum("AMBER" in name for name in expected)
    page = client.get(LIST)
    agencies = {a.code for a in page.context["agencies"]}
    assert agencies == ({"A"} if expected else set()), username
    regimes = list(page.context["regimes"])
    assert len(regimes) == (1 if expected else 0)
    # The count on the page is the visible count, not the table's.
    assert f"{len(expected)} designation".encode() in page.content


def probe_designation_detail(world: World, username: str, client: Client) -> None:
    for spec in world.specs:
        response = client.get(spec.designation.get_absolute_url())
        if anonymous(world, username):
            assert_sent_to_login(response)
        elif expected_to_see(world, username, spec):
            assert response.status_code == 200, (username, spec.designation.name)
        else:
            assert response.status_code == 404, (username, spec.designation.name)
    for key, note in world.notes.items():
        response = client.get(world.note_about[key].designation.get_absolute_url())
        if response.status_code != 200:
            continue
        shown = note.title.encode() in response.content
        assert shown == expected_note_visible(world, username, key), (username, key)


def _probe_sharing_action(route: str, data: dict[str, str]) -> Callable:
    def probe(world: World, username: str, client: Client) -> None:
        user = world.users[username]
        for spec in world.specs:
            url = reverse(route, args=[spec.designation.pk])
            before = spec.designation.__class__.objects.get(pk=spec.designation.pk).version
            response = client.post(url, data)
            if anonymous(world, username):
                assert_sent_to_login(response)
            elif not expected_to_see(world, username, spec):
                assert response.status_code == 404, (username, spec.designation.name)
            elif user.is_superuser or username == "a_admin":
                assert response.status_code == 302, (username, spec.designation.name)
            else:
                assert response.status_code == 403, (username, spec.designation.name)
            # The probe's payload is refused by validation: nothing changes for anyone.
            after = spec.designation.__class__.objects.get(pk=spec.designation.pk).version
            assert after == before

    return probe


def probe_note_detail(world: World, username: str, client: Client) -> None:
    for key, note in world.notes.items():
        response = client.get(note.get_absolute_url())
        if anonymous(world, username):
            assert_sent_to_login(response)
        elif expected_note_visible(world, username, key):
            assert response.status_code == 200, (username, key)
            assert note.body.encode() in response.content
        else:
            assert response.status_code == 404, (username, key)


def _probe_note_sharing_action(route: str, data: dict[str, str]) -> Callable:
    admins = {"A": "a_admin", "B": "b_admin"}

    def probe(world: World, username: str, client: Client) -> None:
        user = world.users[username]
        for key, note in world.notes.items():
            response = client.post(reverse(route, args=[note.pk]), data)
            if anonymous(world, username):
                assert_sent_to_login(response)
            elif not expected_note_visible(world, username, key):
                assert response.status_code == 404, (username, key)
            elif user.is_superuser or admins.get(note.owner.code) == username:
                assert response.status_code == 302, (username, key)
            else:
                assert response.status_code == 403, (username, key)
            assert type(note).objects.get(pk=note.pk).version == note.version

    return probe


def probe_attachment_download(world: World, username: str, client: Client) -> None:
    specs = {spec.designation.name: spec for spec in world.specs}
    for name, attachment in world.attachments.items():
        response = client.get(attachment.get_absolute_url())
        if anonymous(world, username):
            assert_sent_to_login(response)
        elif expected_to_download(world, username, specs[name]):
            assert response.status_code == 200, (username, name)
            assert b"".join(response.streaming_content) == name.encode() * 50
        else:
            assert response.status_code == 404, (username, name)
        # Listed on the designation page exactly for those who may download it.
        page = client.get(specs[name].designation.get_absolute_url())
        if page.status_code == 200:
            listed = attachment.get_absolute_url().encode() in page.content
            assert listed == expected_to_download(world, username, specs[name])


def probe_designation_attach(world: World, username: str, client: Client) -> None:
    for spec in world.specs:
        # No file in the form: allowed people get the form error, nothing is stored.
        response = client.post(reverse("portal:designation-attach", args=[spec.designation.pk]))
        if anonymous(world, username):
            assert_sent_to_login(response)
        elif not expected_to_see(world, username, spec):
            assert response.status_code == 404, (username, spec.designation.name)
        elif expected_to_attach(world, username, spec):
            assert response.status_code == 302, (username, spec.designation.name)
        else:
            assert response.status_code == 403, (username, spec.designation.name)
    assert Attachment.objects.count() == len(world.attachments)


def probe_designation_note_add(world: World, username: str, client: Client) -> None:
    notes_before = IntelligenceNote.objects.count()
    for spec in world.specs:
        # An empty form: allowed people are sent back with the form's error, nothing written.
        response = client.post(reverse("portal:designation-note-add", args=[spec.designation.pk]))
        if anonymous(world, username):
            assert_sent_to_login(response)
        elif not expected_to_see(world, username, spec):
            assert response.status_code == 404, (username, spec.designation.name)
        else:
            assert response.status_code == 302, (username, spec.designation.name)
    assert IntelligenceNote.objects.count() == notes_before


def probe_designation_amend(world: World, username: str, client: Client) -> None:
    versions = dict(Designation.objects.values_list("pk", "version"))
    for spec in world.specs:
        designation = spec.designation
        page = client.get(reverse("portal:designation-amend", args=[designation.pk]))
        # An empty delisting: refused for want of a reason, or of the right to.
        delist = client.post(reverse("portal:designation-delist", args=[designation.pk]))
        if anonymous(world, username):
            assert_sent_to_login(page)
            assert_sent_to_login(delist)
        elif not expected_to_see(world, username, spec):
            assert page.status_code == delist.status_code == 404, (username, designation.name)
        elif expected_to_attach(world, username, spec):  # the change level, as attaching
            assert page.status_code == 200 and delist.status_code == 302, username
        else:
            assert page.status_code == delist.status_code == 403, (username, designation.name)
    assert dict(Designation.objects.values_list("pk", "version")) == versions  # nothing written


def probe_designation_diff(world: World, username: str, client: Client) -> None:
    for spec in world.specs:
        url = reverse("portal:designation-diff", args=[spec.designation.pk])
        response = client.get(url, {"from": 1, "to": 1})
        if anonymous(world, username):
            assert_sent_to_login(response)
        elif expected_to_see(world, username, spec):
            assert response.status_code == 200, (username, spec.designation.name)
        else:
            assert response.status_code == 404, (username, spec.designation.name)
            assert spec.designation.name not in response.text


def probe_portal_proposals(world: World, username: str, client: Client) -> None:
    """Proposing needs sight of the designation; the inbox lists only proposals between the
    person's agency and another."""
    before = AmendmentProposal.objects.count()
    for spec in world.specs:
        # No reason: nothing is sent, whoever asks.
        response = client.post(
            reverse("portal:designation-propose", args=[spec.designation.pk]),
            {"kind": "dispute", "field": "name"},
        )
        if anonymous(world, username):
            assert_sent_to_login(response)
        elif expected_to_see(world, username, spec):
            assert response.status_code == 302, (username, spec.designation.name)
        else:
            assert response.status_code == 404, (username, spec.designation.name)
    assert AmendmentProposal.objects.count() == before
    inbox = client.get(reverse("portal:proposal-inbox"))
    if anonymous(world, username):
        assert_sent_to_login(inbox)
        return
    assert inbox.status_code == 200
    user = world.users[username]
    for proposal, _form in inbox.context["to_decide"]:
        assert proposal.designation.owner_id == user.agency_id, username
    for proposal in inbox.context["sent"]:
        assert proposal.proposer_id == user.agency_id, username


def probe_my_account(world: World, username: str, client: Client) -> None:
    for route in ("my-account", "sharing-groups"):
        response = client.get(reverse(route))
        if anonymous(world, username):
            assert_sent_to_login(response)
            continue
        assert response.status_code == 200, (route, username)
    if anonymous(world, username):
        return
    user = world.users[username]
    rows = client.get(reverse("sharing-groups")).context["rows"]
    if not user.is_superuser:
        assert all(row["group"].members.filter(pk=user.agency_id).exists() for row in rows)
    # Another person's name appears on my page only where it is mine.
    page = client.get(reverse("my-account")).text
    assert f"<dd>{user.username}</dd>" in page


def probe_sharing_group_change(world: World, username: str, client: Client) -> None:
    """Membership of a group kept by site administrators changes only in their hands; a
    group one's agency is not in is not even found."""
    group, agency_c = world.group_ab, world.agencies["C"]
    user = world.users[username]
    for route, changed in (("sharing-group-add", True), ("sharing-group-remove", False)):
        response = client.post(reverse(route, args=[group.pk]), {"agency": agency_c.pk})
        in_group = group.members.filter(pk=agency_c.pk).exists()
        if anonymous(world, username):
            assert_sent_to_login(response)
        elif user.is_superuser:
            assert response.status_code == 302 and in_group == changed, (route, username)
            continue
        elif user.agency_id in {world.agencies["A"].pk, world.agencies["B"].pk}:
            assert response.status_code == 403, (route, username)
        else:
            assert response.status_code == 404, (route, username)
        assert not in_group, (route, username)


def probe_subject_links(world: World, username: str, client: Client) -> None:
    """A link between two designations is shown (on the detail page and in the review queue)
    and judged only by those who may see both; the others are not told it exists."""
    from designations.models import LinkStatus, SubjectLink

    clear = next(s for s in world.specs if s.marking == Marking.CLEAR and s.grant == "none")
    links = []
    for spec in world.specs:
        if spec is clear:
            continue
        link, _ = SubjectLink.objects.update_or_create(
            left=clear.designation,
            right=spec.designation,
            defaults={"method": "name", "score": 0.9, "status": LinkStatus.CANDIDATE},
        )
        links.append((spec, link))
    page = client.get(reverse("portal:link-review"))
    user = world.users[username]
    # Links are judged by the agencies whose listings they join (all of these are A's), and
    # only between designations the person may see both of.
    judges = getattr(user, "agency_id", None) == world.agencies["A"].pk
    if anonymous(world, username):
        assert_sent_to_login(page)
    else:
        listed = {row[0].pk for row in page.context["rows"]}
        assert listed == {
            link.pk for spec, link in links if judges and expected_to_see(world, username, spec)
        }, username
    detail = client.get(clear.designation.get_absolute_url())
    for spec, link in links:
        shown = detail.status_code == 200 and str(spec.designation.pk) in detail.text
        assert shown == expected_to_see(world, username, spec), (username, spec.grant)
        prefix = f"link-{link.pk}"
        response = client.post(
            reverse("portal:link-decision", args=[link.pk]),
            {f"{prefix}-decision": "confirm", f"{prefix}-reason": "probe"},
        )
        link.refresh_from_db()
        if anonymous(world, username):
            assert_sent_to_login(response)
        elif not (judges and expected_to_see(world, username, spec)):
            assert response.status_code == 404, (username, spec.marking, spec.grant)
        if link.status == LinkStatus.CONFIRMED:
            assert judges and expected_to_see(world, username, spec)
    SubjectLink.objects.all().delete()


def probe_review_close(world: World, username: str, client: Client) -> None:
    """A review task is agency A's: only A's publishers and admins close it; A's liaisons may
    not; nobody else learns it exists."""
    from designations.models import ReviewTask

    specs = world.specs
    task = ReviewTask.objects.create(
        agency=world.agencies["A"],
        designation=specs[0].designation,
        cause=specs[1].designation,
        reason="probe",
    )
    response = client.post(
        reverse("portal:review-close", args=[task.pk]), {"outcome": "closed by probe"}
    )
    task.refresh_from_db()
    user = world.users[username]
    if anonymous(world, username):
        assert_sent_to_login(response)
    elif username in {"a_admin", "a_publisher"}:
        assert response.status_code == 302 and task.closed_at is not None, username
    elif username == "a_liaison":
        assert response.status_code == 403, username
    else:
        assert response.status_code == 404, username
    assert (task.closed_at is not None) == (username in {"a_admin", "a_publisher"})
    if not anonymous(world, username) and user.agency_id != world.agencies["A"].pk:
        assert "probe" not in client.get(reverse("home")).text
    task.delete()


def probe_designation_new(world: World, username: str, client: Client) -> None:
    response = client.get(reverse("portal:designation-new"))
    user = world.users[username]
    if anonymous(world, username):
        assert_sent_to_login(response)
    elif not getattr(user, "may_publish", False):
        assert response.status_code == 403, username
    else:
        assert response.status_code == 200, username
        # Only the agency's own regimes are offered.
        offered = set(response.context["form"].fields["regime"].queryset)
        assert all(regime.owner_id == user.agency_id for regime in offered)


def probe_note_attach(world: World, username: str, client: Client) -> None:
    user = world.users[username]
    for key, note in world.notes.items():
        response = client.post(reverse("portal:note-attach", args=[note.pk]))
        if anonymous(world, username):
            assert_sent_to_login(response)
        elif not expected_note_visible(world, username, key):
            assert response.status_code == 404, (username, key)
        elif user.agency_id == note.owner_id:
            assert response.status_code == 302, (username, key)
        else:
            assert response.status_code == 403, (username, key)
    assert Attachment.objects.count() == len(world.attachments)


def _probe_api_attachment_read(route: str) -> Callable:
    def probe(world: World, username: str, client: Client) -> None:
        specs = {spec.designation.name: spec for spec in world.specs}
        for name, attachment in world.attachments.items():
            response = client.get(reverse(route, args=[attachment.pk]))
            if anonymous(world, username):
                assert response.status_code == 401  # no credentials: challenged
            elif expected_to_download(world, username, specs[name]):
                assert response.status_code == 200, (username, name)
            else:
                assert response.status_code == 404, (username, name)
                assert response["Content-Type"] == "application/problem+json"

    return probe


def probe_api_designation_attachments(world: World, username: str, client: Client) -> None:
    # A 1-byte file over a 0-byte limit: allowed people get 413, nothing is ever stored.
    with override_settings(ATTACHMENT_MAX_BYTES=0):
        for spec in world.specs:
            response = client.post(
                reverse("api:designation-attachments", args=[spec.designation.pk]),
                data=b"x",
                content_type="application/octet-stream",
            )
            if anonymous(world, username):
                assert response.status_code == 401
            elif lacks_scope(world, username, "write"):
                assert response.status_code == 403, (username, spec.designation.name)
            elif not expected_to_see(world, username, spec):
                assert response.status_code == 404, (username, spec.designation.name)
            elif expected_to_attach(world, username, spec):
                assert response.status_code == 413, (username, spec.designation.name)
            else:
                assert response.status_code == 403, (username, spec.designation.name)
    assert Attachment.objects.count() == len(world.attachments)


def probe_api_note_attachments(world: World, username: str, client: Client) -> None:
    user = world.users[username]
    with override_settings(ATTACHMENT_MAX_BYTES=0):
        for key, note in world.notes.items():
            response = client.post(
                reverse("api:note-attachments", args=[note.pk]),
                data=b"x",
                content_type="application/octet-stream",
            )
            if anonymous(world, username):
                assert response.status_code == 401
            elif lacks_scope(world, username, "write"):
                assert response.status_code == 403, (username, key)
            elif not expected_note_visible(world, username, key):
                assert response.status_code == 404, (username, key)
            elif user.agency_id == note.owner_id:
                assert response.status_code == 413, (username, key)
            else:
                assert response.status_code == 403, (username, key)
    assert Attachment.objects.count() == len(world.attachments)


def probe_api_screen(world: World, username: str, client: Client) -> None:
    """Screening finds exactly the designations one may see, each under its own name."""
    subjects = [{"name": spec.designation.name} for spec in world.specs]
    response = client.post(
        reverse("api:screen"), {"subjects": subjects}, content_type="application/json"
    )
    if anonymous(world, username):
        assert response.status_code == 401
        return
    assert response.status_code == 200, response.content
    for spec, result in zip(world.specs, response.json()["results"], strict=True):
        found = {match["designation"] for match in result["matches"]}
        allowed = {
            str(s.designation.pk) for s in world.specs if expected_to_see(world, username, s)
        }
        assert found <= allowed, (username, spec.marking, spec.grant)
        seen = expected_to_see(world, username, spec) and spec.designation.status == "active"
        assert (str(spec.designation.pk) in found) == seen, (username, spec.marking, spec.grant)


def probe_screening(world: World, username: str, client: Client) -> None:
    """The screening page shows only designations one may see; a batch job, its progress and
    its results are its requester's alone."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from designations.models import ScreeningJob
    from designations.screening_jobs import job_create, job_run

    allowed = {s.designation.pk for s in world.specs if expected_to_see(world, username, s)}
    for spec in world.specs[:6]:
        page = client.post(reverse("screening"), {"name": spec.designation.name})
        if anonymous(world, username):
            assert_sent_to_login(page)
            break
        found = {m.designation.pk for m in page.context["matches"]}
        assert found <= allowed, (username, spec.marking, spec.grant)
    owner = world.users["a_liaison"]
    job = job_create(
        actor=owner, file_name="a.csv", rows=[{"name": s.designation.name} for s in world.specs]
    )
    job_run(job)
    for route in ("screening-job", "screening-job-progress", "screening-job-results"):
        response = client.get(reverse(route, args=[job.pk]))
        if anonymous(world, username):
            assert_sent_to_login(response)
        elif username == "a_liaison":
            assert response.status_code == 200, route
        else:
            assert response.status_code == 404, (route, username)
    upload = SimpleUploadedFile("b.csv", b"Name\nSomeone\n")
    response = client.post(reverse("screening-job-new"), {"file": upload})
    if anonymous(world, username):
        assert_sent_to_login(response)
        assert ScreeningJob.objects.count() == 1
    else:
        mine = ScreeningJob.objects.exclude(pk=job.pk).get()
        assert mine.requested_by == world.users[username]
    ScreeningJob.objects.all().delete()


def probe_divergence(world: World, username: str, client: Client) -> None:
    """The divergence report (page, CSV, REST) is built from what one may see only."""
    from designations.models import Designation, Regime, SubjectLink

    # B lists, publicly, the subject each of A's designations is about: one subject whose
    # listings each reader sees only in part.
    regime, _ = Regime.objects.get_or_create(owner=world.agencies["B"], code="B", name="B")
    twin, _ = Designation.objects.get_or_create(
        owner=world.agencies["B"],
        regime=regime,
        name="B's twin listing",
        defaults={"marking": Marking.CLEAR, "status": "active", "subject_kind": "person"},
    )
    for spec in world.specs:
        SubjectLink.objects.get_or_create(
            left=twin,
            right=spec.designation,
            defaults={"method": "identifier", "score": 1.0, "status": "linked"},
        )
    hidden = {str(s.designation.pk) for s in world.specs if not expected_to_see(world, username, s)}
    api = client.get(reverse("api:divergence"))
    page = client.get(reverse("divergence"))
    csv_response = client.get(reverse("divergence-csv"))
    if anonymous(world, username):
        assert api.status_code == 401
        assert_sent_to_login(page)
        assert_sent_to_login(csv_response)
    else:
        listed = {
            str(item["designation"]) for s in api.json()["subjects"] for item in s["listings"]
        }
        assert not listed & hidden, username
        if getattr(world.users[username], "agency_id", None):
            assert str(twin.pk) in listed, username  # the report is not empty
        text = b"".join(csv_response.streaming_content).decode("utf-8-sig") + page.text
        assert not any(pk in text for pk in hidden), username
    SubjectLink.objects.all().delete()
    twin.delete()  # the world is shared with the other probes


def probe_api_me(world: World, username: str, client: Client) -> None:
    response = client.get(reverse("api:me"))
    if anonymous(world, username):
        assert response.status_code == 401
        return
    body = response.json()
    user = world.users[username]
    assert body["name"] == user.get_username()
    assert body["agency"] == (
        {"code": user.agency.code, "name": user.agency.name} if user.agency else None
    )


def probe_api_designation_list(world: World, username: str, client: Client) -> None:
    if anonymous(world, username):
        assert client.get(reverse("api:designation-list")).status_code == 401
        return
    for params in [f"q={TOKEN}", "", f"q={TOKEN}&agency=A"]:
        names: list[str] = []
        url = f"{reverse('api:designation-list')}?{params}&page_size=7"
        while url:
            page = client.get(url).json()
            names += [row["name"] for row in page["results"]]
            url = page["next"]
        assert len(names) == len(set(names))  # no row twice across pages
        assert set(names) == visible_names(world, username), (username, params)
    empty = client.get(reverse("api:designation-list"), {"agency": "B"}).json()
    assert empty["results"] == []
    # A create with a regime that is not the caller's: refused, nothing written.
    count = type(world.specs[0].designation).objects.count()
    response = client.post(
        reverse("api:designation-list"),
        {"regime": "NOPE", "name": "x", "subject_kind": "person"},
        content_type="application/json",
    )
    assert response.status_code == (403 if lacks_scope(world, username, "write") else 400)
    assert type(world.specs[0].designation).objects.count() == count


def probe_api_designation_detail(world: World, username: str, client: Client) -> None:
    for spec in world.specs:
        url = reverse("api:designation-detail", args=[spec.designation.pk])
        response = client.get(url)
        if anonymous(world, username):
            assert response.status_code == 401
        elif expected_to_see(world, username, spec):
            assert response.status_code == 200, (username, spec.designation.name)
            assert response.json()["name"] == spec.designation.name
        else:
            assert response.status_code == 404, (username, spec.designation.name)
        before = type(spec.designation).objects.get(pk=spec.designation.pk).version
        response = client.patch(
            url, {"reasons": "probe", "reason": "probe"}, content_type="application/json"
        )
        _assert_change_refused(world, username, spec, response, before)


def _assert_change_refused(world: World, username: str, spec, response, before: int) -> None:  # type: ignore[no-untyped-def]
    """A write without If-Match: whoever may change it is asked for the precondition (428),
    nobody else learns more than the read path tells; nothing changes."""
    if anonymous(world, username):
        assert response.status_code == 401
    elif lacks_scope(world, username, "write"):
        assert response.status_code == 403, (username, spec.designation.name)
    elif not expected_to_see(world, username, spec):
        assert response.status_code == 404, (username, spec.designation.name)
    elif expected_to_attach(world, username, spec):  # the change level
        assert response.status_code == 428, (username, spec.designation.name)
    else:
        assert response.status_code == 403, (username, spec.designation.name)
    assert type(spec.designation).objects.get(pk=spec.designation.pk).version == before


def probe_api_designation_delist(world: World, username: str, client: Client) -> None:
    for spec in world.specs:
        url = reverse("api:designation-delist", args=[spec.designation.pk])
        before = type(spec.designation).objects.get(pk=spec.designation.pk).version
        response = client.post(url, {"reason": "probe"}, content_type="application/json")
        _assert_change_refused(world, username, spec, response, before)


def probe_api_clients(world: World, username: str, client: Client) -> None:
    from agencies.api_clients import api_client_create
    from agencies.models import ApiClient

    if not ApiClient.objects.exists():
        for admin in ("a_admin", "b_admin"):
            api_client_create(
                actor=world.users[admin],
                name=f"system of {admin}",
                scopes=["read"],
                expires_at=timezone.now() + dt.timedelta(days=9),
            )
    response = client.get(reverse("api-clients"))
    if anonymous(world, username):
        assert_sent_to_login(response)
    elif username in {"a_admin", "b_admin"}:
        agency = world.users[username].agency
        assert [c.agency for c in response.context["clients"]] == [agency]
        assert response["Cache-Control"] == "no-store"
    else:
        assert response.status_code == 403


def probe_api_client_revoke(world: World, username: str, client: Client) -> None:
    from agencies.api_clients import api_client_create
    from agencies.models import ApiClient

    target, _token = api_client_create(
        actor=world.users["a_admin"],
        name=f"revocable by {username}",
        scopes=["read"],
        expires_at=timezone.now() + dt.timedelta(days=9),
    )
    response = client.post(reverse("api-client-revoke", args=[target.pk]))
    revoked = ApiClient.objects.get(pk=target.pk).revoked_at is not None
    if anonymous(world, username):
        assert_sent_to_login(response)
    elif username == "a_admin":
        assert response.status_code == 302 and revoked
    elif username == "b_admin":
        assert response.status_code == 404 and not revoked  # another agency's: not found
    else:
        assert response.status_code == 403 and not revoked


def _probe_reference_list(route: str, expected: Callable[[World], set[str]], key: str):  # type: ignore[no-untyped-def]
    def probe(world: World, username: str, client: Client) -> None:
        response = client.get(reverse(route))
        if anonymous(world, username):
            assert response.status_code == 401
            return
        assert {row[key] for row in response.json()} == expected(world)

    return probe


def _grant_targets(world: World):  # type: ignore[no-untyped-def]

    for spec in world.specs:
        yield "designation", spec.designation, spec, lambda s=spec: s
    for key, note in world.notes.items():
        yield "note", note, world.note_about[key], key


def _sees(world: World, username: str, kind: str, spec, key) -> bool:  # type: ignore[no-untyped-def]
    if kind == "designation":
        return expected_to_see(world, username, spec)
    return expected_note_visible(world, username, key)


def _owner_code(obj) -> str:  # type: ignore[no-untyped-def]
    return type(obj).objects.select_related("owner").get(pk=obj.pk).owner.code


def _may_share(world: World, username: str, owner: bool) -> bool:
    user = world.users[username]
    if isinstance(user, ClientPrincipal):
        return owner and user.has_scope("grants")
    return user.is_superuser or (owner and user.role == "agency_admin")


def probe_api_grants(world: World, username: str, client: Client) -> None:
    """Listing grants: the owner agency (and site admins); granting with a bad grantee:
    refused before anything is written."""
    user = world.users[username]
    for kind, obj, spec, key in _grant_targets(world):
        url = reverse(f"api:{kind}-grants", args=[obj.pk])
        listed = client.get(url)
        posted = client.post(
            url, {"grantee": "agency:NOPE", "level": "view"}, content_type="application/json"
        )
        sees = _sees(world, username, kind, spec, key)
        owner = bool(getattr(user, "agency", None)) and user.agency.code == _owner_code(obj)
        if anonymous(world, username):
            assert listed.status_code == posted.status_code == 401
        elif not sees:
            assert listed.status_code == 404, (username, obj)
            assert posted.status_code == (403 if lacks_scope(world, username, "grants") else 404)
        else:
            assert listed.status_code == (200 if owner or user.is_superuser else 403)
            assert posted.status_code == (400 if _may_share(world, username, owner) else 403)


def probe_api_grant(world: World, username: str, client: Client) -> None:
    user = world.users[username]
    for kind, obj, spec, key in _grant_targets(world):
        response = client.delete(reverse(f"api:{kind}-grant", args=[obj.pk, "agency:NOPE"]))
        sees = _sees(world, username, kind, spec, key)
        owner = bool(getattr(user, "agency", None)) and user.agency.code == _owner_code(obj)
        if anonymous(world, username):
            assert response.status_code == 401
        elif lacks_scope(world, username, "grants"):
            assert response.status_code == 403, (username, obj)
        elif not sees:
            assert response.status_code == 404, (username, obj)
        else:
            may_share = _may_share(world, username, owner)
            assert response.status_code == (404 if may_share else 403), (username, obj)


def probe_api_notes(world: World, username: str, client: Client) -> None:
    expected = {key for key in world.notes if expected_note_visible(world, username, key)}
    response = client.get(reverse("api:note-list"))
    if anonymous(world, username):
        assert response.status_code == 401
    else:
        titles = {row["title"] for row in response.json()["results"]}
        assert titles == {world.notes[key].title for key in expected}, username
    for key, note in world.notes.items():
        detail = client.get(reverse("api:note-detail", args=[note.pk]))
        if anonymous(world, username):
            assert detail.status_code == 401
        else:
            assert detail.status_code == (200 if key in expected else 404), (username, key)
    # Writing a note about a designation one may not comment on (or see): refused.
    hidden = next(s for s in world.specs if s.designation.name == "AMBER shared with none")
    before = type(next(iter(world.notes.values()))).objects.count()
    created = client.post(
        reverse("api:note-list"),
        {"designation": str(hidden.designation.pk), "title": "t", "body": "b"},
        content_type="application/json",
    )
    if anonymous(world, username):
        assert created.status_code == 401
    elif lacks_scope(world, username, "write"):
        assert created.status_code == 403
    elif not expected_to_see(world, username, hidden):
        assert created.status_code == 404, username
    else:
        assert created.status_code in {201, 403}, username  # own agency may write
    note_model = type(next(iter(world.notes.values())))
    if created.status_code == 201:
        note_model.objects.filter(pk=created.json()["id"]).delete()  # leave the world as found
    assert note_model.objects.count() == before


def probe_api_bulk(world: World, username: str, client: Client) -> None:
    ids = [str(spec.designation.pk) for spec in world.specs]
    response = client.post(
        reverse("api:designation-bulk"), {"ids": ids}, content_type="application/json"
    )
    if anonymous(world, username):
        assert response.status_code == 401
        return
    body = response.json()
    assert {row["name"] for row in body["results"]} == visible_names(world, username)
    assert len(body["results"]) + len(body["missing"]) == len(ids)


def probe_api_exports(world: World, username: str, client: Client) -> None:
    csv_response = client.get(reverse("api:export-csv"))
    ftm_response = client.get(reverse("api:export-ftm"))
    if anonymous(world, username):
        assert csv_response.status_code == ftm_response.status_code == 401
        return
    rows = csv.DictReader(io.StringIO(b"".join(csv_response.streaming_content).decode("utf-8-sig")))
    assert sorted(row["name"] for row in rows) == sorted(visible_names(world, username))
    entities = [json.loads(line) for line in b"".join(ftm_response.streaming_content).splitlines()]
    subjects = [
        e["properties"]["name"][0]
        for e in entities
        if e["schema"] in {"Person", "Organization", "Vessel", "Airplane"}
    ]
    assert sorted(subjects) == sorted(visible_names(world, username)), username


def probe_api_proposals(world: World, username: str, client: Client) -> None:
    """Between the proposer (B) and the owner (A) only; decided by A's publishers."""
    from designations.models import AmendmentProposal
    from designations.proposals import proposal_create

    spec = next(s for s in world.specs if s.designation.name == "AMBER shared with agency:B")
    proposal = proposal_create(
        actor=world.users["b_liaison"],
        designation=spec.designation,
        kind="dispute",
        changes={"fields": ["name"]},
        reason="probe",
    )
    try:
        listed = client.get(reverse("api:proposal-list"))
        detail = client.get(reverse("api:proposal-detail", args=[proposal.pk]))
        decided = client.post(
            reverse("api:proposal-decision", args=[proposal.pk]),
            {"decision": "reject", "reason": "probe"},
            content_type="application/json",
        )
        proposed = client.post(
            reverse("api:designation-proposals", args=[spec.designation.pk]),
            {"kind": "nope", "changes": {}, "reason": "x"},
            content_type="application/json",
        )
        user = world.users[username]
        if anonymous(world, username):
            assert {r.status_code for r in (listed, detail, decided, proposed)} == {401}
            return
        party = user.is_superuser or (user.agency and user.agency.code in {"A", "B"})
        party = party and (user.is_superuser or expected_to_see(world, username, spec))
        ids = {row["id"] for row in listed.json()["results"]}
        assert (str(proposal.pk) in ids) == bool(party), username
        assert detail.status_code == (200 if party else 404), username
        owner_publisher = (
            getattr(user, "agency", None) is not None
            and user.agency.code == "A"
            and user.may_publish
        )
        if lacks_scope(world, username, "write"):
            assert decided.status_code == 403 and proposed.status_code == 403
        elif not party:
            assert decided.status_code == 404, username
        else:
            assert decided.status_code == (200 if owner_publisher else 403), username
        if not lacks_scope(world, username, "write"):
            sees = expected_to_see(world, username, spec) or user.is_superuser
            assert proposed.status_code == (400 if sees else 404), username
    finally:
        AmendmentProposal.objects.filter(pk=proposal.pk).delete()


def probe_sync_status(world: World, username: str, client: Client) -> None:
    user = world.users[username]
    response = client.get(reverse("sync-status"))
    if anonymous(world, username):
        assert_sent_to_login(response)
    elif user.is_superuser:
        assert response.status_code == 200
    else:
        assert response.status_code == 403, username
        assert client.post(reverse("sync-status"), {"partner": "x"}).status_code == 403


def probe_sync_feed(world: World, username: str, client: Client) -> None:
    # People and API clients, signed in or not, get nothing: the feed answers signed node
    # requests only (tests/sharing/test_sync_feed.py has the nodes' side).
    response = client.get(reverse("sync-feed"))
    assert response.status_code == 401, username
    assert "records" not in response.json()
    assert client.post(reverse("sync-inbox")).status_code == 401, username
    assert client.get(reverse("sync-manifest")).status_code == 401, username
    assert client.post(reverse("sync-objects")).status_code == 401, username
    for attachment in world.attachments.values():
        url = reverse("sync-attachment-content", args=[attachment.pk])
        assert client.get(url).status_code == 401, username


def probe_sign_in_code(world: World, username: str, client: Client) -> None:
    """The code step shows a person their own authenticator key and nobody else's."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    setup = client.get(reverse("login-code-setup"))
    if anonymous(world, username):
        assert_sent_to_login(setup)
        assert_sent_to_login(client.get(reverse("login-code")))
        return
    assert setup.status_code == 200, username
    device = TOTPDevice.objects.get(user=world.users[username], confirmed=False)
    assert base64.b32encode(device.bin_key).decode() in setup.text
    others = TOTPDevice.objects.exclude(user=world.users[username])
    assert not any(base64.b32encode(o.bin_key).decode() in setup.text for o in others)
    assert client.get(reverse("login-code")).url.startswith(reverse("login-code-setup"))


def probe_audit_log(world: World, username: str, client: Client) -> None:
    response = client.get(reverse("audit-log"))
    user = world.users[username]
    if anonymous(world, username):
        assert_sent_to_login(response)
        return
    if user.is_superuser:
        assert response.status_code == 200
        assert response.context["page"].paginator.count == AuditEntry.objects.count()
        return
    if username not in {"a_admin", "b_admin"}:
        assert response.status_code == 403
        return
    code = user.agency.code
    entries = response.context["page"].paginator.object_list
    assert entries.exists()
    for entry in entries:
        assert code in {entry.agency_code, entry.object_agency_code}, entry
    others = AuditEntry.objects.exclude(agency_code=code).exclude(object_agency_code=code)
    assert others.exists()  # there is something this admin must not see ...
    assert not entries.filter(pk__in=others.values("pk")).exists()  # ... and it is not shown


def probe_admin(world: World, username: str, client: Client) -> None:
    user = world.users[username]
    changelist = reverse("admin:designations_designation_changelist")
    for url in [reverse("admin:index"), changelist]:
        response = client.get(url)
        if anonymous(world, username) or not user.is_staff:
            assert_sent_to_login(response, "/admin/login/")
    if getattr(user, "is_superuser", False):
        response = client.get(changelist)
        assert response.context["cl"].result_count == len(world.specs)
    elif getattr(user, "is_staff", False):
        # Staff with no model permissions: the admin opens, the data does not.
        assert client.get(reverse("admin:index")).status_code == 200
        assert client.get(changelist).status_code == 403


ROUTES: dict[str, Callable[[World, str, Client], None]] = {
    "home": probe_home,
    "portal:designation-list": probe_designation_list,
    "portal:designation-detail": probe_designation_detail,
    "portal:designation-grant": _probe_sharing_action("portal:designation-grant", {}),
    "portal:designation-revoke": _probe_sharing_action(
        "portal:designation-revoke", {"grantee": "agency:NOPE"}
    ),
    "portal:note-detail": probe_note_detail,
    "portal:note-grant": _probe_note_sharing_action("portal:note-grant", {}),
    "portal:note-revoke": _probe_note_sharing_action(
        "portal:note-revoke", {"grantee": "agency:NOPE"}
    ),
    "portal:attachment-download": probe_attachment_download,
    "portal:designation-attach": probe_designation_attach,
    "portal:note-attach": probe_note_attach,
    "api:me": probe_api_me,
    "api:designation-list": probe_api_designation_list,
    "api:designation-detail": probe_api_designation_detail,
    "api:designation-delist": probe_api_designation_delist,
    "api:attachment-detail": _probe_api_attachment_read("api:attachment-detail"),
    "api:attachment-content": _probe_api_attachment_read("api:attachment-content"),
    "api:designation-attachments": probe_api_designation_attachments,
    "api:note-attachments": probe_api_note_attachments,
    "api-clients": probe_api_clients,
    "api-client-revoke": probe_api_client_revoke,
    "api:designation-grants": probe_api_grants,
    "api:note-grants": lambda world, username, client: None,  # in probe_api_grants
    "api:designation-grant": probe_api_grant,
    "api:note-grant": lambda world, username, client: None,  # in probe_api_grant
    "api:agency-list": _probe_reference_list(
        "api:agency-list", lambda world: set(world.agencies), "code"
    ),
    "api:sharing-group-list": _probe_reference_list(
        "api:sharing-group-list", lambda world: {world.group_ab.name}, "name"
    ),
    "api:regime-list": _probe_reference_list("api:regime-list", lambda world: {"TEST"}, "code"),
    "api:note-list": probe_api_notes,
    "api:note-detail": lambda world, username, client: None,  # in probe_api_notes
    "api:designation-bulk": probe_api_bulk,
    "api:export-csv": probe_api_exports,
    "sync-feed": probe_sync_feed,
    "api:proposal-list": probe_api_proposals,
    "api:proposal-detail": lambda world, username, client: None,  # in probe_api_proposals
    "api:proposal-decision": lambda world, username, client: None,  # in probe_api_proposals
    "api:designation-proposals": lambda world, username, client: None,  # in probe_api_proposals
    "sync-status": probe_sync_status,
    "sync-inbox": lambda world, username, client: None,  # in probe_sync_feed
    "sync-manifest": lambda world, username, client: None,  # in probe_sync_feed
    "sync-objects": lambda world, username, client: None,  # in probe_sync_feed
    "sync-attachment-content": lambda world, username, client: None,  # in probe_sync_feed
    "api:export-ftm": lambda world, username, client: None,  # in probe_api_exports
    "audit-log": probe_audit_log,
    "login-code-setup": probe_sign_in_code,
    "portal:designation-new": probe_designation_new,
    "portal:designation-amend": probe_designation_amend,
    "portal:designation-diff": probe_designation_diff,
    "portal:designation-propose": probe_portal_proposals,
    "my-account": probe_my_account,
    "sharing-groups": lambda world, username, client: None,  # in probe_my_account
    "sharing-group-add": probe_sharing_group_change,
    "portal:link-review": probe_subject_links,
    "portal:review-close": probe_review_close,
    "api:screen": probe_api_screen,
    "screening": probe_screening,
    "divergence": probe_divergence,
    "divergence-csv": lambda world, username, client: None,  # in probe_divergence
    "api:divergence": lambda world, username, client: None,  # in probe_divergence
    "screening-job-new": lambda world, username, client: None,  # in probe_screening
    "screening-job": lambda world, username, client: None,  # in probe_screening
    "screening-job-progress": lambda world, username, client: None,  # in probe_screening
    "screening-job-results": lambda world, username, client: None,  # in probe_screening
    "portal:link-decision": lambda world, username, client: None,  # in the link probe
    "sharing-group-remove": lambda world, username, client: None,  # in the add probe
    "portal:proposal-inbox": lambda world, username, client: None,  # in the propose probe
    "portal:proposal-decision": lambda world, username, client: None,  # below
    "portal:designation-delist": lambda world, username, client: None,  # in the amend probe
    "portal:designation-note-add": probe_designation_note_add,
    "login-code": lambda world, username, client: None,  # in probe_sign_in_code
    "admin:*": probe_admin,
}
# Routes that show no shared data to anyone (the API's description is public).
PUBLIC_ROUTES = {"login", "logout", "api-schema", "api-docs"}


def route_names(patterns=None, namespace: str = "") -> set[str]:  # type: ignore[no-untyped-def]
    names: set[str] = set()
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            names |= route_names(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern):
            names.add(f"{namespace}{pattern.name}" if pattern.name else f"{namespace}<unnamed>")
    return names


def test_every_route_is_in_the_leak_matrix() -> None:
    unchecked = {
        name
        for name in route_names()
        if name not in ROUTES and name not in PUBLIC_ROUTES and not name.startswith("admin:")
    }
    assert not unchecked, f"add these routes to the leak matrix: {sorted(unchecked)}"


@pytest.fixture
def world() -> World:
    return build_world()


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_leak_matrix(world: World, route: str) -> None:
    for username in world.users:
        ROUTES[route](world, username, client_for(world, username))
    if route.startswith("api:"):
        # API routes again, as API clients: what their agency may see, within their scopes.
        for name, (principal, token) in world.clients.items():
            world.users[name] = principal
            try:
                ROUTES[route](world, name, Client(headers={"Authorization": f"Bearer {token}"}))
            finally:
                del world.users[name]


def test_the_world_covers_every_case(world: World) -> None:
    """Guard against a matrix that proves nothing: each person sees a different set."""
    seen = {name: frozenset(visible_names(world, name)) for name in world.users}
    assert seen["anonymous"] == seen["staff"] == frozenset()
    assert seen["site_admin"] == {s.designation.name for s in world.specs}
    assert seen["c_liaison"] < seen["b_liaison"] and seen["c_liaison"] < seen["a_liaison"]
    assert seen["a_liaison"] < seen["a_admin"]  # the RED ones name their author, a_admin
    # b_liaison is named on a RED object that its owner agency's liaison may not see.
    assert seen["b_liaison"] - seen["a_liaison"] == {"RED shared with user:b_liaison"}
    assert seen["b_liaison"] != seen["b_admin"]
    assert len(seen["c_liaison"]) == 8  # CLEAR and GREEN, not the draft
