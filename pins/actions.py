"""The pins app's WebSocket actions: the same services and serializers as its REST views."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from endrpi_project.api.actions import Action
from endrpi_project.api.representation import representer
from endrpi_project.push.topics import EventTopic
from pins import events, parsers, serializers, services

_represent = representer(serializers.PinConfigurationSerializer)


def read_pin_configurations(params: dict[str, Any]) -> dict[str, Any]:
    configurations = services.pin_configurations_read(pins=params["pins"])
    return {name: _represent(config) for name, config in configurations.items()}


def _subscribed_pins(options: Mapping[str, Any]) -> list[int]:
    pins: list[int] = options.get("pins") or list(services.pins_all())
    return pins


def _current_pins(options: Mapping[str, Any]) -> dict[str, Any]:
    return read_pin_configurations({"pins": _subscribed_pins(options)})


def _select_pins(options: Mapping[str, Any], changed: dict[str, Any]) -> dict[str, Any] | None:
    """The part of a change this subscriber watches; ``None`` when it names none of its pins."""
    if options.get("pins") is None:
        return changed
    names = {parsers.pin_name(pin) for pin in options["pins"]}
    chosen = {name: config for name, config in changed.items() if name in names}
    return chosen or None


def _describe_pins(options: Mapping[str, Any]) -> dict[str, Any]:
    return {"pins": [parsers.pin_name(pin) for pin in _subscribed_pins(options)]}


def update_pin_configurations(params: dict[str, Any]) -> str:
    services.pin_configurations_update(changes=params["pins"])
    return "Pin configurations updated"


ACTIONS = [
    Action(
        name="READ_PIN_CONFIGURATIONS",
        handler=read_pin_configurations,
        params=serializers.ReadPinConfigurationsParams,
        description="Reads the configuration of the named pins (an empty list gives an empty map).",
        model="PinConfigurationMap",
        # Not inline: the pins themselves are cheap to read (gpiozero state, or one line-info ioctl),
        # but their labels come from the pin settings, which are loaded from the database on first
        # use and after every change, and Django refuses database queries on the event loop.
        inline=False,
    ),
    Action(
        name="UPDATE_PIN_CONFIGURATIONS",
        handler=update_pin_configurations,
        params=serializers.UpdatePinConfigurationsParams,
        description=(
            "Configures every named pin, or none if any change is invalid. "
            "INPUT needs a pull (state ignored); OUTPUT needs a state (pull ignored)."
        ),
        model="string",
        write=True,
    ),
]

TOPICS = [
    EventTopic(
        name="PINS",
        event=events.PIN_CONFIGURATIONS_CHANGED,
        group=events.PINS_GROUP,
        params=serializers.PinSubscriptionParams,
        read=_current_pins,
        select=_select_pins,
        describe=_describe_pins,
        description=(
            "Every change of a pin's configuration or level, whatever caused it (a WebSocket or REST update, "
            "or an input pin's level); the data is a PinConfigurationMap of the changed pins."
        ),
        model="PinConfigurationMap",
    ),
]
