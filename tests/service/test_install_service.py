"""scripts/install-service, run with --dry-run/--root: the commands it would run and the files it writes.

No user is created and nothing outside the test's directory changes. The generated unit is checked
with the real ``systemd-analyze verify`` (Debian's ``systemd`` package; CI installs it).
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from endrpi_project.http.server import RESERVED_FILES
from endrpi_project.testing.live import ROOT, free_port, stop_process

SCRIPT = ROOT / "scripts" / "install-service"
VENV = Path(sys.prefix)


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    root: Path

    @property
    def commands(self) -> list[str]:
        return [line[2:] for line in self.stdout.splitlines() if line.startswith("+ ")]

    @property
    def unit(self) -> str:
        return (self.root / "etc/systemd/system/endrpi.service").read_text()

    @property
    def env_file(self) -> str:
        return (self.root / "etc/endrpi/endrpi.env").read_text()

    def directives(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for line in self.unit.splitlines():
            if line and not line.startswith(("#", "[")):
                key, _, value = line.partition("=")
                found.setdefault(key, []).append(value)
        return found


def install(root: Path, *args: str, user: str | None = None, path: Path | None = None) -> Run:
    """The script as a test runs it: below ``root``, for a user that does not exist, with this checkout's venv
    (``path``: a directory of stand-in commands put first on the PATH)."""
    user = user or f"endrpi-t{uuid.uuid4().hex[:8]}"
    if "--data-dir" not in args:
        args = ("--data-dir", "/var/lib/endrpi-test", *args)
    command = [
        str(SCRIPT),
        "--root",
        str(root),
        "--user",
        user,
        "--app-dir",
        str(ROOT),
        "--venv",
        str(VENV),
        *args,
    ]
    environment = {**os.environ, "PATH": f"{path}:{os.environ['PATH']}"} if path else None
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False, env=environment)
    return Run(result.returncode, result.stdout, result.stderr, root)


def test_it_creates_a_system_user_in_the_gpio_and_video_groups_without_touching_this_machine(tmp_path):
    user = f"endrpi-t{uuid.uuid4().hex[:8]}"
    run = install(tmp_path, user=user)
    assert run.returncode == 0, run.stderr
    assert (
        f"useradd --system --user-group --home-dir /var/lib/endrpi-test --no-create-home "
        f"--shell /usr/sbin/nologin {user}"
    ) in run.commands
    for group in ("gpio", "video"):
        added = f"usermod --append --groups {group} {user}" in run.commands
        missing = f"No '{group}' group on this system" in run.stderr
        assert added != missing
    with pytest.raises(KeyError):
        pwd.getpwnam(user)  # a dry run created nobody


def test_it_makes_the_venv_the_data_dir_and_starts_the_service(tmp_path):
    run = install(tmp_path)
    commands = "\n".join(run.commands)
    assert f"ENDRPI_VENV={VENV} bash -c" in commands
    assert re.search(r"install -d -o endrpi-t\w+ -g endrpi-t\w+ -m 0750 /var/lib/endrpi-test", commands)
    assert "collectstatic --noinput" in commands
    assert run.commands[-3:] == [
        "systemctl daemon-reload",
        "systemctl enable endrpi.service",
        "systemctl restart endrpi.service",
    ]


def test_the_unit_runs_the_serve_command_as_the_user_with_the_hardening_asked_for(tmp_path):
    run = install(tmp_path)
    unit = run.directives()
    assert unit["User"][0].startswith("endrpi-t")
    assert unit["ExecStart"] == [f"{VENV}/bin/python {ROOT}/manage.py endrpi_serve"]
    assert unit["ExecStartPre"] == [
        f"{VENV}/bin/python {ROOT}/manage.py migrate --noinput -v 0",
        f"{VENV}/bin/python -m endrpi_project.env",
    ]
    assert unit["Restart"] == ["on-failure"]
    assert unit["EnvironmentFile"] == ["/etc/endrpi/endrpi.env"]
    # lgpio makes its notification pipe in the working directory: the data directory, writable.
    assert unit["WorkingDirectory"] == ["/var/lib/endrpi-test"]
    assert unit["ReadWritePaths"] == ["/var/lib/endrpi-test"]
    for directive, value in {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "StandardOutput": "journal",
        "StandardError": "journal",
        "LimitNOFILE": "8192",
    }.items():
        assert unit[directive] == [value]


def test_the_unit_leaves_the_gpio_and_firmware_devices_reachable(tmp_path):
    unit = install(tmp_path).directives()
    # Each of these hides /dev/gpiochip* and /dev/vcio*: PrivateDevices= gives a private /dev, and a
    # DeviceAllow= list (ProtectClock= implies one: char-rtc) denies every other device.
    for hiding in ("PrivateDevices", "DevicePolicy", "DeviceAllow", "ProtectClock", "InaccessiblePaths"):
        assert hiding not in unit
    assert "ProtectProc" not in unit  # /proc stays readable as it is
    assert unit["ProtectKernelTunables"] == ["yes"]  # /sys and /proc/sys read-only, still readable


def test_the_open_file_limit_holds_the_connection_cap(tmp_path, settings):
    limit = int(install(tmp_path).directives()["LimitNOFILE"][0])
    assert settings.ENDRPI_MAX_CONNECTIONS == 1024
    assert limit == 8192 >= settings.ENDRPI_MAX_CONNECTIONS + RESERVED_FILES


def test_a_port_below_1024_gets_only_the_capability_to_bind_it(tmp_path):
    assert install(tmp_path / "a", "--port", "5000").directives()["CapabilityBoundingSet"] == [""]
    unit = install(tmp_path / "b", "--port", "443").directives()
    assert unit["CapabilityBoundingSet"] == ["CAP_NET_BIND_SERVICE"]
    assert unit["AmbientCapabilities"] == ["CAP_NET_BIND_SERVICE"]


def test_it_listens_where_the_user_says_with_tls(tmp_path):
    run = install(
        tmp_path,
        "--host",
        "192.168.1.5",
        "--port",
        "8443",
        "--tls-cert",
        "/etc/endrpi/c.pem",
        "--tls-key",
        "/etc/endrpi/k.pem",
    )
    assert run.returncode == 0, run.stderr
    lines = run.env_file.splitlines()
    for line in (
        "ENDRPI_HOST=192.168.1.5",
        "ENDRPI_PORT=8443",
        "ENDRPI_DATA_DIR=/var/lib/endrpi-test",
        "ENDRPI_TLS_CERT=/etc/endrpi/c.pem",
        "ENDRPI_TLS_KEY=/etc/endrpi/k.pem",
    ):
        assert line in lines


def test_running_it_again_keeps_the_owners_own_settings(tmp_path):
    install(tmp_path, "--port", "8000")
    env_file = tmp_path / "etc/endrpi/endrpi.env"
    env_file.write_text(env_file.read_text() + "ENDRPI_AUTH=write\n")
    run = install(tmp_path, "--port", "9000")
    lines = run.env_file.splitlines()
    assert "ENDRPI_AUTH=write" in lines
    assert "ENDRPI_PORT=9000" in lines
    assert "ENDRPI_PORT=8000" not in lines
    assert sum(line.startswith("# Written by") for line in lines) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--port", "http"], "--port must be 1 to 65535"),
        (["--port", "70000"], "--port must be 1 to 65535"),
        (["--host", "a b"], "--host must be an IP address"),
        (["--tls-cert", "/etc/endrpi/c.pem"], "--tls-cert and --tls-key go together"),
        (["--tls-cert", "/home/pi/c.pem", "--tls-key", "/home/pi/k.pem"], "hidden from the service (ProtectHome=yes)"),
        (["--data-dir", "relative"], "--data-dir must be an absolute path"),
        (["--user", "Bad User"], "--user must be a user name"),
        (["--frobnicate"], "unknown option: --frobnicate"),
    ],
)
def test_bad_options_are_refused_before_anything_happens(tmp_path, args, message):
    run = install(tmp_path, *args)
    assert run.returncode == 2
    assert message in run.stderr
    assert run.commands == []
    assert not (tmp_path / "etc").exists()


def test_uninstall_stops_and_removes_the_unit_and_keeps_the_data(tmp_path):
    install(tmp_path)
    run = install(tmp_path, "--uninstall")
    assert run.returncode == 0, run.stderr
    assert run.commands[0] == "systemctl disable --now endrpi.service"
    assert f"rm -f {tmp_path}/etc/systemd/system/endrpi.service" in run.commands
    assert not any(command.startswith(("userdel", "rm -rf /var/lib")) for command in run.commands)
    assert "Kept: the data in /var/lib/endrpi-test" in run.stdout


def test_uninstall_with_purge_removes_the_data_and_settings(tmp_path):
    run = install(tmp_path, "--uninstall", "--purge")
    assert f"rm -rf /var/lib/endrpi-test {tmp_path}/etc/endrpi/endrpi.env" in run.commands


def test_the_doctor_runs_as_the_service_user_with_the_services_settings(tmp_path):
    run = install(tmp_path, "--doctor")
    (command,) = run.commands
    assert command.startswith("runuser -u endrpi-t")
    assert "env -C /var/lib/endrpi-test" in command
    assert command.endswith(f"/etc/endrpi/endrpi.env {VENV}/bin/python {ROOT}/manage.py endrpi_doctor")


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
@pytest.mark.parametrize("port", ["5000", "443"])
def test_systemd_analyze_verify_accepts_the_generated_unit(tmp_path, port):
    run = install(tmp_path, "--port", port, "--tls-cert", "/etc/endrpi/c.pem", "--tls-key", "/etc/endrpi/k.pem")
    unit = tmp_path / "etc/systemd/system/endrpi.service"
    result = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60, check=False
    )
    # verify exits 0 even for directives it ignores, but names each one: the output must be empty.
    assert (result.returncode, result.stdout + result.stderr) == (0, ""), run.unit


@pytest.mark.slow
def test_the_units_commands_with_its_settings_file_serve_the_dashboard(tmp_path, host_root):
    """What systemd would do with the generated files: the settings file's variables, the working
    directory, ExecStartPre then ExecStart; the server answers where the settings file says."""
    data = tmp_path / "data"
    data.mkdir()
    port = free_port()
    run = install(tmp_path, "--host", "127.0.0.1", "--port", str(port), "--data-dir", str(data))
    unit = run.directives()
    assert unit["WorkingDirectory"] == [str(data)]
    environment = {
        "PATH": os.environ["PATH"],
        "ENDRPI_GPIO": "mock",
        "ENDRPI_VCGENCMD": "/nonexistent",
        "ENDRPI_HOST_ROOT": str(host_root.root),
    }
    environment.update(
        line.partition("=")[::2] for line in run.env_file.splitlines() if line and not line.startswith("#")
    )
    environment.update(item.partition("=")[::2] for item in unit["Environment"][0].split())
    assert environment["ENDRPI_DATA_DIR"] == str(data)
    for command in unit["ExecStartPre"]:
        subprocess.run(command.split(), cwd=data, env=environment, check=True, timeout=120)
    with open(tmp_path / "journal", "wb") as journal:
        server = subprocess.Popen(
            unit["ExecStart"][0].split(), cwd=data, env=environment, stdout=journal, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 30
        while f"http://127.0.0.1:{port}/" not in (tmp_path / "journal").read_text():
            assert server.poll() is None, (tmp_path / "journal").read_text()
            assert time.monotonic() < deadline, (tmp_path / "journal").read_text()
            time.sleep(0.05)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/system/uptime", timeout=5) as response:
            assert response.status == 200
    finally:
        stop_process(server)
    assert (data / "endrpi.sqlite3").exists()
    assert (data / "secret_key").exists()


@dataclass
class Shims:
    """The privileged commands the script runs, replaced by scripts that log their arguments."""

    path: Path
    log: Path

    def calls(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []


@pytest.fixture
def shims(tmp_path) -> Shims:
    directory, log = tmp_path / "shims", tmp_path / "calls.log"
    directory.mkdir()
    for command in ("useradd", "usermod", "userdel", "systemctl", "runuser", "chown", "udevadm", "setfacl"):
        script = directory / command
        script.write_text(f'#!/bin/sh\necho "{command} $*" >> "{log}"\n')
        script.chmod(0o755)
    # install -o/-g would need the user to exist; other uses (install -d) run the real install.
    (directory / "install").write_text(
        f'#!/bin/sh\ncase " $* " in *" -o "*) echo "install $*" >> "{log}" ;; *) exec /usr/bin/install "$@" ;; esac\n'
    )
    (directory / "id").write_text('#!/bin/sh\n[ "$1" = -u ] && echo 0 || exec /usr/bin/id "$@"\n')
    for name in ("install", "id"):
        (directory / name).chmod(0o755)
    return Shims(directory, log)


def fake_venv(directory: Path, log: Path) -> Path:
    """A virtual environment already up to date: its python only logs what it is asked to run."""
    (directory / "bin").mkdir(parents=True)
    (directory / "bin/activate").write_text("")
    (directory / "bin/python").write_text(f'#!/bin/sh\necho "python $*" >> "{log}"\n')
    (directory / "bin/python").chmod(0o755)
    (directory / ".installed-base.txt").touch()
    return directory


def install_for_real(tmp_path: Path, shims: Shims, *args: str) -> subprocess.CompletedProcess[str]:
    """Not a dry run: files go to the test's directories, privileged commands to ``shims``."""
    app = tmp_path / "app"
    command = [
        str(SCRIPT),
        "--user",
        "endrpi-treal",
        "--app-dir",
        str(app),
        "--data-dir",
        "/var/lib/endrpi-test",
        "--env-file",
        str(tmp_path / "etc/endrpi.env"),
        "--unit-dir",
        str(tmp_path / "units"),
        "--udev-dir",
        str(tmp_path / "udev"),
        *args,
    ]
    environment = {**os.environ, "PATH": f"{shims.path}:{os.environ['PATH']}"}
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False, env=environment)


