"""Pure functions of the history: times people type, and the bucket grid of a query.

No I/O and no Django: every time is an integer of milliseconds since the Unix epoch (UTC).
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime

# A relative time: a minus sign, a number and a unit, e.g. -24h, -30m, -7d, -1.5h, -90s, -2w.
_RELATIVE = re.compile(r"^-([0-9]{1,9}(?:\.[0-9]{1,3})?)([smhdw])$")
_UNIT_MS = {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
# An ISO 8601 date, or date and time (seconds, fraction and offset optional; none means UTC).
_ISO = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?(Z|[+-][0-9]{2}:[0-9]{2})?)?$"
)
TIME_FORMS = "an ISO 8601 time (2026-11-29T12:00:00Z), a relative time (-30m, -24h, -7d) or now"
# What the OpenAPI schema promises is accepted: a subset of the above that is always a real time
# (days up to 28, so every month has them).
TIME_PATTERN = (
    r"^(now|-[0-9]{1,5}(\.[0-9]{1,3})?[smhdw]|(19|20)[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])"
    r"(T([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?(Z|[+-](0[0-9]|1[0-3]):[0-5][0-9])?)?)$"
)

MINUTE_MS = 60_000
TEN_MINUTES_MS = 600_000


def parse_time(text: str, *, now_ms: int) -> int:
    """``text`` as milliseconds since the epoch; ``ValueError`` saying what is accepted.

    ISO 8601 with or without an offset (no offset means UTC), a date alone (its midnight UTC),
    ``now``, or a relative time before ``now_ms``.
    """
    if text == "now":
        return now_ms
    relative = _RELATIVE.match(text)
    if relative:
        ms = now_ms - round(float(relative.group(1)) * _UNIT_MS[relative.group(2)])
    elif _ISO.match(text):
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError as error:
            raise ValueError(f"{text[:64]!r} is not a time: {error}") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        ms = round(moment.timestamp() * 1000)
    else:
        raise ValueError(f"{text[:64]!r} is not a time: use {TIME_FORMS}")
    try:
        format_time(ms)
    except (ValueError, OverflowError, OSError):
        raise ValueError(f"{text[:64]!r} is too far from now") from None
    return ms


def format_time(ms: int) -> str:
    """``2026-11-29T12:03:10.000Z``: UTC, millisecond precision, the form every answer uses."""
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def bucket_width(*, since_ms: int, until_ms: int, points: int) -> int:
    """The width (ms) of the buckets that cut ``[since, until)`` into at most ``points`` pieces.

    Buckets lie on a grid of multiples of the width from the epoch, so they stay put as a chart's
    window slides (a refresh does not reshuffle the points). A width of a minute or more is a
    whole number of minutes, and of ten minutes or more a whole number of ten minutes, so stored
    per-minute and per-ten-minute summaries fall whole into buckets. A range of ``n`` widths
    touches at most ``n + 1`` grid buckets, hence ``points - 1`` below.
    """
    if points < 2:
        raise ValueError("points must be at least 2")
    span = max(until_ms - since_ms, 1)
    width = max(math.ceil(span / (points - 1)), 1)
    for step in (TEN_MINUTES_MS, MINUTE_MS):
        if width >= step:
            return math.ceil(width / step) * step
    return width


def split_range(since_ms: int, until_ms: int, granularities: tuple[int, ...]) -> list[tuple[int, int, int]]:
    """``[since, until)`` as pieces ``(level, start, end)``: whole units of the coarsest level inside,
    finer levels at the two edges. Level 0 is the raw samples; level ``i`` has unit ``granularities[i-1]``.
    """
    pieces: list[tuple[int, int, int]] = []

    def split(lo: int, hi: int, level: int) -> None:
        if lo >= hi:
            return
        if level == 0:
            pieces.append((0, lo, hi))
            return
        unit = granularities[level - 1]
        inner_lo, inner_hi = -(-lo // unit) * unit, hi // unit * unit
        if inner_lo >= inner_hi:
            split(lo, hi, level - 1)
            return
        split(lo, inner_lo, level - 1)
        pieces.append((level, inner_lo, inner_hi))
        split(inner_hi, hi, level - 1)

    split(since_ms, until_ms, len(granularities))
    return pieces
