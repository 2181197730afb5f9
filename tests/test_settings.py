from __future__ import annotations

import os
import runpy
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.checks import run_checks

from endrpi_project import env
from endrpi_project.env import SettingError
from endrpi_project.testing.live import ROOT, free_port
from tests.security.test_database_faults import file_modes_bind, give_up_root_file_permissions


@pytest.mark.parametrize(("raw", "value"), [("1", True), ("true", True), ("YES", True), ("0", False), ("off", False)])
def test_env_bool_reads_the_usual_spellings(monkeypatch, raw, value):
    monkeypatch.setenv("ENDRPI_X", raw)
    assert env.env_bool("ENDRPI_X", not value) is value


def test_env_bool_refuses_anything_else(monkeypatch):
    monkeypatch.setenv("ENDRPI_X", "maybe")
    with pytest.raises(SettingError, match="ENDRPI_X must be a boolean"):
        env.env_bool("ENDRPI_X", False)


def test_an_unset_variable_gives_the_default(monkeypatch):
    monkeypatch.delenv("ENDRPI_X", raising=False)
    assert env.env_int("ENDRPI_X", 5) == 5
    assert env.env_list("ENDRPI_X", ["a"]) == ["a"]
    assert env.env_path("ENDRPI_X", Path("/x")) == Path("/x")


def test_env_int_refuses_words_and_values_out_of_range(monkeypatch):
    monkeypatch.setenv("ENDRPI_X", "five")
    with pytest.raises(SettingError, match="whole number"):
        env.env_int("ENDRPI_X", 5)
    monkeypatch.setenv("ENDRPI_X", "70000")
    with pytest.raises(SettingError, match=r"^ENDRPI_X must be a whole number from 1 to 65535, not 70000$"):
        env.env_int("ENDRPI_X", 5, minimum=1, maximum=65535)


def test_env_float_refuses_values_below_its_minimum(monkeypatch):
    monkeypatch.setenv("ENDRPI_X", "0")
    with pytest.raises(SettingError, match=r"at least 0\.01"):
        env.env_float("ENDRPI_X", 1.0, minimum=0.01)


@pytest.mark.parametrize("raw", ["nan", "NaN", "inf", "-inf", "Infinity", "1e999"])
def test_env_float_refuses_values_that_are_not_finite(monkeypatch, raw):
    # nan compares false with every limit: ENDRPI_WS_WRITE_RATE=nan used to turn the write limit off.
    monkeypatch.setenv("ENDRPI_X", raw)
    with pytest.raises(SettingError, match=r"^ENDRPI_X must be a finite number of at least 0\.01, not "):
        env.env_float("ENDRPI_X", 1.0, minimum=0.01)


def test_env_choice_is_case_insensitive_and_refuses_unknown_choices(monkeypatch):
    monkeypatch.setenv("ENDRPI_X", "MOCK")
    assert env.env_choice("ENDRPI_X", "auto", ["auto", "mock"]) == "mock"
    monkeypatch.setenv("ENDRPI_X", "fake")
    with pytest.raises(SettingError, match="one of auto, mock"):
        env.env_choice("ENDRPI_X", "auto", ["auto", "mock"])
    monkeypatch.setenv("ENDRPI_X", "warning")
    assert env.env_choice("ENDRPI_X", "INFO", ["INFO", "WARNING"]) == "WARNING"  # as spelled in the choices


def test_env_list_splits_on_commas(monkeypatch):
    monkeypatch.setenv("ENDRPI_X", " pi.local, 192.168.1.5 ,,")
    assert env.env_list("ENDRPI_X", []) == ["pi.local", "192.168.1.5"]


def check_ids() -> set[str]:
    return {message.id for message in run_checks() if message.id and message.id.startswith("endrpi.")}


def test_a_host_root_that_does_not_exist_is_error_e001(settings, tmp_path):
    settings.ENDRPI_HOST_ROOT = tmp_path / "missing"
    assert check_ids() == {"endrpi.E001"}


def test_a_host_root_without_proc_is_warning_w001(settings, tmp_path):
    settings.ENDRPI_HOST_ROOT = tmp_path
    assert check_ids() == {"endrpi.W001"}


def test_the_fixture_host_root_passes_the_checks():
    assert check_ids() == set()


# --- The settings module refuses what it cannot use, in one line naming the variable ---------------


