"""The database stays bounded: 31 days written with a 30-day retention hold 30 days, in the size the README states."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from endrpi_project.testing.live import ROOT

pytestmark = pytest.mark.slow  # writes a month of samples

README_MB = 40.0  # "stays under 40 MB" (README, History)

FILL = """
import django
django.setup()
from django.core.management import call_command
call_command("migrate", "--noinput", verbosity=0)
from django.db import connection
from endrpi_project.history.simulation import simulate
from endrpi_project.history.store import HistoryStore
store = HistoryStore(retention_ms=30 * 86_400_000)
count = simulate(store, start=1_795_000_000_000, days=31, flush_every=360)
with connection.cursor() as cursor:
    cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    cursor.execute("SELECT count(*) FROM history_sample")
    print(count, cursor.fetchone()[0])
"""


def test_a_month_of_samples_fits_the_size_the_readme_states(tmp_path: Path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "endrpi_project.settings",
        "ENDRPI_DATA_DIR": str(tmp_path),
        "PYTHONPATH": str(ROOT),
    }
    out = subprocess.run([sys.executable, "-c", FILL], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    written, kept = map(int, out.stdout.split())
    assert written == 31 * 8640
    assert kept <= 30 * 8640 + 1
    size_mb = (tmp_path / "endrpi.sqlite3").stat().st_size / 1e6
    assert size_mb < README_MB, size_mb
