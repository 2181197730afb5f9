"""The table of readings, joined from every installed app's ``declarations.READINGS``, and what the
edges build from it: the WebSocket actions and push topics, and ``GET /system``'s composite reading.

Apps are found through Django's registry (as :mod:`endrpi_project.websocket.registry` finds actions),
so this package imports no app: the arrows point from the apps down to it, and the features above
(history, metrics, MQTT, pages) read the table. The table is built once, in ``INSTALLED_APPS`` order;
a name declared twice is an error. (A test that declares a reading of its own clears the caches of
:func:`reading_table` and of the tables built from it: ``readings_declared`` in ``tests/helpers.py``.)
"""

from __future__ import annotations

import asyncio
import errno
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import import_module
from importlib.util import find_spec
from typing import Any, Generic, TypeVar

from django.apps import apps
from rest_framework import serializers

from endrpi_project.api.actions import Action, NameTable
from endrpi_project.api.errors import ReadingFailed
from endrpi_project.api.representation import representer
from endrpi_project.push.topics import ReadingTopic
from endrpi_project.readings.declaration import Reading

MODULE = "declarations"
T = TypeVar("T")
R = TypeVar("R")
P = TypeVar("P")
M = TypeVar("M")


class ReadingTable(NameTable[Reading]):
    kind = "Reading"

    @property
    def readings(self) -> list[Reading]:
        return self.entries

    def by_key(self, key: str) -> Reading | None:
        """The reading whose lower-case name is ``key`` (``temperature``)."""
        return self.get(key.upper())


@cache
def reading_table() -> ReadingTable:
    """Every app's ``declarations.READINGS``, in ``INSTALLED_APPS`` order."""
    groups: list[list[Reading]] = []
    for config in apps.get_app_configs():
        name = f"{config.name}.{MODULE}"
        if find_spec(name) is not None:
            groups.append(list(getattr(import_module(name), "READINGS", [])))
    return ReadingTable(*groups)


def per_table(build: Callable[[ReadingTable], T]) -> Callable[[], T]:
    """``build(reading_table())``, built once per table: what the edges derive from the table (the
    ``System`` serializer, the history's columns) follows a new table without a cache of its own."""
    built: list[Any] = []

    def get() -> T:
        table = reading_table()
        if not built or built[0] is not table:
            built[:] = [table, build(table)]
        result: T = built[1]
        return result

    return get


# --- How a reading is read: its hardware reader and its parser ----------------------------------


# errno values that mean "this machine has no such thing" rather than "it could not be read".
_ABSENT = {errno.ENOENT, errno.ENODEV, errno.ENXIO, errno.ENOTDIR}


def failure_summary(title: str, source: str | None, error: BaseException) -> str:
    """One plain sentence for a person, from the error's type: ``Temperature unavailable: this machine has
    no SoC thermal sensor``. The technical message (paths, the OS's words) stays in the error's message.
    Without a ``source`` (a reading that names none) the sentence says "it"."""
    absent = isinstance(error, FileNotFoundError) or (isinstance(error, OSError) and error.errno in _ABSENT)
    if isinstance(error, TimeoutError):
        cause = f"its {source} did not answer in time" if source else "it did not answer in time"
    elif isinstance(error, PermissionError):
        cause = f"the server is not allowed to read its {source}" if source else "the server is not allowed to read it"
    elif absent:
        cause = f"this machine has no {source}" if source else "this machine does not have what it is read from"
    elif isinstance(error, ValueError):
        thing = f"its {source}" if source else "this machine"
        cause = f"{thing} answered something the server does not understand"
    else:
        cause = f"its {source} could not be read" if source else "it could not be read"
    return f"{title} unavailable: {cause}"


def reading_failed(
    what: str, error: OSError | ValueError, *, title: str | None = None, source: str | None = None
) -> ReadingFailed:
    """``Failed to query <what>: <why>``: the one message of a reading that failed, with its plain
    sentence (:func:`failure_summary`): ``title`` is the reading as a page names it (default: ``what``),
    ``source`` what it is read from (default: none named)."""
    if isinstance(error, ReadingFailed):
        return error
    reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
    summary = failure_summary(title or what[:1].upper() + what[1:], source, error)
    return ReadingFailed(f"Failed to query {what}: {reason}", summary=summary)