def load_settings(monkeypatch, tmp_path: Path, **environment: str) -> dict[str, object]:
    """Run settings.py afresh under ``environment`` (a data directory in ``tmp_path`` unless given)."""
    monkeypatch.setenv("ENDRPI_DATA_DIR", str(tmp_path / "data"))
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(ROOT / "endrpi_project" / "settings.py"))


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("ENDRPI_WS_WRITE_RATE", "nan", "ENDRPI_WS_WRITE_RATE must be a finite number of at least 0.01, not 'nan'"),
        ("ENDRPI_FIRMWARE_TIMEOUT", "inf", "ENDRPI_FIRMWARE_TIMEOUT must be a finite number of at least 0.01"),
        ("ENDRPI_LOG_LEVEL", "LOUD", "ENDRPI_LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
        ("ENDRPI_PORT", "http", "ENDRPI_PORT must be a whole number from 1 to 65535, not 'http'"),
        ("ENDRPI_PORT", "0", "ENDRPI_PORT must be a whole number from 1 to 65535, not 0"),
        ("ENDRPI_HOST", "http://pi.local", "ENDRPI_HOST must be an IP address of this machine"),
        ("ENDRPI_HOST", "pi local", "ENDRPI_HOST must be an IP address of this machine"),
        ("ENDRPI_ALLOWED_HOSTS", "", "ENDRPI_ALLOWED_HOSTS must list extra host names"),
        ("ENDRPI_ALLOWED_HOSTS", " , ", "ENDRPI_ALLOWED_HOSTS must list extra host names"),
        ("ENDRPI_ALLOWED_HOSTS", "pi.local:5000", "without scheme or port; not 'pi.local:5000'"),
        ("ENDRPI_DEBUG", "sometimes", "ENDRPI_DEBUG must be a boolean"),
    ],
)
def test_settings_refuse_a_value_naming_the_variable_and_what_it_accepts(monkeypatch, tmp_path, name, value, message):
    with pytest.raises(SettingError) as refused:
        load_settings(monkeypatch, tmp_path, **{name: value})
    assert message in str(refused.value)
    assert str(refused.value).startswith(name)
    assert "\n" not in str(refused.value)


def test_settings_accept_the_documented_values(monkeypatch, tmp_path):
    loaded = load_settings(
        monkeypatch,
        tmp_path,
        ENDRPI_LOG_LEVEL="warning",
        ENDRPI_PORT="8000",
        ENDRPI_HOST="::",
        ENDRPI_ALLOWED_HOSTS="pi.example, .home.arpa,*",
        ENDRPI_WS_WRITE_RATE="2.5",
    )
    assert loaded["LOGGING"]["root"]["level"] == "WARNING"  # type: ignore[index]
    assert loaded["ENDRPI_PORT"] == 8000
    assert loaded["ENDRPI_ALLOWED_HOSTS"] == ["pi.example", ".home.arpa", "*"]
    assert loaded["ALLOWED_HOSTS"] == ["*"]  # Django's check is open: the host rule applies ENDRPI_ALLOWED_HOSTS


