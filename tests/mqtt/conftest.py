"""Fixtures for the MQTT tests: a real Mosquitto on a free port, a bridge, and a client that watches topics.

Mosquitto is Debian's ``mosquitto`` package; where it is missing the broker tests skip (on CI,
which installs it in ``.ci/run``, a missing broker is an error instead).
"""

from __future__ import annotations

import asyncio
import os
import ssl
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from endrpi_project.mqtt.bridge import Bridge, BridgeSettings
from endrpi_project.mqtt.broker import broker_from_url
from endrpi_project.mqtt.fleet import Fleet
from endrpi_project.mqtt.topics import NodeTopics
from endrpi_project.testing.mosquitto import Mosquitto, mosquitto, mosquitto_binary


def need_mosquitto() -> None:
    if mosquitto_binary() is None:
        if os.environ.get("CI"):
            raise RuntimeError("mosquitto is missing: .ci/run installs Debian's mosquitto package")
        pytest.skip("the broker tests need Debian's mosquitto (apt-get install mosquitto)")


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    need_mosquitto()
    with mosquitto(tmp_path / "broker") as running:
        yield running


@dataclass
class Watcher:
    """Every message on the watched topics: the latest payload of each, and all of them in order."""

    latest: dict[str, bytes] = field(default_factory=dict)
    log: list[tuple[str, bytes, bool]] = field(default_factory=list)
    connection: aiomqtt.Client | None = None

    @property
    def client(self) -> aiomqtt.Client:
        assert self.connection is not None
        return self.connection

    def json(self, topic: str) -> Any:
        import json

        return json.loads(self.latest[topic])

    def since(self, index: int, topic: str) -> list[bytes]:
        return [payload for name, payload, _ in self.log[index:] if name == topic]


def client_for(broker: Mosquitto, **kwargs: Any) -> aiomqtt.Client:
    tls = None
    if broker.certificates is not None:
        tls = ssl.create_default_context(cafile=str(broker.certificates.ca))
    return aiomqtt.Client("127.0.0.1", broker.port, tls_context=tls, **kwargs)


@asynccontextmanager
async def watching(broker: Mosquitto, *filters: str, **kwargs: Any) -> AsyncIterator[Watcher]:
    watcher = Watcher()
    async with client_for(broker, **kwargs) as client:
        watcher.connection = client

        async def run() -> None:
            async for message in client.messages:
                payload = message.payload if isinstance(message.payload, bytes) else str(message.payload).encode()
                watcher.latest[message.topic.value] = payload
                watcher.log.append((message.topic.value, payload, message.retain))

        task = asyncio.get_running_loop().create_task(run())
        await client.subscribe([(name, 1) for name in filters])
        try:
            yield watcher
        finally:
            task.cancel()


async def eventually(predicate: Callable[[], bool], deadline: float = 10.0, what: str = "condition") -> float:
    """Wait until ``predicate()``; the seconds it took. Generous deadlines: this machine is shared."""
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > deadline:
            raise AssertionError(f"{what} did not happen within {deadline} s")
        await asyncio.sleep(0.01)
    return time.monotonic() - started


def bridge_settings(running: Mosquitto, /, node: str = "pi1", **changes: Any) -> BridgeSettings:
    settings = BridgeSettings(
        broker=broker_from_url(
            running.url, ca_file=str(running.certificates.ca) if running.certificates is not None else ""
        ),
        topics=NodeTopics(node),
        name=node,
        url=f"http://{node}:5000/",
        version="1.0.0",
        discovery=True,
        prefix="homeassistant",
        interval=30.0,
        throttle_check=0.0,
    )
    return replace(settings, **changes)


@asynccontextmanager
async def running_bridge(settings: BridgeSettings, *, connect: bool = True) -> AsyncIterator[Bridge]:
    bridge = Bridge(settings, Fleet())
    bridge.start()
    try:
        if connect:
            await eventually(lambda: bridge.connected, what="the bridge connecting")
        yield bridge
    finally:
        await bridge.stop()
