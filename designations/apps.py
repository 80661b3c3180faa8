from __future__ import annotations

from django.apps import AppConfig


class DesignationsConfig(AppConfig):
    name = "designations"
    verbose_name = "Designations"
