"""All REST API routes, under /api/v1/ in the "api" namespace."""

from __future__ import annotations

from agencies import api as agency_api
from designations import api as designation_api
from designations import api_exports, api_notes, api_proposals, api_screening, divergence_views
from sharing import api_grants

app_name = "api"

urlpatterns = [
    # The bulk route first: "designations/bulk" must not be read as a designation id.
    *api_notes.urlpatterns,
    *designation_api.urlpatterns,
    *api_exports.urlpatterns,
    *api_proposals.urlpatterns,
    *api_screening.urlpatterns,
    *divergence_views.urlpatterns,
    *agency_api.urlpatterns,
    *api_grants.urlpatterns,
]
