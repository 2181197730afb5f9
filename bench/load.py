"""Load test: many WebSocket and REST clients against a real daphne, mixing reads, writes and garbage.

    python bench/load.py                 # 50 WebSocket + 10 REST clients for 30 s, then flood and slowloris
    python bench/load.py --quick         # the same, shorter (CI runs this, tests/test_load_quick.py)
    python bench/load.py --duration 120 --ws-clients 100 --json
    python bench/load.py --phases flood,slowloris,burst,cycles,idle
    python bench/load.py --serve --phases flood   # under manage.py endrpi_serve instead of plain daphne

Phases, each against a fresh server (``--phases``; the default is ``mixed,flood,slowloris``):

- ``mixed``: the clients above, in a closed loop.
- ``flood``: one client sends requests back to back over a raw socket and never reads a reply,
  while a bystander client keeps asking; its first request waits on a held firmware call, so the
  server falls behind on any machine: reports whether TCP pushed back on the flooder and after how
  much, then (released) the server's memory, its CPU after the flooder left and the bystander's latency.
- ``slowloris``: many connections each send an HTTP request head a byte a second; reports how many
  the server cut off, memory per slow connection, and whether a REST and a WebSocket client are
  still answered meanwhile.
- ``burst``: 10 writers x 100 updates of all 26 pins, 2 subscribers: whether each subscriber ends
  on the final state, and whether everything it did not receive was reported (MESSAGES_DROPPED).
- ``cycles``: 2 x 500 connect/subscribe/disconnect cycles: memory after each half.
- ``idle``: 300 subscribers at distinct intervals, reading nothing else: the server's CPU.

It starts daphne on 127.0.0.1 on a free port (``daphne endrpi_project.asgi:application``, or with
``--serve`` ``manage.py endrpi_serve`` as ``scripts/serve`` runs it) with simulated GPIO and a fake
/sys, /proc and firmware (so the figures do not depend on the machine), runs every client in a
closed loop (send, wait for the answer, send again) and reports requests answered, errors (the
expected ones, such as the error envelope for garbage, apart from unexpected ones), latency
percentiles and the server's resident memory at start and end. It exits non-zero if any request
went unanswered, any answer was not the expected one, or the server died. Needs the dev
requirements (the ``websockets`` client).
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import random
import socket
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from endrpi_project.testing.live import live_server  # noqa: E402  (the one way we start a real daphne, for tests and scripts)

PINS = [f"GPIO{number}" for number in range(2, 28)]
# GPIO2 and GPIO3 have fixed pull-ups (I2C), so an input with another pull is rightly refused there.
WRITABLE_PINS = PINS[2:]
READ_ACTIONS = ["READ_TEMPERATURE", "READ_THROTTLE", "READ_UPTIME", "READ_FREQUENCY", "READ_MEMORY"]
REPLY_TIMEOUT = 10.0


@dataclass
class Tally:
    """What one kind of client saw. ``expected_errors`` are refusals the request was meant to get."""

    answered: int = 0
    ok: int = 0
    expected_errors: int = 0
    unexpected: int = 0
    unanswered: int = 0
    latencies: list[float] = field(default_factory=list)
    samples: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, latency: float, outcome: str, detail: str = "") -> None:
        with self.lock:
            self.answered += 1
            self.latencies.append(latency)
            if outcome == "ok":
                self.ok += 1
            elif outcome == "expected":
                self.expected_errors += 1
            else:
                self.unexpected += 1
                self.samples[detail[:160]] += 1

    def lost(self, detail: str) -> None:
        with self.lock:
            self.unanswered += 1
            self.samples[f"unanswered: {detail[:140]}"] += 1

    def summary(self, duration: float) -> dict[str, Any]:
        ordered = sorted(self.latencies)

        def percentile(fraction: float) -> float | None:
            if not ordered:
                return None
            return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000, 2)

        return {
            "answered": self.answered,
            "per_second": round(self.answered / duration, 1),
            "ok": self.ok,
            "expected_errors": self.expected_errors,
            "unexpected": self.unexpected,
            "unanswered": self.unanswered,
            "p50_ms": percentile(0.50),
            "p99_ms": percentile(0.99),
            "max_ms": round(ordered[-1] * 1000, 2) if ordered else None,
            "problems": dict(self.samples.most_common(5)),
        }


# --- What the clients send ------------------------------------------------------------------------


def websocket_request(rng: random.Random) -> tuple[str, bool]:
    """A frame and whether it should succeed. 60 % reads, 20 % writes, 20 % garbage of every kind."""
    roll = rng.random()
    if roll < 0.45:
        return json.dumps({"action": rng.choice(READ_ACTIONS), "id": rng.randrange(10**6)}), True
    if roll < 0.6:
        names = rng.sample(PINS, rng.randint(0, 4))
        return json.dumps({"action": "READ_PIN_CONFIGURATIONS", "params": {"pins": names}}), True
    if roll < 0.8:
        change: dict[str, Any] = (
            {"io": "OUTPUT", "state": float(rng.randint(0, 1))}
            if rng.random() < 0.5
            else {"io": "INPUT", "pull": rng.choice(["UP", "DOWN", "FLOATING"])}
        )
        changes = {pin: change for pin in rng.sample(WRITABLE_PINS, rng.randint(1, 3))}
        return json.dumps({"action": "UPDATE_PIN_CONFIGURATIONS", "params": {"pins": changes}}), True
    garbage = [
        "not json at all",
        "[1, 2, 3]",
        '{"action": 42}',
        '{"action": "LAUNCH_ROCKETS"}',
        '{"action": "READ_PIN_CONFIGURATIONS"}',
        '{"action": "READ_PIN_CONFIGURATIONS", "params": {"pins": ["GPIO99"]}}',
        '{"action": "UPDATE_PIN_CONFIGURATIONS", "params": {"pins": {}}}',
        '{"action": "UPDATE_PIN_CONFIGURATIONS", "params": {"pins": {"GPIO17": {"io": "INPUT"}}}}',
        '{"action": "READ_UPTIME", "id": NaN}',
        "[" * 50_000,
        json.dumps({"action": "READ_UPTIME", "padding": "x" * 70_000}),
        "\u00e9\u6f22\U0001f600",
    ]
    return rng.choice(garbage), False


def websocket_outcome(reply: Any, should_succeed: bool) -> tuple[str, str]:
    if not isinstance(reply, dict) or set(reply) - {"action", "success", "data", "error", "id"}:
        return "unexpected", f"not an envelope: {reply!r}"
    if reply.get("success") is True:
        return ("ok", "") if should_succeed else ("unexpected", f"garbage succeeded: {reply!r}")
    error = str(reply.get("error"))
    if not should_succeed or error.startswith(("Too many pin updates", "The server is taking too many pin updates")):
        return "expected", ""
    return "unexpected", error


def rest_request(rng: random.Random) -> tuple[str, str, bytes | None, set[int]]:
    """Method, path, body and the statuses that count as the right answer."""
    pin = rng.choice(WRITABLE_PINS)
    roll = rng.random()
    if roll < 0.5:
        path = rng.choice(
            ["/system", "/system/temperature", "/system/uptime", "/system/memory", "/pins", f"/pins/{pin}"]
        )
        return "GET", path, None, {200}
    if roll < 0.7:
        body = {"io": "OUTPUT", "state": float(rng.randint(0, 1))}
        return "PUT", f"/pins/{pin}", json.dumps(body).encode(), {200}
    return rng.choice(
        [
            ("PUT", f"/pins/{pin}", b'{"io": "OUTPUT"}', {400}),
            ("PUT", f"/pins/{pin}", b"{not json", {400}),
            ("PUT", "/pins/GPIO99", b'{"io": "INPUT", "pull": "UP"}', {404}),
            ("GET", "/pins/NOPE", None, {404}),
            ("DELETE", f"/pins/{pin}", None, {405}),
            ("GET", "/no/such/page", None, {404}),
        ]
    )


# --- Clients ---------------------------------------------------------------------------------------


async def websocket_client(url: str, deadline: float, tally: Tally, seed: int) -> None:
    rng = random.Random(seed)
    try:
        async with connect(url, proxy=None, max_size=None, open_timeout=REPLY_TIMEOUT) as websocket:
            while time.monotonic() < deadline:
                frame, should_succeed = websocket_request(rng)
                started = time.perf_counter()
                await websocket.send(frame)
                try:
                    text = await asyncio.wait_for(websocket.recv(), REPLY_TIMEOUT)
                except TimeoutError:
                    tally.lost(f"no reply within {REPLY_TIMEOUT:g} s to {frame[:60]}")
                    return
                latency = time.perf_counter() - started
                outcome, detail = websocket_outcome(json.loads(text), should_succeed)
                tally.record(latency, outcome, detail)
    except Exception as error:  # a dropped connection or a refused handshake: that request is unanswered
        tally.lost(f"{type(error).__name__}: {error}")


def rest_client(port: int, deadline: float, tally: Tally, seed: int) -> None:
    rng = random.Random(seed)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REPLY_TIMEOUT)
    while time.monotonic() < deadline:
        method, path, body, statuses = rest_request(rng)
        if method == "PUT":
            statuses = statuses | {429}  # any write may meet the write rate limits first
        headers = {"Accept": "application/json", "Content-Type": "application/json"}
        started = time.perf_counter()
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException) as error:
            tally.lost(f"{method} {path}: {type(error).__name__}: {error}")
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REPLY_TIMEOUT)
            continue
        latency = time.perf_counter() - started
        if response.status not in statuses:
            tally.record(latency, "unexpected", f"{method} {path} -> {response.status} {payload[:100]!r}")
        elif response.status >= 400 and set(json.loads(payload)) != {"message"}:
            tally.record(latency, "unexpected", f"{method} {path} -> {response.status} without a Message")
        else:
            tally.record(latency, "ok" if response.status < 400 else "expected")
    connection.close()


# --- The server ------------------------------------------------------------------------------------


def firmware_hold(root: Path) -> Path:
    """While this file exists, the fake firmware's ``get_throttled`` does not answer (a hung firmware call)."""
    return root / "hold-firmware"


