"""Access tokens and the one access rule both edges apply.

``ENDRPI_AUTH`` picks the mode: ``off`` lets everyone in (the original Endrpi's behaviour), ``write``
asks for a read-write token for anything that changes a pin, ``all`` asks for a token for every
request. :func:`access_check` is the rule; the DRF permission class and the WebSocket consumer call
it with the token they found (``Authorization: Bearer`` over REST; ``?token=`` or the
``endrpi.token.<token>`` subprotocol over WebSocket).
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import secrets
import threading
import time
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from urllib.parse import parse_qs

from django.conf import settings
from django.db import connection
from django.utils import timezone

from endrpi_project.access.models import AccessToken
from endrpi_project.access.redaction import SUBPROTOCOL_PREFIX, TOKEN_PREFIX
from endrpi_project.api.errors import Forbidden, InvalidRequest, NotFound, Unauthorized

logger = logging.getLogger(__name__)

# Close codes a WebSocket client sees when its handshake is refused (mode "all").
CLOSE_TOKEN_REQUIRED = 4401
# The token could not be checked (the database is locked or unreadable): 4000 + HTTP 503. daphne (autobahn)
# sends only 1000 and 3000-4999, so not the standard 1013 "try again later".
CLOSE_UNAVAILABLE = 4503
# What a client is told when the token it presented is unknown or revoked (REST's 401, WebSocket's 4401).
INVALID_TOKEN = "Invalid or revoked access token"
# How stale ``last_used`` may get before a use is recorded again (keeps reads off the disk).
_LAST_USED_PRECISION = timedelta(minutes=1)


def access_required(*, write: bool) -> bool:
    """Whether the current mode needs a token for a request that reads (or, with ``write``, changes) pins."""
    mode = settings.ENDRPI_AUTH
    return mode == "all" or (mode == "write" and write)


def access_check(*, token: AccessToken | None, write: bool) -> None:
    """Raise :class:`Unauthorized` (no token) or :class:`Forbidden` (read-only token) unless allowed."""
    if not access_required(write=write):
        return
    if token is None:
        needed = "a read-write access token" if write else "an access token"
        raise Unauthorized(f"This request needs {needed} (ENDRPI_AUTH={settings.ENDRPI_AUTH})")
    if write and not token.can_write:
        raise Forbidden(f"Access token '{token.name}' has read scope; changing pins needs a read-write token")


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def access_token_create(*, name: str, scope: str) -> tuple[AccessToken, str]:
    """A new token and its secret; the secret is not stored and cannot be shown again."""
    name = name.strip()
    if not name:
        raise InvalidRequest("A token needs a name")
    if scope not in AccessToken.Scope.values:
        raise InvalidRequest(f"Scope must be one of {', '.join(AccessToken.Scope.values)}, not {scope!r}")
    if AccessToken.objects.filter(name=name).exists():
        raise InvalidRequest(f"A token named {name!r} already exists")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = AccessToken.objects.create(
        name=name, scope=scope, prefix=secret[: len(TOKEN_PREFIX) + 6], secret_hash=_hash(secret)
    )
    return token, secret


def access_token_authenticate(*, secret: str) -> AccessToken:
    """The active token with this secret, else :class:`Unauthorized`. Only reads the database.

    Its use is recorded afterwards, off the request path (:func:`access_token_use_record`), so a token
    keeps working while another process holds the database's write lock or the file is read-only.
    """
    token = AccessToken.objects.filter(secret_hash=_hash(secret), revoked__isnull=True).first()
    if token is None:
        raise Unauthorized(INVALID_TOKEN)
    access_token_use_record(token=token)
    return token


def access_tokens_active(*, ids: Collection[int]) -> set[int]:
    """Which of the tokens ``ids`` are still active (neither revoked nor deleted); one query, reads only."""
    return set(AccessToken.objects.filter(pk__in=list(ids), revoked__isnull=True).values_list("pk", flat=True))


# --- Recording use, best effort: ``last_used`` is for the operator's list, never worth a failed request ---

_use_lock = threading.Lock()
_use_pending: dict[int, datetime] = {}  # token id -> when it was last used, not written yet
_use_noted: dict[int, datetime] = {}  # token id -> the last use handed to the writer (written or not)
_use_flush_scheduled = False
_use_failure_logged: float | None = None
# Uses are written in one batch this long after the first (a burst of requests is one write).
USE_FLUSH_DELAY = 1.0


def access_token_use_record(*, token: AccessToken) -> None:
    """Note that ``token`` was used now; a background thread writes it to ``last_used`` shortly after.

    At most once a minute per token, so reads stay off the disk. Never raises and never waits.
    """
    global _use_flush_scheduled
    now = timezone.now()
    with _use_lock:
        noted = _use_noted.get(token.pk, token.last_used)
        if noted is not None and now - noted <= _LAST_USED_PRECISION:
            return
        _use_noted[token.pk] = now
        _use_pending[token.pk] = now
        if _use_flush_scheduled:
            return
        _use_flush_scheduled = True
    _use_flush_later()


def _use_flush_later() -> None:
    """Start the writer: one short-lived daemon thread per batch (tests replace this to flush by hand)."""
    timer = threading.Timer(USE_FLUSH_DELAY, _use_flush_in_thread)
    timer.daemon = True
    timer.name = "endrpi-token-use"
    timer.start()


def _use_flush_in_thread() -> None:
    try:
        access_token_use_flush()
    finally:
        connection.close()  # this thread's own connection; the thread ends here


def access_token_use_flush() -> int:
    """Write the pending uses to ``last_used``; how many rows were written. A database error is logged once
    a minute at most (a locked or read-only database) and the uses are dropped, never retried in a loop."""
    global _use_flush_scheduled, _use_failure_logged
    with _use_lock:
        batch = dict(_use_pending)
        _use_pending.clear()
        _use_flush_scheduled = False
    written = 0
    try:
        for pk, when in batch.items():
            written += AccessToken.objects.filter(pk=pk).update(last_used=when)
    except Exception as error:  # best effort by design: the request this use came from was answered long ago
        now = time.monotonic()
        if _use_failure_logged is None or now - _use_failure_logged > 60:
            _use_failure_logged = now
            logger.warning("Could not record when access tokens were last used (%s): %s", type(error).__name__, error)
    return written


def access_token_revoke(*, name: str) -> AccessToken:
    """Revoke the named token (revoking twice is harmless); :class:`NotFound` if there is none."""
    token = AccessToken.objects.filter(name=name).first()
    if token is None:
        raise NotFound(f"No access token named {name!r}")
    if token.revoked is None:
        token.revoked = timezone.now()
        token.save(update_fields=["revoked"])
    return token


def bearer_secret(authorization: str | None) -> str | None:
    """The secret in an ``Authorization: Bearer <secret>`` header; :class:`Unauthorized` if malformed."""
    if not authorization:
        return None
    scheme, _, secret = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not secret.strip() or " " in secret.strip():
        raise Unauthorized("Malformed Authorization header: send 'Authorization: Bearer <token>'")
    return secret.strip()


def websocket_secret(*, query_string: bytes, subprotocols: Sequence[str]) -> str | None:
    """The secret a WebSocket client sent as ``?token=`` or as the ``endrpi.token.<token>`` subprotocol."""
    for protocol in subprotocols:
        if protocol.startswith(SUBPROTOCOL_PREFIX):
            return protocol[len(SUBPROTOCOL_PREFIX) :]
    values = parse_qs(query_string.decode("latin-1")).get("token")
    return values[0] if values else None


def _loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def access_exposure_warn() -> bool:
    """Log a warning at start-up when anyone on the network may drive the pins; whether it warned.

    The bind address is daphne's, not Django's: ``scripts/serve`` exports it as ``ENDRPI_HOST``. When
    it is unknown (daphne started by hand) the warning says so rather than guessing.
    """
    if settings.ENDRPI_AUTH != "off":
        return False
    host = settings.ENDRPI_HOST.strip()
    if host and _loopback(host):
        return False
    where = f"the server listens on {host}" if host else "the bind address is unknown (ENDRPI_HOST is not set)"
    logger.warning(
        "ENDRPI_AUTH is off and %s: any device that can reach this server can read and drive the pins. "
        "Set ENDRPI_AUTH=write or all and create a token (docs/security.md).",
        where,
    )
    return True
