"""The origin check on the WebSocket, CORS on REST, and why a cross-site page cannot PUT a pin."""

from __future__ import annotations

import json
import socket

import pytest
from channels.testing import WebsocketCommunicator
from django.core.checks import run_checks
from django.test import Client

from endrpi_project.access.origins import (
    CLOSE_ORIGIN_REFUSED,
    Origin,
    host_allowed,
    origin_allowed,
    origin_parse,
    origins_configured,
)
from endrpi_project.asgi import application

# The consumer reads pin settings from the database (and closes old connections around it), as
# in the core WebSocket tests.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def pi_lan(settings) -> None:
    """The origin tests reach the Pi as ``pi.lan``, a name its owner has listed."""
    settings.ENDRPI_ALLOWED_HOSTS = [*settings.ENDRPI_ALLOWED_HOSTS, "pi.lan"]


def allowed(origin: str | None, host: str | None = "pi.lan:5000", configured: tuple[str, ...] = ()) -> bool:
    return origin_allowed(origin=origin, host=host, allowed=origins_configured(configured))


def test_it_parses_an_origin_with_its_default_port_made_explicit():
    assert origin_parse("HTTP://Pi.LAN") == Origin("http", "pi.lan", 80)
    assert origin_parse("https://pi.lan") == Origin("https", "pi.lan", 443)
    assert origin_parse("http://[::1]:5000") == Origin("http", "::1", 5000)
    assert str(Origin("http", "::1", 5000)) == "http://[::1]:5000"
    assert str(Origin("https", "pi.lan", 443)) == "https://pi.lan"


@pytest.mark.parametrize(
    "value",
    [
        "null",
        "",
        "pi.lan",
        "file:///home/pi",
        "ftp://pi.lan",
        "http://",
        "http://pi.lan:99999",
        "http://u:p@pi.lan",
        "http://pi.lan/path",
        "http://pi.lan?x=1",
        "\x00\xff",
    ],
)
def test_it_does_not_take_a_malformed_origin_for_an_origin(value):
    assert origin_parse(value) is None
    assert not allowed(value)


def test_it_allows_a_client_that_sends_no_origin():
    assert allowed(None)
    assert allowed(None, host=None)


def test_it_allows_a_page_served_by_the_same_host_and_port():
    assert allowed("http://pi.lan:5000")
    assert allowed("http://PI.lan:5000", host="pi.LAN:5000")
    assert allowed("http://192.168.1.20:5000", host="192.168.1.20:5000")
    assert allowed("http://[::1]:5000", host="[::1]:5000")


def test_it_allows_a_host_without_port_only_for_an_origin_on_its_default_port():
    assert allowed("http://pi.lan", host="pi.lan")
    assert allowed("https://pi.lan", host="pi.lan")  # a TLS proxy in front, forwarding Host
    assert allowed("https://pi.lan:443", host="pi.lan")
    assert not allowed("http://pi.lan:8080", host="pi.lan")
    assert not allowed("http://pi.lan:443", host="pi.lan")


def test_it_refuses_another_host_or_another_port():
    assert not allowed("http://evil.example")
    assert not allowed("http://evil.example:5000")
    assert not allowed("http://pi.lan.evil.example:5000")
    assert not allowed("http://pi.lan:8080")
    assert not allowed("http://pi.lan:5000", host=None)
    assert not allowed("http://pi.lan:5000", host="pi.lan:notaport")


def test_it_allows_a_configured_origin_from_any_host():
    configured = ("https://dashboard.lan", "http://192.168.1.30:3000")
    assert allowed("https://dashboard.lan", configured=configured)
    assert allowed("https://dashboard.lan:443", configured=configured)
    assert allowed("http://192.168.1.30:3000", configured=configured)
    assert not allowed("http://dashboard.lan", configured=configured)
    assert not allowed("http://192.168.1.30:3001", configured=configured)


def test_it_reports_a_configured_entry_that_is_not_an_origin(settings):
    settings.ENDRPI_ALLOWED_ORIGINS = ["https://dashboard.lan", "dashboard.lan"]
    errors = [message for message in run_checks() if message.id == "endrpi.E501"]
    assert len(errors) == 1
    assert "'dashboard.lan'" in errors[0].msg


def test_it_has_no_origin_error_when_the_origins_are_valid(settings):
    settings.ENDRPI_ALLOWED_ORIGINS = ["https://dashboard.lan", "http://10.0.0.2:8080"]
    assert not [message for message in run_checks() if message.id == "endrpi.E501"]


async def handshake(headers: list[tuple[bytes, bytes]]) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, "/", headers=headers)
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def test_a_websocket_without_origin_is_answered():
    communicator = await handshake([(b"host", b"pi.lan:5000")])
    await communicator.send_json_to({"action": "READ_TEMPERATURE"})
    reply = await communicator.receive_json_from()
    assert reply["success"] is True
    await communicator.disconnect()


