#!/usr/bin/env python3
"""The MQTT bridge's figures (issue 11), broker on loopback: a real Mosquitto and a real daphne.

1. Pin change -> state message: a WebSocket client toggles GPIO5; the time from its send until the
   retained ``endrpi/bench/pins/GPIO5`` message with the new state reaches an MQTT subscriber.
2. Command -> changed pin + state: ``ON``/``OFF`` published on ``endrpi/bench/pins/GPIO17/set``;
   the time until the state message saying the pin changed arrives (it is published after the pin
   changed, from the pins service's own change event).
3. Idle CPU: the server's CPU time (utime + stime from /proc/<pid>/stat) over ``--idle`` seconds
   with nothing happening, with the bridge on and with it off.
4. RSS with the bridge on and off (same start-up, after one request of each kind).
5. Discovery after Home Assistant's birth message: ``online`` published on ``homeassistant/status``
   (as Home Assistant does when it starts); the time until every discovery config the broker held
   has arrived again at a subscriber, and how far apart they came (``--rounds`` births).

    .venv/bin/python bench/mqtt.py [--samples 300] [--idle 20] [--rounds 20] [--only-discovery]

Targets: p99 under 20 ms (1) and 30 ms (2); idle costs no measurable CPU; RSS at most 5 MB more;
every discovery config within 100 ms of the birth message (5).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiomqtt  # noqa: E402
import websockets  # noqa: E402

from endrpi_project.testing.live import LiveServer, live_server  # noqa: E402
from endrpi_project.testing.mosquitto import Mosquitto, mosquitto  # noqa: E402

NODE = "bench"
SETTINGS = """
from pins.models import PinSetting
PinSetting.objects.create(pin=17, label="Bench relay", mqtt_controllable=True)
"""


@contextmanager
def server(base: Path, broker: Mosquitto | None) -> Iterator[LiveServer]:
    host = base / "host"
    (host / "sys/class/thermal/thermal_zone0").mkdir(parents=True)
    (host / "sys/class/thermal/thermal_zone0/temp").write_text("48312\n")
    (host / "proc").mkdir()
    (host / "proc/uptime").write_text("123456.78 432100.12\n")
    (host / "proc/meminfo").write_text((ROOT / "tests/fixtures/meminfo.txt").read_text())
    env = {"ENDRPI_HOST_ROOT": str(host), "ENDRPI_VCGENCMD": "/nonexistent", "ENDRPI_MQTT_NODE_ID": NODE}
    if broker is not None:
        env["ENDRPI_MQTT_URL"] = broker.url
    data = base / "data"
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "endrpi_project.settings", "ENDRPI_DATA_DIR": str(data)}
    data.mkdir(parents=True)
    for command in (["migrate", "--noinput", "-v", "0"], ["shell", "-c", SETTINGS]):
        subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env={**environment, **env}, check=True)
    with live_server(data, env) as live:
        yield live


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {statistics.median(ordered):.2f} ms, p99 {p99:.2f} ms, max {ordered[-1]:.2f} ms (n={len(ordered)})"


async def measure_latencies(live: LiveServer, broker: Mosquitto, samples: int) -> tuple[list[float], list[float]]:
    changes: list[float] = []
    commands: list[float] = []
    arrived: asyncio.Queue[tuple[str, dict[str, Any], float]] = asyncio.Queue()
    nodelay = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
    async with aiomqtt.Client("127.0.0.1", broker.port, socket_options=nodelay) as client:
        await client.subscribe(f"endrpi/{NODE}/pins/+", qos=1)

        async def listen() -> None:
            async for message in client.messages:
                payload = message.payload if isinstance(message.payload, bytes) else b""
                if payload:
                    arrived.put_nowait((message.topic.value, json.loads(payload), time.perf_counter()))

        listener = asyncio.get_running_loop().create_task(listen())

        async def wait_for(topic: str, state: float) -> float:
            while True:
                name, data, at = await asyncio.wait_for(arrived.get(), timeout=10)
                if name == topic and data["state"] == state:
                    return at

        await asyncio.sleep(1.0)  # the retained states of every pin arrive first
        while not arrived.empty():
            arrived.get_nowait()
        async with websockets.connect(live.ws_url) as connection:
            for index in range(samples):
                state = float(index % 2)
                request = {
                    "action": "UPDATE_PIN_CONFIGURATIONS",
                    "params": {"pins": {"GPIO5": {"io": "OUTPUT", "state": state}}},
                }
                sent = time.perf_counter()
                await connection.send(json.dumps(request))
                at = await wait_for(f"endrpi/{NODE}/pins/GPIO5", state)
                changes.append((at - sent) * 1000)
                await connection.recv()  # the reply
                await asyncio.sleep(0.025)  # below the WebSocket's write rate limit (50/s)
        await client.publish(f"endrpi/{NODE}/pins/GPIO17/set", '{"io": "OUTPUT", "state": 0}', qos=1)
        await wait_for(f"endrpi/{NODE}/pins/GPIO17", 0.0)
        for index in range(samples):
            state = float((index + 1) % 2)
            sent = time.perf_counter()
            await client.publish(f"endrpi/{NODE}/pins/GPIO17/set", "ON" if state else "OFF", qos=0)
            at = await wait_for(f"endrpi/{NODE}/pins/GPIO17", state)
            commands.append((at - sent) * 1000)
            await asyncio.sleep(0.025)  # below the write rate limit MQTT commands share
        listener.cancel()
    return changes, commands


async def measure_discovery(broker: Mosquitto, rounds: int) -> tuple[int, list[float], list[float]]:
    """(configs per birth, ms from birth to the last config, mean ms between two configs) per round."""
    arrived: asyncio.Queue[tuple[str, float]] = asyncio.Queue()
    nodelay = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
    totals: list[float] = []
    gaps: list[float] = []
    async with aiomqtt.Client("127.0.0.1", broker.port, socket_options=nodelay) as client:
        await client.subscribe("homeassistant/+/+/+/config", qos=1)

        async def listen() -> None:
            async for message in client.messages:
                if message.payload:
                    arrived.put_nowait((message.topic.value, time.perf_counter()))

        listener = asyncio.get_running_loop().create_task(listen())
        await asyncio.sleep(2.0)  # the retained configs (the bridge announced itself on connecting)
        expected = set()
        while not arrived.empty():
            expected.add(arrived.get_nowait()[0])
        for _ in range(rounds):
            sent = time.perf_counter()
            # QoS 0, as Home Assistant sends its birth message by default: at QoS 1 the broker's PUBACK
            # to this client would hold the configs it forwards here behind a delayed ACK (Nagle).
            await client.publish("homeassistant/status", "online", qos=0)
            seen: dict[str, float] = {}
            while set(seen) != expected:
                topic, at = await asyncio.wait_for(arrived.get(), timeout=10)
                seen[topic] = at
            times = sorted(seen.values())
            totals.append((times[-1] - sent) * 1000)
            gaps.append((times[-1] - times[0]) * 1000 / max(1, len(times) - 1))
            await asyncio.sleep(0.3)
        listener.cancel()
    return len(expected), totals, gaps


def idle(live: LiveServer, seconds: float) -> tuple[float, int | None]:
    time.sleep(3)  # start-up work and the first readings are done
    before = cpu_seconds(live.process.pid)
    time.sleep(seconds)
    used = cpu_seconds(live.process.pid) - before
    return used, live.rss_kib()


def warm(live: LiveServer) -> None:
    import urllib.request

    for path in ("/system", "/pins", "/"):
        with urllib.request.urlopen(f"{live.http_url}{path}", timeout=5) as response:
            response.read()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--idle", type=float, default=20.0)
    parser.add_argument("--rounds", type=int, default=20, help="Home Assistant birth messages (5)")
    parser.add_argument("--only-discovery", action="store_true", help="measure only (5)")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="endrpi-bench-mqtt-") as temp:
        base = Path(temp)
        with mosquitto(base / "broker") as broker:
            with server(base / "discovery", broker):
                configs, totals, gaps = asyncio.run(measure_discovery(broker, options.rounds))
            print(
                f"birth message -> all {configs} discovery configs: p50 {statistics.median(totals):.1f} ms, "
                f"max {max(totals):.1f} ms; {statistics.median(gaps):.1f} ms apart (median, n={len(totals)})"
            )
            if options.only_discovery:
                return 0 if max(totals) < 100 else 1
            with server(base / "off", None) as live:
                warm(live)
                cpu_off, rss_off = idle(live, options.idle)
            with server(base / "on", broker) as live:
                warm(live)
                cpu_on, rss_on = idle(live, options.idle)
                changes, commands = asyncio.run(measure_latencies(live, broker, options.samples))
    print(f"machine load average at the end: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print(f"pin change -> state message: {percentiles(changes)}")
    print(f"command -> changed pin + state message: {percentiles(commands)}")
    print(
        f"idle CPU over {options.idle:g} s: bridge on {cpu_on * 1000:.0f} ms ({cpu_on / options.idle * 100:.2f} %), "
        f"off {cpu_off * 1000:.0f} ms ({cpu_off / options.idle * 100:.2f} %)"
    )
    if rss_on is not None and rss_off is not None:
        difference = (rss_on - rss_off) / 1024
        print(f"RSS: bridge on {rss_on / 1024:.1f} MB, off {rss_off / 1024:.1f} MB, difference {difference:+.1f} MB")
    ok = (
        sorted(changes)[int(len(changes) * 0.99) - 1] < 20
        and sorted(commands)[int(len(commands) * 0.99) - 1] < 30
        and rss_on is not None
        and rss_off is not None
        and rss_on - rss_off <= 5 * 1024
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
