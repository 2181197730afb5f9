"""The operator's pages, rendered by Django: dashboard, API docs, WebSocket docs, browsable API, admin."""

from __future__ import annotations

import re

import pytest
import yaml

from endrpi_project.websocket.registry import action_table

pytestmark = pytest.mark.django_db

HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
REST_ROUTES = {
    "/system": {"get"},
    "/system/platform": {"get"},
    "/system/temperature": {"get"},
    "/system/throttle": {"get"},
    "/system/uptime": {"get"},
    "/system/frequency": {"get"},
    "/system/memory": {"get"},
    "/system/cpu": {"get"},
    "/system/storage": {"get"},
    "/system/network": {"get"},
    "/system/sensors": {"get"},
    "/system/sensors/{sensor_id}": {"get"},
    "/pins": {"get"},
    "/pins/{pin_id}": {"get", "put"},
    "/system/history": {"get"},
    "/system/events": {"get"},
    "/metrics": {"get"},
    "/fleet": {"get"},
}


def test_the_dashboard_lays_out_the_whole_header_with_every_gpio(client):
    response = client.get("/", HTTP_ACCEPT=HTML)
    assert response.status_code == 200
    page = response.content.decode()
    assert re.findall(r'data-pin="(GPIO\d+)"', page) == [
        f"GPIO{bcm}"
        for bcm in (2, 3, 4, 14, 15, 17, 18, 27, 22, 23, 24, 10, 9, 25, 11, 8, 7, 5, 6, 12, 13, 19, 16, 26, 20, 21)
    ]
    assert page.count('class="row"') == 20
    assert page.count("physical pin") >= 40


def test_the_dashboard_says_when_gpio_is_simulated(client, gpio):
    assert 'id="simulated"' in client.get("/").content.decode()
    gpio.simulated = False
    assert 'id="simulated"' not in client.get("/").content.decode()


def test_the_dashboard_links_the_docs_and_settings(client):
    page = client.get("/").content.decode()
    for link in ('href="/docs"', 'href="/docs/websocket"', 'href="/admin/"'):
        assert link in page


def test_the_schema_describes_every_rest_route_with_its_errors(client):
    response = client.get("/api/schema")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert {path: set(operations) for path, operations in schema["paths"].items()} == REST_ROUTES
    message = {"$ref": "#/components/schemas/Message"}
    for path, operations in schema["paths"].items():
        for operation in operations.values():
            assert operation["responses"]["500"]["content"]["application/json"]["schema"] == message, path
    put = schema["paths"]["/pins/{pin_id}"]["put"]
    assert set(put["responses"]) == {"200", "400", "404", "409", "500"}
    assert put["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/PinConfigurationRequest"
    }
    pins = schema["paths"]["/pins"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert pins["additionalProperties"] == {"$ref": "#/components/schemas/PinConfiguration"}
    assert schema["components"]["schemas"]["PinConfiguration"]["properties"]["label"]["readOnly"] is True


def test_swagger_ui_is_served_with_local_assets(client):
    page = client.get("/docs").content.decode()
    assert "/api/schema" in page
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert any("swagger-ui" in asset for asset in assets)
    assert all(asset.startswith("/") for asset in assets), assets


def test_the_websocket_page_lists_every_action_of_the_consumers_table(client):
    page = client.get("/docs/websocket").content.decode()
    for action in action_table().actions:
        assert f'id="{action.name}"' in page
        for alias in action.aliases:
            assert f"<code>{alias}</code>" in page
        for param in action.param_docs():
            assert f"<code>{param.name}</code>" in page
    assert "<code>pins.*.pull</code>" in page


def test_a_browser_gets_the_browsable_api_and_a_client_gets_json(client):
    browser = client.get("/pins/GPIO17", HTTP_ACCEPT=HTML)
    assert browser["Content-Type"].startswith("text/html")
    assert "Pin Detail" in browser.content.decode()
    assert client.get("/pins/GPIO17")["Content-Type"] == "application/json"
    temperature = client.get("/system/temperature", HTTP_ACCEPT="application/json")
    assert temperature.json()["systemOnChip"]["quantity"] == 48.312


def test_the_admin_lists_pin_settings(admin_client):
    page = admin_client.get("/admin/pins/pinsetting/add/").content.decode()
    assert "Configuration applied at start-up" in page
    assert 'name="locked"' in page


def test_the_admin_form_refuses_output_without_a_state(admin_client):
    response = admin_client.post("/admin/pins/pinsetting/add/", {"pin": 17, "label": "Relay", "io": "OUTPUT"})
    assert response.status_code == 200
    assert "No state specified for output pin configuration" in response.content.decode()
