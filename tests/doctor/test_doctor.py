"""manage.py endrpi_doctor under the test fixtures: what it prints, and its exit status."""

from __future__ import annotations

import errno
import io
import re
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from endrpi_project.doctor import host
from endrpi_project.doctor.report import setting_shown
from endrpi_project.testing.live import free_port
from pins import hardware as pin_hardware
from system.hardware import firmware
from tests.pins.fakes import FakeChip, FakeDevices, fake_lgpio
from tests.service.conftest import make_tls_files
from tests.service.test_install_service import install
from tests.system.fake_firmware import FakeVideoCore, firmware_calls_settle

MODEL = "Raspberry Pi 4 Model B Rev 1.4"


def shows(text: str, name: str, value: str) -> bool:
    """Whether the report has a line ``name`` whose value starts with ``value`` (columns are aligned)."""
    return re.search(rf"^ {{2,3}}{re.escape(name)} +{re.escape(value)}", text, re.MULTILINE) is not None


def doctor() -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("endrpi_doctor", stdout=out)
    except SystemExit as exit:
        return int(exit.code or 0), out.getvalue()
    return 0, out.getvalue()


@dataclass
class Pi:
    root: Path
    lgpio: Any  # the fake lgpio module, which records every call


@pytest.fixture(autouse=True)
def no_gpio(gpio):
    """As in the doctor's own process, no GPIO has been created (the test's mock pins are put back after)."""
    previous = pin_hardware.install_gpio(None)
    yield
    pin_hardware.install_gpio(previous)


