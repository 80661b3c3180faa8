"""Divergence reports: alignment by jurisdiction, listed here and not there, delisted in
one jurisdiction and active in another, conflicting data, and implementation lag; in the
portal (with an SVG chart), as CSV and over REST, always within what the reader may see."""

from __future__ import annotations

import csv
import io

import pytest

from designations.models import SubjectLink
from designations.services import designation_delist
from sharing.models import Marking
from tests.designations.test_reconcile import publish, publishers  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db


def link(a, b) -> None:  # type: ignore[no-untyped-def]
    SubjectLink.objects.create(left=a, right=b, method="identifier", score=1.0, status="linked")


@pytest.fixture
def listings(publishers):  # type: ignore[no-untyped-def] # noqa: F811
    un = publish(
        publishers,
        "UNSC",
        "Ivan Shared",
        listed_on="2020-01-10",
        birth_dates=[{"kind": "exact", "date": "1970-01-01"}],
        identifiers=[{"kind": "passport", "number": "P1111111"}],
    )
    a = publish(publishers, "A", "SHARED, Ivan", listed_on="2020-03-10")
    b = publish(
        publishers,
        "B",
        "Ivan Sharedov",
        listed_on="2020-02-09",
        birth_dates=[{"kind": "exact", "date": "1971-02-02"}],
        identifiers=[{"kind": "passport", "number": "P2222222"}],
    )
    designation_delist(actor=publishers["B"], designation=b, reason="Court ruling.")
    link(un, a)
    link(a, b)
    publish(publishers, "UNSC", "Only The UN", listed_on="2019-05-05")
    secret = publish(publishers, "A", "Secret Twin", marking=Marking.AMBER, listed_on="2021-01-01")
    other_un = publish(publishers, "UNSC", "Secret Twin", listed_on="2020-12-01")
    link(other_un, secret)
    return {"un": un, "a": a, "b": b, "secret": secret}


def test_the_report_compares_jurisdictions(client, alice, listings) -> None:
    client.force_login(alice)
    body = client.get("/api/v1/divergence").json()
    assert body["jurisdictions"] == ["A", "B", "UNSC"]
    assert body["subjects_shared"] == 2  # Ivan, and the Secret Twin A may see
    ivan = next(s for s in body["subjects"] if s["name"] == "Ivan Shared")
    lags = {item["jurisdiction"]: item["lag_days"] for item in ivan["listings"]}
    assert lags == {"UNSC": 0, "B": 30, "A": 60}
    assert ivan["delisted_elsewhere"] is True  # B delisted, A and the UN keep it
    assert ivan["conflicts"] == [
        "dates of birth differ: 1970-01-01, 1971-02-02",
        "passport numbers differ: P1111111, P2222222",
    ]
    assert body["listed_by_one_only"] == {"UNSC": 1}
    # Active in the UN's list and not in B's: Ivan (B delisted), the twin and the UN's own;
    # not in A's: the UN's own only.
    assert body["active_here_not_there"]["UNSC"] == {"A": 1, "B": 3, "UNSC": 0}
    assert body["lag"]["A"] == {
        "subjects": 2,
        "median_days": 45.5,
        "mean_days": 45.5,
        "max_days": 60,
        "first_lister": 0,
    }


def test_nobody_learns_of_listings_they_may_not_see(client, bob, listings) -> None:
    client.force_login(bob)
    body = client.get("/api/v1/divergence").json()
    names = {s["name"] for s in body["subjects"]}
    assert names == {"Ivan Shared"}  # A's AMBER twin is not B's to see
    page = client.get("/divergence/")
    assert page.status_code == 200 and "Secret Twin" not in page.text
    lines = client.get("/divergence.csv")
    text = b"".join(lines.streaming_content).decode("utf-8-sig")
    assert "Secret Twin" not in text and str(listings["secret"].pk) not in text


def test_the_page_draws_the_lag_and_the_csv_has_every_listing(client, alice, listings) -> None:
    client.force_login(alice)
    page = client.get("/divergence/")
    assert page.status_code == 200
    assert '<svg class="lag-chart"' in page.text and "A: 45.5 days median" in page.text
    assert "dates of birth differ" in page.text
    rows = list(
        csv.DictReader(
            io.StringIO(
                b"".join(client.get("/divergence.csv").streaming_content).decode("utf-8-sig")
            )
        )
    )
    assert len(rows) == 5  # three listings of Ivan, two of the twin
    b_row = next(r for r in rows if r["designation"] == str(listings["b"].pk))
    assert (b_row["jurisdiction"], b_row["status"], b_row["lag_days"]) == ("B", "delisted", "30")
    assert b_row["delisted_elsewhere"] == "yes"


def test_bad_paging_is_a_problem(client, alice, listings) -> None:
    client.force_login(alice)
    answer = client.get("/api/v1/divergence", {"limit": "many"})
    assert answer.status_code == 400
    assert client.get("/api/v1/divergence", {"limit": 1}).json()["subjects"].__len__() == 1
