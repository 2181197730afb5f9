"""A WebSocket stops being answered and pushed to once its token is revoked, as REST refuses the next request.

No test waits on a clock: the watcher's pause between checks is a ticker the test releases by hand, so a
revocation made in this process is seen with no tick at all (the model's save signal wakes the watcher), and
one made elsewhere (a row updated by another process: no signal here) on the first tick after it. The live
test runs the real case: ``manage.py endrpi_token revoke`` in its own process against a real daphne.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from endrpi_project.access.models import AccessToken
from endrpi_project.access.revocation import TOKEN_CHECK_INTERVAL, token_watch
from endrpi_project.access.tokens import CLOSE_TOKEN_REQUIRED, INVALID_TOKEN, access_token_create, access_token_revoke
from endrpi_project.asgi import application
from endrpi_project.push import hub
from pins.events import PINS_GROUP
from tests.security.test_database_faults import write_locked_table

pytestmark = pytest.mark.django_db(transaction=True)


class Ticker:
    """The watcher's pause between checks, ended only by :meth:`tick`."""

    def __init__(self) -> None:
        self.ticks: asyncio.Queue[None] = asyncio.Queue()

    async def sleep(self, seconds: float) -> None:
        assert seconds == TOKEN_CHECK_INTERVAL
        await self.ticks.get()

    def tick(self) -> None:
        self.ticks.put_nowait(None)


@pytest.fixture
def ticker(monkeypatch) -> Iterator[Ticker]:
    ticker = Ticker()
    monkeypatch.setattr(token_watch, "sleep", ticker.sleep)
    monkeypatch.setattr(token_watch, "_failure_logged", None)  # a failure logged by an earlier test is not this one's
    yield ticker
    assert not token_watch.held(), "a closed connection still holds its token in the watcher"


@pytest.fixture
def reader() -> str:
    return access_token_create(name="reader", scope="read")[1]


async def open_socket(secret: str) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, f"/?token={secret}")
    assert (await communicator.connect())[0]
    await communicator.send_to(text_data=json.dumps({"action": "READ_UPTIME", "id": 1}))
    assert json.loads(await communicator.receive_from(timeout=5))["success"] is True
    return communicator


async def assert_told_and_closed(communicator: WebsocketCommunicator) -> None:
    told = json.loads(await communicator.receive_from(timeout=10))
    assert told == {"action": None, "success": False, "data": None, "error": INVALID_TOKEN}
    closed = await communicator.receive_output(timeout=10)
    assert closed == {"type": "websocket.close", "code": CLOSE_TOKEN_REQUIRED, "reason": INVALID_TOKEN}


async def assert_answers_nothing_more(communicator: WebsocketCommunicator) -> None:
    await communicator.send_to(text_data=json.dumps({"action": "READ_UPTIME", "id": 2}))
    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()


@pytest.mark.parametrize("mode", ["all", "write"])
async def test_a_token_revoked_in_this_process_closes_its_websocket_without_waiting_for_a_check(
    settings, ticker, reader, mode
):
    settings.ENDRPI_AUTH = mode  # mode write too: REST refuses a revoked token that is presented, reads included
    communicator = await open_socket(reader)
    await database_sync_to_async(access_token_revoke)(name="reader")  # the admin, or endrpi_token here
    await assert_told_and_closed(communicator)  # no tick: the save woke the watcher
    await assert_answers_nothing_more(communicator)


async def test_a_token_revoked_by_another_process_closes_its_websocket_at_the_next_check(settings, ticker, reader):
    settings.ENDRPI_AUTH = "all"
    communicator = await open_socket(reader)
    # As manage.py endrpi_token revoke does from its own process: the row changes, no signal reaches us.
    revoke = AccessToken.objects.filter(name="reader").update
    await database_sync_to_async(revoke)(revoked=timezone.now())
    await communicator.send_to(text_data=json.dumps({"action": "READ_UPTIME", "id": 3}))
    assert json.loads(await communicator.receive_from(timeout=5))["id"] == 3  # not checked yet
    ticker.tick()
    await assert_told_and_closed(communicator)
    await assert_answers_nothing_more(communicator)