async def test_a_websocket_from_the_same_origin_is_answered():
    communicator = await handshake([(b"host", b"pi.lan:5000"), (b"origin", b"http://pi.lan:5000")])
    await communicator.send_json_to({"action": "READ_UPTIME"})
    assert (await communicator.receive_json_from())["success"] is True
    await communicator.disconnect()


@pytest.mark.parametrize(
    "origin", [b"http://evil.example", b"http://pi.lan:8080", b"null", b"not an origin", b"http://pi.lan:5000/x"]
)
async def test_a_websocket_from_another_origin_is_closed_with_4403_before_any_action(origin):
    communicator = await handshake([(b"host", b"pi.lan:5000"), (b"origin", origin)])
    refusal, code = await refused(communicator)
    assert code == CLOSE_ORIGIN_REFUSED
    assert "ENDRPI_ALLOWED_ORIGINS" in refusal


async def refused(communicator: WebsocketCommunicator) -> tuple[str, int]:
    """The error envelope a refused WebSocket gets (daphne drops close reasons), and its close code."""
    reply = await communicator.receive_json_from()
    assert reply["success"] is False
    assert reply["action"] is None
    closed = await communicator.receive_output()
    assert closed["type"] == "websocket.close"
    assert closed["reason"] == reply["error"]
    await communicator.wait()
    return reply["error"], closed["code"]


async def test_a_websocket_from_a_configured_origin_is_answered(settings):
    settings.ENDRPI_ALLOWED_ORIGINS = ["https://dashboard.lan"]
    communicator = await handshake([(b"host", b"pi.lan:5000"), (b"origin", b"https://dashboard.lan")])
    await communicator.send_json_to({"action": "READ_MEMORY"})
    assert (await communicator.receive_json_from())["success"] is True
    await communicator.disconnect()


def test_rest_sends_no_cors_headers_unless_origins_are_configured():
    response = Client().get("/system/uptime", HTTP_ORIGIN="http://evil.example")
    assert response.status_code == 200
    assert not any(header.startswith("Access-Control-") for header in response.headers)


def test_rest_answers_cors_for_a_configured_origin_only(settings):
    settings.ENDRPI_ALLOWED_ORIGINS = ["https://dashboard.lan"]
    client = Client()
    response = client.get("/system/uptime", HTTP_ORIGIN="https://dashboard.lan")
    assert response["Access-Control-Allow-Origin"] == "https://dashboard.lan"
    assert "Origin" in response["Vary"]
    other = client.get("/system/uptime", HTTP_ORIGIN="https://evil.example")
    assert "Access-Control-Allow-Origin" not in other


def test_rest_answers_a_preflight_for_a_configured_origin_even_when_tokens_are_required(settings):
    settings.ENDRPI_ALLOWED_ORIGINS = ["https://dashboard.lan"]
    settings.ENDRPI_AUTH = "all"
    response = Client().options(
        "/pins/GPIO17",
        HTTP_ORIGIN="https://dashboard.lan",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="PUT",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type",
    )
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == "https://dashboard.lan"
    assert "PUT" in response["Access-Control-Allow-Methods"]
    assert "Authorization" in response["Access-Control-Allow-Headers"]


def test_a_cross_site_page_cannot_change_a_pin_even_with_tokens_off(gpio):
    """Why the pin PUT needs no CSRF token (DRF's APIView is csrf_exempt without SessionAuthentication).

    A page on another site can make a browser send only "simple" requests without asking first: GET,
    HEAD or POST, with a form content type. Our only write is a PUT, which is never simple, so the
    browser first sends a CORS preflight; without ENDRPI_ALLOWED_ORIGINS that preflight gets no
    Access-Control-Allow-Origin and the browser never sends the PUT. What a page *can* send is refused:
    """
    client = Client()
    before = client.get("/pins/GPIO17").json()
    # A cross-site HTML form (or a no-cors fetch) can POST, as a form or as text/plain "JSON"...
    form = client.post("/pins/GPIO17", {"io": "OUTPUT", "state": "1"}, HTTP_ORIGIN="http://evil.example")
    text = client.generic(
        "POST",
        "/pins/GPIO17",
        json.dumps({"io": "OUTPUT", "state": 1.0}),
        "text/plain",
        HTTP_ORIGIN="http://evil.example",
    )
    # ...but pins are not changed by POST, and a PUT of a form body is not JSON.
    assert form.status_code == 405
    assert text.status_code == 405
    put_form = client.generic("PUT", "/pins/GPIO17", "io=OUTPUT&state=1", "application/x-www-form-urlencoded")
    assert put_form.status_code == 415
    # The preflight a browser sends before the PUT is not approved for another origin.
    preflight = client.options(
        "/pins/GPIO17", HTTP_ORIGIN="http://evil.example", HTTP_ACCESS_CONTROL_REQUEST_METHOD="PUT"
    )
    assert "Access-Control-Allow-Origin" not in preflight
    assert client.get("/pins/GPIO17").json() == before


# --- DNS rebinding: the host rule -----------------------------------------------------------------

OWN_NAME = socket.gethostname().lower().split(".")[0]


