"""Pure functions of the history: times people type, and the bucket grid of a query.

No I/O and no Django: every time is an integer of milliseconds since the Unix epoch (UTC).
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime

# A relative time: a minus sign, a number and a unit, e.g. -24h, -30m, -7d, -1.5h, -90s, -2w.
_RELATIVE = re.compile(r"^-\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)$")
_UNIT_MS = {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
TIME_FORMS = "an ISO 8601 time (2026-11-29T12:00:00Z), a relative time (-30m, -24h, -7d) or now"

MINUTE_MS = 60_000
TEN_MINUTES_MS = 600_000


def parse_time(text: str, *, now_ms: int) -> int:
    """``text`` as milliseconds since the epoch; ``ValueError`` saying what is accepted.

    ISO 8601 with or without an offset (no offset means UTC), a date alone (its midnight UTC),
    ``now``, or a relative time before ``now_ms``.
    """
    value = text.strip()
    if value.lower() == "now":
        return now_ms
    relative = _RELATIVE.match(value.lower())
    if relative:
        amount, unit = float(relative.group(1)), relative.group(2)
        return now_ms - round(amount * _UNIT_MS[unit])
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{text[:64]!r} is not a time: use {TIME_FORMS}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return round(moment.timestamp() * 1000)


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
