"""The Pi's own sensors: found, read, labelled; what every edge asks for.

One :class:`SensorMonitor` per process holds the latest reading of every sensor. A refresh lists the
kernel's sensors again (:func:`system.sensors.hardware.sensors_scan`: a few directory listings) and reads each
one in the monitor's small pool of threads, all at once: a 1-wire probe takes ~750 ms in the kernel, so
ten read one after another would take seconds. A sensor whose read fails carries its error and every
other sensor its value; a read that does not come back within ``READ_TIMEOUT`` is reported as such and
is not asked again until it does (a hung bus never piles up threads).

While the server runs, :func:`sensors_start` refreshes every ``ENDRPI_SENSORS_INTERVAL`` seconds in a
task on the event loop (the refresh itself in a worker thread) and logs sensors that appear or vanish
(the ``SENSORS`` topic carries them to dashboards, MQTT's state to Home Assistant). Callers (REST,
WebSocket, metrics, history, MQTT)
get the latest readings at once; a reading older than the interval (no monitor running: tests, a
management command) is refreshed first, in the caller's thread, one refresh shared by every caller.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import DatabaseError

from endrpi_project.api.errors import NotFound, ReadingFailed
from system.readings import Measurement
from system.sensors import hardware, parsers
from system.sensors.hardware import Channel
from system.sensors.parsers import Kind

logger = logging.getLogger(__name__)

READ_TIMEOUT = 5.0  # seconds a refresh waits for a sensor (a 1-wire conversion takes 0.75 s)
WORKERS = 4


@dataclass(frozen=True)
class Sensor:
    """One sensor's latest reading: ``value`` in ``unit``, or ``error`` saying why there is none."""

    sensor_id: str
    name: str  # the kernel's
    label: str | None  # the operator's, from the admin
    source: str  # w1, iio, hwmon
    kind: Kind
    unit: str
    value: float | int | None
    error: str | None
    time_ms: int  # when it was read

    @property
    def title(self) -> str:
        return self.label or self.name

    @property
    def measurement(self) -> Measurement | None:
        return None if self.value is None else Measurement(quantity=self.value, unit_of_measurement=self.unit)

    @property
    def read_at(self) -> datetime:
        return datetime.fromtimestamp(self.time_ms / 1000, tz=UTC)


@dataclass(frozen=True)
class Sensors:
    """Every sensor found now (the ``SENSORS`` reading)."""

    sensors: tuple[Sensor, ...]

    @property
    def by_id(self) -> dict[str, Sensor]:
        return {sensor.sensor_id: sensor for sensor in self.sensors}


@dataclass(frozen=True)
class SensorsChange:
    """Sensors that appeared or vanished in one refresh (ids), and the sensors now."""

    appeared: tuple[str, ...]
    vanished: tuple[str, ...]
    sensors: tuple[Sensor, ...]

    def __bool__(self) -> bool:
        return bool(self.appeared or self.vanished)


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _failure(channel: Channel, error: BaseException) -> str:
    reason = (error.strerror or str(error)) if isinstance(error, OSError) else str(error)
    return f"Failed to read sensor {channel.name}: {reason}"


def _read_channel(channel: Channel) -> tuple[float | int | None, str | None]:
    """The value of one channel, or its error; never raises."""
    try:
        texts = hardware.channel_read(channel)
        return parsers.channel_value(channel.form, channel.kind, texts, channel.channel_type), None
    except (OSError, ValueError) as error:
        return None, _failure(channel, error)
    except Exception as error:  # a driver or parser surprise: this sensor's error, not a traceback
        logger.exception("Reading sensor %s failed unexpectedly", channel.sensor_id)
        return None, _failure(channel, error)


