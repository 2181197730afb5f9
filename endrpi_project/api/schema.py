"""A hook that makes drf-spectacular's OpenAPI schema name the routes as they really are."""

from __future__ import annotations

from typing import Any


def strip_optional_slash(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Name each route without the trailing slash its ``/?`` pattern also accepts: ``/pins/{pin_id}``."""
    result["paths"] = {(path.rstrip("/") or "/"): operations for path, operations in result.get("paths", {}).items()}
    return result
