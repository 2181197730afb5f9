"""The history's costs: query time over 30 days, the sampler's CPU, the database's size. Run
``python bench/history.py`` (``--quick`` for a short check that it all works).

1. Fills a fresh database with 30 days of samples at the default interval (10 s: 259,200 samples)
   through the store's own write path, one transaction per minute as the sampler writes them
   (``--quick``: one per hour, same rows), ending now; prints the database's size.
2. Times the 30-day query (all readings, 500 points) in this process (the service alone), then
   through a real daphne serving the project (``bench.bench_asgi``: a recorded firmware behind
   /dev/vcio_gencmd), as ``GET /system/history?since=-30d`` and ``READ_HISTORY``: wall time and the
   server's CPU time per request (from /proc/<pid>/stat).
3. Leaves that server idle with the sampler running at the defaults (a sample every 10 s, the
   throttle watch every second, a write every 60 s) for ``--idle`` seconds and prints the server's
   CPU time over that window as a share of one core. That is an upper bound on the sampler's cost:
   it includes the idle server's own timers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.benchmark import CLOCK_TICKS, host_tree  # noqa: E402  (the same fake host as the main benchmark)
from endrpi_project.testing.live import live_server  # noqa: E402

DAY_MS = 86_400_000
TARGETS = {"query_ms": 100.0, "sampler_core_percent": 1.0}


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def fill(days: float, flush_every: int) -> tuple[int, float, int]:
    """Samples, seconds it took, and the database's size in bytes (after a checkpoint of the WAL)."""
    import django
    from django.core.management import call_command
    from django.db import connection

    django.setup()
    call_command("migrate", "--noinput", verbosity=0)
    from endrpi_project.history.simulation import simulate
    from endrpi_project.history.store import HistoryStore

    store = HistoryStore(retention_ms=30 * DAY_MS)
    now = time.time_ns() // 1_000_000
    began = time.perf_counter()
    count = simulate(store, start=now - round(days * DAY_MS), days=days, flush_every=flush_every)
    took = time.perf_counter() - began
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = Path(connection.settings_dict["NAME"]).stat().st_size
    connection.close()
    return count, took, size


def written_per_hour() -> int:
    """Bytes an hour of writes (60 transactions of 6 samples, pruning included) appends to the WAL,
    after the fill: what the SD card gets, before checkpoints fold it into the database."""
    from django.db import connection

    from endrpi_project.history.simulation import simulated_samples
    from endrpi_project.history.store import HistoryStore

    store = HistoryStore(retention_ms=30 * DAY_MS)
    wal = Path(f"{connection.settings_dict['NAME']}-wal")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cursor.execute("PRAGMA wal_autocheckpoint=0")
    now = time.time_ns() // 1_000_000
    rows = simulated_samples(start=now, count=360, interval_ms=10_000, seed=5)
    for first in range(0, 360, 6):
        for row in rows[first : first + 6]:
            store.add_sample(row)
        store.flush(now=rows[first + 5].time)
    size = wal.stat().st_size
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    return size


def query_in_process(rounds: int) -> list[float]:
    from endrpi_project.history.series import layout
    from endrpi_project.history.store import HistoryStore

    readings = layout().readings
    store = HistoryStore(retention_ms=30 * DAY_MS)
    times = []
    for _ in range(rounds):
        now = time.time_ns() // 1_000_000
        began = time.perf_counter()
        answer = store.history(readings=readings, since=now - 30 * DAY_MS, until=now, points=500)
        times.append((time.perf_counter() - began) * 1000)
    assert sum(answer["count"]) > 250_000, sum(answer["count"])
    return times


def query_rest(url: str, pid: int, rounds: int) -> tuple[list[float], float, int]:
    times: list[float] = []
    cpu_before = cpu_seconds(pid)
    size = 0
    for _ in range(rounds):
        began = time.perf_counter()
        with urllib.request.urlopen(f"{url}/system/history?since=-30d&points=500", timeout=30) as response:
            body = response.read()
        times.append((time.perf_counter() - began) * 1000)
        size = len(body)
    cpu_ms = (cpu_seconds(pid) - cpu_before) * 1000 / rounds
    return times, cpu_ms, size


