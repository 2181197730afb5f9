"""Pin commands from MQTT (``endrpi/<node>/pins/<pin>/set``), through the same pins service as REST and WebSocket.

A command is a pin configuration in the API's JSON (``{"io": "OUTPUT", "state": 1}``), checked by the
same serializer as a REST ``PUT``, or ``ON``/``OFF`` for a pin that is an output. It is refused,
with a message for ``endrpi/<node>/errors`` and no pin changed, when the pin is unknown, is not
"controllable over MQTT" in the admin, is locked, the payload is invalid, or commands come faster
than the write rate limit (every MQTT command shares one bucket, with the WebSocket's per-connection
rate and burst). Validation, the write lock and all-or-nothing are the pins service's own.
"""

from __future__ import annotations

import json
import threading

from endrpi_project.access.limits import TokenBucket, write_bucket, write_limit_check
from endrpi_project.api.errors import Forbidden, InvalidRequest, validation_message
from pins import naming
from pins import services as pin_services
from pins.configuration import OutputChange, PinChange
from pins.serializers import PinConfigurationSerializer

_bucket_lock = threading.Lock()
_bucket: TokenBucket | None = None

MAX_PAYLOAD = 4096


def _write_limit() -> None:
    global _bucket
    with _bucket_lock:
        if _bucket is None:
            _bucket = write_bucket()
        write_limit_check(_bucket)


def command_bucket_reset() -> None:
    """Forget the MQTT write bucket (tests; a bridge restarted with other settings)."""
    global _bucket
    with _bucket_lock:
        _bucket = None


def command_change(*, pin: int, payload: bytes) -> PinChange:
    """The change a command asks for; :class:`InvalidRequest` naming what is wrong."""
    name = naming.pin_name(pin)
    if len(payload) > MAX_PAYLOAD:
        raise InvalidRequest(f"Command for {name} too large: at most {MAX_PAYLOAD} bytes")
    try:
        text = payload.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise InvalidRequest(f"Command for {name} is not UTF-8 text") from None
    if text.upper() in ("ON", "OFF"):
        current = pin_services.pin_configuration_read(pin=pin)
        if current.io != "OUTPUT":
            raise InvalidRequest(
                f"{text} switches an output, but {name} is an INPUT; "
                'send {"io": "OUTPUT", "state": 1} to make it an output'
            )
        return OutputChange(state=1.0 if text.upper() == "ON" else 0.0)
    try:
        data = json.loads(text)
    except ValueError:
        raise InvalidRequest(
            f'Command for {name} must be ON, OFF or a pin configuration such as {{"io": "OUTPUT", "state": 1}}'
        ) from None
    if not isinstance(data, dict):
        raise InvalidRequest(f"Command for {name} must be a JSON object (a pin configuration), ON or OFF")
    serializer = PinConfigurationSerializer(data=data)
    if not serializer.is_valid():
        raise InvalidRequest(f"Invalid command for {name}: {validation_message(serializer.errors)}")
    change: PinChange = serializer.validated_data
    return change


def mqtt_command_apply(*, pin: str, payload: bytes) -> str:
    """Carry out one command (blocking: run it in a worker thread); the canonical pin name.

    Raises an :class:`~endrpi_project.api.errors.EndrpiError` for every refusal; nothing changed then.
    """
    bcm = pin_services.pin_resolve(name=pin)
    name = naming.pin_name(bcm)
    setting = pin_services.pin_settings_read(fresh=True).get(bcm)  # as fresh as the write lock's check
    if setting is None or not setting.mqtt_controllable:
        raise Forbidden(
            f'{name} is not controllable over MQTT; tick "controllable over MQTT" for it in the admin at /admin/'
        )
    change = command_change(pin=bcm, payload=payload)
    _write_limit()
    pin_services.pin_configurations_update(changes={bcm: change})
    return name
