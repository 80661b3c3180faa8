"""The OpenAPI description: complete (every API route), valid, and its docs page CSP-clean."""

from __future__ import annotations

import re

import pytest
import yaml
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from sharing import api_urls

pytestmark = pytest.mark.django_db


def test_the_schema_is_valid_and_generates_without_warnings(tmp_path) -> None:
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    schema = yaml.safe_load(out.read_text())
    assert schema["components"]["securitySchemes"]["apiClientToken"]["scheme"] == "bearer"
    paths = schema["paths"]
    assert "/api/v1/designations" in paths and "post" in paths["/api/v1/designations"]
    amend = paths["/api/v1/designations/{designation_id}"]["patch"]
    assert {p["name"] for p in amend["parameters"]} >= {"If-Match"}
    assert "412" in amend["responses"] and "428" in amend["responses"]


def test_every_api_route_is_described() -> None:
    schema = Client().get(reverse("api-schema"), HTTP_ACCEPT="application/json").json()
    expected = {
        "/api/v1/" + re.sub(r"<\w+:(\w+)>", r"{\1}", str(pattern.pattern))
        for pattern in api_urls.urlpatterns
    }
    assert expected == set(schema["paths"])


def test_the_docs_page_loads_its_scripts_from_this_site(settings) -> None:
    page = Client().get(reverse("api-docs"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "cdn" not in html.lower()
    # No inline script: the page passes our Content-Security-Policy (script-src 'self').
    assert "<script>" not in html.replace(" ", "")
    assert "script-src 'self'" in page["Content-Security-Policy"]
