"""Reading and configuring GPIO pins: the one place that decides what a pin update does.

Pins are BCM numbers here; names are resolved at the edge by the serializers (:mod:`pins.naming`).

An update of several pins is all-or-nothing: every change is checked against :mod:`pins.rules` and
the write locks before the first pin is touched, batches are applied one at a time, and a batch
that fails part-way (whatever the pin library raised) puts back every pin it touched: a pin the
server had configured gets its previous configuration again, a pin it had not is released (not
left claimed, not driven).

A read takes the same lock as an update, so it sees the pins before a batch or after it, never
half of one. :func:`pin_configurations_read_now` is the read for the event loop: it never waits,
answering ``None`` instead when it would have to (a batch is being applied, or the pin settings
must be fetched from the database).

The operator's pin settings (labels, write locks, saved configurations) live in the database and
may be changed by another process (the admin of a second server, ``manage.py shell``). Every
update reads them afresh, so a write lock is never bypassed; reads use them for at most
:data:`SETTINGS_TTL` seconds before fetching them again, and a save or delete in this process
forgets them at once.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction

from endrpi_project.api.errors import (
    Conflict,
    EndrpiError,
    InvalidRequest,
    NotFound,
    ReadingFailed,
    Unavailable,
    database_message,
)
from pins import events, hardware, naming, rules, serializers
from pins.configuration import InputChange, PinChange, PinConfiguration, Pull
from pins.hardware import GpioBusy, GpioError, GpioUnsupported, PinState, get_gpio
from pins.models import PinSetting

logger = logging.getLogger(__name__)

# One batch of pin updates at a time, from every client, REST or WebSocket; reads take it too.
# Re-entrant: a batch publishes its change (a read) while holding it, and a simulated input's level
# change can call back on the thread that holds it.
_update_lock = threading.RLock()


def pins_start() -> None:
    """Server start-up: choose the GPIO (saying whether it is simulated), watch input edges, apply saved settings."""
    get_gpio()
    hardware.watch_edges(pin_edge_changed)
    try:
        pin_settings_apply()
    except Exception as error:  # start-up serves on even when the settings cannot be read (e.g. not migrated)
        logger.error("Saved pin configurations were not applied: %s", error)


# --- Operator settings (labels, write locks, saved configurations) --------------------------------

# How long a read may use the pin settings it has before fetching them again (a change made by
# another process shows within this time; one made here, at once).
SETTINGS_TTL = 1.0


@dataclass(frozen=True)
class _Known:
    settings: Mapping[int, PinSetting]
    labels: Mapping[int, str] = field(default_factory=dict)
    expires: float = math.inf  # time.monotonic(); never, for settings remembered without a database

    @classmethod
    def of(cls, settings: Mapping[int, PinSetting], expires: float) -> _Known:
        labels = {pin: setting.label for pin, setting in settings.items() if setting.label}
        return cls(settings=dict(settings), labels=labels, expires=expires)

    def current(self) -> bool:
        return self.expires == math.inf or time.monotonic() < self.expires


_settings_lock = threading.Lock()
_known: _Known | None = None


def pin_settings_read(*, fresh: bool = False) -> Mapping[int, PinSetting]:
    """Every pin's settings by BCM number (pins without settings are absent).

    From memory while they are younger than :data:`SETTINGS_TTL`; ``fresh`` fetches them from the
    database whatever their age (every update does). Raises :class:`Unavailable` (a 503 naming the
    cause, a ``ReadingFailed``) when the database cannot answer: an update must not pass a lock that
    could not be read.
    """
    global _known
    known = _known
    if known is not None and known.current() and (not fresh or known.expires == math.inf):
        return known.settings
    with _settings_lock:
        try:
            loaded = {setting.pin: setting for setting in PinSetting.objects.all()}
        except DatabaseError as error:
            raise Unavailable(f"Failed to read the pin settings: {database_message(error)}") from error
        known = _Known.of(loaded, time.monotonic() + SETTINGS_TTL)
        if _known is None or _known.expires != math.inf:
            _known = known
    return known.settings


def _labels() -> Mapping[int, str]:
    """Every label, fetched if need be; none when the settings cannot be read (a reading is still worth answering)."""
    try:
        pin_settings_read()
    except ReadingFailed:
        return {}
    known = _known
    return known.labels if known is not None else {}


def _forget() -> None:
    global _known
    with _settings_lock:
        _known = None


def pin_settings_forget(**kwargs: object) -> None:
    """Drop the settings kept in memory, so the next read loads them again (a save/delete signal receiver).

    Forgotten at once and again when the transaction commits, so a read between the two cannot keep
    the old values.
    """
    _forget()
    transaction.on_commit(_forget)


def pin_settings_remember(settings: Mapping[int, PinSetting]) -> None:
    """Use ``settings`` as the pin settings until they are forgotten, without asking the database
    (for tests without a database: ``{}``). A save or delete of a setting forgets them."""
    global _known
    with _settings_lock:
        _known = _Known.of(settings, math.inf)


def pin_settings_create_missing() -> int:
    """Give every header GPIO a settings row (all defaults: no label, unlocked, nothing saved, which
    means what no row means), so the admin lists all of them; return how many were created."""
    existing = set(PinSetting.objects.values_list("pin", flat=True))
    missing = [PinSetting(pin=pin) for pin in naming.USER_GPIOS if pin not in existing]
    # bulk_create sends no post_save: nothing changed that a page or MQTT shows.
    PinSetting.objects.bulk_create(missing, ignore_conflicts=True)
    if missing:
        pin_settings_forget()
    return len(missing)


def pin_settings_wire() -> dict[str, object]:
    """Every header GPIO's label and lock (the ``PIN_SETTINGS`` topic's current value)."""
    return serializers.pin_settings_wire(pin_settings_read(), pins=pins_all())


def pin_settings_changed(*, pins: Iterable[int]) -> None:
    """Pin settings were saved or deleted (the admin; a post_save/post_delete receiver after the commit):
    every open dashboard and API subscriber is told at once, not when it next reads.

    ``PINS`` subscribers get the new configuration (label) of ``pins``; ``PIN_SETTINGS`` subscribers
    every pin's label and lock, read fresh from the database.
    """
    _forget()
    try:
        wire = serializers.pin_settings_wire(pin_settings_read(fresh=True), pins=pins_all())
    except ReadingFailed:
        logger.exception("Could not read the pin settings that changed, so their subscribers were not told")
        return
    events.pin_settings_changed(wire)
    _publish_changes([pin for pin in pins if pin in pins_all()])


def pin_setting_saved(sender: object, instance: PinSetting, **kwargs: object) -> None:
    """post_save/post_delete receiver: publish the change once the transaction that made it commits."""
    pin = instance.pin
    transaction.on_commit(lambda: pin_settings_changed(pins=[pin]))


def pin_label(*, pin: int) -> str | None:
    """The operator's label for ``pin``; ``None`` when it has none, or the settings cannot be read."""
    return _labels().get(pin)


