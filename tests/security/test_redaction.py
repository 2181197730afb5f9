"""Access tokens never reach a log: daphne's access log, Django's and our own log records."""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from io import StringIO

import daphne.cli
import pytest
import websockets.sync.client
from websockets.exceptions import ConnectionClosed

from endrpi_project.access import redaction
from endrpi_project.access.redaction import RedactingAccessLogGenerator, RedactSecretsFilter, secrets_redact
from endrpi_project.testing.live import LiveServer, live_server
from tests.security.test_database_faults import create_token, host_tree

SECRET = "endrpi_Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA-_x"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"GET /system/uptime?token={SECRET}", "GET /system/uptime?token=[redacted]"),
        (f"GET /pins?a=1&token={SECRET}&b=2", "GET /pins?a=1&token=[redacted]&b=2"),
        (f"GET /?access_token={SECRET}#x", "GET /?access_token=[redacted]#x"),
        ("GET /?token=not-one-of-ours", "GET /?token=[redacted]"),
        (
            f"Sec-WebSocket-Protocol: endrpi, endrpi.token.{SECRET}",
            "Sec-WebSocket-Protocol: endrpi, endrpi.token.[redacted]",
        ),
        (f"Authorization: Bearer {SECRET}", "Authorization: Bearer endrpi_[redacted]"),
        ("GET /system/uptime?tokens=1", "GET /system/uptime?tokens=1"),
        ("endrpi_project.access.tokens: nothing secret here", "endrpi_project.access.tokens: nothing secret here"),
    ],
)
def test_it_redacts_tokens_and_keeps_the_rest(text, expected):
    assert secrets_redact(text) == expected


def test_a_log_record_holding_a_token_is_written_redacted():
    stream = StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactSecretsFilter())
    logger = logging.getLogger("tests.redaction")
    logger.addHandler(handler)
    try:
        logger.warning("Unauthorized: %s", f"/system/uptime?token={SECRET}")
    finally:
        logger.removeHandler(handler)
    assert stream.getvalue() == "Unauthorized: /system/uptime?token=[redacted]\n"


def test_the_configured_log_handler_redacts():
    handlers = [handler for handler in logging.getLogger().handlers if handler.get_name() == "console"]
    assert handlers
    assert any(isinstance(found, RedactSecretsFilter) for found in handlers[0].filters)


def test_daphnes_access_log_lines_are_written_redacted():
    stream = StringIO()
    RedactingAccessLogGenerator(stream)(
        "http",
        "complete",
        {"path": f"/system/uptime?token={SECRET}", "status": 401, "method": "GET", "client": "1.2.3.4:5", "size": 9},
    )
    assert SECRET not in stream.getvalue()
    assert '"GET /system/uptime?token=[redacted]" 401 9' in stream.getvalue()
    RedactingAccessLogGenerator(stream).write_entry("1.2.3.4:5", datetime.now(), f"WSCONNECT /?token={SECRET}")
    assert SECRET not in stream.getvalue()


@pytest.fixture
def restore_daphne_cli() -> Iterator[None]:
    original = daphne.cli.AccessLogGenerator
    yield
    daphne.cli.AccessLogGenerator = original


def test_the_adapter_replaces_the_access_log_class_daphnes_command_line_builds(restore_daphne_cli):
    """Under daphne's command line the ASGI module installs the redacting access log. That daphne still
    builds its access log from this name after importing the application is guarded by behaviour: the
    live test below finds daphne's own access line for a URL with a token, redacted."""
    assert redaction.access_log_redact() is True
    assert daphne.cli.AccessLogGenerator is RedactingAccessLogGenerator


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[LiveServer]:
    base = tmp_path_factory.mktemp("redaction")
    with live_server(base / "data", {**host_tree(base), "ENDRPI_AUTH": "all"}) as live:
        yield live


@pytest.mark.slow
def test_live_a_token_in_a_url_is_not_in_the_servers_log(server):
    token = create_token(server.log.parent, "in-url", "read")
    for path in ("/system/uptime", "/no/such/page"):
        # REST reads tokens from Authorization only: a ?token= is not taken (401, or 404 for no route), nor logged
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{server.http_url}{path}?token={token}", timeout=10)
        assert refused.value.code in (401, 404)
    with websockets.sync.client.connect(f"{server.ws_url}?token={token}", proxy=None) as socket:
        socket.send(json.dumps({"action": "READ_UPTIME"}))
        assert json.loads(socket.recv(timeout=10))["success"] is True
    with websockets.sync.client.connect(f"{server.ws_url}?token=endrpi_wrong_but_secret_looking", proxy=None) as socket:
        refusal = json.loads(socket.recv(timeout=10))
        assert "Invalid or revoked" in refusal["error"]
        with pytest.raises(ConnectionClosed):
            socket.recv(timeout=10)
    log = server.log.read_text()
    assert "/system/uptime?token=[redacted]" in log  # daphne's access line is there, redacted
    assert token not in log
    assert token[len("endrpi_") :] not in log
    assert "wrong_but_secret_looking" not in log
