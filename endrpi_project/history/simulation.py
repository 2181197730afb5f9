"""Simulated history, for the tests and the benchmark: days of plausible samples written through the
store's own write path, as the sampler would have written them."""

from __future__ import annotations

import random

from endrpi_project.history.store import HistoryStore, Sampled

ARM_HZ = (600_000_000, 1_500_000_000)
CORE_HZ = 500_000_000


def simulated_samples(*, start: int, count: int, interval_ms: int, seed: int = 12) -> list[Sampled]:
    """``count`` samples from ``start``: temperature wandering 40-80 C, the ARM clock idling and boosting,
    memory moving, and now and then a few seconds of under-voltage or throttling; CPU, storage and one
    wired interface's traffic too (from a second generator, so the first readings' values stay as they were)."""
    rng = random.Random(seed)
    more = random.Random(seed + 1)
    temperature, memory = 50.0, 3_000_000
    free, written = 20_000_000_000, 1_000_000_000
    rows: list[Sampled] = []
    for index in range(count):
        temperature = min(80.0, max(40.0, temperature + rng.uniform(-0.5, 0.5)))
        memory = min(3_800_000, max(500_000, memory + rng.randint(-20_000, 20_000)))
        busy = rng.random() < 0.3
        word = 0
        if rng.random() < 0.001:
            word = rng.choice((0x50005, 0x20002, 0x80008))
        values = {"temperature": round(temperature, 3), "arm": ARM_HZ[busy], "core": CORE_HZ, "memory": memory}
        free -= more.randint(0, 40_000)
        written += more.randint(0, 400_000)
        others = {
            "cpu_usage_percent": round(more.uniform(1, 100 if busy else 20), 1),
            "cpu_load1": round(more.uniform(0, 4), 2),
            "storage_root_free_bytes": free,
            "storage_data_free_bytes": free,
            "storage_sd_written_bytes": written,
            "network.eth0.rxBytesPerSecond": round(more.uniform(0, 50_000), 1),
            "network.eth0.txBytesPerSecond": round(more.uniform(0, 20_000), 1),
        }
        rows.append(Sampled(time=start + index * interval_ms, values={**values, **others, "throttle": word}))
    return rows


def simulate(store: HistoryStore, *, start: int, days: float, interval_ms: int = 10_000, flush_every: int = 6) -> int:
    """Write ``days`` of samples into ``store``, ``flush_every`` samples per transaction; returns the count."""
    count = round(days * 86_400_000 / interval_ms)
    rows = simulated_samples(start=start, count=count, interval_ms=interval_ms)
    for first in range(0, count, flush_every):
        for row in rows[first : first + flush_every]:
            store.add_sample(row)
        store.flush(now=rows[min(first + flush_every, count) - 1].time)
    return count
