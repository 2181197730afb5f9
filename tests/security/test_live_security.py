"""End to end through daphne: close codes, subprotocol tokens and Bearer tokens as real clients see them."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import websockets.sync.client
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin, Subprotocol

from endrpi_project.testing.live import ROOT, LiveServer, live_server
from tests.conftest import FIXTURES, HostTree

pytestmark = pytest.mark.slow  # a real server, browser or long fuzzing run


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[LiveServer]:
    base = tmp_path_factory.mktemp("live-security")
    tree = HostTree(base / "host")
    tree.write("proc/uptime", "1234.4 1.0\n")
    tree.write("proc/meminfo", (FIXTURES / "meminfo.txt").read_text())
    env = {"ENDRPI_HOST_ROOT": str(tree.root), "ENDRPI_VCGENCMD": "/nonexistent", "ENDRPI_AUTH": "all"}
    with live_server(base / "data", env) as live:
        yield live


def create_token(server: LiveServer, name: str, scope: str) -> str:
    """A token made by the management command, in the running server's database."""
    data_dir = server.log.parent  # live_server keeps daphne's log in the data directory
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "endrpi_project.settings", "ENDRPI_DATA_DIR": str(data_dir)}
    result = subprocess.run(
        [sys.executable, "manage.py", "endrpi_token", "create", name, "--scope", scope],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def refusal(socket: websockets.sync.client.ClientConnection) -> tuple[str, int | None]:
    """The error envelope a refused WebSocket gets first (daphne drops close reasons), then the close code."""
    envelope = json.loads(socket.recv(timeout=5))
    assert envelope["success"] is False
    with pytest.raises(ConnectionClosed) as closed:
        socket.recv(timeout=5)
    return envelope["error"], closed.value.rcvd.code if closed.value.rcvd else None


def test_a_page_from_another_origin_sees_close_code_4403(server):
    with websockets.sync.client.connect(server.ws_url, origin=Origin("http://evil.example"), proxy=None) as socket:
        error, code = refusal(socket)
    assert code == 4403
    assert "ENDRPI_ALLOWED_ORIGINS" in error


def test_a_dns_rebinding_page_sees_close_code_4403_and_why(server):
    # evil.example resolves to the Pi: the browser connects to the Pi's address and names evil.example.
    rebinding = {"Host": f"evil.example:{server.port}"}
    with websockets.sync.client.connect(
        f"ws://evil.example:{server.port}/",
        sock=socket.create_connection(("127.0.0.1", server.port)),
        origin=Origin(f"http://evil.example:{server.port}"),
        proxy=None,
    ) as connection:
        error, code = refusal(connection)
    assert code == 4403
    assert error.startswith("Host not allowed: 'evil.example' is not an IP address, localhost")
    request = urllib.request.Request(f"{server.http_url}/system/uptime", headers=rebinding)
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)
    assert refused.value.code == 400
    assert "ENDRPI_ALLOWED_HOSTS" in json.loads(refused.value.read())["message"]


def test_without_a_token_the_websocket_closes_with_4401_in_mode_all(server):
    with websockets.sync.client.connect(server.ws_url, proxy=None) as socket:
        error, code = refusal(socket)
    assert code == 4401
    assert error == "This request needs an access token (ENDRPI_AUTH=all)"


def test_a_browser_style_subprotocol_token_opens_the_websocket(server):
    token = create_token(server, "live-reader", "read")
    protocols = [Subprotocol("endrpi"), Subprotocol(f"endrpi.token.{token}")]
    origin = Origin(f"http://127.0.0.1:{server.port}")
    with websockets.sync.client.connect(server.ws_url, subprotocols=protocols, origin=origin, proxy=None) as socket:
        assert socket.subprotocol == "endrpi"
        socket.send(json.dumps({"action": "READ_UPTIME"}))
        assert json.loads(socket.recv(timeout=5))["success"] is True
        socket.send(
            json.dumps(
                {"action": "UPDATE_PIN_CONFIGURATIONS", "params": {"pins": {"GPIO17": {"io": "OUTPUT", "state": 1}}}}
            )
        )
        reply = json.loads(socket.recv(timeout=5))
    assert reply["success"] is False
    assert "read-write" in reply["error"]


def test_rest_takes_a_bearer_token_and_answers_401_without_one(server):
    token = create_token(server, "live-writer", "read-write")
    request = urllib.request.Request(
        f"{server.http_url}/pins/GPIO17",
        data=json.dumps({"io": "OUTPUT", "state": 1}).encode(),
        method="PUT",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{server.http_url}/system/uptime", timeout=5)
    assert refused.value.code == 401
    assert refused.value.headers["WWW-Authenticate"] == 'Bearer realm="endrpi"'
    assert json.loads(refused.value.read()) == {"message": "This request needs an access token (ENDRPI_AUTH=all)"}


@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="needs Debian's chromium (CI installs it)")
def test_the_dashboard_in_a_browser_connects_with_its_token_and_the_server_echoes_only_endrpi(server):
    """A browser fails a handshake whose answer picks none of its offers, and the server never echoes a
    token: the dashboard offers ``endrpi`` first, so in mode ``all`` it still gets its readings."""
    from playwright.sync_api import WebSocket, sync_playwright

    token = create_token(server, "browser", "read")
    frames: list[dict[str, Any]] = []
    sockets: list[WebSocket] = []

    def on_websocket(socket: WebSocket) -> None:
        sockets.append(socket)
        socket.on("framereceived", lambda payload: frames.append(json.loads(payload)))

    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox"])
        try:
            page = browser.new_page()
            page.goto(f"{server.http_url}/docs/websocket")  # any page of the origin, to reach its storage
            page.evaluate("token => window.localStorage.setItem('endrpi.token', token)", token)
            page.on("websocket", on_websocket)
            page.goto(f"{server.http_url}/")
            page.wait_for_function("() => true")
            deadline = time.monotonic() + 15
            while not any(frame.get("success") for frame in frames):
                assert time.monotonic() < deadline, frames
                page.wait_for_timeout(100)
            protocol = page.evaluate(
                """token => new Promise((resolve, reject) => {
                    const socket = new WebSocket(`ws://${location.host}/`, ["endrpi", `endrpi.token.${token}`]);
                    socket.onopen = () => { resolve(socket.protocol); socket.close(); };
                    socket.onerror = () => reject(new Error("handshake failed"));
                })""",
                token,
            )
        finally:
            browser.close()
    assert protocol == "endrpi"
    assert sockets
    assert not any(frame.get("error") and "token" in frame["error"] for frame in frames)
