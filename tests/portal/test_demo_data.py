"""What `make run` loads: a demo liaison signs in and finds a real UN-listed person by alias."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from agencies.models import User

pytestmark = pytest.mark.django_db


def test_demo_liaison_finds_a_un_listed_person_by_alias(settings, tmp_path) -> None:
    settings.VAR_DIR = tmp_path
    # No lists in the data folder: load_demo falls back to the test excerpt of the real list.
    call_command("load_demo", data_dir=tmp_path / "no-data")

    logins = dict(line.split() for line in (tmp_path / "demo-logins.txt").read_text().splitlines())
    assert (tmp_path / "demo-logins.txt").stat().st_mode & 0o777 == 0o600
    assert {"admin", "eu.liaison", "eu.publisher", "unsc.publisher"} <= set(logins)
    liaison = User.objects.get(username="eu.liaison")
    assert (liaison.agency.code, liaison.role) == ("EU-FISMA", "liaison")

    client = Client()
    response = client.post(
        reverse("login"), {"username": "eu.liaison", "password": logins["eu.liaison"]}
    )
    assert response.status_code == 302
    page = client.get(reverse("portal:designation-list"), {"q": "Abdul Aziz Mahsud"})
    assert [d.name for d in page.context["page"].object_list] == ["ABDUL AZIZ ABBASIN"]
    detail = client.get(page.context["page"].object_list[0].get_absolute_url())
    assert b"Travel reported" in detail.content  # a demo note


def test_demo_data_loads_twice_without_change(settings, tmp_path) -> None:
    settings.VAR_DIR = tmp_path
    call_command("load_demo", data_dir=tmp_path / "no-data")
    first = (tmp_path / "demo-logins.txt").read_text()
    users = User.objects.count()

    call_command("load_demo", data_dir=tmp_path / "no-data")

    assert (tmp_path / "demo-logins.txt").read_text() == first
    assert User.objects.count() == users


def test_demo_data_is_refused_in_production(settings, tmp_path) -> None:
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="not in production"):
        call_command("load_demo", data_dir=tmp_path)
    assert not User.objects.exists()


def test_the_demo_federation_splits_agencies_between_nodes(settings, tmp_path) -> None:
    from agencies.models import Agency
    from designations.models import Designation

    settings.VAR_DIR = tmp_path
    call_command("load_demo", data_dir=tmp_path / "no-data", part="eu")

    assert set(Agency.objects.values_list("code", flat=True)) == {"EU-FISMA", "GB-OFSI"}
    assert not User.objects.filter(username="unsc.publisher").exists()
    # The EU node holds its own work; the UN list arrives by sync from the UN node.
    assert set(Designation.objects.values_list("owner__code", flat=True)) == {"EU-FISMA"}
