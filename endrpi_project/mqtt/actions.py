"""The fleet over WebSocket: ``READ_FLEET`` and the ``FLEET`` push topic (live updates of the list)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from endrpi_project.api.actions import Action
from endrpi_project.api.representation import representer
from endrpi_project.mqtt import services
from endrpi_project.mqtt.fleet import FLEET_CHANGED, FLEET_GROUP
from endrpi_project.mqtt.serializers import FleetMemberSerializer
from endrpi_project.push.topics import EventTopic, TopicParams


def read_fleet(params: None) -> list[dict[str, Any]]:
    represent = representer(FleetMemberSerializer)
    return [represent(member) for member in services.fleet_read()]


def _current(options: Mapping[str, Any]) -> dict[str, Any]:
    return {member["node"]: member for member in read_fleet(None)}


class FleetParams(TopicParams):
    """No params."""


ACTIONS = [
    Action(
        name="READ_FLEET",
        handler=read_fleet,
        description="Lists every Endrpi publishing to the MQTT broker, as GET /fleet does.",
        model="FleetMember list",
        # Memory only, but inline is kept for kernel file readings (tests/test_inline_actions.py).
        inline=False,
    ),
]

TOPICS = [
    EventTopic(
        name="FLEET",
        event=FLEET_CHANGED,
        group=FLEET_GROUP,
        params=FleetParams,
        read=_current,
        select=lambda options, changed: changed,
        describe=lambda options: {},
        description=(
            "Changes in the fleet of Endrpi servers on the MQTT broker; the data maps node ids to their "
            "FleetMember (null when one left). The SUBSCRIBE reply's current value maps every node."
        ),
        model="object mapping node ids to FleetMember",
    ),
]
