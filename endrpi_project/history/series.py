"""What the history records, once: each series, its SQL, its unit and its place on the wire.

A sample is one row of ``history_sample``. A summary (per minute, per ten minutes) holds, for each
column below, an aggregate over the samples of its unit of time; a query's bucket aggregates the
same way over samples and summaries alike, so one table of columns serves writing and reading.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from system.parsers import THROTTLE_BITS, THROTTLE_CONDITIONS, snake_case

READINGS = ("temperature", "frequency", "memory", "throttle")

# Throttle flags: (wire name, column, bit of the firmware's get_throttled word), from the system app's table.
FLAGS = tuple((field, snake_case(field), bit) for field, bit in THROTTLE_BITS.items())

# Event conditions: (wire name, "now" bit, "since boot" bit).
CONDITIONS = tuple((condition.name, condition.now_bit, condition.since_boot_bit) for condition in THROTTLE_CONDITIONS)


@dataclass(frozen=True)
class Column:
    """A summary column: how it aggregates, and what one raw sample contributes to it."""

    name: str
    aggregate: Literal["sum", "min", "max"]
    per_sample: str  # an SQL expression over a history_sample row


@dataclass(frozen=True)
class Series:
    """One line of a chart: ``readings[reading][key]`` on the wire."""

    reading: str
    key: str
    unit: str | None
    prefix: str | None
    count: str  # the column counting samples that have it
    minimum: str | None  # numeric series: min, sum and max columns; flags: only ``total`` (times set)
    total: str
    maximum: str | None

    @property
    def flag(self) -> bool:
        return self.minimum is None

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(name for name in (self.count, self.minimum, self.total, self.maximum) if name is not None)


def _numeric(reading: str, key: str, column: str, unit: str, prefix: str | None) -> tuple[Series, list[Column]]:
    series = Series(reading, key, unit, prefix, f"{column}_n", f"{column}_min", f"{column}_sum", f"{column}_max")
    columns = [
        Column(f"{column}_n", "sum", f"({column} IS NOT NULL)"),
        Column(f"{column}_min", "min", column),
        Column(f"{column}_sum", "sum", column),
        Column(f"{column}_max", "max", column),
    ]
    return series, columns


def _build() -> tuple[list[Series], list[Column]]:
    series: list[Series] = []
    columns = [Column("samples", "sum", "1")]
    for reading, key, column, unit, prefix in (
        ("temperature", "systemOnChip", "temperature", "CELSIUS", None),
        ("frequency", "arm", "arm", "HERTZ", None),
        ("frequency", "core", "core", "HERTZ", None),
        ("memory", "available", "memory", "BYTE", "KILO"),
    ):
        one, its_columns = _numeric(reading, key, column, unit, prefix)
        series.append(one)
        columns.extend(its_columns)
    columns.append(Column("throttle_n", "sum", "(throttle IS NOT NULL)"))
    for key, column, bit in FLAGS:
        series.append(Series("throttle", key, None, None, "throttle_n", None, column, None))
        columns.append(Column(column, "sum", f"((throttle >> {bit}) & 1)"))
    return series, columns


SERIES, COLUMNS = _build()
COLUMN = {column.name: column for column in COLUMNS}
