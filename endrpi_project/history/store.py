"""The history's memory and its database: samples buffered, written in one transaction, queried.

One :class:`HistoryStore` per process, used from one thread at a time (the sampler's own worker
thread, see :mod:`...sampler`), so its buffers need no locks. A write (:meth:`HistoryStore.flush`)
is one SQLite transaction: the buffered samples, their per-minute and per-ten-minute summaries
recomputed, the events that started or ended, and (once an hour) the rows older than the retention
deleted. A
power cut therefore loses at most what was buffered, and never leaves half a write behind.

A query reads the summaries for the inside of a long range and the samples at its edges (see
:func:`parsers.split_range`), plus the samples still buffered, so it always includes the latest.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction

from endrpi_project.history import parsers
from endrpi_project.history.models import MinuteSummary, Sample, TenMinuteSummary, ThrottleEvent
from endrpi_project.history.series import CONDITIONS, Layout, Series, layout, quoted
from endrpi_project.readings.declaration import Number

SAMPLE_TABLE = Sample._meta.db_table
# Summary levels, finest first: (table, unit of time in ms).
LEVELS = ((MinuteSummary._meta.db_table, parsers.MINUTE_MS), (TenMinuteSummary._meta.db_table, parsers.TEN_MINUTES_MS))

# Old rows are deleted in the first write of each hour: deleting touches the first pages of each
# table, so doing it every minute would double what every write puts on the SD card.
PRUNE_EVERY_MS = 3_600_000
# Samples kept while writes fail, at most; the oldest are dropped first.
BUFFER_LIMIT = 5_000


def _literal(value: Any) -> str:
    """A sample's number as an SQL literal (the buffer joins a query as literals: however many samples
    and columns, no limit on parameters applies). Only numbers and NULL: anything else is refused."""
    if value is None:
        return "NULL"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"a history sample holds numbers, not {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        return "NULL"
    return repr(int(value)) if isinstance(value, int) else repr(float(value))


@dataclass(frozen=True)
class Sampled:
    """A sample as buffered and stored: its time (ms) and each sample column's value (None: failed).

    ``values`` is keyed by column name (``temperature``, ``arm``, ``throttle``); a column it lacks is NULL.
    """

    time: int
    values: Mapping[str, Number | None]
    failed: frozenset[str] = frozenset()  # the readings that failed (their columns are NULL)

    def row(self, fields: Sequence[str]) -> list[Number | None]:
        return [self.time, *(self.values.get(name) for name in fields[1:])]


@dataclass(eq=False)
class Event:
    """A throttle or under-voltage condition; ``end`` is ``None`` while it lasts."""

    condition: str
    start: int
    end: int | None = None
    observed: bool = True
    pk: int | None = field(default=None, repr=False)

    def wire(self) -> dict[str, Any]:
        return {
            "condition": self.condition,
            "start": parsers.format_time(self.start),
            "end": None if self.end is None else parsers.format_time(self.end),
            "durationSeconds": None if self.end is None else (self.end - self.start) / 1000,
            "observed": self.observed,
        }


class ThrottleWatch:
    """Turns successive throttle words into events.

    A "now" flag that is set starts an event and its clearing ends it. A "since boot" flag that
    turns on between two checks while its "now" flag was never seen set is an event too brief to
    watch: it is recorded as having happened between the two checks (``observed`` false).
    """

    def __init__(self) -> None:
        self.open: dict[str, Event] = {}
        self._last: tuple[int, int] | None = None  # (time, word) of the last successful check

    @property
    def watched(self) -> bool:
        """Whether a throttle word has been seen yet."""
        return self._last is not None

    def observe(self, now: int, word: int, *, boot: int | None = None) -> list[Event]:
        """The events that started, ended or are found with this word.

        On the first word, a "since boot" flag already set (with its "now" flag clear) is an event
        between ``boot`` (when given) and now: it happened before the watch began.
        """
        changed: list[Event] = []
        for condition, now_bit, boot_bit in CONDITIONS:
            active = bool(word >> now_bit & 1)
            event = self.open.get(condition)
            if active and event is None:
                event = self.open[condition] = Event(condition, start=now)
                changed.append(event)
            elif not active and event is not None:
                event.end = now
                del self.open[condition]
                changed.append(event)
            elif not active and self._last is not None:
                before, was = self._last
                if not was >> boot_bit & 1 and word >> boot_bit & 1:
                    changed.append(Event(condition, start=before, end=now, observed=False))
            elif not active and boot is not None and word >> boot_bit & 1:
                changed.append(Event(condition, start=boot, end=now, observed=False))
        self._last = (now, word)
        return changed

    def close(self, now: int) -> list[Event]:
        """End every open event at ``now`` (the server stops watching)."""
        closed = list(self.open.values())
        for event in closed:
            event.end = now
        self.open.clear()
        return closed


def _summary_select(names: Sequence[str], source: str, shape: Layout) -> str:
    """``sum(x_n), min(x_min), ...`` over a finer level's rows (``source`` "sample" or "summary")."""
    parts = []
    for name in names:
        column = shape.column[name]
        operand = column.per_sample if source == "sample" else quoted(name)
        parts.append(f"{column.aggregate}({operand})")
    return ", ".join(parts)