def test_a_real_run_copies_the_code_writes_the_files_and_starts_the_service(tmp_path, shims):
    """Not a dry run: only useradd, systemctl and the like are stand-ins (a shell function once shadowed
    ``install`` here, so ``run install -d ...`` called the script's own install step again, forever)."""
    app = tmp_path / "app"
    fake_venv(app / "venv", shims.log)
    (app / "stale.py").parent.mkdir(exist_ok=True)
    (app / "stale.py").write_text("left from an older version")
    result = install_for_real(tmp_path, shims)
    assert result.returncode == 0, result.stderr
    for copied in ("manage.py", "endrpi_project/doctor/listening.py", "scripts/endrpi.service.in", "README.md"):
        assert (app / copied).is_file(), copied
    for left_out in ("tests", ".git", ".venv", "var", "bench", "stale.py"):
        assert not (app / left_out).exists(), left_out
    assert (app / "venv/bin/python").exists(), "the virtual environment survives an upgrade"
    calls = shims.calls()
    assert calls[0].startswith("useradd --system")
    assert f"python -m compileall -q {app}/manage.py {app}/endrpi_project {app}/system {app}/pins" in calls
    assert any(
        call.startswith("runuser -u endrpi-treal --") and call.endswith("collectstatic --noinput -v 0")
        for call in calls
    )
    assert calls[-3:] == [
        "systemctl daemon-reload",
        "systemctl enable endrpi.service",
        "systemctl restart endrpi.service",
    ]
    unit = (tmp_path / "units/endrpi.service").read_text()
    assert f"ExecStart={app}/venv/bin/python {app}/manage.py endrpi_serve" in unit
    assert "ENDRPI_PORT=5000" in (tmp_path / "etc/endrpi.env").read_text()


