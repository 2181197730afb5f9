"""A writer killed in the middle of its writes leaves a sound database holding whole writes only.

A power cut cannot be staged in a test; a SIGKILL can: the process dies wherever it is, in the
middle of a transaction more often than not, and nothing of it is flushed or rolled back by Python.
What survives a power cut on top of that rests on SQLite's write-ahead log with ``synchronous=FULL``
(its default, which Endrpi keeps): a transaction is on disk when the commit returns, and a torn
one is ignored when the log is read back.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from endrpi_project.testing.live import ROOT

pytestmark = pytest.mark.slow  # a writer process killed five times

WRITER = """
import os, sys, time
import django
django.setup()
from django.core.management import call_command
call_command("migrate", "--noinput", verbosity=0)
from django.db import connection
from endrpi_project.history.simulation import simulated_samples
from endrpi_project.history.store import HistoryStore
with connection.cursor() as cursor:
    cursor.execute("PRAGMA synchronous")
    print("synchronous", cursor.fetchone()[0], flush=True)
store = HistoryStore(retention_ms=10**12)
start = int(sys.argv[1])
rows = simulated_samples(start=start, count=6 * 100_000, interval_ms=10_000)
for batch in range(100_000):
    for row in rows[batch * 6 : batch * 6 + 6]:
        store.add_sample(row)
    store.flush(now=rows[batch * 6].time)
    print("written", batch + 1, flush=True)
"""


def test_killed_writes_never_corrupt_and_never_land_in_part(tmp_path: Path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "endrpi_project.settings",
        "ENDRPI_DATA_DIR": str(tmp_path),
        "PYTHONPATH": str(ROOT),
    }
    database = tmp_path / "endrpi.sqlite3"
    start = 1_795_000_000_000
    for attempt in range(5):
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(start + attempt * 10**10)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert writer.stdout is not None
        assert writer.stdout.readline().split() == ["synchronous", "2"]  # FULL
        written = 0
        deadline = time.monotonic() + 30
        while written < 20 + attempt * 7 and time.monotonic() < deadline:
            written = int(writer.stdout.readline().split()[1])
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        with sqlite3.connect(database) as db:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            this_run = db.execute(
                "SELECT count(*) FROM history_sample WHERE time >= ? AND time < ?",
                [start + attempt * 10**10, start + (attempt + 1) * 10**10],
            ).fetchone()[0]
            assert this_run % 6 == 0, "a write landed in part"
            assert this_run >= written * 6, "a committed write was lost"
            samples = db.execute("SELECT count(*) FROM history_sample").fetchone()[0]
            summarized = db.execute("SELECT sum(samples) FROM history_minute").fetchone()[0]
            assert summarized == samples, "summaries and samples disagree"