def fake_host(root: Path) -> dict[str, str]:
    """A Raspberry Pi's files and firmware command, so the load does not depend on this machine.

    The fake ``vcgencmd`` answers at once, except ``get_throttled`` while :func:`firmware_hold` exists
    (the firmware timeout is long, so a held call waits for the release rather than timing out).
    """
    files = {
        "sys/class/thermal/thermal_zone0/temp": "48312\n",
        "proc/uptime": "123456.78 432100.12\n",
        "proc/meminfo": "MemTotal:        3884360 kB\nMemFree:          2953876 kB\nMemAvailable:    3396156 kB\n",
    }
    for relative, text in files.items():
        path = root / "host" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    vcgencmd = root / "vcgencmd"
    vcgencmd.write_text(
        f'#!/bin/sh\ncase "$1 $2" in\n  "get_throttled ") while [ -e "{firmware_hold(root)}" ]; do sleep 0.02; done\n'
        '    echo "throttled=0x0" ;;\n'
        '  "measure_clock arm") echo "frequency(48)=1500398464" ;;\n'
        '  "measure_clock core") echo "frequency(1)=500000992" ;;\n  *) exit 255 ;;\nesac\n'
    )
    vcgencmd.chmod(0o755)
    return {
        "ENDRPI_HOST_ROOT": str(root / "host"),
        "ENDRPI_VCGENCMD": str(vcgencmd),
        "ENDRPI_FIRMWARE_TIMEOUT": "600",
    }


