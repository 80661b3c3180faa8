from __future__ import annotations

from django.urls import path

from designations import views

app_name = "portal"

urlpatterns = [
    path("", views.designation_list, name="designation-list"),
    path("<uuid:designation_id>/", views.designation_detail, name="designation-detail"),
    path("<uuid:designation_id>/grants/", views.designation_grant, name="designation-grant"),
    path(
        "<uuid:designation_id>/grants/revoke/",
        views.designation_revoke,
        name="designation-revoke",
    ),
]
