"""Template filters of the pages (``{% load endrpi_pages %}``)."""

from __future__ import annotations

import re

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

# A Markdown code span: `GPIO17` or ``{"io": "INPUT"}``, on one line.
_CODE_SPAN = re.compile(r"(`+)([^`\n]+?)\1")
# A line break inside a paragraph: DRF's ``linebreaks`` turns the docstring's wrapping into them.
_LINE_BREAK = re.compile(r"<br>\s*")


@register.filter
def code_spans(description: str) -> SafeString:
    """The browsable API's view description as text: Markdown code spans as ``<code>``, and a
    docstring's wrapped lines as one paragraph, as Markdown reads them.

    DRF escapes a docstring and keeps its backticks when the ``markdown`` package is not installed
    (``rest_framework.utils.formatting.markup_description``); Endrpi does not install it. The text
    is escaped first (a no-op for DRF's already safe HTML), so only the ``<code>`` tags are markup.
    """
    escaped = _LINE_BREAK.sub(" ", str(conditional_escape(description)))
    return mark_safe(_CODE_SPAN.sub(lambda match: f"<code>{match.group(2).strip()}</code>", escaped))
