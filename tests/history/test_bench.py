"""bench/history.py keeps working: one quick run (figures are judged from a full run, not here)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from endrpi_project.testing.live import ROOT

pytestmark = pytest.mark.slow  # fills a month of samples and starts a real server


def test_the_quick_history_benchmark_runs_and_prints_its_figures():
    completed = subprocess.run(
        [sys.executable, "bench/history.py", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    for line in ("259,200 samples", "size on disk", "GET /system/history?since=-30d", "READ_HISTORY", "of one core"):
        assert line in completed.stdout
