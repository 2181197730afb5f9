"""The open-file limit agrees with the connection cap, under plain daphne as under the launcher."""

from __future__ import annotations

import resource
import subprocess
import sys

import pytest

from endrpi_project.http.server import RESERVED_FILES, OpenFilesTooLow, open_files_check
from endrpi_project.testing.live import ROOT

ASGI = "endrpi_project.asgi:application"


class Limits:
    def __init__(self, soft: int, hard: int) -> None:
        self.soft, self.hard = soft, hard

    def getrlimit(self, kind: int) -> tuple[int, int]:
        assert kind == resource.RLIMIT_NOFILE
        return self.soft, self.hard

    def setrlimit(self, kind: int, limits: tuple[int, int]) -> None:
        self.soft, self.hard = limits


@pytest.fixture
def limits(monkeypatch) -> Limits:
    fake = Limits(1024, 4096)
    monkeypatch.setattr(resource, "getrlimit", fake.getrlimit)
    monkeypatch.setattr(resource, "setrlimit", fake.setrlimit)
    return fake


def test_a_soft_limit_that_holds_the_cap_is_left_alone(limits):
    limits.soft = 8192
    assert open_files_check(max_connections=1024) == 8192
    assert limits.soft == 8192


def test_a_soft_limit_too_low_is_raised_toward_the_hard_one(limits):
    assert open_files_check(max_connections=1024) == 1024 + RESERVED_FILES
    assert (limits.soft, limits.hard) == (1024 + RESERVED_FILES, 4096)


def test_a_hard_limit_too_low_stops_start_up_with_one_line_naming_both(limits):
    limits.hard = 1024
    with pytest.raises(OpenFilesTooLow) as refused:
        open_files_check(max_connections=1024)
    assert str(refused.value) == (
        "ENDRPI_MAX_CONNECTIONS=1024 needs 1088 open files, but the open-file limit is 1024 "
        "(hard; LimitNOFILE in the systemd unit): raise it or lower ENDRPI_MAX_CONNECTIONS"
    )


@pytest.mark.slow
def test_plain_daphne_refuses_to_start_when_the_hard_limit_cannot_hold_the_cap(tmp_path):
    def low_limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))

    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=_env(tmp_path), check=True)
    result = subprocess.run(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", "0", ASGI],
        cwd=ROOT,
        env={**_env(tmp_path), "ENDRPI_MAX_CONNECTIONS": "1024"},
        preexec_fn=low_limit,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        "Endrpi cannot start: ENDRPI_MAX_CONNECTIONS=1024 needs 1088 open files, but the open-file limit is 256 "
        "(hard; LimitNOFILE in the systemd unit): raise it or lower ENDRPI_MAX_CONNECTIONS"
    )


def _env(tmp_path) -> dict[str, str]:
    import os

    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "endrpi_project.settings",
        "ENDRPI_DATA_DIR": str(tmp_path),
        "ENDRPI_GPIO": "mock",
    }
