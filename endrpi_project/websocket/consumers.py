"""The WebSocket consumer base: one envelope, one error path, dispatch through an action table.

Every reply is ``{"action", "success", "data", "error"}`` (plus the request's ``"id"`` when it
sent one). No frame a client sends can close the connection or produce a traceback: undecodable
text, the wrong shape, an unknown action and a failing handler all get an error envelope.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.db import DatabaseError

from endrpi_project.access.limits import TokenBucket, message_size_check, write_bucket, write_limit_check
from endrpi_project.access.models import AccessToken
from endrpi_project.access.origins import websocket_subprotocol
from endrpi_project.access.tokens import (
    CLOSE_TOKEN_REQUIRED,
    CLOSE_UNAVAILABLE,
    access_check,
    access_required,
    access_token_authenticate,
    websocket_secret,
)
from endrpi_project.api.actions import Action, ActionTable
from endrpi_project.api.envelope import NO_ID, envelope, json_decode, json_encode
from endrpi_project.api.errors import Conflict, EndrpiError, Unauthorized, error_message
from endrpi_project.api.tally import tally
from endrpi_project.push.hub import MESSAGE_TYPE
from endrpi_project.push.subscriptions import Subscriptions
from endrpi_project.websocket.daphne import transport_backlog

logger = logging.getLogger(__name__)


class ActionConsumer(AsyncJsonWebsocketConsumer):
    """Answers ``{"action": NAME, "params": {...}}`` frames through :attr:`actions`."""

    actions: ClassVar[ActionTable]
    token: AccessToken | None = None
    token_secret: str | None = None
    writes: TokenBucket

    @classmethod
    async def decode_json(cls, text_data: str) -> Any:
        """Standard JSON only: ``NaN``, ``Infinity`` and numbers beyond a float are refused like invalid text."""
        return json_decode(text_data)

    @classmethod
    async def encode_json(cls, content: Any) -> str:
        return json_encode(content)

    async def connect(self) -> None:
        """Accept, then check a token if the client sent one; in mode ``all`` close with 4401 without a valid one.

        The handshake is answered before the token is looked up, so a database that is slow to answer
        (locked by another process) cannot run out daphne's handshake timeout: the client gets an
        error envelope naming the cause instead, and in mode ``all`` a close with 4503.
        """
        self.writes = write_bucket()
        await self.accept(websocket_subprotocol(self.scope.get("subprotocols") or []))
        if settings.ENDRPI_AUTH == "off":
            return
        self.token_secret = websocket_secret(
            query_string=self.scope.get("query_string", b""), subprotocols=self.scope.get("subprotocols") or []
        )
        try:
            self.token = await self.authenticate()
            access_check(token=self.token, write=False)
        except Unauthorized as error:
            if access_required(write=False):
                await self.send_json(envelope(None, error=error.message))
                await self.close(code=CLOSE_TOKEN_REQUIRED, reason=error.message)
        except DatabaseError as error:
            _, message = error_message(error)
            await self.send_json(envelope(None, error=f"The access token could not be checked: {message}"))
            if access_required(write=False):
                await self.close(code=CLOSE_UNAVAILABLE, reason=message)

    async def authenticate(self) -> AccessToken | None:
        if self.token_secret is None:
            return None
        # Off the single thread-sensitive executor, like the actions: a token lookup never queues behind
        # another connection's work.
        lookup = database_sync_to_async(access_token_authenticate, thread_sensitive=False)
        token: AccessToken = await lookup(secret=self.token_secret)
        return token

    async def authorize(self, action: Action) -> None:
        """Apply the access rule and the write rate limit to ``action``, raising what a client should see."""
        if access_required(write=action.write):
            if action.write:
                self.token = await self.authenticate()  # a token revoked since connecting stops writing at once
            access_check(token=self.token, write=action.write)
        if action.write:
            write_limit_check(self.writes)

    async def dispatch(self, message: Any) -> None:
        """Channels' dispatch, minus its database clean-up hop before every frame and passive message.

        ``AsyncConsumer.dispatch`` runs ``close_old_connections`` in Django's one sync thread before
        each message: a thread hand-off per frame (about 100 us here, and a queue shared with every
        REST request). Inline actions and passive messages never touch the database, and actions
        that run in a worker thread get the same clean-up inside that thread
        (``database_sync_to_async``), so a client frame goes straight to :meth:`receive` and a
        passive message to :meth:`push_message`. Connect and disconnect keep Channels' behaviour.
        ``tests/test_library_internals.py`` fails if Channels' own dispatch starts doing more.
        """
        kind = message["type"]
        if kind == "websocket.receive":
            await self.websocket_receive(message)
        elif kind == MESSAGE_TYPE:
            await self.push_message(message)
        else:
            await super().dispatch(message)

    async def push_message(self, message: dict[str, Any]) -> None:
        """Channel-layer handler for :data:`endrpi_project.push.hub.MESSAGE_TYPE` (see SubscriberConsumer)."""

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        try:
            message_size_check(text_data if text_data is not None else bytes_data or b"")
        except EndrpiError as error:
            await self.send_json(envelope(None, error=error.message))
            return
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
        request_id = content.get("id", NO_ID)
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
            await self.authorize(action)
            data = await action.perform(self, content.get("params"))
        except Exception as exc:  # every failure becomes an envelope; error_message logs the unexpected
            _, message = error_message(exc)
            await self.reply(name, error=message, request_id=request_id)
            return
        await self.reply(name, data=data, request_id=request_id)

    async def reply(self, action: str | None, *, data: Any = None, error: str | None = None, request_id: Any) -> None:
        tally.request(edge="websocket", action=action, ok=error is None)
        try:
            text = await self.encode_json(envelope(action, data=data, error=error, request_id=request_id))
        except (ValueError, TypeError, RecursionError):  # an ``id`` that cannot be echoed back
            text = await self.encode_json(envelope(action, error="Received message with an 'id' that cannot be echoed"))
        await self.send(text_data=text)


class SubscriberConsumer(ActionConsumer):
    """An :class:`ActionConsumer` whose client can subscribe to topics and receive passive messages."""

    subscriptions: Subscriptions | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        tally.connection(+1)
        try:
            await super().__call__(scope, receive, send)
        finally:
            tally.connection(-1)
            # Disconnect or cancellation alike: no group, poller or task outlives the connection.
            if self.subscriptions is not None:
                subscriptions, self.subscriptions = self.subscriptions, None
                await subscriptions.close()

    def push_subscriptions(self) -> Subscriptions:
        if self.subscriptions is None:
            if self.channel_layer is None:
                raise Conflict("Subscriptions need a channel layer; CHANNEL_LAYERS is not configured")
            self.subscriptions = Subscriptions(
                layer=self.channel_layer,
                channel_name=self.channel_name,
                send=self.send_json,
                backlogged=transport_backlog(self.base_send),
                limit=settings.ENDRPI_PUSH_QUEUE,
            )
        return self.subscriptions

    async def push_message(self, message: dict[str, Any]) -> None:
        """Channel-layer handler for :data:`endrpi_project.push.hub.MESSAGE_TYPE`."""
        if self.subscriptions is not None:
            self.subscriptions.deliver(message)
