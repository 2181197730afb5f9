"""What the history records, from the readings' declarations: each series, its SQL, its unit and its
place on the wire.

Every declared reading with a ``history`` (:class:`endrpi_project.readings.declaration.History`) is
kept: each :class:`~endrpi_project.readings.declaration.Series` is a column of ``history_sample``
(named by the declaration, or ``<reading>_<key>``) with count, min, sum and max columns in the
per-minute and per-ten-minute summaries; a :class:`~endrpi_project.readings.declaration.Flags` word
is one sample column with, per flag, a summary column counting the samples it was set in. A query's
bucket aggregates the same way over samples and summaries alike, so one layout of columns serves
writing and reading. Columns a new declaration needs are added by the store
(:meth:`~endrpi_project.history.store.HistoryStore.columns_ensure`); a column no longer declared keeps
its data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from endrpi_project.readings.declaration import Number, Reading, snake_case
from endrpi_project.readings.registry import ReadingTable, per_table
from system.parsers import THROTTLE_CONDITIONS

# Event conditions of the throttle watch: (wire name, "now" bit, "since boot" bit).
CONDITIONS = tuple((condition.name, condition.now_bit, condition.since_boot_bit) for condition in THROTTLE_CONDITIONS)


@dataclass(frozen=True)
class Column:
    """A summary column: how it aggregates, and what one raw sample contributes to it."""

    name: str
    aggregate: Literal["sum", "min", "max"]
    per_sample: str  # an SQL expression over a history_sample row
    integer: bool = True


@dataclass(frozen=True)
class SampleColumn:
    """A column of ``history_sample``: the number it holds, taken from its reading's model."""

    reading: str  # the reading's key: "temperature"
    name: str  # "temperature"
    integer: bool
    value: Callable[[Any], Number | None]


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
    flag_bit: int | None = None  # a flag: its bit of the sample column ``source``
    source: str = ""  # the sample column it is read from

    @property
    def flag(self) -> bool:
        return self.minimum is None

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(name for name in (self.count, self.minimum, self.total, self.maximum) if name is not None)


@dataclass(frozen=True)
class Layout:
    """Every series the history keeps, and the columns that hold them."""

    readings: tuple[str, ...]  # the keys of the readings kept, in table order
    sampled: tuple[SampleColumn, ...]  # history_sample's columns after ``time``
    series: tuple[Series, ...]
    columns: tuple[Column, ...]  # the summary columns, ``samples`` first
    column: dict[str, Column]
    kept: tuple[Reading, ...]  # the readings kept

    @property
    def sample_fields(self) -> tuple[str, ...]:
        return ("time", *(column.name for column in self.sampled))


def _build(table: ReadingTable) -> Layout:
    sampled: list[SampleColumn] = []
    series: list[Series] = []
    columns = [Column("samples", "sum", "1")]
    kept: list[Reading] = []
    # Readings of numbers first, then those of flag words, each in table order (the order of the
    # history's answers since before declarations).
    ordered = sorted(
        (reading for reading in table.readings if reading.history is not None),
        key=lambda reading: reading.history is not None and reading.history.flags is not None,
    )
    for reading in ordered:
        history = reading.history
        if history is None:
            continue
        kept.append(reading)
        for declared in history.series:
            column = declared.column or f"{reading.key}_{snake_case(declared.key)}"
            sampled.append(SampleColumn(reading.key, column, declared.integer, declared.value))
            series.append(
                Series(
                    reading.key,
                    declared.key,
                    declared.unit,
                    declared.prefix,
                    f"{column}_n",
                    f"{column}_min",
                    f"{column}_sum",
                    f"{column}_max",
                    source=column,
                )
            )
            columns += [
                Column(f"{column}_n", "sum", f"({column} IS NOT NULL)"),
                Column(f"{column}_min", "min", column, declared.integer),
                Column(f"{column}_sum", "sum", column, declared.integer),
                Column(f"{column}_max", "max", column, declared.integer),
            ]
        flags = history.flags
        if flags is not None:
            word = flags.column
            sampled.append(SampleColumn(reading.key, word, True, flags.word))
            columns.append(Column(f"{word}_n", "sum", f"({word} IS NOT NULL)"))
            for flag in flags.flags:
                column = flag.column or f"{word}_{snake_case(flag.key)}"
                series.append(
                    Series(reading.key, flag.key, None, None, f"{word}_n", None, column, None, flag.bit, word)
                )
                columns.append(Column(column, "sum", f"(({word} >> {flag.bit}) & 1)"))
    return Layout(
        readings=tuple(reading.key for reading in kept),
        sampled=tuple(sampled),
        series=tuple(series),
        columns=tuple(columns),
        column={column.name: column for column in columns},
        kept=tuple(kept),
    )


layout = per_table(_build)
"""The history's :class:`Layout`, from the reading table (rebuilt when the table is)."""
