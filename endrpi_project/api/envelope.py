"""The WebSocket envelope every reply and passive message uses, and its JSON codec.

A reply is ``{"action", "success", "data", "error"}`` plus the request's ``"id"`` when it sent one.
The codec is standard JSON only: ``NaN``, ``Infinity`` and numbers beyond a float are refused on the
way in, and never produced on the way out.
"""

from __future__ import annotations

import json
import re
from typing import Any

# "The request sent no id": distinct from an ``"id": null`` that must be echoed back.
NO_ID: Any = object()


def envelope(
    action: str | None, *, data: Any = None, error: str | None = None, request_id: Any = NO_ID
) -> dict[str, Any]:
    reply: dict[str, Any] = {"action": action, "success": error is None, "data": data, "error": error}
    if request_id is not NO_ID:
        reply["id"] = request_id
    return reply


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    number = float(text)
    if number in (float("inf"), float("-inf")):  # 1e999: a float cannot hold it, and JSON cannot say inf
        raise ValueError(f"number out of range: {text[:32]}")
    return number


# A \\uD800-\\uDFFF escape: the only way JSON text can carry a surrogate (UTF-8 cannot encode one).
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


class LoneSurrogate(ValueError):
    """JSON whose string holds a lone surrogate escape: well-formed, but not text."""


def json_decode(text: str) -> Any:
    """Standard JSON only: ``ValueError`` (or ``RecursionError``) for anything else.

    The one decoder of both edges (WebSocket frames and REST bodies), so both accept exactly the
    same JSON: no ``NaN``/``Infinity``, no number beyond a float, no lone surrogate (:class:`LoneSurrogate`).
    """
    data = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    if _SURROGATE_ESCAPE.search(text):
        try:  # a pair of escapes is one character and encodes; a lone one does not
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise LoneSurrogate("a string holds a lone surrogate escape (\\ud800-\\udfff), which is not text") from None
    return data


def json_encode(content: Any) -> str:
    return json.dumps(content, separators=(",", ":"), allow_nan=False)
