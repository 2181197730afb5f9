"""Per-connection limits for the WebSocket: message size and a token bucket for writes.

Each limit answers with an error envelope naming it; none closes the connection or touches another
client's connection. Settings: ``ENDRPI_WS_MAX_MESSAGE_BYTES``, ``ENDRPI_WS_WRITE_RATE`` and
``ENDRPI_WS_WRITE_BURST``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings

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
