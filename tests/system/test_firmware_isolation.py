"""A firmware that hangs holds its own small pool only: pin and database work go on (issue 13).

Through the real ASGI application: eight WebSocket clients and two REST requests wait on a firmware
that does not answer, and meanwhile another client reads and updates pins and subscribes, and is
answered, before the firmware answers anyone. Every waiter shares one call to the firmware.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import threading

import pytest
from channels.testing import HttpCommunicator, WebsocketCommunicator

from endrpi_project.api.errors import ReadingFailed
from endrpi_project.asgi import application
from system import parsers, services
from system.hardware import firmware
from tests.helpers import http_get, websocket
from tests.system.fake_firmware import FakeVideoCore, firmware_calls_settle

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def hung(host_root, settings):
    """A firmware that stops answering (released by the test, or at the end)."""
    settings.ENDRPI_FIRMWARE_TIMEOUT = 60  # the waiters must still be waiting when the pins answer
    settings.ENDRPI_VCGENCMD = "/nonexistent/vcgencmd"
    fake = FakeVideoCore(devices=("vcio",), hang_seconds=60)
    host_root.write(firmware.KERNEL_RELEASE, "6.6.51+rpt-rpi-v8\n")
    previous = firmware.install_mailbox_device(fake)
    fake.hang()
    yield fake
    fake.answer_again()
    firmware_calls_settle()
    firmware.install_mailbox_device(previous)


async def _waiting_clients(count: int, request: dict[str, object] | None = None) -> list[WebsocketCommunicator]:
    clients = []
    for _ in range(count):
        communicator = WebsocketCommunicator(application, "/")
        connected, _ = await communicator.connect()
        assert connected
        await communicator.send_to(text_data=json.dumps(request or {"action": "READ_THROTTLE"}))
        clients.append(communicator)
    return clients


async def test_subscribers_waiting_on_a_hanging_firmware_hold_no_shared_thread(hung):
    # More subscribers than the event loop's default pool has threads (at most 32): if each SUBSCRIBE's
    # current value waited in one, the pins' SUBSCRIBE below would queue behind them.
    waiting = await _waiting_clients(40, {"action": "SUBSCRIBE", "params": {"topic": "THROTTLE"}})
    try:
        async with websocket() as client:
            subscribed = await client.request("SUBSCRIBE", {"topic": "PINS"})
            assert subscribed["success"], subscribed
        for communicator in waiting:
            assert await communicator.receive_nothing(timeout=0.01)
        hung.answer_again()
        for communicator in waiting:
            reply = json.loads(await communicator.receive_from(timeout=10))
            assert reply["action"] == "SUBSCRIBE"
            assert reply["success"], reply
    finally:
        hung.answer_again()
        for communicator in waiting:
            await communicator.disconnect()


async def test_pin_work_is_answered_while_clients_wait_on_a_hanging_firmware(hung):
    waiting = await _waiting_clients(8)
    rest_waiting = [
        asyncio.ensure_future(
            HttpCommunicator(application, "GET", path, headers=[(b"accept", b"application/json")]).get_response(
                timeout=60
            )
        )
        for path in ("/system/throttle", "/system/frequency")
    ]
    try:
        async with websocket() as client:
            read = await client.request("READ_PIN_CONFIGURATIONS", {"pins": ["GPIO17"]})
            assert read["success"], read
            update = await client.request(
                "UPDATE_PIN_CONFIGURATIONS", {"pins": {"GPIO17": {"io": "OUTPUT", "state": 1}}}
            )
            assert update["success"], update
            subscribed = await client.request("SUBSCRIBE", {"topic": "PINS"})
            assert subscribed["success"], subscribed
            assert await http_get("/pins/GPIO17") == (
                200,
                {"io": "OUTPUT", "state": 1.0, "pull": "FLOATING", "label": None},
            )
        # All of that was answered while every firmware reader is still waiting.
        for communicator in waiting:
            assert await communicator.receive_nothing(timeout=0.05)
        assert not any(task.done() for task in rest_waiting)
        hung.answer_again()
        for communicator in waiting:
            reply = json.loads(await communicator.receive_from(timeout=10))
            assert reply["action"] == "READ_THROTTLE"
            assert reply["success"], reply
        for task in rest_waiting:
            assert (await task)["status"] == 200
    finally:
        hung.answer_again()
        for communicator in waiting:
            await communicator.disconnect()
    # The settle walk tried vcio_gencmd (absent) then hung on vcio: one throttle call for all ten waiters.
    assert hung.calls.count(("vcio", parsers.TAG_GET_GENCMD_RESULT)) == 1 + 2  # + the two clocks


async def test_waiters_give_up_after_the_timeout_with_a_clear_error_and_hold_no_worker_thread(hung, settings):
    settings.ENDRPI_FIRMWARE_TIMEOUT = 0.2
    results = await asyncio.gather(*(services.throttle_aread() for _ in range(8)), return_exceptions=True)
    assert all(isinstance(result, ReadingFailed) for result in results)
    assert {str(result) for result in results} == {
        "Failed to query system throttle status: the firmware did not answer within 0.2 s"
    }
    firmware_threads = [thread for thread in threading.enumerate() if thread.name.startswith("endrpi-firmware")]
    assert len(firmware_threads) <= firmware.FIRMWARE_WORKERS
    assert hung.calls == [("vcio", parsers.TAG_GET_GENCMD_RESULT)]  # one call in flight, shared


def test_one_call_in_flight_per_question_shared_by_every_waiter():
    release = threading.Event()
    calls: list[str] = []

    def slow() -> str:
        calls.append("asked")
        release.wait(10)
        return "answer"

    pool = firmware.FirmwareCalls(workers=2)
    futures = [pool.submit("question", slow) for _ in range(5)]
    assert len({id(future) for future in futures}) == 1
    assert pool.in_flight() == ["question"]
    release.set()
    assert futures[0].result(timeout=10) == "answer"
    assert calls == ["asked"]
    # Once answered, the next asker starts a new call.
    assert pool.submit("question", lambda: "again").result(timeout=10) == "again"


class _AlreadyAnswered(concurrent.futures.Executor):
    """Runs each call before handing back its future, as a fast firmware can on a busy machine."""

    def submit(self, fn, /, *args, **kwargs):
        future: concurrent.futures.Future[object] = concurrent.futures.Future()
        future.set_result(fn(*args, **kwargs))
        return future


def test_a_call_answered_before_submit_returns_does_not_deadlock():
    pool = firmware.FirmwareCalls(executor=_AlreadyAnswered())
    finished = threading.Event()

    def ask() -> None:
        assert pool.submit("question", lambda: "answer").result() == "answer"
        assert pool.submit("question", lambda: "again").result() == "again"
        finished.set()

    thread = threading.Thread(target=ask, daemon=True)
    thread.start()
    thread.join(10)
    assert finished.is_set(), "submit deadlocked on a call that had already finished"
    assert pool.in_flight() == []
