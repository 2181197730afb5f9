"""The history's services: read it (REST and WebSocket alike), and start and stop its sampler.

``history_start`` / ``history_stop`` run when the server starts and stops (``endrpi_project/startup.py``).
Queries go through the running sampler's thread, which owns the buffer of samples not yet written
(see :mod:`endrpi_project.history.sampler`); without a running sampler they run in the caller's thread.
Both are blocking: call them from a worker thread, as REST views and non-inline actions are.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from django.conf import settings

from endrpi_project.history.parsers import format_time
from endrpi_project.history.sampler import Sampler, sample_wire
from endrpi_project.history.store import HistoryStore

_DAY_MS = 86_400_000

_sampler: Sampler | None = None
_lock = threading.Lock()


def history_sampler() -> Sampler:
    """The process's sampler (built from settings on first use; started by :func:`history_start`)."""
    global _sampler
    with _lock:
        if _sampler is not None:
            return _sampler
        store = HistoryStore(retention_ms=round(settings.ENDRPI_HISTORY_RETENTION * _DAY_MS))
        _sampler = Sampler(
            store=store,
            interval=settings.ENDRPI_HISTORY_INTERVAL,
            flush_interval=settings.ENDRPI_HISTORY_FLUSH_INTERVAL,
        )
        return _sampler


def history_read(*, readings: Sequence[str], since: int, until: int, points: int) -> dict[str, Any]:
    store = history_sampler().store
    return history_sampler().call(lambda: store.history(readings=readings, since=since, until=until, points=points))


def history_events_read(*, since: int, until: int) -> dict[str, Any]:
    store = history_sampler().store
    events = history_sampler().call(lambda: store.events(since=since, until=until))
    return {"since": format_time(since), "until": format_time(until), "events": events}


def history_latest_read() -> dict[str, Any] | None:
    """The newest sample (the ``HISTORY`` topic's current value), or ``None`` before the first."""
    latest = history_sampler().store.latest
    return None if latest is None else sample_wire(latest)


def history_ongoing_read() -> list[dict[str, Any]]:
    """The events still going on (the ``EVENTS`` topic's current value)."""
    sampler = history_sampler()
    return sampler.call(lambda: [event.wire() for event in sampler.watch.open.values()])


async def history_start() -> None:
    await history_sampler().start()


async def history_stop() -> None:
    await history_sampler().stop()
