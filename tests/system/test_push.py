"""Readings pushed every N ms or on change, through the real ASGI application."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from endrpi_project.push.topics import pollers
from tests.conftest import FIXTURES
from tests.helpers import Client, assert_nothing_pending, websocket

pytestmark = pytest.mark.django_db(transaction=True)


def push_tasks() -> list[str]:
    """The names of the per-connection and per-poller tasks still running."""
    return sorted(
        task.get_name()
        for task in asyncio.all_tasks()
        if task.get_name().startswith(("endrpi-poller", "endrpi-outbox")) and not task.done()
    )


async def reply_to(client: Client, action: str, params: Any) -> dict[str, Any]:
    """Send a request and return its reply, skipping the passive messages that arrive before it."""
    await client.communicator.send_to(text_data=json.dumps({"action": action, "params": params}))
    while True:
        message = await client.receive()
        if message["action"] == action:
            return message


async def collect(client: Client, *, count: int) -> list[dict[str, Any]]:
    """The next ``count`` messages (not receive_from: its timeout would cancel the application)."""
    received: list[dict[str, Any]] = []
    while len(received) < count:
        output = await asyncio.wait_for(client.communicator.output_queue.get(), 10)
        received.append(json.loads(output["text"]))
    return received


async def test_a_100_ms_subscription_delivers_readings_until_unsubscribed():
    async with websocket() as client:
        reply = await client.request("SUBSCRIBE", {"topic": "TEMPERATURE", "intervalMs": 100})
        assert reply["data"] == {
            "topic": "TEMPERATURE",
            "event": "TEMPERATURE_UPDATED",
            "intervalMs": 100,
            "onChange": False,
            "current": {"systemOnChip": {"quantity": 48.312, "prefix": None, "unitOfMeasurement": "CELSIUS"}},
        }
        # How many arrive in a second is the benchmark's business; here: they keep coming, in the envelope.
        received = [await client.receive() for _ in range(3)]
        assert {message["action"] for message in received} == {"TEMPERATURE_UPDATED"}
        assert received[0]["data"] == reply["data"]["current"]
        assert received[0]["success"] is True
        assert received[0]["error"] is None
        assert set(received[0]) == {"action", "success", "data", "error"}

        assert (await reply_to(client, "UNSUBSCRIBE", {"topic": "TEMPERATURE"}))["success"] is True
        assert pollers.running() == []
        await assert_nothing_pending(client)
        assert [name.split("-")[1] for name in push_tasks()] == ["outbox"]


async def test_a_disconnect_stops_every_poller_and_task_of_the_connection():
    async with websocket() as client:
        await client.request("SUBSCRIBE", {"topic": "TEMPERATURE", "intervalMs": 100})
        await client.request("SUBSCRIBE", {"topic": "MEMORY", "intervalMs": 100})
        await client.request("SUBSCRIBE", {"topic": "PINS"})
        assert len(pollers.running()) == 2
        assert any(name.startswith("endrpi-outbox") for name in push_tasks())
    assert pollers.running() == []
    assert push_tasks() == []


async def test_clients_on_the_same_interval_share_one_poller():
    async with websocket() as first, websocket() as second:
        await first.request("SUBSCRIBE", {"topic": "UPTIME", "intervalMs": 100})
        await second.request("SUBSCRIBE", {"topic": "UPTIME", "intervalMs": 100})
        await second.request("SUBSCRIBE", {"topic": "UPTIME", "intervalMs": 200})
        assert sorted(key.interval_ms for key in pollers.running()) == [100, 200]
        assert (await first.receive())["action"] == "UPTIME_UPDATED"
        await reply_to(second, "UNSUBSCRIBE", {"topic": "UPTIME"})
        assert [key.interval_ms for key in pollers.running()] == [100]
    assert pollers.running() == []


async def test_an_on_change_subscription_sends_only_changes_of_the_throttle_flags(vcgencmd):
    async with websocket() as client:
        reply = await client.request("SUBSCRIBE", {"topic": "THROTTLE", "onChange": True, "intervalMs": 100})
        assert reply["data"]["event"] == "THROTTLE_CHANGED"
        assert reply["data"]["intervalMs"] == 100
        assert reply["data"]["current"]["underVoltageDetected"] is True

        # The first message is the first change: the unchanged flags checked before it sent nothing.
        vcgencmd.answer(throttled="0x50000")
        message = await client.receive()
        assert message["action"] == "THROTTLE_CHANGED"
        assert message["data"]["underVoltageDetected"] is False
        assert message["data"]["underVoltageHasOccurred"] is True
        # ...and the next is the next change, not a repeat of this one.
        vcgencmd.answer(throttled="0x50005")
        message = await client.receive()
        assert message["action"] == "THROTTLE_CHANGED"
        assert message["data"]["underVoltageDetected"] is True


async def test_on_change_checks_every_500_ms_unless_told_otherwise():
    async with websocket() as client:
        reply = await client.request("SUBSCRIBE", {"topic": "THROTTLE", "onChange": True})
        assert (reply["data"]["intervalMs"], reply["data"]["onChange"]) == (500, True)
        reply = await client.request("SUBSCRIBE", {"topic": "MEMORY"})
        assert (reply["data"]["intervalMs"], reply["data"]["onChange"]) == (1000, False)


async def test_a_temperature_change_is_pushed_once(host_root):
    async with websocket() as client:
        await client.request("SUBSCRIBE", {"topic": "TEMPERATURE", "onChange": True, "intervalMs": 100})
        host_root.write("sys/class/thermal/thermal_zone0/temp", "61000\n")
        message = await client.receive()
        assert message["action"] == "TEMPERATURE_CHANGED"
        assert message["data"]["systemOnChip"]["quantity"] == 61.0
        # The next message is the next change, not a repeat of this one.
        host_root.write("sys/class/thermal/thermal_zone0/temp", "62000\n")
        message = await client.receive()
        assert message["data"]["systemOnChip"]["quantity"] == 62.0


async def test_a_reading_that_starts_failing_is_pushed_as_an_error_envelope(host_root):
    # A default subscriber gets exactly the contract's keys: no "summary" it did not ask for.
    async with websocket() as client:
        await client.request("SUBSCRIBE", {"topic": "TEMPERATURE", "intervalMs": 100})
        host_root.remove("sys/class/thermal/thermal_zone0/temp")
        while (message := await client.receive())["success"]:
            pass
        assert message == {
            "action": "TEMPERATURE_UPDATED",
            "success": False,
            "data": None,
            "error": "Failed to query system on chip temperature: No such file or directory",
        }


async def test_a_pushed_reading_error_carries_its_sentence_where_the_connection_asked(host_root):
    async with websocket("/?summaries=1") as client:
        await client.request("SUBSCRIBE", {"topic": "TEMPERATURE", "intervalMs": 100})
        host_root.remove("sys/class/thermal/thermal_zone0/temp")
        while (message := await client.receive())["success"]:
            pass
        assert message == {
            "action": "TEMPERATURE_UPDATED",
            "success": False,
            "data": None,
            "error": "Failed to query system on chip temperature: No such file or directory",
            "summary": "Temperature unavailable: this machine has no SoC thermal sensor",
        }


async def test_subscribing_to_a_reading_that_fails_now_is_accepted_and_pushes_its_recovery(host_root):
    # A brief failure at SUBSCRIBE time must not cost the client its alerts: it is subscribed, told
    # the reading fails now, and gets the value as soon as the reading works again.
    meminfo = (FIXTURES / "meminfo.txt").read_text()
    host_root.remove("proc/meminfo")
    async with websocket("/?summaries=1") as client:
        reply = await client.request("SUBSCRIBE", {"topic": "MEMORY", "intervalMs": 100, "onChange": True})
        assert reply["success"] is True, reply
        assert reply["data"]["current"] is None
        assert reply["data"]["currentError"] == "Failed to query system memory: No such file or directory"
        assert reply["data"]["currentSummary"]
        assert [key.topic for key in pollers.running()] == ["MEMORY"]
        host_root.write("proc/meminfo", meminfo)
        message = await client.receive()
        assert message["action"] == "MEMORY_CHANGED"
        assert message["success"] is True, message
        assert isinstance(message["data"], dict)
        assert message["data"], message
        assert (await client.request("UNSUBSCRIBE", {"topic": "MEMORY"}))["success"] is True


async def test_a_reading_failing_at_subscribe_is_told_in_the_reply_without_a_summary_unasked(host_root):
    host_root.remove("proc/meminfo")
    async with websocket() as client:
        reply = await client.request("SUBSCRIBE", {"topic": "MEMORY", "intervalMs": 100})
        assert reply["success"] is True, reply
        assert reply["data"]["currentError"] == "Failed to query system memory: No such file or directory"
        assert "currentSummary" not in reply["data"]
        # Every-interval mode: the failure keeps being pushed the way a reading that starts failing is.
        message = await client.receive()
        assert message == {
            "action": "MEMORY_UPDATED",
            "success": False,
            "data": None,
            "error": "Failed to query system memory: No such file or directory",
        }


async def test_pollers_on_many_intervals_share_readings_instead_of_multiplying_them(monkeypatch):
    from endrpi_project.websocket.registry import topic_table

    topic = topic_table()["UPTIME"]
    reads = 0
    original = topic.read  # type: ignore[attr-defined]

    def counted() -> Any:
        nonlocal reads
        reads += 1
        return original()

    monkeypatch.setattr(topic, "read", counted)
    async with websocket() as a, websocket() as b, websocket() as c, websocket() as d, websocket() as e:
        clients = [a, b, c, d, e]
        for offset, client in enumerate(clients):
            await client.request("SUBSCRIBE", {"topic": "UPTIME", "intervalMs": 100 + offset})
        reads = 0
        received = await asyncio.gather(*(collect(client, count=5) for client in clients))
    # Five pollers falling due together share one read, instead of reading five times.
    total = sum(len(messages) for messages in received)
    assert reads * 2 <= total, (reads, total)