def reading_service(what: str, read: Callable[[], R], parse: Callable[[R], M]) -> Callable[[], M]:
    """The service of a reading that is one hardware read and one parse: ``parse(read())``, with an OS
    error or unparseable text raised as ``Failed to query <what>: why``."""

    def service() -> M:
        try:
            return parse(read())
        except (OSError, ValueError) as error:
            raise reading_failed(what, error) from error

    service.__name__ = service.__qualname__ = f"{what.replace(' ', '_')}_read"
    return service


@dataclass
class _Last:
    at: float
    parsed: Any
    model: Any


class DeltaService(Generic[R, P, M]):
    """The service of a reading made from two reads (a rate, CPU usage): ``delta(previous, current,
    seconds between them)``, the previous read kept here, never a sleep in a request.

    The first read gives ``delta(None, current, 0)``. A read less than ``shortest`` seconds after the
    one kept answers that one's model again and keeps the older read (counters that move in 10 ms
    ticks say nothing over a few ms), so readers at any rate share one baseline. Thread-safe.
    """

    def __init__(
        self,
        what: str,
        read: Callable[[], R],
        parse: Callable[[R], P],
        delta: Callable[[P | None, P, float], M],
        *,
        clock: Callable[[], float] = time.monotonic,
        shortest: float = 0.5,
    ) -> None:
        self.what, self._read, self._parse, self._delta = what, read, parse, delta
        self._clock, self._shortest = clock, shortest
        self._lock = threading.Lock()
        self._last: _Last | None = None

    def __call__(self) -> M:
        with self._lock:
            now, last = self._clock(), self._last
            if last is not None and now - last.at < self._shortest:
                kept: M = last.model
                return kept
            try:
                current = self._parse(self._read())
                model = self._delta(last.parsed if last else None, current, now - last.at if last else 0.0)
            except (OSError, ValueError) as error:
                raise reading_failed(self.what, error) from error
            self._last = _Last(now, current, model)
            return model

    def forget(self) -> None:
        """Drop the kept read: the next read is a first one (tests start from the same place)."""
        with self._lock:
            self._last = None


def reading_delta(
    what: str,
    read: Callable[[], R],
    parse: Callable[[R], P],
    delta: Callable[[P | None, P, float], M],
    *,
    clock: Callable[[], float] = time.monotonic,
    shortest: float = 0.5,
) -> DeltaService[R, P, M]:
    """A :class:`DeltaService`: ``delta`` of the previous read kept and this one."""
    return DeltaService(what, read, parse, delta, clock=clock, shortest=shortest)


# --- WebSocket: READ_<NAME> and the push topic <NAME> ------------------------------------------


def reading_wire(reading: Reading) -> Callable[[], Any]:
    """The reading in its wire form (what ``READ_<NAME>``, the topic and REST answer), read now."""
    read, represent = reading.read, representer(reading.serializer)
    return lambda: represent(read())


def reading_awire(reading: Reading) -> Callable[[], Any] | None:
    """The awaitable wire form, for a reading with an ``aread``."""
    aread = reading.aread
    if aread is None:
        return None
    represent = representer(reading.serializer)

    async def awire() -> Any:
        return represent(await aread())

    return awire


@dataclass(frozen=True)
class AwaitedReadingAction(Action):
    """A reading with its own pool (the firmware's): awaited on the event loop, in no shared worker thread.

    A firmware that hangs then cannot take the threads pin and database work run in, however many
    clients wait on it. ``handler`` (the blocking form) stays for callers already in a thread.
    """

    aread: Callable[[], Any] | None = None

    async def perform(self, connection: Any, params: Any) -> Any:
        if self.aread is None:
            raise TypeError(f"{self.name} has no awaitable reading")
        self.validate(params)
        return await self.aread()