class SensorMonitor:
    """The latest reading of every sensor, refreshed together (see the module's docstring)."""

    def __init__(self, *, workers: int = WORKERS) -> None:
        self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="endrpi-sensor")
        self._lock = threading.Lock()  # one refresh at a time; others wait for it and share it
        self._sensors: dict[str, Sensor] = {}
        self._refreshed: float | None = None  # monotonic time of the last refresh
        self._in_flight: dict[str, concurrent.futures.Future[tuple[float | int | None, str | None]]] = {}
        self._scanned = False

    def sensors(self) -> list[Sensor]:
        """The latest readings, by id, without reading anything."""
        return [self._sensors[key] for key in sorted(self._sensors)]

    def read(self, *, max_age: float) -> list[Sensor]:
        """Readings no older than ``max_age`` seconds: the latest, or a refresh (blocking this thread)."""
        if not self.fresh(max_age):
            with self._lock:
                if not self.fresh(max_age):  # nobody refreshed while this thread waited
                    self._refresh_locked()
        return self.sensors()

    def refresh(self) -> SensorsChange:
        """Find the sensors again and read them all; blocks this thread (never call it on the loop)."""
        with self._lock:
            return self._refresh_locked()

    def fresh(self, max_age: float) -> bool:
        """Whether the latest refresh is younger than ``max_age`` seconds."""
        return self._refreshed is not None and time.monotonic() - self._refreshed < max_age

    def _refresh_locked(self) -> SensorsChange:
        try:
            channels = hardware.sensors_scan()
        except OSError as error:
            raise ReadingFailed(f"Failed to query sensors: {error.strerror or error}") from error
        labels = sensor_labels(channels)
        futures = {}
        for channel in channels:
            future = self._in_flight.get(channel.sensor_id)
            if future is None or future.done():
                future = self._executor.submit(_read_channel, channel)
                self._in_flight[channel.sensor_id] = future
            futures[channel.sensor_id] = future
        concurrent.futures.wait(futures.values(), timeout=READ_TIMEOUT)
        now = _now_ms()
        sensors: dict[str, Sensor] = {}
        for channel in channels:
            future = futures[channel.sensor_id]
            if future.done():
                value, failure = future.result()
                del self._in_flight[channel.sensor_id]
            else:
                value, failure = None, f"Failed to read sensor {channel.name}: no answer within {READ_TIMEOUT:g} s"
            sensors[channel.sensor_id] = Sensor(
                sensor_id=channel.sensor_id,
                name=channel.name,
                label=labels.get(channel.sensor_id) or None,
                source=channel.source,
                kind=channel.kind,
                unit=parsers.UNITS[channel.kind],
                value=value,
                error=failure,
                time_ms=now,
            )
        for gone in set(self._in_flight) - set(sensors):
            del self._in_flight[gone]
        before = set(self._sensors) if self._scanned else set()
        self._sensors = sensors
        self._refreshed = time.monotonic()
        self._scanned = True
        return SensorsChange(
            appeared=tuple(sorted(set(sensors) - before)),
            vanished=tuple(sorted(before - set(sensors))),
            sensors=tuple(self.sensors()),
        )

    def relabel(self, labels: dict[str, str]) -> None:
        """Apply labels saved in the admin to the latest readings at once."""
        self._sensors = {key: replace(s, label=labels.get(key) or None) for key, s in self._sensors.items()}

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


# --- labels (the admin's) ----------------------------------------------------------------------

_labels: dict[str, str] | None = None
_known: set[str] = set()  # sensor ids that have a row in the admin


def _labels_load() -> dict[str, str]:
    global _labels
    from system.sensors.models import SensorSetting

    if _labels is None:
        rows = list(SensorSetting.objects.values_list("sensor_id", "label"))
        _known.update(sensor for sensor, _ in rows)
        _labels = {sensor: label for sensor, label in rows if label}
    return _labels


