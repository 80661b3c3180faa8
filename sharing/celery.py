"""The Celery app. Tasks take ids, call one service, and are idempotent."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sharing.settings")

app = Celery("sharing")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
