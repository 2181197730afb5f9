"""The sampler: a task on the server's event loop that takes the history's readings.

Every second it asks the firmware for the throttle word (the events watch); every
``ENDRPI_HISTORY_INTERVAL`` seconds it also reads every reading whose declaration has a ``history``
(a sample, see :mod:`.series`); every
``ENDRPI_HISTORY_FLUSH_INTERVAL`` seconds it writes what it buffered. All of that runs in the
sampler's one worker thread (the readings go through :mod:`system.services`, which may wait on the
firmware; the writes wait on the disk), never on the event loop, and queries of the history run in
the same thread, so the buffer has one owner. When the throttle word cannot be read (no firmware
here) the per-second watch pauses and is retried with each sample.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from django.conf import settings
from django.db import DatabaseError, connections

from endrpi_project.api.errors import ReadingFailed
from endrpi_project.history.parsers import format_time
from endrpi_project.history.series import Layout, keyed_column, layout
from endrpi_project.history.store import BUFFER_LIMIT, Event, HistoryStore, Sampled, ThrottleWatch
from endrpi_project.push.hub import publish
from system import services as system
from system.parsers import THROTTLE_BITS, snake_case

logger = logging.getLogger(__name__)

T = TypeVar("T")

WATCH_SECONDS = 1.0
EARLY = 0.05  # seconds a tick may come before it is due and still count as on time
HISTORY_GROUP = "endrpi.history"
EVENTS_GROUP = "endrpi.events"
HISTORY_UPDATED = "HISTORY_UPDATED"
EVENTS_CHANGED = "EVENTS_CHANGED"
THROTTLE = "throttle"  # the reading the events watch reads every second


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def throttle_word(throttle: Any) -> int:
    """The firmware word back from a ``Throttle`` reading (each flag at its bit of ``system.parsers.THROTTLE_BITS``)."""
    word = 0
    for field, bit in THROTTLE_BITS.items():
        if getattr(throttle, snake_case(field)):
            word |= 1 << bit
    return word


def _taken(read: Callable[[], T]) -> T | None:
    try:
        return read()
    except ReadingFailed:
        return None


def _sticky_since(now: int, throttle: Any) -> int | None:
    """Since when the "has occurred" flags of this answer tell: the boot (the firmware's text command),
    or the last 2 seconds (the property tag, which the kernel's hwmon driver clears every 2 s)."""
    if throttle.history_window == "LAST_2_SECONDS":
        return now - 2000
    uptime = _taken(system.uptime_read)
    return None if uptime is None else now - round(uptime.seconds * 1000)


def sample_wire(row: Sampled, shape: Layout | None = None) -> dict[str, Any]:
    """A sample as pushed on ``HISTORY``: each kept reading's series by key (a flag as a boolean, a
    keyed series as ``<key>.<suffix>``), null where the reading failed."""
    shape = (shape or layout()).with_keyed(row.values)
    out: dict[str, Any] = {"time": format_time(row.time)}
    for reading in shape.readings:
        out[reading] = None if reading in row.failed else {}
    for series in shape.series:
        section = out.get(series.reading)
        if section is None or series.source not in row.values:
            continue
        value = row.values[series.source]
        if series.flag_bit is not None:
            section[series.key] = bool(int(value or 0) >> series.flag_bit & 1)
        else:
            section[series.key] = value
    return out


Published = list[tuple[str, str, Any]]


class Sampler:
    """Runs the history: readings on a schedule, events, writes; owns the store's thread."""

    def __init__(self, *, store: HistoryStore, interval: float, flush_interval: float) -> None:
        self.store = store
        self.interval = interval
        self.flush_interval = flush_interval
        self.watch = ThrottleWatch()
        self.watching = True
        self._executor: ThreadPoolExecutor | None = None
        self._thread: threading.Thread | None = None
        self._task: asyncio.Task[None] | None = None

    # --- on the event loop ----------------------------------------------------------------------

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="endrpi-history")
        await loop.run_in_executor(self._executor, self._begin)
        self._task = loop.create_task(self._run(), name="endrpi-history-sampler")

    async def stop(self) -> None:
        """Stop sampling, end the open events and write what is buffered."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        executor = self._executor
        if executor is not None:
            # Queries that arrive meanwhile still queue behind the final write, in the same thread.
            published = await asyncio.get_running_loop().run_in_executor(executor, self._finish)
            self._executor = None
            _publish(published)
            executor.shutdown(wait=False)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_sample = last_flush = loop.time()
        due = loop.time()
        while True:
            now = loop.time() + EARLY  # asyncio may wake a timer up to its clock resolution early
            sample = now >= next_sample
            flush = now - last_flush >= self.flush_interval
            if sample or flush or self.watching:
                try:
                    published = await loop.run_in_executor(self._executor, self._tick, sample, flush)
                except Exception:
                    logger.exception("The history sampler failed; it goes on with the next tick")
                    published = []
                _publish(published)
            if sample:
                next_sample += self.interval
                if next_sample <= now:  # a tick ran late: sample again one interval from now
                    next_sample = now + self.interval
            if flush:
                last_flush = now
            due += WATCH_SECONDS
            if due <= loop.time():
                due = loop.time() + WATCH_SECONDS
            await asyncio.sleep(due - loop.time())

    # --- in the sampler's thread ----------------------------------------------------------------

    def call(self, work: Callable[[], T]) -> T:
        """Run ``work`` (a query) in the sampler's thread, after whatever it is doing; blocks the caller,
        so call it from a worker thread, never from the event loop. Without a running sampler (tests,
        management commands), it runs here."""
        executor = self._executor
        if executor is None or threading.current_thread() is self._thread:
            return work()
        try:
            future = executor.submit(work)
        except RuntimeError:  # shut down meanwhile
            return work()
        return future.result()

    def _begin(self) -> None:
        self._thread = threading.current_thread()
        if settings.DATABASE_READ_ONLY is not None:
            logger.warning(
                "The database was opened read-only (%s): the history is kept in memory only (the last %d samples) "
                "until the server is restarted with it writable",
                settings.DATABASE_READ_ONLY,
                BUFFER_LIMIT,
            )
            return
        try:
            self.store.close_dangling()
        except DatabaseError as error:  # not migrated yet: sample anyway; the writes will say what is wrong
            logger.error("The history's events could not be read (run manage.py migrate?): %s", error)

    def _tick(self, sample: bool, flush: bool) -> Published:
        now = _now_ms()
        published: Published = []
        throttle = _taken(system.throttle_read)
        word = None if throttle is None else throttle_word(throttle)
        self.watching = word is not None
        if word is not None:
            boot = None if self.watch.watched else _sticky_since(now, throttle)
            events = self.watch.observe(now, word, boot=boot)
            if boot is not None:  # a flag set before the server started: recorded once per boot
                events = [event for event in events if not self.store.seen_since(event.condition, boot)]
            published += self._events(events)
        if sample:
            shape = layout()
            # Each kept reading, read once; the throttle reading just taken for the watch is reused.
            taken: dict[str, Any] = {THROTTLE: throttle}
            for reading in shape.kept:
                if reading.key not in taken:
                    taken[reading.key] = _taken(reading.read)
            values: dict[str, Any] = {}
            for column in shape.sampled:
                model = taken.get(column.reading)
                values[column.name] = None if model is None else column.value(model)
            for name, keyed in shape.keyed:  # series found at run time: a column per key
                found = taken.get(name)
                if found is not None:
                    for key, value in keyed.values(found).items():
                        values[keyed_column(name, key, keyed)] = value
            failed = frozenset(name for name, model in taken.items() if model is None)
            row = Sampled(time=now, values=values, failed=failed & set(shape.readings))
            self.store.add_sample(row)
            published.append((HISTORY_GROUP, HISTORY_UPDATED, sample_wire(row, shape)))
        if flush and settings.DATABASE_READ_ONLY is None:  # read-only: said once, at start
            try:
                self.store.flush(now=now)
            except Exception:  # a locked, full or read-only database: keep the buffer, try again later
                logger.exception("Could not write the history; %d samples stay buffered", len(self.store.buffer))
        return published

    def _events(self, events: list[Event]) -> Published:
        if not events:
            return []
        self.store.add_events(events)
        return [(EVENTS_GROUP, EVENTS_CHANGED, [event.wire() for event in events])]

    def _finish(self) -> Published:
        try:
            published = self._events(self.watch.close(_now_ms()))
            if settings.DATABASE_READ_ONLY is None:
                self.store.flush(now=_now_ms())
            return published
        finally:
            connections.close_all()


def _publish(published: Published) -> None:
    for group, action, data in published:
        publish(group, action=action, data=data)
