"""Readings read on the event loop cannot stop it: a file that does not answer is refused unread."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from system.hardware import host
from tests.helpers import websocket

pytestmark = pytest.mark.django_db(transaction=True)


def _fifo(path: Path) -> None:
    path.unlink()
    os.mkfifo(path)


def _safety_writer(path: Path) -> threading.Timer:
    """If a read ever blocks on the FIFO, answer it after a while so the test fails instead of hanging."""

    def write() -> None:
        with open(path, "w") as writer:
            writer.write("48000\n")

    timer = threading.Timer(10, write)
    timer.daemon = True
    timer.start()
    return timer


def _release(path: Path, timer: threading.Timer) -> None:
    timer.cancel()
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # frees the safety writer if it is waiting
    os.close(fd)


@pytest.mark.parametrize(
    ("action", "relative", "reading"),
    [
        ("READ_TEMPERATURE", host.THERMAL_ZONE, "system on chip temperature"),
        ("READ_UPTIME", host.UPTIME, "system uptime"),
        ("READ_MEMORY", host.MEMINFO, "system memory"),
    ],
)
async def test_a_fifo_in_place_of_a_kernel_file_is_an_error_and_others_are_still_answered(
    host_root, action, relative, reading
):
    path = host_root.root / relative
    _fifo(path)
    timer = _safety_writer(path)
    try:
        async with websocket() as client, websocket() as other:
            reply = await client.request(action)
            assert reply["success"] is False
            assert reply["error"] == (
                f"Failed to query {reading}: /{relative} is a FIFO, not a kernel attribute file, so it is not read"
            )
            other_action = "READ_MEMORY" if action != "READ_MEMORY" else "READ_UPTIME"
            assert (await other.request(other_action))["success"] is True
    finally:
        _release(path, timer)


def test_the_rest_reading_of_a_fifo_is_a_500_message_not_a_stuck_request(host_root, client):
    path = host_root.root / host.THERMAL_ZONE
    _fifo(path)
    timer = _safety_writer(path)
    try:
        response = client.get("/system/temperature", HTTP_ACCEPT="application/json")
    finally:
        _release(path, timer)
    assert response.status_code == 500
    assert "is a FIFO" in response.json()["message"]


def test_a_regular_file_is_still_read(host_root):
    assert host.read_host_file(host.UPTIME) == "123456.78 432100.12\n"
