"""The floor: a minimal Channels consumer that answers every frame with a constant, under daphne.

The benchmark runs the same WebSocket load against this and against Endrpi, so the cost it quotes
is ours over what daphne and Channels cost to carry one message each way. Serve it with
``daphne bench.floor_asgi:application``.

At ``/`` is the plain consumer (the floor). At ``/lean`` is the same consumer without Channels'
per-frame database clean-up hop, which Endrpi's consumer does not take for client frames either (it
answers them in its own request loop, ``ActionConsumer.answer_requests``): the stricter floor, so our
own cost is shown against both. (A benchmark's floor, not product code: it may override ``dispatch``.)
"""

from __future__ import annotations

import os
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "endrpi_project.settings")
django.setup()

from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

CONSTANT = '{"action":"FLOOR","success":true,"data":0,"error":null}'


class FloorConsumer(AsyncWebsocketConsumer):
    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        await self.send(text_data=CONSTANT)


class LeanFloorConsumer(FloorConsumer):
    async def dispatch(self, message: Any) -> None:
        if message["type"] == "websocket.receive":
            await self.websocket_receive(message)
        else:
            await super().dispatch(message)


application = ProtocolTypeRouter(
    {
        "websocket": URLRouter(
            [path("lean", LeanFloorConsumer.as_asgi()), path("", FloorConsumer.as_asgi())],
        )
    }
)