async def run_clients(port: int, args: argparse.Namespace) -> tuple[Tally, Tally, float]:
    websocket, rest = Tally(), Tally()
    started = time.monotonic()
    deadline = started + args.duration
    tasks = [
        websocket_client(f"ws://127.0.0.1:{port}/", deadline, websocket, args.seed + n) for n in range(args.ws_clients)
    ]
    threads = [
        asyncio.to_thread(rest_client, port, deadline, rest, args.seed + 1000 + n) for n in range(args.rest_clients)
    ]
    await asyncio.gather(*tasks, *threads)
    return websocket, rest, time.monotonic() - started


# --- Abuse phases ----------------------------------------------------------------------------------


def server_cpu_seconds(pid: int) -> float:
    """User plus system CPU time the server process has used (``/proc/PID/stat``, fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def mib(kib: int | None) -> float:
    return round((kib or 0) / 1024, 1)


def percentile_ms(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000, 2)


HANDSHAKE = (
    b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)


def masked_frame(text: str) -> bytes:
    """A client's text frame (RFC 6455: clients must mask; a zero key leaves the payload as it is)."""
    payload = text.encode()
    assert len(payload) < 126
    return bytes([0x81, 0x80 | len(payload), 0, 0, 0, 0]) + payload


async def bystander(url: str, stop: asyncio.Event, latencies: list[float], failures: list[str]) -> None:
    """A well-behaved client asking for the uptime every 10 ms until ``stop``."""
    try:
        async with connect(url, proxy=None, open_timeout=REPLY_TIMEOUT) as websocket:
            while not stop.is_set():
                started = time.perf_counter()
                await websocket.send('{"action":"READ_UPTIME"}')
                await asyncio.wait_for(websocket.recv(), REPLY_TIMEOUT)
                latencies.append(time.perf_counter() - started)
                await asyncio.sleep(0.01)
    except Exception as error:
        failures.append(f"{type(error).__name__}: {error}")


