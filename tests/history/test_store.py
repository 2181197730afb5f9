"""The store against a brute-force reading of the same samples: buckets, summaries, buffer, pruning."""

from __future__ import annotations

import random
from typing import Any

import pytest
from django.db import connection

from endrpi_project.history import parsers
from endrpi_project.history.models import MinuteSummary, Sample, TenMinuteSummary, ThrottleEvent
from endrpi_project.history.simulation import simulated_samples
from endrpi_project.history.store import Event, HistoryStore, Sampled, ThrottleWatch
from tests.history.conftest import DAY_MS, START

pytestmark = pytest.mark.django_db

READINGS = ("temperature", "frequency", "memory", "throttle")


def brute_force(rows, *, since, until, points):
    """What the history must answer, computed the slow way from every sample."""
    width = parsers.bucket_width(since_ms=since, until_ms=until, points=points)
    buckets: dict[int, list[Any]] = {}
    for row in rows:
        if since <= row.time < until:
            buckets.setdefault(row.time // width, []).append(row.values)
    order = sorted(buckets)

    def line(column):
        values = [[r[column] for r in buckets[b] if r[column] is not None] for b in order]
        return {
            "min": [min(v) if v else None for v in values],
            "mean": [round(sum(v) / len(v), 3) if v else None for v in values],
            "max": [max(v) if v else None for v in values],
        }

    return {
        "time": [parsers.format_time(b * width) for b in order],
        "count": [len(buckets[b]) for b in order],
        "temperature": line("temperature"),
        "arm": line("arm"),
        "core": line("core"),
        "memory": line("memory"),
        "uv": [
            sum(r["throttle"] & 1 for r in buckets[b] if r["throttle"] is not None)
            / max(1, len([r for r in buckets[b] if r["throttle"] is not None]))
            for b in order
        ],
    }


def answer_lines(answer):
    def strip(line):
        return {key: line[key] for key in ("min", "mean", "max")}

    return {
        "time": answer["time"],
        "count": answer["count"],
        "temperature": strip(answer["readings"]["temperature"]["systemOnChip"]),
        "arm": strip(answer["readings"]["frequency"]["arm"]),
        "core": strip(answer["readings"]["frequency"]["core"]),
        "memory": strip(answer["readings"]["memory"]["available"]),
        "uv": [
            round(mean, 4) if mean is not None else 0
            for mean in answer["readings"]["throttle"]["underVoltageDetected"]["mean"]
        ],
    }


def with_gaps(rows, seed=3):
    """Some readings failed (NULL) and the server was off for a while."""
    rng = random.Random(seed)
    out = []
    for row in rows:
        if 2000 <= (row.time - START) // 10_000 < 2600:
            continue  # off
        values = dict(row.values)
        for column in ("temperature", "arm", "core", "memory", "throttle"):
            if rng.random() < 0.02:
                values[column] = None
        if values["arm"] is None or values["core"] is None:
            values["arm"] = values["core"] = None
        out.append(Sampled(time=row.time, values=values))
    return out


@pytest.fixture
def two_days(store):
    rows = with_gaps(simulated_samples(start=START, count=2 * 8640, interval_ms=10_000))
    for first in range(0, len(rows), 97):  # flushes that cut minutes and ten-minute blocks anywhere
        for row in rows[first : first + 97]:
            store.add_sample(row)
        store.flush(now=rows[min(first + 97, len(rows)) - 1].time)
    return rows


@pytest.mark.parametrize(
    ("offset", "span", "points"),
    [
        (0, 2 * DAY_MS, 500),  # ten-minute summaries inside, minutes and samples at the edges
        (12_345, DAY_MS + 777_777, 300),
        (3 * 3_600_000 + 59_999, 3 * 3_600_000, 100),  # minute summaries
        (5_000, 3_600_000, 500),  # samples only
        (DAY_MS, 10 * DAY_MS, 2),  # past the end
    ],
)
def test_a_query_answers_what_the_samples_say(store, two_days, offset, span, points):
    since, until = START + offset, START + offset + span
    answer = store.history(readings=READINGS, since=since, until=until, points=points)
    expected = brute_force(two_days, since=since, until=until, points=points)
    got = answer_lines(answer)
    assert got["time"] == expected["time"]
    assert got["count"] == expected["count"]
    for name in ("arm", "core", "memory"):
        assert got[name] == expected[name], name
    for stat in ("min", "max"):
        assert got["temperature"][stat] == expected["temperature"][stat]
    assert got["temperature"]["mean"] == pytest.approx(expected["temperature"]["mean"], abs=0.0011)
    assert got["uv"] == pytest.approx(expected["uv"], abs=0.0001)
    assert len(answer["time"]) <= points


def test_buffered_samples_are_in_the_answer_before_they_are_written(store):
    rows = simulated_samples(start=START, count=30, interval_ms=10_000)
    for row in rows[:20]:
        store.add_sample(row)
    store.flush(now=rows[19].time)
    for row in rows[20:]:
        store.add_sample(row)
    answer = store.history(readings=["temperature"], since=START, until=START + 300_000, points=100)
    assert sum(answer["count"]) == 30
    assert Sample.objects.count() == 20
    assert answer["readings"]["temperature"]["systemOnChip"]["max"][-1] == rows[-1].values["temperature"]


def test_one_flush_writes_samples_and_summaries_and_leaves_nothing_buffered(store):
    for row in simulated_samples(start=START, count=61, interval_ms=10_000):
        store.add_sample(row)
    store.flush(now=START + 600_000)
    assert Sample.objects.count() == 61
    assert sum(MinuteSummary.objects.values_list("samples", flat=True)) == 61
    assert sum(TenMinuteSummary.objects.values_list("samples", flat=True)) == 61
    assert store.buffer == []


def test_a_failed_write_keeps_the_buffer_and_writes_nothing(store, monkeypatch):
    for row in simulated_samples(start=START, count=6, interval_ms=10_000):
        store.add_sample(row)
    store.add_events([Event("underVoltage", start=START)])

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(store, "_prune", fail)
    with pytest.raises(RuntimeError):
        store.flush(now=START + 60_000)
    assert Sample.objects.count() == 0
    assert ThrottleEvent.objects.count() == 0
    assert len(store.buffer) == 6
    assert len(store.pending_events) == 1
    monkeypatch.undo()
    store.flush(now=START + 60_000)
    assert Sample.objects.count() == 6
    assert ThrottleEvent.objects.count() == 1


def test_rows_older_than_the_retention_are_pruned_in_the_write(store):
    short = HistoryStore(retention_ms=DAY_MS)
    rows = simulated_samples(start=START, count=3 * 8640, interval_ms=10_000)
    for first in range(0, len(rows), 360):
        for row in rows[first : first + 360]:
            short.add_sample(row)
        short.flush(now=rows[first].time + 3_600_000)
    cutoff = rows[-1].time + 10_000 - DAY_MS
    assert Sample.objects.filter(time__lt=cutoff).count() == 0
    assert Sample.objects.count() == pytest.approx(8640, abs=10)
    assert MinuteSummary.objects.filter(start__lt=cutoff - 60_000).count() == 0
    assert TenMinuteSummary.objects.filter(start__lt=cutoff - 600_000).count() == 0


def test_the_database_runs_in_write_ahead_log_mode_outside_tests():
    # The test database lives in memory; the signal that sets WAL runs for every connection.
    from endrpi_project.history.apps import _write_ahead_log

    calls = []

    class Cursor:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def execute(self, sql):
            calls.append(sql)

    class Connection:
        vendor = "sqlite"

        def cursor(self):
            return Cursor()

    _write_ahead_log(connection=Connection())
    assert calls == ["PRAGMA journal_mode=WAL"]
    assert connection.vendor == "sqlite"


class TestThrottleWatch:
    def test_a_now_flag_starts_and_ends_an_event(self):
        watch = ThrottleWatch()
        assert watch.observe(1000, 0x0) == []
        [started] = watch.observe(2000, 0x50005)[:1]
        assert (started.condition, started.start, started.end, started.observed) == ("underVoltage", 2000, None, True)
        assert {event.condition for event in watch.open.values()} == {"underVoltage", "throttling"}
        ended = watch.observe(6000, 0x50000)
        assert {(event.condition, event.start, event.end) for event in ended} == {
            ("underVoltage", 2000, 6000),
            ("throttling", 2000, 6000),
        }
        assert watch.open == {}

    def test_a_since_boot_flag_that_turns_on_between_checks_is_a_brief_event(self):
        watch = ThrottleWatch()
        watch.observe(1000, 0x0)
        [brief] = watch.observe(2000, 0x10000)
        assert (brief.condition, brief.start, brief.end, brief.observed) == ("underVoltage", 1000, 2000, False)
        assert watch.observe(3000, 0x10000) == []

    def test_a_since_boot_flag_already_set_at_the_first_check_happened_since_boot(self):
        assert ThrottleWatch().observe(1000, 0xF0000) == []
        watch = ThrottleWatch()
        found = watch.observe(9000, 0x50004, boot=1000)
        assert [(e.condition, e.start, e.end, e.observed) for e in found if not e.observed] == [
            ("underVoltage", 1000, 9000, False)
        ]
        assert watch.observe(10_000, 0x50004, boot=1000) == []

    def test_closing_ends_what_is_open(self):
        watch = ThrottleWatch()
        watch.observe(1000, 0x8)
        [closed] = watch.close(5000)
        assert (closed.condition, closed.end) == ("softTemperatureLimit", 5000)


def test_events_written_open_are_updated_when_they_end(store):
    watch = ThrottleWatch()
    store.add_events(watch.observe(START, 0x1))
    store.flush(now=START)
    assert ThrottleEvent.objects.get().end is None
    store.add_events(watch.observe(START + 4000, 0x10000))
    assert store.events(since=START, until=START + 10_000)[0]["durationSeconds"] == 4.0
    store.flush(now=START + 60_000)
    assert ThrottleEvent.objects.get().end == START + 4000
    [event] = store.events(since=START - 1, until=START + 1)
    assert event == {
        "condition": "underVoltage",
        "start": parsers.format_time(START),
        "end": parsers.format_time(START + 4000),
        "durationSeconds": 4.0,
        "observed": True,
    }


def test_an_event_left_open_by_a_power_cut_ends_at_the_last_sample_after_it(store):
    ThrottleEvent.objects.create(condition="underVoltage", start=START, end=None)
    Sample.objects.create(time=START + 30_000, temperature=50)
    Sample.objects.create(time=START - 30_000, temperature=50)
    ThrottleEvent.objects.create(condition="throttling", start=START + 90_000, end=None)
    store.close_dangling()
    assert dict(ThrottleEvent.objects.values_list("condition", "end")) == {
        "underVoltage": START + 30_000,
        "throttling": START + 90_000,
    }


def test_a_full_buffer_drops_its_oldest_and_still_answers(store):
    from endrpi_project.history.store import BUFFER_LIMIT

    rows = simulated_samples(start=START, count=BUFFER_LIMIT + 10, interval_ms=1000)
    for row in rows:
        store.add_sample(row)
    assert len(store.buffer) == BUFFER_LIMIT
    assert store.buffer[0] == rows[10]
    answer = store.history(readings=READINGS, since=START, until=START + DAY_MS, points=100)
    assert sum(answer["count"]) == BUFFER_LIMIT


def test_buffered_samples_join_a_query_as_numbers_only(store):
    """The buffer is written into the query's SQL as literals: a value that is not a number is refused
    (never text in SQL), and a float that is not finite is NULL."""
    store.add_sample(Sampled(time=START, values={"temperature": float("nan"), "memory": 5}))
    answer = store.history(readings=["temperature", "memory"], since=START, until=START + 60_000, points=2)
    assert answer["readings"]["temperature"]["systemOnChip"]["max"] == [None]
    assert answer["readings"]["memory"]["available"]["max"] == [5]
    text: Any = "1); DROP TABLE history_sample; --"
    store.add_sample(Sampled(time=START + 10_000, values={"temperature": text}))
    with pytest.raises(TypeError, match="a history sample holds numbers"):
        store.history(readings=["temperature"], since=START, until=START + 60_000, points=2)
    assert Sample.objects.count() == 0
