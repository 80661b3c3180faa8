from __future__ import annotations

from django import template
from django.utils.safestring import SafeString, mark_safe

from designations.markdown import render_markdown

register = template.Library()


@register.filter
def markdown(text: str) -> SafeString:
    """A note's Markdown as cleaned HTML (designations.markdown)."""
    return mark_safe(render_markdown(text or ""))  # noqa: S308 - cleaned by nh3 just above
