"""Reads of the kernel's text files under /sys and /proc, and the kernel's own identity.

Paths are relative to ``settings.ENDRPI_HOST_ROOT`` (``/`` on a Pi) so tests point them at a
fixture tree. A read is one ``open``/``read`` of a small pseudo-file: no subprocess, no shell.
"""

from __future__ import annotations

import errno
import fcntl
import os
import platform
import socket
import stat
import threading
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from system import parsers

THERMAL_ZONE = "sys/class/thermal/thermal_zone0/temp"
UPTIME = "proc/uptime"
MEMINFO = "proc/meminfo"
DEVICE_TREE_MODEL = "proc/device-tree/model"
PROC_STAT = "proc/stat"
LOADAVG = "proc/loadavg"
SD_CARD_STAT = "sys/block/mmcblk0/stat"
NET_DEV = "proc/net/dev"
NET_CLASS = "sys/class/net"


def host_path(relative: str) -> Path:
    return Path(settings.ENDRPI_HOST_ROOT) / relative


def read_host_file(relative: str) -> str:
    """The text of a file below the host root. Raises ``OSError`` as ``open`` does.

    Never waits: this runs on the event loop for every WebSocket reading of the temperature, the
    uptime and memory, so a file that does not answer must not be able to stop it. The kernel's
    attribute files in /sys and /proc are regular files that the kernel fills in when read; anything
    else at that path (a FIFO, a socket, a device: a broken driver, or a fixture standing in for one)
    could block, so it is opened without waiting (``O_NONBLOCK``) and refused unread. (A driver that
    blocks inside its own attribute's read is past what any open flag can bound; the readings read on
    the loop are /proc files the kernel prints from memory and the thermal zone's register read.)

    Read with ``os.open``/``os.read`` rather than a text-mode ``open``: building a buffered text
    stream for one small read costs more than the read itself (the kernel writes these files in one
    go, so the first read holds nearly all of it).
    """
    return read_host_bytes(relative).decode("ascii", errors="replace")


_READ_SIZE = 16384


def read_host_bytes(relative: str) -> bytes:
    """The bytes of a file below the host root (device-tree properties are binary); never waits."""
    path = os.path.join(settings.ENDRPI_HOST_ROOT, relative)
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = _KINDS.get(stat.S_IFMT(mode), "not a regular file")
            shown = "/" + relative.lstrip("/")
            raise OSError(errno.EIO, f"{shown} is {kind}, not a kernel attribute file, so it is not read", path)
        chunks = [os.read(fd, _READ_SIZE)]
        while chunks[-1]:
            chunks.append(os.read(fd, _READ_SIZE))
    finally:
        os.close(fd)
    return b"".join(chunks)


_KINDS = {
    stat.S_IFIFO: "a FIFO",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFDIR: "a directory",
}


def read_board_model() -> str | None:
    """The board's name from the device tree (``Raspberry Pi 4 Model B Rev 1.4``); ``None`` without one."""
    try:
        raw = read_host_bytes(DEVICE_TREE_MODEL)
    except OSError:
        return None
    return parsers.parse_device_tree_string(raw) or None


@dataclass(frozen=True)
class CpuFiles:
    stat: str
    loadavg: str


def read_cpu_files() -> CpuFiles:
    """``/proc/stat`` and ``/proc/loadavg``: two reads the kernel answers from memory."""
    return CpuFiles(stat=read_host_file(PROC_STAT), loadavg=read_host_file(LOADAVG))


def read_storage() -> parsers.Storage:
    """``statvfs`` of the root (``ENDRPI_HOST_ROOT``) and of the data directory (``ENDRPI_DATA_DIR``), and the SD card's
    bytes written when the kernel has an ``mmcblk0`` (a Pi booted from USB or NVMe has none)."""

    def of(path: str) -> parsers.FileSystem:
        figures = os.statvfs(path)
        return parsers.file_system(
            path=path,
            fragment_size=figures.f_frsize,
            blocks=figures.f_blocks,
            blocks_free=figures.f_bfree,
            blocks_available=figures.f_bavail,
        )

    try:
        written: int | None = parsers.parse_block_stat(read_host_file(SD_CARD_STAT))
    except FileNotFoundError:
        written = None
    return parsers.Storage(
        root=of(str(settings.ENDRPI_HOST_ROOT)), data=of(str(settings.DATA_DIR)), sd_written_bytes=written
    )


def read_network() -> parsers.NetworkSnapshot:
    """Each interface's counters (``/proc/net/dev``), link (``/sys/class/net/<name>``) and addresses
    (the kernel's, over rtnetlink: no ``ip`` process)."""
    counters = parsers.parse_net_dev(read_host_file(NET_DEV))
    links: dict[str, parsers.Link] = {}
    for name in counters:
        base = f"{NET_CLASS}/{name}"
        try:
            links[name] = parsers.parse_link(
                ifindex=read_host_file(f"{base}/ifindex"),
                operstate=read_host_file(f"{base}/operstate"),
                address=read_host_file(f"{base}/address"),
            )
        except OSError:
            continue  # gone between the two reads
    addresses, _ = parsers.parse_netlink_addresses(read_netlink_addresses())
    return parsers.NetworkSnapshot(links=links, counters=counters, addresses=addresses)


def read_netlink_addresses() -> bytes:
    """The kernel's answer to an ``RTM_GETADDR`` dump: every address of every interface, in memory."""
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE) as sock:
        sock.settimeout(1.0)
        sock.send(parsers.netlink_address_request(1))
        chunks: list[bytes] = []
        while True:
            chunk = sock.recv(65536)
            chunks.append(chunk)
            if not chunk or parsers.parse_netlink_addresses(chunk)[1]:
                return b"".join(chunks)


@dataclass(frozen=True)
class Uname:
    machine: str
    node: str
    system: str
    release: str
    version: str


def read_uname() -> Uname:
    """The kernel's identity (``uname``) and the host's network name."""
    info = os.uname()
    return Uname(
        machine=info.machine,
        node=socket.gethostname() or info.nodename,
        system=platform.system() or info.sysname,
        release=info.release,
        version=info.version,
    )


class OpenDevices:
    """Device files opened once, read-only, and kept open for the life of the process, for ioctls."""

    def __init__(self) -> None:
        self._fds: dict[Path, int] = {}
        self._lock = threading.Lock()

    def _fd(self, path: Path) -> int:
        fd = self._fds.get(path)
        if fd is None:
            with self._lock:
                fd = self._fds.get(path)
                if fd is None:
                    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
                    self._fds[path] = fd
        return fd

    def ioctl(self, path: Path, request: int, buffer: bytes) -> bytes:
        """Send ``buffer`` with ioctl ``request`` to the device at ``path``; the buffer as answered."""
        answer = bytearray(buffer)
        fcntl.ioctl(self._fd(path), request, answer, True)
        return bytes(answer)
