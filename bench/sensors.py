"""The cost of the Pi's own sensors on top of every other reading: the history sampler's CPU, what the
history writes to the SD card a day, and a 30-day history query. Run ``python bench/sensors.py``
(``--quick`` for a short check that it all works; ``--check`` exits 1 when a target is missed).

A host tree with 10 sensors (six 1-wire probes, a BME280's temperature, humidity and pressure, the
Pi 5's fan) and the files every other reading reads:

1. One real sample through the sampler (every declared reading, the sensors included) gives the row's
   columns; 30 days of samples like it at the default interval (10 s: 259,200 samples) are written
   through the store's own write path, one transaction per minute as the sampler writes them
   (``--quick``: one per hour). Prints the database's size.
2. SD card writes: an hour of the sampler's transactions (60 of 6 samples, pruning included) appended
   to the WAL after the fill, times 24: what the card gets a day before checkpoints fold it in (a
   checkpoint writes those pages again into the database file, at most once each; SQLite's default
   checkpoint every 1000 pages keeps that under the WAL's own figure).
3. The 30-day query (every kept reading, the 10 sensors included, 500 points) in this process: wall
   time, and CPU time (what it costs a Pi; the target is judged on it, as this machine is shared).
4. A real daphne serving the project on that host, left idle with the sensors read and the sampler
   running at the defaults for ``--idle`` seconds: the server's CPU time as a share of one core (an
   upper bound on the sampler's and the sensors' cost: it includes the idle server's own timers).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.benchmark import host_tree  # noqa: E402  (the same fake host as the main benchmark)
from bench.history import bench_environment, cpu_seconds, summary  # noqa: E402
from endrpi_project.testing.live import live_server  # noqa: E402

DAY_MS = 86_400_000
TARGETS = {"sampler_core_percent": 1.0, "written_mb_per_day": 25.0, "query_ms": 100.0}
W1_PROBES = (
    "28-0316a2797f7f",
    "28-0516a1b2c3d4",
    "28-0000056a7b8c",
    "28-01193a4d5e6f",
    "28-3c01d6071a2b",
    "10-000802b4c5d6",
)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def sensors_tree(root: Path) -> Path:
    """The main benchmark's host tree plus 10 sensors, laid out as the kernel lays them out."""
    host = host_tree(root)
    for index, probe in enumerate(W1_PROBES):
        _write(host / f"sys/bus/w1/devices/{probe}/temperature", f"{18000 + index * 1250}\n")
    iio = host / "sys/bus/iio/devices/iio:device0"
    _write(iio / "name", "bme280\n")
    _write(iio / "in_temp_input", "23580\n")
    _write(iio / "in_humidityrelative_input", "45200.000000000\n")
    _write(iio / "in_pressure_input", "100.829671875\n")
    _write(host / "sys/class/thermal/thermal_zone0/type", "cpu-thermal\n")
    for number, (name, files) in enumerate(
        [
            ("cpu_thermal", {"temp1_input": "48312\n"}),
            ("rpi_volt", {"in0_lcrit_alarm": "0\n"}),
            ("pwmfan", {"fan1_input": "2950\n", "pwm1": "102\n"}),
        ]
    ):
        _write(host / f"sys/class/hwmon/hwmon{number}/name", f"{name}\n")
        for file, text in files.items():
            _write(host / f"sys/class/hwmon/hwmon{number}/{file}", text)
    return host


def template_row() -> tuple[dict[str, Any], int]:
    """The columns of one real sample (every declared reading read from the host tree) and its sensors."""
    from endrpi_project.history.sampler import Sampler
    from endrpi_project.history.store import HistoryStore
    from system.sensors import services as sensors

    found = len(sensors.sensors_read().sensors)
    sampler = Sampler(store=HistoryStore(retention_ms=30 * DAY_MS), interval=10, flush_interval=60)
    sampler._tick(True, False)
    [row] = sampler.store.buffer
    return dict(row.values), found


