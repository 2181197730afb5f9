"""End to end: the README's server (daphne) answered by real HTTP and WebSocket clients."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import websockets.sync.client

from endrpi_project.testing.live import LiveServer, live_server
from tests.conftest import FIXTURES, HostTree

pytestmark = pytest.mark.slow  # a real server, browser or long fuzzing run


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[LiveServer]:
    base = tmp_path_factory.mktemp("live")
    tree = HostTree(base / "host")
    tree.write("sys/class/thermal/thermal_zone0/temp", "51540\n")
    tree.write("proc/uptime", "1234.4 1.0\n")
    tree.write("proc/meminfo", (FIXTURES / "meminfo.txt").read_text())
    with live_server(base / "data", {"ENDRPI_HOST_ROOT": str(tree.root), "ENDRPI_VCGENCMD": "/nonexistent"}) as live:
        yield live


def http(server: LiveServer, method: str, path: str, body: Any = None) -> tuple[int, str, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{server.http_url}{path}", data=data, method=method)
    request.add_header("Accept", "application/json")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.headers["Content-Type"], json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], json.loads(error.read())


def test_rest_readings_come_from_the_host_tree(server):
    assert http(server, "GET", "/system/temperature")[2]["systemOnChip"]["quantity"] == 51.54
    assert http(server, "GET", "/system/uptime")[2] == {"seconds": 1234.4, "formatted": "0:20:34"}


def test_system_without_firmware_answers_what_works(server):
    status, content_type, body = http(server, "GET", "/system")
    assert status == 200
    assert content_type == "application/json"
    assert body["memory"]["available"]["quantity"] == 3411872
    assert body["throttle"] is None
    assert body["errors"]["throttle"].startswith("Failed to query system throttle status")


def test_errors_are_json_messages_with_debug_off(server):
    assert http(server, "GET", "/pins/GPIO99")[:2] == (404, "application/json")
    status, content_type, body = http(server, "GET", "/no/such/page")
    assert (status, content_type) == (404, "application/json")
    assert body == {"message": "Not found: /no/such/page"}
    assert http(server, "PUT", "/pins/GPIO17", {"io": "INPUT"})[2] == {
        "message": "No pull specified for input pin configuration"
    }


def test_a_websocket_client_reads_and_drives_pins_on_the_same_port(server):
    with websockets.sync.client.connect(server.ws_url) as ws:
        ws.send(json.dumps({"action": "READ_MEMORY", "id": "m"}))
        memory = json.loads(ws.recv(timeout=5))
        assert memory["id"] == "m"
        assert memory["data"]["total"]["quantity"] == 3884328
        ws.send("garbage")
        assert json.loads(ws.recv(timeout=5))["success"] is False
        update = {"pins": {"J8:11": {"io": "OUTPUT", "state": 1}}}
        ws.send(json.dumps({"action": "UPDATE_PIN_CONFIGURATIONS", "params": update}))
        assert json.loads(ws.recv(timeout=5))["success"] is True
    assert http(server, "GET", "/pins/GPIO17")[2] == {"io": "OUTPUT", "state": 1.0, "pull": "FLOATING", "label": None}