def tcp_buffers_max() -> int:
    """The most one TCP connection's kernel buffers can hold here: a receive and a send buffer at their maximum."""
    receive = int(Path("/proc/sys/net/ipv4/tcp_rmem").read_text().split()[2])
    send = int(Path("/proc/sys/net/ipv4/tcp_wmem").read_text().split()[2])
    return receive + send


async def flood_phase(server: Any, seconds: float, hold: Path) -> dict[str, Any]:
    """One client writes requests as fast as TCP lets it and never reads; a bystander keeps asking.

    The flooder's first request (``READ_THROTTLE``) waits on a firmware call the phase holds (``hold``,
    see :func:`fake_host`), so the server falls behind by construction, on a machine of any speed: it
    may hold at most ``ENDRPI_WS_MAX_PENDING`` unanswered requests, then it stops reading and TCP
    pushes back. The phase reports whether it did and how much the flooder could send before it (at
    most the kernel's buffers plus that backlog). Then the call is released and the flood goes on for
    ``seconds`` into a socket nobody reads: the server's memory, and its bystander's latency, meanwhile.
    """
    pid = server.process.pid
    stop, latencies, failures = asyncio.Event(), list[float](), list[str]()
    watcher = asyncio.create_task(bystander(server.ws_url, stop, latencies, failures))
    await asyncio.sleep(0.5)
    rss_start, cpu_start = server.rss_kib(), server_cpu_seconds(pid)
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=REPLY_TIMEOUT)
    sock.sendall(HANDSHAKE)
    assert sock.recv(4096).startswith(b"HTTP/1.1 101"), "the flooder's handshake was refused"
    chunk = masked_frame('{"action":"READ_UPTIME"}') * 200
    state = {"frames": 0, "bytes": 0, "pushed_back": False, "bytes_before_push_back": 0}
    peak = rss_start or 0

    def pump(until: float, stop_when_pushed_back: bool) -> None:
        sock.settimeout(1.0)
        while time.monotonic() < until:
            try:
                sock.sendall(chunk)
            except TimeoutError:  # nothing could be written for a second: the server stopped reading
                if not state["pushed_back"]:
                    state["pushed_back"], state["bytes_before_push_back"] = True, state["bytes"]
                if stop_when_pushed_back:
                    return
                continue
            state["frames"] += 200
            state["bytes"] += len(chunk)

    async def pumping(until: float, stop_when_pushed_back: bool) -> None:
        nonlocal peak
        writer = asyncio.create_task(asyncio.to_thread(pump, until, stop_when_pushed_back))
        while not writer.done():
            peak = max(peak, server.rss_kib() or 0)
            await asyncio.sleep(0.1)
        await writer

    await asyncio.to_thread(hold.touch)
    try:
        sock.sendall(masked_frame('{"action":"READ_THROTTLE"}'))
        # Only a server that never stops reading gets this far: a generous bound, not a speed.
        await pumping(time.monotonic() + 120, stop_when_pushed_back=True)
        peak = max(peak, server.rss_kib() or 0)
    finally:
        await asyncio.to_thread(hold.unlink)
    await pumping(time.monotonic() + seconds, stop_when_pushed_back=False)
    peak = max(peak, server.rss_kib() or 0)
    cpu_during = server_cpu_seconds(pid) - cpu_start
    sock.close()
    await asyncio.sleep(1.0)
    cpu_left = server_cpu_seconds(pid)
    await asyncio.sleep(3.0)
    cpu_after = server_cpu_seconds(pid) - cpu_left
    rss_after = server.rss_kib()
    stop.set()
    await watcher
    return {
        "seconds": seconds,
        "frames_sent": state["frames"],
        "tcp_pushed_back": state["pushed_back"],
        "kib_sent_before_push_back": round(state["bytes_before_push_back"] / 1024),
        "kib_tcp_buffers_max": round(tcp_buffers_max() / 1024),
        "rss_start_mib": mib(rss_start),
        "rss_peak_mib": mib(peak),
        "rss_after_leaving_mib": mib(rss_after),
        "mib_per_flooding_connection": round(mib(peak) - mib(rss_start), 1),
        "server_cpu_s_during": round(cpu_during, 2),
        "server_cpu_s_in_3s_after_leaving": round(cpu_after, 2),
        "bystander_answers": len(latencies),
        "bystander_p50_ms": percentile_ms(latencies, 0.5),
        "bystander_p99_ms": percentile_ms(latencies, 0.99),
        "bystander_failures": failures[:3],
    }


