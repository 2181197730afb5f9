"""Access tokens: the modes of ENDRPI_AUTH over REST and WebSocket, the admin and the command."""

from __future__ import annotations

import io
import logging
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from endrpi_project.access.models import AccessToken
from endrpi_project.access.tokens import (
    CLOSE_TOKEN_REQUIRED,
    access_exposure_warn,
    access_token_authenticate,
    access_token_create,
    access_token_revoke,
    access_token_use_flush,
    bearer_secret,
    websocket_secret,
)
from endrpi_project.api.errors import InvalidRequest, NotFound, Unauthorized
from endrpi_project.asgi import application

OUTPUT_HIGH = {"io": "OUTPUT", "state": 1.0}
UPDATE = {"action": "UPDATE_PIN_CONFIGURATIONS", "params": {"pins": {"GPIO17": OUTPUT_HIGH}}}

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def reader() -> str:
    return access_token_create(name="reader", scope="read")[1]


@pytest.fixture
def writer() -> str:
    return access_token_create(name="writer", scope="read-write")[1]


def bearer(secret: str) -> dict[str, Any]:
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def put(client: Client, body=None, **headers):
    return client.put("/pins/GPIO17", body or OUTPUT_HIGH, content_type="application/json", **headers)


def test_it_stores_only_a_hash_and_a_prefix_of_the_secret(writer):
    token = AccessToken.objects.get(name="writer")
    assert writer.startswith("endrpi_")
    assert len(writer) > 40
    assert writer not in (token.secret_hash, token.prefix)
    assert writer.startswith(token.prefix)
    assert token.can_write
    assert token.is_active


def test_it_refuses_a_token_without_name_a_duplicate_name_or_an_unknown_scope(reader):
    with pytest.raises(InvalidRequest, match="name"):
        access_token_create(name="  ", scope="read")
    with pytest.raises(InvalidRequest, match="already exists"):
        access_token_create(name="reader", scope="read")
    with pytest.raises(InvalidRequest, match="Scope"):
        access_token_create(name="admin", scope="admin")


def test_it_authenticates_a_token_records_its_use_afterwards_and_refuses_it_once_revoked(reader):
    token = access_token_authenticate(secret=reader)
    assert token.name == "reader"
    assert AccessToken.objects.get(name="reader").last_used is None  # checking a token only reads
    assert access_token_use_flush() == 1  # the background writer's step
    assert AccessToken.objects.get(name="reader").last_used is not None
    access_token_authenticate(secret=reader)
    assert access_token_use_flush() == 0  # at most once a minute
    access_token_revoke(name="reader")
    access_token_revoke(name="reader")
    with pytest.raises(Unauthorized, match="revoked"):
        access_token_authenticate(secret=reader)
    with pytest.raises(NotFound):
        access_token_revoke(name="nobody")


def test_it_reads_a_bearer_header_and_refuses_a_malformed_one():
    assert bearer_secret(None) is None
    assert bearer_secret("Bearer abc") == "abc"
    assert bearer_secret("bearer  abc ") == "abc"
    for malformed in ("Basic abc", "Bearer", "Bearer a b", "abc"):
        with pytest.raises(Unauthorized, match="Malformed"):
            bearer_secret(malformed)


def test_it_reads_a_websocket_token_from_the_subprotocol_or_the_query_string():
    assert websocket_secret(query_string=b"token=abc", subprotocols=[]) == "abc"
    assert websocket_secret(query_string=b"", subprotocols=["endrpi", "endrpi.token.xyz"]) == "xyz"
    assert websocket_secret(query_string=b"token=abc", subprotocols=["endrpi.token.xyz"]) == "xyz"
    assert websocket_secret(query_string=b"other=1", subprotocols=["endrpi"]) is None


# --- REST -------------------------------------------------------------------------------------


def test_mode_off_lets_every_request_in_and_ignores_any_token(settings, gpio):
    settings.ENDRPI_AUTH = "off"
    client = Client()
    assert client.get("/system/uptime").status_code == 200
    assert put(client).status_code == 200
    assert put(client, **bearer("not-a-token")).status_code == 200


def test_mode_write_keeps_reads_open_and_asks_a_token_for_a_pin_update(settings, reader, writer):
    settings.ENDRPI_AUTH = "write"
    client = Client()
    assert client.get("/pins/GPIO17").status_code == 200
    missing = put(client)
    assert missing.status_code == 401
    assert missing.json() == {"message": "This request needs a read-write access token (ENDRPI_AUTH=write)"}
    assert missing["WWW-Authenticate"] == 'Bearer realm="endrpi"'
    read_only = put(client, **bearer(reader))
    assert read_only.status_code == 403
    assert "read scope" in read_only.json()["message"]
    assert put(client, **bearer(writer)).json() == {"message": put(client, **bearer(writer)).json()["message"]}
    assert put(client, **bearer(writer)).status_code == 200


