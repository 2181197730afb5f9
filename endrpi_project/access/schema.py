"""How the OpenAPI schema describes access tokens: the bearer scheme Swagger UI's "Authorize" offers."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.permissions import SAFE_METHODS

from endrpi_project.access.tokens import access_required


class BearerTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    """Describes ``Authorization: Bearer <token>`` in the schema, so Swagger UI offers "Authorize"."""

    target_class = "endrpi_project.access.authentication.BearerTokenAuthentication"
    name = "accessToken"

    def get_security_requirement(self, auto_schema: Any) -> dict[str, list[Any]] | list[dict[str, list[Any]]]:
        """Required where the running server's ``ENDRPI_AUTH`` asks for a token, else optional (``{}``);
        none at all with ``ENDRPI_AUTH=off``, where a token is ignored (Swagger UI shows no padlocks)."""
        if settings.ENDRPI_AUTH == "off":
            return []  # no requirement: drf-spectacular then leaves the operation's "security" out
        if access_required(write=auto_schema.method not in SAFE_METHODS):
            return {self.name: []}
        return [{self.name: []}, {}]

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": (
                "An Endrpi access token (`manage.py endrpi_token create NAME`), needed for pin updates when "
                "ENDRPI_AUTH=write and for everything when ENDRPI_AUTH=all; ignored when ENDRPI_AUTH=off."
            ),
        }


def drop_unused_security_schemes(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """A drf-spectacular postprocessing hook: leave out a security scheme no operation asks for (with
    ``ENDRPI_AUTH=off``, the bearer token), so Swagger UI offers no "Authorize" for a token that is ignored."""
    used = {
        name
        for operations in result.get("paths", {}).values()
        for operation in operations.values()
        if isinstance(operation, dict)
        for requirement in operation.get("security", [])
        for name in requirement
    }
    schemes = result.get("components", {}).get("securitySchemes")
    if schemes is not None:
        kept = {name: scheme for name, scheme in schemes.items() if name in used}
        if kept:
            result["components"]["securitySchemes"] = kept
        else:
            del result["components"]["securitySchemes"]
    return result
