"""Load test: many WebSocket and REST clients against a real daphne, mixing reads, writes and garbage.

    python bench/load.py                 # 50 WebSocket + 10 REST clients for 30 s
    python bench/load.py --quick         # the same for 5 s (CI runs this, tests/test_load_quick.py)
    python bench/load.py --duration 120 --ws-clients 100 --json

It starts daphne on 127.0.0.1 on a free port with simulated GPIO and a fake /sys, /proc and firmware
(so the figures do not depend on the machine), runs every client in a closed loop (send, wait for the
answer, send again) and reports requests answered, errors (the expected ones, such as the error
envelope for garbage, apart from unexpected ones), latency percentiles and the server's resident
memory at start and end. It exits non-zero if any request went unanswered, any answer was not the
expected one, or the server died. Needs the dev requirements (the ``websockets`` client).
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import random
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
    if not should_succeed or error.startswith("Too many pin updates"):
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


def fake_host(root: Path) -> dict[str, str]:
    """A Raspberry Pi's files and firmware command, so the load does not depend on this machine."""
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
        '#!/bin/sh\ncase "$1 $2" in\n  "get_throttled ") echo "throttled=0x0" ;;\n'
        '  "measure_clock arm") echo "frequency(48)=1500398464" ;;\n'
        '  "measure_clock core") echo "frequency(1)=500000992" ;;\n  *) exit 255 ;;\nesac\n'
    )
    vcgencmd.chmod(0o755)
    return {"ENDRPI_HOST_ROOT": str(root / "host"), "ENDRPI_VCGENCMD": str(vcgencmd)}


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of load (default 30)")
    parser.add_argument("--quick", action="store_true", help="5 seconds, for CI")
    parser.add_argument("--ws-clients", type=int, default=50)
    parser.add_argument("--rest-clients", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = parser.parse_args(argv)
    if args.quick:
        args.duration = 5.0

    with tempfile.TemporaryDirectory(prefix="endrpi-load-") as directory:
        workdir = Path(directory)
        environment = {**fake_host(workdir), "ENDRPI_HOST": "127.0.0.1", "ENDRPI_AUTH": "off"}
        with live_server(workdir / "data", environment) as server:
            try:
                rss_start = server.rss_kib()
                websocket, rest, elapsed = asyncio.run(run_clients(server.port, args))
                rss_end = server.rss_kib()
                alive = server.process.poll() is None
            except Exception:
                print(server.log.read_text(errors="replace")[-4000:], file=sys.stderr)
                raise

    report = {
        "duration_s": round(elapsed, 1),
        "ws_clients": args.ws_clients,
        "rest_clients": args.rest_clients,
        "websocket": websocket.summary(elapsed),
        "rest": rest.summary(elapsed),
        "server_rss_kib": {"start": rss_start, "end": rss_end},
        "server_alive": alive,
    }
    failed = not alive or any(
        report[kind]["unanswered"] or report[kind]["unexpected"] for kind in ("websocket", "rest")
    )
    report["passed"] = not failed
    if args.json:
        print(json.dumps(report))
    else:
        print_report(report)
    return 1 if failed else 0


def print_report(report: dict[str, Any]) -> None:
    print(
        f"{report['ws_clients']} WebSocket + {report['rest_clients']} REST clients for {report['duration_s']} s "
        f"against daphne on 127.0.0.1"
    )
    for kind in ("websocket", "rest"):
        figures = report[kind]
        print(
            f"  {kind:9} answered {figures['answered']:>7} ({figures['per_second']}/s): ok {figures['ok']}, "
            f"expected errors {figures['expected_errors']}, unexpected {figures['unexpected']}, "
            f"unanswered {figures['unanswered']}; latency p50 {figures['p50_ms']} ms, p99 {figures['p99_ms']} ms, "
            f"max {figures['max_ms']} ms"
        )
        for problem, count in figures["problems"].items():
            print(f"      {count} x {problem}")
    rss = report["server_rss_kib"]
    print(f"  server RSS: {rss['start']} KiB at start, {rss['end']} KiB at end; alive: {report['server_alive']}")
    print("PASS: every request answered as expected" if report["passed"] else "FAIL")


if __name__ == "__main__":
    sys.exit(main())
