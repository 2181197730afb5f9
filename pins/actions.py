"""The pins app's WebSocket actions and push topic: the same services and serializers as its REST views.

Every edge reads through :mod:`pins.services` and renders with
:func:`pins.serializers.pin_configurations_wire`: the ``READ_PIN_CONFIGURATIONS`` reply, the
``PINS`` topic's current value and its pushed changes (:mod:`pins.events`) alike.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from channels.db import database_sync_to_async

from endrpi_project.api.actions import Action
from endrpi_project.push.topics import EventTopic, TopicParams
from pins import events, naming, serializers, services


@dataclass(frozen=True)
class ReadPinsAction(Action):
    """``READ_PIN_CONFIGURATIONS``: answered on the event loop when ``now`` can answer without waiting,
    in a worker thread otherwise.

    ``now(validated_params)`` returns ``None`` when it would have to wait (for a lock or the
    database); then ``handler`` runs in a worker thread as for any action.
    """

    now: Callable[[Any], Any] | None = None

    def validate(self, params: Any) -> Any:
        """The serializer's answer; for the common ``{"pins": [names]}`` remembered per list of names.

        Building and running a DRF serializer for 26 names costs more than reading the 26 pins, and
        a client asks for the same list again and again. What the serializer says about a list of
        names never changes, so its answer is kept (errors are not: they are worked out each time).
        """
        names = params.get("pins") if isinstance(params, dict) and len(params) == 1 else None
        if (
            type(names) is list
            and len(names) <= serializers.MAX_PINS_PER_MESSAGE
            and all(type(n) is str for n in names)
        ):
            return {"pins": list(_validated_pins(self, tuple(names)))}
        return super().validate(params)

    async def perform(self, connection: Any, params: Any) -> Any:
        validated = self.validate(params)
        answer = None if self.now is None else self.now(validated)
        if answer is not None:
            return answer
        return await database_sync_to_async(self.handler, thread_sensitive=False)(validated)


@lru_cache(maxsize=256)
def _validated_pins(action: Action, names: tuple[str, ...]) -> tuple[int, ...]:
    validated = Action.validate(action, {"pins": list(names)})
    return tuple(validated["pins"])


def read_pin_configurations(params: Mapping[str, Any]) -> dict[str, Any]:
    return serializers.pin_configurations_wire(services.pin_configurations_read(pins=params["pins"]))


def read_pin_configurations_now(params: Mapping[str, Any]) -> dict[str, Any] | None:
    configurations = services.pin_configurations_read_now(pins=params["pins"])
    return None if configurations is None else serializers.pin_configurations_wire(configurations)


def update_pin_configurations(params: Mapping[str, Any]) -> str:
    services.pin_configurations_update(changes=params["pins"])
    return "Pin configurations updated"


def _subscribed_pins(options: Mapping[str, Any]) -> list[int]:
    pins: list[int] = options.get("pins") or list(services.pins_all())
    return pins


def _current_pins(options: Mapping[str, Any]) -> dict[str, Any]:
    return serializers.pin_configurations_wire(services.pin_configurations_read(pins=_subscribed_pins(options)))


def _select_pins(options: Mapping[str, Any], changed: dict[str, Any]) -> dict[str, Any] | None:
    """The part of a change this subscriber watches; ``None`` when it names none of its pins."""
    if options.get("pins") is None:
        return changed
    names = {naming.pin_name(pin) for pin in options["pins"]}
    chosen = {name: config for name, config in changed.items() if name in names}
    return chosen or None


def _describe_pins(options: Mapping[str, Any]) -> dict[str, Any]:
    return {"pins": [naming.pin_name(pin) for pin in _subscribed_pins(options)]}


ACTIONS = [
    ReadPinsAction(
        name="READ_PIN_CONFIGURATIONS",
        handler=read_pin_configurations,
        now=read_pin_configurations_now,
        params=serializers.ReadPinConfigurationsParams,
        description="Reads the configuration of the named pins (an empty list gives an empty map).",
        model="PinConfigurationMap",
        # Answered on the loop when it can (the pins cost one gpiozero read or one line-info ioctl
        # each; labels come from memory), in a worker thread while a batch is being applied or the
        # pin settings must be fetched from the database, which Django refuses on the event loop.
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
    EventTopic(
        name="PIN_SETTINGS",
        event=events.PIN_SETTINGS_CHANGED,
        group=events.PIN_SETTINGS_GROUP,
        params=TopicParams,
        read=lambda options: services.pin_settings_wire(),
        select=lambda options, changed: changed,
        describe=lambda options: {},
        description=(
            "Each header GPIO's label and whether it is locked, as the operator sets them in Settings (the admin); "
            "sent whenever a pin setting is saved or deleted. The data is a PinSettingsMap: "
            '{"GPIO27": {"label": "Door sensor", "locked": true}, ...}.'
        ),
        model="PinSettingsMap",
    ),
]
