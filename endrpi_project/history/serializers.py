"""The history's params and answers on the wire, for REST (query string) and WebSocket (params) alike.

The answers are built as plain JSON by :mod:`endrpi_project.history.store` (hundreds of numbers
per series would cost milliseconds through serializer fields); the output serializers here
describe them for the OpenAPI schema and the WebSocket API page.
"""

from __future__ import annotations

import csv
import io
import time
from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from endrpi_project.history import parsers
from endrpi_project.history.series import CONDITIONS, layout

POINTS_DEFAULT = 500
POINTS_MAX = 10_000
_DAY_MS = 86_400_000


class _Before:
    """A default time: ``offset`` ms before the request's now (``None``: the whole retention)."""

    requires_context = True

    def __init__(self, offset_ms: int | None) -> None:
        self.offset_ms = offset_ms

    def __call__(self, field: serializers.Field[Any, Any, Any, Any]) -> int:
        offset = self.offset_ms
        if offset is None:
            offset = round(settings.ENDRPI_HISTORY_RETENTION * _DAY_MS)
        now: int = field.context["now_ms"]
        return now - offset

    def __repr__(self) -> str:  # shown in the API pages
        return "now" if self.offset_ms == 0 else f"-{self.offset_ms}ms"


def _before(offset_ms: int | None) -> Any:
    return _Before(offset_ms)


@extend_schema_field({"type": "string", "pattern": parsers.TIME_PATTERN, "example": "-24h"})
class TimeField(serializers.Field[int, str, str, Any]):
    """A time as people type it: ISO 8601, ``now`` or relative (``-24h``); milliseconds inside."""

    default_error_messages = {"invalid": "{message}"}

    def to_internal_value(self, data: Any) -> int:
        if not isinstance(data, str):
            self.fail("invalid", message=f"Expected {parsers.TIME_FORMS}")
        try:
            return parsers.parse_time(data, now_ms=self.context["now_ms"])
        except (ValueError, OverflowError, OSError) as error:
            self.fail("invalid", message=str(error))
        raise AssertionError("unreachable")  # self.fail raises

    def to_representation(self, value: int) -> str:
        return parsers.format_time(value)


def kept_readings() -> list[str]:
    """The readings the history keeps (every declared reading with a ``history``), in table order."""
    return list(layout().readings)


# The schema's pattern is the readings declared when the schema module is loaded.
_ONE_READING = "(" + "|".join(kept_readings()) + ")"


@extend_schema_field({"type": "string", "pattern": f"^{_ONE_READING}(,{_ONE_READING})*$", "example": "temperature"})
class ReadingsField(serializers.Field[list[str], Any, list[str], Any]):
    """Readings as a list, or as one comma-separated string (a query string's ``temperature,frequency``)."""

    default_error_messages = {
        "invalid": "Expected a list of readings or a comma-separated string",
        "unknown": 'Unknown reading "{name}"; readings are {readings}',
        "empty": "Name at least one reading: {readings}",
    }

    def to_internal_value(self, data: Any) -> list[str]:
        if isinstance(data, str):
            names = [name.strip() for name in data.split(",") if name.strip()]
        elif isinstance(data, list) and all(isinstance(name, str) for name in data):
            names = [name.strip() for name in data]
        else:
            self.fail("invalid")
        kept = kept_readings()
        for name in names:
            if name not in kept:
                self.fail("unknown", name=name[:32], readings=", ".join(kept))
        if not names:
            self.fail("empty", readings=", ".join(kept))
        return list(dict.fromkeys(names))

    def to_representation(self, value: list[str]) -> list[str]:
        return value


