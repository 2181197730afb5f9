"""The doctor as the service runs it: its own process, the data directory as working directory, read-only.

Where the tests run as root and ``nobody`` can run this Python, the doctor runs as ``nobody`` so the
read-only data directory is really enforced, as it is for the service user (root ignores the mode);
either way nothing in the data directory, the working directory or the host tree may change.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from endrpi_project.testing.live import ROOT, free_port
from tests.conftest import FIXTURES, HostTree

pytestmark = pytest.mark.slow

NOBODY = 65534


def snapshot(*directories: Path) -> dict[str, tuple[int, int, int, str]]:
    files = {}
    for directory in directories:
        for path in [directory, *sorted(directory.rglob("*"))]:
            info = path.lstat()
            digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
            files[str(path)] = (info.st_mode, info.st_size, info.st_mtime_ns, digest)
    return files


def nobody_can_run_python() -> bool:
    try:
        subprocess.run([sys.executable, "-c", "import django"], user=NOBODY, group=NOBODY, extra_groups=[], check=True)
    except (OSError, subprocess.CalledProcessError):
        return False  # e.g. a venv whose interpreter lives under /root
    return True


@pytest.fixture
def world_readable_tmp() -> Iterator[Path]:
    """A temporary directory another user can enter (pytest's own are private to their owner)."""
    path = Path(tempfile.mkdtemp(prefix="endrpi-doctor-"))
    path.chmod(0o755)
    yield path
    for child in [path, *path.rglob("*")]:
        if child.is_dir():
            child.chmod(0o755)
    shutil.rmtree(path)


def test_the_doctor_writes_nothing_as_the_service_user(world_readable_tmp):
    base = world_readable_tmp
    tree = HostTree(base / "host")
    tree.write("sys/class/thermal/thermal_zone0/temp", "51540\n")
    tree.write("proc/uptime", "1234.4 1.0\n")
    tree.write("proc/meminfo", (FIXTURES / "meminfo.txt").read_text())
    tree.write("proc/device-tree/model", "Raspberry Pi 4 Model B Rev 1.4\0")
    data = base / "data"
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "endrpi_project.settings",
        "ENDRPI_DATA_DIR": str(data),
        "ENDRPI_HOST_ROOT": str(tree.root),
        "ENDRPI_VCGENCMD": "/nonexistent",
        "ENDRPI_HOST": "127.0.0.1",
        "ENDRPI_PORT": str(free_port()),
    }
    # As after the service's first start: the database migrated and the secret key made.
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=environment, check=True
    )
    for path in [data, *data.rglob("*")]:
        path.chmod(0o555 if path.is_dir() else 0o444)
    before = snapshot(data, tree.root)

    as_nobody = os.geteuid() == 0 and nobody_can_run_python()
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "endrpi_doctor"],
        cwd=data,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        user=NOBODY if as_nobody else None,
        group=NOBODY if as_nobody else None,
        extra_groups=[] if as_nobody else None,
    )

    assert result.returncode in (0, 1), result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert "Endrpi doctor" in result.stdout
    assert "Result:" in result.stdout
    if as_nobody:
        assert "user            nobody (uid 65534)" in result.stdout
        assert f"data directory  {data}: dr-xr-xr-x root:root, read-only for this user" in result.stdout
    assert snapshot(data, tree.root) == before
    assert all(stat.S_IMODE(path.stat().st_mode) in (0o555, 0o444) for path in data.rglob("*"))
