"""The WebSocket consumer base: one envelope, one error path, dispatch through an action table.

Every reply is ``{"action", "success", "data", "error"}`` (plus the request's ``"id"`` when it
sent one). No frame a client sends can close the connection or produce a traceback: undecodable
text, the wrong shape, an unknown action and a failing handler all get an error envelope.
"""

from __future__ import annotations

import json
import logging
from typing import Any, ClassVar

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from endrpi_project.actions import ActionTable
from endrpi_project.errors import error_message

logger = logging.getLogger(__name__)

_NO_ID = object()


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def envelope(
    action: str | None, *, data: Any = None, error: str | None = None, request_id: Any = _NO_ID
) -> dict[str, Any]:
    reply: dict[str, Any] = {"action": action, "success": error is None, "data": data, "error": error}
    if request_id is not _NO_ID:
        reply["id"] = request_id
    return reply


class ActionConsumer(AsyncJsonWebsocketConsumer):
    """Answers ``{"action": NAME, "params": {...}}`` frames through :attr:`actions`."""

    actions: ClassVar[ActionTable]

    @classmethod
    async def decode_json(cls, text_data: str) -> Any:
        """Standard JSON only: ``NaN`` and ``Infinity`` are refused like any other invalid text."""
        return json.loads(text_data, parse_constant=_refuse_constant)

    @classmethod
    async def encode_json(cls, content: Any) -> str:
        return json.dumps(content, separators=(",", ":"))

    async def dispatch(self, message: Any) -> None:
        """Channels' dispatch, minus its database clean-up hop before every frame.

        ``AsyncConsumer.dispatch`` runs ``close_old_connections`` in Django's one sync thread before
        each message: a thread hand-off per frame (about 100 us here, and a queue shared with every
        REST request). Inline actions never touch the database, and actions that run in a worker
        thread get the same clean-up inside that thread (``database_sync_to_async``), so a frame
        goes straight to :meth:`receive`. Connect and disconnect keep Channels' behaviour.
        """
        if message["type"] == "websocket.receive":
            await self.websocket_receive(message)
        else:
            await super().dispatch(message)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        if text_data is None:
            await self.send_json(envelope(None, error="Received invalid message: send JSON as a text frame"))
            return
        try:
            content = await self.decode_json(text_data)
        except (ValueError, RecursionError):
            await self.send_json(envelope(None, error="Received invalid message: not valid JSON"))
            return
        await self.receive_json(content)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict):
            await self.send_json(envelope(None, error="Received invalid message: expected a JSON object"))
            return
        request_id = content.get("id", _NO_ID)
        name = content.get("action")
        if name is None:
            await self.reply(None, error="Received message with missing 'action' field", request_id=request_id)
            return
        if not isinstance(name, str):
            await self.reply(None, error="Received message with invalid 'action' field", request_id=request_id)
            return
        action = self.actions.get(name)
        if action is None:
            await self.reply(
                None, error=f"Received message with unknown 'action' value: {name[:64]}", request_id=request_id
            )
            return
        try:
            data = await action.perform(self, content.get("params"))
        except Exception as exc:  # every failure becomes an envelope; error_message logs the unexpected
            _, message = error_message(exc)
            await self.reply(name, error=message, request_id=request_id)
            return
        await self.reply(name, data=data, request_id=request_id)

    async def reply(self, action: str | None, *, data: Any = None, error: str | None = None, request_id: Any) -> None:
        await self.send_json(envelope(action, data=data, error=error, request_id=request_id))