def test_mode_write_refuses_an_invalid_token_even_on_a_read(settings):
    settings.ENDRPI_AUTH = "write"
    response = Client().get("/system/uptime", **bearer("endrpi_wrong"))
    assert response.status_code == 401
    assert response.json() == {"message": "Invalid or revoked access token"}


def test_mode_all_asks_a_token_for_every_request(settings, reader, writer):
    settings.ENDRPI_AUTH = "all"
    client = Client()
    refused = client.get("/system/temperature")
    assert refused.status_code == 401
    assert refused.json() == {"message": "This request needs an access token (ENDRPI_AUTH=all)"}
    assert client.get("/system/temperature", **bearer(reader)).status_code == 200
    assert put(client, **bearer(reader)).status_code == 403
    assert put(client, **bearer(writer)).status_code == 200
    access_token_revoke(name="writer")
    assert put(client, **bearer(writer)).status_code == 401


# --- WebSocket --------------------------------------------------------------------------------


async def connect(path: str = "/", subprotocols: list[str] | None = None) -> tuple[WebsocketCommunicator, Any]:
    communicator = WebsocketCommunicator(application, path, subprotocols=subprotocols)
    connected, detail = await communicator.connect()
    assert connected
    return communicator, detail


async def ask(communicator: WebsocketCommunicator, message: dict[str, Any]) -> Any:
    await communicator.send_json_to(message)
    return await communicator.receive_json_from()


async def test_websocket_mode_off_answers_updates_without_a_token(settings):
    settings.ENDRPI_AUTH = "off"
    communicator, _ = await connect()
    assert (await ask(communicator, UPDATE))["success"] is True
    await communicator.disconnect()


async def test_websocket_mode_write_answers_an_update_without_token_with_an_error_envelope(settings, reader):
    settings.ENDRPI_AUTH = "write"
    communicator, _ = await connect()
    assert (await ask(communicator, {"action": "READ_TEMPERATURE"}))["success"] is True
    assert await ask(communicator, UPDATE) == {
        "action": "UPDATE_PIN_CONFIGURATIONS",
        "success": False,
        "data": None,
        "error": "This request needs a read-write access token (ENDRPI_AUTH=write)",
    }
    await communicator.disconnect()
    communicator, _ = await connect(f"/?token={reader}")
    reply = await ask(communicator, UPDATE)
    assert reply["success"] is False
    assert "read scope" in reply["error"]
    await communicator.disconnect()


async def test_websocket_a_token_in_the_query_still_counts_beside_summaries(settings, writer, host_root):
    settings.ENDRPI_AUTH = "write"
    communicator, _ = await connect(f"/?summaries=1&token={writer}")
    assert (await ask(communicator, UPDATE))["success"] is True
    host_root.remove("sys/class/thermal/thermal_zone0/temp")
    reply = await ask(communicator, {"action": "READ_TEMPERATURE"})
    assert reply["summary"] == "Temperature unavailable: this machine has no SoC thermal sensor"
    await communicator.disconnect()


async def test_websocket_mode_write_takes_a_read_write_token_as_subprotocol_and_does_not_echo_it(settings, writer):
    settings.ENDRPI_AUTH = "write"
    communicator, subprotocol = await connect(subprotocols=["endrpi", f"endrpi.token.{writer}"])
    assert subprotocol == "endrpi"
    assert (await ask(communicator, UPDATE))["success"] is True
    await communicator.disconnect()


async def test_websocket_stops_writes_of_a_token_revoked_while_connected(settings, writer):
    settings.ENDRPI_AUTH = "write"
    communicator, _ = await connect(f"/?token={writer}")
    assert (await ask(communicator, UPDATE))["success"] is True
    await database_sync_to_async(access_token_revoke, thread_sensitive=False)(name="writer")
    reply = await ask(communicator, UPDATE)
    assert reply["error"] == "Invalid or revoked access token"
    await communicator.disconnect()


@pytest.mark.parametrize("path", ["/", "/?token=endrpi_wrong"])
async def test_websocket_mode_all_closes_with_4401_without_a_valid_token(settings, path):
    settings.ENDRPI_AUTH = "all"
    communicator, _ = await connect(path)
    refusal = await communicator.receive_json_from()  # the reason, since daphne drops a close reason
    assert refusal["success"] is False
    assert "token" in refusal["error"]
    closed = await communicator.receive_output()
    assert closed["type"] == "websocket.close"
    assert closed["code"] == CLOSE_TOKEN_REQUIRED
    assert closed["reason"] == refusal["error"]
    await communicator.wait()


async def test_websocket_mode_write_refuses_an_invalid_token_as_rest_does(settings):
    settings.ENDRPI_AUTH = "write"
    communicator, _ = await connect("/?token=endrpi_wrong")
    refusal = await communicator.receive_json_from()
    assert refusal["error"] == "Invalid or revoked access token"
    closed = await communicator.receive_output()
    assert closed["type"] == "websocket.close"
    assert closed["code"] == CLOSE_TOKEN_REQUIRED
    await communicator.wait()


