"""The one application error type, and the one place it becomes an HTTP body.

Services raise an :class:`EndrpiError` subclass; the REST edge turns it into a ``Message`` body
with :func:`exception_handler` (URLs no view answers get the JSON pages at the end of this module),
the WebSocket edge turns it into an error envelope (see ``endrpi_project.websocket.consumers``).
Both use :func:`error_message` so the wording is identical.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import DisallowedHost
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.defaults import bad_request as django_bad_request
from django.views.defaults import page_not_found, server_error
from rest_framework import exceptions as drf_exceptions
from rest_framework import status
from rest_framework.response import Response

logger = logging.getLogger(__name__)


class EndrpiError(Exception):
    """Root of every error a client is meant to see. Carries its HTTP status and a message."""

    status_code: int = status.HTTP_500_INTERNAL_SERVER_ERROR
    default_message: str = "Internal error"

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
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

    status_code = status.HTTP_500_INTERNAL_SERVER_ERROR
    default_message = "Failed to take a reading"


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


def error_message(exc: BaseException) -> tuple[int, str]:
    """The status code and client message for any exception an edge may catch."""
    if isinstance(exc, EndrpiError):
        return exc.status_code, exc.message
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


def exception_handler(exc: Exception, context: Mapping[str, Any]) -> Response:
    """DRF's ``EXCEPTION_HANDLER``: every error becomes ``{"message": ...}``, never a traceback."""
    status_code, message = error_message(exc)
    headers: dict[str, str] = {}
    if isinstance(exc, drf_exceptions.APIException):
        auth_header = getattr(exc, "auth_header", None)
        if auth_header:
            headers["WWW-Authenticate"] = auth_header
        wait = getattr(exc, "wait", None)
        if wait is not None:
            headers["Retry-After"] = str(int(wait))
    return Response({"message": message}, status=status_code, headers=headers)


# --- JSON error pages for requests no DRF view answers (urls.handler400/404/500) ---


def _wants_html(request: HttpRequest) -> bool:
    accept = request.headers.get("Accept", "")
    return "text/html" in accept and not accept.startswith("application/json")


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """A request Django refuses before any view, such as one for a host not in ``ENDRPI_ALLOWED_HOSTS``."""
    if _wants_html(request):
        return django_bad_request(request, exception or Exception("Bad request"))
    if isinstance(exception, DisallowedHost):
        return JsonResponse({"message": "Host not allowed: add it to ENDRPI_ALLOWED_HOSTS"}, status=400)
    return JsonResponse({"message": "Bad request"}, status=400)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_html(request):
        return page_not_found(request, exception or Exception("Not found"))
    return JsonResponse({"message": f"Not found: {request.path}"}, status=404)


def internal_error(request: HttpRequest) -> HttpResponse:
    if _wants_html(request):
        return server_error(request)
    return JsonResponse({"message": "Internal server error"}, status=500)
