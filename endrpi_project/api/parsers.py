"""The REST body parser: the WebSocket's JSON codec, so both edges accept exactly the same JSON.

DRF's own ``JSONParser`` lets three inputs through to a 500 with a traceback: a lone surrogate
(``"\\ud800"``) parses into a string that cannot be encoded back to UTF-8 when an error message
echoes it, JSON nested about a thousand levels deep raises ``RecursionError``, and neither is a
``ValueError``. Here each is a 400 ``Malformed request body`` that says what was wrong, and a body
over Django's upload limit is a 413 (``endrpi_project.api.errors``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser
from rest_framework.renderers import JSONRenderer

from endrpi_project.api.envelope import LoneSurrogate, json_decode


def json_body_decode(raw: bytes) -> Any:
    """A request body as standard JSON; :class:`ParseError` naming the problem for anything else."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ParseError(f"not UTF-8 text (byte {error.start})") from None
    try:
        data = json_decode(text)
    except RecursionError:
        raise ParseError("JSON nested too deeply") from None
    except LoneSurrogate as error:
        raise ParseError(str(error)) from None
    except ValueError as error:
        raise ParseError(f"JSON parse error - {error}") from None
    return data


class JSONParser(BaseParser):
    """``application/json`` bodies through :func:`json_body_decode`."""

    media_type = "application/json"
    renderer_class = JSONRenderer

    def parse(
        self, stream: IO[Any] | None, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> Any:
        """Reads at most Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (2.5 MB): more is a 413, as ``request.body`` says."""
        if stream is None:
            return json_body_decode(b"")
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read() if limit is None else stream.read(limit + 1)
        if limit is not None and len(raw) > limit:
            raise RequestDataTooBig("Request body exceeded settings.DATA_UPLOAD_MAX_MEMORY_SIZE.")
        return json_body_decode(raw)
