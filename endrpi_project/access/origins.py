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

import ipaddress
import logging
import socket
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, register
from django.core.checks import Error as CheckError
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.http.request import split_domain_port, validate_host

from endrpi_project.api.envelope import envelope, json_encode
from endrpi_project.api.errors import bad_request

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


def host_names_own() -> frozenset[str]:
    """This machine's own names: its host name, without its domain, and with ``.local`` (mDNS)."""
    name = socket.gethostname().lower().rstrip(".")
    short = name.split(".")[0]
    return frozenset(filter(None, {name, short, f"{short}.local"}))


def host_allowed(host: str | None) -> bool:
    """The host rule, for HTTP and WebSocket alike: the names a client may reach this server by.

    It matters because the origin rule trusts ``Host``: a DNS-rebinding page (``evil.example`` made to
    resolve to the Pi) sends matching ``Origin`` and ``Host`` headers. A rebinding page always has a
    DNS name of its own, so IP addresses are safe, and so are ``localhost`` and the Pi's own name (with
    and without ``.local``), which an attacker's DNS cannot serve: those work on a first run with no
    setting. Any other name must be listed in ``ENDRPI_ALLOWED_HOSTS`` (Django's syntax: ``pi.example``,
    ``.example`` for its subdomains too, ``*`` for any name).
    """
    if host is None:
        return True  # HTTP/1.1 clients always send one; an ASGI test client may not
    domain, _ = split_domain_port(host)
    if not domain:
        return False
    try:
        ipaddress.ip_address(domain.removeprefix("[").removesuffix("]"))
        return True
    except ValueError:
        pass
    if domain == "localhost" or domain.endswith(".localhost") or domain in host_names_own():
        return True
    return validate_host(domain, settings.ENDRPI_ALLOWED_HOSTS)


def host_refusal(host: str | None) -> str:
    """Why :func:`host_allowed` refused ``host``, in words that say how to allow it."""
    domain = split_domain_port(host or "")[0] or host
    own = ", ".join(sorted(host_names_own()))
    return (
        f"Host not allowed: {domain!r} is not an IP address, localhost or this machine's name ({own}); "
        "add it to ENDRPI_ALLOWED_HOSTS to reach the server by that name"
    )


class HostMiddleware:
    """Applies :func:`host_allowed` to every HTTP request, before anything else reads it.

    Django's own ``ALLOWED_HOSTS`` check is left open (``*``) because it cannot say "any IP address".
    A refused host gets the same 400 as Django's own refusal (``endrpi_project.api.errors.bad_request``),
    whose Message says how to allow the name, and one warning line in the log (Django logs its own
    refusals as errors with a traceback, which an attacker could use to flood the log).
    A request without ``Host`` (HTTP/1.0, an ASGI test client) is not a browser's, so not rebinding.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        host = request.META.get("HTTP_HOST")
        if host is not None and not host_allowed(host):
            logger.warning("Refused an HTTP request for host %.200r (see ENDRPI_ALLOWED_HOSTS)", host)
            return bad_request(request, DisallowedHost(host_refusal(host)))
        return self.get_response(request)


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
            reason = host_refusal(host)
        elif not origin_allowed(origin=origin, host=host, allowed=origins_configured(settings.ENDRPI_ALLOWED_ORIGINS)):
            reason = "Origin not allowed: add it to ENDRPI_ALLOWED_ORIGINS"
        else:
            await self.application(scope, receive, send)
            return
        logger.warning("Refused a WebSocket from origin %.200r to host %.200r", origin, host)
        await websocket_refuse(scope, receive, send, code=CLOSE_ORIGIN_REFUSED, reason=reason)


SUBPROTOCOL = "endrpi"


def websocket_subprotocol(offered: Sequence[str]) -> str | None:
    """The subprotocol to accept: ``endrpi`` when offered, else none. A token is never echoed.

    A browser's ``WebSocket`` can carry a token only as a subprotocol (``endrpi.token.<token>``), and
    the server's choice is sent back in ``Sec-WebSocket-Protocol``, where proxies and browser tools
    log it. So a client offers ``["endrpi", "endrpi.token.<token>"]`` and gets ``endrpi`` back. A
    browser that offered only the token fails the handshake (it insists on one of its offers back),
    which is logged here with the fix.
    """
    if SUBPROTOCOL in offered:
        return SUBPROTOCOL
    if any(protocol.startswith("endrpi.token.") for protocol in offered):
        logger.warning(
            "A WebSocket client offered its access token as its only subprotocol; it is not echoed back. "
            "Offer 'endrpi' first: new WebSocket(url, ['endrpi', 'endrpi.token.' + token])"
        )
    return None


async def websocket_refuse(scope: Scope, receive: Receive, send: Send, *, code: int, reason: str) -> None:
    """Complete the handshake, send ``reason`` as an error envelope, then close with ``code``.

    A browser's ``CloseEvent`` then carries the documented code instead of a bare 1006, and the
    envelope carries the reason (daphne does not pass a close reason on).
    """
    message = await receive()
    if message.get("type") != "websocket.connect":
        return
    accept: dict[str, Any] = {"type": "websocket.accept"}
    subprotocol = websocket_subprotocol(scope.get("subprotocols") or [])
    if subprotocol is not None:
        accept["subprotocol"] = subprotocol
    await send(accept)
    await send({"type": "websocket.send", "text": json_encode(envelope(None, error=reason))})
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
