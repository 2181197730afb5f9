"""The OpenAPI schema: a hook that makes drf-spectacular's schema name the routes as they really are, and its
view, one generation at a time."""

from __future__ import annotations

import threading
from typing import Any

from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView
from rest_framework.request import Request
from rest_framework.response import Response


def strip_optional_slash(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Name each route without the trailing slash its ``/?`` pattern also accepts: ``/pins/{pin_id}``."""
    result["paths"] = {(path.rstrip("/") or "/"): operations for path, operations in result.get("paths", {}).items()}
    return result


# drf-spectacular loads its extensions' target classes lazily on the first schema generation, and not
# thread-safely (drf_spectacular.plumbing.load_class sets target_class to None while it imports): two
# first requests at once (Swagger UI and a client, two browsers opening /docs) answered 500 with
# AttributeError: 'NoneType' object has no attribute 'startswith' (seen in a browser test's server log).
_generation = threading.Lock()


class SchemaView(SpectacularAPIView):
    """``GET /api/schema``: drf-spectacular's view, generating one schema at a time."""

    @extend_schema(exclude=True)  # not a route of the API it describes (SpectacularAPIView's own is left out too)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        with _generation:
            response: Response = super().get(request, *args, **kwargs)  # type: ignore[no-untyped-call]
            return response
