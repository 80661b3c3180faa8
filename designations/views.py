"""Portal pages for designations. Thin: parse the request, call one selector or service, render."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_POST

from designations.attachments import attachment_record
from designations.dashboard import dashboard_for
from designations.diffs import version_diff
from designations.downloads import attachment_response
from designations.forms import (
    AmendForm,
    DecisionForm,
    DelistForm,
    DesignationForm,
    NoteForm,
    ProposalForm,
)
from designations.models import (
    Designation,
    DesignationStatus,
    IntelligenceNote,
    ProposalStatus,
    SubjectKind,
)
from designations.proposals import proposal_create, proposal_decide, proposals_visible
from designations.selectors import (
    DesignationFilters,
    designation_filter_choices,
    designation_get,
    designation_search,
)
from designations.services import (
    StaleVersion,
    designation_amend,
    designation_create,
    designation_delist,
    note_create,
)
from designations.subjects import linked_designations
from sharing import access
from sharing.access import Level
from sharing.audit import audit_record
from sharing.crypto import IntegrityError, KeyUnavailable
from sharing.models import AuditAction
from sharing.sharing_views import grant_from_form, revoke_from_form, sharing_panel
from sharing.uploads import EncryptingUploadHandler

PAGE_SIZE = 50


@login_required
def designation_list(request: HttpRequest) -> HttpResponse:
    filters = DesignationFilters(
        query=request.GET.get("q", "")[:200],
        regime=request.GET.get("regime", ""),
        kind=request.GET.get("kind", ""),
        status=request.GET.get("status", ""),
        agency=request.GET.get("agency", ""),
        sort=request.GET.get("sort", "name"),
    )
    designations = designation_search(user=request.user, filters=filters)
    page = Paginator(designations, PAGE_SIZE).get_page(request.GET.get("page"))
    query_without_page = request.GET.copy()
    query_without_page.pop("page", None)
    return render(
        request,
        "portal/designation_list.html",
        {
            "page": page,
            "filters": filters,
            "kinds": SubjectKind.choices,
            "statuses": DesignationStatus.choices,
            "sorts": [
                ("name", "Name"),
                ("changed", "Recently changed"),
                ("listed", "Recently listed"),
                ("reference", "Reference"),
            ],
            "query_without_page": query_without_page.urlencode(),
            **designation_filter_choices(user=request.user),
        },
    )


def _visible_or_404(request: HttpRequest, designation_id: UUID) -> Designation:
    try:
        return designation_get(user=request.user, designation_id=designation_id)
    except Http404:
        # Recorded without saying whether the object exists.
        audit_record(
            AuditAction.DENIED,
            detail={"path": request.path, "object": str(designation_id), "attempt": "view"},
        )
        raise


def _attachments_panel(
    request: HttpRequest, parent: Designation | IntelligenceNote, attach_route: str
) -> dict[str, object]:
    field = "designation" if isinstance(parent, Designation) else "note"
    return {
        # Listed only for those who may download them (the parent's download level).
        "attachments": access.attachments_for(request.user, Level.DOWNLOAD).filter(
            **{field: parent}
        ),
        "can_attach": access.may_attach(request.user, parent),
        "attach_url": reverse(attach_route, args=[parent.pk]),
    }


@login_required
def designation_detail(request: HttpRequest, designation_id: UUID) -> HttpResponse:
    designation = _visible_or_404(request, designation_id)
    notes = list(
        access.notes_for(request.user)
        .filter(designation=designation)
        .select_related("owner", "author")
    )
    for note in notes:
        audit_record(AuditAction.READ, obj=note)
    return render(
        request,
        "portal/designation_detail.html",
        {
            "designation": designation,
            "notes": notes,
            **sharing_panel(request, designation),
            **_attachments_panel(request, designation, "portal:designation-attach"),
            "grant_url": reverse("portal:designation-grant", args=[designation.pk]),
            "revoke_url": reverse("portal:designation-revoke", args=[designation.pk]),
            "note_form": NoteForm()
            if access.may(request.user, Level.COMMENT, designation)
            else None,
            "can_change": access.may(request.user, Level.CHANGE, designation),
            # Another agency proposes; the owner amends.
            "proposal_form": ProposalForm()
            if access.may_propose(request.user, designation)
            else None,
            "proposals": proposals_visible(user=request.user).filter(designation=designation),
            "linked": linked_designations(request.user, designation),
        },
    )


@login_required
@require_POST
def designation_grant(request: HttpRequest, designation_id: UUID) -> HttpResponse:
    designation = _visible_or_404(request, designation_id)
    return grant_from_form(request, designation, back=designation)


@login_required
@require_POST
def designation_revoke(request: HttpRequest, designation_id: UUID) -> HttpResponse:
    designation = _visible_or_404(request, designation_id)
    return revoke_from_form(request, designation, back=designation)


def _note_or_404(request: HttpRequest, note_id: UUID) -> IntelligenceNote:
    note = (
        access.notes_for(request.user)
        .select_related("owner", "author", "designation")
        .filter(pk=note_id)
        .first()
    )
    if note is None:
        audit_record(
            AuditAction.DENIED,
            detail={"path": request.path, "object": str(note_id), "attempt": "view note"},
        )
        raise Http404("No such note.")
    return note


@login_required
def note_detail(request: HttpRequest, note_id: UUID) -> HttpResponse:
    note = _note_or_404(request, note_id)
    audit_record(AuditAction.READ, obj=note)
    return render(
        request,
        "portal/note_detail.html",
        {
            "note": note,
            **sharing_panel(request, note),
            **_attachments_panel(request, note, "portal:note-attach"),
            "grant_url": reverse("portal:note-grant", args=[note.pk]),
            "revoke_url": reverse("portal:note-revoke", args=[note.pk]),
        },
    )


@login_required
@require_POST
def note_grant(request: HttpRequest, note_id: UUID) -> HttpResponse:
    note = _note_or_404(request, note_id)
    return grant_from_form(request, note, back=note)


@login_required
@require_POST
def note_revoke(request: HttpRequest, note_id: UUID) -> HttpResponse:
    note = _note_or_404(request, note_id)
    return revoke_from_form(request, note, back=note)


# --- attachments ---------------------------------------------------------------------------


def _receive_attachment(
    request: HttpRequest, parent: Designation | IntelligenceNote
) -> HttpResponse:
    """Stream the upload through the encrypting handler, then record it. The handler must be
    in place before anything reads the body, which the CSRF check does: hence csrf_exempt on
    the views and csrf_protect here, as Django's documentation prescribes."""
    handler = EncryptingUploadHandler(request)
    request.upload_handlers = [handler]
    try:
        return _record_attachment(request, parent, handler)
    finally:
        handler.discard()  # a refused or unrecorded upload leaves no file behind


