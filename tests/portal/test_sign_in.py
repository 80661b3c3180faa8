"""Signing in takes a password and a code from an authenticator app; wrong passwords and wrong
codes lock the account out; a password alone opens neither the portal nor the API."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from sharing.models import AuditAction, AuditEntry
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.django_db, pytest.mark.second_step]
LIST = "/designations/"


def code_for(device: TOTPDevice, *, wrong: bool = False) -> str:
    value = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    return f"{(value + 1) % 10**6 if wrong else value:06d}"


def sign_in(client: Client, username: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return client.post(reverse("login"), {"username": username, "password": password})


@pytest.fixture(autouse=True)
def no_wait_between_codes(request, settings) -> None:
    # django-otp makes a person wait after a wrong code; these tests do not wait, except the
    # one about the wait.
    if "wait" not in request.node.name:
        settings.OTP_TOTP_THROTTLE_FACTOR = 0


@pytest.fixture
def device(alice) -> TOTPDevice:
    return TOTPDevice.objects.create(user=alice, name="phone", confirmed=True)


def test_the_password_then_the_code_opens_the_portal(client, alice, device) -> None:
    assert sign_in(client, "alice").status_code == 302
    # A password alone: every page leads to the code step, and keeps where it was going.
    waiting = client.get(LIST)
    assert waiting.status_code == 302
    assert waiting.url == f"{reverse('login-code')}?next=%2Fdesignations%2F"
    assert client.get("/audit/").url.startswith(reverse("login-code"))
    assert client.get("/admin/").url.startswith(reverse("login-code"))

    page = client.get(waiting.url)
    assert page.status_code == 200 and 'autocomplete="one-time-code"' in page.text
    done = client.post(reverse("login-code"), {"code": code_for(device), "next": LIST})
    assert done.status_code == 302 and done.url == LIST
    assert client.get(LIST).status_code == 200


def test_a_password_alone_does_not_open_the_api(client, alice, device) -> None:
    sign_in(client, "alice")
    assert client.get("/api/v1/designations").status_code in (401, 403)
    client.post(reverse("login-code"), {"code": code_for(device)})
    assert client.get("/api/v1/designations").status_code == 200


def test_a_wrong_code_is_refused_and_recorded(client, alice, device) -> None:
    sign_in(client, "alice")
    wrong = client.post(reverse("login-code"), {"code": code_for(device, wrong=True)})
    assert wrong.status_code == 200 and "not right" in wrong.text
    not_digits = client.post(reverse("login-code"), {"code": "12ab56"})
    assert "6 digits" in not_digits.text
    assert client.get(LIST).status_code == 302  # still not past the step
    assert AuditEntry.objects.filter(action=AuditAction.LOGIN_FAILED, actor_name="alice").exists()


def test_repeated_wrong_codes_lock_the_account_and_sign_out(client, alice, device, settings):  # type: ignore[no-untyped-def]
    settings.AXES_FAILURE_LIMIT = 3
    sign_in(client, "alice")
    for _ in range(2):
        wrong = client.post(reverse("login-code"), {"code": code_for(device, wrong=True)})
        assert wrong.status_code == 200
    locked = client.post(reverse("login-code"), {"code": code_for(device, wrong=True)})
    assert locked.status_code == 429 and "locked" in locked.text
    assert client.get(LIST).url.startswith(reverse("login"))  # signed out
    # Locked: even the right password is refused now.
    again = sign_in(client, "alice")
    assert again.status_code == 429 and "locked" in again.text


def test_repeated_wrong_passwords_lock_the_account(client, alice, bob, settings) -> None:
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(3):
        assert sign_in(client, "alice", "not the password").status_code in (200, 429)
    locked = sign_in(client, "alice")
    assert locked.status_code == 429 and "locked" in locked.text
    assert client.get(LIST).status_code == 302
    # Another account is not affected.
    assert (
        Client().post(reverse("login"), {"username": "bob", "password": PASSWORD}).status_code
        == 302
    )


def test_a_person_without_an_authenticator_sets_one_up_with_a_code(client, alice) -> None:
    sign_in(client, "alice")
    to_setup = client.get(LIST)
    assert to_setup.url.startswith(reverse("login-code-setup"))
    page = client.get(to_setup.url)
    assert page.status_code == 200 and "<svg" in page.text and "Key:" in page.text
    device = TOTPDevice.objects.get(user=alice)
    assert not device.confirmed
    wrong = client.post(reverse("login-code-setup"), {"code": code_for(device, wrong=True)})
    assert "not right" in wrong.text and not TOTPDevice.objects.get(user=alice).confirmed

    done = client.post(reverse("login-code-setup"), {"code": code_for(device), "next": LIST})
    assert done.status_code == 302 and done.url == LIST
    assert TOTPDevice.objects.get(user=alice).confirmed
    assert client.get(LIST).status_code == 200


def test_next_never_leads_off_site(client, alice, device) -> None:
    sign_in(client, "alice")
    done = client.post(
        reverse("login-code"), {"code": code_for(device), "next": "https://evil.example/"}
    )
    assert done.status_code == 302 and done.url == reverse("home")


def test_the_demo_may_turn_the_code_step_off(client, alice, settings):  # type: ignore[no-untyped-def]
    settings.REQUIRE_TOTP = False
    sign_in(client, "alice")
    assert client.get(LIST).status_code == 200


def test_after_a_wrong_code_the_next_try_waits(client, alice, device) -> None:
    sign_in(client, "alice")
    client.post(reverse("login-code"), {"code": code_for(device, wrong=True)})
    hurried = client.post(reverse("login-code"), {"code": code_for(device)})
    assert "wait a few seconds" in hurried.text
    assert client.get(LIST).status_code == 302
