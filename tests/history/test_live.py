"""End to end: the sampler starts with the server, its samples reach the API, and a stop writes the buffer.

Under daphne (its reactor runs the start-up work) and under uvicorn (the ASGI lifespan protocol does).
"""

from __future__ import annotations

import json
import sqlite3
import time
import urllib.request
from typing import Any

import pytest

from endrpi_project.testing.live import LiveServer, live_server
from tests.conftest import FIXTURES, HostTree

pytestmark = pytest.mark.slow  # a real server for seconds


def history(server: LiveServer) -> dict[str, Any]:
    with urllib.request.urlopen(f"{server.http_url}/system/history?since=-10m&points=600", timeout=5) as response:
        answer: dict[str, Any] = json.loads(response.read())
        return answer


def samples_counted(server: LiveServer, at_least: int, deadline: float = 30) -> int:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        count: int = sum(history(server)["count"])
        if count >= at_least:
            return count
        time.sleep(0.2)
    raise AssertionError(f"fewer than {at_least} samples after {deadline}s")


@pytest.fixture(params=["daphne", "uvicorn"])
def uvicorn(request) -> bool:
    return bool(request.param == "uvicorn")


@pytest.fixture
def env(tmp_path):
    tree = HostTree(tmp_path / "host")
    tree.write("sys/class/thermal/thermal_zone0/temp", "51540\n")
    tree.write("proc/uptime", "1234.4 1.0\n")
    tree.write("proc/meminfo", (FIXTURES / "meminfo.txt").read_text())
    return {"ENDRPI_HOST_ROOT": str(tree.root), "ENDRPI_VCGENCMD": "/nonexistent", "ENDRPI_HISTORY_INTERVAL": "1"}


def stored_samples(data_dir) -> int:
    with sqlite3.connect(data_dir / "endrpi.sqlite3") as db:
        count: int = db.execute("SELECT count(*) FROM history_sample").fetchone()[0]
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        return count


def test_the_sampler_runs_with_the_server_and_writes_on_schedule(tmp_path, env, uvicorn):
    with live_server(tmp_path / "data", {**env, "ENDRPI_HISTORY_FLUSH_INTERVAL": "1"}, uvicorn=uvicorn) as server:
        samples_counted(server, 3)
        deadline = time.monotonic() + 30
        while stored_samples(tmp_path / "data") < 2:
            assert time.monotonic() < deadline, "nothing written"
            time.sleep(0.2)
        answer = history(server)
        temperature = answer["readings"]["temperature"]["systemOnChip"]
        assert temperature["max"][-1] == 51.54
        assert answer["readings"]["frequency"]["arm"]["mean"][-1] is None  # no firmware here


def test_samples_wait_in_memory_until_the_server_stops(tmp_path, env, uvicorn):
    with live_server(tmp_path / "data", {**env, "ENDRPI_HISTORY_FLUSH_INTERVAL": "3600"}, uvicorn=uvicorn) as server:
        served = samples_counted(server, 2)
        assert stored_samples(tmp_path / "data") == 0
    assert stored_samples(tmp_path / "data") >= served