class RangeParams(serializers.Serializer[Any]):
    """``since`` and ``until``; relative times count from one "now" per request.

    A range that ends before it starts is empty, not an error: it answers no buckets and no events.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        context = dict(kwargs.pop("context", None) or {})
        context.setdefault("now_ms", time.time_ns() // 1_000_000)
        super().__init__(*args, context=context, **kwargs)


_UNTIL_HELP = f"End of the range (default now): {parsers.TIME_FORMS}."


class HistoryParams(RangeParams):
    readings = ReadingsField(
        required=False,
        default=kept_readings(),
        help_text="Which readings: a list or a comma-separated string of "
        + ", ".join(kept_readings())
        + " (default all).",
    )
    since = TimeField(
        required=False, default=_before(86_400_000), help_text=f"Start (default -24h): {parsers.TIME_FORMS}."
    )
    until = TimeField(required=False, default=_before(0), help_text=_UNTIL_HELP)
    points = serializers.IntegerField(
        required=False,
        default=POINTS_DEFAULT,
        min_value=2,
        max_value=POINTS_MAX,
        help_text=f"At most this many buckets (2 to {POINTS_MAX}, default {POINTS_DEFAULT}).",
    )


class EventsParams(RangeParams):
    since = TimeField(
        required=False, default=_before(None), help_text=f"Start (default: all that is kept): {parsers.TIME_FORMS}."
    )
    until = TimeField(required=False, default=_before(0), help_text=_UNTIL_HELP)


# --- answers, described for the schema and the API pages ---------------------------------------------


class SeriesSerializer(serializers.Serializer[Any]):
    unitOfMeasurement = serializers.CharField(allow_null=True, help_text="CELSIUS, HERTZ, BYTE; null for a flag")
    prefix = serializers.CharField(allow_null=True, help_text="KILO for memory, else null")
    min = serializers.ListField(
        child=serializers.FloatField(allow_null=True), help_text="Per bucket; a flag: 1 if set in every sample"
    )
    mean = serializers.ListField(
        child=serializers.FloatField(allow_null=True),
        help_text="Per bucket; a flag: the fraction of samples with it set",
    )
    max = serializers.ListField(
        child=serializers.FloatField(allow_null=True), help_text="Per bucket; a flag: 1 if set in any sample"
    )


def _group(name: str, keys: list[str]) -> type[serializers.Serializer[Any]]:
    fields = {key: SeriesSerializer(required=False) for key in keys}
    return type(name, (serializers.Serializer,), fields)


def _readings_serializer() -> type[serializers.Serializer[Any]]:
    """``readings`` of the answer: per kept reading, its series by key (from the declarations)."""
    keys: dict[str, list[str]] = {}
    for series in layout().series:
        keys.setdefault(series.reading, []).append(series.key)
    fields = {
        reading: _group(f"History{reading.capitalize()}Serializer", series_keys)(required=False)
        for reading, series_keys in keys.items()
    }
    return type("HistoryReadingsSerializer", (serializers.Serializer,), fields)


HistoryReadingsSerializer = _readings_serializer()


class HistorySerializer(serializers.Serializer[Any]):
    since = serializers.CharField(help_text="Start of the range, ISO 8601 UTC")
    until = serializers.CharField(help_text="End of the range (excluded), ISO 8601 UTC")
    bucketSeconds = serializers.FloatField(
        help_text="Width of every bucket; buckets lie on multiples of it since the epoch"
    )
    time = serializers.ListField(
        child=serializers.CharField(), help_text="Start of each bucket that holds samples, ISO 8601 UTC"
    )
    count = serializers.ListField(child=serializers.IntegerField(), help_text="Samples in each bucket")
    readings = HistoryReadingsSerializer(help_text="The series asked for, shaped like their reading models")


class ThrottleEventSerializer(serializers.Serializer[Any]):
    condition = serializers.ChoiceField(choices=[name for name, _, _ in CONDITIONS])
    start = serializers.CharField(help_text="ISO 8601 UTC")
    end = serializers.CharField(allow_null=True, help_text="ISO 8601 UTC; null while it lasts")
    durationSeconds = serializers.FloatField(allow_null=True)
    observed = serializers.BooleanField(
        help_text="false: the firmware's 'since boot' flag turned on between two checks a second apart, so it "
        "happened between start and end, too briefly to be seen"
    )


class EventsSerializer(serializers.Serializer[Any]):
    since = serializers.CharField()
    until = serializers.CharField()
    events = ThrottleEventSerializer(many=True)


def _sample_serializer() -> type[serializers.Serializer[Any]]:
    """One sample, as the ``HISTORY`` topic pushes it: per kept reading its series by key, null where it failed."""
    fields: dict[str, Any] = {"time": serializers.CharField(help_text="ISO 8601 UTC")}
    keys: dict[str, list[str]] = {}
    for series in layout().series:
        shown = series.key if series.flag_bit is None else f"{series.key} (boolean)"
        unit = " ".join(part for part in (series.prefix, series.unit) if part)
        keys.setdefault(series.reading, []).append(f"{shown}{f': {unit}' if unit else ''}")
    for reading, described in keys.items():
        fields[reading] = serializers.DictField(allow_null=True, help_text="{" + ", ".join(described) + "}")
    return type("HistorySampleSerializer", (serializers.Serializer,), fields)


HistorySampleSerializer = _sample_serializer()


def history_csv(answer: dict[str, Any]) -> str:
    """The history answer as CSV: a header, then one line per bucket (``time``, ``count``, then
    ``<reading>.<series>.<min|mean|max>`` columns, empty where a bucket has no value)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    header = ["time", "count"]
    columns: list[list[Any]] = [answer["time"], answer["count"]]
    for reading, lines in answer["readings"].items():
        for key, line in lines.items():
            for stat in ("min", "mean", "max"):
                header.append(f"{reading}.{key}.{stat}")
                columns.append(line[stat])
    writer.writerow(header)
    for row in zip(*columns, strict=True):
        writer.writerow(["" if value is None else value for value in row])
    return out.getvalue()