def flood_bounded(figures: dict[str, Any]) -> bool:
    """TCP pushed back once the server's backlog was full.

    The flooder got no further than the kernel's buffers (its send buffer and the server's receive
    buffer, each at its maximum) and the server's backlog (at most 1 MiB of requests, plus one read)
    can hold: 2 MiB for the latter.
    """
    return bool(
        figures["tcp_pushed_back"] and figures["kib_sent_before_push_back"] <= figures["kib_tcp_buffers_max"] + 2048
    )


def http_status(port: int, path: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REPLY_TIMEOUT)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


async def slowloris_phase(server: Any, connections: int, seconds: float) -> dict[str, Any]:
    """``connections`` clients each send a request head a byte a second; are others still answered?"""
    rss_start = server.rss_kib()
    head = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"x" * 10_000
    sockets: list[socket.socket] = []
    for _ in range(connections):
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=REPLY_TIMEOUT)
        sock.setblocking(False)
        sockets.append(sock)
    answers: Counter[str] = Counter()
    rss_peak = rss_start or 0
    legit_rest: list[int | str] = []
    legit_ws: list[bool | str] = []
    started = time.monotonic()
    position = 0
    while time.monotonic() - started < seconds:
        still_open = []
        for sock in sockets:
            try:
                try:  # an answer first (the server may have answered and closed since the last byte)
                    answer = sock.recv(4096)
                except BlockingIOError:
                    sock.send(head[position : position + 1])
                    still_open.append(sock)
                    continue
                answers[answer.split(b"\r\n", 1)[0].decode(errors="replace") or "closed"] += 1
            except OSError:
                answers["reset"] += 1
            sock.close()
        sockets = still_open
        rss_peak = max(rss_peak, server.rss_kib() or 0)
        if position == 2:  # meanwhile, with every slow connection open: are others answered?
            try:
                legit_rest.append(await asyncio.to_thread(http_status, server.port, "/system/uptime"))
            except OSError as error:
                legit_rest.append(f"{type(error).__name__}: {error}")
            try:
                async with connect(server.ws_url, proxy=None, open_timeout=REPLY_TIMEOUT) as websocket:
                    await websocket.send('{"action":"READ_UPTIME"}')
                    legit_ws.append(json.loads(await asyncio.wait_for(websocket.recv(), REPLY_TIMEOUT))["success"])
            except Exception as error:
                legit_ws.append(f"{type(error).__name__}: {error}")
        position += 1
        await asyncio.sleep(1.0)
    for sock in sockets:
        sock.close()
    return {
        "slow_connections": connections,
        "seconds": seconds,
        "answers": dict(answers),
        "still_open_at_end": len(sockets),
        "rss_start_mib": mib(rss_start),
        "rss_peak_mib": mib(rss_peak),
        "kib_per_slow_connection": round(((rss_peak or 0) - (rss_start or 0)) / connections, 1),
        "legit_rest_status": legit_rest,
        "legit_websocket_success": legit_ws,
    }


