"""The WebSocket endpoint at ``/``, answering the actions every installed app contributes."""

from __future__ import annotations

from django.urls import path

from endrpi_project.websocket.consumers import SubscriberConsumer
from endrpi_project.websocket.registry import action_table


class EndrpiConsumer(SubscriberConsumer):
    actions = action_table()


websocket_urlpatterns = [path("", EndrpiConsumer.as_asgi())]