def query_websocket(url: str, pid: int, rounds: int) -> tuple[list[float], float]:
    async def run() -> list[float]:
        times = []
        async with connect(url, max_size=None) as ws:
            for _ in range(rounds):
                began = time.perf_counter()
                await ws.send(json.dumps({"action": "READ_HISTORY", "params": {"since": "-30d", "points": 500}}))
                reply = json.loads(await ws.recv())
                times.append((time.perf_counter() - began) * 1000)
                assert reply["success"], reply
        return times

    cpu_before = cpu_seconds(pid)
    times = asyncio.run(run())
    return times, (cpu_seconds(pid) - cpu_before) * 1000 / rounds


def summary(times: list[float]) -> str:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"median {statistics.median(times):6.1f} ms   p95 {p95:6.1f} ms"


def bench_environment(root: Path, *, host_root: Path) -> dict[str, str]:
    """The settings a history benchmark runs under: a data directory in ``root``, the fake host tree, no firmware."""
    return {
        "DJANGO_SETTINGS_MODULE": "endrpi_project.settings",
        "ENDRPI_DATA_DIR": str(root / "data"),
        "ENDRPI_HOST_ROOT": str(host_root),
        "ENDRPI_VCGENCMD": str(root / "no-vcgencmd"),
        "ENDRPI_LOG_LEVEL": "WARNING",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=20, help="queries of each kind (default 20)")
    parser.add_argument("--idle", type=float, default=125.0, help="seconds the sampler runs alone (default 125)")
    parser.add_argument("--quick", action="store_true", help="a short run that checks it all works")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    flush_every = 6
    if args.quick:
        args.rounds, args.idle, flush_every = 3, 5.0, 360

    with tempfile.TemporaryDirectory(prefix="endrpi-bench-history-") as temp:
        root = Path(temp)
        env = bench_environment(root, host_root=host_tree(root))
        os.environ.update(env)
        count, took, size = fill(30, flush_every)
        print(f"Database after 30 simulated days ({count:,} samples, one transaction per {flush_every} samples)")
        print(f"  filled in                               {took:8.1f} s")
        print(f"  size on disk                            {size / 1e6:8.1f} MB")
        hourly = written_per_hour()
        print(f"  an hour of writes appends to the WAL    {hourly / 1024:8.0f} KiB ({hourly * 24 / 1e6:.0f} MB a day)")
        in_process = query_in_process(args.rounds)
        with live_server(root / "data", env, asgi="bench.bench_asgi:application") as server:
            query_rest(server.http_url, server.process.pid, 2)  # warm-up
            rest, rest_cpu, body = query_rest(server.http_url, server.process.pid, args.rounds)
            ws, ws_cpu = query_websocket(server.ws_url, server.process.pid, args.rounds)
            time.sleep(1.0)
            cpu_before, began = cpu_seconds(server.process.pid), time.monotonic()
            time.sleep(args.idle)
            idle_cpu = cpu_seconds(server.process.pid) - cpu_before
            window = time.monotonic() - began
        share = idle_cpu / window * 100

    print("30-day query, all readings, 500 points")
    print(f"  the service, in this process           {summary(in_process)}")
    print(f"  GET /system/history?since=-30d  wall   {summary(rest)}   server CPU {rest_cpu:6.1f} ms/request")
    print(f"  READ_HISTORY                    wall   {summary(ws)}   server CPU {ws_cpu:6.1f} ms/request")
    print(f"  answer size                            {body / 1024:6.1f} KiB of JSON")
    print("Sampler, defaults (sample every 10 s, throttle watch every 1 s, one write a minute)")
    cpu = f"{idle_cpu * 1000:6.0f} ms over {window:.0f} s = {share:.2f}% of one core"
    print(f"  server CPU while idle                  {cpu}")

    missed = []
    if max(statistics.median(rest), rest_cpu, ws_cpu) > TARGETS["query_ms"]:
        missed.append("30-day query under 100 ms")
    if share > TARGETS["sampler_core_percent"]:
        missed.append("sampler under 1% of one core")
    print("Targets: " + ("all met" if not missed else "missed: " + ", ".join(missed)))
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
