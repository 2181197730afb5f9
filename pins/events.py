"""Pin change events: what subscribers of the ``PINS`` topic receive when a pin changes.

:mod:`pins.services` calls :func:`pins_changed` once per successful batch of updates (REST and
WebSocket alike) and for every edge on a watched input pin; the message is a
``PIN_CONFIGURATIONS_CHANGED`` envelope whose data is a PinConfigurationMap of the changed pins, in
the wire form of :func:`pins.serializers.pin_configurations_wire`.
"""

from __future__ import annotations

from collections.abc import Mapping

from endrpi_project.push.hub import publish
from pins import serializers
from pins.configuration import PinConfiguration

PINS_GROUP = "endrpi.pins"
PIN_CONFIGURATIONS_CHANGED = "PIN_CONFIGURATIONS_CHANGED"


def pins_changed(configurations: Mapping[str, PinConfiguration]) -> None:
    """Tell every ``PINS`` subscriber the new configuration of these pins."""
    if configurations:
        publish(PINS_GROUP, action=PIN_CONFIGURATIONS_CHANGED, data=serializers.pin_configurations_wire(configurations))
