"""The Prometheus collector: every scrape reads the Pi through the services, nothing is kept between.

The readings' metrics are those each reading declares (``metrics`` in its declaration, see
:mod:`endrpi_project.readings.declaration`); the pins' levels and the server's own figures are here.

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

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.registry import Collector, CollectorRegistry

from endrpi_project.api.errors import EndrpiError
from endrpi_project.api.tally import tally
from endrpi_project.push.hub import hub
from endrpi_project.readings.registry import reading_table
from pins import services as pins

logger = logging.getLogger(__name__)
T = TypeVar("T")

# What endrpi_reading_errors_total counts besides the declared readings: the pins' levels.
GPIO = "gpio"


class ReadingErrors:
    """Failed readings by name since the server started (a counter, so it only grows)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}

    def add(self, reading: str) -> None:
        with self._lock:
            self._counts[reading] = self._counts.get(reading, 0) + 1

    def snapshot(self) -> dict[str, int]:
        """Every declared reading and the pins, each with its count (0 when it never failed)."""
        with self._lock:
            counts = dict(self._counts)
        names = [reading.key for reading in reading_table().readings] + [GPIO]
        return {name: counts.get(name, 0) for name in dict.fromkeys([*names, *counts])}


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
        # Each declared reading's metrics, read through its service now.
        for reading in reading_table().readings:
            if not reading.metrics:
                continue
            model = _read(reading.key, reading.read)
            if model is None:
                continue
            for declared in reading.metrics:
                family = GaugeMetricFamily(declared.name, declared.help, labels=list(declared.labels))
                for sample in declared.values(model):
                    family.add_metric([sample.labels[label] for label in declared.labels], sample.value)
                yield family
        pins_read = _read(GPIO, pins.pin_configurations_read)
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
        errors = CounterMetricFamily(
            "endrpi_reading_errors", "Readings that failed during scrapes, by reading.", labels=["reading"]
        )
        for name, count in reading_errors.snapshot().items():
            errors.add_metric([name], count)
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
