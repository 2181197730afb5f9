"""End to end: a real Prometheus (Debian's) scrapes a real daphne with a bearer token under ENDRPI_AUTH=all."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from endrpi_project.testing.live import ROOT, free_port, live_server, stop_process
from tests.conftest import FIXTURES, HostTree

PROMETHEUS = shutil.which("prometheus")

pytestmark = [
    pytest.mark.slow,  # two real servers for seconds
    pytest.mark.skipif(PROMETHEUS is None, reason="prometheus (Debian package prometheus) is not installed"),
]


def query(port: int, expression: str) -> list[Any]:
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": expression})
    with urllib.request.urlopen(url, timeout=5) as response:
        result: list[Any] = json.loads(response.read())["data"]["result"]
        return result


def test_prometheus_scrapes_the_pi_with_a_token(tmp_path: Path):
    assert PROMETHEUS is not None
    tree = HostTree(tmp_path / "host")
    tree.write("sys/class/thermal/thermal_zone0/temp", "51540\n")
    tree.write("proc/uptime", "1234.4 1.0\n")
    tree.write("proc/meminfo", (FIXTURES / "meminfo.txt").read_text())
    env = {"ENDRPI_HOST_ROOT": str(tree.root), "ENDRPI_VCGENCMD": "/nonexistent", "ENDRPI_AUTH": "all"}
    data = tmp_path / "data"
    data.mkdir()
    manage = {**os.environ, "DJANGO_SETTINGS_MODULE": "endrpi_project.settings", "ENDRPI_DATA_DIR": str(data), **env}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=manage, check=True)
    created = subprocess.run(
        [sys.executable, "manage.py", "endrpi_token", "create", "prometheus", "--scope", "read"],
        cwd=ROOT,
        env=manage,
        check=True,
        capture_output=True,
        text=True,
    )
    (tmp_path / "token").write_text(created.stdout.strip())
    with live_server(data, env) as server:
        port = free_port()
        config = tmp_path / "prometheus.yml"
        config.write_text(
            "scrape_configs:\n"
            "  - job_name: endrpi\n"
            "    scrape_interval: 1s\n"
            f"    static_configs: [{{targets: ['127.0.0.1:{server.port}']}}]\n"
            f"    authorization: {{credentials_file: {tmp_path / 'token'}}}\n"
            "  - job_name: endrpi-without-token\n"
            "    scrape_interval: 1s\n"
            f"    static_configs: [{{targets: ['127.0.0.1:{server.port}']}}]\n"
        )
        with open(tmp_path / "prometheus.log", "wb") as log:
            prometheus = subprocess.Popen(
                [
                    PROMETHEUS,
                    f"--config.file={config}",
                    f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                    f"--web.listen-address=127.0.0.1:{port}",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            deadline = time.monotonic() + 60
            found: list[Any] = []
            up: dict[str, str] = {}
            while time.monotonic() < deadline:
                try:
                    found = query(port, "endrpi_soc_temperature_celsius")
                    up = {sample["metric"]["job"]: sample["value"][1] for sample in query(port, "up")}
                except OSError:
                    found = []
                if found and len(up) == 2:  # both jobs scraped at least once
                    break
                time.sleep(0.5)
            assert found, (tmp_path / "prometheus.log").read_text()[-2000:]
            assert found[0]["value"][1] == "51.54"
            assert up == {"endrpi": "1", "endrpi-without-token": "0"}  # 401 without the token
        finally:
            stop_process(prometheus)
