from __future__ import annotations

from django.urls import path

from designations import subject_views, views

app_name = "portal"

urlpatterns = [
    path("", views.designation_list, name="designation-list"),
    path("new/", views.designation_new, name="designation-new"),
    path("<uuid:designation_id>/", views.designation_detail, name="designation-detail"),
    path("<uuid:designation_id>/notes/", views.designation_note_add, name="designation-note-add"),
    path("<uuid:designation_id>/proposals/", views.designation_propose, name="designation-propose"),
    path("proposals/", views.proposal_inbox, name="proposal-inbox"),
    path("links/", subject_views.link_review, name="link-review"),
    path("links/<int:link_id>/decision/", subject_views.link_decision, name="link-decision"),
    path("reviews/<int:task_id>/close/", subject_views.review_close_view, name="review-close"),
    path(
        "proposals/<uuid:proposal_id>/decision/", views.proposal_decision, name="proposal-decision"
    ),
    path("<uuid:designation_id>/diff/", views.designation_diff, name="designation-diff"),
    path("<uuid:designation_id>/amend/", views.designation_amend_view, name="designation-amend"),
    path("<uuid:designation_id>/delist/", views.designation_delist_view, name="designation-delist"),
    path("<uuid:designation_id>/grants/", views.designation_grant, name="designation-grant"),
    path(
        "<uuid:designation_id>/grants/revoke/",
        views.designation_revoke,
        name="designation-revoke",
    ),
    path(
        "<uuid:designation_id>/attachments/",
        views.designation_attach,
        name="designation-attach",
    ),
    path("notes/<uuid:note_id>/", views.note_detail, name="note-detail"),
    path("notes/<uuid:note_id>/attachments/", views.note_attach, name="note-attach"),
    path(
        "attachments/<uuid:attachment_id>/",
        views.attachment_download,
        name="attachment-download",
    ),
    path("notes/<uuid:note_id>/grants/", views.note_grant, name="note-grant"),
    path("notes/<uuid:note_id>/grants/revoke/", views.note_revoke, name="note-revoke"),
]
