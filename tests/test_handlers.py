"""The HTTP handler builds Django's middleware chain in sync mode, entered in one thread hop."""

from __future__ import annotations

import asyncio

import pytest
from channels.testing import HttpCommunicator

from endrpi_project.asgi import django_asgi_app
from endrpi_project.http.handlers import SyncChainASGIHandler

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_middleware_chain_is_built_synchronously():
    assert isinstance(django_asgi_app, SyncChainASGIHandler)
    assert not asyncio.iscoroutinefunction(getattr(django_asgi_app, "_middleware_chain"))  # noqa: B009


async def test_every_middleware_still_applies_to_a_request():
    communicator = HttpCommunicator(
        django_asgi_app, "GET", "/system/memory", headers=[(b"accept", b"application/json")]
    )
    response = await communicator.get_response(timeout=5)
    sent = dict(response["headers"])
    assert response["status"] == 200
    assert sent[b"X-Frame-Options"] == b"DENY"  # XFrameOptionsMiddleware, the outermost but one
    assert sent[b"X-Content-Type-Options"] == b"nosniff"  # SecurityMiddleware, the outermost
