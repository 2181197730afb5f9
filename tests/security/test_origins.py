"""The origin check on the WebSocket, CORS on REST, and why a cross-site page cannot PUT a pin."""

from __future__ import annotations

import json

import pytest
from channels.testing import WebsocketCommunicator
from django.core.checks import run_checks
from django.test import Client

from endrpi_project.access.origins import CLOSE_ORIGIN_REFUSED, Origin, origin_allowed, origin_parse, origins_configured
from endrpi_project.asgi import application

# The consumer reads pin settings from the database (and closes old connections around it), as
# in the core WebSocket tests.
pytestmark = pytest.mark.django_db(transaction=True)


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
    closed = await communicator.receive_output()
    assert closed == {"type": "websocket.close", "code": CLOSE_ORIGIN_REFUSED, "reason": closed["reason"]}
    assert "ENDRPI_ALLOWED_ORIGINS" in closed["reason"]
    await communicator.wait()


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


async def test_a_dns_rebinding_page_is_refused_once_allowed_hosts_names_the_pi(settings):
    # evil.example resolved to the Pi: Origin and Host agree, so only ALLOWED_HOSTS can tell.
    rebinding = [(b"host", b"evil.example:5000"), (b"origin", b"http://evil.example:5000")]
    communicator = await handshake(rebinding)
    await communicator.send_json_to({"action": "READ_UPTIME"})
    assert (await communicator.receive_json_from())["success"] is True  # the default ALLOWED_HOSTS is "*"
    await communicator.disconnect()

    settings.ALLOWED_HOSTS = ["pi.lan", "192.168.1.20"]
    communicator = await handshake(rebinding)
    closed = await communicator.receive_output()
    assert closed["code"] == CLOSE_ORIGIN_REFUSED
    assert "ENDRPI_ALLOWED_HOSTS" in closed["reason"]
    await communicator.wait()
    for host in (b"pi.lan:5000", b"192.168.1.20:5000"):
        communicator = await handshake([(b"host", host)])
        await communicator.send_json_to({"action": "READ_UPTIME"})
        assert (await communicator.receive_json_from())["success"] is True
        await communicator.disconnect()


def test_rest_refuses_a_host_outside_allowed_hosts_with_a_message(settings):
    settings.ALLOWED_HOSTS = ["pi.lan"]
    client = Client()
    refused = client.get("/system/uptime", HTTP_HOST="evil.example", HTTP_ACCEPT="application/json")
    assert refused.status_code == 400
    assert refused.json() == {"message": "Host not allowed: add it to ENDRPI_ALLOWED_HOSTS"}
    assert client.get("/system/uptime", HTTP_HOST="pi.lan:5000").status_code == 200
