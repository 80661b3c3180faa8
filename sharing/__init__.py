"""The platform: settings, urls, Celery app, and the sharing core."""

from __future__ import annotations

from sharing.celery import app as celery_app

__all__ = ["celery_app"]
