"""`manage.py import_list` reads every format through its progress reader, and reports."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from agencies.services import agency_create
from designations.models import Designation
from tests.conftest import FIXTURES

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("publisher", "path", "extra", "records"),
    [
        ("uk", "uk_conlist_excerpt_2016.csv", [], 31),
        ("eu", "eu_fsf_v1_excerpt_2016.xml", [], 32),
        ("ofac", "ofac_sdn_excerpt", ["--generated-at", "2021-07-01"], 40),
        ("ofac", "ofac_consolidated_nonsdn_excerpt_2024-05-06.xml", [], 17),
    ],
)
def test_each_format_imports_through_the_command(
    local_node, publisher, path, extra, records
) -> None:
    agency_create(code="X", name="X", jurisdiction="X", home_node=local_node)
    out = io.StringIO()
    call_command(
        "import_list", publisher, str(FIXTURES / path), "--agency", "X", *extra, stdout=out
    )
    assert f"{records} records: {records} added" in out.getvalue()
    assert "Subject links:" in out.getvalue()
    assert Designation.objects.count() == records


def test_a_csv_set_without_a_date_is_refused(local_node) -> None:
    agency_create(code="X", name="X", jurisdiction="X", home_node=local_node)
    with pytest.raises(CommandError, match="give its date"):
        call_command("import_list", "ofac", str(FIXTURES / "ofac_sdn_excerpt"), "--agency", "X")
    with pytest.raises(CommandError, match="is not a date"):
        call_command(
            "import_list",
            "ofac",
            str(FIXTURES / "ofac_sdn_excerpt"),
            "--agency",
            "X",
            "--generated-at",
            "July",
        )
    assert not Designation.objects.exists()
