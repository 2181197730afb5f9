#!/usr/bin/env python3
"""Load check of passive actions: many PINS subscribers, one writer toggling a pin.

Starts daphne with the project on a free 127.0.0.1 port (simulated GPIO, a temporary data
directory and host tree), connects ``--subscribers`` WebSocket clients that each SUBSCRIBE to
GPIO17, and one writer that toggles GPIO17 ``--rate`` times a second for ``--seconds`` seconds over
the WebSocket. Every subscriber must receive every change, in order; the script prints the counts,
lost and out-of-order changes, and the latency from the writer's send to each subscriber's
receive (p50/p99/max), plus the server's resident memory before and after.

Then, unless ``--no-stall``, a stalled client: it subscribes, stops reading, and the writer bursts
``--burst`` toggles of every pin as fast as the server answers. The server must not buffer the
backlog (the client's outbox folds it; compare the RSS growth with the same burst without the
stalled client); when the client reads again it gets MESSAGES_DROPPED and then the latest state.

    .venv/bin/python bench/push_load.py [--subscribers 50] [--rate 20] [--seconds 10]

Exit status 0 when every check holds, 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import websockets  # noqa: E402

from endrpi_project.testing.live import LiveServer, live_server  # noqa: E402

PIN = "GPIO17"
CHANGED = "PIN_CONFIGURATIONS_CHANGED"


@dataclass
class Subscriber:
    states: list[float] = field(default_factory=list)
    received_at: list[float] = field(default_factory=list)
    dropped_reports: int = 0


def kernel_send_queue(local_port: int, remote_port: int) -> int | None:
    """Bytes the kernel holds unsent on the TCP connection 127.0.0.1:local_port -> remote_port (Linux)."""
    try:
        lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    except OSError:
        return None
    for line in lines:
        fields = line.split()
        if fields[1].endswith(f":{local_port:04X}") and fields[2].endswith(f":{remote_port:04X}"):
            return int(fields[4].split(":")[0], 16)
    return None


async def subscribe(url: str, pins: list[str]) -> Any:
    ws = await websockets.connect(url, max_size=2**20)
    await ws.send(json.dumps({"action": "SUBSCRIBE", "params": {"topic": "PINS", "pins": pins}}))
    reply = json.loads(await ws.recv())
    if not reply["success"]:
        raise RuntimeError(f"SUBSCRIBE failed: {reply}")
    return ws


async def listen(ws: Any, record: Subscriber, expected: int) -> None:
    async for raw in ws:
        now = time.perf_counter()
        message = json.loads(raw)
        if message["action"] == CHANGED:
            record.states.append(message["data"][PIN]["state"])
            record.received_at.append(now)
            if len(record.states) >= expected:
                return
        elif message["action"] == "MESSAGES_DROPPED":
            record.dropped_reports += message["data"]["dropped"]


ALL_PINS = [f"GPIO{n}" for n in range(2, 28)]


def toggle(state: int, request_id: int, pins: list[str] | None = None) -> str:
    changes = {pin: {"io": "OUTPUT", "state": state} for pin in pins or [PIN]}
    return json.dumps({"action": "UPDATE_PIN_CONFIGURATIONS", "id": request_id, "params": {"pins": changes}})


async def write(url: str, count: int, rate: float, pins: list[str] | None = None) -> tuple[list[float], int]:
    """Toggle the pin ``count`` times at ``rate`` per second; the send times and the failed replies."""
    sent_at: list[float] = []
    failures = 0
    async with websockets.connect(url) as ws:

        async def replies() -> None:
            nonlocal failures
            for _ in range(count):
                if not json.loads(await ws.recv())["success"]:
                    failures += 1

        reader = asyncio.create_task(replies())
        start = time.perf_counter()
        for k in range(count):
            delay = start + k / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            sent_at.append(time.perf_counter())
            await ws.send(toggle((k + 1) % 2, k, pins))
        await asyncio.wait_for(reader, 10 + count / 100)
    return sent_at, failures


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def load(server: LiveServer, subscribers: int, rate: float, seconds: float) -> bool:
    count = round(rate * seconds)
    expected = [float((k + 1) % 2) for k in range(count)]
    # Start from a known state that differs from the first toggle.
    async with websockets.connect(server.ws_url) as ws:
        await ws.send(toggle(0, -1))
        await ws.recv()
    sockets = await asyncio.gather(*(subscribe(server.ws_url, [PIN]) for _ in range(subscribers)))
    records = [Subscriber() for _ in sockets]
    listeners = [asyncio.create_task(listen(ws, record, count)) for ws, record in zip(sockets, records, strict=True)]
    rss_before = server.rss_kib()
    started = time.perf_counter()
    sent_at, failures = await write(server.ws_url, count, rate)
    write_seconds = time.perf_counter() - started
    _, pending = await asyncio.wait(listeners, timeout=10)
    for task in pending:
        task.cancel()
    rss_after = server.rss_kib()
    await asyncio.gather(*(ws.close() for ws in sockets))

    received = [len(record.states) for record in records]
    lost = sum(max(0, count - n) for n in received)
    out_of_order = sum(
        sum(1 for got, want in zip(record.states, expected, strict=False) if got != want) for record in records
    )
    latencies_ms = [(at - sent_at[k]) * 1000 for record in records for k, at in enumerate(record.received_at[:count])]
    drops = sum(record.dropped_reports for record in records)

    print(f"push load: {subscribers} subscribers, 1 writer toggling {PIN} {rate:g}/s for {seconds:g} s")
    print(f"  changes written        {count} in {write_seconds:.2f} s ({failures} failed replies)")
    print(f"  changes expected       {count * subscribers} ({count} x {subscribers})")
    print(f"  changes received       {sum(received)} (per subscriber min {min(received)}, max {max(received)})")
    print(f"  lost                   {lost}")
    print(f"  out of order           {out_of_order}")
    print(f"  MESSAGES_DROPPED total {drops}")
    if latencies_ms:
        p50, p99 = percentile(latencies_ms, 0.5), percentile(latencies_ms, 0.99)
        print(
            f"  latency ms             p50 {p50:.2f}  p99 {p99:.2f}"
            f"  max {max(latencies_ms):.2f}  mean {statistics.fmean(latencies_ms):.2f}"
        )
    print(f"  server RSS KiB         before {rss_before}  after {rss_after}")
    return failures == 0 and lost == 0 and out_of_order == 0 and drops == 0


async def burst_rss(server: LiveServer, burst: int) -> tuple[int, float, int]:
    """Write ``burst`` toggles of all 26 pins as fast as the server answers: RSS growth KiB, seconds, failures."""
    before = server.rss_kib() or 0
    started = time.perf_counter()
    _, failures = await write(server.ws_url, burst, rate=1e9, pins=ALL_PINS)
    seconds = time.perf_counter() - started
    await asyncio.sleep(0.5)
    return (server.rss_kib() or 0) - before, seconds, failures


async def stall(server: LiveServer, burst: int) -> bool:
    """A client that subscribes to every pin and stops reading while the writer bursts ``burst`` toggles of all 26.

    Each change names 26 pins (about 1.7 kB), so the backlog outgrows the kernel's socket buffers.
    The same burst without the stalled client is the baseline: the stalled client must add nothing.
    """
    await burst_rss(server, burst)  # warm-up: the server's first burst allocates its working set
    baseline, _, _ = await burst_rss(server, burst)
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.connect(("127.0.0.1", server.port))
    raw.setblocking(False)
    stalled = await websockets.connect(server.ws_url, sock=raw, max_size=2**20, max_queue=1)
    await stalled.send(json.dumps({"action": "SUBSCRIBE", "params": {"topic": "PINS"}}))
    await stalled.recv()
    stalled.transport.pause_reading()  # stop reading: the server's socket buffer fills
    growth, seconds, failures = await burst_rss(server, burst)
    queued = kernel_send_queue(server.port, raw.getsockname()[1])
    stalled.transport.resume_reading()
    changes, dropped = 0, 0
    last: dict[str, Any] = {}
    try:
        async with asyncio.timeout(10):
            async for text in stalled:
                message = json.loads(text)
                if message["action"] == "MESSAGES_DROPPED":
                    dropped += message["data"]["dropped"]
                elif message["action"] == CHANGED:
                    changes += 1
                    last.update(message["data"])
                    if changes + dropped >= burst:
                        break
    except TimeoutError:
        pass
    await stalled.close()
    final = float(burst % 2)
    converged = len(last) == len(ALL_PINS) and all(config["state"] == final for config in last.values())
    print(f"stalled client: {burst} toggles of all 26 pins in {seconds:.2f} s while one subscriber stopped reading")
    print(f"  refused writes         {failures}")
    print(f"  changes it received    {changes}, MESSAGES_DROPPED total {dropped} (sum {changes + dropped})")
    print(f"  ends on latest state   {converged}")
    print(f"  server RSS growth KiB  {growth} with the stalled client, {baseline} for the same burst without it")
    print(f"  kernel send queue      {queued} bytes held for the stalled client at the end of the burst")
    return failures == 0 and converged and changes + dropped == burst


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=50)
    parser.add_argument("--rate", type=float, default=20.0, help="toggles per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--burst", type=int, default=3000, help="toggles written while a client is stalled")
    parser.add_argument("--no-stall", action="store_true", help="skip the stalled-client check")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="endrpi-push-") as tmp:
        host = Path(tmp) / "host"
        (host / "proc").mkdir(parents=True)
        (host / "proc" / "uptime").write_text("1234.5 1.0\n")
        (host / "proc" / "meminfo").write_text((ROOT / "tests" / "fixtures" / "meminfo.txt").read_text())
        environment = {
            "ENDRPI_HOST_ROOT": str(host),
            "ENDRPI_VCGENCMD": "/nonexistent",
            "ENDRPI_LOG_LEVEL": "WARNING",
            # The stalled-client burst writes far faster than a client may by default (50/s): this
            # measures push, not the write rate limit.
            "ENDRPI_WS_WRITE_RATE": "100000",
            "ENDRPI_WS_WRITE_BURST": "100000",
        }
        with live_server(Path(tmp) / "data", environment) as server:
            ok = asyncio.run(load(server, args.subscribers, args.rate, args.seconds))
            if not args.no_stall:
                ok = asyncio.run(stall(server, args.burst)) and ok
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