@csrf_protect
def _record_attachment(
    request: HttpRequest, parent: Designation | IntelligenceNote, handler: EncryptingUploadHandler
) -> HttpResponse:
    request.POST  # noqa: B018 - reading the body runs the upload through the handler
    if handler.error:
        messages.error(request, f"Not uploaded: {handler.error}")
        return redirect(parent)
    if handler.upload is None:
        messages.error(request, "Choose a file to upload.")
        return redirect(parent)
    upload, handler.upload = handler.upload, None
    attachment = attachment_record(actor=request.user, parent=parent, upload=upload)
    messages.success(request, f"Uploaded {attachment.original_name} (encrypted).")
    return redirect(parent)


def _require_attach(request: HttpRequest, parent: Designation | IntelligenceNote) -> None:
    if not access.may_attach(request.user, parent):
        audit_record(AuditAction.DENIED, obj=parent, detail={"attempt": "attach file"})
        raise PermissionDenied("You may not attach files here.")


@csrf_exempt
@login_required
@require_POST
def designation_attach(request: HttpRequest, designation_id: UUID) -> HttpResponse:
    designation = _visible_or_404(request, designation_id)
    _require_attach(request, designation)  # before a single byte of the body is read
    return _receive_attachment(request, designation)


@csrf_exempt
@login_required
@require_POST
def note_attach(request: HttpRequest, note_id: UUID) -> HttpResponse:
    note = _note_or_404(request, note_id)
    _require_attach(request, note)
    return _receive_attachment(request, note)


