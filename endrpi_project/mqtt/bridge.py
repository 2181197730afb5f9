"""The bridge: one MQTT connection on the server's own event loop, reconnecting forever.

What it publishes (retained unless said otherwise), see :mod:`endrpi_project.mqtt.topics`:

- ``availability``: ``online`` once connected; ``offline`` as the broker's last will (a crash, a
  ``kill -9``, a lost network) and before a clean shutdown.
- ``device`` (name, model, dashboard) and, with discovery on, Home Assistant's configs, again
  whenever Home Assistant's birth message (``<prefix>/status`` = ``online``) arrives.
- ``system``: the readings as ``GET /system`` gives them (plus ``bootTime``) every
  ``ENDRPI_MQTT_INTERVAL`` seconds, and at once when a throttle check sees the flags change.
- ``pins/<GPIO17>``: a pin's configuration whenever it changes, from any source. The bridge is a
  member of the ``PINS`` push group, so it hears the very change events WebSocket subscribers get
  (:mod:`pins.events`). Latest state wins: an event only marks its pins, and one publisher reads
  the marked pins through the pins service when it is free and publishes those that changed, so a
  burst of 1,000 updates ends with each pin's final state on the broker, and a pin's published
  state never goes back to an older one. A gap in the events' sequence numbers (the hub folded some
  while its loop fell behind) makes it read every pin again, as does every (re)connection and a
  quiet moment after any events (see ``_take_pin_event``).

Commands (``pins/<pin>/set``) run one at a time in a worker thread through
:func:`~endrpi_project.mqtt.commands.mqtt_command_apply`; a refusal is published on ``errors``.
The fleet's topics (``endrpi/+/availability|device|system``) update :class:`Fleet`, and changed
members are pushed to ``FLEET`` subscribers at most every :data:`FLEET_FLUSH` seconds.

Nothing here blocks the event loop: readings, pin reads and commands run in worker threads, and
aiomqtt's connect (DNS, TCP, TLS handshake) runs in its executor thread. A broker that is down
costs one connection attempt per backoff step (0.5 s doubling to :data:`BACKOFF_MAX`), and the
log says "connected" and "disconnected" once each, not once per attempt.

When idle the bridge wakes for the throttle check (``ENDRPI_MQTT_THROTTLE_CHECK``, default 2 s,
the rate of the kernel's own throttle poll), the readings, and aiomqtt's keep-alive housekeeping
(paho's ``loop_misc`` once a second, inside aiomqtt), nothing else.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import aiomqtt
from django.db import close_old_connections

from endrpi_project.api.errors import ReadingFailed, error_message
from endrpi_project.api.representation import representer
from endrpi_project.mqtt import discovery
from endrpi_project.mqtt.broker import Broker
from endrpi_project.mqtt.commands import mqtt_command_apply
from endrpi_project.mqtt.fleet import FLEET_CHANGED, FLEET_GROUP, Fleet
from endrpi_project.mqtt.serializers import FleetMemberSerializer
from endrpi_project.mqtt.topics import FLEET_FILTERS, NodeTopics, fleet_topic
from endrpi_project.push.hub import MESSAGE_TYPE, hub, publish
from endrpi_project.readings.registry import reading_table, readings_wire
from pins import events as pin_events
from pins import naming
from pins import services as pin_services
from pins.serializers import pin_configurations_wire
from system import services as system_services
from system.serializers import ThrottleSerializer

logger = logging.getLogger(__name__)
T = TypeVar("T")

BACKOFF_FIRST = 0.5
BACKOFF_MAX = 4.0
KEEPALIVE = 30
FLEET_FLUSH = 0.05
# Quiet time after the last pin event before the pins are read once more (see _take_pin_event).
SETTLE = 0.25
COMMAND_QUEUE = 256
QOS = 1
# Pin states go at QoS 0: a PUBACK per state would put a small packet in flight from the broker, and
# a broker without TCP_NODELAY (Mosquitto's default) then holds the next command for this bridge
# back for a delayed ACK (about 20 ms). A state lost with a connection is published again on
# reconnecting, and retained either way.
STATE_QOS = 0


@dataclass(frozen=True)
class BridgeSettings:
    broker: Broker
    topics: NodeTopics
    name: str
    url: str
    version: str
    discovery: bool
    prefix: str
    interval: float
    throttle_check: float


def _payload_bytes(payload: Any) -> bytes:
    if payload is None:
        return b""
    if isinstance(payload, bytes | bytearray):
        return bytes(payload)
    return str(payload).encode()


def _with_database(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``function`` in a worker thread, closing the thread's stale database connections around it."""
    close_old_connections()
    try:
        return function(*args, **kwargs)
    finally:
        close_old_connections()


