"""``./scripts/serve`` as a Pi owner runs it: a restart redoes nothing, and the output is the next steps.

The first start migrates and collects (and says so); a second start with the same data directory does
neither, says nothing about them, and prints three lines of next steps; a request leaves no line in
the output unless ``--verbose`` asks for daphne's access log.
"""

from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest

from endrpi_project.testing.live import serve_script
from tests.conftest import FIXTURES, HostTree

pytestmark = pytest.mark.slow


def host_env(base: Path) -> dict[str, str]:
    tree = HostTree(base / "host")
    tree.write("sys/class/thermal/thermal_zone0/temp", "51540\n")
    tree.write("proc/uptime", "1234.4 1.0\n")
    tree.write("proc/meminfo", (FIXTURES / "meminfo.txt").read_text())
    return {"ENDRPI_HOST_ROOT": str(tree.root), "ENDRPI_VCGENCMD": "/nonexistent"}


def fetched(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as answer:
        body: bytes = answer.read()
        return body


def test_a_restart_neither_migrates_nor_collects_and_prints_three_next_steps(tmp_path):
    env = host_env(tmp_path)
    data = tmp_path / "data"
    with serve_script(data, env) as first:
        fetched(f"{first.http_url}/system/uptime")
    said = first.printed()
    assert "Setting up the database" in said
    assert "Collecting and compressing the pages' static files" in said
    assert (data / "static" / "endrpi" / "dashboard.js.gz").exists()

    with serve_script(data, env) as second:
        fetched(f"{second.http_url}/system/uptime")
        fetched(f"{second.http_url}/")
    said = second.printed()
    assert "Setting up the database" not in said
    assert "Collecting" not in said
    ready = [line for line in second.output if "Endrpi is ready" in line]
    assert len(ready) == 1
    steps = second.output[second.output.index(ready[0]) : second.output.index(ready[0]) + 3]
    assert steps[0] == f"Endrpi is ready. Open the dashboard: {second.http_url}/\n"
    assert "manage.py createsuperuser" in steps[1]
    assert "install-service" in steps[2]
    # Ready once the start-up work is done (GPIO set up, its warning logged), not while clients would wait.
    assert any("GPIO is simulated" in line for line in second.output[: second.output.index(ready[0])])
    assert "HTTP/2" not in said  # daphne's start-up notes
    assert "GET /system/uptime" not in said  # no access log by default


def test_verbose_logs_every_request(tmp_path):
    with serve_script(tmp_path / "data", host_env(tmp_path), args=["--verbose"]) as server:
        fetched(f"{server.http_url}/system/uptime")
    assert '"GET /system/uptime" 200' in server.printed()
