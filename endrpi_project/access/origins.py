"""Which web pages may talk to Endrpi: the WebSocket origin check and CORS for the REST API.

A browser tells us which page opened a connection in the ``Origin`` header. A page served by Endrpi
itself (the same host and port as the server the browser connected to) is always welcome, and
so is any origin listed in ``ENDRPI_ALLOWED_ORIGINS``. Every other page is refused, which stops a
web page a LAN user happens to visit from opening a WebSocket to the Pi and driving its pins
(cross-site WebSocket hijacking). Clients that send no ``Origin`` (scripts, apps, curl) are not
browsers acting for a page, so they are unaffected.

The rule lives in :func:`origin_allowed`; :class:`WebsocketOriginValidator` applies it at the
WebSocket handshake and :class:`CorsMiddleware` uses the same configured list to decide which other
origins may read the REST API from a browser.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, register
from django.core.checks import Error as CheckError
from django.http import HttpRequest, HttpResponse
from django.http.request import split_domain_port, validate_host

logger = logging.getLogger(__name__)

# The close code a browser's ``CloseEvent.code`` shows when the origin check refuses a WebSocket.
CLOSE_ORIGIN_REFUSED = 4403

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class Origin(NamedTuple):
    """A web origin with its port made explicit, so ``http://pi.lan`` equals ``http://pi.lan:80``."""

    scheme: str
    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = _DEFAULT_PORTS.get(self.scheme)
        return f"{self.scheme}://{host}" if self.port == default else f"{self.scheme}://{host}:{self.port}"