@pytest.fixture
def pi(host_root, settings, tmp_path, monkeypatch) -> Pi:
    """The fixture tree as a Raspberry Pi 4 with Raspberry Pi OS, lgpio and the header's GPIO chip, and a
    writable data directory (the chip and lgpio are the pins tests' fakes of the kernel and lgpio)."""
    host_root.write("proc/device-tree/model", MODEL + "\0")
    host_root.write("etc/os-release", 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n')
    path = host_root.write("dev/gpiochip0", "")
    chip = FakeChip(path=path, name="gpiochip0", label="pinctrl-bcm2711")
    lgpio = fake_lgpio(chip)
    monkeypatch.setitem(sys.modules, "lgpio", lgpio)
    monkeypatch.setattr(pin_hardware, "GpioChipDevice", lambda: FakeDevices(chip))
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()
    settings.ENDRPI_HOST = "127.0.0.1"
    settings.ENDRPI_PORT = free_port()
    return Pi(root=host_root.root, lgpio=lgpio)


def test_on_a_working_pi_it_reports_everything_and_exits_0(pi, settings):
    status, text = doctor()
    assert status == 0, text
    assert shows(text, "model", f"{MODEL}")
    assert shows(text, "OS", "Debian GNU/Linux 12 (bookworm)")
    assert shows(text, "kernel", "Linux ")
    assert shows(text, "pin factory", "LGPIOFactory, what the server would start here\n")
    assert shows(text, "header chip", f"pinctrl-bcm2711 at {pi.root}/dev/gpiochip0")
    assert shows(text, "port", f"{settings.ENDRPI_PORT} on 127.0.0.1: free")
    assert shows(text, "temperature", "48.312 °C")
    assert text.rstrip().endswith("Result: everything a Pi owner needs works.")


@pytest.fixture
def videocore(pi, host_root, settings):
    """Raspberry Pi OS Bookworm's firmware: /dev/vcio only (no vcio_gencmd yet), no vcgencmd on the path."""
    fake = FakeVideoCore(devices=("vcio",))
    host_root.write(firmware.KERNEL_RELEASE, "6.6.51+rpt-rpi-v8\n")
    host_root.write("dev/vcio", "")
    settings.ENDRPI_VCGENCMD = "/nonexistent/vcgencmd"
    previous = firmware.install_mailbox_device(fake)
    yield fake
    firmware_calls_settle()
    firmware.install_mailbox_device(previous)


def test_it_says_which_firmware_source_answered_and_what_each_earlier_one_said(videocore):
    status, text = doctor()
    assert status == 0, text
    assert shows(text, "get_throttled <- vcio_gencmd", "no: ")
    assert shows(text, "get_throttled <- vcio", "throttled=0x0, sticky bits since boot")
    assert shows(text, "measure_clock arm <- vcio", "1500398464 Hz")
    assert shows(text, "measure_clock core <- vcio", "500000992 Hz")
    assert "<- vcgencmd" not in text  # not asked once an earlier source answered


def test_each_source_asked_before_vcgencmd_is_listed(pi):
    _, text = doctor()
    assert shows(text, "get_throttled <- vcio_gencmd", "no: ")
    assert shows(text, "get_throttled <- vcio", "no: ")
    assert shows(text, "get_throttled <- vcgencmd", "throttled=0x50005, sticky bits since boot")
    assert shows(text, "measure_clock arm <- vcio_property", "no: ")
    assert shows(text, "measure_clock arm <- vcgencmd", "1500398464 Hz")


def test_it_lists_the_user_its_groups_and_the_devices_permissions(pi):
    _, text = doctor()
    who = host.identity()
    assert shows(text, "user", f"{who.user} (uid {who.uid})")
    assert shows(text, "groups", f"{', '.join(who.groups)}")
    assert shows(text, "device", f"{pi.root}/dev/gpiochip0: -rw-r--r-- ")
    assert f"{pi.root}/dev/vcio: missing" in text


def test_settings_in_force_are_listed_with_secrets_hidden(pi, settings, monkeypatch):
    settings.SECRET_KEY = "very-secret-value"
    settings.ENDRPI_MQTT_PASSWORD = "hunter2"
    settings.ENDRPI_MQTT_URL = "mqtt://endrpi:hunter2@broker.local:1883"
    monkeypatch.setenv("ENDRPI_AUTH", "write")
    settings.ENDRPI_AUTH = "write"
    _, text = doctor()
    assert "very-secret-value" not in text
    assert "hunter2" not in text
    assert shows(text, "SECRET_KEY", "(hidden)")
    assert shows(text, "ENDRPI_MQTT_URL", "mqtt://endrpi:(hidden)@broker.local:1883")
    assert shows(text, "*ENDRPI_AUTH", "write")
    assert shows(text, "ENDRPI_TLS_CERT", "(not set)")


@pytest.mark.parametrize(
    ("name", "value", "shown"),
    [
        ("ENDRPI_SECRET_KEY", "abc", "(hidden)"),
        ("ENDRPI_MQTT_PASSWORD", "abc", "(hidden)"),
        ("ENDRPI_API_TOKEN", "abc", "(hidden)"),
        ("ENDRPI_MQTT_URL", "mqtts://user:p4ss@host/x", "mqtts://user:(hidden)@host/x"),
        ("ENDRPI_TLS_KEY", "/etc/endrpi/key.pem", "/etc/endrpi/key.pem"),
        ("ENDRPI_HOST", "", "(not set)"),
    ],
)
def test_a_setting_is_shown_without_its_secret(name, value, shown):
    assert setting_shown(name, value) == shown


def test_off_a_pi_gpio_is_simulated_and_that_is_a_problem(host_root, settings):
    settings.ENDRPI_PORT = free_port()
    status, text = doctor()
    assert status == 1
    assert shows(text, "pin factory", "MockFactory (simulated), what the server would start here")
    assert shows(text, "header chip", "unknown at unknown path")
    assert "  - GPIO is simulated: this is not a Raspberry Pi (ENDRPI_GPIO=mock to mean it)." in text
    assert "  - This is not a Raspberry Pi" in text


def test_simulated_pins_asked_for_are_not_a_gpio_problem(host_root, settings):
    settings.ENDRPI_GPIO = "mock"
    _, text = doctor()
    assert shows(text, "ENDRPI_GPIO", "mock")
    assert "GPIO" not in text.split("Result:")[1]


def test_a_gpio_chip_the_user_cannot_open_is_a_problem(pi, monkeypatch):
    chip = pi.root / "dev/gpiochip0"
    monkeypatch.setattr(
        host,
        "file_access",
        lambda path, real=host.file_access: (
            host.FileAccess(path=path, exists=True, owner="root", group="gpio", mode="crw-rw----")
            if path == chip
            else real(path)
        ),
    )
    status, text = doctor()
    assert status == 1
    assert f"{chip} is not read-write for this user: add it to group gpio." in text


def test_no_firmware_source_answering_is_a_problem(pi, vcgencmd):
    vcgencmd.answer(fail=True)
    status, text = doctor()
    assert status == 1
    assert shows(text, "get_throttled <- vcgencmd", "no: ")
    assert "vcgencmd get_throttled failed: " in text
    assert "  - No firmware source answered get_throttled (see Firmware above)." in text


def test_a_busy_port_is_reported_but_may_be_endrpi_itself(pi, settings):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        settings.ENDRPI_PORT = taken.getsockname()[1]
        status, text = doctor()
    assert status == 0, text
    assert f"{settings.ENDRPI_PORT} on 127.0.0.1: in use (by Endrpi, if it is running)" in text


def test_an_unwritable_data_directory_is_a_problem(pi, settings, tmp_path):
    settings.DATA_DIR = tmp_path / "nowhere"
    status, text = doctor()
    assert status == 1
    assert f"The data directory {tmp_path / 'nowhere'} is not writable" in text


def test_the_tls_certificate_is_described(pi, settings, tmp_path):
    files = make_tls_files(tmp_path / "tls")
    settings.ENDRPI_TLS_CERT, settings.ENDRPI_TLS_KEY = files.cert, files.key
    status, text = doctor()
    assert status == 0, text
    assert shows(text, "TLS", "CN=endrpi-test (localhost, 127.0.0.1), valid until ")
    assert shows(text, "endpoint", "ssl:port=")


def test_a_tls_key_that_does_not_match_is_a_problem_naming_the_setting(pi, settings, tmp_path):
    files, other = make_tls_files(tmp_path / "a"), make_tls_files(tmp_path / "b")
    settings.ENDRPI_TLS_CERT, settings.ENDRPI_TLS_KEY = files.cert, other.key
    status, text = doctor()
    assert status == 1
    assert f"  - ENDRPI_TLS_KEY ({other.key}) is not the private key of the certificate" in text


def test_an_expired_certificate_is_a_problem(pi, settings, tmp_path):
    files = make_tls_files(tmp_path / "tls", days=-1)
    settings.ENDRPI_TLS_CERT, settings.ENDRPI_TLS_KEY = files.cert, files.key
    status, text = doctor()
    assert status == 1
    assert "The certificate in ENDRPI_TLS_CERT expired on" in text


def test_a_check_that_breaks_is_reported_and_the_others_still_run(pi, monkeypatch):
    def broken() -> host.Identity:
        raise PermissionError("no passwd")

    monkeypatch.setattr(host, "identity", broken)
    status, text = doctor()
    assert status == 1
    assert "  - The access check failed: PermissionError: no passwd" in text
    assert "Settings in force" in text
    assert "Listening" in text


def test_it_starts_no_pin_library(pi):
    doctor()
    assert pi.lgpio.calls == [], "nothing opened through lgpio, nothing claimed"
    assert pin_hardware.install_gpio(None) is None, "no GPIO was created"


# --- /dev/vcio root-only (the system's udev rules give group video only /dev/vcio_gencmd) ---------


def root_only_vcio(monkeypatch, root: Path, *, group: str = "root", mode: str = "crw-------") -> None:
    vcio = root / "dev/vcio"
    monkeypatch.setattr(
        host,
        "file_access",
        lambda path, real=host.file_access: (
            host.FileAccess(path=path, exists=True, owner="root", group=group, mode=mode)
            if path == vcio
            else real(path)
        ),
    )


def test_a_root_only_vcio_without_vcio_gencmd_is_named_with_its_fix(videocore, pi, monkeypatch):
    videocore.refuse["vcio"] = errno.EACCES  # what opening it does for this user
    root_only_vcio(monkeypatch, pi.root)
    status, text = doctor()
    assert status == 1
    user = host.identity().user
    problem = (
        f"  - {pi.root}/dev/vcio is crw------- root:root, not readable for {user}, and {pi.root}/dev/vcio_gencmd "
        "is missing (an older kernel): the firmware (throttling, clocks) cannot be read. The system's udev rules "
        f"leave {pi.root}/dev/vcio root-only: sudo scripts/install-service installs "
        "/etc/udev/rules.d/60-endrpi-firmware.rules, which lets the service user (alone) read it."
    )
    assert problem in text.splitlines()
    assert shows(text, "problem", f"{pi.root}/dev/vcio is crw------- root:root")


def test_a_vcio_of_group_video_tells_a_user_outside_it_to_join(videocore, pi, monkeypatch):
    videocore.refuse["vcio"] = errno.EACCES
    root_only_vcio(monkeypatch, pi.root, group="video", mode="crw-rw----")
    monkeypatch.setattr(host, "identity", lambda: host.Identity(user="someone", uid=1001, groups=["someone"]))
    _, text = doctor()
    assert "not readable for someone" in text
    assert "Add someone to group video (scripts/install-service does it for the service user)." in text


def test_once_install_service_wrote_the_rule_it_says_who_the_rule_is_for(videocore, pi, monkeypatch, tmp_path):
    shims = tmp_path / "shims"
    shims.mkdir()
    (shims / "setfacl").write_text("#!/bin/sh\n")
    (shims / "setfacl").chmod(0o755)
    assert install(pi.root, path=shims).returncode == 0  # a dry run below the fixture tree
    videocore.refuse["vcio"] = errno.EACCES
    root_only_vcio(monkeypatch, pi.root)
    _, text = doctor()
    assert f"{pi.root}/etc/udev/rules.d/60-endrpi-firmware.rules lets only the service user read it" in text
    assert "sudo udevadm trigger --action=change --sysname-match=vcio" in text


def test_a_readable_vcio_gencmd_is_enough(videocore, pi, monkeypatch):
    videocore.devices.add("vcio_gencmd")
    (pi.root / "dev/vcio_gencmd").write_text("")
    root_only_vcio(monkeypatch, pi.root)
    status, text = doctor()
    assert status == 0, text
    assert "root-only" not in text
