"""The doctor's report: what a Pi owner pastes into a bug report, and whether everything they need works.

Each section is built from the apps' services and :mod:`endrpi_project.doctor.host`, and says what
it found; what stops Endrpi from doing its job on a Raspberry Pi is a *problem* (the command exits 1
when there is one). A section that fails in an unexpected way says so and counts as a problem: the
doctor must always finish. Nothing here writes anything: the database is not opened (opening SQLite
may create files), and no pin library is started (lgpio creates its notification pipe in the working
directory when it opens a chip).

Two facts come from the apps: what each firmware source said (:func:`firmware_sources_report`) and
which pin factory and header chip the server uses (:func:`pin_factory_describe`).
"""

from __future__ import annotations

import os
import platform
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from django.conf import settings
from django.core import checks

from endrpi_project.api.errors import ReadingFailed
from endrpi_project.doctor import host
from endrpi_project.doctor.listening import TlsError, listening_endpoint, listening_from_settings, tls_files_check
from pins.services import pin_factory_describe
from system import services as system_services
from system.services import firmware_sources_report


@dataclass
class Section:
    title: str
    lines: list[tuple[str, str]] = field(default_factory=list)

    def add(self, name: str, value: object) -> None:
        self.lines.append((name, str(value)))


@dataclass
class Report:
    sections: list[Section] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def text(self) -> str:
        out = ["Endrpi doctor: paste all of this into a bug report.", ""]
        for section in self.sections:
            out.append(section.title)
            width = max((len(name) for name, _ in section.lines), default=0)
            out.extend(f"  {name.ljust(width)}  {value}".rstrip() for name, value in section.lines)
            out.append("")
        if self.ok:
            out.append("Result: everything a Pi owner needs works.")
        else:
            out.append(f"Result: {len(self.problems)} problem{'s' if len(self.problems) != 1 else ''}:")
            out.extend(f"  - {problem}" for problem in self.problems)
        return "\n".join(out)


# --- the sections ---------------------------------------------------------------------------------


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _board(report: Report) -> None:
    section = Section("Board")
    report.sections.append(section)
    try:
        platform_reading = system_services.platform_read()
    except ReadingFailed as error:
        section.add("kernel", error.message)
        report.problems.append(error.message)
        return
    section.add("model", platform_reading.model or "none (no /proc/device-tree/model)")
    system = platform_reading.operating_system
    section.add("kernel", f"{system.name} {system.release} {platform_reading.machine_type} ({system.version})")
    section.add("OS", host.os_release() or "unknown (no /etc/os-release)")
    section.add("host name", platform_reading.network_name)
    section.add(
        "software",
        f"Python {platform.python_version()}, Django {_version('Django')}, daphne {_version('daphne')}, "
        f"gpiozero {_version('gpiozero')}, lgpio {_version('lgpio')}",
    )
    if not (platform_reading.model or "").startswith("Raspberry Pi"):
        report.problems.append("This is not a Raspberry Pi (no Raspberry Pi model in the device tree).")


def _gpio(report: Report) -> None:
    section = Section("GPIO")
    report.sections.append(section)
    info = pin_factory_describe()
    section.add("ENDRPI_GPIO", info.mode)
    chosen = "in use by this process" if info.in_use else "what the server would start here"
    section.add("pin factory", f"{info.factory}{' (simulated)' if info.simulated else ''}, {chosen}")
    section.add("header chip", f"{info.chip_label or 'unknown'} at {info.chip_path or 'unknown path'}")
    if info.problem:
        section.add("problem", info.problem)
        report.problems.append(f"GPIO: {info.problem}.")
    elif info.simulated and info.mode != "mock":
        report.problems.append("GPIO is simulated: this is not a Raspberry Pi (ENDRPI_GPIO=mock to mean it).")
    chips = host.devices("dev/gpiochip*")
    for chip in chips:
        section.add("device", chip.describe())
    if info.simulated:
        return
    header = next((chip for chip in chips if str(chip.path) == info.chip_path), None)
    if info.chip_path is not None and (header is None or not (header.readable and header.writable)):
        report.problems.append(f"{info.chip_path} is not read-write for this user: add it to group gpio.")
    elif info.chip_path is None and not any(chip.readable and chip.writable for chip in chips):
        report.problems.append("No /dev/gpiochip* is read-write for this user: add it to group gpio.")


