"""The MQTT app's services: starting and stopping the bridge, the fleet, and settings changes.

:func:`start` and :func:`stop` are the server's start-up hook (``endrpi_project/startup.py``):
with ``ENDRPI_MQTT_URL`` unset they do nothing. The bridge never delays start-up: it connects in
the background and keeps trying.
"""

from __future__ import annotations

import asyncio
import logging

from django.conf import settings
from django.db import transaction

from endrpi_project.api.errors import Conflict
from endrpi_project.doctor.listening import listening_dashboard_url
from endrpi_project.mqtt.bridge import Bridge, BridgeSettings
from endrpi_project.mqtt.broker import broker_from_url
from endrpi_project.mqtt.commands import command_bucket_reset
from endrpi_project.mqtt.fleet import Fleet, Member
from endrpi_project.mqtt.topics import NodeTopics, node_id_from
from system.services import host_name_read

logger = logging.getLogger(__name__)

# Shutdown waits at most this long for "offline" and a clean disconnect.
STOP_SECONDS = 5.0

fleet = Fleet()
_bridge: Bridge | None = None


def mqtt_enabled() -> bool:
    return bool(settings.ENDRPI_MQTT_URL)


def mqtt_node_name() -> str:
    """This Pi's name on the broker: ``ENDRPI_MQTT_NODE_ID``, else its host name."""
    return settings.ENDRPI_MQTT_NODE_ID or host_name_read()


def mqtt_node_id() -> str:
    return node_id_from(mqtt_node_name())


def mqtt_dashboard_url() -> str:
    """``ENDRPI_MQTT_DASHBOARD_URL``, else the dashboard where the server listens (an address that
    answers, https with TLS; a host name may not resolve, or may be served on another address)."""
    return settings.ENDRPI_MQTT_DASHBOARD_URL or listening_dashboard_url()


def mqtt_bridge_settings() -> BridgeSettings:
    return BridgeSettings(
        broker=broker_from_url(settings.ENDRPI_MQTT_URL, ca_file=settings.ENDRPI_MQTT_CA_FILE),
        topics=NodeTopics(mqtt_node_id()),
        name=mqtt_node_name(),
        url=mqtt_dashboard_url(),
        version=str(settings.SPECTACULAR_SETTINGS["VERSION"]),
        discovery=settings.ENDRPI_MQTT_DISCOVERY,
        prefix=settings.ENDRPI_MQTT_DISCOVERY_PREFIX,
        interval=settings.ENDRPI_MQTT_INTERVAL,
        throttle_check=settings.ENDRPI_MQTT_THROTTLE_CHECK,
    )


def mqtt_bridge() -> Bridge | None:
    """The running bridge, if MQTT is on and the server has started it."""
    return _bridge


async def start() -> None:
    """Server start-up: start the bridge in the background (it connects and reconnects on its own)."""
    global _bridge
    if not mqtt_enabled() or _bridge is not None:
        return
    command_bucket_reset()
    _bridge = Bridge(mqtt_bridge_settings(), fleet)
    _bridge.start()


async def stop() -> None:
    """Server shutdown: ``offline`` on the availability topic, then a clean disconnect."""
    global _bridge
    bridge, _bridge = _bridge, None
    if bridge is not None:
        try:
            await asyncio.wait_for(bridge.stop(), STOP_SECONDS)
        except TimeoutError:
            logger.warning("MQTT: the bridge did not stop within %s s; shutting down anyway", STOP_SECONDS)
    fleet.clear()


def fleet_read() -> list[Member]:
    """Every Endrpi on the broker, by node id; :class:`Conflict` when MQTT is off."""
    if not mqtt_enabled():
        raise Conflict("The fleet needs MQTT: set ENDRPI_MQTT_URL to the broker the Pis publish to")
    return fleet.members()


def mqtt_pin_settings_changed(**kwargs: object) -> None:
    """A pin's settings were saved or deleted (a signal receiver): redo discovery once committed."""
    bridge = _bridge
    if bridge is not None:
        transaction.on_commit(bridge.pin_settings_changed)
