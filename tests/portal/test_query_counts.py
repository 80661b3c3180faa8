"""Portal pages run a bounded number of queries, however many designations there are."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from designations.models import (
    Designation,
    DesignationGroupObjectPermission,
    Identifier,
    Name,
    Regime,
)
from designations.names import normalize_name
from sharing.models import Marking

pytestmark = pytest.mark.django_db
COUNT = 1000


@pytest.fixture
def thousand(agency_a, agency_b) -> list[Designation]:
    regime = Regime.objects.create(owner=agency_a, code="R1", name="Regime of A")
    designations = Designation.objects.bulk_create(
        [
            Designation(
                owner=agency_a,
                regime=regime,
                subject_kind="person",
                name=f"Subject {n:04d}",
                reference_number=f"R{n}",
                status="active",
                marking=(Marking.CLEAR, Marking.GREEN, Marking.AMBER)[n % 3],
            )
            for n in range(COUNT)
        ]
    )
    Name.objects.bulk_create(
        [
            Name(designation=d, kind=kind, full_name=name, normalized=normalize_name(name))
            for d in designations
            for kind, name in (("primary", d.name), ("alias", f"Alias {d.name}"))
        ]
    )
    Identifier.objects.bulk_create(
        [
            Identifier(designation=d, kind="passport", number=f"P{n}")
            for n, d in enumerate(designations)
        ]
    )
    view = Permission.objects.get(codename="view_designation")
    DesignationGroupObjectPermission.objects.bulk_create(
        [
            DesignationGroupObjectPermission(
                content_object=d, group_id=agency_b.group_id, permission=view
            )
            for d in designations
            if d.marking == Marking.AMBER
        ]
    )
    return designations


@pytest.mark.parametrize("who", ["alice", "bob"])
def test_the_list_page(client, who, alice, bob, thousand, django_assert_max_num_queries) -> None:
    client.force_login({"alice": alice, "bob": bob}[who])
    with django_assert_max_num_queries(12):  # 9 or 10 measured
        page = client.get("/designations/")
    assert page.status_code == 200 and "Subject 0" in page.text
    with django_assert_max_num_queries(12):
        searched = client.get("/designations/", {"q": "Alias Subject 0999"})
    assert "Subject 0999" in searched.text


def test_the_detail_page(client, alice, thousand, django_assert_max_num_queries) -> None:
    client.force_login(alice)
    with django_assert_max_num_queries(32):  # 29 measured: gate, lists, audience, files, notes,
        # proposals, history; none of it grows with the number of designations
        page = client.get(thousand[500].get_absolute_url())
    assert page.status_code == 200 and "Alias Subject 0500" in page.text


@pytest.mark.parametrize("who", ["alice", "bob"])
def test_the_dashboard(client, who, alice, bob, thousand, django_assert_max_num_queries) -> None:
    client.force_login({"alice": alice, "bob": bob}[who])
    with django_assert_max_num_queries(16):  # 13 or 14 measured
        page = client.get("/")
    assert page.status_code == 200 and "New or changed designations (" in page.text
    assert len(page.context["board"].changed) == 20  # the newest; the count says how many
