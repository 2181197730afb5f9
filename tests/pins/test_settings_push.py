"""A pin setting saved or deleted (the admin) is pushed to open pages and API subscribers at once:
``PIN_SETTINGS`` carries every pin's label and lock, ``PINS`` the pin's new label."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import sync_to_async

from pins.models import PinSetting
from tests.helpers import websocket

pytestmark = pytest.mark.django_db(transaction=True)


@sync_to_async
def save(pin: int, **fields: object) -> None:
    PinSetting.objects.update_or_create(pin=pin, defaults=fields)


@sync_to_async
def delete(pin: int) -> None:
    PinSetting.objects.get(pin=pin).delete()


async def next_of(client: Any, action: str) -> dict[str, Any]:
    while (message := await client.receive())["action"] != action:
        pass
    found: dict[str, Any] = message
    return found


async def test_the_pin_settings_topic_starts_with_every_pin_and_hears_a_lock_and_a_label():
    await save(27, label="Door sensor")
    async with websocket() as watcher:
        reply = await watcher.request("SUBSCRIBE", {"topic": "PIN_SETTINGS"})
        assert reply["success"] is True, reply
        assert reply["data"]["event"] == "PIN_SETTINGS_CHANGED"
        current = reply["data"]["current"]
        assert len(current) == 26
        assert current["GPIO27"] == {"label": "Door sensor", "locked": False}
        assert current["GPIO17"] == {"label": None, "locked": False}

        await save(27, label="Back door", locked=True)
        message = await next_of(watcher, "PIN_SETTINGS_CHANGED")
        assert message["success"] is True
        assert message["data"]["GPIO27"] == {"label": "Back door", "locked": True}

        await delete(27)
        message = await next_of(watcher, "PIN_SETTINGS_CHANGED")
        assert message["data"]["GPIO27"] == {"label": None, "locked": False}


async def test_a_label_saved_in_the_admin_reaches_pins_subscribers_as_a_change_of_that_pin():
    async with websocket() as watcher:
        await watcher.request("SUBSCRIBE", {"topic": "PINS"})
        await save(22, label="Porch light")
        message = await next_of(watcher, "PIN_CONFIGURATIONS_CHANGED")
        assert list(message["data"]) == ["GPIO22"]
        assert message["data"]["GPIO22"]["label"] == "Porch light"


def test_a_pin_setting_is_published_only_once_its_transaction_commits(monkeypatch):
    from django.db import transaction

    from pins import services

    published: list[list[int]] = []
    monkeypatch.setattr(services, "pin_settings_changed", lambda *, pins: published.append(list(pins)))
    with transaction.atomic():
        PinSetting.objects.create(pin=4, locked=True)
        assert published == []
    assert published == [[4]]
