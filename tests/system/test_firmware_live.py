"""End to end through daphne: a vcgencmd that hangs stalls only the clients that asked the firmware.

The host tree has no firmware device, so throttling falls through to ``vcgencmd``, which here never
answers (its timeout holds). Eight WebSocket clients and two REST clients wait on it while another
client reads and updates pins and subscribes: those answers come back before any throttle answer.
"""

from __future__ import annotations

import contextlib
import json
import stat
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import websockets.sync.client

from endrpi_project.testing.live import LiveServer, live_server
from system.hardware import firmware
from tests.conftest import FIXTURES, HostTree

pytestmark = pytest.mark.slow

FIRMWARE_TIMEOUT = 4


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[LiveServer]:
    base = tmp_path_factory.mktemp("hung-firmware")
    tree = HostTree(base / "host")
    tree.write("sys/class/thermal/thermal_zone0/temp", "51540\n")
    tree.write("proc/uptime", "1234.4 1.0\n")
    tree.write("proc/meminfo", (FIXTURES / "meminfo.txt").read_text())
    tree.write(firmware.KERNEL_RELEASE, "6.6.51+rpt-rpi-v8\n")
    vcgencmd = base / "bin" / "vcgencmd"
    vcgencmd.parent.mkdir()
    vcgencmd.write_text("#!/bin/sh\nexec sleep 60\n")  # a firmware that never answers
    vcgencmd.chmod(vcgencmd.stat().st_mode | stat.S_IXUSR)
    env = {
        "ENDRPI_HOST_ROOT": str(tree.root),
        "ENDRPI_VCGENCMD": str(vcgencmd),
        "ENDRPI_FIRMWARE_TIMEOUT": str(FIRMWARE_TIMEOUT),
    }
    with live_server(base / "data", env) as live:
        yield live


def _get(server: LiveServer, path: str) -> tuple[int, Any]:
    request = urllib.request.Request(f"{server.http_url}{path}", headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_pins_are_answered_while_ten_clients_wait_on_a_hung_firmware(server):
    rest_answers: list[tuple[int, Any]] = []
    rest = [threading.Thread(target=lambda: rest_answers.append(_get(server, "/system/throttle"))) for _ in range(2)]
    with contextlib.ExitStack() as stack:
        waiting = [stack.enter_context(websockets.sync.client.connect(server.ws_url)) for _ in range(8)]
        for ws in waiting:
            ws.send(json.dumps({"action": "READ_THROTTLE"}))
        for thread in rest:
            thread.start()
        with websockets.sync.client.connect(server.ws_url) as ws:
            ws.send(json.dumps({"action": "READ_PIN_CONFIGURATIONS", "params": {"pins": ["GPIO17"]}}))
            assert json.loads(ws.recv(timeout=10))["success"]
            update = {"pins": {"GPIO17": {"io": "OUTPUT", "state": 1}}}
            ws.send(json.dumps({"action": "UPDATE_PIN_CONFIGURATIONS", "params": update}))
            assert json.loads(ws.recv(timeout=10))["success"]
            ws.send(json.dumps({"action": "SUBSCRIBE", "params": {"topic": "PINS"}}))
            assert json.loads(ws.recv(timeout=10))["success"]
        assert _get(server, "/pins/GPIO17")[0] == 200
        # Every firmware reader is still waiting: the pins did not queue behind them.
        assert rest_answers == []
        for ws in waiting:
            with pytest.raises(TimeoutError):
                ws.recv(timeout=0)
        for ws in waiting:
            reply = json.loads(ws.recv(timeout=30))
            assert reply["success"] is False
            assert reply["error"].startswith("Failed to query system throttle status")
        for thread in rest:
            thread.join(30)
        assert [status for status, _ in rest_answers] == [500, 500]


def test_what_cannot_be_read_is_warned_once_at_start_up_and_not_logged_per_request(server):
    assert _get(server, "/system/frequency")[0] == 500
    deadline = time.monotonic() + 30
    log = ""
    while time.monotonic() < deadline:
        log = server.log.read_text()
        if "cannot take the frequency reading" in log:
            break
        time.sleep(0.2)
    assert log.count("cannot take the throttle reading") == 1
    assert log.count("cannot take the frequency reading") == 1
    assert "Internal Server Error" not in log
