"""After Home Assistant's birth message, the discovery configs go out together, not one PUBACK at a time.

The bridge talks to a real Mosquitto through a small TCP proxy that, once told to, holds back every
PUBACK the broker sends the bridge (and passes everything else). A bridge that waited for each
config's PUBACK before sending the next would send one config and stall; a pipelined one sends
every config while none is acknowledged. Nothing here is timed: the deadline only bounds a stall.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace

import pytest

from endrpi_project.mqtt.broker import broker_from_url
from endrpi_project.testing.mosquitto import Mosquitto
from pins import services
from pins.configuration import OutputChange
from pins.models import PinSetting
from tests.mqtt.conftest import bridge_settings, eventually, running_bridge, watching

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]  # a real broker

PUBLISH, PUBACK = 3, 4  # MQTT 3.1.1 control packet types (the high nibble of the first byte)


def packets(buffer: bytearray) -> list[bytes]:
    """Whole MQTT packets taken off the front of ``buffer`` (fixed header: type byte, then the
    remaining length as a variable byte integer of up to four bytes, MQTT 3.1.1 section 2.2)."""
    taken: list[bytes] = []
    while len(buffer) >= 2:
        length, multiplier, index = 0, 1, 1
        while True:
            if index >= len(buffer):
                return taken
            byte = buffer[index]
            length += (byte & 0x7F) * multiplier
            multiplier *= 128
            index += 1
            if not byte & 0x80:
                break
        if len(buffer) < index + length:
            return taken
        taken.append(bytes(buffer[: index + length]))
        del buffer[: index + length]
    return taken


def publish_topic(packet: bytes) -> str:
    """The topic of a PUBLISH packet (after the fixed header: a two-byte length, then the name)."""
    index = 1
    while packet[index] & 0x80:
        index += 1
    index += 1
    size = int.from_bytes(packet[index : index + 2], "big")
    return packet[index + 2 : index + 2 + size].decode()


@dataclass
class PubackHoldingProxy:
    """Between one client and the broker: counts the client's PUBLISH packets by topic, and while
    ``holding`` keeps the broker's PUBACKs to the client until ``release``."""

    broker_port: int
    port: int = 0
    holding: bool = False
    published: list[str] = field(default_factory=list)
    held: list[bytes] = field(default_factory=list)
    to_client: asyncio.StreamWriter | None = None

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        broker_reader, broker_writer = await asyncio.open_connection("127.0.0.1", self.broker_port)
        self.to_client = writer

        async def upstream() -> None:
            buffer = bytearray()
            while data := await reader.read(65536):
                buffer += data
                for packet in packets(buffer):
                    if packet[0] >> 4 == PUBLISH:
                        self.published.append(publish_topic(packet))
                    broker_writer.write(packet)
                await broker_writer.drain()
            broker_writer.close()

        async def downstream() -> None:
            buffer = bytearray()
            while data := await broker_reader.read(65536):
                buffer += data
                for packet in packets(buffer):
                    if self.holding and packet[0] >> 4 == PUBACK:
                        self.held.append(packet)
                    else:
                        writer.write(packet)
                await writer.drain()
            writer.close()

        await asyncio.gather(upstream(), downstream(), return_exceptions=True)

    async def release(self) -> None:
        self.holding = False
        assert self.to_client is not None
        for packet in self.held:
            self.to_client.write(packet)
        self.held.clear()
        await self.to_client.drain()


@asynccontextmanager
async def proxy_to(broker: Mosquitto) -> AsyncIterator[PubackHoldingProxy]:
    proxy = PubackHoldingProxy(broker.port)
    server = await asyncio.start_server(proxy.serve, "127.0.0.1", 0)
    proxy.port = server.sockets[0].getsockname()[1]
    async with server:
        yield proxy


async def test_after_the_birth_message_every_config_is_sent_before_any_is_acknowledged(broker):
    services.pin_settings_remember({17: PinSetting(pin=17, label="Garage relay", mqtt_controllable=True)})
    services.pin_configurations_update(changes={17: OutputChange(state=1.0)})
    async with proxy_to(broker) as proxy:
        settings = replace(bridge_settings(broker), broker=broker_from_url(f"mqtt://127.0.0.1:{proxy.port}"))
        async with running_bridge(settings), watching(broker, "homeassistant/+/+/+/config") as seen:
            await eventually(lambda: len(seen.latest) >= 14, what="the first announcement")
            await asyncio.sleep(0.3)  # its PUBACKs are in
            configs = set(seen.latest)
            proxy.published.clear()
            proxy.holding = True
            await seen.client.publish("homeassistant/status", "online", qos=0)
            try:
                await eventually(
                    lambda: configs <= set(proxy.published), what=f"all {len(configs)} configs sent, none acknowledged"
                )
                assert proxy.held, "the broker acknowledged them: they were held, not lost"
            finally:
                await proxy.release()
            assert sorted(set(proxy.published) & configs) == sorted(configs)
