"""The WebSocket envelope every reply and passive message uses, and its JSON codec.

A reply is ``{"action", "success", "data", "error"}`` plus the request's ``"id"`` when it sent one: exactly
the contract's keys. A connection that asked for them (``?summaries=1`` on its URL,
:func:`summaries_requested`) also gets ``"summary"`` (one plain sentence) beside the error of a reading
that failed; every other client never sees that key.
The codec is standard JSON only: ``NaN``, ``Infinity`` and numbers beyond a float are refused on the
way in, and never produced on the way out.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs

# "The request sent no id": distinct from an ``"id": null`` that must be echoed back.
NO_ID: Any = object()


def envelope(
    action: str | None,
    *,
    data: Any = None,
    error: str | None = None,
    summary: str | None = None,
    summaries: bool = False,
    request_id: Any = NO_ID,
) -> dict[str, Any]:
    """``summary``: an error's plain sentence (a reading that failed), sent as ``"summary"`` beside ``error``
    only where the connection opted in (``summaries``, from :func:`summaries_requested`): the one place
    that decides whether an envelope carries more than the contract's keys."""
    reply: dict[str, Any] = {"action": action, "success": error is None, "data": data, "error": error}
    if summaries and error is not None and summary is not None:
        reply["summary"] = summary
    if request_id is not NO_ID:
        reply["id"] = request_id
    return reply


# Values of ``summaries`` in a WebSocket URL's query that opt the connection in; any other value (or none) opts out.
SUMMARIES_ON = frozenset({"1", "true", "yes", "on"})


def summaries_requested(query_string: bytes) -> bool:
    """Whether a WebSocket URL's query asks for ``"summary"`` beside errors: ``ws://host:5000/?summaries=1``.

    Read once at connect. Other parameters (an access ``token``) are left to their own readers.
    """
    values = parse_qs(query_string.decode("latin-1")).get("summaries", [])
    return any(value.strip().lower() in SUMMARIES_ON for value in values)


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


# --- The id of a message refused whole, so a client matching replies by id is still answered -----------

# A message too large to be read whole is searched for its ``id`` in this many characters at most.
ID_SCAN_CHARS = 1024


class _Unreadable:
    """Stands for a value the codec refuses (``NaN``, ``1e999``, an integer too long): never echoed."""


_UNREADABLE = _Unreadable()


def _lenient_float(text: str) -> Any:
    number = float(text)
    return _UNREADABLE if number in (float("inf"), float("-inf")) else number


def _lenient_int(text: str) -> Any:
    try:
        return int(text)
    except ValueError:  # more digits than Python converts (sys.get_int_max_str_digits)
        return _UNREADABLE


_LENIENT = json.JSONDecoder(parse_constant=lambda name: _UNREADABLE, parse_float=_lenient_float, parse_int=_lenient_int)
_WHITESPACE = re.compile(r"[ \t\n\r]+")


def _skip_space(text: str, position: int) -> int:
    space = _WHITESPACE.match(text, position)
    return space.end() if space else position


def _echoable(value: Any) -> Any:
    """``value`` if the codec can send it back (finite, text without a lone surrogate), else :data:`NO_ID`."""
    try:
        json.dumps(value, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except (TypeError, ValueError, RecursionError):  # UnicodeEncodeError is a ValueError
        return NO_ID
    return value


def _leading_id(text: str) -> Any:
    """The top-level ``"id"`` of the object ``text`` starts with, if its member ends within the text."""
    position = _skip_space(text, 0)
    if not text.startswith("{", position):
        return NO_ID
    position += 1
    while True:
        position = _skip_space(text, position)
        key, position = _LENIENT.raw_decode(text, position)
        position = _skip_space(text, position)
        if not isinstance(key, str) or not text.startswith(":", position):
            return NO_ID
        position = _skip_space(text, position + 1)
        value, position = _LENIENT.raw_decode(text, position)
        if key == "id":
            return _echoable(value)
        position = _skip_space(text, position)
        if not text.startswith(",", position):
            return NO_ID
        position += 1


def refused_request_id(text: str, *, whole: bool = True) -> Any:
    """The ``id`` of a message refused whole (its reply must still carry it), or :data:`NO_ID`.

    With ``whole``, the message is read leniently (what the codec refuses stands for a value never
    echoed), so its top-level ``id`` is found wherever it is. A message too large to read whole
    (``whole=False``) is searched in its first :data:`ID_SCAN_CHARS` characters only: its ``id`` comes
    back if it is a member of the top-level object that ends there. An ``id`` that cannot be sent back
    (``NaN``, a lone surrogate) is not echoed.
    """
    try:
        if not whole:
            return _leading_id(text[:ID_SCAN_CHARS])
        content = _LENIENT.decode(text)
    except (ValueError, RecursionError):
        return NO_ID
    if not isinstance(content, dict) or "id" not in content:
        return NO_ID
    return _echoable(content["id"])
