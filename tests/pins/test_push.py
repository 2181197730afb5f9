"""Pin changes pushed to PINS subscribers, whatever caused them, through the real ASGI application."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import assert_next_push_is_marker, assert_nothing_pending, http_put, websocket

pytestmark = pytest.mark.django_db(transaction=True)

CHANGED = "PIN_CONFIGURATIONS_CHANGED"
UPDATE = "UPDATE_PIN_CONFIGURATIONS"


async def rest_put(path: str, body: object) -> dict[str, Any]:
    status, reply = await http_put(path, body)
    assert status == 200, reply
    result: dict[str, Any] = reply
    return result


def changed(data: dict[str, Any]) -> dict[str, Any]:
    return {"action": CHANGED, "success": True, "data": data, "error": None}


async def test_a_subscriber_hears_of_updates_over_websocket_then_over_rest():
    async with websocket() as watcher, websocket() as writer:
        reply = await watcher.request("SUBSCRIBE", {"topic": "PINS"})
        assert reply["success"] is True
        assert reply["data"]["event"] == CHANGED
        assert reply["data"]["current"]["GPIO17"] == {"io": "INPUT", "state": 0.0, "pull": "FLOATING", "label": None}
        assert len(reply["data"]["current"]) == 26

        update = {"pins": {"GPIO17": {"io": "OUTPUT", "state": 1}}}
        assert (await writer.request(UPDATE, update))["success"] is True
        assert await watcher.receive() == changed(
            {"GPIO17": {"io": "OUTPUT", "state": 1.0, "pull": "FLOATING", "label": None}}
        )

        await rest_put("/pins/GPIO17", {"io": "OUTPUT", "state": 0})
        assert await watcher.receive() == changed(
            {"GPIO17": {"io": "OUTPUT", "state": 0.0, "pull": "FLOATING", "label": None}}
        )
        await assert_next_push_is_marker(watcher)


async def test_a_batch_update_is_one_message_naming_every_pin_it_changed():
    async with websocket() as watcher, websocket() as writer:
        await watcher.request("SUBSCRIBE", {"topic": "PINS"})
        update = {
            "pins": {"GPIO17": {"io": "OUTPUT", "state": 1}, "GPIO27": {"io": "INPUT", "pull": "UP", "label": None}}
        }
        await writer.request(UPDATE, update)
        assert await watcher.receive() == changed(
            {
                "GPIO17": {"io": "OUTPUT", "state": 1.0, "pull": "FLOATING", "label": None},
                "GPIO27": {"io": "INPUT", "state": 1.0, "pull": "UP", "label": None},
            }
        )
        await assert_next_push_is_marker(watcher)


async def test_a_refused_update_changes_no_pin_and_pushes_nothing():
    async with websocket() as watcher, websocket() as writer:
        await watcher.request("SUBSCRIBE", {"topic": "PINS"})
        bad = {"pins": {"GPIO17": {"io": "OUTPUT", "state": 1}, "GPIO27": {"io": "INPUT"}}}
        reply = await writer.request(UPDATE, bad)
        assert reply["success"] is False
        await assert_next_push_is_marker(watcher)


async def test_a_mock_input_pin_driven_high_then_low_is_pushed(gpio):
    async with websocket() as watcher:
        await watcher.request(UPDATE, {"pins": {"GPIO22": {"io": "INPUT", "pull": "FLOATING", "label": None}}})
        await watcher.request("SUBSCRIBE", {"topic": "PINS", "pins": ["GPIO22"]})
        gpio.factory.pin(22).drive_high()
        assert await watcher.receive() == changed(
            {"GPIO22": {"io": "INPUT", "state": 1.0, "pull": "FLOATING", "label": None}}
        )
        gpio.factory.pin(22).drive_low()
        assert await watcher.receive() == changed(
            {"GPIO22": {"io": "INPUT", "state": 0.0, "pull": "FLOATING", "label": None}}
        )


async def test_an_input_pin_stops_reporting_edges_once_it_is_an_output(gpio):
    async with websocket() as watcher:
        await watcher.request(UPDATE, {"pins": {"GPIO22": {"io": "INPUT", "pull": "DOWN", "label": None}}})
        await watcher.request(UPDATE, {"pins": {"GPIO22": {"io": "OUTPUT", "state": 0}}})
        await watcher.request("SUBSCRIBE", {"topic": "PINS"})
        assert gpio.factory.pin(22).when_changed is None


async def test_a_pin_filter_passes_only_the_named_pins():
    async with websocket() as watcher, websocket() as writer:
        reply = await watcher.request("SUBSCRIBE", {"topic": "PINS", "pins": ["BOARD11"]})
        assert reply["data"] == {
            "topic": "PINS",
            "event": CHANGED,
            "pins": ["GPIO17"],
            "current": {"GPIO17": {"io": "INPUT", "state": 0.0, "pull": "FLOATING", "label": None}},
        }
        await writer.request(UPDATE, {"pins": {"GPIO27": {"io": "OUTPUT", "state": 1}}})
        both = {"pins": {"GPIO27": {"io": "OUTPUT", "state": 0}, "GPIO17": {"io": "OUTPUT", "state": 1}}}
        await writer.request(UPDATE, both)
        assert await watcher.receive() == changed(
            {"GPIO17": {"io": "OUTPUT", "state": 1.0, "pull": "FLOATING", "label": None}}
        )
        await assert_next_push_is_marker(watcher)


async def test_subscribing_again_replaces_the_filter():
    async with websocket() as watcher, websocket() as writer:
        await watcher.request("SUBSCRIBE", {"topic": "PINS", "pins": ["GPIO17"]})
        await watcher.request("SUBSCRIBE", {"topic": "PINS", "pins": ["GPIO27"]})
        await writer.request(UPDATE, {"pins": {"GPIO17": {"io": "OUTPUT", "state": 1}}})
        await writer.request(UPDATE, {"pins": {"GPIO27": {"io": "OUTPUT", "state": 1}}})
        assert (await watcher.receive())["data"] == {
            "GPIO27": {"io": "OUTPUT", "state": 1.0, "pull": "FLOATING", "label": None}
        }
        await assert_next_push_is_marker(watcher)


async def test_after_unsubscribe_no_pin_change_arrives():
    async with websocket() as watcher, websocket() as writer:
        await watcher.request("SUBSCRIBE", {"topic": "PINS"})
        reply = await watcher.request("UNSUBSCRIBE", {"topic": "PINS"}, id=7)
        assert reply == {"action": "UNSUBSCRIBE", "success": True, "data": {"topic": "PINS"}, "error": None, "id": 7}
        await writer.request(UPDATE, {"pins": {"GPIO17": {"io": "OUTPUT", "state": 1}}})
        await assert_nothing_pending(watcher)


async def test_a_client_that_does_not_subscribe_gets_no_passive_messages():
    async with websocket() as bystander, websocket() as writer:
        await writer.request(UPDATE, {"pins": {"GPIO17": {"io": "OUTPUT", "state": 1}}})
        await assert_nothing_pending(bystander)


async def test_a_writer_that_subscribed_hears_its_own_change_after_its_reply():
    async with websocket() as client:
        await client.request("SUBSCRIBE", {"topic": "PINS"})
        reply = await client.request(UPDATE, {"pins": {"GPIO17": {"io": "OUTPUT", "state": 1}}})
        assert reply["action"] == UPDATE
        assert (await client.receive())["action"] == CHANGED
