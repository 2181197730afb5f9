"""The benchmark script keeps working: one quick run against a real daphne on 127.0.0.1.

Speed and memory are judged from the figures it prints, not here: this only checks that it runs,
that every reading it asks for succeeds, and that no request spawned a process.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # a real server, browser or long fuzzing run

ROOT = Path(__file__).resolve().parent.parent


def test_the_quick_benchmark_runs_and_prints_its_figures():
    completed = subprocess.run(
        [sys.executable, "bench/benchmark.py", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    output = completed.stdout
    for heading in ("WebSocket round trips", "WebSocket floor", "REST", "Server", "Targets"):
        assert heading in output
    for request in ("READ_MEMORY", "READ_TEMPERATURE", "READ_PIN_CONFIGURATIONS", "GET /system/memory", "GET /pins"):
        assert request in output
    assert re.search(r"processes spawned by the server\s+0\n", output)
    assert "met    no process spawned with a firmware device present" in output