def rows_like(template: dict[str, Any], *, start: int, count: int, seed: int = 7) -> list[Any]:
    """``count`` samples every 10 s from ``start``, each number of ``template`` wandering as readings do."""
    from endrpi_project.history.store import Sampled

    rng = random.Random(seed)
    current = dict(template)
    rows = []
    for index in range(count):
        for name, value in current.items():
            if isinstance(value, float):
                current[name] = round(value * (1 + rng.uniform(-0.002, 0.002)), 3)
            elif isinstance(value, int) and name != "throttle" and value > 1000:
                current[name] = max(0, value + rng.randint(-value // 500, value // 500))
        rows.append(Sampled(time=start + index * 10_000, values=dict(current)))
    return rows


def fill(template: dict[str, Any], days: float, flush_every: int) -> tuple[int, float, int]:
    """Samples written, seconds it took, and the database's size after a checkpoint of the WAL."""
    from django.db import connection

    from endrpi_project.history.store import HistoryStore

    store = HistoryStore(retention_ms=30 * DAY_MS)
    now = time.time_ns() // 1_000_000
    count = round(days * DAY_MS / 10_000)
    rows = rows_like(template, start=now - round(days * DAY_MS), count=count)
    began = time.perf_counter()
    for first in range(0, count, flush_every):
        for row in rows[first : first + flush_every]:
            store.add_sample(row)
        store.flush(now=rows[min(first + flush_every, count) - 1].time)
    took = time.perf_counter() - began
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return count, took, Path(connection.settings_dict["NAME"]).stat().st_size


def written_per_hour(template: dict[str, Any]) -> int:
    """Bytes an hour of the sampler's writes (60 transactions of 6 samples) appends to the WAL."""
    from django.db import connection

    from endrpi_project.history.store import HistoryStore

    store = HistoryStore(retention_ms=30 * DAY_MS)
    wal = Path(f"{connection.settings_dict['NAME']}-wal")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cursor.execute("PRAGMA wal_autocheckpoint=0")
    rows = rows_like(template, start=time.time_ns() // 1_000_000, count=360, seed=9)
    for first in range(0, 360, 6):
        for row in rows[first : first + 6]:
            store.add_sample(row)
        store.flush(now=rows[first + 5].time)
    size = wal.stat().st_size
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return size


def query_in_process(rounds: int) -> tuple[list[float], list[float], int]:
    """Wall and CPU milliseconds per 30-day query, and the sensor series in its answer. The CPU time is
    what the query costs the Pi; on this shared machine the wall time also holds other processes' turns."""
    from endrpi_project.history.series import layout
    from endrpi_project.history.store import HistoryStore

    store = HistoryStore(retention_ms=30 * DAY_MS)
    readings = list(layout().readings)
    times, cpu = [], []
    answer: dict[str, Any] = {}
    for _ in range(rounds):
        now = time.time_ns() // 1_000_000
        began, began_cpu = time.perf_counter(), time.process_time()
        answer = store.history(readings=readings, since=now - 30 * DAY_MS, until=now, points=500)
        times.append((time.perf_counter() - began) * 1000)
        cpu.append((time.process_time() - began_cpu) * 1000)
    assert sum(answer["count"]) > 250_000, sum(answer["count"])
    return times, cpu, len(answer["readings"].get("sensors", {}))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=20, help="30-day queries (default 20)")
    parser.add_argument("--idle", type=float, default=125.0, help="seconds the server runs idle (default 125)")
    parser.add_argument("--quick", action="store_true", help="a short run that checks it all works")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    flush_every = 6
    if args.quick:
        args.rounds, flush_every = 3, 360
        args.idle = 5.0 if args.idle == parser.get_default("idle") else args.idle

    with tempfile.TemporaryDirectory(prefix="endrpi-bench-sensors-") as temp:
        root = Path(temp)
        env = bench_environment(root, host_root=sensors_tree(root))
        os.environ.update(env)
        import django
        from django.core.management import call_command
        from django.db import connection

        django.setup()
        call_command("migrate", "--noinput", verbosity=0)
        template, found = template_row()
        sensor_columns = sum(1 for name in template if name.startswith("sensors."))
        count, took, size = fill(template, 30, flush_every)
        hourly = written_per_hour(template)
        query, query_cpu, kept = query_in_process(args.rounds)
        connection.close()
        with live_server(root / "data-live", env) as server:
            time.sleep(3.0)  # start-up work done, the first sensors read
            cpu_before, began = cpu_seconds(server.process.pid), time.monotonic()
            time.sleep(args.idle)
            idle_cpu = cpu_seconds(server.process.pid) - cpu_before
            window = time.monotonic() - began
    share = idle_cpu / window * 100
    per_day = hourly * 24 / 1e6

    print(f"Sensors found: {found}; a sample has {len(template)} columns ({sensor_columns} of them sensors)")
    print(f"Database after 30 simulated days ({count:,} samples, one transaction per {flush_every} samples)")
    print(f"  filled in                               {took:8.1f} s")
    print(f"  size on disk                            {size / 1e6:8.1f} MB")
    print(f"SD card: an hour of writes appends        {hourly / 1024:8.0f} KiB to the WAL = {per_day:.1f} MB a day")
    print(f"30-day query, every reading ({kept} sensor series), 500 points")
    print(f"  the service, in this process, wall      {summary(query)}")
    print(f"  the service, in this process, CPU       {summary(query_cpu)}")
    print(f"  (load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    print(f"Idle server with the sensors read and the sampler at the defaults, {window:.0f} s")
    print(f"  server CPU                              {idle_cpu * 1000:6.0f} ms = {share:.2f}% of one core")

    missed = []
    if share > TARGETS["sampler_core_percent"]:
        missed.append("sampler under 1% of one core")
    if per_day > TARGETS["written_mb_per_day"]:
        missed.append("under 25 MB written a day")
    if statistics.median(query_cpu) > TARGETS["query_ms"]:
        missed.append("30-day query under 100 ms")
    print("Targets: " + ("all met" if not missed else "missed: " + ", ".join(missed)))
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
