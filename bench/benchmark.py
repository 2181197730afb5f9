"""Endrpi's speed and memory, measured against daphne's own floor. Run ``python bench/benchmark.py``.

Starts daphne on 127.0.0.1 (a free port) serving the project over a temporary host tree (the real
/proc/meminfo and /proc/uptime where this machine has them, fixture files otherwise) with a
recorded firmware behind /dev/vcio_gencmd (``bench.bench_asgi``), then drives it from this process
(the server has its own process and core) and prints one table:

* WebSocket round trips per second and p50/p99 latency with 1 and 16 clients, for READ_MEMORY,
  READ_TEMPERATURE and READ_PIN_CONFIGURATIONS of all 26 pins;
* REST requests per second for /system/memory, /system and /pins;
* server CPU time per request or message (from /proc/<pid>/stat utime + stime);
* server RSS after start, halfway through a long run and at its end (``--requests``, 100,000 by
  default), and start-up time to the first answer;
* the same WebSocket load against ``bench.floor_asgi`` (a Channels consumer answering a constant,
  under the same daphne), and the ratio of our server CPU per message to the floor's;
* how many processes the server spawned (the fallback ``vcgencmd`` is a script that counts its
  runs; with a firmware device answering it must stay at 0).

``--quick`` runs everything briefly (well under 30 s) so CI can check the script still works.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from endrpi_project.testing.live import free_port, process_rss_kib, stop_process  # noqa: E402  (shared with the tests and other scripts)

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
ALL_PINS = [f"GPIO{bcm}" for bcm in range(2, 28)]
MESSAGES = {
    "READ_MEMORY": {"action": "READ_MEMORY"},
    "READ_TEMPERATURE": {"action": "READ_TEMPERATURE"},
    "READ_PIN_CONFIGURATIONS": {"action": "READ_PIN_CONFIGURATIONS", "params": {"pins": ALL_PINS}},
}
TARGETS = {"floor_ratio": 1.3, "ws_one_client": 1000.0, "rss_mb": 80.0}


# --- The server ----------------------------------------------------------------------------------


def host_tree(root: Path) -> Path:
    """A host root with the files a Pi has; the kernel's own meminfo, uptime, CPU and network files
    where there are some (the network's interfaces then match the addresses the kernel answers)."""
    host = root / "host"
    fixtures = ROOT / "tests/fixtures"
    for relative, fallback in [
        ("proc/meminfo", (fixtures / "meminfo.txt").read_text()),
        ("proc/uptime", "123456.78 432100.12\n"),
        ("proc/stat", (fixtures / "proc_stat.txt").read_text()),
        ("proc/loadavg", (fixtures / "loadavg.txt").read_text()),
        ("proc/net/dev", (fixtures / "net_dev.txt").read_text()),
        ("sys/class/net", None),
        ("sys/class/thermal/thermal_zone0/temp", "48312\n"),
        ("sys/block/mmcblk0/stat", (fixtures / "mmcblk0_stat.txt").read_text()),
    ]:
        path = host / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        real = Path("/") / relative
        if real.exists() and relative != "sys/block/mmcblk0/stat":  # a server's disk is no SD card
            path.symlink_to(real)
        elif fallback is not None:
            path.write_text(fallback)
    (host / "proc/device-tree").mkdir(parents=True)
    (host / "proc/device-tree/model").write_bytes(b"Raspberry Pi 4 Model B Rev 1.4\0")
    return host


def counting_vcgencmd(root: Path) -> tuple[Path, Path]:
    """A ``vcgencmd`` that answers like the real one and appends a line to a log each time it runs."""
    script, log = root / "vcgencmd", root / "vcgencmd.runs"
    log.touch()
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$*" >> "{log}"\n'
        'case "$1" in get_throttled) echo throttled=0x0 ;; *) echo "frequency(48)=600000000" ;; esac\n'
    )
    script.chmod(0o755)
    return script, log


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    started_in: float

    @property
    def pid(self) -> int:
        return self.process.pid

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def rss_mb(self) -> float:
        kib = process_rss_kib(self.pid)
        if kib is None:
            raise RuntimeError("the server has gone: no VmRSS")
        return kib / 1024


@contextmanager
def serve(asgi: str, env: dict[str, str], ready: Callable[[int], bool], log: Path) -> Iterator[Server]:
    port = free_port()
    with open(log, "wb") as output:
        began = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), asgi],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while not ready(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"daphne {asgi} did not start:\n{log.read_text()}")
            time.sleep(0.005)
        yield Server(process, port, time.perf_counter() - began)
    finally:
        stop_process(process)


def http_ready(port: int) -> bool:
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        connection.request("GET", "/system/uptime")
        ok = connection.getresponse().status == 200
        connection.close()
        return ok
    except OSError:
        return False


def websocket_ready(port: int) -> bool:
    async def attempt() -> bool:
        try:
            async with connect(f"ws://127.0.0.1:{port}/", open_timeout=1):
                return True
        except (TimeoutError, OSError):
            return False
        except Exception:
            return False

    return asyncio.run(attempt())


