"""The one place that reaches into daphne for a connection's Twisted transport.

Why: a slow client's passive messages must queue in our bounded outbox, not in the socket's
unbounded write buffer, so the outbox needs to know when the socket has stopped draining. ASGI has
no way to ask; Twisted does, on the transport: ``producerPaused`` (set by
``twisted.internet.abstract.FileDescriptor`` when the write buffer outgrows ``bufferSize``,
cleared when it drains).

The private part: daphne does not hand the application its protocol. It hands it
``functools.partial(server.handle_reply, protocol)`` as ``send`` (``daphne.server.Server.create_application``),
so the protocol is the partial's first argument. ``tests/test_library_internals.py`` builds an
application through the real ``Server.create_application`` and fails if this stops finding the
transport, so a daphne upgrade that changes it cannot switch the backpressure off silently.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def transport_of(send: Any) -> Any | None:
    """The Twisted transport behind daphne's ``send`` callable; ``None`` elsewhere (the test client)."""
    protocol = next(iter(getattr(send, "args", ()) or ()), None)
    transport = getattr(protocol, "transport", None)
    if transport is None or not isinstance(getattr(transport, "producerPaused", None), bool):
        return None
    return transport


def transport_backlog(send: Any) -> Callable[[], bool] | None:
    """Under daphne, a check of whether the client's socket has stopped draining; ``None`` elsewhere."""
    transport = transport_of(send)
    if transport is None:
        return None
    return lambda: bool(transport.producerPaused)
