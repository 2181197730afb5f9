"""Inputs that used to answer a 500 with a logged traceback, or an HTML error page, answer a clear Message.

Each goes through the real ASGI application, as daphne would deliver it.
"""

from __future__ import annotations

import contextlib
import json
import logging
from typing import Any

import pytest
from channels.testing import HttpCommunicator
from rest_framework.exceptions import ParseError

from endrpi_project.api.parsers import json_body_decode
from endrpi_project.asgi import application
from tests.helpers import websocket

pytestmark = pytest.mark.django_db(transaction=True)


async def send(
    method: str, path: str, body: bytes = b"", accept: str = "*/*", content_type: str = "application/json"
) -> tuple[int, dict[str, str], Any]:
    headers = [(b"accept", accept.encode()), (b"host", b"127.0.0.1:5000")]
    if body:
        headers += [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]
    communicator = HttpCommunicator(application, method, path, body=body, headers=headers)
    response = await communicator.get_response(timeout=30)
    response_headers = {key.decode().lower(): value.decode() for key, value in response["headers"]}
    return response["status"], response_headers, response["body"]


def message(headers: dict[str, str], body: bytes) -> str:
    assert headers["content-type"] == "application/json"
    decoded: dict[str, str] = json.loads(body)
    assert list(decoded) == ["message"]
    return decoded["message"]


@pytest.fixture
def no_tracebacks(caplog):
    """Fails the test if anything was logged with a traceback (what a 500 leaves behind)."""
    with caplog.at_level(logging.WARNING):
        yield
    assert not [record for record in caplog.records if record.exc_info], caplog.text


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"io":"\\ud800"}', "Malformed request body: a string holds a lone surrogate escape"),
        (b'{"io":"OUTPUT","state":1,"pull":"\\udfff"}', "Malformed request body: a string holds a lone surrogate"),
        (b'{"\\ud800":1}', "Malformed request body: a string holds a lone surrogate"),
        (b"[" * 1000 + b"]" * 1000, "Malformed request body: JSON nested too deeply"),
        (b'{"io":' + b"[" * 5000 + b"]" * 5000 + b"}", "Malformed request body: JSON nested too deeply"),
        (b"\xff\xfe", "Malformed request body: not UTF-8 text (byte 0)"),
        (b'{"io": NaN}', "Malformed request body: JSON parse error - NaN is not valid JSON"),
    ],
)
async def test_a_body_that_is_not_json_text_is_a_400_naming_the_problem(body, expected, no_tracebacks):
    status, headers, reply = await send("PUT", "/pins/GPIO17", body)
    assert status == 400
    assert message(headers, reply).startswith(expected)


@pytest.mark.parametrize("frame", ['{"action":"READ_MEMORY","id":"\\ud800"}', '{"action":"\\udfff"}'])
async def test_the_websocket_refuses_a_lone_surrogate_as_rest_does(frame, no_tracebacks):
    async with websocket() as client:
        reply = await client.send_text(frame)
        assert reply["success"] is False
        assert reply["error"] == (
            "Received invalid message: a string holds a lone surrogate escape (\\ud800-\\udfff), which is not text"
        )
        assert (await client.request("READ_MEMORY", id=1))["success"] is True  # and the connection stays open


async def test_a_pair_of_surrogate_escapes_is_one_character_and_is_accepted(no_tracebacks):
    status, headers, reply = await send("PUT", "/pins/GPIO17", b'{"io":"\\ud83d\\ude00"}')
    assert status == 400
    assert "io" in message(headers, reply)  # "😀" is not a valid choice: an ordinary validation error


@pytest.mark.parametrize("depth", [1, 10, 100, 500, 900, 990, 999, 1001, 3000])
def test_nesting_at_any_depth_is_parsed_or_refused_never_raised_through(depth):
    for opening, closing in ((b"[", b"]"), (b'{"a":', b"}")):
        raw = opening * depth + b"1" + closing * depth
        with contextlib.suppress(ParseError):  # anything else (RecursionError) fails the test
            json_body_decode(raw)


async def test_a_body_over_the_upload_limit_is_a_413_saying_the_limit(no_tracebacks):
    body = b'{"io":"OUTPUT","state":1,"pad":"' + b"a" * (2_621_440 + 10) + b'"}'
    status, headers, reply = await send("PUT", "/pins/GPIO17", body)
    assert status == 413
    assert message(headers, reply) == "Request body too large: at most 2621440 bytes"


@pytest.mark.parametrize("method", ["PUT", "POST", "DELETE", "PATCH"])
async def test_writing_to_the_favicon_is_a_405_message_not_a_redirect(method, no_tracebacks):
    status, headers, reply = await send(method, "/favicon.ico", b"{}")
    assert status == 405
    assert message(headers, reply) == f"Method Not Allowed: {method} /favicon.ico (allowed: GET, HEAD, OPTIONS)"
    assert headers["allow"] == "GET, HEAD, OPTIONS"


@pytest.mark.parametrize(
    ("method", "path", "accept", "status_code"),
    [
        ("GET", "/docs?url=", "application/json", 406),
        ("GET", "/docs?url=http://evil.example/x.json", "application/json", 406),
        ("GET", "/docs?format=x", "*/*", 404),
        ("PUT", "/docs", "*/*", 405),
        ("PUT", "/", "*/*", 403),  # Django's CSRF check comes before the page's method check
        ("POST", "/docs/websocket", "*/*", 403),
        ("PUT", "/api/schema", "*/*", 405),
        ("GET", "/api/schema", "text/plain", 406),
        ("PUT", "/static/endrpi/favicon.svg", "*/*", 405),
    ],
)
async def test_every_error_is_a_json_message_unless_a_browser_asks_for_html(method, path, accept, status_code):
    status, headers, reply = await send(method, path, b"{}" if method != "GET" else b"", accept=accept)
    assert status == status_code
    assert message(headers, reply).startswith(
        {403: "Forbidden by the CSRF check", 404: "Not Found", 405: "Method Not Allowed", 406: "Not Acceptable"}[
            status_code
        ]
    )


async def test_a_browser_still_gets_its_html_pages():
    status, headers, _ = await send("GET", "/docs?url=", accept="text/html,application/xhtml+xml")
    assert status == 200
    assert headers["content-type"].startswith("text/html")
    status, headers, _ = await send("GET", "/no/such/page", accept="text/html")
    assert status == 404
    assert headers["content-type"].startswith("text/html")