@pytest.mark.parametrize(
    "host",
    [
        "192.168.1.20:5000",
        "192.168.1.20",
        "10.0.0.7:80",
        "[::1]:5000",
        "[fe80::1]",
        "127.0.0.1",
        "localhost:5000",
        "LOCALHOST",
        "dashboard.localhost:5000",
        OWN_NAME,
        f"{OWN_NAME}:5000",
        f"{OWN_NAME}.local:5000",
        f"{OWN_NAME.upper()}.LOCAL",
    ],
)
def test_the_host_rule_accepts_ip_addresses_localhost_and_this_machines_own_name_by_default(settings, host):
    settings.ENDRPI_ALLOWED_HOSTS = []
    assert host_allowed(host)


@pytest.mark.parametrize(
    "host",
    [
        "evil.example",
        "evil.example:5000",
        "pi.lan",
        f"{OWN_NAME}.evil.example",
        "192.168.1.20.evil.example",
        "localhost.evil.example",
        "local",
        "",
        "a b",
        "evil.example:5000:1",
    ],
)
def test_the_host_rule_refuses_every_other_name_by_default(settings, host):
    settings.ENDRPI_ALLOWED_HOSTS = []
    assert not host_allowed(host)


def test_the_host_rule_accepts_the_names_listed_in_endrpi_allowed_hosts(settings):
    settings.ENDRPI_ALLOWED_HOSTS = ["pi.example", ".home.arpa"]
    assert host_allowed("pi.example:5000")
    assert host_allowed("home.arpa")
    assert host_allowed("pi.home.arpa")
    assert not host_allowed("evil.example")
    settings.ENDRPI_ALLOWED_HOSTS = ["*"]
    assert host_allowed("evil.example")


REBINDING = [(b"host", b"evil.example:5000"), (b"origin", b"http://evil.example:5000")]


async def test_a_dns_rebinding_websocket_is_refused_with_the_default_settings(settings):
    # evil.example resolved to the Pi: Origin and Host agree, so only the host rule can tell.
    settings.ENDRPI_ALLOWED_HOSTS = []
    refusal, code = await refused(await handshake(REBINDING))
    assert code == CLOSE_ORIGIN_REFUSED
    assert refusal.startswith("Host not allowed: 'evil.example' is not an IP address, localhost or this machine's name")
    assert "ENDRPI_ALLOWED_HOSTS" in refusal
    for host in (b"192.168.1.20:5000", b"localhost:5000", f"{OWN_NAME}.local:5000".encode()):
        origin = b"http://" + host
        communicator = await handshake([(b"host", host), (b"origin", origin)])
        await communicator.send_json_to({"action": "READ_UPTIME"})
        assert (await communicator.receive_json_from())["success"] is True
        await communicator.disconnect()


async def test_a_websocket_to_a_listed_name_is_answered(settings):
    settings.ENDRPI_ALLOWED_HOSTS = ["evil.example"]  # the owner's choice
    communicator = await handshake(REBINDING)
    await communicator.send_json_to({"action": "READ_UPTIME"})
    assert (await communicator.receive_json_from())["success"] is True
    await communicator.disconnect()


def test_rest_refuses_a_dns_rebinding_host_with_the_default_settings_and_says_why(settings, gpio):
    settings.ENDRPI_ALLOWED_HOSTS = []
    client = Client()
    before = client.get("/pins/GPIO17", HTTP_HOST="127.0.0.1:5000").json()
    host, origin = "evil.example:5000", "http://evil.example:5000"
    for answer in (
        client.get("/pins/GPIO17", HTTP_HOST=host, HTTP_ORIGIN=origin),
        client.put(
            "/pins/GPIO17",
            {"io": "OUTPUT", "state": 1},
            content_type="application/json",
            HTTP_HOST=host,
            HTTP_ORIGIN=origin,
        ),
    ):
        assert answer.status_code == 400
        message = answer.json()["message"]
        assert message.startswith("Host not allowed: 'evil.example' is not an IP address, localhost")
        assert message.endswith("add it to ENDRPI_ALLOWED_HOSTS to reach the server by that name")
    assert client.get("/pins/GPIO17", HTTP_HOST="127.0.0.1:5000").json() == before
    page = client.get("/", HTTP_HOST="evil.example:5000", HTTP_ACCEPT="text/html")
    assert page.status_code == 400
    assert b"ENDRPI_ALLOWED_HOSTS" in page.content  # a browser is told why too
    for host in ("192.168.1.20:5000", "[::1]:5000", "localhost:5000", OWN_NAME, f"{OWN_NAME}.local:5000"):
        assert client.get("/system/uptime", HTTP_HOST=host).status_code == 200, host


def test_rest_answers_a_name_listed_in_endrpi_allowed_hosts(settings):
    settings.ENDRPI_ALLOWED_HOSTS = ["pi.example"]
    client = Client()
    assert client.get("/system/uptime", HTTP_HOST="pi.example:5000").status_code == 200
    assert client.get("/system/uptime", HTTP_HOST="evil.example").status_code == 400
