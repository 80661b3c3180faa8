from __future__ import annotations

from django.apps import AppConfig


class SharingConfig(AppConfig):
    name = "sharing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth import signals
        from django.db.models.signals import post_migrate

        from sharing import access, grants, sign_ins

        grants.connect_signals()
        post_migrate.connect(access.clear_permission_cache, dispatch_uid="access-perm-cache")
        signals.user_logged_in.connect(sign_ins.signed_in, dispatch_uid="audit-login")
        signals.user_logged_out.connect(sign_ins.signed_out, dispatch_uid="audit-logout")
        signals.user_login_failed.connect(sign_ins.sign_in_failed, dispatch_uid="audit-failed")