def reading_action(reading: Reading) -> Action:
    read = reading_wire(reading)
    description = f"Reads the {reading.model} model, as GET /system/{reading.key} does."
    awire = reading_awire(reading)
    if awire is not None:
        return AwaitedReadingAction(
            name=f"READ_{reading.name}",
            aliases=(f"GET_{reading.name}",),
            handler=lambda params: read(),
            description=description,
            model=reading.model,
            aread=awire,
        )
    return Action(
        name=f"READ_{reading.name}",
        aliases=(f"GET_{reading.name}",),
        handler=lambda params: read(),
        description=description,
        model=reading.model,
        inline=reading.inline,
    )


def reading_topic(reading: Reading) -> ReadingTopic:
    return ReadingTopic(
        name=reading.name,
        read=reading_wire(reading),
        model=reading.model,
        inline=reading.inline,
        aread=reading_awire(reading),
    )


def reading_actions() -> list[Action]:
    return [reading_action(reading) for reading in reading_table().readings]


def reading_topics() -> list[ReadingTopic]:
    return [reading_topic(reading) for reading in reading_table().readings]


# --- GET /system: every reading at once ----------------------------------------------------------


@dataclass(frozen=True)
class Readings:
    """Every reading; one that failed is ``None`` in ``values`` and its message is in ``errors``."""

    values: dict[str, Any]  # reading key -> its model, or None
    errors: dict[str, str]

    def __getattr__(self, key: str) -> Any:
        # The serializer reads each section as an attribute (``temperature``).
        try:
            return self.__dict__["values"][key]
        except KeyError:
            raise AttributeError(key) from None


def readings_read(readings: Sequence[Reading] | None = None) -> Readings:
    """Every reading that works; a failed one is ``None`` with its message in ``errors``.

    Slow readings (those with ``begin``, the firmware's) are started first, so the firmware answers
    while the kernel files are read. Raises :class:`ReadingFailed` only when every reading fails.
    """
    chosen = list(reading_table().readings if readings is None else readings)
    finish: dict[str, Callable[[], Any]] = {}
    for reading in chosen:
        finish[reading.key] = reading.begin() if reading.begin is not None else reading.read
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for reading in chosen:
        try:
            values[reading.key] = finish[reading.key]()
        except ReadingFailed as error:
            values[reading.key] = None
            errors[reading.key] = error.message
    if chosen and len(errors) == len(chosen):
        raise ReadingFailed("Failed to query system: " + "; ".join(errors.values()))
    return Readings(values=values, errors=errors)


class _ReadingsSerializer(serializers.Serializer[Any]):
    def to_representation(self, instance: Any) -> Any:
        """Each reading's section; an ``errors`` map (section -> message) only when a reading failed.

        (``errors`` cannot be a declared field: it would shadow ``Serializer.errors``.)
        """
        data = super().to_representation(instance)
        if instance.errors:
            data["errors"] = dict(instance.errors)
        return data


def _system_serializer(readings: tuple[Reading, ...]) -> type[serializers.Serializer[Any]]:
    fields = {reading.key: reading.serializer(allow_null=True) for reading in readings}
    return type("SystemSerializer", (_ReadingsSerializer,), fields)


system_serializer = per_table(lambda table: _system_serializer(tuple(table.readings)))
"""The ``System`` model's serializer: one nullable section per declared reading, in table order."""


def readings_wire() -> dict[str, Any]:
    """``GET /system`` as sent: every reading's wire form (null where it failed) and ``errors``."""
    rendered: dict[str, Any] = representer(system_serializer())(readings_read())
    return rendered


# --- Start-up: what this machine cannot read -------------------------------------------------------


async def readings_unavailable() -> dict[str, str]:
    """Each reading this machine cannot take, with its message; asked without blocking the loop
    (an ``aread`` is awaited, an ``inline`` reading read here, any other in a worker thread)."""
    failed: dict[str, str] = {}
    for reading in reading_table().readings:
        try:
            if reading.aread is not None:
                await reading.aread()
            elif reading.inline:
                reading.read()
            else:
                await asyncio.to_thread(reading.read)
        except ReadingFailed as error:
            failed[reading.key] = error.message
    return failed
