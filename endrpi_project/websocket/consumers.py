"""The WebSocket consumer base: one envelope, one error path, dispatch through an action table.

Every reply is ``{"action", "success", "data", "error"}`` (plus the request's ``"id"`` when it
sent one). No frame a client sends can close the connection or produce a traceback: undecodable
text, the wrong shape, an unknown action and a failing handler all get an error envelope.

Bounded work per connection, whatever the client does. Requests are answered one at a time, in
order; at most ``ENDRPI_WS_MAX_PENDING`` (64) received requests (and at most :data:`PENDING_BYTES`
of them) wait for their answer. Past that the server **stops reading the client's socket** until
the backlog is half gone, so TCP pushes back on the client instead of the server queueing without
bound. Replies and pushed messages wait while the socket's write buffer is full (a client that does
not read its replies soon stops being read from too). Under a server without the connection guard
(the test client, another ASGI server) reading cannot be paused, so requests beyond the limit are
dropped instead, and the client gets one error envelope saying how many. A client that leaves has
its unanswered requests dropped at once: no work outlives the connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.db import DatabaseError

from endrpi_project.access.connections import Flow, flow_for
from endrpi_project.access.limits import (
    TokenBucket,
    message_size_check,
    server_write_check,
    write_bucket,
    write_limit_check,
)
from endrpi_project.access.models import AccessToken
from endrpi_project.access.origins import websocket_subprotocol
from endrpi_project.access.revocation import token_watch
from endrpi_project.access.tokens import (
    CLOSE_TOKEN_REQUIRED,
    CLOSE_UNAVAILABLE,
    INVALID_TOKEN,
    access_check,
    access_required,
    access_token_authenticate,
    websocket_secret,
)
from endrpi_project.api.actions import Action, ActionTable
from endrpi_project.api.envelope import (
    NO_ID,
    LoneSurrogate,
    envelope,
    json_decode,
    json_encode,
    refused_request_id,
    summaries_requested,
)
from endrpi_project.api.errors import EndrpiError, Unauthorized, error_message, error_summary
from endrpi_project.api.tally import tally
from endrpi_project.push.hub import remote_layer
from endrpi_project.push.subscriptions import Subscriptions

logger = logging.getLogger(__name__)

# Bytes of received, unanswered requests past which a connection is not read from (whatever their count).
PENDING_BYTES = 1024 * 1024
# The message the inbox hands the consumer when it dropped requests (only without a guarded server).
DROPPED = "endrpi.dropped"

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


def _size(message: dict[str, Any]) -> int:
    return len(message.get("text") or message.get("bytes") or b"")


class Inbox:
    """One connection's received messages: requests bounded as the module says, connect/disconnect apart.

    A task takes every message from the server as it arrives (so the server's own queue stays short).
    Channels' consumer takes connect and disconnect from :meth:`control`; the consumer's own request
    loop takes client frames from :meth:`request`, one at a time.
    """

    def __init__(self, receive: Receive, *, flow: Flow | None, limit: int, max_bytes: int = PENDING_BYTES) -> None:
        self.flow, self.limit, self.max_bytes = flow, limit, max_bytes
        self.dropped = 0
        self.ended = False
        self._receive = receive
        self._requests: deque[dict[str, Any]] = deque()
        self._bytes = 0
        self._control: deque[dict[str, Any]] = deque()
        self._paused = False
        self._control_ready = asyncio.Event()
        self._requests_ready = asyncio.Event()
        self.task = asyncio.get_running_loop().create_task(self._take_all(), name="endrpi-inbox")

    def __len__(self) -> int:
        return len(self._requests)

    async def _take_all(self) -> None:
        while True:
            message = await self._receive()
            if message["type"] == "websocket.receive":
                self._request(message)
                continue
            if message["type"] == "websocket.disconnect":
                self.end()
            self._control.append(message)
            self._control_ready.set()
            if message["type"] == "websocket.disconnect":
                return

    def _request(self, message: dict[str, Any]) -> None:
        if self.ended:
            return  # nothing more is answered on this connection
        if self.flow is None and (len(self._requests) >= self.limit or self._bytes >= self.max_bytes):
            self.dropped += 1
            self._requests_ready.set()
            return
        self._requests.append(message)
        self._bytes += _size(message)
        self._requests_ready.set()
        full = len(self._requests) >= self.limit or self._bytes >= self.max_bytes
        if full and self.flow is not None and not self._paused:
            self._paused = True
            self.flow.pause_reading()

    async def control(self) -> dict[str, Any]:
        """The next connect or disconnect message (Channels' consumer's ``receive``)."""
        while not self._control:
            self._control_ready.clear()
            await self._control_ready.wait()
        return self._control.popleft()

    async def request(self) -> dict[str, Any] | None:
        """The next client frame (or a :data:`DROPPED` notice); ``None`` once nobody is left to answer."""
        while True:
            if self.ended:
                return None
            if self.dropped:
                dropped, self.dropped = self.dropped, 0
                return {"type": DROPPED, "count": dropped}
            if self._requests:
                message = self._requests.popleft()
                self._bytes -= _size(message)
                if self._paused and len(self._requests) <= self.limit // 2 and self._bytes <= self.max_bytes // 2:
                    self._paused = False
                    assert self.flow is not None
                    self.flow.resume_reading()
                return message
            self._requests_ready.clear()
            await self._requests_ready.wait()

    def end(self) -> None:
        """Drop what is unanswered and answer nothing more (the client left, or may no longer be answered)."""
        self.ended = True
        self._requests.clear()
        self._bytes = 0
        self.dropped = 0
        self._requests_ready.set()

    async def close(self) -> None:
        self.end()
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


class ActionConsumer(AsyncJsonWebsocketConsumer):
    """Answers ``{"action": NAME, "params": {...}}`` frames through :attr:`actions`."""

    actions: ClassVar[ActionTable]
    token: AccessToken | None = None
    token_secret: str | None = None
    writes: TokenBucket
    flow: Flow | None = None
    inbox: Inbox | None = None
    turn: asyncio.Lock
    closing = False
    summaries = False  # "summary" beside errors: opted in at connect with ?summaries=1

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        # Held while a request is answered: a passive message waits for it, so a writer that
        # subscribed hears of its own change after the reply to its update.
        self.turn = asyncio.Lock()
        self.flow = flow_for(scope)
        inbox = self.inbox = Inbox(receive, flow=self.flow, limit=settings.ENDRPI_WS_MAX_PENDING)
        self.answering: asyncio.Task[None] | None = None
        self.revoking: asyncio.Task[None] | None = None
        self.unwatch_token: Callable[[], None] | None = None
        try:
            await super().__call__(scope, inbox.control, self._writable_send(send))
        finally:
            inbox.end()
            if self.unwatch_token is not None:
                self.unwatch_token()
            if self.answering is not None:
                await self.answering  # the request being answered ends whole (cancelled only with us)
            if self.revoking is not None and not self.revoking.done():
                self.revoking.cancel()  # the client left before it was told
                with contextlib.suppress(asyncio.CancelledError):
                    await self.revoking
            await inbox.close()

    def _writable_send(self, send: Send) -> Send:
        """``send``, waiting first while the socket's write buffer is full (so it never grows past it)."""
        flow = self.flow
        if flow is None:
            return send

        async def writable_send(message: dict[str, Any]) -> None:
            if flow.write_paused and message["type"] == "websocket.send":
                await flow.writable()
            await send(message)

        return writable_send

    @classmethod
    async def decode_json(cls, text_data: str) -> Any:
        """Standard JSON only: ``NaN``, ``Infinity`` and numbers beyond a float are refused like invalid text."""
        return json_decode(text_data)

    @classmethod
    async def encode_json(cls, content: Any) -> str:
        return json_encode(content)

    async def connect(self) -> None:
        """Accept, then check a token if one was sent: 4401 for an invalid one (in mode ``all``, for none too).

        The handshake is answered before the token is looked up, so a database that is slow to answer
        (locked by another process) cannot run out daphne's handshake timeout: the client gets an
        error envelope naming the cause instead, and in mode ``all`` a close with 4503.
        """
        self.writes = write_bucket()
        self.summaries = summaries_requested(self.scope.get("query_string", b""))
        await self.accept(websocket_subprotocol(self.scope.get("subprotocols") or []))
        if settings.ENDRPI_AUTH == "off":
            return
        self.token_secret = websocket_secret(
            query_string=self.scope.get("query_string", b""), subprotocols=self.scope.get("subprotocols") or []
        )
        try:
            self.token = await self.authenticate()
            access_check(token=self.token, write=False)
            if self.token is not None:
                self.unwatch_token = token_watch.watch(self.token.pk, self.token_revoked)
        except Unauthorized as error:
            # As over REST: no token is fine where reads need none, but a token that was sent and does
            # not match (unknown, revoked) is refused in every mode that reads tokens.
            if access_required(write=False) or self.token_secret is not None:
                await self.send_json(envelope(None, error=error.message))
                await self.close(code=CLOSE_TOKEN_REQUIRED, reason=error.message)
        except DatabaseError as error:
            _, message = error_message(error)
            await self.send_json(envelope(None, error=f"The access token could not be checked: {message}"))
            if access_required(write=False):
                await self.close(code=CLOSE_UNAVAILABLE, reason=message)

    def token_revoked(self) -> None:
        """The token this connection was accepted with was revoked (:mod:`endrpi_project.access.revocation`):
        nothing more is answered or pushed; the client is told and the connection closed with 4401."""
        self.unwatch_token = None
        if self.inbox is not None:
            self.inbox.end()
        self.revoking = asyncio.get_running_loop().create_task(self.refuse_revoked(), name="endrpi-token-revoked")

    async def refuse_revoked(self) -> None:
        await self.stop_pushes()
        async with self.turn:  # after the answer being sent, if any
            if not self.closing:
                await self.send_json(envelope(None, error=INVALID_TOKEN))
                await self.close(code=CLOSE_TOKEN_REQUIRED, reason=INVALID_TOKEN)

    async def stop_pushes(self) -> None:
        """Stop every passive message to this client (a consumer with subscriptions closes them)."""

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
            server_write_check()

    async def websocket_connect(self, message: dict[str, Any]) -> None:
        """Channels' connect handler; once the connection is accepted and stays open, answer its requests."""
        await super().websocket_connect(message)
        if not self.closing:
            self.answering = asyncio.get_running_loop().create_task(self.answer_requests(), name="endrpi-requests")
        elif self.inbox is not None:
            self.inbox.end()  # refused: what the client sends before it sees the close is not kept

    async def close(self, code: int | bool | None = None, reason: str | None = None) -> None:
        self.closing = True
        await super().close(code, reason)

    async def answer_requests(self) -> None:
        """Answer the client's frames one at a time, in order, until the connection ends.

        Frames are taken here, not through Channels' ``dispatch``: that one runs Django's database
        clean-up (``close_old_connections``) in Django's one sync thread before each message, a thread
        hand-off per frame (about 100 us, and a queue shared with every REST request) for frames that
        mostly never touch the database. The actions that do run in a worker thread through
        ``database_sync_to_async``, which does the same clean-up in that thread. Connect, disconnect
        and channel-layer messages keep Channels' own dispatch.
        """
        assert self.inbox is not None
        try:
            while (message := await self.inbox.request()) is not None:
                async with self.turn:
                    if message["type"] == DROPPED:
                        await self.dropped_notice(message["count"])
                    else:
                        await self.websocket_receive(message)
        except Exception:  # a failure to send (the connection broke): no frame is answered any more
            logger.exception("Answering WebSocket requests failed; closing the connection")
            self.inbox.end()
            with contextlib.suppress(Exception):
                await self.close(code=1011)

    async def dropped_notice(self, count: int) -> None:
        limit = settings.ENDRPI_WS_MAX_PENDING
        await self.send_json(
            envelope(
                None,
                error=f"{count} request(s) dropped: at most {limit} may wait for an answer "
                "(ENDRPI_WS_MAX_PENDING); read the replies before sending more",
            )
        )

    async def push_message(self, message: dict[str, Any]) -> None:
        """Channel-layer handler for :data:`endrpi_project.push.hub.MESSAGE_TYPE` (see SubscriberConsumer)."""

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        """Decode and answer one frame. A frame refused whole still gets its ``id`` back when it has one
        (:func:`~endrpi_project.api.envelope.refused_request_id`), so a client matching replies by id
        is never left waiting."""
        try:
            message_size_check(text_data if text_data is not None else bytes_data or b"")
        except EndrpiError as error:
            await self.refuse(text_data, bytes_data, error=error.message, whole=False)
            return
        if text_data is None:
            await self.refuse(None, bytes_data, error="Received invalid message: send JSON as a text frame")
            return
        try:
            content = await self.decode_json(text_data)
        except LoneSurrogate as error:
            await self.refuse(text_data, None, error=f"Received invalid message: {error}")
            return
        except (ValueError, RecursionError):
            await self.refuse(text_data, None, error="Received invalid message: not valid JSON")
            return
        await self.receive_json(content)

    async def refuse(self, text_data: str | None, bytes_data: bytes | None, *, error: str, whole: bool = True) -> None:
        """Answer a frame refused whole with ``error``, echoing the ``id`` it holds, if any."""
        if text_data is None and bytes_data is not None:
            text_data = bytes_data.decode("utf-8", "replace")
        request_id = refused_request_id(text_data, whole=whole) if text_data is not None else NO_ID
        await self.reply(None, error=error, request_id=request_id)

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
            await self.reply(name, error=message, summary=error_summary(exc), request_id=request_id)
            return
        await self.reply(name, data=data, request_id=request_id)

    async def reply(
        self,
        action: str | None,
        *,
        data: Any = None,
        error: str | None = None,
        summary: str | None = None,
        request_id: Any,
    ) -> None:
        tally.request(edge="websocket", action=action, ok=error is None)
        try:
            text = await self.encode_json(
                envelope(
                    action, data=data, error=error, summary=summary, summaries=self.summaries, request_id=request_id
                )
            )
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
            await self.stop_pushes()

    def push_subscriptions(self) -> Subscriptions:
        if self.subscriptions is None:
            layer = remote_layer()
            self.subscriptions = Subscriptions(
                send=self.send_passive,
                limit=settings.ENDRPI_PUSH_QUEUE,
                layer=layer,
                channel_name=self.channel_name if layer is not None else "",
                summaries=self.summaries,
            )
        return self.subscriptions

    async def send_passive(self, message: dict[str, Any]) -> None:
        """Send a pushed message between replies, never in the middle of answering a request."""
        async with self.turn:
            if not self.closing:
                await self.send_json(message)

    async def stop_pushes(self) -> None:
        if self.subscriptions is not None:
            subscriptions, self.subscriptions = self.subscriptions, None
            await subscriptions.close()

    async def push_message(self, message: dict[str, Any]) -> None:
        """Channel-layer handler for :data:`endrpi_project.push.hub.MESSAGE_TYPE`: messages from other processes."""
        if self.subscriptions is not None:
            self.subscriptions.deliver_remote(message)