# What scripts/install-service writes so the service user can read a root-only /dev/vcio.
FIRMWARE_UDEV_RULE = "etc/udev/rules.d/60-endrpi-firmware.rules"
FIRMWARE_UDEV_TRIGGER = "sudo udevadm trigger --action=change --sysname-match=vcio"


def _mailbox_problem(gencmd: host.FileAccess, vcio: host.FileAccess) -> str | None:
    """Why this user can open neither mailbox device, and the fix; ``None`` when it can open one.

    Raspberry Pi OS's udev rules give group ``video`` ``/dev/vcio`` (raspberrypi-sys-mods
    ``10-vc.rules``), or on some systems only ``/dev/vcio_gencmd``, which older kernels lack: then
    ``/dev/vcio`` is root-only and nothing but root reads the firmware.
    """
    if (gencmd.exists and gencmd.readable) or not vcio.exists or vcio.readable:
        return None
    who = host.identity()
    what = (
        f"{vcio.path} is {vcio.mode} {vcio.owner}:{vcio.group}, not readable for {who.user}, and "
        f"{gencmd.path} is {'not readable either' if gencmd.exists else 'missing (an older kernel)'}: "
        "the firmware (throttling, clocks) cannot be read."
    )
    if vcio.group == "video" and vcio.mode[4:5] == "r" and "video" not in who.groups:
        return f"{what} Add {who.user} to group video (scripts/install-service does it for the service user)."
    rule = host.host_file(FIRMWARE_UDEV_RULE)
    if rule.exists:
        return (
            f"{what} {rule.path} lets only the service user read it: run the doctor as that user "
            f"(sudo scripts/install-service --doctor); if that fails too, apply the rule: {FIRMWARE_UDEV_TRIGGER}"
        )
    return (
        f"{what} The system's udev rules leave {vcio.path} root-only: sudo scripts/install-service installs "
        f"/{FIRMWARE_UDEV_RULE}, which lets the service user (alone) read it."
    )


def _firmware(report: Report) -> None:
    section = Section("Firmware (sources in the order the server asks them)")
    report.sections.append(section)
    gencmd, vcio = host.host_file("dev/vcio_gencmd"), host.host_file("dev/vcio")
    for device in (gencmd, vcio):
        section.add("device", device.describe())
    mailbox = _mailbox_problem(gencmd, vcio)
    if mailbox is not None:
        section.add("problem", mailbox)
        report.problems.append(mailbox)
    for answer in firmware_sources_report():
        for said in answer.said:
            section.add(f"{answer.question} <- {said.source}", said.said if said.answered else f"no: {said.said}")
        if answer.answered_by is None:
            report.problems.append(f"No firmware source answered {answer.question} (see Firmware above).")


def _memory() -> str:
    memory = system_services.memory_read()
    return f"{memory.total.quantity} kB total, {memory.available.quantity} kB available"


def _readings(report: Report) -> None:
    section = Section("Readings")
    report.sections.append(section)
    readings: list[tuple[str, Callable[[], str]]] = [
        ("temperature", lambda: f"{system_services.temperature_read().system_on_chip.quantity} °C"),
        ("uptime", lambda: system_services.uptime_read().formatted),
        ("memory", _memory),
    ]
    for name, read in readings:
        try:
            section.add(name, read())
        except ReadingFailed as error:
            section.add(name, error.message)
            report.problems.append(error.message)


def _access(report: Report) -> None:
    section = Section("Access")
    report.sections.append(section)
    who = host.identity()
    section.add("user", f"{who.user} (uid {who.uid})")
    section.add("groups", ", ".join(who.groups))
    for group in ("gpio", "video"):
        if group not in who.groups and who.uid != 0:
            section.add("note", f"not in group {group}")
    data_dir = host.file_access(Path(settings.DATA_DIR))
    section.add("data directory", data_dir.describe())
    if not (data_dir.exists and data_dir.writable):
        report.problems.append(f"The data directory {data_dir.path} is not writable for {who.user}.")
    database = host.file_access(Path(settings.DATABASE_PATH))
    section.add("database", database.describe() if database.exists else f"{database.path}: not created yet")
    if database.exists and not database.writable:
        report.problems.append(f"The database {database.path} is not writable for {who.user}.")


