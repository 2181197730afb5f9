"""The Prometheus collector: every scrape reads the Pi through the services, nothing is kept between.

A custom collector (the client library's documented way to export values that live elsewhere):
no thread, no cache, no second copy of a reading. A reading that fails is left out of the scrape
and counted in ``endrpi_reading_errors_total{reading}``; the scrape itself still answers 200.
The server's own figures come from where they are kept: the connection and request tallies of
:mod:`endrpi_project.api.tally` and the push hub's drop counter.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from typing import TypeVar

from django.conf import settings
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.registry import Collector, CollectorRegistry

from endrpi_project.api.errors import EndrpiError
from endrpi_project.api.tally import tally
from endrpi_project.push.hub import hub
from pins import services as pins
from system import parsers
from system import services as system
from system.parsers import snake_case

logger = logging.getLogger(__name__)
T = TypeVar("T")

# (label value, Throttle attribute for "now", for "since_boot"); the labels are the metric's own names.
THROTTLE_CONDITIONS = tuple(
    (label, snake_case(condition.now), snake_case(condition.since_boot))
    for label, condition in zip(
        ("under_voltage", "arm_frequency_capped", "throttled", "soft_temperature_limit"),
        parsers.THROTTLE_CONDITIONS,
        strict=True,
    )
)
READINGS = ("temperature", "frequency", "memory", "uptime", "throttle", "platform", "gpio")


class ReadingErrors:
    """Failed readings by name since the server started (a counter, so it only grows)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts = dict.fromkeys(READINGS, 0)

    def add(self, reading: str) -> None:
        with self._lock:
            self._counts[reading] += 1

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)


reading_errors = ReadingErrors()


def _read(reading: str, read: Callable[[], T]) -> T | None:
    try:
        return read()
    except EndrpiError as error:
        logger.debug("Scrape: %s", error.message)
    except Exception:  # an unexpected failure is still not the scrape's failure
        logger.exception("Scrape: reading %s failed unexpectedly", reading)
    reading_errors.add(reading)
    return None


class EndrpiCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        yield from self._readings()
        yield from self._server()

    def _readings(self) -> Iterator[Metric]:
        temperature = _read("temperature", system.temperature_read)
        if temperature is not None:
            yield GaugeMetricFamily(
                "endrpi_soc_temperature_celsius", "SoC temperature.", value=temperature.system_on_chip.quantity
            )
        frequency = _read("frequency", system.frequency_read)
        if frequency is not None:
            clocks = GaugeMetricFamily("endrpi_clock_hertz", "Measured clock frequency.", labels=["clock"])
            clocks.add_metric(["arm"], frequency.arm.quantity)
            clocks.add_metric(["core"], frequency.core.quantity)
            yield clocks
        memory = _read("memory", system.memory_read)
        if memory is not None:
            sizes = GaugeMetricFamily("endrpi_memory_bytes", "Memory, from /proc/meminfo.", labels=["kind"])
            for kind in ("total", "free", "available"):
                sizes.add_metric([kind], getattr(memory, kind).quantity * 1024)
            yield sizes
        uptime = _read("uptime", system.uptime_read)
        if uptime is not None:
            yield GaugeMetricFamily("endrpi_uptime_seconds", "Time since boot.", value=uptime.seconds)
        throttle = _read("throttle", system.throttle_read)
        if throttle is not None:
            flags = GaugeMetricFamily(
                "endrpi_throttled",
                "1 while a condition holds (window now) or if it has held since boot (window since_boot; "
                "last_2_seconds where the firmware only keeps that).",
                labels=["condition", "window"],
            )
            # Where only the property tag answers, the sticky flags cover the last 2 s, not the boot.
            sticky = "last_2_seconds" if throttle.history_window == "LAST_2_SECONDS" else "since_boot"
            for condition, now, since_boot in THROTTLE_CONDITIONS:
                flags.add_metric([condition, "now"], float(getattr(throttle, now)))
                flags.add_metric([condition, sticky], float(getattr(throttle, since_boot)))
            yield flags
        pins_read = _read("gpio", pins.pin_configurations_read)
        if pins_read is not None:
            states = GaugeMetricFamily(
                "endrpi_gpio_state",
                "Level (0 or 1, or a PWM duty cycle) of each header GPIO whose level is known.",
                labels=["pin", "io"],
            )
            for name, config in pins_read.items():
                if config.state is not None:
                    states.add_metric([name, config.io], float(config.state))
            yield states
        platform = _read("platform", system.platform_read)
        info = GaugeMetricFamily(
            "endrpi_build_info", "Always 1: the Endrpi API version and the board.", labels=["version", "model"]
        )
        model = (platform.model if platform is not None else None) or ""
        info.add_metric([str(settings.SPECTACULAR_SETTINGS["VERSION"]), model], 1)
        yield info
        errors = CounterMetricFamily(
            "endrpi_reading_errors", "Readings that failed during scrapes, by reading.", labels=["reading"]
        )
        for reading, count in reading_errors.snapshot().items():
            errors.add_metric([reading], count)
        yield errors

    def _server(self) -> Iterator[Metric]:
        now = tally.snapshot()
        yield GaugeMetricFamily(
            "endrpi_websocket_connections", "WebSocket connections open now.", value=now.connections
        )
        subscriptions = GaugeMetricFamily(
            "endrpi_push_subscriptions", "Push subscriptions open now, by topic.", labels=["topic"]
        )
        for topic, count in sorted(now.subscriptions.items()):
            subscriptions.add_metric([topic], count)
        yield subscriptions
        dropped = CounterMetricFamily(
            "endrpi_messages_dropped",
            "Passive messages a client did not get: folded for a slow client (connection), or folded into newer "
            "ones while the event loop fell behind the publishers (hub).",
            labels=["where"],
        )
        dropped.add_metric(["connection"], now.dropped)
        dropped.add_metric(["hub"], hub.dropped)
        yield dropped
        requests = CounterMetricFamily(
            "endrpi_requests",
            "Requests answered, by edge (rest, websocket), action (route or WebSocket action) and outcome (ok, error).",
            labels=["edge", "action", "outcome"],
        )
        for (edge, action, outcome), count in sorted(now.requests.items()):
            requests.add_metric([edge, action, outcome], count)
        yield requests


CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
registry = CollectorRegistry()
registry.register(EndrpiCollector())


def scrape() -> bytes:
    """The Prometheus text format, every value read now. Blocking (the firmware): call it off the event loop."""
    return generate_latest(registry)
