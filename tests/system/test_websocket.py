from __future__ import annotations

import pytest

from tests.helpers import websocket

pytestmark = pytest.mark.django_db(transaction=True)


async def test_read_temperature_answers_the_temperature_model():
    async with websocket() as client:
        assert await client.request("READ_TEMPERATURE") == {
            "action": "READ_TEMPERATURE",
            "success": True,
            "data": {"systemOnChip": {"quantity": 48.312, "prefix": None, "unitOfMeasurement": "CELSIUS"}},
            "error": None,
        }


async def test_the_seeds_get_temperature_is_an_alias_that_echoes_its_name():
    async with websocket() as client:
        reply = await client.request("GET_TEMPERATURE")
        assert reply["action"] == "GET_TEMPERATURE"
        assert reply["success"] is True
        assert reply["data"]["systemOnChip"]["unitOfMeasurement"] == "CELSIUS"


@pytest.mark.parametrize(
    ("action", "keys"),
    [
        ("READ_THROTTLE", {"underVoltageDetected", "throttlingHasOccurred"}),
        ("READ_UPTIME", {"seconds", "formatted"}),
        ("READ_FREQUENCY", {"arm", "core"}),
        ("READ_MEMORY", {"total", "free", "available"}),
        ("GET_MEMORY", {"total", "free", "available"}),
    ],
)
async def test_each_system_action_answers_its_model(action, keys):
    async with websocket() as client:
        reply = await client.request(action)
        assert reply["success"] is True, reply
        assert reply["error"] is None
        assert keys <= set(reply["data"])


async def test_params_sent_to_a_system_action_are_ignored():
    async with websocket() as client:
        assert (await client.request("READ_MEMORY", params={"anything": 1}))["success"] is True


async def test_a_failed_reading_is_an_error_envelope_naming_the_reading(host_root):
    host_root.remove("sys/class/thermal/thermal_zone0/temp")
    async with websocket() as client:
        reply = await client.request("READ_TEMPERATURE")
        assert reply["action"] == "READ_TEMPERATURE"
        assert reply["success"] is False
        assert reply["data"] is None
        assert reply["error"].startswith("Failed to query system on chip temperature")
        assert (await client.request("READ_MEMORY"))["success"] is True


async def test_a_failing_firmware_is_an_error_envelope(vcgencmd):
    vcgencmd.answer(fail=True)
    async with websocket() as client:
        reply = await client.request("READ_FREQUENCY")
        assert reply["success"] is False
        assert reply["error"].startswith("Failed to query system ARM frequency")
