from __future__ import annotations

import pytest

from tests.helpers import websocket

pytestmark = pytest.mark.django_db(transaction=True)

READ = "READ_PIN_CONFIGURATIONS"
UPDATE = "UPDATE_PIN_CONFIGURATIONS"


async def test_read_pin_configurations_answers_the_named_pins_keyed_by_gpio_name():
    async with websocket() as client:
        reply = await client.request(READ, {"pins": ["GPIO17", "BOARD13"]})
        assert reply == {
            "action": READ,
            "success": True,
            "data": {
                "GPIO17": {"io": "INPUT", "state": 0.0, "pull": "FLOATING", "label": None},
                "GPIO27": {"io": "INPUT", "state": 0.0, "pull": "FLOATING", "label": None},
            },
            "error": None,
        }


async def test_an_empty_pin_list_reads_an_empty_map():
    async with websocket() as client:
        assert (await client.request(READ, {"pins": []}))["data"] == {}


async def test_update_configures_every_pin_then_reads_back():
    async with websocket() as client:
        reply = await client.request(
            UPDATE,
            {
                "pins": {
                    "GPIO17": {"io": "OUTPUT", "state": 1.0, "pull": "UP"},
                    "GPIO27": {"io": "INPUT", "pull": "UP", "state": 0},
                }
            },
        )
        assert reply == {"action": UPDATE, "success": True, "data": "Pin configurations updated", "error": None}
        read = await client.request(READ, {"pins": ["GPIO17", "GPIO27"]})
        assert read["data"] == {
            "GPIO17": {"io": "OUTPUT", "state": 1.0, "pull": "FLOATING", "label": None},
            "GPIO27": {"io": "INPUT", "state": 1.0, "pull": "UP", "label": None},
        }


async def test_an_update_with_one_bad_pin_changes_no_pin():
    async with websocket() as client:
        reply = await client.request(
            UPDATE,
            {"pins": {"GPIO17": {"io": "OUTPUT", "state": 1}, "GPIO27": {"io": "INPUT"}}},
        )
        assert reply["success"] is False
        assert reply["error"] == "pins.GPIO27: No pull specified for input pin configuration"
        read = await client.request(READ, {"pins": ["GPIO17"]})
        assert read["data"]["GPIO17"] == {"io": "INPUT", "state": 0.0, "pull": "FLOATING", "label": None}


@pytest.mark.parametrize(
    ("action", "params", "message"),
    [
        (READ, None, "Received message with missing 'params' field: READ_PIN_CONFIGURATIONS needs params"),
        (UPDATE, None, "Received message with missing 'params' field: UPDATE_PIN_CONFIGURATIONS needs params"),
        (READ, [1], "Received message with invalid 'params' field: params must be an object"),
        (READ, "GPIO17", "Received message with invalid 'params' field: params must be an object"),
        (READ, {}, "pins: This field is required."),
        (READ, {"pins": "GPIO17"}, 'pins: Expected a list of items but got type "str".'),
        (READ, {"pins": ["GPIO99"]}, "pins: Pin with BCM pin number `GPIO99` not found; pins are GPIO2 to GPIO27"),
        (READ, {"pins": [{"a": 1}]}, "pins[0]: Not a valid string."),
        (UPDATE, {}, "pins: This field is required."),
        (UPDATE, {"pins": {}}, "pins: At least one pin id and pin configuration must be supplied"),
        (UPDATE, {"pins": []}, 'pins: Expected a dictionary of items but got type "list".'),
        (
            UPDATE,
            {"pins": {"GPIO1": {"io": "OUTPUT", "state": 1}}},
            "pins.GPIO1: Pin with BCM pin number `GPIO1` not found; pins are GPIO2 to GPIO27",
        ),
        (UPDATE, {"pins": {"GPIO17": {"io": "INPUT"}}}, "pins.GPIO17: No pull specified for input pin configuration"),
        (
            UPDATE,
            {"pins": {"GPIO17": {"io": "OUTPUT"}}},
            "pins.GPIO17: No state specified for output pin configuration",
        ),
        (
            UPDATE,
            {"pins": {"GPIO17": {"io": "OUTPUT", "state": True}}},
            "pins.GPIO17.state: A number between 0 and 1 is required (0 = low, 1 = high).",
        ),
        (UPDATE, {"pins": {"GPIO17": "OUTPUT"}}, "pins.GPIO17: Invalid data. Expected a dictionary, but got str."),
        (
            UPDATE,
            {"pins": {"GPIO17": {"io": "OUTPUT", "state": 1}, "BCM17": {"io": "OUTPUT", "state": 0}}},
            "pins.BCM17: names the same pin as another entry (GPIO17)",
        ),
    ],
)
async def test_bad_pin_params_get_an_error_envelope_naming_the_action(action, params, message):
    async with websocket() as client:
        reply = await client.request(action, params)
        assert reply == {"action": action, "success": False, "data": None, "error": message}
        assert (await client.request(READ, {"pins": ["GPIO17"]}))["data"]["GPIO17"]["io"] == "INPUT"