async def test_a_deleted_token_closes_its_websocket_too(settings, ticker, reader):
    settings.ENDRPI_AUTH = "all"
    communicator = await open_socket(reader)
    await database_sync_to_async(AccessToken.objects.filter(name="reader").delete)()
    ticker.tick()
    await assert_told_and_closed(communicator)
    await communicator.disconnect()


async def test_a_revoked_token_stops_the_pushes_of_its_subscriptions(settings, ticker, reader):
    settings.ENDRPI_AUTH = "all"
    communicator = await open_socket(reader)
    await communicator.send_to(text_data=json.dumps({"action": "SUBSCRIBE", "params": {"topic": "PINS"}}))
    assert json.loads(await communicator.receive_from(timeout=5))["success"] is True
    assert hub.hub.members(PINS_GROUP) == 1
    await database_sync_to_async(access_token_revoke)(name="reader")
    await assert_told_and_closed(communicator)
    assert hub.hub.members(PINS_GROUP) == 0  # unsubscribed: nothing is pushed to it any more
    hub.publish(PINS_GROUP, action="PIN_CONFIGURATIONS_CHANGED", data={"GPIO17": {"io": "OUTPUT"}})
    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()


@pytest.fixture
def other() -> str:
    return access_token_create(name="other", scope="read")[1]


async def test_other_tokens_connections_carry_on(settings, ticker, reader, other):
    settings.ENDRPI_AUTH = "all"
    revoked, kept = await open_socket(reader), await open_socket(other)
    await database_sync_to_async(access_token_revoke)(name="reader")
    await assert_told_and_closed(revoked)
    await kept.send_to(text_data=json.dumps({"action": "READ_UPTIME", "id": 4}))
    assert json.loads(await kept.receive_from(timeout=5))["id"] == 4
    await revoked.disconnect()
    await kept.disconnect()


async def test_a_check_the_database_cannot_answer_revokes_nothing(settings, ticker, reader, caplog):
    settings.ENDRPI_AUTH = "all"
    communicator = await open_socket(reader)
    with write_locked_table("access_accesstoken"), caplog.at_level(logging.WARNING):
        await token_watch.check()
    assert "Could not check whether open connections' tokens were revoked" in caplog.text
    await communicator.send_to(text_data=json.dumps({"action": "READ_UPTIME", "id": 5}))
    assert json.loads(await communicator.receive_from(timeout=5))["id"] == 5
    await communicator.disconnect()


def test_the_watcher_checks_often_enough_to_close_within_a_second():
    # A bound, not a timing: a revocation elsewhere is seen at the next check, one interval plus one query.
    assert TOKEN_CHECK_INTERVAL <= 0.5


async def test_a_connection_without_a_token_is_not_watched(settings, ticker):
    settings.ENDRPI_AUTH = "write"
    communicator = WebsocketCommunicator(application, "/")
    assert (await communicator.connect())[0]
    assert not token_watch.held()
    await communicator.disconnect()


@pytest.mark.slow
def test_live_a_token_revoked_with_the_command_line_closes_its_websocket_on_a_real_daphne(tmp_path):
    """The real case: ``manage.py endrpi_token revoke`` in its own process, a daphne serving the socket."""
    import websockets.sync.client
    from websockets.exceptions import ConnectionClosed

    from endrpi_project.testing.live import live_server
    from tests.security.test_database_faults import create_token, host_tree, manage

    data = tmp_path / "data"
    with live_server(data, {**host_tree(tmp_path), "ENDRPI_AUTH": "all"}) as server:
        secret = create_token(data, "reader", "read")
        with websockets.sync.client.connect(f"{server.ws_url}?token={secret}", proxy=None, open_timeout=30) as socket:
            socket.send(json.dumps({"action": "READ_UPTIME", "id": 1}))
            assert json.loads(socket.recv(timeout=30))["id"] == 1
            manage(data, "endrpi_token", "revoke", "reader")
            told = json.loads(socket.recv(timeout=30))  # a bound for a hang, not a speed
            assert told == {"action": None, "success": False, "data": None, "error": INVALID_TOKEN}
            with pytest.raises(ConnectionClosed) as closed:
                socket.recv(timeout=30)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == CLOSE_TOKEN_REQUIRED
