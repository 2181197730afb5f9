"""Open WebSocket connections stop being answered within a second of their token being revoked.

REST checks a token on every request; a WebSocket connection checks it at its handshake (and again
before each write). Checking it again on every frame would put a database query on every message.
Instead, one watcher per process (:data:`token_watch`) keeps the tokens held by open connections and:

- every :data:`TOKEN_CHECK_INTERVAL` seconds while there are any, asks the database in one query which
  of them are still active, so a revocation made anywhere (the admin, ``manage.py endrpi_token revoke``
  in another process, a deleted row) is seen within that time plus one query;
- is woken at once when a token is saved or deleted in this process (``AccessToken``'s ``post_save`` and
  ``post_delete`` signals, connected by the app), so a revocation here is seen at once.

Each holder of a token found revoked (or deleted) is called back once, on the event loop, and stops
watching; the consumer then answers nothing more, stops its pushes and closes with 4401. A check the
database cannot answer (locked, unreadable) revokes nothing: the next one tries again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from channels.db import database_sync_to_async
from django.db import DatabaseError

from endrpi_project.access.tokens import access_tokens_active

logger = logging.getLogger(__name__)

# Seconds between checks of the held tokens: with one query's time, a revocation made in another
# process is seen within a second.
TOKEN_CHECK_INTERVAL = 0.5

Revoked = Callable[[], None]
Sleep = Callable[[float], Awaitable[Any]]


class TokenWatch:
    """The tokens held by this process's open connections, checked as the module says.

    ``sleep`` waits between checks (tests pass one they release by hand, so no test waits on a clock).
    """

    def __init__(self, *, interval: float = TOKEN_CHECK_INTERVAL, sleep: Sleep = asyncio.sleep) -> None:
        self.interval = interval
        self.sleep = sleep
        self._holders: dict[int, list[Revoked]] = {}
        self._task: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._failure_logged: float | None = None

    def watch(self, token_id: int, revoked: Revoked) -> Callable[[], None]:
        """Call ``revoked()`` (on this event loop) once token ``token_id`` is revoked; returns the way to stop."""
        self._holders.setdefault(token_id, []).append(revoked)
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done() or self._loop is not loop:
            self._loop, self._wake = loop, asyncio.Event()
            self._task = loop.create_task(self._run(), name="endrpi-token-watch")

        def unwatch() -> None:
            holders = self._holders.get(token_id)
            if holders is not None and revoked in holders:
                holders.remove(revoked)
                if not holders:
                    del self._holders[token_id]
            if not self._holders and self._wake is not None:
                self._wake.set()  # nothing left to watch: the watcher ends now, not after its pause

        return unwatch

    def held(self) -> set[int]:
        return set(self._holders)

    def changed(self, **kwargs: Any) -> None:
        """A token was saved or deleted (a signal receiver, from any thread): check at once."""
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None and not loop.is_closed():
            loop.call_soon_threadsafe(wake.set)

    async def _run(self) -> None:
        assert self._wake is not None
        wake = self._wake
        while self._holders:
            waiting = asyncio.ensure_future(wake.wait())
            sleeping = asyncio.ensure_future(self.sleep(self.interval))
            try:
                await asyncio.wait({waiting, sleeping}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                waiting.cancel()
                sleeping.cancel()
            wake.clear()
            try:
                await self.check()
            except Exception:  # a bug must not stop the watching; the next check tries again
                logger.exception("Checking open connections' tokens failed")

    async def check(self) -> None:
        """Ask the database which held tokens are still active; call back the holders of the others."""
        held = self.held()
        if not held:
            return
        try:
            active = await database_sync_to_async(access_tokens_active, thread_sensitive=False)(ids=held)
        except DatabaseError as error:
            now = time.monotonic()
            if self._failure_logged is None or now - self._failure_logged > 60:
                self._failure_logged = now
                logger.warning("Could not check whether open connections' tokens were revoked: %s", error)
            return
        for token_id in held - active:
            for revoked in self._holders.pop(token_id, []):
                revoked()


token_watch = TokenWatch()
