"""The one application error type, and the one place it becomes an HTTP body.

Services raise an :class:`EndrpiError` subclass; the REST edge turns it into a ``Message`` body
with :func:`exception_handler` (URLs no view answers get the JSON pages at the end of this module),
the WebSocket edge turns it into an error envelope (see ``endrpi_project.websocket.consumers``).
Both use :func:`error_message` so the wording is identical.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import DisallowedHost, RequestDataTooBig, TooManyFieldsSent
from django.db import DatabaseError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.utils.html import escape
from django.views.csrf import csrf_failure as django_csrf_failure
from django.views.defaults import page_not_found, server_error
from rest_framework import exceptions as drf_exceptions
from rest_framework import status
from rest_framework.response import Response

logger = logging.getLogger(__name__)


class EndrpiError(Exception):
    """Root of every error a client is meant to see. Carries its HTTP status and a message.

    ``summary``: where the message is technical (device paths, a firmware's words), one plain sentence
    for a person ("Temperature unavailable: this machine has no SoC thermal sensor"). Pages show it with
    the message folded away: the dashboard from the WebSocket envelope (``"summary"`` beside ``error``, on
    a connection opened with ``?summaries=1`` only), the browsable API from the REST response
    (:func:`exception_handler`); a REST JSON body and a default WebSocket envelope stay exactly the contract's.
    """

    status_code: int = status.HTTP_500_INTERNAL_SERVER_ERROR
    default_message: str = "Internal error"

    def __init__(self, message: str | None = None, *, summary: str | None = None) -> None:
        self.message = message or self.default_message
        self.summary = summary
        super().__init__(self.message)


class InvalidRequest(EndrpiError, ValueError):
    status_code = status.HTTP_400_BAD_REQUEST
    default_message = "Invalid request"


class NotFound(EndrpiError, LookupError):
    status_code = status.HTTP_404_NOT_FOUND
    default_message = "Not found"


class Unauthorized(EndrpiError, PermissionError):
    """No access token where one is needed, or one that is unknown or revoked."""

    status_code = status.HTTP_401_UNAUTHORIZED
    default_message = "This request needs an access token"


class Forbidden(EndrpiError, PermissionError):
    """A valid access token whose scope does not cover the request."""

    status_code = status.HTTP_403_FORBIDDEN
    default_message = "This access token does not allow this request"


class LimitExceeded(EndrpiError):
    """A client went over a size, count or rate limit; the message names the limit."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_message = "Limit exceeded"


class Conflict(EndrpiError):
    status_code = status.HTTP_409_CONFLICT
    default_message = "Conflict"


class ReadingFailed(EndrpiError, OSError):
    """A hardware reading could not be taken; the message says which one and why."""

    status_code: int = status.HTTP_500_INTERNAL_SERVER_ERROR
    default_message = "Failed to take a reading"


class Unavailable(ReadingFailed):
    """Not answerable now for a reason outside the request: the database is locked by another process,
    read-only or not set up. A 503 whose message names the cause (:func:`database_message`); also a
    :class:`ReadingFailed`, so code that answers without an optional part (a pin's label) catches it."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_message = "The server cannot answer this request right now"


def validation_message(detail: Any) -> str:
    """Flatten DRF's nested validation detail into one readable sentence.

    ``{"pins": {"GPIO17": {"pull": ["INPUT needs a pull"]}}}`` becomes
    ``"pins.GPIO17.pull: INPUT needs a pull"``.
    """
    parts: list[str] = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, Mapping):
            for key, value in node.items():
                if key == "non_field_errors":
                    walk(value, path)
                elif isinstance(key, int):
                    walk(value, f"{path}[{key}]")
                else:
                    walk(value, f"{path}.{key}" if path else str(key))
        elif isinstance(node, Sequence) and not isinstance(node, str):
            for index, value in enumerate(node):
                # DRF uses lists both for "several messages" and for per-item errors of a list field.
                nested = isinstance(value, (Mapping, list)) and value
                walk(value, f"{path}[{index}]" if nested else path)
        elif str(node):
            parts.append(f"{path}: {node}" if path else str(node))

    walk(detail, "")
    return "; ".join(parts) or "Invalid request"


def database_message(error: DatabaseError) -> str:
    """What a client is told when the database fails: the cause SQLite gave, in words a Pi owner can act on."""
    text = str(error)
    if "locked" in text:
        return "The database is locked by another process (a long write, a backup or a manage.py shell): try again"
    if "readonly" in text or "read-only" in text:
        reason = settings.DATABASE_READ_ONLY
        if reason is not None:  # known since start-up: the file was opened read-only
            return (
                f"The database was opened read-only at start-up ({reason}), so this change cannot be saved: "
                "make it writable (a read-only SD card: remount it read-write) and restart the server"
            )
        return "The database is read-only, so this change cannot be saved: make ENDRPI_DATABASE_PATH writable"
    if "no such table" in text:
        return "The database is not set up: run manage.py migrate (scripts/serve does)"
    if "unable to open" in text:
        return "The database cannot be opened: check ENDRPI_DATABASE_PATH and its directory"
    return f"The database failed: {text}"


def request_too_large_message() -> str:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return f"Request body too large: at most {limit} bytes"


def error_message(exc: BaseException) -> tuple[int, str]:
    """The status code and client message for any exception an edge may catch."""
    if isinstance(exc, EndrpiError):
        return exc.status_code, exc.message
    if isinstance(exc, DatabaseError):
        message = database_message(exc)
        logger.warning("Database unavailable: %s (%s)", exc, type(exc).__name__)
        return status.HTTP_503_SERVICE_UNAVAILABLE, message
    if isinstance(exc, RequestDataTooBig):
        return status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, request_too_large_message()
    if isinstance(exc, drf_exceptions.ValidationError):
        return exc.status_code, validation_message(exc.detail)
    if isinstance(exc, drf_exceptions.ParseError):
        return exc.status_code, f"Malformed request body: {exc.detail}"
    if isinstance(exc, drf_exceptions.APIException):
        return exc.status_code, str(exc.detail)
    if isinstance(exc, Http404):
        return status.HTTP_404_NOT_FOUND, "Not found"
    logger.exception("Unexpected error", exc_info=exc)
    return status.HTTP_500_INTERNAL_SERVER_ERROR, "Internal server error"


def error_summary(exc: BaseException) -> str | None:
    """The plain sentence of an error that has one (:attr:`EndrpiError.summary`), else ``None``."""
    return exc.summary if isinstance(exc, EndrpiError) else None


class ErrorResponse(Response):
    """A REST error: its body the ``Message``, and beside it (never in it) the error's plain ``summary``."""

    def __init__(self, data: dict[str, str], *, status: int, headers: dict[str, str], summary: str | None) -> None:
        super().__init__(data, status=status, headers=headers)
        self.summary = summary


def exception_handler(exc: Exception, context: Mapping[str, Any]) -> Response:
    """DRF's ``EXCEPTION_HANDLER``: every error becomes ``{"message": ...}``, never a traceback.

    The body is exactly the contract's ``Message``, in every format. An error's plain sentence
    (:func:`error_summary`) rides on the response object as ``summary``, outside the body: only the
    browsable API's page shows it (``pages/overrides/rest_framework/api.html``), with the message folded away.
    """
    status_code, message = error_message(exc)
    headers: dict[str, str] = {}
    if isinstance(exc, drf_exceptions.APIException):
        auth_header = getattr(exc, "auth_header", None)
        if auth_header:
            headers["WWW-Authenticate"] = auth_header
        wait = getattr(exc, "wait", None)
        if wait is not None:
            headers["Retry-After"] = str(int(wait))
    return ErrorResponse({"message": message}, status=status_code, headers=headers, summary=error_summary(exc))


# --- JSON error pages for requests no DRF view answers (urls.handler400/404/500) ---


def wants_html(request: HttpRequest) -> bool:
    """Whether the client is a browser asking for a page (``Accept`` names ``text/html`` before JSON)."""
    accept = request.headers.get("Accept", "")
    return "text/html" in accept and not accept.startswith("application/json")


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """A request Django refuses before any view: a host that is not allowed, a body over Django's limits.

    A refused host is told why in a browser too: the message says how to allow the name.
    """
    if isinstance(exception, RequestDataTooBig):
        return JsonResponse({"message": request_too_large_message()}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    # Messages that help the client and give nothing away; any other refusal stays a plain "Bad request".
    message = str(exception) if isinstance(exception, (DisallowedHost, TooManyFieldsSent)) else "Bad request"
    if wants_html(request):
        return HttpResponse(f"<h1>Bad request</h1><p>{escape(message)}</p>", status=400)
    return JsonResponse({"message": message}, status=400)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if wants_html(request):
        return page_not_found(request, exception or Exception("Not found"))
    return JsonResponse({"message": f"Not found: {request.path}"}, status=404)


def internal_error(request: HttpRequest) -> HttpResponse:
    """An exception no view handled; a database that is locked or read-only is a 503 naming the cause."""
    exception = sys.exc_info()[1]  # Django calls this view inside its ``except`` block
    if isinstance(exception, DatabaseError):
        status_code, message = error_message(exception)
        if wants_html(request):  # the admin in a browser
            return HttpResponse(f"<h1>Service unavailable</h1><p>{escape(message)}</p>", status=status_code)
        return JsonResponse({"message": message}, status=status_code)
    if wants_html(request):
        return server_error(request)
    return JsonResponse({"message": "Internal server error"}, status=500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """``CSRF_FAILURE_VIEW``: a form post to a page (the admin, the dashboard) without Django's CSRF token."""
    if wants_html(request):
        return django_csrf_failure(request, reason)
    return JsonResponse({"message": f"Forbidden by the CSRF check: {reason}"}, status=status.HTTP_403_FORBIDDEN)


_KEPT_HEADERS = ("Allow", "WWW-Authenticate", "Retry-After", "Vary", "Access-Control-Allow-Origin")


def _is_json(response: HttpResponseBase) -> bool:
    media_type = response.get("Content-Type", "").partition(";")[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


class JsonErrorMiddleware:
    """Every error response is a ``Message`` unless a browser asked for HTML: the README's promise.

    Views outside DRF (Django's 405 for a page's wrong method, WhiteNoise's 405, Swagger UI's 406 or
    the schema's YAML errors) answer in their own formats; this middleware, outermost, rewrites any
    4xx/5xx that is not JSON into ``{"message": ...}`` with the same status and the headers a client
    acts on (``Allow``, ``WWW-Authenticate``, ``Retry-After``).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if response.status_code < 400 or _is_json(response) or wants_html(request):
            return response
        allowed = response.get("Allow")
        message = f"{response.reason_phrase}: {request.method} {request.path}"
        if allowed:
            message += f" (allowed: {allowed})"
        replacement = JsonResponse({"message": message}, status=response.status_code)
        for header in _KEPT_HEADERS:
            if header in response:
                replacement[header] = response[header]
        response.close()
        return replacement