class HistoryStore:
    """Buffered samples and events, the flush that writes them, and the queries that read them."""

    def __init__(self, *, retention_ms: int) -> None:
        self.retention_ms = retention_ms
        self.buffer: list[Sampled] = []
        self.pending_events: list[Event] = []  # started, ended or recorded since the last write
        self.latest: Sampled | None = None
        self._pruned_at: int | None = None

    # --- writing -----------------------------------------------------------------------------

    def shape(self, cursor: Any, names: Iterable[str] = ()) -> Layout:
        """The declared layout with the keyed columns the tables hold and those ``names`` bring (new keys),
        after adding to the tables the columns it needs and they lack (a reading declared, or a key seen,
        since they were made). SQLite adds a column without rewriting the table; columns no longer
        declared stay, with their data."""
        cursor.execute(f"PRAGMA table_info({SAMPLE_TABLE})")
        have = {row[1] for row in cursor.fetchall()}
        shape = layout().with_keyed([*have, *names])
        self._columns_add(cursor, SAMPLE_TABLE, have, [(column.name, column.integer) for column in shape.sampled])
        for table, _ in LEVELS:
            cursor.execute(f"PRAGMA table_info({table})")
            existing = {row[1] for row in cursor.fetchall()}
            self._columns_add(cursor, table, existing, [(column.name, column.integer) for column in shape.columns])
        return shape

    @staticmethod
    def _columns_add(cursor: Any, table: str, have: set[str], wanted: list[tuple[str, bool]]) -> None:
        for name, integer in wanted:
            if name not in have:
                cursor.execute(f"ALTER TABLE {table} ADD COLUMN {quoted(name)} {'integer' if integer else 'real'} NULL")

    def add_sample(self, row: Sampled) -> None:
        if len(self.buffer) >= BUFFER_LIMIT:  # writes keep failing (a full or read-only disk)
            del self.buffer[0]
        self.buffer.append(row)
        self.latest = row

    def add_events(self, events: Iterable[Event]) -> None:
        for event in events:
            if event not in self.pending_events:
                self.pending_events.append(event)

    def flush(self, *, now: int) -> None:
        """Write everything buffered, and prune, in one transaction; on failure keep it buffered."""
        rows, events = self.buffer, self.pending_events
        created: list[tuple[Event, int]] = []
        with transaction.atomic():
            with connection.cursor() as cursor:
                if rows:
                    shape = self.shape(cursor, {name for row in rows for name in row.values})
                    fields = shape.sample_fields
                    placeholders = ", ".join(["%s"] * len(fields))
                    columns = ", ".join(quoted(name) for name in fields)
                    cursor.executemany(
                        f"INSERT OR REPLACE INTO {SAMPLE_TABLE} ({columns}) VALUES ({placeholders})",
                        [row.row(fields) for row in rows],
                    )
                    self._summarize(cursor, {row.time for row in rows}, shape)
                prune = self._pruned_at is None or now - self._pruned_at >= PRUNE_EVERY_MS
                if prune:
                    self._prune(cursor, cutoff=now - self.retention_ms)
            for event in events:
                if event.pk is None:
                    stored = ThrottleEvent.objects.create(
                        condition=event.condition, start=event.start, end=event.end, observed=event.observed
                    )
                    created.append((event, stored.pk))
                else:
                    ThrottleEvent.objects.filter(pk=event.pk).update(end=event.end)
        for event, pk in created:
            event.pk = pk
        if prune:
            self._pruned_at = now
        self.buffer = self.buffer[len(rows) :]
        self.pending_events = [event for event in self.pending_events if event not in events]

    def _summarize(self, cursor: Any, times: set[int], shape: Layout) -> None:
        """Recompute the summaries of every unit of time these sample times fall in."""
        names = [column.name for column in shape.columns]
        source_table, source_key, source = SAMPLE_TABLE, "time", "sample"
        for table, unit in LEVELS:
            starts = sorted({time // unit * unit for time in times})
            select = _summary_select(names, source, shape)
            cursor.executemany(
                f"INSERT OR REPLACE INTO {table} (start, {', '.join(quoted(name) for name in names)}) "
                f"SELECT %s, {select} FROM {source_table} WHERE {source_key} >= %s AND {source_key} < %s "
                "HAVING count(*) > 0",
                [(start, start, start + unit) for start in starts],
            )
            source_table, source_key, source = table, "start", "summary"
            times = set(starts)

    def _prune(self, cursor: Any, *, cutoff: int) -> None:
        cursor.execute(f"DELETE FROM {SAMPLE_TABLE} WHERE time < %s", [cutoff])
        for table, unit in LEVELS:
            cursor.execute(f"DELETE FROM {table} WHERE start + %s <= %s", [unit, cutoff])
        ThrottleEvent.objects.filter(start__lt=cutoff, end__lt=cutoff).delete()

    def seen_since(self, condition: str, since: int) -> bool:
        """Whether an event of ``condition`` lasting until ``since`` or later is recorded."""
        if any(e.condition == condition and (e.end is None or e.end >= since) for e in self.pending_events):
            return True
        return ThrottleEvent.objects.filter(condition=condition).exclude(end__lt=since).exists()

    def close_dangling(self) -> None:
        """Events left open by a server that stopped without closing them (a power cut): they end at
        the last sample written after they started, or at their start."""
        for event in ThrottleEvent.objects.filter(end__isnull=True):
            last = Sample.objects.filter(time__gte=event.start).order_by("-time").values_list("time", flat=True).first()
            ThrottleEvent.objects.filter(pk=event.pk).update(end=last if last is not None else event.start)

    # --- reading -----------------------------------------------------------------------------

    def history(self, *, readings: Sequence[str], since: int, until: int, points: int) -> dict[str, Any]:
        """Evenly bucketed series (min, mean, max per bucket) of ``readings`` over ``[since, until)``.

        Buckets without samples (the server was off) are left out; ``count`` says how many samples
        each bucket holds.
        """
        width = parsers.bucket_width(since_ms=since, until_ms=until, points=points)
        with connection.cursor() as cursor:
            shape = self.shape(cursor, {name for row in self.buffer for name in row.values})
        chosen = [series for series in shape.series if series.reading in readings]
        names = ["samples", *dict.fromkeys(name for series in chosen for name in series.columns)]
        # An inverted range is an empty one.
        # Buckets in time order, as columns: ``column[name]`` is that summary column's value per bucket.
        order, column = self._buckets(names, shape, since=since, until=max(until, since), width=width)
        out: dict[str, Any] = {
            "since": parsers.format_time(since),
            "until": parsers.format_time(until),
            "bucketSeconds": width / 1000,
            "time": [parsers.format_time(index * width) for index in order],
            "count": list(column["samples"]),
            "readings": {},
        }
        for series in chosen:
            out["readings"].setdefault(series.reading, {})[series.key] = _line(series, column)
        return out

    def _buckets(
        self, names: Sequence[str], shape: Layout, *, since: int, until: int, width: int
    ) -> tuple[list[int], dict[str, Sequence[Any]]]:
        """The bucket indexes in order, and each aggregated column's value per bucket, from the summaries,
        the samples and the buffer (column-wise: a series is then a few list comprehensions)."""
        granularities = tuple(unit for _, unit in LEVELS if width % unit == 0)
        per_sample = ", ".join(f"{shape.column[name].per_sample} AS {quoted(name)}" for name in names)
        fields = shape.sample_fields
        selects: list[str] = []
        params: list[Any] = []
        for level, start, end in parsers.split_range(since, until, granularities):
            if level == 0:
                selects.append(
                    f"SELECT time / {width} AS bucket, {per_sample} FROM {SAMPLE_TABLE} WHERE time >= %s AND time < %s"
                )
            else:
                table = LEVELS[level - 1][0]
                selects.append(
                    f"SELECT start / {width} AS bucket, {', '.join(quoted(name) for name in names)} FROM {table} "
                    "WHERE start >= %s AND start < %s"
                )
            params += [start, end]
        buffered = [row for row in self.buffer if since <= row.time < until]
        prefix = ""
        if buffered:
            # Samples not written yet join the query as a table of values, summed by the same SQL.
            values = ", ".join("(" + ", ".join(_literal(value) for value in row.row(fields)) + ")" for row in buffered)
            prefix = f"WITH buffered ({', '.join(quoted(name) for name in fields)}) AS (VALUES {values}) "
            selects.append(f"SELECT time / {width} AS bucket, {per_sample} FROM buffered")
        if not selects:
            return [], {name: [] for name in names}
        sql = (
            f"{prefix}SELECT bucket, {_summary_select(names, 'summary', shape)} FROM ({' UNION ALL '.join(selects)}) "
            "GROUP BY bucket ORDER BY bucket"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            fetched = cursor.fetchall()
        if not fetched:
            return [], {name: [] for name in names}
        order, *by_column = zip(*fetched, strict=True)
        return list(order), dict(zip(names, by_column, strict=True))

    def events(self, *, since: int, until: int) -> list[dict[str, Any]]:
        """Events that overlap ``[since, until)``, oldest first; those not yet written included."""
        by_key: dict[tuple[str, int], Event] = {}
        if since >= until:
            return []
        stored = ThrottleEvent.objects.filter(start__lt=until).exclude(end__lt=since).order_by("start")
        for row in stored:
            by_key[(row.condition, row.start)] = Event(row.condition, row.start, row.end, row.observed, row.pk)
        for event in self.pending_events:
            if event.start < until and (event.end is None or event.end >= since):
                by_key[(event.condition, event.start)] = event
        return [event.wire() for event in sorted(by_key.values(), key=lambda event: (event.start, event.condition))]


def _line(series: Series, column: dict[str, Sequence[Any]]) -> dict[str, Any]:
    """One series' min, mean and max per bucket (``None`` where the bucket has none of its samples)."""
    counts, totals = column[series.count], column[series.total]
    kept = [bool(count) and total is not None for count, total in zip(counts, totals, strict=True)]
    if series.flag:
        minimum = [int(total == count) if ok else None for ok, count, total in zip(kept, counts, totals, strict=True)]
        mean = [round(total / count, 4) if ok else None for ok, count, total in zip(kept, counts, totals, strict=True)]
        maximum = [int(total > 0) if ok else None for ok, total in zip(kept, totals, strict=True)]
    else:
        low, high = column[series.minimum], column[series.maximum]  # type: ignore[index]
        minimum = [value if ok else None for ok, value in zip(kept, low, strict=True)]
        mean = [round(total / count, 3) if ok else None for ok, count, total in zip(kept, counts, totals, strict=True)]
        maximum = [value if ok else None for ok, value in zip(kept, high, strict=True)]
    return {"unitOfMeasurement": series.unit, "prefix": series.prefix, "min": minimum, "mean": mean, "max": maximum}
