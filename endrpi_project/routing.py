"""The WebSocket endpoint at ``/``, answering the actions every app contributes."""

from __future__ import annotations

from django.urls import path

from endrpi_project.actions import ActionTable
from endrpi_project.push.subscriptions import SubscriberConsumer, subscription_actions
from endrpi_project.push.topics import TopicTable
from pins.actions import ACTIONS as PIN_ACTIONS
from pins.actions import TOPICS as PIN_TOPICS
from system.actions import ACTIONS as SYSTEM_ACTIONS
from system.actions import TOPICS as SYSTEM_TOPICS

TOPIC_TABLE = TopicTable(PIN_TOPICS, SYSTEM_TOPICS)
ACTION_TABLE = ActionTable(SYSTEM_ACTIONS, PIN_ACTIONS, subscription_actions(TOPIC_TABLE))


class EndrpiConsumer(SubscriberConsumer):
    actions = ACTION_TABLE


websocket_urlpatterns = [path("", EndrpiConsumer.as_asgi())]
