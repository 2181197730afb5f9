"""The history's WebSocket actions and push topics: the same services and params as its REST views."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from endrpi_project.api.actions import Action
from endrpi_project.history import sampler, serializers, services
from endrpi_project.push.topics import EventTopic, TopicParams


def _read_history(params: dict[str, Any]) -> dict[str, Any]:
    return services.history_read(**params)


def _read_events(params: dict[str, Any]) -> dict[str, Any]:
    return services.history_events_read(**params)


class _NoParams(TopicParams):
    pass


def _everything(options: Mapping[str, Any], data: Any) -> Any:
    return data


def _nothing(options: Mapping[str, Any]) -> dict[str, Any]:
    return {}


ACTIONS = [
    Action(
        name="READ_HISTORY",
        handler=_read_history,
        params=serializers.HistoryParams,
        description="Readings over time, as GET /system/history answers: min, mean and max per bucket.",
        model="History",
    ),
    Action(
        name="READ_EVENTS",
        handler=_read_events,
        params=serializers.EventsParams,
        description="Throttle and under-voltage events, as GET /system/events answers.",
        model="Events",
    ),
]

TOPICS = [
    EventTopic(
        name="HISTORY",
        event=sampler.HISTORY_UPDATED,
        group=sampler.HISTORY_GROUP,
        params=_NoParams,
        read=lambda options: services.history_latest_read(),
        select=_everything,
        describe=_nothing,
        description=(
            "Each new history sample, every ENDRPI_HISTORY_INTERVAL seconds; the current value is the latest "
            "sample (null before the first)."
        ),
        model="HistorySample",
    ),
    EventTopic(
        name="EVENTS",
        event=sampler.EVENTS_CHANGED,
        group=sampler.EVENTS_GROUP,
        params=_NoParams,
        read=lambda options: services.history_ongoing_read(),
        select=_everything,
        describe=_nothing,
        description=(
            "Throttle and under-voltage events as they start, end or are found (a list of events); the current "
            "value is the list of events going on now."
        ),
        model="Events",
    ),
]
