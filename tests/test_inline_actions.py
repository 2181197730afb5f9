"""Which WebSocket actions run on the event loop and which in a worker thread.

Kernel pseudo-file reads run on the loop (a thread hand-off costs more than they do); firmware
reads, which may wait on the mailbox or a process, and anything touching the database do not.
"""

from __future__ import annotations

import threading

import pytest

from endrpi_project.websocket.registry import action_table
from system.hardware import firmware, host
from tests.helpers import websocket

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("action", ["READ_TEMPERATURE", "READ_UPTIME", "READ_MEMORY"])
async def test_a_kernel_file_reading_runs_on_the_event_loop(action, monkeypatch):
    threads: list[int] = []
    real_read = host.read_host_file

    def read(relative):
        threads.append(threading.get_ident())
        return real_read(relative)

    monkeypatch.setattr(host, "read_host_file", read)
    async with websocket() as client:
        reply = await client.request(action)
    assert reply["success"], reply
    assert threads == [threading.get_ident()]


@pytest.mark.parametrize("action", ["READ_THROTTLE", "READ_FREQUENCY"])
async def test_a_firmware_reading_runs_in_the_firmware_pool(action, monkeypatch):
    threads: list[int] = []
    real_get_firmware = firmware.get_firmware

    names: list[str] = []

    def get_firmware():
        threads.append(threading.get_ident())
        names.append(threading.current_thread().name)
        return real_get_firmware()

    monkeypatch.setattr("system.services.get_firmware", get_firmware)
    async with websocket() as client:
        reply = await client.request(action)
    assert reply["success"], reply
    assert threads
    assert threading.get_ident() not in threads
    # ... the firmware's own pool, not the worker threads pin and database work share.
    assert all(name.startswith("endrpi-firmware") for name in names)


def test_only_kernel_file_readings_are_inline():
    inline = {action.name for action in action_table().actions if action.inline}
    assert inline == {"READ_PLATFORM", "READ_TEMPERATURE", "READ_UPTIME", "READ_MEMORY", "READ_CPU"}