# --- Load -----------------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    clients: int
    count: int
    seconds: float
    latencies: list[float]
    server_cpu: float

    @property
    def rate(self) -> float:
        return self.count / self.seconds

    @property
    def cpu_per_request_us(self) -> float:
        return self.server_cpu / self.count * 1e6

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000


async def _websocket_clients(
    url: str, text: str, clients: int, *, duration: float | None, total: int | None, check: bool
) -> tuple[int, list[float], float]:
    latencies: list[float] = []
    remaining = [total or 0]
    sockets = [await connect(url, max_size=None) for _ in range(clients)]
    # One warm-up round trip each, so connection set-up is not counted.
    for ws in sockets:
        await ws.send(text)
        reply = json.loads(await ws.recv())
        if check and not reply.get("success"):
            raise RuntimeError(f"the server refused the benchmark's request: {reply}")
    began = time.perf_counter()
    stop = began + duration if duration is not None else float("inf")

    async def client(ws: Any) -> None:
        send, recv = ws.send, ws.recv
        while time.perf_counter() < stop:
            if total is not None:
                if remaining[0] <= 0:
                    return
                remaining[0] -= 1
            start = time.perf_counter()
            await send(text)
            await recv()
            latencies.append(time.perf_counter() - start)

    await asyncio.gather(*(client(ws) for ws in sockets))
    elapsed = time.perf_counter() - began
    for ws in sockets:
        await ws.close()
    return len(latencies), latencies, elapsed


def websocket_load(
    server: Server, name: str, message: object, clients: int, *, duration: float, path: str = "/", check: bool = True
) -> Result:
    text = message if isinstance(message, str) else json.dumps(message)
    url = f"ws://127.0.0.1:{server.port}{path}"
    cpu = server.cpu_seconds()
    count, latencies, elapsed = asyncio.run(
        _websocket_clients(url, text, clients, duration=duration, total=None, check=check)
    )
    return Result(name, clients, count, elapsed, latencies, server.cpu_seconds() - cpu)


def websocket_total(server: Server, message: object, clients: int, total: int) -> None:
    url = f"ws://127.0.0.1:{server.port}/"
    asyncio.run(_websocket_clients(url, json.dumps(message), clients, duration=None, total=total, check=True))


def rest_load(server: Server, path: str, clients: int, *, duration: float) -> Result:
    latencies: list[float] = []
    lock = threading.Lock()
    stop = [0.0]

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        mine: list[float] = []
        while time.perf_counter() < stop[0]:
            start = time.perf_counter()
            connection.request("GET", path, headers={"Accept": "application/json"})
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"GET {path} answered {response.status}")
            mine.append(time.perf_counter() - start)
            if response.will_close:
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        connection.close()
        with lock:
            latencies.extend(mine)

    cpu = server.cpu_seconds()
    began = time.perf_counter()
    stop[0] = began + duration
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    return Result(f"GET {path}", clients, len(latencies), elapsed, latencies, server.cpu_seconds() - cpu)


# --- The run --------------------------------------------------------------------------------------


FLOORS = {"floor": "/", "lean floor": "/lean"}