def _listening(report: Report) -> None:
    section = Section("Listening")
    report.sections.append(section)
    listening = listening_from_settings()
    section.add("endpoint", listening_endpoint(listening))
    busy = host.port_free(listening.host, listening.port)
    if busy is None:
        section.add("port", f"{listening.port} on {listening.host}: free")
    elif busy == "in use":
        section.add("port", f"{listening.port} on {listening.host}: in use (by Endrpi, if it is running)")
    else:
        section.add("port", f"{listening.port} on {listening.host}: cannot listen: {busy}")
        report.problems.append(f"Cannot listen on {listening.host}:{listening.port}: {busy}.")
    if listening.tls_cert is None or listening.tls_key is None:
        section.add("TLS", "off (plain HTTP and ws://)")
        return
    try:
        certificate = tls_files_check(cert=listening.tls_cert, key=listening.tls_key)
    except TlsError as error:
        section.add("TLS", str(error))
        report.problems.append(str(error))
        return
    names = ", ".join(certificate.names) or "no subject alternative names"
    section.add("TLS", f"{certificate.subject} ({names}), valid until {certificate.not_after:%Y-%m-%d}")
    if certificate.expired:
        report.problems.append(f"The certificate in ENDRPI_TLS_CERT expired on {certificate.not_after:%Y-%m-%d}.")


_SECRET_NAME = re.compile(r"SECRET|PASSWORD|PASSPHRASE|TOKEN|CREDENTIAL")
_URL_PASSWORD = re.compile(r"(://[^:/@\s]*):[^@/\s]+@")


def setting_shown(name: str, value: object) -> str:
    """A setting as the report prints it: secrets hidden, passwords in URLs hidden."""
    if value is None or value == "":
        return "(not set)"
    if _SECRET_NAME.search(name):
        return "(hidden)"
    return _URL_PASSWORD.sub(r"\1:(hidden)@", str(value))


def _settings(report: Report) -> None:
    section = Section("Settings in force (* = from the environment)")
    report.sections.append(section)
    names = sorted(name for name in dir(settings) if name.startswith("ENDRPI_"))
    shown = {
        "DATA_DIR": settings.DATA_DIR,
        "DATABASE": settings.DATABASES["default"]["NAME"],
        "DEBUG": settings.DEBUG,
        "SECRET_KEY": settings.SECRET_KEY,
    }
    for name in names:
        shown[name] = getattr(settings, name)
    environment_names = {
        "DATA_DIR": "ENDRPI_DATA_DIR",
        "DATABASE": "ENDRPI_DATABASE_PATH",
        "DEBUG": "ENDRPI_DEBUG",
        "SECRET_KEY": "ENDRPI_SECRET_KEY",
    }
    for name, value in shown.items():
        marker = "*" if environment_names.get(name, name) in os.environ else " "
        if isinstance(value, (list, tuple)):
            value = ",".join(str(item) for item in value)
        section.add(f"{marker}{name}", setting_shown(name, value))
    section.add(" Python", sys.executable)


def _checks(report: Report) -> None:
    section = Section("Django system checks")
    report.sections.append(section)
    messages = checks.run_checks(include_deployment_checks=False)
    for message in messages:
        section.add(message.id or "check", message.msg)
        if message.is_serious():
            report.problems.append(f"{message.id}: {message.msg}")
    if not messages:
        section.add("result", "no issues")


SECTIONS: list[Callable[[Report], None]] = [
    _board,
    _gpio,
    _firmware,
    _readings,
    _access,
    _listening,
    _settings,
    _checks,
]


def doctor_report() -> Report:
    """Every section; one that fails unexpectedly is reported as such and the rest still run."""
    report = Report()
    for build in SECTIONS:
        try:
            build(report)
        except Exception as error:
            title = build.__name__.strip("_")
            report.sections.append(Section(title.capitalize(), [("error", f"{type(error).__name__}: {error}")]))
            report.problems.append(f"The {title} check failed: {type(error).__name__}: {error}")
    return report