def origin_parse(value: str) -> Origin | None:
    """The origin ``scheme://host[:port]`` in ``value``, or None when it is not one (``null``, a path, junk)."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        return None
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        return None
    return Origin(scheme, parts.hostname.lower(), port if port is not None else _DEFAULT_PORTS[scheme])


def origins_configured(values: Iterable[str]) -> frozenset[Origin]:
    """The parsed ``ENDRPI_ALLOWED_ORIGINS``; entries that are not origins are reported by a system check."""
    return frozenset(origin for origin in map(origin_parse, values) if origin is not None)


def _host_matches(origin: Origin, host: str) -> bool:
    """Whether ``origin`` names the server the client reached through ``Host: host``.

    A ``Host`` without a port matches an origin on its scheme's default port: browsers leave the port
    out exactly when it is the default, and behind a TLS proxy an ``https`` page reaches us as ``ws``.
    """
    try:
        parts = urlsplit(f"//{host.strip()}")
        host_port = parts.port
    except ValueError:
        return False
    if not parts.hostname or parts.hostname.lower() != origin.host:
        return False
    if host_port is None:
        return origin.port == _DEFAULT_PORTS[origin.scheme]
    return origin.port == host_port


def origin_allowed(*, origin: str | None, host: str | None, allowed: Iterable[Origin]) -> bool:
    """The one origin rule: no ``Origin`` is fine; otherwise it must be this server or a configured origin."""
    if origin is None:
        return True
    parsed = origin_parse(origin)
    if parsed is None:
        return False
    if parsed in frozenset(allowed):
        return True
    return host is not None and _host_matches(parsed, host)


def host_allowed(host: str | None) -> bool:
    """``ALLOWED_HOSTS`` (``ENDRPI_ALLOWED_HOSTS``) for WebSockets, as Django applies it to HTTP.

    It matters because the origin rule trusts ``Host``: a DNS-rebinding page (``evil.example`` made to
    resolve to the Pi) sends matching ``Origin`` and ``Host`` headers. Listing the names the Pi is
    really reached by stops it; the default ``*`` accepts any.
    """
    if host is None:
        return True  # HTTP/1.1 clients always send one; an ASGI test client may not
    domain, _ = split_domain_port(host)
    return bool(domain) and validate_host(domain, settings.ALLOWED_HOSTS)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


class WebsocketOriginValidator:
    """ASGI middleware: refuses a WebSocket handshake from another site's page, or to a host not in
    ``ALLOWED_HOSTS``, with close code 4403.

    The connection is accepted and then closed, rather than answered with an HTTP 403, so that a
    browser's ``CloseEvent`` carries the documented code instead of a bare 1006.
    """

    def __init__(self, application: ASGIApp) -> None:
        self.application = application

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        origin = _header(scope, b"origin")
        host = _header(scope, b"host")
        if not host_allowed(host):
            reason = "Host not allowed: add it to ENDRPI_ALLOWED_HOSTS"
        elif not origin_allowed(origin=origin, host=host, allowed=origins_configured(settings.ENDRPI_ALLOWED_ORIGINS)):
            reason = "Origin not allowed: add it to ENDRPI_ALLOWED_ORIGINS"
        else:
            await self.application(scope, receive, send)
            return
        logger.warning("Refused a WebSocket from origin %.200r to host %.200r", origin, host)
        await websocket_refuse(scope, receive, send, code=CLOSE_ORIGIN_REFUSED, reason=reason)


def websocket_subprotocol(offered: Sequence[str]) -> str | None:
    """The subprotocol to accept: ``endrpi`` when offered, else a lone ``endrpi.token.*``, else none.

    A browser fails the handshake when it offered subprotocols and the server picks none, so a client
    that offers ``["endrpi", "endrpi.token.<token>"]`` gets ``endrpi`` back (the token is not echoed).
    """
    if "endrpi" in offered:
        return "endrpi"
    tokens = [protocol for protocol in offered if protocol.startswith("endrpi.token.")]
    return tokens[0] if tokens else None


async def websocket_refuse(scope: Scope, receive: Receive, send: Send, *, code: int, reason: str) -> None:
    """Complete the handshake, then close with ``code``, so a browser can show why it was refused."""
    message = await receive()
    if message.get("type") != "websocket.connect":
        return
    accept: dict[str, Any] = {"type": "websocket.accept"}
    subprotocol = websocket_subprotocol(scope.get("subprotocols") or [])
    if subprotocol is not None:
        accept["subprotocol"] = subprotocol
    await send(accept)
    await send({"type": "websocket.close", "code": code, "reason": reason})


class CorsMiddleware:
    """Cross-origin REST access for exactly the origins in ``ENDRPI_ALLOWED_ORIGINS``; none by default.

    With nothing configured no CORS header is ever sent, so a browser keeps other sites' pages from
    reading the API and from sending a ``PUT`` at all (a ``PUT`` always needs a preflight). For a
    configured origin, a preflight is answered here, before authentication (browsers send it without
    credentials), and responses carry ``Access-Control-Allow-Origin`` for that origin.
    """

    allow_methods = "GET, PUT, OPTIONS"
    allow_headers = "Authorization, Content-Type"
    max_age = "600"

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        origin = request.headers.get("Origin")
        allowed = origins_configured(settings.ENDRPI_ALLOWED_ORIGINS)
        parsed = origin_parse(origin) if origin else None
        if parsed is None or parsed not in allowed:
            return self.get_response(request)
        if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            response = HttpResponse(status=204)
            response["Access-Control-Allow-Methods"] = self.allow_methods
            response["Access-Control-Allow-Headers"] = self.allow_headers
            response["Access-Control-Max-Age"] = self.max_age
        else:
            response = self.get_response(request)
        response["Access-Control-Allow-Origin"] = str(parsed)
        response["Vary"] = ", ".join(filter(None, [response.get("Vary"), "Origin"]))
        return response


@register("security")
def check_allowed_origins(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """``endrpi.E501``: every ``ENDRPI_ALLOWED_ORIGINS`` entry must be an origin like ``https://host:port``."""
    return [
        CheckError(
            f"ENDRPI_ALLOWED_ORIGINS entry {value!r} is not an origin",
            hint="Write each as scheme://host[:port], e.g. https://dashboard.lan or http://192.168.1.20:8080",
            id="endrpi.E501",
        )
        for value in settings.ENDRPI_ALLOWED_ORIGINS
        if origin_parse(value) is None
    ]