def pin_settings_apply() -> list[str]:
    """Apply every saved configuration (server start-up); the names of the pins configured.

    A locked pin is left alone, and a saved configuration that is not a valid update is skipped;
    each skip is logged with the reason. One pin failing does not stop the others.
    """
    applied: list[str] = []
    for pin, setting in sorted(pin_settings_read(fresh=True).items()):
        name = naming.pin_name(pin)
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


# --- The header ----------------------------------------------------------------------------------


def pins_simulated() -> bool:
    """Whether the GPIO is gpiozero's mock pins rather than a Raspberry Pi's."""
    return get_gpio().simulated


def pin_factory_describe() -> hardware.GpioDescription:
    """Which pin factory drives the pins (or would, in a process that has not chosen one) and the
    header's gpiochip (label and path). Claims nothing and writes nothing: for ``endrpi_doctor``."""
    return hardware.gpio_describe()


class HeaderPin(NamedTuple):
    """One physical pin of the 40-pin header; ``pulls`` are the pulls an input there can have."""

    physical: int
    name: str
    bcm: int | None
    pulls: tuple[Pull, ...] = ()


def pins_header() -> list[HeaderPin]:
    """The 40-pin header in physical order, GPIOs with the pulls :mod:`pins.rules` allows them."""
    header: list[HeaderPin] = []
    for physical in range(1, naming.HEADER_PINS + 1):
        bcm = naming.HEADER_TO_BCM.get(physical)
        if bcm is None:
            header.append(HeaderPin(physical, naming.HEADER_OTHER[physical], None))
        else:
            header.append(HeaderPin(physical, naming.pin_name(bcm), bcm, rules.pin_pulls(bcm)))
    return header


