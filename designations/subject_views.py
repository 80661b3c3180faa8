"""Portal pages of subject links: the review queue of candidate links and the judgement."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from designations.reviews import open_reviews_for, review_close
from designations.subjects import link_decide, links_to_review


class LinkDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("confirm", "Same subject"), ("reject", "Not the same subject")],
        widget=forms.RadioSelect,
        label="Your judgement",
    )
    reason = forms.CharField(max_length=2000, label="Why")


@login_required
def link_review(request: HttpRequest) -> HttpResponse:
    """GET /designations/links/: possible matches between designations of different agencies
    that I may see, best first, for me to confirm or reject."""
    page = Paginator(links_to_review(request.user), 25).get_page(request.GET.get("page"))
    rows = [
        (link, (link.left, link.right), LinkDecisionForm(prefix=f"link-{link.pk}")) for link in page
    ]
    return render(request, "portal/link_review.html", {"page": page, "rows": rows})


@login_required
@require_POST
def link_decision(request: HttpRequest, link_id: int) -> HttpResponse:
    link = links_to_review(request.user).filter(pk=link_id).first()
    if link is None:
        raise Http404("No such link to review.")
    form = LinkDecisionForm(request.POST, prefix=f"link-{link.pk}")
    if not form.is_valid():
        messages.error(request, "Choose same subject or not, and say why.")
        return redirect("portal:link-review")
    try:
        link_decide(
            actor=request.user,
            link=link,
            confirm=form.cleaned_data["decision"] == "confirm",
            reason=form.cleaned_data["reason"],
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Recorded: {link.get_status_display().lower()}.")
    return redirect("portal:link-review")


@login_required
@require_POST
def review_close_view(request: HttpRequest, task_id: int) -> HttpResponse:
    """POST /designations/reviews/<id>/close/: my agency records what it decided."""
    task = open_reviews_for(request.user).filter(pk=task_id).first()
    if task is None:
        raise Http404("No such open review task.")
    try:
        review_close(actor=request.user, task=task, outcome=request.POST.get("outcome", ""))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Review task closed.")
    return redirect("home")
