"""The pins app's WebSocket actions: the same services and serializers as its REST views."""

from __future__ import annotations

from typing import Any

from endrpi_project.actions import Action
from endrpi_project.representation import representer
from pins import serializers, services

_represent = representer(serializers.PinConfigurationSerializer)


def read_pin_configurations(params: dict[str, Any]) -> dict[str, Any]:
    configurations = services.pin_configurations_read(pins=params["pins"])
    return {name: _represent(config) for name, config in configurations.items()}


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
    ),
]