def test_settings_name_the_data_directory_that_cannot_be_created(monkeypatch, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(SettingError) as refused:
        load_settings(monkeypatch, tmp_path, ENDRPI_DATA_DIR=str(blocker / "var"))
    assert str(refused.value).startswith("ENDRPI_DATA_DIR must be a directory the server can")
    assert str(blocker / "var") in str(refused.value)


def test_settings_name_the_database_path_that_cannot_be_created(monkeypatch, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(SettingError) as refused:
        load_settings(monkeypatch, tmp_path, ENDRPI_DATABASE_PATH=str(blocker / "db" / "endrpi.sqlite3"))
    assert str(refused.value).startswith("ENDRPI_DATABASE_PATH must be a directory the server can create and write")


def test_an_unwritable_data_directory_is_named_when_running_as_a_user_who_cannot_write_it(monkeypatch, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    data.chmod(0o555)
    try:
        if os.access(data, os.W_OK):
            pytest.skip("running as root: permissions do not stop this user (the case above covers root)")
        with pytest.raises(SettingError, match=r"^ENDRPI_DATA_DIR must be a directory the server can write"):
            load_settings(monkeypatch, tmp_path)
    finally:
        data.chmod(0o755)


def manage(*arguments: str, **environment: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "endrpi_project.settings", **environment},
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=give_up_root_file_permissions,  # file modes bind as for the Pi's user, root or not
    )


def test_manage_py_names_a_data_directory_it_cannot_write(tmp_path):
    if not file_modes_bind(tmp_path):
        pytest.skip("root here may not give up its file permissions (no CAP_SETPCAP)")
    data = tmp_path / "data"
    data.mkdir(mode=0o555)
    result = manage("check", ENDRPI_DATA_DIR=str(data))
    assert result.returncode == 1
    assert result.stderr == (
        "ENDRPI_DATA_DIR must be a directory the server can write; cannot create its secret_key file "
        f"(or set ENDRPI_SECRET_KEY) in {data} (Permission denied)\n"
    )


def test_manage_py_stops_with_one_line_naming_a_bad_setting(tmp_path):
    result = manage("check", ENDRPI_DATA_DIR=str(tmp_path), ENDRPI_WS_WRITE_RATE="nan")
    assert result.returncode == 1
    assert result.stderr == "ENDRPI_WS_WRITE_RATE must be a finite number of at least 0.01, not 'nan'\n"
    assert result.stdout == ""


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (
            "ENDRPI_LOG_LEVEL",
            "LOUD",
            "ENDRPI_LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, not 'LOUD'",
        ),
        ("ENDRPI_PORT", "99999", "ENDRPI_PORT must be a whole number from 1 to 65535, not 99999"),
        ("ENDRPI_ALLOWED_HOSTS", "", "ENDRPI_ALLOWED_HOSTS must list extra host names"),
        ("ENDRPI_WS_WRITE_RATE", "inf", "ENDRPI_WS_WRITE_RATE must be a finite number of at least 0.01, not 'inf'"),
    ],
)
def test_manage_py_check_refuses_each_bad_setting_in_one_line(tmp_path, name, value, message):
    result = manage("check", ENDRPI_DATA_DIR=str(tmp_path), **{name: value})
    assert result.returncode == 1
    assert result.stderr.startswith(message)
    assert result.stderr.count("\n") == 1


def serve(tmp_path: Path, **environment: str) -> subprocess.CompletedProcess[str]:
    """``scripts/serve`` as a Pi owner runs it (in this virtual environment), expected to stop at once."""
    return subprocess.run(
        [str(ROOT / "scripts" / "serve")],
        cwd=ROOT,
        env={
            **os.environ,
            "ENDRPI_VENV": sys.prefix,
            "ENDRPI_DATA_DIR": str(tmp_path),
            "ENDRPI_GPIO": "mock",
            **environment,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
def test_scripts_serve_names_a_bad_port_or_host_before_daphne_starts(tmp_path):
    bad_port = serve(tmp_path, ENDRPI_PORT="five-thousand")
    assert bad_port.returncode == 1
    assert bad_port.stderr.strip().splitlines()[-1] == (
        "ENDRPI_PORT must be a whole number from 1 to 65535, not 'five-thousand'"
    )
    bad_host = serve(tmp_path, ENDRPI_HOST="http://0.0.0.0")
    assert bad_host.returncode == 1
    assert bad_host.stderr.strip().splitlines()[-1].startswith("ENDRPI_HOST must be an IP address of this machine")


@pytest.mark.slow
def test_scripts_serve_names_a_port_in_use_and_an_address_this_machine_does_not_have(tmp_path):
    port = free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        in_use = serve(tmp_path, ENDRPI_HOST="127.0.0.1", ENDRPI_PORT=str(port))
    assert in_use.returncode == 1
    assert in_use.stderr.strip().splitlines()[-1] == (
        f"ENDRPI_PORT must be a free port from 1 to 65535; {port} is in use on 127.0.0.1 (another server?)"
    )
    elsewhere = serve(tmp_path, ENDRPI_HOST="192.0.2.1", ENDRPI_PORT=str(port))  # TEST-NET-1: never local
    assert elsewhere.returncode == 1
    assert (
        elsewhere.stderr.strip()
        .splitlines()[-1]
        .startswith(
            "ENDRPI_HOST must be an IP address of this machine (0.0.0.0 for all, 127.0.0.1 for this machine only) "
            "or a name that resolves to one; cannot listen on 192.0.2.1:"
        )
    )
