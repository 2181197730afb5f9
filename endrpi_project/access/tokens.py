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
from collections.abc import Sequence
from datetime import timedelta
from urllib.parse import parse_qs

from django.conf import settings
from django.utils import timezone

from endrpi_project.access.models import AccessToken
from endrpi_project.api.errors import Forbidden, InvalidRequest, NotFound, Unauthorized

logger = logging.getLogger(__name__)

TOKEN_PREFIX = "endrpi_"
SUBPROTOCOL_PREFIX = "endrpi.token."
# Close codes a WebSocket client sees when its handshake is refused (mode "all").
CLOSE_TOKEN_REQUIRED = 4401
# How stale ``last_used`` may get before a request writes it again (keeps reads off the disk).
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
    """The active token with this secret, its ``last_used`` brought up to date; else :class:`Unauthorized`."""
    token = AccessToken.objects.filter(secret_hash=_hash(secret), revoked__isnull=True).first()
    if token is None:
        raise Unauthorized("Invalid or revoked access token")
    now = timezone.now()
    if token.last_used is None or now - token.last_used > _LAST_USED_PRECISION:
        AccessToken.objects.filter(pk=token.pk).update(last_used=now)
        token.last_used = now
    return token


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
