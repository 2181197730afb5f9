"""CI runs the load script briefly: 50 WebSocket and 10 REST clients for 5 s against a real daphne."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_the_server_answers_every_request_of_a_quick_load_run():
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "load.py"), "--quick", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr[-4000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["passed"]
    assert report["server_alive"]
    for kind in ("websocket", "rest"):
        assert report[kind]["unanswered"] == 0
        assert report[kind]["unexpected"] == 0
        assert report[kind]["answered"] > 0
        assert report[kind]["expected_errors"] > 0  # the garbage was sent, and refused
    assert report["server_rss_kib"]["end"] is not None
