"""The WebSocket envelope every reply and passive message uses, and its JSON codec.

A reply is ``{"action", "success", "data", "error"}`` plus the request's ``"id"`` when it sent one.
The codec is standard JSON only: ``NaN``, ``Infinity`` and numbers beyond a float are refused on the
way in, and never produced on the way out.
"""

from __future__ import annotations

import json
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


def json_decode(text: str) -> Any:
    """Standard JSON only: ``ValueError`` (or ``RecursionError``) for anything else."""
    return json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)


def json_encode(content: Any) -> str:
    return json.dumps(content, separators=(",", ":"), allow_nan=False)
