"""The dashboard's reading cards and extra history charts, made from the readings' declarations
(``card`` and ``history.chart`` in each).

Each card is drawn by ``templates/endrpi/card.html`` and fed by its reading's push topic; the page's
script (``dashboard.js``, ``cardRenderer``) prints each value as its :class:`CardValue` says, from
the specification :func:`card_specs` hands it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from endrpi_project.readings.declaration import Card, CardValue, Meter
from endrpi_project.readings.registry import reading_table


@dataclass(frozen=True)
class ShownCard:
    """A card as the template draws it: the big figure, the labelled pairs, the meter and the foot."""

    topic: str
    key: str
    card: Card
    big: CardValue | None
    pairs: tuple[CardValue, ...]
    meter: Meter | None


def _with_element(value: CardValue, element: str) -> CardValue:
    if value.element:
        return value
    return CardValue(
        path=value.path, format=value.format, label=value.label, unit=value.unit, minus=value.minus, element=element
    )


def cards() -> list[ShownCard]:
    """Every declared reading's card, in the order of the readings."""
    shown = []
    for reading in reading_table().readings:
        card = reading.card
        if card is None:
            continue
        values = [_with_element(value, f"{reading.key}-value-{index}") for index, value in enumerate(card.values)]
        meter = card.meter
        if meter is not None and not meter.element:
            meter = Meter(path=meter.path, of=meter.of, minus=meter.minus, element=f"{reading.key}-meter")
        big = next((value for value in values if not value.label), None)
        pairs = tuple(value for value in values if value.label)
        shown.append(ShownCard(reading.name, reading.key, card, big, pairs, meter))
    return shown


def card_specs(shown: list[ShownCard]) -> dict[str, Any]:
    """What the page's script needs per topic: how to subscribe, and each value's path, format and element."""
    specs: dict[str, Any] = {}
    for card in shown:
        values = ([card.big] if card.big else []) + list(card.pairs)
        specs[card.topic] = {
            "subscribe": {"intervalMs": card.card.interval_ms, "onChange": card.card.on_change},
            "values": [asdict(value) for value in values],
            "meter": None if card.meter is None else asdict(card.meter),
            "rows": None if card.card.rows is None else asdict(card.card.rows),
        }
    return specs


def chart_specs() -> list[dict[str, Any]]:
    """The history charts the readings declare (``History.chart``), for the page's script: under the
    temperature and clock charts, each draws the mean of its series over the chosen range."""
    specs = []
    for reading in reading_table().readings:
        chart = reading.history.chart if reading.history is not None else None
        if chart is not None:
            specs.append(
                {
                    "id": reading.key,
                    "reading": reading.key,
                    "title": chart.title,
                    "keys": list(chart.keys),
                    "format": chart.format,
                    "scale": chart.scale,
                }
            )
    return specs