async def burst_phase(server: Any, writers: int = 10, updates: int = 100) -> dict[str, Any]:
    """``writers`` x ``updates`` updates of all 26 pins while 2 clients subscribe to PINS."""
    url = server.ws_url
    seen: list[dict[str, float]] = [{}, {}]
    changes, dropped = [0, 0], [0, 0]
    done = asyncio.Event()

    async def subscriber(index: int, ready: asyncio.Event) -> None:
        async with connect(url, proxy=None, max_size=None) as websocket:
            await websocket.send(json.dumps({"action": "SUBSCRIBE", "params": {"topic": "PINS"}}))
            reply = json.loads(await websocket.recv())
            seen[index].update({pin: value["state"] for pin, value in reply["data"]["current"].items()})
            ready.set()
            # Every accepted update arrives as a message or is counted in a MESSAGES_DROPPED: once the
            # writers are done, the wait ends when all are accounted for (however long the server takes;
            # a minute without a message ends it too, and the figures then show what never came).
            last_message = time.monotonic()
            while not (done.is_set() and changes[index] + dropped[index] >= accepted):
                try:
                    message = json.loads(await asyncio.wait_for(websocket.recv(), 0.5))
                except TimeoutError:
                    if done.is_set() and time.monotonic() - last_message > 60:
                        return
                    continue
                last_message = time.monotonic()
                if message["action"] == "MESSAGES_DROPPED":
                    dropped[index] += message["data"]["dropped"]
                elif message["action"] == "PIN_CONFIGURATIONS_CHANGED":
                    changes[index] += 1
                    seen[index].update({pin: value["state"] for pin, value in message["data"].items()})

    readies = [asyncio.Event(), asyncio.Event()]
    listeners = [asyncio.create_task(subscriber(index, readies[index])) for index in range(2)]
    for ready in readies:
        await ready.wait()
    accepted = 0

    async def writer(number: int) -> None:
        nonlocal accepted
        async with connect(url, proxy=None) as websocket:
            for update in range(updates):
                state = float((update + number) % 2)
                pins = {pin: {"io": "OUTPUT", "state": state} for pin in PINS}
                await websocket.send(json.dumps({"action": "UPDATE_PIN_CONFIGURATIONS", "params": {"pins": pins}}))
                succeeded = bool(json.loads(await websocket.recv())["success"])
                accepted += succeeded

    started = time.monotonic()
    await asyncio.gather(*(writer(number) for number in range(writers)))
    elapsed = time.monotonic() - started
    async with connect(url, proxy=None) as websocket:
        await websocket.send(json.dumps({"action": "READ_PIN_CONFIGURATIONS", "params": {"pins": PINS}}))
        final = {pin: value["state"] for pin, value in json.loads(await websocket.recv())["data"].items()}
    done.set()
    await asyncio.gather(*listeners)
    return {
        "updates_accepted": accepted,
        "seconds": round(elapsed, 2),
        "received": changes,
        "reported_dropped": dropped,
        "unaccounted": [accepted - changes[index] - dropped[index] for index in range(2)],
        "stale_pins": [sum(seen[index].get(pin) != final[pin] for pin in PINS) for index in range(2)],
    }


async def subscribe_once(url: str, number: int) -> None:
    topic = ["PINS", "TEMPERATURE", "MEMORY"][number % 3]
    params: dict[str, Any] = {"topic": topic} if topic == "PINS" else {"topic": topic, "intervalMs": 100 + number}
    async with connect(url, proxy=None) as websocket:
        await websocket.send(json.dumps({"action": "SUBSCRIBE", "params": params}))
        await websocket.recv()


