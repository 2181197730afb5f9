"""What the history records, from the readings' declarations: each series, its SQL, its unit and its
place on the wire.

Every declared reading with a ``history`` (:class:`endrpi_project.readings.declaration.History`) is
kept: each :class:`~endrpi_project.readings.declaration.Series` is a column of ``history_sample``
(named by the declaration, or ``<reading>_<key>``) with count, min, sum and max columns in the
per-minute and per-ten-minute summaries; a :class:`~endrpi_project.readings.declaration.Flags` word
is one sample column with, per flag, a summary column counting the samples it was set in. A query's
bucket aggregates the same way over samples and summaries alike, so one layout of columns serves
writing and reading. Columns a new declaration needs are added by the store
(:meth:`~endrpi_project.history.store.HistoryStore.shape`); a column no longer declared keeps
its data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

from endrpi_project.readings.declaration import Keyed, Number, Reading, snake_case
from endrpi_project.readings.registry import ReadingTable, per_table
from system.parsers import THROTTLE_CONDITIONS

# Event conditions of the throttle watch: (wire name, "now" bit, "since boot" bit).
CONDITIONS = tuple((condition.name, condition.now_bit, condition.since_boot_bit) for condition in THROTTLE_CONDITIONS)


def quoted(name: str) -> str:
    """A column name as an SQL identifier (keyed columns hold dots and dashes: ``"network.eth0.rx"``)."""
    return '"' + name.replace('"', '""') + '"'


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
    keyed: tuple[tuple[str, Keyed], ...] = ()  # (reading key, its run-time series) of the readings kept
    found: tuple[str, ...] = ()  # the keyed columns this layout holds (found in the tables or samples)

    @property
    def sample_fields(self) -> tuple[str, ...]:
        return ("time", *(column.name for column in self.sampled))

    def keyed_group(self, name: str) -> tuple[str, Keyed] | None:
        """The reading and :class:`Keyed` a keyed column (``network.eth0.rxBytesPerSecond``) belongs to."""
        best: tuple[str, Keyed] | None = None
        for reading, keyed in self.keyed:
            if not name.startswith(reading + ".") or len(name) <= len(reading) + 1:
                continue
            if keyed.suffix and name.endswith("." + keyed.suffix) and len(name) > len(reading) + len(keyed.suffix) + 2:
                return reading, keyed
            if not keyed.suffix and best is None:
                best = (reading, keyed)
        return best

    def with_keyed(self, names: Iterable[str]) -> Layout:
        """This layout and the keyed columns ``names`` (those that belong to a kept reading), sorted."""
        found = sorted({name for name in names if name not in self.found and self.keyed_group(name) is not None})
        if not found:
            return self
        sampled, series, columns = list(self.sampled), list(self.series), list(self.columns)
        for name in found:
            reading, keyed = self.keyed_group(name)  # type: ignore[misc]
            wire = name[len(reading) + 1 :]
            sampled.append(SampleColumn(reading, name, False, lambda model: None))
            line, its_columns = _numeric(reading, wire, name, keyed.unit, keyed.prefix, integer=False)
            series.append(line)
            columns += its_columns
        return Layout(
            readings=self.readings,
            sampled=tuple(sampled),
            series=tuple(series),
            columns=tuple(columns),
            column={column.name: column for column in columns},
            kept=self.kept,
            keyed=self.keyed,
            found=(*self.found, *found),
        )


def keyed_column(reading: str, key: str, keyed: Keyed) -> str:
    """The column of one run-time series: ``<reading>.<key>.<suffix>`` (or ``<reading>.<key>``)."""
    return f"{reading}.{key}.{keyed.suffix}" if keyed.suffix else f"{reading}.{key}"


def _numeric(
    reading: str, key: str, column: str, unit: str | None, prefix: str | None, *, integer: bool
) -> tuple[Series, list[Column]]:
    line = Series(
        reading, key, unit, prefix, f"{column}_n", f"{column}_min", f"{column}_sum", f"{column}_max", source=column
    )
    name = quoted(column)
    columns = [
        Column(f"{column}_n", "sum", f"({name} IS NOT NULL)"),
        Column(f"{column}_min", "min", name, integer),
        Column(f"{column}_sum", "sum", name, integer),
        Column(f"{column}_max", "max", name, integer),
    ]
    return line, columns


def _build(table: ReadingTable) -> Layout:
    sampled: list[SampleColumn] = []
    series: list[Series] = []
    columns = [Column("samples", "sum", "1")]
    kept: list[Reading] = []
    keyed: list[tuple[str, Keyed]] = []
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
            line, its_columns = _numeric(
                reading.key, declared.key, column, declared.unit, declared.prefix, integer=declared.integer
            )
            series.append(line)
            columns += its_columns
        keyed += [(reading.key, group) for group in history.keyed]
        flags = history.flags
        if flags is not None:
            word = flags.column
            sampled.append(SampleColumn(reading.key, word, True, flags.word))
            columns.append(Column(f"{word}_n", "sum", f"({quoted(word)} IS NOT NULL)"))
            for flag in flags.flags:
                column = flag.column or f"{word}_{snake_case(flag.key)}"
                series.append(
                    Series(reading.key, flag.key, None, None, f"{word}_n", None, column, None, flag.bit, word)
                )
                columns.append(Column(column, "sum", f"(({quoted(word)} >> {flag.bit}) & 1)"))
    return Layout(
        readings=tuple(reading.key for reading in kept),
        sampled=tuple(sampled),
        series=tuple(series),
        columns=tuple(columns),
        column={column.name: column for column in columns},
        kept=tuple(kept),
        keyed=tuple(keyed),
    )


layout = per_table(_build)
"""The history's :class:`Layout`, from the reading table (rebuilt when the table is)."""