async def _in_thread(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run blocking work off the loop. ``asyncio.to_thread``, not asgiref's ``sync_to_async``: a
    cancelled ``sync_to_async`` waits for the thread and then returns normally, swallowing the
    cancellation (asgiref ``SyncToAsync.__call__``), which would keep the bridge from stopping."""
    return await asyncio.to_thread(_with_database, function, *args, **kwargs)


async def _publish_pipelined(client: aiomqtt.Client, messages: list[tuple[str, str | bytes]]) -> None:
    """Publish retained QoS 1 ``messages`` all at once and wait for every PUBACK together.

    aiomqtt's ``publish`` hands the message to paho at once (so they go out in this order) and then
    waits for its PUBACK. Awaiting each before sending the next cost a round trip per message, and
    with Mosquitto's default ``set_tcp_nodelay false`` each PUBACK waits for a delayed ACK: 15
    discovery configs took ~0.6 s, ~44 ms apart. Sent together they are acknowledged together.
    """
    if messages:
        await asyncio.gather(*(client.publish(topic, payload, QOS, True) for topic, payload in messages))


async def _cancel(tasks: list[asyncio.Task[None]]) -> None:
    """Cancel ``tasks`` and wait for them, cancelling again any that caught the cancellation."""
    for task in tasks:
        task.cancel()
    pending = [task for task in tasks if not task.done()]
    while pending:
        _, still = await asyncio.wait(pending, timeout=0.5)
        for task in still:
            task.cancel()
        pending = list(still)
    for task in tasks:
        if not task.cancelled() and task.exception() is not None:
            logger.debug("MQTT: %s ended with %r", task.get_name(), task.exception())


def _found_ids(state: Mapping[str, Any] | None) -> set[tuple[str, str]]:
    """The object ids and names of the Home Assistant entities found at run time in a published state
    (a name changes when a sensor is relabelled in the admin: announced again too)."""
    ids: set[tuple[str, str]] = set()
    for reading in reading_table().readings:
        section = (state or {}).get(reading.key)
        if reading.home_assistant_found is not None and section is not None:
            ids.update((entity.object_id, entity.name) for entity in reading.home_assistant_found(section))
    return ids


def _json(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"))


class Bridge:
    def __init__(self, settings: BridgeSettings, fleet: Fleet) -> None:
        self.settings = settings
        self.fleet = fleet
        self.connected = False
        self.connections = 0
        self._client: aiomqtt.Client | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._wake = asyncio.Event()
        # Pins a change event named since they were last read (latest wins: they are read when published).
        self._dirty: set[str] = set()
        self._resync = True
        self._system_due = True
        self._discovery_due = True
        self._last_throttle: Any = None
        self._state: dict[str, Any] | None = None  # the readings last published
        self._boot_time: str | None = None
        self._device: discovery.Device | None = None
        # What the broker holds from us: each pin's last published state, and its discovery config.
        self._pin_states: dict[str, dict[str, Any]] = {}
        self._pin_flags: dict[str, tuple[bool, bool]] = {}
        self._pin_configs: dict[str, tuple[str, str]] = {}
        self._desired_configs: set[str] | None = None
        self._seen_configs: set[str] = set()
        self._fleet_dirty: set[str] = set()
        self._fleet_flush: asyncio.TimerHandle | None = None
        self._settle_at = 0.0
        self._settle: asyncio.TimerHandle | None = None

    # --- life cycle ---------------------------------------------------------------------------

    def start(self) -> None:
        loop = self._loop = asyncio.get_running_loop()
        hub.attach()  # pin change events are handed to this loop
        self._tasks = [
            loop.create_task(self._listen_to_pins(), name="endrpi-mqtt-pin-events"),
            loop.create_task(self._run(), name="endrpi-mqtt"),
        ]

    async def stop(self) -> None:
        client = self._client
        if client is not None:
            with contextlib.suppress(aiomqtt.MqttError, asyncio.TimeoutError):
                await client.publish(self.settings.topics.availability, discovery.OFFLINE, QOS, True, timeout=2)
        await _cancel(self._tasks)
        self._tasks = []
        for handle in (self._fleet_flush, self._settle):
            if handle is not None:
                handle.cancel()

    def pin_settings_changed(self) -> None:
        """Labels or MQTT settings changed (any thread): read the pins again and redo discovery."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._settings_changed)

    def _settings_changed(self) -> None:
        self._resync = True
        self._discovery_due = True
        self._wake.set()

    # --- the connection ------------------------------------------------------------------------

    async def _run(self) -> None:
        broker, topics = self.settings.broker, self.settings.topics
        backoff = BACKOFF_FIRST
        quiet = False  # a failure was logged; stay quiet until connected again
        while True:
            try:
                tls = await asyncio.to_thread(broker.tls_context)
                client = aiomqtt.Client(
                    broker.host,
                    broker.port,
                    username=broker.username,
                    password=broker.password,
                    identifier=f"endrpi-{topics.node}",
                    will=aiomqtt.Will(topics.availability, discovery.OFFLINE, qos=QOS, retain=True),
                    tls_context=tls,
                    keepalive=KEEPALIVE,
                    # Small messages leave at once (Nagle's algorithm would hold one back for an ACK).
                    socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
                    logger=logging.getLogger("endrpi_project.mqtt.client"),
                )
                async with client:
                    self._client, self.connected = client, True
                    self.connections += 1
                    logger.info("MQTT: connected to %s as endrpi/%s", broker, topics.node)
                    quiet, backoff = False, BACKOFF_FIRST
                    await self._session(client)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                reason = str(error) or type(error).__name__
                if self.connected:
                    logger.warning("MQTT: disconnected from %s (%s); reconnecting in the background", broker, reason)
                elif not quiet:
                    logger.warning("MQTT: cannot connect to %s (%s); retrying in the background", broker, reason)
                quiet = True
            finally:
                self._client, self.connected = None, False
            await asyncio.sleep(backoff * random.uniform(0.75, 1.0))
            backoff = min(backoff * 2, BACKOFF_MAX)

    async def _session(self, client: aiomqtt.Client) -> None:
        settings, topics = self.settings, self.settings.topics
        subscriptions: list[tuple[str, int]] = [(topics.commands, QOS), *((f, 0) for f in FLEET_FILTERS)]
        if settings.discovery:
            subscriptions += [(f"{settings.prefix}/status", QOS), (f"{settings.prefix}/+/{topics.node}/+/config", 0)]
        self._desired_configs, self._seen_configs = None, set()
        await client.subscribe(subscriptions)
        await client.publish(topics.availability, discovery.ONLINE, QOS, True)
        if self._device is None:
            self._device = await _in_thread(self._read_device)
        await client.publish(topics.device, _json(self._device.announcement()), QOS, True)
        self._pin_states.clear()  # a broker restarted without persistence has none: publish every pin
        self._resync = self._system_due = self._discovery_due = True
        self._wake.set()
        commands: asyncio.Queue[tuple[str, str, bytes]] = asyncio.Queue(COMMAND_QUEUE)
        loop = asyncio.get_running_loop()
        tasks = [
            loop.create_task(self._receive(client, commands), name="endrpi-mqtt-receive"),
            loop.create_task(self._publish(client), name="endrpi-mqtt-publish"),
            loop.create_task(self._commands(client, commands), name="endrpi-mqtt-commands"),
            loop.create_task(self._timer(), name="endrpi-mqtt-timer"),
        ]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            for task in done:
                task.result()  # raises the failure (a lost connection) for _run to log
        finally:
            await _cancel(tasks)

    def _read_device(self) -> discovery.Device:
        try:
            model = system_services.platform_read().model
        except ReadingFailed:
            model = None
        settings = self.settings
        return discovery.Device(settings.topics.node, settings.name, model, settings.version, settings.url)

    # --- incoming ------------------------------------------------------------------------------

    async def _receive(self, client: aiomqtt.Client, commands: asyncio.Queue[tuple[str, str, bytes]]) -> None:
        settings, topics = self.settings, self.settings.topics
        birth = f"{settings.prefix}/status"
        async for message in client.messages:
            topic = message.topic.value
            payload = _payload_bytes(message.payload)
            pin = topics.command_pin(topic)
            if pin is not None:
                try:
                    commands.put_nowait((topic, pin, payload))
                except asyncio.QueueFull:
                    await self._refuse(client, topic, pin, "Too many MQTT commands waiting; this one was dropped")
            elif (member := fleet_topic(topic)) is not None:
                if self.fleet.apply(member[0], member[1], payload):
                    self._fleet_changed(member[0])
            elif settings.discovery and topic == birth:
                if payload.strip() == discovery.BIRTH_ONLINE.encode():
                    logger.info("MQTT: Home Assistant is online; publishing discovery again")
                    self._discovery_due = True
                    self._wake.set()
            elif settings.discovery and message.retain and payload:
                # A config left on the broker by an earlier run (a pin exposed then): removed unless still wanted.
                self._seen_configs.add(topic)
                await self._clear_stale(client)

    async def _commands(self, client: aiomqtt.Client, commands: asyncio.Queue[tuple[str, str, bytes]]) -> None:
        while True:
            topic, pin, payload = await commands.get()
            try:
                await _in_thread(mqtt_command_apply, pin=pin, payload=payload)
            except Exception as error:
                await self._refuse(client, topic, pin, error_message(error)[1])

    async def _refuse(self, client: aiomqtt.Client, topic: str, pin: str, message: str) -> None:
        logger.info("MQTT: command on %s refused: %s", topic, message)
        await client.publish(self.settings.topics.errors, _json({"topic": topic, "pin": pin, "message": message}), QOS)

    def _fleet_changed(self, node: str) -> None:
        self._fleet_dirty.add(node)
        if self._fleet_flush is None and self._loop is not None:
            self._fleet_flush = self._loop.call_later(FLEET_FLUSH, self._push_fleet)

    def _push_fleet(self) -> None:
        nodes, self._fleet_dirty, self._fleet_flush = self._fleet_dirty, set(), None
        represent = representer(FleetMemberSerializer)
        data: dict[str, Any] = {}
        for node in sorted(nodes):
            member = self.fleet.get(node)
            data[node] = None if member is None else represent(member)
        publish(FLEET_GROUP, action=FLEET_CHANGED, data=data)

    async def _listen_to_pins(self) -> None:
        """Join the ``PINS`` push group in this process and note each pin's newest configuration (latest wins).

        The hub hands every pin change to its members in order, folding (and counting) only when the
        event loop falls far behind, so nothing is lost on the way; the settle re-read below covers
        the folded ones too.
        """
        last_seq: dict[str, int] = {}

        def receive(message: dict[str, Any]) -> None:
            self._take_pin_event(message, last_seq)

        hub.join(pin_events.PINS_GROUP, receive)
        try:
            await asyncio.Event().wait()  # until the bridge stops (cancelled)
        finally:
            hub.leave(pin_events.PINS_GROUP, receive)

    def _take_pin_event(self, message: Mapping[str, Any], last_seq: dict[str, int]) -> None:
        if message.get("type") != MESSAGE_TYPE or message.get("group") != pin_events.PINS_GROUP:
            return
        origin, seq = message.get("origin"), message.get("seq")
        if isinstance(origin, str) and isinstance(seq, int):
            previous = last_seq.get(origin)
            if previous is not None and seq > previous + 1:
                self._resync = True  # the hub folded some (its loop fell behind): read every pin again
            last_seq[origin] = max(seq, previous or 0)
        data = message.get("data")
        if message.get("error") is None and isinstance(data, dict):
            self._dirty.update(name for name in data if isinstance(name, str))
        self._wake.set()
        # Belt and braces: reading every pin once the events have been quiet for SETTLE seconds reads
        # a state at least as new as the last change, whatever happened on the way (a fold, a pin
        # changed by a path that published nothing). Only pins that differ from what was published
        # are published again.
        loop = self._loop
        if loop is not None:
            self._settle_at = loop.time() + SETTLE
            if self._settle is None:
                self._settle = loop.call_later(SETTLE, self._settled)

    def _settled(self) -> None:
        loop = self._loop
        assert loop is not None
        wait = self._settle_at - loop.time()
        if wait > 0:
            self._settle = loop.call_later(wait, self._settled)
            return
        self._settle = None
        self._resync = True
        self._wake.set()

    # --- outgoing ------------------------------------------------------------------------------

    async def _publish(self, client: aiomqtt.Client) -> None:
        """The one publisher: whatever is newest, each time it is woken."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self._resync or self._dirty:
                await self._publish_pins(client)
            if self._discovery_due:
                self._discovery_due = False
                await self._publish_discovery(client)
            if self._system_due:
                self._system_due = False
                await self._publish_system(client)

    async def _publish_pins(self, client: aiomqtt.Client) -> None:
        """Read the pins events named (every pin after a resync) and publish those that changed.

        The pins service reads under its update lock, so a read is never older than the change
        event that asked for it, nor than an earlier read: what is published only moves forward,
        even when events queued before a resync are taken after it.
        """
        every = self._resync
        names, self._dirty, self._resync = self._dirty, set(), False
        pins = None if every else [pin for name in sorted(names) if (pin := naming.parse_pin(name)) is not None]
        try:
            configurations = await _in_thread(pin_services.pin_configurations_read, pins=pins)
        except ReadingFailed as error:
            logger.warning("MQTT: could not read the pins: %s", error.message)
            return
        for name, wire in pin_configurations_wire(configurations).items():
            if self._pin_states.get(name) == wire:
                continue
            await client.publish(self.settings.topics.pin(name), _json(wire), STATE_QOS, True)
            self._pin_states[name] = wire
            await self._publish_pin_config(client, name)

    async def _publish_system(self, client: aiomqtt.Client) -> None:
        try:
            state: dict[str, Any] = dict(await _in_thread(readings_wire))
        except ReadingFailed as error:
            logger.debug("MQTT: no reading to publish: %s", error.message)
            return
        uptime = state.get("uptime")
        if self._boot_time is None and uptime:
            booted = datetime.now(UTC) - timedelta(seconds=float(uptime["seconds"]))
            self._boot_time = booted.replace(microsecond=0).isoformat()
        state["bootTime"] = self._boot_time
        self._last_throttle = state.get("throttle")
        found = _found_ids(state)
        if found != _found_ids(self._state):  # a sensor or interface came or went: announce again
            self._discovery_due = True
            self._wake.set()
        self._state = state
        await client.publish(self.settings.topics.system, _json(state), QOS, True)

    async def _publish_discovery(self, client: aiomqtt.Client) -> None:
        settings = self.settings
        if not settings.discovery or self._device is None:
            return
        try:
            pin_settings = await _in_thread(pin_services.pin_settings_read)
        except ReadingFailed as error:
            logger.warning("MQTT: pin settings unreadable, so no pin is announced: %s", error.message)
            pin_settings = {}
        self._pin_flags = {
            naming.pin_name(pin): (setting.mqtt_controllable, setting.mqtt_exposed)
            for pin, setting in pin_settings.items()
        }
        messages: list[tuple[str, str | bytes]] = []
        desired: set[str] = set()
        for entity in discovery.reading_entities(self._device, settings.topics, self._state):
            topic = entity.topic(settings.prefix, settings.topics.node)
            desired.add(topic)
            messages.append((topic, entity.payload()))
        for name in [naming.pin_name(pin) for pin in naming.USER_GPIOS]:
            messages += self._pin_config_messages(name, force=True)
            if name in self._pin_configs:
                desired.add(self._pin_configs[name][0])
        for topic in sorted((self._desired_configs or set()) - desired):
            await client.publish(topic, b"", QOS, True)  # gone (a sensor unplugged): Home Assistant removes it
        self._desired_configs = desired
        messages += self._stale_config_messages()
        await _publish_pipelined(client, messages)

    async def _publish_pin_config(self, client: aiomqtt.Client, name: str) -> None:
        """Announce the pin's entity if it changed; remove the one it replaces."""
        await _publish_pipelined(client, self._pin_config_messages(name))

    def _pin_config_messages(self, name: str, *, force: bool = False) -> list[tuple[str, str | bytes]]:
        """What announces the pin's entity if it changed (or ``force``) and removes the one it replaces;
        recorded as published (the caller publishes them)."""
        settings, wire = self.settings, self._pin_states.get(name)
        if not settings.discovery or self._device is None or wire is None:
            return []
        controllable, exposed = self._pin_flags.get(name, (False, False))
        entity = discovery.pin_entity(
            self._device,
            settings.topics,
            name=name,
            io=str(wire.get("io")),
            label=wire.get("label"),
            controllable=controllable,
            exposed=exposed,
        )
        messages: list[tuple[str, str | bytes]] = []
        previous = self._pin_configs.get(name)
        current = None if entity is None else (entity.topic(settings.prefix, settings.topics.node), entity.payload())
        if previous is not None and (current is None or previous[0] != current[0]):
            messages.append((previous[0], b""))  # Home Assistant removes the entity
            self._pin_configs.pop(name)
            if self._desired_configs is not None:
                self._desired_configs.discard(previous[0])
        if current is not None and (force or current != previous):
            messages.append(current)
            self._pin_configs[name] = current
            if self._desired_configs is not None:
                self._desired_configs.add(current[0])
        return messages

    async def _clear_stale(self, client: aiomqtt.Client) -> None:
        await _publish_pipelined(client, self._stale_config_messages())

    def _stale_config_messages(self) -> list[tuple[str, str | bytes]]:
        desired = self._desired_configs
        if desired is None:
            return []  # not announced yet: judged once discovery is published
        stale = sorted(self._seen_configs - desired)
        self._seen_configs.clear()
        return [(topic, b"") for topic in stale]

    async def _timer(self) -> None:
        """Readings every interval; between them, a throttle check that publishes them early on a change."""
        loop = asyncio.get_running_loop()
        interval, check = self.settings.interval, self.settings.throttle_check
        due = loop.time() + interval
        while True:
            now = loop.time()
            await asyncio.sleep(max(0.0, min(due - now, check) if check > 0 else due - now))
            if loop.time() >= due:
                due = max(due + interval, loop.time() + interval / 2)
                self._system_due = True
                self._wake.set()
            elif check > 0 and await _in_thread(self._throttle) != self._last_throttle:
                self._system_due = True
                self._wake.set()

    @staticmethod
    def _throttle() -> Any:
        try:
            return representer(ThrottleSerializer)(system_services.throttle_read())
        except ReadingFailed:
            return None
