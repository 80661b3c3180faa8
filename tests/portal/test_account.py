"""My account: password and authenticator."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db
ACCOUNT = "/account/"


def test_the_account_page_says_who_i_am(client, alice) -> None:
    client.force_login(alice)
    page = client.get(ACCOUNT)
    assert page.status_code == 200 and "alice" in page.text and "Agency A" in page.text
    assert "Not set up yet" in page.text


def test_a_password_change_needs_the_old_one_and_keeps_me_signed_in(client, alice) -> None:
    client.force_login(alice)
    new = "a much longer new passphrase 2026"
    wrong = client.post(
        ACCOUNT,
        {
            "action": "password",
            "password-old_password": "not it",
            "password-new_password1": new,
            "password-new_password2": new,
        },
    )
    assert wrong.status_code == 400
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)
    done = client.post(
        ACCOUNT,
        {
            "action": "password",
            "password-old_password": PASSWORD,
            "password-new_password1": new,
            "password-new_password2": new,
        },
    )
    assert done.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password(new)
    assert client.get(ACCOUNT).status_code == 200  # still signed in here


def test_an_authenticator_is_replaced_only_with_a_code_from_it(client, alice, settings) -> None:
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    device = TOTPDevice.objects.create(user=alice, name="old phone", confirmed=True)
    client.force_login(alice)
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    wrong = client.post(ACCOUNT, {"action": "replace", "replace-code": f"{(code + 1) % 10**6:06d}"})
    assert wrong.status_code == 400 and TOTPDevice.objects.filter(user=alice).exists()
    done = client.post(ACCOUNT, {"action": "replace", "replace-code": f"{code:06d}"})
    assert done.status_code == 302 and done.url == reverse("login-code-setup")
    assert not TOTPDevice.objects.filter(user=alice).exists()
