"""Pin change events: what subscribers of the ``PINS`` topic receive when a pin changes.

:mod:`pins.services` calls :func:`pins_changed` once per successful batch of updates (REST and
WebSocket alike) and for every edge on a watched input pin; the message is a
``PIN_CONFIGURATIONS_CHANGED`` envelope whose data is a PinConfigurationMap of the changed pins, in
the wire form of :func:`pins.serializers.pin_configurations_wire`. A pin setting saved or deleted (the
admin) is published by :func:`pins.services.pin_settings_changed`: the pin's new label to ``PINS``, and
every pin's label and lock to ``PIN_SETTINGS``.
"""

from __future__ import annotations

from collections.abc import Mapping

from endrpi_project.push.hub import publish
from pins import serializers
from pins.configuration import PinConfiguration

PINS_GROUP = "endrpi.pins"
PIN_CONFIGURATIONS_CHANGED = "PIN_CONFIGURATIONS_CHANGED"
# The operator's settings (labels and locks, saved in the admin): the ``PIN_SETTINGS`` topic.
PIN_SETTINGS_GROUP = "endrpi.pin-settings"
PIN_SETTINGS_CHANGED = "PIN_SETTINGS_CHANGED"


def pins_changed(configurations: Mapping[str, PinConfiguration]) -> None:
    """Tell every ``PINS`` subscriber the new configuration of these pins."""
    if configurations:
        publish(PINS_GROUP, action=PIN_CONFIGURATIONS_CHANGED, data=serializers.pin_configurations_wire(configurations))


def pin_settings_changed(wire: Mapping[str, object]) -> None:
    """Tell every ``PIN_SETTINGS`` subscriber each pin's label and lock (a PinSettingsMap)."""
    publish(PIN_SETTINGS_GROUP, action=PIN_SETTINGS_CHANGED, data=dict(wire))
