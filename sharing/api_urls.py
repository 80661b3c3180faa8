"""All REST API routes, under /api/v1/ in the "api" namespace."""

from __future__ import annotations

from agencies import api as agency_api
from designations import api as designation_api
from sharing import api_grants

app_name = "api"

urlpatterns = [
    *designation_api.urlpatterns,
    *agency_api.urlpatterns,
    *api_grants.urlpatterns,
]
