from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from agencies import account, sharing_group_views, sign_in
from agencies import views as agency_views
from designations import divergence_views, screening_views
from designations import views as designation_views
from sharing import sync_views
from sharing import views as sharing_views

urlpatterns = [
    path("", designation_views.dashboard, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("login/code/", sign_in.code, name="login-code"),
    path("login/code/setup/", sign_in.code_setup, name="login-code-setup"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("designations/", include("designations.urls")),
    path("account/", account.my_account, name="my-account"),
    path("sharing-groups/", sharing_group_views.sharing_groups, name="sharing-groups"),
    path(
        "sharing-groups/<uuid:group_id>/members/",
        sharing_group_views.sharing_group_add,
        name="sharing-group-add",
    ),
    path(
        "sharing-groups/<uuid:group_id>/members/remove/",
        sharing_group_views.sharing_group_remove,
        name="sharing-group-remove",
    ),
    path("audit/", sharing_views.audit_log, name="audit-log"),
    path("divergence/", divergence_views.divergence, name="divergence"),
    path("divergence.csv", divergence_views.divergence_csv, name="divergence-csv"),
    path("screening/", screening_views.screening, name="screening"),
    path("screening/jobs/", screening_views.screening_job_new, name="screening-job-new"),
    path("screening/jobs/<uuid:job_id>/", screening_views.screening_job, name="screening-job"),
    path(
        "screening/jobs/<uuid:job_id>/progress",
        screening_views.screening_job_progress,
        name="screening-job-progress",
    ),
    path(
        "screening/jobs/<uuid:job_id>/results.csv",
        screening_views.screening_job_results,
        name="screening-job-results",
    ),
    path("sync/", sharing_views.sync_status, name="sync-status"),
    path("api-clients/", agency_views.api_clients, name="api-clients"),
    path(
        "api-clients/<uuid:client_id>/revoke/",
        agency_views.api_client_revoke_view,
        name="api-client-revoke",
    ),
    path("api/v1/", include("sharing.api_urls")),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path(
        "api/v1/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema"),
        name="api-docs",
    ),
    # Between nodes: signed requests only (sharing.node_auth).
    path("sync/v1/feed", sync_views.feed, name="sync-feed"),
    path("sync/v1/inbox", sync_views.inbox, name="sync-inbox"),
    path("sync/v1/manifest", sync_views.manifest, name="sync-manifest"),
    path("sync/v1/objects", sync_views.objects, name="sync-objects"),
    path(
        "sync/v1/attachments/<uuid:attachment_id>/content",
        sync_views.attachment_content,
        name="sync-attachment-content",
    ),
    path("admin/", admin.site.urls),
]

handler400 = "sharing.views.bad_request"
handler404 = "sharing.views.not_found"
handler500 = "sharing.views.server_error"