def pins_all() -> tuple[int, ...]:
    return naming.USER_GPIOS


def pin_resolve(*, name: object) -> int:
    """The BCM number of the user GPIO ``name`` names; :class:`NotFound` for any other pin."""
    bcm = naming.parse_pin(name)
    if bcm is None:
        raise NotFound(naming.unknown_pin_message(name))
    return bcm


# --- Reading -------------------------------------------------------------------------------------

_PULLS: dict[Pull, hardware.Pull] = {"FLOATING": "floating", "UP": "up", "DOWN": "down"}
_PULL_NAMES: dict[hardware.Pull, Pull] = {value: key for key, value in _PULLS.items()}


def _configuration(state: PinState, *, label: str | None) -> PinConfiguration:
    return PinConfiguration(
        io="INPUT" if state.function == "input" else "OUTPUT",
        state=state.state,
        pull=None if state.pull is None else _PULL_NAMES[state.pull],
        label=label,
        used_by=state.used_by,
        function=state.mux,
    )


def _read(pins: Iterable[int], labels: Mapping[int, str]) -> dict[str, PinConfiguration]:
    """Read ``pins``; the caller holds the update lock."""
    gpio = get_gpio()
    wanted = list(pins)
    readings = gpio.mux_readings(wanted)
    configurations: dict[str, PinConfiguration] = {}
    for pin in wanted:
        name = naming.pin_name(pin)
        try:
            configurations[name] = _configuration(gpio.read(pin, readings=readings), label=labels.get(pin))
        except GpioError as error:
            raise ReadingFailed(f"Failed to read pin configuration of {name}: {error}") from error
    return configurations


def pin_configurations_read(*, pins: Iterable[int] | None = None) -> dict[str, PinConfiguration]:
    """``{"GPIO17": PinConfiguration, ...}`` for ``pins`` (every user GPIO when ``None``), all from
    one moment between batches. May wait for a batch and fetch the settings: not for the event loop."""
    labels = _labels()
    with _update_lock:
        return _read(pins_all() if pins is None else pins, labels)


def pin_configurations_read_now(*, pins: Iterable[int] | None = None) -> dict[str, PinConfiguration] | None:
    """:func:`pin_configurations_read` if it can answer without waiting, else ``None``.

    For the event loop: no database query, no waiting for a batch. The pins themselves are read
    from gpiozero's state or one line-info ioctl each, which the kernel answers at once.
    """
    known = _known
    if known is None or not known.current():
        return None
    if not _update_lock.acquire(blocking=False):
        return None
    try:
        return _read(pins_all() if pins is None else pins, known.labels)
    finally:
        _update_lock.release()


def pin_configuration_read(*, pin: int) -> PinConfiguration:
    return pin_configurations_read(pins=[pin])[naming.pin_name(pin)]


def _publish_changes(pins: Iterable[int]) -> None:
    try:
        configurations = pin_configurations_read(pins=pins)
    except ReadingFailed:
        logger.exception("Could not read the pins that changed, so their subscribers were not told")
        return
    events.pins_changed(configurations)