async def test_websocket_mode_write_still_reads_without_a_token(settings):
    settings.ENDRPI_AUTH = "write"
    communicator, _ = await connect("/")
    assert (await ask(communicator, {"action": "READ_UPTIME", "id": 1}))["success"] is True
    await communicator.disconnect()


async def test_websocket_mode_all_reads_with_a_read_token_and_refuses_its_writes(settings, reader, caplog):
    settings.ENDRPI_AUTH = "all"
    communicator, subprotocol = await connect(subprotocols=[f"endrpi.token.{reader}"])
    assert subprotocol is None  # never the token: a browser needs "endrpi" offered first
    assert "Offer 'endrpi' first" in caplog.text
    assert (await ask(communicator, {"action": "READ_UPTIME", "id": 7}))["success"] is True
    reply = await ask(communicator, UPDATE)
    assert reply["success"] is False
    assert "read-write" in reply["error"]
    await communicator.disconnect()


# --- Start-up warning, management command, admin ----------------------------------------------


@pytest.mark.parametrize(
    ("mode", "host", "warns"),
    [
        ("off", "0.0.0.0", True),
        ("off", "", True),
        ("off", "127.0.0.1", False),
        ("off", "localhost", False),
        ("off", "::1", False),
        ("off", "192.168.1.20", True),
        ("write", "0.0.0.0", False),
        ("all", "", False),
    ],
)
def test_it_warns_at_start_up_when_an_open_server_is_reachable_from_the_network(settings, caplog, mode, host, warns):
    settings.ENDRPI_AUTH = mode
    settings.ENDRPI_HOST = host
    with caplog.at_level(logging.WARNING, logger="endrpi_project.access.tokens"):
        assert access_exposure_warn() is warns
    assert ("ENDRPI_AUTH is off" in caplog.text) is warns


def test_the_command_creates_lists_and_revokes_tokens():
    out, err = io.StringIO(), io.StringIO()
    call_command("endrpi_token", "create", "robot", "--scope", "read-write", stdout=out, stderr=err)
    secret = out.getvalue().strip()
    assert "shown only now" in err.getvalue()
    assert access_token_authenticate(secret=secret).name == "robot"
    listing = io.StringIO()
    call_command("endrpi_token", "list", stdout=listing)
    assert "robot\tread-write" in listing.getvalue()
    assert secret not in listing.getvalue()
    call_command("endrpi_token", "revoke", "robot", stdout=io.StringIO())
    listing = io.StringIO()
    call_command("endrpi_token", "list", stdout=listing)
    assert "revoked" in listing.getvalue()
    with pytest.raises(CommandError, match="No access token named 'ghost'"):
        call_command("endrpi_token", "revoke", "ghost")
    with pytest.raises(CommandError, match="already exists"):
        call_command("endrpi_token", "create", "robot", stdout=io.StringIO(), stderr=io.StringIO())


def test_the_admin_shows_a_new_token_once_and_revokes_tokens():
    admin = User.objects.create_superuser("admin", "admin@example.com", "pw")
    client = Client()
    client.force_login(admin)
    response = client.post("/admin/access/accesstoken/add/", {"name": "dashboard", "scope": "read-write"}, follow=True)
    assert response.status_code == 200
    shown = [str(message) for message in response.context["messages"] if "Copy it now" in str(message)]
    assert len(shown) == 1
    secret = shown[0].rsplit(" ", 1)[1]
    token = access_token_authenticate(secret=secret)
    assert token.name == "dashboard"
    assert token.can_write
    page = client.get(f"/admin/access/accesstoken/{token.pk}/change/")
    assert secret not in page.content.decode()
    client.post(
        "/admin/access/accesstoken/",
        {"action": "revoke", "_selected_action": [token.pk]},
    )
    assert not AccessToken.objects.get(pk=token.pk).is_active


def test_with_access_control_off_the_openapi_schema_asks_for_no_token(settings):
    settings.ENDRPI_AUTH = "off"
    schema = Client().get("/api/schema", {"format": "json"}).json()
    assert "securitySchemes" not in schema.get("components", {})
    for operations in schema["paths"].values():
        for operation in operations.values():
            assert "security" not in operation


@pytest.mark.parametrize(("mode", "get_optional", "put_optional"), [("write", True, False), ("all", False, False)])
def test_the_openapi_schema_describes_bearer_tokens_as_the_mode_asks(settings, mode, get_optional, put_optional):
    settings.ENDRPI_AUTH = mode
    schema = Client().get("/api/schema", {"format": "json"}).json()
    assert schema["components"]["securitySchemes"]["accessToken"]["scheme"] == "bearer"
    pin = schema["paths"]["/pins/{pin_id}"]
    assert ({} in pin["get"]["security"]) is get_optional
    assert ({} in pin["put"]["security"]) is put_optional
    assert {"accessToken": []} in pin["put"]["security"]