@login_required
def attachment_download(request: HttpRequest, attachment_id: UUID) -> HttpResponse:
    attachment = (
        access.attachments_for(request.user, Level.DOWNLOAD)
        .select_related("owner")
        .filter(pk=attachment_id)
        .first()
    )
    if attachment is None:
        audit_record(
            AuditAction.DENIED,
            detail={"path": request.path, "object": str(attachment_id), "attempt": "download"},
        )
        raise Http404("No such attachment.")
    try:
        return attachment_response(attachment)
    except (IntegrityError, KeyUnavailable, FileNotFoundError) as error:
        audit_record(AuditAction.INTEGRITY, obj=attachment, detail={"error": str(error)})
        return render(
            request, "portal/integrity_error.html", {"attachment": attachment}, status=500
        )


@login_required
@require_http_methods(["GET", "POST"])
def designation_new(request: HttpRequest) -> HttpResponse:
    """GET/POST /designations/new/: publish a designation (publishers and agency admins)."""
    user = request.user
    if not user.may_publish:  # type: ignore[union-attr]
        raise PermissionDenied("Publishing is for your agency's publishers.")
    form = DesignationForm(request.POST or None, agency=user.agency)  # type: ignore[union-attr]
    if request.method == "POST" and form.is_valid():
        try:
            designation = designation_create(
                actor=user,  # type: ignore[arg-type]
                regime=form.cleaned_data["regime"],
                data=form.designation_data(),
                marking=form.cleaned_data["marking"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Published: {designation.name}.")
            return redirect(designation)
    status = 400 if form.errors else 200
    return render(request, "portal/designation_form.html", {"form": form}, status=status)


@login_required
@require_POST
def designation_note_add(request: HttpRequest, designation_id: UUID) -> HttpResponse:
    """POST /designations/<id>/notes/: a note on a designation one may comment on."""
    designation = _visible_or_404(request, designation_id)
    form = NoteForm(request.POST)
    if not form.is_valid():
        messages.error(request, "A note needs a title and a text.")
        return redirect(designation)
    note = note_create(
        actor=request.user,  # type: ignore[arg-type]
        designation=designation,
        title=form.cleaned_data["title"],
        body=form.cleaned_data["body"],
        marking=form.cleaned_data["marking"],
    )
    messages.success(request, f"Note added: {note.title}.")
    return redirect(f"{designation.get_absolute_url()}#notes")


def _changeable_or_403(request: HttpRequest, designation_id: UUID) -> Designation:
    designation = _visible_or_404(request, designation_id)
    if not access.may(request.user, Level.CHANGE, designation):
        raise PermissionDenied("Only the owner agency's publishers change this designation.")
    return designation


@login_required
@require_http_methods(["GET", "POST"])
def designation_amend_view(request: HttpRequest, designation_id: UUID) -> HttpResponse:
    """GET/POST /designations/<id>/amend/: a new version, with the reason for it."""
    designation = _changeable_or_403(request, designation_id)
    form = AmendForm(request.POST) if request.method == "POST" else None
    if form is not None and form.is_valid():
        try:
            designation_amend(
                actor=request.user,  # type: ignore[arg-type]
                designation=designation,
                changes=form.changes(designation),
                reason=form.cleaned_data["reason"],
                expected_version=form.cleaned_data["version"],
            )
        except StaleVersion:
            form.add_error(None, "Someone amended it meanwhile: reload it, then amend again.")
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Amended: a new version is recorded.")
            return redirect(designation)
    form = form or AmendForm.for_designation(designation)
    context = {
        "form": form,
        "designation": designation,
        "delist": DelistForm(initial={"version": designation.version}),
    }
    return render(
        request, "portal/designation_amend.html", context, status=400 if form.errors else 200
    )


@login_required
@require_POST
def designation_delist_view(request: HttpRequest, designation_id: UUID) -> HttpResponse:
    """POST /designations/<id>/delist/: delisted, with the reason."""
    designation = _changeable_or_403(request, designation_id)
    form = DelistForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say why it is delisted.")
        return redirect("portal:designation-amend", designation.pk)
    try:
        designation_delist(
            actor=request.user,  # type: ignore[arg-type]
            designation=designation,
            reason=form.cleaned_data["reason"],
            expected_version=form.cleaned_data["version"],
        )
    except StaleVersion:
        messages.error(request, "Someone amended it meanwhile: check it, then delist again.")
        return redirect("portal:designation-amend", designation.pk)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(designation)
    messages.success(request, "Delisted.")
    return redirect(designation)


@login_required
def designation_diff(request: HttpRequest, designation_id: UUID) -> HttpResponse:
    """GET /designations/<id>/diff/?from=<v>&to=<v>: what changed between two versions."""
    designation = _visible_or_404(request, designation_id)
    versions = {v.version: v for v in designation.history.all()}
    newest = max(versions)
    try:
        first = int(request.GET.get("from", max(newest - 1, 1)))
        second = int(request.GET.get("to", newest))
    except ValueError:
        first, second = -1, -1
    if first not in versions or second not in versions:
        return render(
            request,
            "portal/designation_diff.html",
            {"designation": designation, "versions": sorted(versions), "error": True},
            status=400,
        )
    context = {
        "designation": designation,
        "versions": sorted(versions),
        "first": versions[first],
        "second": versions[second],
        "diffs": version_diff(versions[first].snapshot, versions[second].snapshot),
    }
    return render(request, "portal/designation_diff.html", context)


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """GET /: what is new since the previous sign-in, pending work, sync health."""
    return render(request, "portal/dashboard.html", {"board": dashboard_for(request.user)})  # type: ignore[arg-type]


@login_required
@require_POST
def designation_propose(request: HttpRequest, designation_id: UUID) -> HttpResponse:
    """POST /designations/<id>/proposals/: propose a new value or contest a field."""
    designation = _visible_or_404(request, designation_id)
    form = ProposalForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect(designation)
    try:
        proposal_create(
            actor=request.user,
            designation=designation,
            kind=form.cleaned_data["kind"],
            changes=form.changes(),
            reason=form.cleaned_data["reason"],
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Sent to the owner agency, who will accept or reject it.")
    return redirect(f"{designation.get_absolute_url()}#proposals")


@login_required
def proposal_inbox(request: HttpRequest) -> HttpResponse:
    """GET /proposals/: open proposals on my agency's designations (to decide), and the ones
    my agency sent (awaiting, or decided)."""
    user = request.user
    # The decision check reads the owner's home node: fetched with the proposals, not per row.
    visible = (
        proposals_visible(user=user)
        .select_related("designation__owner__home_node")
        .order_by("-created_at")
    )
    agency_id = getattr(user, "agency_id", None)
    context = {
        "to_decide": [
            (p, DecisionForm() if access.may_decide_proposal(user, p) else None)
            for p in visible.filter(designation__owner_id=agency_id, status=ProposalStatus.OPEN)
        ],
        "sent": list(visible.filter(proposer_id=agency_id)[:50]),
    }
    return render(request, "portal/proposal_inbox.html", context)


@login_required
@require_POST
def proposal_decision(request: HttpRequest, proposal_id: UUID) -> HttpResponse:
    """POST /proposals/<id>/decision/: the owner's publishers accept or reject, with a reason."""
    proposal = proposals_visible(user=request.user).filter(pk=proposal_id).first()
    if proposal is None:
        raise Http404("No such proposal.")
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose accept or reject, and say why.")
        return redirect("portal:proposal-inbox")
    try:
        proposal_decide(
            actor=request.user,
            proposal=proposal,
            accept=form.cleaned_data["decision"] == "accept",
            reason=form.cleaned_data["reason"],
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Proposal {form.cleaned_data['decision']}ed.")
    return redirect("portal:proposal-inbox")
