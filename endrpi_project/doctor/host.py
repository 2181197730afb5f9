"""What the doctor and the serve command ask the machine itself; nothing here writes anything.

Files of the Pi (``/etc/os-release``, ``/dev/...``) are looked up below ``ENDRPI_HOST_ROOT`` like every
other reading. The network addresses and the port are this process's own (its network namespace):
the interface addresses come from the ``SIOCGIFADDR`` ioctl (IPv4) and ``/proc/net/if_inet6``, and
the port is tried with a ``bind`` that is closed at once (no connection, no file).
"""

from __future__ import annotations

import errno
import fcntl
import glob
import grp
import ipaddress
import os
import pwd
import socket
import stat
import struct
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

# linux/sockios.h: get the IPv4 address of the interface named in a struct ifreq.
SIOCGIFADDR = 0x8915
# /proc/net/if_inet6 scopes (include/net/ipv6.h IPV6_ADDR_*): 0x00 global, 0x10 host (::1), 0x20 link.
_IPV6_LISTED_SCOPES = {0x00, 0x10}


def interface_addresses() -> list[str]:
    """Every IPv4 and non-link-local IPv6 address of this machine's interfaces (loopback included)."""
    addresses: list[str] = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        for _index, name in socket.if_nameindex():
            request = struct.pack("256s", name.encode()[:15])
            try:
                answer = fcntl.ioctl(probe.fileno(), SIOCGIFADDR, request)
            except OSError:
                continue  # no IPv4 address on this interface
            addresses.append(socket.inet_ntoa(answer[20:24]))
    try:
        lines = Path("/proc/net/if_inet6").read_text().splitlines()
    except OSError:
        lines = []
    for line in lines:
        fields = line.split()
        if len(fields) >= 4 and int(fields[3], 16) in _IPV6_LISTED_SCOPES:
            addresses.append(str(ipaddress.IPv6Address(bytes.fromhex(fields[0]))))
    return list(dict.fromkeys(addresses))


def os_release() -> str | None:
    """The distribution's ``PRETTY_NAME`` (``Debian GNU/Linux 12 (bookworm)``), from os-release(5)."""
    root = Path(settings.ENDRPI_HOST_ROOT)
    for relative in ("etc/os-release", "usr/lib/os-release"):
        try:
            text = (root / relative).read_text(errors="replace")
        except OSError:
            continue
        for line in text.splitlines():
            key, _, value = line.partition("=")
            if key.strip() == "PRETTY_NAME":
                return value.strip().strip("\"'") or None
    return None


@dataclass(frozen=True)
class Identity:
    """Who this process runs as."""

    user: str
    uid: int
    groups: list[str]


def _user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _group_name(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def identity() -> Identity:
    gids = list(dict.fromkeys([os.getegid(), *os.getgroups()]))
    return Identity(user=_user_name(os.geteuid()), uid=os.geteuid(), groups=[_group_name(gid) for gid in gids])


@dataclass(frozen=True)
class FileAccess:
    """A file or directory, its owner and mode, and what this process may do with it."""

    path: Path
    exists: bool
    owner: str = ""
    group: str = ""
    mode: str = ""
    readable: bool = False
    writable: bool = False

    def describe(self) -> str:
        if not self.exists:
            return f"{self.path}: missing"
        access = "read-write" if self.readable and self.writable else "read-only" if self.readable else "no access"
        return f"{self.path}: {self.mode} {self.owner}:{self.group}, {access} for this user"


def file_access(path: Path) -> FileAccess:
    try:
        info = path.stat()
    except OSError:
        return FileAccess(path=path, exists=False)
    return FileAccess(
        path=path,
        exists=True,
        owner=_user_name(info.st_uid),
        group=_group_name(info.st_gid),
        mode=stat.filemode(info.st_mode),
        readable=os.access(path, os.R_OK),
        writable=os.access(path, os.W_OK),
    )


def devices(pattern: str) -> list[FileAccess]:
    """The device files matching ``pattern`` (``dev/gpiochip*``) below ``ENDRPI_HOST_ROOT``."""
    root = str(settings.ENDRPI_HOST_ROOT).rstrip("/")
    return [file_access(Path(path)) for path in sorted(glob.glob(glob.escape(root) + "/" + pattern))]


def host_file(relative: str) -> FileAccess:
    return file_access(Path(settings.ENDRPI_HOST_ROOT) / relative)


def port_free(host: str, port: int) -> str | None:
    """``None`` when ``host:port`` could be listened on now; else why not (``Address already in use``)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # As Twisted's listenTCP does, so a port in TIME_WAIT counts as free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return "in use"
            return error.strerror or str(error)
    return None