async def cycles_phase(server: Any, cycles: int = 500) -> dict[str, Any]:
    """Connect, subscribe (pins or a reading at a distinct interval), disconnect; twice ``cycles`` times."""
    for number in range(50):  # warm up: first-use allocations are not growth
        await subscribe_once(server.ws_url, number)
    await asyncio.sleep(1.0)
    figures = [server.rss_kib()]
    for _ in range(2):
        for number in range(cycles):
            await subscribe_once(server.ws_url, number)
        await asyncio.sleep(2.0)
        figures.append(server.rss_kib())
    return {
        "cycles": cycles,
        "rss_before_mib": mib(figures[0]),
        "rss_after_1st_mib": mib(figures[1]),
        "rss_after_2nd_mib": mib(figures[2]),
        "growth_1st_kib": (figures[1] or 0) - (figures[0] or 0),
        "growth_2nd_kib": (figures[2] or 0) - (figures[1] or 0),
    }


async def idle_phase(server: Any, subscribers: int = 300, seconds: float = 6.0) -> dict[str, Any]:
    """``subscribers`` clients watch the uptime at distinct intervals (200, 203, ... ms) and do nothing else."""
    pid = server.process.pid
    rss_start = server.rss_kib()
    clients = []
    for number in range(subscribers):
        websocket = await connect(server.ws_url, proxy=None, max_size=None)
        params = {"topic": "UPTIME", "intervalMs": 200 + 3 * number}
        await websocket.send(json.dumps({"action": "SUBSCRIBE", "params": params}))
        await websocket.recv()
        clients.append(websocket)
    await asyncio.sleep(1.0)
    cpu_start = server_cpu_seconds(pid)
    await asyncio.sleep(seconds)
    cpu = (server_cpu_seconds(pid) - cpu_start) / seconds
    rss = server.rss_kib()
    for websocket in clients:
        await websocket.close()
    return {
        "subscribers": subscribers,
        "intervals_ms": f"200 to {200 + 3 * (subscribers - 1)}, every 3",
        "server_cpu_percent": round(cpu * 100, 1),
        "kib_per_subscriber": round(((rss or 0) - (rss_start or 0)) / subscribers, 1),
    }


def phase_passed(name: str, figures: dict[str, Any]) -> bool:
    """The promises each phase checks (generous bounds: this is a shared machine)."""
    if name == "flood":
        return bool(
            flood_bounded(figures)
            and figures["mib_per_flooding_connection"] < 32
            and not figures["bystander_failures"]
            and figures["bystander_answers"] > 0
        )
    if name == "slowloris":
        return bool(
            figures["still_open_at_end"] == 0
            and figures["legit_rest_status"] == [200]
            and figures["legit_websocket_success"] == [True]
        )
    if name == "burst":
        return bool(figures["stale_pins"] == [0, 0] and figures["unaccounted"] == [0, 0])
    return True


PHASES = ["mixed", "flood", "slowloris", "burst", "cycles", "idle"]


def phase_environment(name: str, quick: bool) -> dict[str, str]:
    if name == "slowloris" and quick:
        return {"ENDRPI_HTTP_HEAD_TIMEOUT": "3"}
    if name == "burst":  # the burst measures delivery, not the server-wide write budget
        return {"ENDRPI_WRITE_RATE": "100000"}
    if name == "idle":  # 300 connections from one address
        return {"ENDRPI_MAX_CONNECTIONS_PER_CLIENT": "1000"}
    return {}


