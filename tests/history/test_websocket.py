from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from endrpi_project.history import sampler as sampler_module
from endrpi_project.history import services
from endrpi_project.history.simulation import simulated_samples
from endrpi_project.history.store import Event
from tests.helpers import http_get, websocket

pytestmark = pytest.mark.django_db(transaction=True)

START = 1_795_950_000_000  # 2026-11-29T11:00:00Z


async def fill() -> None:
    await database_sync_to_async(_fill)()


def _fill() -> None:
    store = services.history_sampler().store
    for row in simulated_samples(start=START, count=360, interval_ms=10_000):
        store.add_sample(row)
    store.add_events([Event("throttling", start=START + 60_000, end=START + 65_000)])
    store.flush(now=START + 3_600_000)


PARAMS = {"readings": ["temperature"], "since": "2026-11-29T11:00:00Z", "until": "2026-11-29T12:00:00Z"}


async def test_read_history_answers_what_rest_answers():
    await fill()
    async with websocket() as client:
        reply = await client.request("READ_HISTORY", params={**PARAMS, "points": 50}, id=7)
    assert reply["success"] is True
    assert reply["id"] == 7
    status, body = await http_get(
        "/system/history?readings=temperature&since=2026-11-29T11:00:00Z&until=2026-11-29T12:00:00Z&points=50"
    )
    assert status == 200
    assert reply["data"] == body
    assert sum(body["count"]) == 360


async def test_read_history_takes_readings_as_a_list_or_a_string():
    async with websocket() as client:
        as_list = await client.request("READ_HISTORY", params={"readings": ["memory", "throttle"]})
        as_text = await client.request("READ_HISTORY", params={"readings": "memory,throttle"})
    assert set(as_list["data"]["readings"]) == set(as_text["data"]["readings"]) == {"memory", "throttle"}


async def test_read_events_answers_what_rest_answers():
    await fill()
    async with websocket() as client:
        reply = await client.request("READ_EVENTS", params={"since": "2026-11-29T11:00:00Z"})
    assert reply["success"] is True
    [event] = reply["data"]["events"]
    assert (event["condition"], event["durationSeconds"], event["observed"]) == ("throttling", 5.0, True)


@pytest.mark.parametrize(
    ("action", "params", "error"),
    [
        ("READ_HISTORY", None, "Received message with missing 'params' field: READ_HISTORY needs params"),
        ("READ_HISTORY", [], "Received message with invalid 'params' field: params must be an object"),
        ("READ_HISTORY", {"readings": [1]}, "readings: Expected a list of readings or a comma-separated string"),
        ("READ_HISTORY", {"since": 5}, "since: Expected an ISO 8601 time"),
        ("READ_HISTORY", {"points": 1}, "points: Ensure this value is greater than or equal to 2."),
        ("READ_EVENTS", {"until": "-1y"}, "until: '-1y' is not a time"),
    ],
)
async def test_bad_params_get_an_error_envelope_and_the_connection_stays_open(action, params, error):
    async with websocket() as client:
        message = {"action": action} if params is None else {"action": action, "params": params}
        import json

        reply = await client.send_text(json.dumps(message))
        assert reply["action"] == action
        assert reply["success"] is False
        assert reply["data"] is None
        assert reply["error"].startswith(error)
        assert (await client.request("READ_EVENTS", params={}))["success"] is True


async def test_history_subscribers_get_each_new_sample():
    sampler = services.history_sampler()
    async with websocket() as client:
        subscribed = await client.request("SUBSCRIBE", params={"topic": "HISTORY"})
        assert subscribed["success"] is True, subscribed
        assert subscribed["data"]["current"] is None
        assert subscribed["data"]["event"] == "HISTORY_UPDATED"
        sampler_module._publish(await database_sync_to_async(sampler._tick)(True, False))
        pushed = await client.receive()
        assert pushed["action"] == "HISTORY_UPDATED"
        assert pushed["data"]["temperature"] == {"systemOnChip": 48.312}
        again = await client.request("SUBSCRIBE", params={"topic": "HISTORY"})
        assert again["data"]["current"] == pushed["data"]


async def test_events_subscribers_get_events_as_they_start_and_end(vcgencmd):
    sampler = services.history_sampler()
    async with websocket() as client:
        subscribed = await client.request("SUBSCRIBE", params={"topic": "EVENTS"})
        assert subscribed["data"]["current"] == []
        vcgencmd.answer(throttled="0x4")
        sampler_module._publish(await database_sync_to_async(sampler._tick)(False, False))
        started = await client.receive()
        assert started["action"] == "EVENTS_CHANGED"
        assert [(event["condition"], event["end"]) for event in started["data"]] == [("throttling", None)]
        current = await client.request("SUBSCRIBE", params={"topic": "EVENTS"})
        assert current["data"]["current"] == started["data"]
        vcgencmd.answer(throttled="0x40000")
        sampler_module._publish(await database_sync_to_async(sampler._tick)(False, False))
        ended = await client.receive()
        assert ended["data"][0]["end"] is not None


async def test_history_topics_refuse_params_they_do_not_take():
    async with websocket() as client:
        reply = await client.request("SUBSCRIBE", params={"topic": "HISTORY", "intervalMs": 1000})
    assert reply["success"] is False
    assert "Unknown param(s) intervalMs" in reply["error"]
