"""Reading and configuring GPIO pins: the one place that decides what a pin update does.

Pins are BCM numbers here; names are resolved at the edge by the serializers, with
:func:`pin_resolve`. An update of several pins is all-or-nothing: every change is validated before
the first pin is touched, updates are applied one batch at a time, and a batch that fails part-way
puts the pins it already changed back as they were.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction

from endrpi_project.api.errors import Conflict, EndrpiError, InvalidRequest, NotFound, ReadingFailed
from pins import events, hardware, parsers
from pins.configuration import InputChange, PinChange, PinConfiguration, Pull
from pins.hardware import GpioError, GpioUnsupported, PinState, get_gpio

if TYPE_CHECKING:
    from pins.models import PinSetting

logger = logging.getLogger(__name__)

# One batch of pin updates at a time, from every client, REST or WebSocket.
_update_lock = threading.Lock()


def pins_start() -> None:
    """Server start-up: choose the GPIO (saying whether it is simulated), watch input edges, apply saved settings."""
    get_gpio()
    hardware.watch_edges(pin_edge_changed)
    try:
        pin_settings_apply()
    except Exception as error:  # start-up serves on even when the settings cannot be read (e.g. not migrated)
        logger.error("Saved pin configurations were not applied: %s", error)


# --- Operator settings (labels, write locks, saved configurations), kept in memory -----------------

# Every read and update consults the pin settings, so they are loaded once and kept until a
# PinSetting is saved or deleted (see PinsConfig.ready), never queried per request.
_settings_lock = threading.Lock()
_settings: dict[int, PinSetting] | None = None


def _pin_setting_model() -> type[PinSetting]:
    # Looked up through the app registry: pins.models imports the serializers, which import this module.
    model: type[PinSetting] = apps.get_model("pins", "PinSetting")
    return model


def pin_settings_read() -> Mapping[int, PinSetting]:
    """Every pin's settings by BCM number (pins without settings are absent), from memory after the first call."""
    global _settings
    current = _settings
    if current is None:
        with _settings_lock:
            current = _settings
            if current is None:
                try:
                    current = {setting.pin: setting for setting in _pin_setting_model().objects.all()}
                except DatabaseError as error:
                    # Fail closed: an update must not pass a lock that could not be read.
                    raise ReadingFailed(f"Failed to read the pin settings (run manage.py migrate?): {error}") from error
                _settings = current
    return current


def _forget() -> None:
    global _settings
    with _settings_lock:
        _settings = None


def pin_settings_forget(**kwargs: object) -> None:
    """Drop the settings kept in memory, so the next read loads them again (a save/delete signal receiver).

    Forgotten at once and again when the transaction commits, so a read between the two cannot keep
    the old values.
    """
    _forget()
    transaction.on_commit(_forget)


def pin_settings_remember(settings: Mapping[int, PinSetting]) -> None:
    """Keep ``settings`` in memory as if loaded from the database (tests without a database use ``{}``)."""
    global _settings
    with _settings_lock:
        _settings = dict(settings)


def pin_label(*, pin: int) -> str | None:
    """The operator's label for ``pin``; ``None`` when it has none, or the settings cannot be read."""
    try:
        setting = pin_settings_read().get(pin)
    except ReadingFailed:
        return None  # a reading is still worth answering without its label
    return setting.label if setting is not None and setting.label else None


def pin_settings_apply() -> list[str]:
    """Apply every saved configuration (server start-up); the names of the pins configured.

    A locked pin is left alone, and a saved configuration that is not a valid update is skipped;
    each skip is logged with the reason. One pin failing does not stop the others.
    """
    applied: list[str] = []
    for pin, setting in sorted(pin_settings_read().items()):
        name = parsers.pin_name(pin)
        try:
            change = setting.saved_change()
        except ValidationError as error:
            logger.warning("Saved configuration of %s skipped: %s", name, "; ".join(error.messages))
            continue
        if change is None:
            continue
        if setting.locked:
            logger.info("Saved configuration of %s skipped: the pin is locked", name)
            continue
        try:
            pin_configurations_update(changes={pin: change})
        except EndrpiError as error:
            logger.warning("Saved configuration of %s skipped: %s", name, error.message)
            continue
        logger.info("Applied saved configuration of %s", name)
        applied.append(name)
    return applied


def pins_simulated() -> bool:
    """Whether the GPIO is gpiozero's mock pins rather than a Raspberry Pi's."""
    return get_gpio().simulated