async def run_phase(name: str, server: Any, args: argparse.Namespace) -> dict[str, Any]:
    if name == "flood":
        return await flood_phase(server, seconds=3.0 if args.quick else 8.0, hold=args.hold)
    if name == "slowloris":
        return await slowloris_phase(
            server, connections=100 if args.quick else 200, seconds=6.0 if args.quick else 15.0
        )
    if name == "burst":
        return await burst_phase(server)
    if name == "cycles":
        return await cycles_phase(server)
    return await idle_phase(server)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of mixed load (default 30)")
    parser.add_argument("--quick", action="store_true", help="5 seconds of mixed load, short abuse phases, for CI")
    parser.add_argument("--ws-clients", type=int, default=50)
    parser.add_argument("--rest-clients", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--phases", default="mixed,flood,slowloris", help=f"comma-separated, of {', '.join(PHASES)}")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    parser.add_argument(
        "--serve",
        action="store_true",
        help="run the server as scripts/serve does (manage.py endrpi_serve) instead of plain daphne",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.duration = 5.0
    phases = [name.strip() for name in args.phases.split(",") if name.strip()]
    unknown = sorted(set(phases) - set(PHASES))
    if unknown:
        parser.error(f"unknown phase(s) {', '.join(unknown)}; phases are {', '.join(PHASES)}")

    report: dict[str, Any] = {"phases": {}}
    failed = False
    for name in phases:
        with tempfile.TemporaryDirectory(prefix="endrpi-load-") as directory:
            workdir = Path(directory)
            environment = {
                **fake_host(workdir),
                "ENDRPI_HOST": "127.0.0.1",
                "ENDRPI_AUTH": "off",
                **phase_environment(name, args.quick),
            }
            args.hold = firmware_hold(workdir)
            with live_server(workdir / "data", environment, serve=args.serve) as server:
                try:
                    if name == "mixed":
                        rss_start = server.rss_kib()
                        websocket, rest, elapsed = asyncio.run(run_clients(server.port, args))
                        rss_end = server.rss_kib()
                    else:
                        figures = asyncio.run(run_phase(name, server, args))
                    alive = server.process.poll() is None
                except Exception:
                    print(server.log.read_text(errors="replace")[-4000:], file=sys.stderr)
                    raise
        if name == "mixed":
            clients = args.ws_clients + args.rest_clients
            report.update(
                {
                    "duration_s": round(elapsed, 1),
                    "ws_clients": args.ws_clients,
                    "rest_clients": args.rest_clients,
                    "websocket": websocket.summary(elapsed),
                    "rest": rest.summary(elapsed),
                    "server_rss_kib": {"start": rss_start, "end": rss_end},
                    "kib_per_connection": round(((rss_end or 0) - (rss_start or 0)) / clients, 1),
                    "server_alive": alive,
                }
            )
            failed |= not alive or any(
                report[kind]["unanswered"] or report[kind]["unexpected"] for kind in ("websocket", "rest")
            )
        else:
            figures["passed"] = alive and phase_passed(name, figures)
            report["phases"][name] = figures
            failed |= not figures["passed"]
    report["passed"] = not failed
    if args.json:
        print(json.dumps(report))
    else:
        print_report(report)
    return 1 if failed else 0


def print_report(report: dict[str, Any]) -> None:
    if "websocket" in report:
        print(
            f"{report['ws_clients']} WebSocket + {report['rest_clients']} REST clients for {report['duration_s']} s "
            f"against daphne on 127.0.0.1"
        )
        for kind in ("websocket", "rest"):
            figures = report[kind]
            print(
                f"  {kind:9} answered {figures['answered']:>7} ({figures['per_second']}/s): ok {figures['ok']}, "
                f"expected errors {figures['expected_errors']}, unexpected {figures['unexpected']}, "
                f"unanswered {figures['unanswered']}; latency p50 {figures['p50_ms']} ms, "
                f"p99 {figures['p99_ms']} ms, max {figures['max_ms']} ms"
            )
            for problem, count in figures["problems"].items():
                print(f"      {count} x {problem}")
        rss = report["server_rss_kib"]
        print(
            f"  server RSS: {rss['start']} KiB at start, {rss['end']} KiB at end "
            f"({report['kib_per_connection']} KiB per connection); alive: {report['server_alive']}"
        )
    for name, figures in report["phases"].items():
        print(f"{name}:")
        for key, value in figures.items():
            print(f"  {key:34} {value}")
    print("PASS: every request answered as expected" if report["passed"] else "FAIL")


if __name__ == "__main__":
    sys.exit(main())
