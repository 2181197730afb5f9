"""One connection's subscriptions and the ``SUBSCRIBE`` / ``UNSUBSCRIBE`` actions.

``SUBSCRIBE`` joins the topic's group (see :mod:`~endrpi_project.push.hub`) first and reads the
current value second, and the reply carries that value: any change after the read arrives as a passive message after the
reply, so a client never reads and subscribes in two racing steps. A reading that fails at that
moment is subscribed all the same: the reply's ``current`` is null and ``currentError`` (with
``currentSummary`` on a ``?summaries=1`` connection) says why, and the poller pushes the reading
when it works again — the same failure rule as every pushed reading (``ReadingTopic.take``).
Passive messages use the reply envelope, ``{"action": <event>, "success", "data", "error"}``,
with the event naming what happened.

A connection holds at most one subscription per topic (subscribing again replaces it). Leaving —
``UNSUBSCRIBE``, a disconnect, or the consumer being cancelled — leaves the groups, stops the
pollers nobody else uses and the outbox task, and drops whatever was still waiting to be sent.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from channels.db import database_sync_to_async
from rest_framework import serializers

from endrpi_project.api.actions import Action, ConnectionAction, ParamDoc, _param_docs
from endrpi_project.api.envelope import envelope
from endrpi_project.api.errors import InvalidRequest
from endrpi_project.api.tally import tally
from endrpi_project.push.hub import hub
from endrpi_project.push.outbox import Outbox
from endrpi_project.push.topics import Plan, Reading, Topic, TopicTable

logger = logging.getLogger(__name__)

SUBSCRIBE = "SUBSCRIBE"
UNSUBSCRIBE = "UNSUBSCRIBE"


@dataclass(frozen=True)
class Subscription:
    topic: str
    plan: Plan


class Subscriptions:
    """The topics one connection watches, and its outbox of passive messages."""

    def __init__(
        self,
        *,
        send: Callable[[dict[str, Any]], Awaitable[None]],
        limit: int,
        layer: Any = None,
        channel_name: str = "",
        summaries: bool = False,
    ) -> None:
        """``summaries``: the connection asked for ``"summary"`` beside errors (``?summaries=1``)."""
        self._summaries = summaries
        self._layer = layer  # a channel layer reaching other processes, if any (hub.remote_layer)
        self._channel = channel_name
        self._by_topic: dict[str, Subscription] = {}
        self._by_group: dict[str, Subscription] = {}
        self._last_seq: dict[tuple[str, str], int] = {}
        self._receiver = self.deliver
        self.outbox = Outbox(send, limit=limit, name=f"endrpi-outbox-{channel_name}")

    @property
    def topics(self) -> list[str]:
        return list(self._by_topic)

    async def subscribe(self, topic: Topic, options: Mapping[str, Any]) -> dict[str, Any]:
        hub.attach()
        plan = topic.plan(options)
        if topic.name in self._by_topic:
            await self._leave(topic.name)
        # Join first, read second: a change after the read is already on its way to this connection.
        hub.join(plan.group, self._receiver)
        try:
            if self._layer is not None:
                await self._layer.group_add(plan.group, self._channel)
            reading: Reading
            if plan.take is not None:  # never raises: a failure is the reading, as pushes carry it
                reading = await plan.take()
            elif plan.aread is not None:
                reading = (await plan.aread(), None, None)
            else:
                reading = (await database_sync_to_async(plan.read, thread_sensitive=False)(), None, None)
        except BaseException:
            hub.leave(plan.group, self._receiver)
            if self._layer is not None:
                await self._layer.group_discard(plan.group, self._channel)
            raise
        plan.start(reading)
        subscription = Subscription(topic.name, plan)
        self._by_topic[topic.name] = self._by_group[plan.group] = subscription
        tally.subscription(topic.name, +1)
        current, error, summary = reading
        reply = {"topic": topic.name, "event": plan.event, **plan.described, "current": current}
        if error is not None:  # the reading fails now: subscribed all the same, its recovery is pushed
            reply["currentError"] = error
            if self._summaries and summary is not None:
                reply["currentSummary"] = summary
        return reply

    async def unsubscribe(self, name: str) -> dict[str, Any]:
        if name not in self._by_topic:
            raise InvalidRequest(f"Not subscribed to {name}")
        await self._leave(name)
        return {"topic": name}

    async def _leave(self, name: str) -> None:
        subscription = self._by_topic.pop(name)
        tally.subscription(name, -1)
        group = subscription.plan.group
        self._by_group.pop(group, None)
        for key in [key for key in self._last_seq if key[0] == group]:
            del self._last_seq[key]
        self.outbox.discard(name)
        subscription.plan.stop()
        hub.leave(group, self._receiver)
        if self._layer is not None:
            await self._layer.group_discard(group, self._channel)

    def deliver(self, message: Mapping[str, Any]) -> None:
        """A passive message from this process's hub: this client's part of it goes to the outbox."""
        subscription = self._by_group.get(message["group"])
        if subscription is None:
            return  # unsubscribed while it was on its way
        skipped = message.get("skipped", 0)
        if skipped:  # the hub folded this many older messages into this one
            self.outbox.note_dropped(subscription.topic, skipped)
        self._put(subscription, message)

    def deliver_remote(self, message: Mapping[str, Any]) -> None:
        """A passive message from another process, through the channel layer: gaps in ``seq`` are reported."""
        subscription = self._by_group.get(message["group"])
        if subscription is None or message["origin"] == hub.origin:
            return  # unsubscribed meanwhile, or this process's own message (already delivered)
        key = (message["group"], message["origin"])
        last = self._last_seq.get(key)
        if last is not None and message["seq"] > last + 1:
            self.outbox.note_dropped(subscription.topic, message["seq"] - last - 1)
        self._last_seq[key] = max(message["seq"], last or 0)
        self._put(subscription, message)

    def _put(self, subscription: Subscription, message: Mapping[str, Any]) -> None:
        if message["error"] is None:
            data = subscription.plan.select(message["data"])
            if data is None:
                return  # nothing this subscriber watches
            passive = envelope(message["action"], data=data)
        else:
            passive = envelope(
                message["action"], error=message["error"], summary=message.get("summary"), summaries=self._summaries
            )
        self.outbox.put(subscription.topic, passive, merge=subscription.plan.merge)

    async def close(self) -> None:
        for name in list(self._by_topic):
            try:
                await self._leave(name)
            except Exception:
                logger.exception("Could not leave the %s subscription cleanly", name)
        await self.outbox.close()


class Subscriber(Protocol):
    def push_subscriptions(self) -> Subscriptions: ...


def _topic_field(topics: TopicTable) -> serializers.ChoiceField:
    return serializers.ChoiceField(
        choices=list(topics),
        help_text=f"One of {', '.join(topics)}",
        error_messages={"invalid_choice": f'Unknown topic "{{input}}"; topics are {", ".join(topics)}'},
    )


def subscribe_params(topics: TopicTable) -> type[serializers.Serializer[Any]]:
    """``{"topic": NAME, ...}``: the topic, then the params that topic takes, each validated."""

    class SubscribeParams(serializers.Serializer[Any]):
        topic = _topic_field(topics)

        def to_internal_value(self, data: Any) -> dict[str, Any]:
            attrs = super().to_internal_value(data)
            topic = topics[attrs["topic"]]
            options = topic.params(data=data)
            options.is_valid(raise_exception=True)
            return {"topic": topic, "options": options.validated_data}

    return SubscribeParams


def unsubscribe_params(topics: TopicTable) -> type[serializers.Serializer[Any]]:
    class UnsubscribeParams(serializers.Serializer[Any]):
        topic = _topic_field(topics)

    return UnsubscribeParams


async def subscribe(connection: Subscriber, params: dict[str, Any]) -> dict[str, Any]:
    return await connection.push_subscriptions().subscribe(params["topic"], params["options"])


async def unsubscribe(connection: Subscriber, params: dict[str, Any]) -> dict[str, Any]:
    return await connection.push_subscriptions().unsubscribe(params["topic"])


@dataclass(frozen=True)
class SubscribeAction(ConnectionAction):
    """``SUBSCRIBE``, whose params are ``topic`` and then the params of that topic."""

    topics: TopicTable | None = field(default=None, compare=False)

    def param_docs(self) -> list[ParamDoc]:
        docs = super().param_docs()
        by_params: dict[type[Any], list[str]] = {}
        for topic in (self.topics or {}).values():
            by_params.setdefault(topic.params, []).append(topic.name)
        for params, names in by_params.items():
            for doc in _param_docs(params(), ""):
                meaning = f"({', '.join(names)}) {doc.description}"
                docs.append(ParamDoc(doc.name, doc.type, doc.required, meaning))
        return docs


def subscription_actions(topics: TopicTable) -> list[Action]:
    """``SUBSCRIBE`` and ``UNSUBSCRIBE`` for these topics."""
    return [
        SubscribeAction(
            topics=topics,
            name=SUBSCRIBE,
            handler=subscribe,
            params=subscribe_params(topics),
            description=(
                "Starts passive messages for a topic (replacing this connection's earlier subscription to it); "
                "the reply carries the current value. A reading that fails at that moment is subscribed all the same: "
                "current is null, currentError (and currentSummary with ?summaries=1) says why, and the reading is "
                "pushed when it works again."
            ),
            model="Subscription",
        ),
        ConnectionAction(
            name=UNSUBSCRIBE,
            handler=unsubscribe,
            params=unsubscribe_params(topics),
            description="Stops a topic's passive messages.",
            model="Unsubscription",
        ),
    ]
