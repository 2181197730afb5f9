"""How the OpenAPI schema describes access tokens: the bearer scheme Swagger UI's "Authorize" offers."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.permissions import SAFE_METHODS

from endrpi_project.access.tokens import access_required


class BearerTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    """Describes ``Authorization: Bearer <token>`` in the schema, so Swagger UI offers "Authorize"."""

    target_class = "endrpi_project.access.authentication.BearerTokenAuthentication"
    name = "accessToken"

    def get_security_requirement(self, auto_schema: Any) -> dict[str, list[Any]] | list[dict[str, list[Any]]]:
        """Required where the running server's ``ENDRPI_AUTH`` asks for a token, else optional (``{}``)."""
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
