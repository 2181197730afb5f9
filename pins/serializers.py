"""How pins look on the wire, once, for REST, WebSocket and push alike.

Input is checked here with :mod:`pins.rules` (INPUT needs a ``pull``, OUTPUT a ``state``) and pin
names are resolved with :mod:`pins.naming`, so every edge reports a bad change or an unknown pin the
same way. :func:`pin_configurations_wire` is the one function that turns pins into their wire form.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import serializers
from rest_framework.fields import empty

from endrpi_project.api.representation import representer
from endrpi_project.push.topics import TopicParams
from pins import naming, rules
from pins.configuration import PinChange, PinConfiguration


class StateField(serializers.FloatField):
    """A number between 0 and 1; a JSON boolean is refused: the API's ``state`` is a number."""

    default_error_messages = {"invalid": "A number between 0 and 1 is required (0 = low, 1 = high)."}

    def to_internal_value(self, data: Any) -> float:
        if isinstance(data, (bool, str)):
            self.fail("invalid")
        return super().to_internal_value(data)


class UsedByField(serializers.CharField):
    """A response-only field that responses may leave out.

    Ignored in updates (its value is never read), but not declared ``read_only``: drf-spectacular
    makes every read-only field required in responses, and ``usedBy`` is only there when a line is
    in use, so older clients and exact comparisons see the same map as before.
    """

    def get_value(self, dictionary: Any) -> Any:
        return empty


class PinConfigurationSerializer(serializers.Serializer[Any]):
    """A pin's configuration; as input, one pin's requested change."""

    io = serializers.ChoiceField(choices=rules.IO_CHOICES, help_text="INPUT or OUTPUT")
    state = StateField(
        required=False,
        allow_null=True,
        min_value=0.0,
        max_value=1.0,
        help_text="0.0 or 1.0 for a digital pin, a PWM duty cycle in between. Required for OUTPUT.",
    )
    pull = serializers.ChoiceField(
        choices=rules.PULL_CHOICES,
        required=False,
        allow_null=True,
        help_text="FLOATING, UP or DOWN. Required for INPUT. Read as null when unknown: the kernel keeps no "
        "pull for a pin nobody has claimed. GPIO2 and GPIO3 have fixed pull-ups: UP only.",
    )
    # A declared field named like Field.label: the serializer metaclass moves it into ``fields``.
    label = serializers.CharField(  # type: ignore[assignment]
        read_only=True,
        allow_null=True,
        help_text="The operator's name for the pin, set in the admin (null when unset). Ignored in updates.",
    )
    usedBy = UsedByField(
        required=False,
        allow_null=True,
        help_text="Present only when another driver or program holds the pin: the kernel's name for it, e.g. "
        '"spi0 CS0" ("unknown" when it gives none). Ignored in updates.',
    )

    function = UsedByField(
        required=False,
        allow_null=True,
        help_text='What the SoC\'s function select gives the pin to: "GPIO", or a peripheral such as "I2C1 SDA" '
        'or "UART0 TXD" (an update of such a pin is refused with 409 unless an admin let it be taken over). '
        "Present on a Raspberry Pi wherever it can be read (/dev/gpiomem, or debugfs as root); absent for "
        "simulated pins. Ignored in updates.",
    )

    def validate(self, attrs: dict[str, Any]) -> PinChange:
        try:
            return rules.change_from(io=attrs["io"], state=attrs.get("state"), pull=attrs.get("pull"))
        except rules.RuleBroken as error:
            raise serializers.ValidationError(error.message) from None

    def to_representation(self, instance: PinConfiguration) -> dict[str, Any]:
        wire = {"io": instance.io, "state": instance.state, "pull": instance.pull, "label": instance.label}
        if instance.used_by is not None:
            wire["usedBy"] = instance.used_by
        if instance.function is not None:
            wire["function"] = instance.function
        return wire