def median_result(results: list[Result]) -> Result:
    """The round with the median server CPU per message (rounds are interleaved with the floor's)."""
    return sorted(results, key=lambda result: result.cpu_per_request_us)[len(results) // 2]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per measurement (default 3)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds of WebSocket measurements")
    parser.add_argument("--requests", type=int, default=100_000, help="WebSocket messages in the RSS run")
    parser.add_argument("--quick", action="store_true", help="a short run (under 30 s) that checks it all works")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    if args.quick:
        args.duration, args.rounds, args.requests = 0.4, 1, 4_000

    rows: list[tuple[str, str]] = []
    rounds: dict[tuple[str, int], list[Result]] = {}
    rest_results: list[Result] = []

    with tempfile.TemporaryDirectory(prefix="endrpi-bench-") as temp:
        root = Path(temp)
        vcgencmd, vcgencmd_runs = counting_vcgencmd(root)
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "endrpi_project.settings",
            "ENDRPI_DATA_DIR": str(root / "data"),
            "ENDRPI_HOST_ROOT": str(host_tree(root)),
            "ENDRPI_VCGENCMD": str(vcgencmd),
            "ENDRPI_GPIO": "mock",
            "ENDRPI_LOG_LEVEL": "WARNING",
        }

        # As scripts/serve does: the pin settings (labels, locks) live in the database.
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
        with (
            serve("bench.bench_asgi:application", env, http_ready, root / "endrpi.log") as server,
            serve("bench.floor_asgi:application", env, websocket_ready, root / "floor.log") as floor,
        ):
            rss_start = server.rss_mb()
            rows.append(("start-up to first answer", f"{server.started_in:.2f} s"))
            rows.append(("server RSS after start", f"{rss_start:.1f} MB"))
            # Warm both up, so lazy imports and first-use caches are not measured.
            for message in MESSAGES.values():
                websocket_load(server, "warm-up", message, 4, duration=args.duration / 2)
            for path in FLOORS.values():
                websocket_load(floor, "warm-up", "{}", 4, duration=args.duration / 2, path=path, check=False)

            # Rounds interleave the floor and us, so load from elsewhere on the machine hits both alike.
            for _ in range(args.rounds):
                for clients in (1, 16):
                    for name, path in FLOORS.items():
                        duration = args.duration
                        result = websocket_load(floor, name, "{}", clients, duration=duration, path=path, check=False)
                        rounds.setdefault((name, clients), []).append(result)
                    for name, message in MESSAGES.items():
                        result = websocket_load(server, name, message, clients, duration=args.duration)
                        rounds.setdefault((name, clients), []).append(result)

            for path in ("/system/memory", "/system", "/pins"):
                for clients in (1, 8):
                    rest_results.append(rest_load(server, path, clients, duration=args.duration))

            rss_rest = server.rss_mb()
            half = args.requests // 2
            websocket_total(server, MESSAGES["READ_MEMORY"], 16, half)
            rss_half = server.rss_mb()
            mixed = list(MESSAGES.values())
            for index in range(3):
                websocket_total(server, mixed[index], 16, (args.requests - half) // 3)
            rss_end = server.rss_mb()
            floor_rss = floor.rss_mb()
        spawned = len(vcgencmd_runs.read_text().splitlines())

    def table(title: str, results: list[Result]) -> None:
        print(f"\n{title}")
        print(f"  {'request':<34} {'clients':>7} {'per s':>8} {'p50 ms':>8} {'p99 ms':>8} {'server CPU/req':>15}")
        for result in results:
            print(
                f"  {result.name:<34} {result.clients:>7} {result.rate:>8.0f} {result.percentile(0.5):>8.2f} "
                f"{result.percentile(0.99):>8.2f} {result.cpu_per_request_us:>12.0f} us"
            )

    def ratios(name: str, floor_name: str, clients: int) -> float:
        pairs = zip(rounds[(name, clients)], rounds[(floor_name, clients)], strict=True)
        return statistics.median([ours.cpu_per_request_us / base.cpu_per_request_us for ours, base in pairs])

    mode = "quick" if args.quick else f"{args.duration:g} s per measurement, median of {args.rounds} rounds"
    print(f"Endrpi benchmark ({mode}; {os.cpu_count()} CPUs, Python {sys.version.split()[0]})")
    table(
        "WebSocket round trips",
        [median_result(rounds[(name, clients)]) for name in MESSAGES for clients in (1, 16)],
    )
    table(
        "WebSocket floor: a Channels consumer answering a constant, same daphne",
        [median_result(rounds[(name, clients)]) for name in FLOORS for clients in (1, 16)],
    )
    table("REST", rest_results)

    memory_1 = median_result(rounds[("READ_MEMORY", 1)])
    ratio_1, ratio_16 = ratios("READ_MEMORY", "floor", 1), ratios("READ_MEMORY", "floor", 16)
    lean_1, lean_16 = ratios("READ_MEMORY", "lean floor", 1), ratios("READ_MEMORY", "lean floor", 16)
    growth = rss_end - rss_half
    rows += [
        ("server RSS after the WebSocket and REST measurements", f"{rss_rest:.1f} MB"),
        (f"server RSS after {args.requests // 2:,} more messages", f"{rss_half:.1f} MB"),
        (f"server RSS after {args.requests:,} more messages", f"{rss_end:.1f} MB ({growth:+.1f} MB in the 2nd half)"),
        ("floor server RSS (for comparison)", f"{floor_rss:.1f} MB"),
        ("READ_MEMORY CPU/msg over the floor's, 1 / 16 clients", f"{ratio_1:.2f}x / {ratio_16:.2f}x"),
        ("READ_MEMORY CPU/msg over the lean floor's, 1 / 16 clients", f"{lean_1:.2f}x / {lean_16:.2f}x"),
        ("processes spawned by the server", str(spawned)),
    ]
    print("\nServer")
    for label, value in rows:
        print(f"  {label:<58} {value}")

    floor_target, rate_target, rss_target = TARGETS["floor_ratio"], TARGETS["ws_one_client"], TARGETS["rss_mb"]
    checks = [
        (f"READ_MEMORY CPU/msg <= {floor_target}x the floor's", max(ratio_1, ratio_16) <= floor_target),
        (f">= {rate_target:,.0f} WebSocket round trips/s, 1 client", memory_1.rate >= rate_target),
        (f"RSS < {rss_target:.0f} MB after {args.requests:,} messages", rss_end < rss_target),
        ("no RSS growth in the second half (< 1 MB)", growth < 1.0),
        ("no process spawned with a firmware device present", spawned == 0),
    ]
    print("\nTargets")
    misses = 0
    for label, ok in checks:
        print(f"  {'met   ' if ok else 'MISSED'} {label}")
        misses += not ok
    return 1 if args.check and misses else 0


if __name__ == "__main__":
    sys.exit(main())
