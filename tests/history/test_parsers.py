from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from endrpi_project.history import parsers

NOW = 1_795_000_000_000  # 2026-11-19T...


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("now", NOW),
        ("-24h", NOW - 86_400_000),
        ("-30m", NOW - 1_800_000),
        ("-7d", NOW - 7 * 86_400_000),
        ("-90s", NOW - 90_000),
        ("-2w", NOW - 14 * 86_400_000),
        ("-1.5h", NOW - 5_400_000),
        ("2026-11-29T12:00:00Z", 1_795_953_600_000),
        ("2026-11-29T12:00:00", 1_795_953_600_000),
        ("2026-11-29T13:00:00+01:00", 1_795_953_600_000),
        ("2026-11-29T12:00:00.250Z", 1_795_953_600_250),
        ("2026-11-29", 1_795_910_400_000),
    ],
)
def test_it_reads_iso_and_relative_times(text, expected):
    assert parsers.parse_time(text, now_ms=NOW) == expected


@pytest.mark.parametrize(
    "text", ["", "yesterday", "-24x", "24h", "+1h", "-h", "12:00", "NOW", " -24h", "2026-11-29 12:00", "20261129"]
)
def test_it_refuses_other_text_saying_what_it_accepts(text):
    with pytest.raises(ValueError, match="is not a time: use an ISO 8601 time"):
        parsers.parse_time(text, now_ms=NOW)


def test_times_are_written_in_utc_with_milliseconds():
    assert parsers.format_time(1_795_953_600_250) == "2026-11-29T12:00:00.250Z"
    assert parsers.parse_time(parsers.format_time(NOW + 7), now_ms=0) == NOW + 7


@given(
    since=st.integers(min_value=1_600_000_000_000, max_value=1_900_000_000_000),
    span=st.integers(min_value=1, max_value=400 * 86_400_000),
    points=st.integers(min_value=2, max_value=10_000),
)
def test_buckets_never_outnumber_points(since, span, points):
    until = since + span
    width = parsers.bucket_width(since_ms=since, until_ms=until, points=points)
    touched = (until - 1) // width - since // width + 1
    assert touched <= points
    if width >= parsers.TEN_MINUTES_MS:
        assert width % parsers.TEN_MINUTES_MS == 0
    elif width >= parsers.MINUTE_MS:
        assert width % parsers.MINUTE_MS == 0


def test_thirty_days_in_500_points_are_ninety_minute_buckets():
    assert parsers.bucket_width(since_ms=0, until_ms=30 * 86_400_000, points=500) == 90 * 60_000


@given(
    since=st.integers(min_value=0, max_value=10**10),
    span=st.integers(min_value=0, max_value=10**8),
)
def test_a_range_splits_into_adjacent_pieces_aligned_to_their_level(since, span):
    units = (60_000, 600_000)
    pieces = parsers.split_range(since, since + span, units)
    position = since
    for level, start, end in pieces:
        assert start == position
        assert end > start
        if level:
            assert start % units[level - 1] == 0
            assert end % units[level - 1] == 0
        position = end
    assert position == since + span or (span == 0 and not pieces)


@pytest.mark.parametrize("text", ["2026-13-01", "2026-02-30", "0000-01-01", "2026-11-29T25:00"])
def test_it_refuses_dates_that_do_not_exist(text):
    with pytest.raises(ValueError, match="is not a time"):
        parsers.parse_time(text, now_ms=NOW)


@given(st.from_regex(parsers.TIME_PATTERN, fullmatch=True))
def test_every_time_the_schema_promises_is_accepted(text):
    parsers.parse_time(text, now_ms=NOW)
