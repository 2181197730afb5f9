from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.django_db


def put(client, path, body):
    data = body if isinstance(body, str) else json.dumps(body)
    return client.put(path, data=data, content_type="application/json", HTTP_ACCEPT="application/json")


def test_pins_maps_every_header_gpio_to_its_configuration(client):
    response = client.get("/pins", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    body = response.json()
    assert list(body) == [f"GPIO{n}" for n in range(2, 28)]
    assert body["GPIO8"] == {"io": "INPUT", "state": 0.0, "pull": "FLOATING", "label": None}


@pytest.mark.parametrize("name", ["GPIO17", "gpio17", "BCM17", "BOARD11", "J8:11", "17"])
def test_a_pin_can_be_named_the_ways_gpiozero_names_it(client, name):
    put(client, "/pins/GPIO17", {"io": "OUTPUT", "state": 1})
    response = client.get(f"/pins/{name}", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert response.json() == {"io": "OUTPUT", "state": 1.0, "pull": "FLOATING", "label": None}


@pytest.mark.parametrize("name", ["GPIO0", "GPIO1", "GPIO28", "BOARD1", "banana"])
def test_a_pin_that_is_not_a_user_gpio_is_a_404_message(client, name):
    response = client.get(f"/pins/{name}", HTTP_ACCEPT="application/json")
    assert response.status_code == 404
    assert response.json()["message"] == f"Pin with BCM pin number `{name}` not found; pins are GPIO2 to GPIO27"


def test_put_drives_an_output_and_says_so(client):
    response = put(client, "/pins/BOARD11", {"io": "OUTPUT", "state": 1.0, "pull": "UP"})
    assert response.status_code == 200
    assert response.json() == {"message": "Pin configuration for pin `GPIO17` was updated successfully"}
    assert client.get("/pins/GPIO17").json() == {"io": "OUTPUT", "state": 1.0, "pull": "FLOATING", "label": None}


def test_put_makes_an_input_and_ignores_a_state(client):
    response = put(client, "/pins/GPIO4", {"io": "INPUT", "pull": "DOWN", "state": 1})
    assert response.status_code == 200
    assert client.get("/pins/GPIO4").json() == {"io": "INPUT", "state": 0.0, "pull": "DOWN", "label": None}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"io": "INPUT"}, "No pull specified for input pin configuration"),
        ({"io": "INPUT", "pull": None, "state": 1}, "No pull specified for input pin configuration"),
        ({"io": "OUTPUT"}, "No state specified for output pin configuration"),
        ({"io": "OUTPUT", "pull": "UP"}, "No state specified for output pin configuration"),
        ({}, "io: This field is required."),
        ({"io": "SIDEWAYS", "state": 1}, 'io: "SIDEWAYS" is not a valid choice.'),
        ({"io": "OUTPUT", "state": 2}, "state: Ensure this value is less than or equal to 1.0."),
        ({"io": "OUTPUT", "state": -1}, "state: Ensure this value is greater than or equal to 0.0."),
        ({"io": "OUTPUT", "state": True}, "state: A number between 0 and 1 is required (0 = low, 1 = high)."),
        ({"io": "OUTPUT", "state": "1"}, "state: A number between 0 and 1 is required (0 = low, 1 = high)."),
        ({"io": "INPUT", "pull": "SIDEWAYS"}, 'pull: "SIDEWAYS" is not a valid choice.'),
        ([1, 2], "Invalid data. Expected a dictionary, but got list."),
    ],
)
def test_put_refuses_an_invalid_body_with_a_400_message_and_changes_nothing(client, body, message):
    response = put(client, "/pins/GPIO17", body)
    assert response.status_code == 400
    assert response.json() == {"message": message}
    assert client.get("/pins/GPIO17").json() == {"io": "INPUT", "state": 0.0, "pull": "FLOATING", "label": None}


def test_put_refuses_a_body_that_is_not_json(client):
    response = put(client, "/pins/GPIO17", "{not json")
    assert response.status_code == 400
    assert response.json()["message"].startswith("Malformed request body")


def test_put_refuses_an_empty_body(client):
    response = put(client, "/pins/GPIO17", "")
    assert response.status_code == 400
    assert response.json() == {"message": "io: This field is required."}


def test_put_to_an_unknown_pin_is_a_404_message(client):
    response = put(client, "/pins/GPIO1", {"io": "OUTPUT", "state": 1})
    assert response.status_code == 404
    assert "GPIO1" in response.json()["message"]


def test_put_with_a_form_content_type_is_refused_with_a_message(client):
    response = client.put("/pins/GPIO17", data="io=OUTPUT", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert "message" in response.json()