def pin_configurations_wire(configurations: Mapping[str, PinConfiguration]) -> dict[str, Any]:
    """A PinConfigurationMap as JSON-ready data: what REST, WebSocket replies and push messages carry."""
    represent = representer(PinConfigurationSerializer)
    return {name: represent(configuration) for name, configuration in configurations.items()}


# A request names at most this many pins. There are 26 user GPIOs; the rest leaves room for a client
# that names a pin twice (GPIO17 and BOARD11) in a read, while bounding the work and the error reply.
MAX_PINS_PER_MESSAGE = 64


def pin_settings_wire(settings: Mapping[int, Any], *, pins: tuple[int, ...]) -> dict[str, Any]:
    """PinSettingsMap: each of ``pins`` by name, with the operator's ``label`` (``None`` without one) and
    whether it is ``locked``; ``settings`` are :class:`pins.models.PinSetting` rows by BCM number."""
    wire: dict[str, Any] = {}
    for pin in pins:
        setting = settings.get(pin)
        label = setting.label if setting is not None and setting.label else None
        wire[naming.pin_name(pin)] = {"label": label, "locked": bool(setting is not None and setting.locked)}
    return wire


def _resolve(name: str) -> int:
    bcm = naming.parse_pin(name)
    if bcm is None:
        raise serializers.ValidationError(naming.unknown_pin_message(name))
    return bcm


class PinNameListField(serializers.ListField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(child=serializers.CharField(), allow_empty=True, **kwargs)

    def to_internal_value(self, data: Any) -> list[int]:
        names: list[str] = super().to_internal_value(data)
        if len(names) > MAX_PINS_PER_MESSAGE:  # counted before aliases of one pin are merged
            self.fail("max_length", max_length=MAX_PINS_PER_MESSAGE)
        pins: list[int] = []
        for name in names:
            pin = _resolve(name)
            if pin not in pins:
                pins.append(pin)
        return pins


class ReadPinConfigurationsParams(serializers.Serializer[Any]):
    pins = PinNameListField(help_text='Pin names, e.g. ["GPIO17", "GPIO27"]; an empty list reads none.')


class PinSubscriptionParams(TopicParams):
    """``SUBSCRIBE`` params of the ``PINS`` topic: which pins to hear about (every pin without ``pins``)."""

    pins = PinNameListField(
        required=False, help_text='Pin names, e.g. ["GPIO17"]; leave out to hear about every header GPIO.'
    )

    def validate_pins(self, pins: list[int]) -> list[int]:
        if not pins:
            raise serializers.ValidationError("Name at least one pin, or leave pins out to hear about every pin")
        return pins


class PinChangeMapField(serializers.DictField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(child=PinConfigurationSerializer(), allow_empty=False, **kwargs)

    default_error_messages = {
        "empty": rules.NO_PINS,
        "too_many": f"Too many pins: at most {MAX_PINS_PER_MESSAGE} in one request",
    }

    def to_internal_value(self, data: Any) -> dict[int, PinChange]:
        if not isinstance(data, dict):
            self.fail("not_a_dict", input_type=type(data).__name__)
        if len(data) > MAX_PINS_PER_MESSAGE:
            self.fail("too_many")
        errors: dict[str, Any] = {}
        pins: dict[str, int] = {}
        for name in data:
            try:
                pin = _resolve(name)
            except serializers.ValidationError as error:
                errors[str(name)] = error.detail
                continue
            if pin in pins.values():
                errors[str(name)] = [f"names the same pin as another entry ({naming.pin_name(pin)})"]
            pins[name] = pin
        if errors:
            raise serializers.ValidationError(errors)
        validated: dict[str, PinChange] = super().to_internal_value(data)
        return {pins[name]: change for name, change in validated.items()}


class UpdatePinConfigurationsParams(serializers.Serializer[Any]):
    pins = PinChangeMapField(help_text='{"GPIO17": {"io": "OUTPUT", "state": 1.0}, ...}')