def pins_header() -> list[tuple[int, str, int | None]]:
    """The 40-pin header in physical order: ``(physical pin, name, BCM number or None)``."""
    return [
        (physical, parsers.pin_name(parsers.HEADER_TO_BCM[physical]), parsers.HEADER_TO_BCM[physical])
        if physical in parsers.HEADER_TO_BCM
        else (physical, parsers.HEADER_OTHER[physical], None)
        for physical in range(1, parsers.HEADER_PINS + 1)
    ]


def _publish_changes(pins: Iterable[int]) -> None:
    try:
        configurations = pin_configurations_read(pins=pins)
    except ReadingFailed:
        logger.exception("Could not read the pins that changed, so their subscribers were not told")
        return
    events.pins_changed(configurations)


def pin_edge_changed(pin: int) -> None:
    """An input pin changed level (a gpiozero callback, on gpiozero's thread): tell subscribers."""
    _publish_changes([pin])


def pin_resolve(*, name: object) -> int:
    """The BCM number of the user GPIO ``name`` names; :class:`NotFound` for any other pin."""
    bcm = parsers.parse_pin(name)
    if bcm is None:
        raise NotFound(f"Pin with BCM pin number `{name}` not found; pins are GPIO2 to GPIO27")
    return bcm


def pins_all() -> tuple[int, ...]:
    return parsers.USER_GPIOS


_PULLS: dict[Pull, hardware.Pull] = {"FLOATING": "floating", "UP": "up", "DOWN": "down"}
_PULL_NAMES: dict[hardware.Pull, Pull] = {value: key for key, value in _PULLS.items()}


def _configuration(state: PinState, *, label: str | None) -> PinConfiguration:
    return PinConfiguration(
        io="INPUT" if state.function == "input" else "OUTPUT",
        state=state.state,
        pull=None if state.pull is None else _PULL_NAMES[state.pull],
        label=label,
    )


def pin_configuration_read(*, pin: int) -> PinConfiguration:
    try:
        return _configuration(get_gpio().read(pin), label=pin_label(pin=pin))
    except GpioError as error:
        raise ReadingFailed(f"Failed to read pin configuration of {parsers.pin_name(pin)}: {error}") from error


def pin_configurations_read(*, pins: Iterable[int] | None = None) -> dict[str, PinConfiguration]:
    """``{"GPIO17": PinConfiguration, ...}`` for ``pins`` (every user GPIO when ``None``)."""
    chosen = pins_all() if pins is None else pins
    return {parsers.pin_name(pin): pin_configuration_read(pin=pin) for pin in chosen}


def _apply(pin: int, change: PinChange) -> None:
    gpio = get_gpio()
    if isinstance(change, InputChange):
        gpio.set_input(pin, _PULLS[change.pull])
    else:
        gpio.set_output(pin, change.state)


def _restore(pin: int, previous: PinState) -> None:
    try:
        if previous.function == "input":
            get_gpio().set_input(pin, previous.pull or "floating")
        else:
            get_gpio().set_output(pin, previous.state or 0.0)
    except GpioError:
        logger.exception("Could not restore %s after a failed update", parsers.pin_name(pin))


def pin_configurations_update(*, changes: Mapping[int, PinChange]) -> None:
    """Apply every change or none of them."""
    if not changes:
        raise InvalidRequest("At least one pin id and pin configuration must be supplied")
    for pin in changes:
        if pin not in parsers.USER_GPIOS:
            raise NotFound(f"Pin with BCM pin number `{pin}` not found")
    settings = pin_settings_read()
    locked = [parsers.pin_name(pin) for pin in changes if pin in settings and settings[pin].locked]
    if locked:
        raise Conflict(
            f"{', '.join(locked)} {'is' if len(locked) == 1 else 'are'} locked in the server's settings "
            "(unlock it in the admin at /admin/); no pin was changed"
        )
    gpio = get_gpio()
    with _update_lock:
        done: list[tuple[int, PinState]] = []
        for pin, change in changes.items():
            try:
                done.append((pin, gpio.read(pin)))
                _apply(pin, change)
            except GpioError as error:
                # Put back every pin this batch touched, the failing one included.
                for changed, previous in reversed(done):
                    _restore(changed, previous)
                if isinstance(error, GpioUnsupported):
                    raise InvalidRequest(str(error)) from error
                raise ReadingFailed(
                    f"Failed to update pin configuration of {parsers.pin_name(pin)}: {error}"
                ) from error
        # Still under the lock, so subscribers see batches in the order they were applied.
        _publish_changes(changes)


def pin_configuration_update(*, pin: int, change: PinChange) -> str:
    """Update one pin; the message REST answers with."""
    pin_configurations_update(changes={pin: change})
    return f"Pin configuration for pin `{parsers.pin_name(pin)}` was updated successfully"
