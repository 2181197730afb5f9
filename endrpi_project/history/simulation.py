"""Simulated history, for the tests and the benchmark: days of plausible samples written through the
store's own write path, as the sampler would have written them."""

from __future__ import annotations

import random

from endrpi_project.history.store import HistoryStore, Sampled

ARM_HZ = (600_000_000, 1_500_000_000)
CORE_HZ = 500_000_000


def simulated_samples(*, start: int, count: int, interval_ms: int, seed: int = 12) -> list[Sampled]:
    """``count`` samples from ``start``: temperature wandering 40-80 C, the ARM clock idling and boosting,
    memory moving, and now and then a few seconds of under-voltage or throttling."""
    rng = random.Random(seed)
    temperature, memory = 50.0, 3_000_000
    rows: list[Sampled] = []
    for index in range(count):
        temperature = min(80.0, max(40.0, temperature + rng.uniform(-0.5, 0.5)))
        memory = min(3_800_000, max(500_000, memory + rng.randint(-20_000, 20_000)))
        busy = rng.random() < 0.3
        word = 0
        if rng.random() < 0.001:
            word = rng.choice((0x50005, 0x20002, 0x80008))
        values = {"temperature": round(temperature, 3), "arm": ARM_HZ[busy], "core": CORE_HZ, "memory": memory}
        rows.append(Sampled(time=start + index * interval_ms, values={**values, "throttle": word}))
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