def sensor_labels(channels: list[Channel]) -> dict[str, str]:
    """The operator's labels by sensor id; makes an admin row for a sensor seen for the first time.

    Labels are read once and kept until the admin changes one. A database that cannot be read or
    written (locked, read-only, not migrated) costs the labels, never the readings.
    """
    if not channels and _labels is None:  # nothing to label: no need to ask the database
        return {}
    try:
        from system.sensors.models import SensorSetting

        labels = _labels_load()
        for channel in channels:
            if channel.sensor_id not in _known:
                SensorSetting.objects.get_or_create(
                    sensor_id=channel.sensor_id, defaults={"name": channel.name, "kind": channel.kind}
                )
                _known.add(channel.sensor_id)
        return labels
    except DatabaseError as error:
        logger.warning("Sensor labels could not be read (%s); sensors are shown by the kernel's names", error)
        return _labels or {}


def sensor_labels_forget(**_: Any) -> None:
    """The admin saved or deleted a label: read them again, and relabel the latest readings now."""
    global _labels
    _labels = None
    _known.clear()
    monitor = _monitor
    if monitor is not None:
        with contextlib.suppress(DatabaseError):
            monitor.relabel(_labels_load())


# --- the process's monitor, and the service functions every edge calls ------------------------

_monitor: SensorMonitor | None = None
_monitor_lock = threading.Lock()


def sensor_monitor() -> SensorMonitor:
    global _monitor
    with _monitor_lock:
        if _monitor is None:
            _monitor = SensorMonitor()
        return _monitor


def sensor_monitor_reset() -> None:
    """Forget every sensor and label (tests: each starts from a fresh /sys)."""
    global _monitor, _labels
    with _monitor_lock:
        if _monitor is not None:
            _monitor.close()
        _monitor = None
    _labels = None
    _known.clear()


def _interval() -> float:
    interval: float = settings.ENDRPI_SENSORS_INTERVAL
    return interval


def _max_age() -> float:
    """How old a reading callers take as it is: one interval, or two while the server's own refresh runs
    (it keeps them fresh; a caller landing just after an interval must not read every sensor again in
    its own thread: the history sampler, sampling on the same interval, would on every other tick)."""
    return _interval() * (2 if _task is not None else 1)


def sensors_read() -> Sensors:
    """Every sensor's latest reading (refreshed first if older than the interval); blocks this thread."""
    return Sensors(tuple(sensor_monitor().read(max_age=_max_age())))


async def sensors_aread() -> Sensors:
    """:func:`sensors_read` for the event loop: the latest at once, or a refresh in a worker thread."""
    monitor = sensor_monitor()
    if monitor.fresh(_max_age()):
        return Sensors(tuple(monitor.sensors()))
    return Sensors(tuple(await asyncio.to_thread(monitor.read, max_age=_max_age())))


def sensor_read(*, sensor_id: str) -> Sensor:
    """One sensor's latest reading; :class:`~endrpi_project.api.errors.NotFound` if there is none."""
    sensor = sensors_read().by_id.get(sensor_id)
    if sensor is None:
        raise NotFound(f"No sensor `{sensor_id}`: GET /system/sensors lists the sensors this Pi has now")
    return sensor


# --- while the server runs ---------------------------------------------------------------------

_task: asyncio.Task[None] | None = None


async def _watch(monitor: SensorMonitor, interval: float) -> None:
    while True:
        try:
            change = await asyncio.to_thread(monitor.refresh)
        except ReadingFailed as error:  # no /sys here: said once at start-up by the readings' warning
            logger.debug("%s", error.message)
        except Exception:
            logger.exception("Finding the sensors failed; trying again in %g s", interval)
        else:
            if change:
                if change.appeared:
                    logger.info("Sensors found: %s", ", ".join(change.appeared))
                if change.vanished:
                    logger.info("Sensors gone: %s", ", ".join(change.vanished))
        await asyncio.sleep(interval)


async def sensors_start() -> None:
    """Find and read the sensors now, then again every ``ENDRPI_SENSORS_INTERVAL`` seconds."""
    global _task
    if _task is None:
        _task = asyncio.get_running_loop().create_task(_watch(sensor_monitor(), _interval()), name="endrpi-sensors")


async def sensors_stop() -> None:
    global _task
    task, _task = _task, None
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
