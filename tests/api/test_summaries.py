"""List rows are built by hand for speed; they must keep the documented shape."""

from __future__ import annotations

import pytest
from django.urls import reverse

from designations.api import DesignationSummarySerializer, summaries, summary_columns
from designations.models import Designation
from tests.world import build_world

pytestmark = pytest.mark.django_db


def test_summaries_match_the_documented_serializer() -> None:
    build_world(with_attachments=False, with_clients=False)
    designations = list(summary_columns(Designation.objects.order_by("id")))
    documented = DesignationSummarySerializer(
        designations, many=True, context={"request": None}
    ).child
    for designation, row in zip(designations, summaries(designations), strict=True):
        expected = {
            name: field.to_representation(field.get_attribute(designation))
            for name, field in documented.fields.items()
            if name != "url"
        }
        assert list(row) == list(documented.fields)
        assert {k: v for k, v in row.items() if k != "url"} == expected
        assert row["url"] == reverse("api:designation-detail", args=[designation.pk])
