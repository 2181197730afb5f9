"""End to end through ``manage.py endrpi_serve`` (what scripts/serve and the service run): HTTPS, wss://,
and the dashboard's addresses printed once it listens."""

from __future__ import annotations

import http.cookiejar
import json
import re
import socket
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import websockets.sync.client
from websockets.typing import Origin

from endrpi_project.testing.live import LiveServer, live_server
from tests.conftest import FIXTURES, HostTree
from tests.service.conftest import TlsFiles, make_tls_files

pytestmark = pytest.mark.slow


def host_tree(base: Path) -> HostTree:
    tree = HostTree(base / "host")
    tree.write("sys/class/thermal/thermal_zone0/temp", "51540\n")
    tree.write("proc/uptime", "1234.4 1.0\n")
    tree.write("proc/meminfo", (FIXTURES / "meminfo.txt").read_text())
    return tree


@pytest.fixture(scope="module")
def tls(tmp_path_factory) -> TlsFiles:
    return make_tls_files(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def https_server(tmp_path_factory, tls) -> Iterator[LiveServer]:
    base = tmp_path_factory.mktemp("https")
    env = {
        "ENDRPI_HOST_ROOT": str(host_tree(base).root),
        "ENDRPI_VCGENCMD": "/nonexistent",
        "ENDRPI_TLS_CERT": str(tls.cert),
        "ENDRPI_TLS_KEY": str(tls.key),
    }
    with live_server(base / "data", env, serve=True) as server:
        yield server


def trusting(tls: TlsFiles) -> ssl.SSLContext:
    """A client that trusts exactly the test's certificate and checks the host name against it."""
    return ssl.create_default_context(cafile=str(tls.cert))


def printed(server: LiveServer, text: str, timeout: float = 10) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log = server.log.read_text()
        if text in log:
            return log
        time.sleep(0.05)
    raise AssertionError(f"{text!r} never printed:\n{server.log.read_text()}")


def test_rest_is_served_over_https_with_the_configured_certificate(https_server, tls):
    assert https_server.http_url.startswith("https://")
    url = f"{https_server.http_url}/system/temperature"
    with urllib.request.urlopen(url, timeout=5, context=trusting(tls)) as response:
        assert response.status == 200
        assert json.loads(response.read())["systemOnChip"]["quantity"] == 51.54


def test_a_pin_update_over_https_is_answered(https_server, tls):
    request = urllib.request.Request(
        f"{https_server.http_url}/pins/GPIO17",
        data=json.dumps({"io": "OUTPUT", "state": 1}).encode(),
        method="PUT",
        headers={"Content-Type": "application/json", "Accept": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5, context=trusting(tls)) as response:
        assert json.loads(response.read()) == {"message": "Pin configuration for pin `GPIO17` was updated successfully"}


def test_websocket_clients_use_wss_on_the_same_port(https_server, tls):
    assert https_server.ws_url.startswith("wss://")
    with websockets.sync.client.connect(https_server.ws_url, ssl=trusting(tls), proxy=None) as ws:
        ws.send(json.dumps({"action": "READ_MEMORY", "id": 7}))
        reply = json.loads(ws.recv(timeout=5))
        assert (reply["id"], reply["success"]) == (7, True)
        assert reply["data"]["total"]["quantity"] == 3884328


def test_plain_http_on_the_tls_port_gets_no_api_answer(https_server):
    with pytest.raises((urllib.error.URLError, ConnectionError)):
        urllib.request.urlopen(f"http://127.0.0.1:{https_server.port}/system/uptime", timeout=5)


def test_the_dashboard_address_is_printed_as_https_once_listening(https_server):
    log = printed(https_server, "Endrpi is ready")
    assert f"  https://127.0.0.1:{https_server.port}/\n" in log


def test_plain_http_prints_every_address_it_listens_on(tmp_path):
    env = {"ENDRPI_HOST_ROOT": str(host_tree(tmp_path).root), "ENDRPI_VCGENCMD": "/nonexistent"}
    with live_server(tmp_path / "data", env, serve=True) as server:
        log = printed(server, "Endrpi is ready")
        assert server.http_url.startswith("http://")
        assert f"The dashboard:\n  http://127.0.0.1:{server.port}/\n" in log
        with urllib.request.urlopen(f"{server.http_url}/system/uptime", timeout=5) as response:
            assert json.loads(response.read())["seconds"] == 1234.4


def test_a_page_served_over_https_may_open_its_wss_socket(https_server, tls):
    origin = Origin(f"https://127.0.0.1:{https_server.port}")
    with websockets.sync.client.connect(https_server.ws_url, ssl=trusting(tls), origin=origin, proxy=None) as ws:
        ws.send(json.dumps({"action": "READ_UPTIME"}))
        assert json.loads(ws.recv(timeout=5))["data"]["seconds"] == 1234.4


def test_django_sees_https_so_the_admin_login_form_passes_csrf(https_server, tls):
    """Over TLS the request is secure to Django: the admin's CSRF check compares Origin with https://."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(
        urllib.request.HTTPSHandler(context=trusting(tls)), urllib.request.HTTPCookieProcessor(jar)
    )
    login = f"{https_server.http_url}/admin/login/"
    with opener.open(login, timeout=5) as response:
        page = response.read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token is not None
    assert any(cookie.name == "csrftoken" for cookie in jar)
    form = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token.group(1), "username": "nobody", "password": "wrong", "next": "/admin/"}
    ).encode()
    request = urllib.request.Request(
        login, data=form, headers={"Origin": f"https://127.0.0.1:{https_server.port}", "Referer": login}
    )
    with opener.open(request, timeout=5) as response:
        assert response.status == 200  # the form again, with its error: not a 403 from the CSRF check
        assert "Please enter the correct username and password" in response.read().decode()


def test_the_served_server_is_behind_the_connection_guard(tmp_path):
    env = {
        "ENDRPI_HOST_ROOT": str(host_tree(tmp_path).root),
        "ENDRPI_VCGENCMD": "/nonexistent",
        "ENDRPI_MAX_CONNECTIONS_PER_CLIENT": "2",
    }
    with live_server(tmp_path / "data", env, serve=True) as server:
        printed(server, "Endrpi is ready")
        address = ("127.0.0.1", server.port)
        with (
            socket.create_connection(address),
            socket.create_connection(address),
            pytest.raises(urllib.error.HTTPError) as refused,
        ):
            urllib.request.urlopen(f"{server.http_url}/system/uptime", timeout=5)
        assert refused.value.code == 429