def test_a_real_uninstall_removes_the_unit_and_the_code(tmp_path, shims):
    fake_venv(tmp_path / "app/venv", shims.log)
    assert install_for_real(tmp_path, shims).returncode == 0
    result = install_for_real(tmp_path, shims, "--uninstall")
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "units/endrpi.service").exists()
    assert not (tmp_path / "app").exists()
    assert (tmp_path / "etc/endrpi.env").exists()
    assert "systemctl disable --now endrpi.service" in shims.calls()


def test_the_service_refuses_a_busy_port_in_one_line_naming_the_setting(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = install(tmp_path, "--host", "127.0.0.1", "--port", str(port))
        unit = run.directives()
        environment = {"PATH": os.environ["PATH"]}
        environment.update(line.partition("=")[::2] for line in run.env_file.splitlines() if not line.startswith("#"))
        environment.update(item.partition("=")[::2] for item in unit["Environment"][0].split())
        check = unit["ExecStartPre"][1].split()
        result = subprocess.run(check, cwd=tmp_path, env=environment, capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert (
        result.stderr.strip()
        == f"ENDRPI_PORT must be a free port from 1 to 65535; {port} is in use on 127.0.0.1 (another server?)"
    )


# --- The firmware's /dev/vcio, root-only under some udev rules ------------------------------------

RULE = "etc/udev/rules.d/60-endrpi-firmware.rules"


def rule_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def test_it_installs_a_udev_rule_letting_only_the_service_user_read_vcio_where_there_is_no_vcio_gencmd(tmp_path, shims):
    run = install(tmp_path / "root", user="endrpi-tvcio", path=shims.path)
    assert run.returncode == 0, run.stderr
    (rule,) = rule_lines((tmp_path / "root" / RULE).read_text())
    assert rule == (
        'KERNEL=="vcio", ACTION!="remove", TEST!="/sys/class/misc/vcio_gencmd", '
        f'RUN+="{shims.path}/setfacl -m u:endrpi-tvcio:r /dev/%k"'
    )
    # Additive and narrow: read for the one user, no group, owner or mode taken from anyone.
    for widening in ("GROUP", "OWNER", "MODE", "video", ":rw"):
        assert widening not in rule
    commands = run.commands
    assert commands.index("udevadm control --reload") < commands.index(
        "udevadm trigger --action=change --sysname-match=vcio"
    ), "applied now, not only at the next boot"
    assert commands.index("udevadm trigger --action=change --sysname-match=vcio") < commands.index(
        "systemctl restart endrpi.service"
    ), "before the service starts"


def test_without_setfacl_it_says_how_to_get_it_and_writes_no_rule(tmp_path):
    run = install(tmp_path)
    if shutil.which("setfacl"):
        pytest.skip("setfacl is installed here")
    assert run.returncode == 0, run.stderr
    assert "setfacl is not installed (Debian package acl)" in run.stderr
    assert "sudo apt install acl" in run.stderr
    assert not (tmp_path / RULE).exists()
    assert not any(command.startswith("udevadm") for command in run.commands)


def test_a_real_run_writes_the_udev_rule_and_uninstall_removes_it(tmp_path, shims):
    fake_venv(tmp_path / "app/venv", shims.log)
    result = install_for_real(tmp_path, shims)
    assert result.returncode == 0, result.stderr
    rule = tmp_path / "udev/60-endrpi-firmware.rules"
    assert "u:endrpi-treal:r /dev/%k" in rule.read_text()
    assert oct(rule.stat().st_mode & 0o777) == "0o644"
    calls = shims.calls()
    assert "udevadm control --reload" in calls
    assert "udevadm trigger --action=change --sysname-match=vcio" in calls
    result = install_for_real(tmp_path, shims, "--uninstall")
    assert result.returncode == 0, result.stderr
    assert not rule.exists()
    assert shims.calls().count("udevadm control --reload") == 2, "reloaded again without the rule"
