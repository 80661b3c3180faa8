"""My account: who I am, my authenticator, my password."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods
from django_otp.plugins.otp_totp.models import TOTPDevice

from agencies.sharing_group_views import groups_of


class ReplaceAuthenticatorForm(forms.Form):
    code = forms.RegexField(
        regex=r"^\s*\d{6}\s*$",
        label="A code from your current authenticator",
        error_messages={"invalid": "Enter the 6 digits your app shows."},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


@login_required
@require_http_methods(["GET", "POST"])
def my_account(request: HttpRequest) -> HttpResponse:
    """GET/POST /account/: who I am; change my password; replace my authenticator (proven by a
    code from the current one, then set up again at the next page)."""
    user = request.user
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    password_form = PasswordChangeForm(user, prefix="password")  # type: ignore[arg-type]
    replace_form = ReplaceAuthenticatorForm(prefix="replace")
    action = request.POST.get("action")
    if action == "password":
        password_form = PasswordChangeForm(user, request.POST, prefix="password")  # type: ignore[arg-type]
        if password_form.is_valid():
            password_form.save()
            update_session_auth_hash(request, password_form.user)  # stay signed in here
            messages.success(request, "Password changed.")
            return redirect("my-account")
    elif action == "replace" and device is not None:
        replace_form = ReplaceAuthenticatorForm(request.POST, prefix="replace")
        if replace_form.is_valid():
            allowed, _detail = device.verify_is_allowed()
            if allowed and device.verify_token(replace_form.cleaned_data["code"].strip()):
                TOTPDevice.objects.filter(user=user).delete()
                messages.success(request, "Set up your new authenticator now.")
                return redirect("login-code-setup")
            replace_form.add_error("code", "That code is not right.")
    context = {
        "device": device,
        "password_form": password_form,
        "replace_form": replace_form,
        "sharing_groups": groups_of(request.user),
    }
    status = 400 if password_form.errors or replace_form.errors else 200
    return render(request, "portal/my_account.html", context, status=status)