def pin_edge_changed(pin: int) -> None:
    """An input pin changed level (a pin library callback, on its thread): tell subscribers."""
    _publish_changes([pin])


# --- Updating ------------------------------------------------------------------------------------


def _apply(gpio: hardware.Gpio, pin: int, change: PinChange) -> None:
    if isinstance(change, InputChange):
        gpio.set_input(pin, _PULLS[change.pull])
    else:
        gpio.set_output(pin, change.state)


def _roll_back(gpio: hardware.Gpio, done: list[tuple[int, PinState | None]]) -> None:
    """Put back every pin a failed batch touched, last first; ``None``: the server had not configured
    it, so it is released as it was before (function, direction, level and pull: ``Gpio.release``)."""
    for pin, previous in reversed(done):
        try:
            if previous is None:
                gpio.release(pin)
            elif previous.function == "input":
                gpio.set_input(pin, previous.pull or "floating")
            else:
                gpio.set_output(pin, previous.state or 0.0)
        except GpioError:
            logger.exception("Could not restore %s after a failed update", naming.pin_name(pin))


def _taken_check(gpio: hardware.Gpio, changes: Iterable[int], settings: Mapping[int, PinSetting]) -> None:
    """Refuse (409) a pin whose function is not plain GPIO or whose pinmux a kernel driver holds, unless
    an admin marked it "may take over": the kernel would let it be claimed, and the bus would stop."""
    for pin in changes:
        setting = settings.get(pin)
        if setting is not None and setting.may_take_over:
            continue
        taken = gpio.taken(pin)
        if taken is not None:
            raise Conflict(f"{taken}; no pin was changed")


def _update_error(pin: int, error: GpioError) -> EndrpiError:
    if isinstance(error, GpioBusy):
        return Conflict(f"{error}; no pin was changed")
    if isinstance(error, GpioUnsupported):
        return InvalidRequest(f"{error}; no pin was changed")
    return ReadingFailed(f"Failed to update pin configuration of {naming.pin_name(pin)}: {error}; no pin was changed")


def pin_configurations_update(*, changes: Mapping[int, PinChange]) -> None:
    """Apply every change or none of them."""
    if not changes:
        raise InvalidRequest(rules.NO_PINS)
    for pin, change in changes.items():
        if pin not in naming.USER_GPIOS:
            raise NotFound(naming.unknown_pin_message(naming.pin_name(pin)))
        try:
            rules.change_check(pin=pin, change=change, pwm_frequency=django_settings.ENDRPI_PWM_FREQUENCY)
        except rules.RuleBroken as error:
            raise InvalidRequest(error.message) from None
    settings = pin_settings_read(fresh=True)
    locked = [naming.pin_name(pin) for pin in changes if pin in settings and settings[pin].locked]
    if locked:
        raise Conflict(
            f"{', '.join(locked)} {'is' if len(locked) == 1 else 'are'} locked in the server's settings "
            "(unlock it in the admin at /admin/); no pin was changed"
        )
    gpio = get_gpio()
    with _update_lock:
        _taken_check(gpio, changes, settings)
        done: list[tuple[int, PinState | None]] = []
        for pin, change in changes.items():
            try:
                done.append((pin, gpio.read(pin) if gpio.is_configured(pin) else None))
                _apply(gpio, pin, change)
            except BaseException as error:
                # Put back every pin this batch touched, the failing one included.
                _roll_back(gpio, done)
                if isinstance(error, GpioError):
                    raise _update_error(pin, error) from error
                raise
        # Still under the lock, so subscribers see batches in the order they were applied.
        _publish_changes(changes)


def pin_configuration_update(*, pin: int, change: PinChange) -> str:
    """Update one pin; the message REST answers with."""
    pin_configurations_update(changes={pin: change})
    return f"Pin configuration for pin `{naming.pin_name(pin)}` was updated successfully"
