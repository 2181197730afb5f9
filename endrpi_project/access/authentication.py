"""The REST edge of access control: DRF reads the bearer token, then applies :func:`access_check`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed, NotAuthenticated, PermissionDenied
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from endrpi_project.access.models import AccessToken
from endrpi_project.access.tokens import access_check, access_token_authenticate, bearer_secret
from endrpi_project.api.errors import Forbidden, Unauthorized

if TYPE_CHECKING:  # rest_framework.views imports this module through api_settings
    from rest_framework.views import APIView


class BearerTokenAuthentication(BaseAuthentication):
    """``Authorization: Bearer <token>``; ignored entirely while ``ENDRPI_AUTH`` is ``off``.

    ``request.auth`` is the :class:`AccessToken`; there is no user (``request.user`` is None). A token
    that is malformed, unknown or revoked is a 401, even on a request that would not need one.
    """

    def authenticate(self, request: Request) -> tuple[None, AccessToken] | None:
        if settings.ENDRPI_AUTH == "off":
            return None
        try:
            secret = bearer_secret(request.headers.get("Authorization"))
            if secret is None:
                return None
            return None, access_token_authenticate(secret=secret)
        except Unauthorized as error:
            # DRF's own type, so the request remembers the failure (the browsable API asks again).
            raise AuthenticationFailed(error.message) from None

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="endrpi"'


class EndrpiAccess(BasePermission):
    """Reads (GET, HEAD, OPTIONS) and writes (anything else) as ``ENDRPI_AUTH`` asks; 401/403 Messages."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        token: Any = request.auth
        write = request.method not in SAFE_METHODS
        try:
            access_check(token=token if isinstance(token, AccessToken) else None, write=write)
        except Unauthorized as error:  # DRF's types: the browsable API catches only those when it asks
            raise NotAuthenticated(error.message) from None
        except Forbidden as error:
            raise PermissionDenied(error.message) from None
        return True
