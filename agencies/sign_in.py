"""Two-step sign-in: the password (Django's LoginView, its failures counted by django-axes),
then a code from an authenticator app (TOTP, django-otp). Until the code is given, a signed-in
person reaches nothing but this step, its set-up and sign-out. `REQUIRE_TOTP` may turn the
second step off for the local demo only (settings refuse it in production)."""

from __future__ import annotations

import base64
from typing import Any

import segno
from axes.handlers.proxy import AxesProxyHandler
from django import forms
from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

# Reached before the second step: the steps themselves, and what authenticates otherwise (API
# tokens, node signatures) or needs no one.
OPEN_PREFIXES = ("/login/", "/logout/", "/static/", "/api/", "/sync/v1/")


def second_step_due(request: HttpRequest) -> bool:
    user = request.user
    return bool(
        settings.REQUIRE_TOTP and user.is_authenticated and not user.is_verified()  # type: ignore[union-attr]
    )


class RequireSecondStepMiddleware:
    """Send a person who gave the password but not yet the code to the second step."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if second_step_due(request) and not request.path.startswith(OPEN_PREFIXES):
            step = "login-code" if _device(request.user) else "login-code-setup"
            return redirect(f"{reverse(step)}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)


class CodeForm(forms.Form):
    code = forms.RegexField(
        label="Code from your authenticator app",
        regex=r"^\s*\d{6}\s*$",
        error_messages={"invalid": "Enter the 6 digits your app shows."},
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


def _device(user: Any, *, confirmed: bool = True) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=confirmed).first()


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return reverse(settings.LOGIN_REDIRECT_URL)


def _allowed(device: TOTPDevice, form: CodeForm) -> bool:
    """django-otp's own throttle: after a wrong code the next try waits (1, 2, 4... s)."""
    allowed, _detail = device.verify_is_allowed()
    if not allowed:
        form.add_error("code", "Too many tries in a row: wait a few seconds, then try again.")
    return allowed


def _wrong_code(request: HttpRequest, form: CodeForm) -> HttpResponse | None:
    """A wrong code counts as a failed sign-in (django-axes locks the account out after
    AXES_FAILURE_LIMIT of either); the lockout signs the person out."""
    credentials = {"username": request.user.get_username()}
    user_login_failed.send(sender=__name__, credentials=credentials, request=request)
    if AxesProxyHandler.is_locked(request, credentials):
        logout(request)
        return render(request, "registration/locked_out.html", status=429)
    form.add_error("code", "That code is not right. Codes change every 30 seconds.")
    return None


@login_required
@require_http_methods(["GET", "POST"])
def code(request: HttpRequest) -> HttpResponse:
    """GET/POST /login/code/: the second step."""
    device = _device(request.user)
    if device is None:
        return redirect(f"{reverse('login-code-setup')}?{urlencode({'next': _next(request)})}")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and _allowed(device, form):
        if device.verify_token(form.cleaned_data["code"].strip()):
            otp_login(request, device)
            return redirect(_next(request))
        if (locked := _wrong_code(request, form)) is not None:
            return locked
    return render(request, "registration/code.html", {"form": form, "next": _next(request)})


@login_required
@require_http_methods(["GET", "POST"])
def code_setup(request: HttpRequest) -> HttpResponse:
    """GET/POST /login/code/setup/: a person without an authenticator adds one (scan, then
    prove it with a code)."""
    if _device(request.user) is not None:
        return redirect(f"{reverse('login-code')}?{urlencode({'next': _next(request)})}")
    device = _device(request.user, confirmed=False) or TOTPDevice.objects.create(
        user=request.user, name="Authenticator app", confirmed=False
    )
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and _allowed(device, form):
        if device.verify_token(form.cleaned_data["code"].strip()):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            otp_login(request, device)
            return redirect(_next(request))
        if (locked := _wrong_code(request, form)) is not None:
            return locked
    context = {
        "form": form,
        "next": _next(request),
        # Inline SVG: no image request, no script, nothing for the CSP to allow.
        "qr_svg": segno.make(device.config_url, error="m").svg_inline(scale=4),
        "secret": base64.b32encode(device.bin_key).decode(),
    }
    return render(request, "registration/code_setup.html", context)
