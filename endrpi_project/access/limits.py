"""Limits: message size, pin-update rates (per connection, per REST client, server-wide), admin logins.

Each limit answers with an error naming it (an envelope over the WebSocket, 429 over REST, a form
error on the login page); none closes a connection or touches another client's connection.

- ``ENDRPI_WS_MAX_MESSAGE_BYTES``: the largest WebSocket message answered.
- ``ENDRPI_WS_WRITE_RATE`` / ``ENDRPI_WS_WRITE_BURST``: pin updates per WebSocket connection, and per
  REST client address (:class:`RestWriteThrottle`).
- ``ENDRPI_WRITE_RATE``: pin updates for the whole server, all connections and REST together, with a
  burst of one second's worth (:func:`server_write_check`), so many well-behaved connections cannot
  together flood the pins and the subscribers.
- Admin logins (:data:`logins`): after :data:`LOGIN_FAILURES_PER_USER` wrong passwords for one user
  name, or :data:`LOGIN_FAILURES_PER_ADDRESS` from one address, within :data:`LOGIN_WINDOW_SECONDS`,
  further attempts for it are refused (the right password too) until the oldest failure is that old.
  The counts live in this process's memory: a restart forgets them.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Any

from django.conf import settings
from rest_framework.permissions import SAFE_METHODS
from rest_framework.throttling import BaseThrottle

from endrpi_project.api.errors import LimitExceeded


class TokenBucket:
    """``rate`` operations a second on average, up to ``burst`` at once after a quiet spell."""

    def __init__(self, *, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self.tokens = float(burst)
        self.updated = clock()

    def take(self) -> bool:
        """Spend one token if there is one; ``False`` (and nothing spent) if the bucket is empty."""
        now = self.clock()
        self.tokens = min(float(self.burst), self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        return True


def write_bucket() -> TokenBucket:
    return TokenBucket(rate=settings.ENDRPI_WS_WRITE_RATE, burst=settings.ENDRPI_WS_WRITE_BURST)


def write_limit_check(bucket: TokenBucket) -> None:
    if not bucket.take():
        raise LimitExceeded(
            f"Too many pin updates on this connection: at most {settings.ENDRPI_WS_WRITE_RATE:g} a second "
            f"(bursts of {settings.ENDRPI_WS_WRITE_BURST}); wait and retry"
        )


def message_size_check(message: str | bytes) -> None:
    limit = settings.ENDRPI_WS_MAX_MESSAGE_BYTES
    # A character is at least one byte, so only a short-enough text needs encoding to be measured.
    too_large = len(message) > limit or (
        isinstance(message, str) and len(message.encode("utf-8", "surrogatepass")) > limit
    )
    if too_large:
        raise LimitExceeded(f"Message too large: at most {limit} bytes (ENDRPI_WS_MAX_MESSAGE_BYTES)")


class SharedTokenBucket(TokenBucket):
    """A :class:`TokenBucket` taken from several threads (REST runs in worker threads, WebSocket on the loop)."""

    def __init__(self, *, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(rate=rate, burst=burst, clock=clock)
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            return super().take()


_server_writes: list[SharedTokenBucket] = []


def server_write_bucket() -> SharedTokenBucket:
    """The one server-wide bucket (built again if ``ENDRPI_WRITE_RATE`` changed, as tests change it)."""
    rate: float = settings.ENDRPI_WRITE_RATE
    if not _server_writes or _server_writes[0].rate != rate:
        _server_writes[:] = [SharedTokenBucket(rate=rate, burst=max(1, int(rate)))]
    return _server_writes[0]


def server_write_check() -> None:
    if not server_write_bucket().take():
        raise LimitExceeded(
            f"The server is taking too many pin updates: at most {settings.ENDRPI_WRITE_RATE:g} a second from all "
            "clients together (ENDRPI_WRITE_RATE); wait and retry"
        )


class ClientBuckets:
    """One write bucket per client address, the least recently used forgotten past ``size`` addresses."""

    def __init__(self, *, size: int = 4096) -> None:
        self.size = size
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, address: str) -> bool:
        with self._lock:
            bucket = self._buckets.pop(address, None)
            if bucket is None or bucket.rate != settings.ENDRPI_WS_WRITE_RATE:
                bucket = write_bucket()
            self._buckets[address] = bucket
            while len(self._buckets) > self.size:
                self._buckets.popitem(last=False)
            return bucket.take()

    def clear(self) -> None:
        with self._lock:
            self._buckets.clear()


rest_writes = ClientBuckets()


class RestWriteThrottle(BaseThrottle):
    """REST writes (any unsafe method): the per-address rate, then the server-wide one; 429 with a Message."""

    def allow_request(self, request: Any, view: Any) -> bool:
        if request.method in SAFE_METHODS or not hasattr(view, request.method.lower()):
            return True  # a read, or a method the view refuses anyway (405)
        address = self.get_ident(request)
        if not rest_writes.take(address):
            raise LimitExceeded(
                f"Too many pin updates from your address: at most {settings.ENDRPI_WS_WRITE_RATE:g} a second "
                f"(bursts of {settings.ENDRPI_WS_WRITE_BURST}); wait and retry"
            )
        server_write_check()
        return True


# Admin logins: failures counted in a sliding window, per user name and per client address.
LOGIN_WINDOW_SECONDS = 15 * 60
LOGIN_FAILURES_PER_USER = 5
LOGIN_FAILURES_PER_ADDRESS = 10
LOGIN_LIMIT_NOTE = (
    f"After {LOGIN_FAILURES_PER_USER} wrong passwords for one user name, or {LOGIN_FAILURES_PER_ADDRESS} from one "
    f"address, within {LOGIN_WINDOW_SECONDS // 60} minutes, logins for it are refused (the right password too) "
    "until the oldest of those failures is that old."
)


class LoginAttempts:
    """Recent failed logins per key (``user:NAME``, ``address:IP``); at most ``size`` keys are remembered."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic, size: int = 10_000) -> None:
        self.clock = clock
        self.size = size
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _keys(address: str, username: str) -> list[tuple[str, int]]:
        keys = [(f"address:{address}", LOGIN_FAILURES_PER_ADDRESS)]
        if username:
            keys.append((f"user:{username.casefold()}", LOGIN_FAILURES_PER_USER))
        return keys

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and now - times[0] >= LOGIN_WINDOW_SECONDS:
            times.popleft()
        if not times:
            del self._failures[key]
        return times

    def check(self, *, address: str, username: str) -> None:
        """Raise :class:`LimitExceeded` if this address or user name is locked out, saying for how long."""
        now = self.clock()
        with self._lock:
            for key, limit in self._keys(address, username):
                times = self._recent(key, now)
                if len(times) >= limit:
                    wait = int(LOGIN_WINDOW_SECONDS - (now - times[-limit])) + 1
                    who = "this user name" if key.startswith("user:") else "your address"
                    raise LimitExceeded(
                        f"Too many failed logins for {who}: at most {limit} in {LOGIN_WINDOW_SECONDS // 60} minutes. "
                        f"Try again in {max(1, (wait + 59) // 60)} minute(s)."
                    )

    def failed(self, *, address: str, username: str) -> None:
        now = self.clock()
        with self._lock:
            for key, _ in self._keys(address, username):
                self._recent(key, now)
                self._failures.setdefault(key, deque(maxlen=64)).append(now)
                self._failures.move_to_end(key)
            while len(self._failures) > self.size:
                self._failures.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._failures.clear()

    def succeeded(self, *, username: str) -> None:
        with self._lock:
            self._failures.pop(f"user:{username.casefold()}", None)


logins = LoginAttempts()


def limits_reset() -> None:
    """Forget every rate and login count (tests start each case afresh)."""
    rest_writes.clear()
    logins.clear()
    _server_writes.clear()
