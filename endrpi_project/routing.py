"""The WebSocket endpoint at ``/``, answering the actions every app contributes."""

from __future__ import annotations

from django.urls import path

from endrpi_project.actions import ActionTable
from endrpi_project.consumers import ActionConsumer
from pins.actions import ACTIONS as PIN_ACTIONS
from system.actions import ACTIONS as SYSTEM_ACTIONS

ACTION_TABLE = ActionTable(SYSTEM_ACTIONS, PIN_ACTIONS)


class EndrpiConsumer(ActionConsumer):
    actions = ACTION_TABLE


websocket_urlpatterns = [path("", EndrpiConsumer.as_asgi())]
