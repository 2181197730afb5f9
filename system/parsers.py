"""Pure functions from the raw text the kernel and firmware print to numbers.

No I/O and no Django: each takes a string (or bytes) and returns a value, or raises ``ValueError``
with a message that says what was wrong with the text.
"""

from __future__ import annotations

import ipaddress
import re
import struct
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import timedelta


@dataclass(frozen=True)
class ThrottleCondition:
    """One of the firmware's four throttle conditions: a bit for now and a sticky bit since boot.

    The one table of them (:data:`THROTTLE_CONDITIONS`): the Throttle model's fields, the history's
    event names, the metrics, the MQTT entities and the dashboard's rows are all read from it.
    """

    name: str  # as the history's events name it: "underVoltage"
    now: str  # the Throttle model's field for the condition now: "underVoltageDetected"
    since_boot: str  # and for "has occurred since boot": "underVoltageHasOccurred"
    now_bit: int  # bits of the firmware's get_throttled word
    since_boot_bit: int


THROTTLE_CONDITIONS = (
    ThrottleCondition("underVoltage", "underVoltageDetected", "underVoltageHasOccurred", 0, 16),
    ThrottleCondition("armFrequencyCapped", "armFrequencyCapped", "armFrequencyCappingHasOccurred", 1, 17),
    ThrottleCondition("throttling", "throttling", "throttlingHasOccurred", 2, 18),
    ThrottleCondition("softTemperatureLimit", "softTemperatureLimitActive", "softTemperatureLimitHasOccurred", 3, 19),
)

# Each Throttle field's bit: the four "now" flags, then the four "since boot" ones.
THROTTLE_BITS: dict[str, int] = {
    **{condition.now: condition.now_bit for condition in THROTTLE_CONDITIONS},
    **{condition.since_boot: condition.since_boot_bit for condition in THROTTLE_CONDITIONS},
}


def snake_case(field: str) -> str:
    """A wire field's Python (and SQL column) name: ``underVoltageDetected`` -> ``under_voltage_detected``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", field).lower()


_THROTTLED = re.compile(r"^\s*throttled=(0x[0-9a-fA-F]+|\d+)\s*$")
_CLOCK = re.compile(r"^\s*frequency\(\d+\)=(\d+)\s*$")


def parse_millidegrees(text: str) -> float:
    """``/sys/class/thermal/thermal_zone0/temp`` (``"48312\\n"``) to degrees Celsius (48.312)."""
    try:
        return int(text.strip()) / 1000
    except ValueError:
        raise ValueError(f"expected millidegrees, got {text.strip()[:40]!r}") from None


def parse_uptime(text: str) -> float:
    """``/proc/uptime`` (``"1234.56 4567.89\\n"``) to seconds since boot."""
    fields = text.split()
    try:
        seconds = float(fields[0])
    except (IndexError, ValueError):
        raise ValueError(f"expected seconds since boot, got {text.strip()[:40]!r}") from None
    if seconds < 0:
        raise ValueError(f"uptime cannot be negative: {seconds}")
    return seconds


def format_uptime(seconds: float) -> str:
    """Rounded seconds as ``H:MM:SS``, or ``N day(s), H:MM:SS`` past a day."""
    return str(timedelta(seconds=round(seconds)))


def parse_meminfo(text: str, fields: Collection[str] | None = None) -> dict[str, int]:
    """``/proc/meminfo`` to a map of field name to kilobytes (``{"MemTotal": 3884328, ...}``).

    With ``fields``, stops reading as soon as it has them all (the kernel prints MemTotal, MemFree
    and MemAvailable first), and leaves out the rest.
    """
    values: dict[str, int] = {}
    wanted = len(fields) if fields is not None else -1
    for line in text.splitlines():
        name, sep, rest = line.partition(":")
        if not sep:
            continue
        name = name.strip()
        if fields is not None and name not in fields:
            continue
        number = rest.split()
        if number and number[0].isdigit():
            values[name] = int(number[0])
            if len(values) == wanted:
                break
    return values


def parse_throttled(text: str) -> int:
    """``vcgencmd get_throttled`` (``"throttled=0x50005"``) to the throttle word."""
    match = _THROTTLED.match(text)
    if match is None:
        raise ValueError(f"expected 'throttled=0x...', got {text.strip()[:40]!r}")
    return int(match.group(1), 0)


def throttle_flags(word: int) -> dict[str, bool]:
    """The throttle reading's eight flags (bits: ``THROTTLE_BITS``) from the firmware's ``get_throttled`` word."""
    return {name: bool(word >> bit & 1) for name, bit in THROTTLE_BITS.items()}


def parse_clock(text: str) -> int:
    """``vcgencmd measure_clock arm`` (``"frequency(48)=1500398464"``) to hertz."""
    match = _CLOCK.match(text)
    if match is None:
        raise ValueError(f"expected 'frequency(N)=HERTZ', got {text.strip()[:40]!r}")
    return int(match.group(1))


def parse_sysfs_throttled(text: str) -> int:
    """The kernel's ``.../soc:firmware/get_throttled`` file (``"50005\\n"``, hex without ``0x``) to the word."""
    try:
        return int(text.strip(), 16)
    except ValueError:
        raise ValueError(f"expected a hexadecimal throttle word, got {text.strip()[:40]!r}") from None


def parse_device_tree_string(raw: bytes) -> str:
    """A device-tree string property (``b"Raspberry Pi 4 Model B Rev 1.4\\x00"``) to text."""
    return raw.split(b"\0", 1)[0].decode("ascii", errors="replace").strip()


# --- The VideoCore mailbox property interface ---------------------------------------------------
#
# One ioctl on /dev/vcio (or /dev/vcio_gencmd) carries a buffer of little-endian 32-bit words:
#
#   [total size in bytes] [0 = process request; answered 0x80000000 success / 0x80000001 error]
#   [tag id] [value buffer size in bytes] [0 = request; answered 0x80000000 | value length]
#   [value buffer ...] [0 = end tag]
#
# These functions build and read that buffer; opening the device and the ioctl itself live in
# ``system.hardware.firmware``. Every Raspberry Pi kernel is little-endian.

MAILBOX_REQUEST = 0x00000000
MAILBOX_SUCCESS = 0x80000000
TAG_RESPONSE = 0x80000000
TAG_GET_THROTTLED = 0x00030046
TAG_GET_CLOCK_MEASURED = 0x00030047
TAG_GET_GENCMD_RESULT = 0x00030080
CLOCK_IDS: dict[str, int] = {"arm": 3, "core": 4}
# The whole buffer of one mailbox ioctl, at most: CPython's fcntl.ioctl copies a buffer of up to
# 1,024 bytes (its IOCTL_BUFSZ) and releases the GIL while the kernel waits on the firmware; a larger
# one is passed in place with the GIL held for the whole round trip (up to a second).
MAILBOX_BUFFER_MAX = 1024
# The room for a command and for its answer: vcgencmd's MAX_STRING (1024, 4096 since 2025) made small
# enough that the whole gencmd buffer (24 bytes of header and error word, this, the end tag) is
# MAILBOX_BUFFER_MAX. Answers to the commands Endrpi sends are under 40 bytes.
GENCMD_MAX = MAILBOX_BUFFER_MAX - 28

_IOC_WRITE = 1
_IOC_READ = 2


def ioctl_readwrite(kind: int, number: int, size: int) -> int:
    """Linux's ``_IOWR(kind, number, size)`` request code (``_IOWR(100, 0, char *)`` on a 64-bit Pi)."""
    return ((_IOC_READ | _IOC_WRITE) << 30) | (size << 16) | (kind << 8) | number


def _words(buffer: bytes) -> tuple[int, ...]:
    if len(buffer) % 4 or len(buffer) < 24:
        raise ValueError(f"a mailbox buffer is whole 32-bit words, at least 6; got {len(buffer)} bytes")
    return struct.unpack(f"<{len(buffer) // 4}I", buffer)


def mailbox_request(tag: int, values: Sequence[int], *, value_size: int | None = None) -> bytes:
    """The buffer asking ``tag`` with request ``values`` (32-bit words) in a value buffer of ``value_size``."""
    size = 4 * len(values) if value_size is None else value_size
    if size % 4 or size < 4 * len(values):
        raise ValueError(f"a value buffer of {size} bytes cannot hold {len(values)} words")
    padding = (0,) * (size // 4 - len(values))
    words = (0, MAILBOX_REQUEST, tag, size, 0, *values, *padding, 0)
    return struct.pack(f"<{len(words)}I", 4 * len(words), *words[1:])


def mailbox_response(buffer: bytes, tag: int, count: int) -> tuple[int, ...]:
    """The first ``count`` value words the firmware answered to ``tag``; ``ValueError`` if it did not."""
    words = _words(buffer)
    if words[0] != len(buffer):
        raise ValueError(f"mailbox buffer says it is {words[0]} bytes but is {len(buffer)}")
    if words[1] != MAILBOX_SUCCESS:
        raise ValueError(f"the firmware refused the request (code {words[1]:#010x})")
    if words[2] != tag:
        raise ValueError(f"the firmware answered tag {words[2]:#010x}, not {tag:#010x}")
    if not words[4] & TAG_RESPONSE:
        raise ValueError(f"the firmware did not answer tag {tag:#010x}")
    length = words[4] & ~TAG_RESPONSE
    if length < 4 * count or 5 + count > len(words):
        raise ValueError(f"the firmware answered {length} bytes to tag {tag:#010x}; expected {4 * count}")
    return tuple(words[5 : 5 + count])


def gencmd_request(command: str) -> bytes:
    """The buffer sending a text command (``"get_throttled"``) as vcgencmd does: error word, then text.

    The layout is vcgencmd's ``gencmd()`` (raspberrypi/utils ``vcgencmd/vcgencmd.c``) word for word:
    the value buffer's declared size is the text room, and the error word sits before it, with
    :data:`GENCMD_MAX` for vcgencmd's ``MAX_STRING`` so the buffer is :data:`MAILBOX_BUFFER_MAX` bytes.
    """
    text = command.encode("ascii")
    if len(text) + 1 >= GENCMD_MAX:
        raise ValueError(f"a firmware command is under {GENCMD_MAX} bytes; got {len(text)}")
    value = struct.pack("<I", 0) + text.ljust(GENCMD_MAX, b"\0")
    words = struct.pack("<5I", 0, MAILBOX_REQUEST, TAG_GET_GENCMD_RESULT, GENCMD_MAX, 0)
    body = words + value + struct.pack("<I", 0)
    return struct.pack("<I", len(body)) + body[4:]


def gencmd_response(buffer: bytes) -> str:
    """The text the firmware answered to a command (``"throttled=0x50005"``); ``ValueError`` on an error."""
    if len(buffer) < 28 or len(buffer) % 4:
        raise ValueError(f"a firmware command answer is whole 32-bit words; got {len(buffer)} bytes")
    size, code, tag, _, _, error = struct.unpack_from("<6I", buffer)
    if size != len(buffer):
        raise ValueError(f"mailbox buffer says it is {size} bytes but is {len(buffer)}")
    if code != MAILBOX_SUCCESS:
        raise ValueError(f"the firmware refused the request (code {code:#010x})")
    if tag != TAG_GET_GENCMD_RESULT:
        raise ValueError(f"the firmware answered tag {tag:#010x}, not {TAG_GET_GENCMD_RESULT:#010x}")
    if error:
        raise ValueError(f"the firmware answered error {error} to the command")
    return buffer[24:-4].split(b"\0", 1)[0].decode("ascii", errors="replace")


# --- CPU: /proc/loadavg and /proc/stat -----------------------------------------------------------


@dataclass(frozen=True)
class CpuTimes:
    """One line of ``/proc/stat`` in clock ticks: all time, and the idle part (idle + iowait)."""

    total: int
    idle: int


@dataclass(frozen=True)
class CpuSnapshot:
    """What one read of ``/proc/loadavg`` and ``/proc/stat`` says."""

    load_1: float
    load_5: float
    load_15: float
    times: dict[str, CpuTimes]  # "cpu" (all cores) and "cpu0", "cpu1", ...


@dataclass(frozen=True)
class Cpu:
    """The CPU reading: load averages and how busy the cores were between two reads."""

    load_1: float = field(metadata={"help": "Load average over 1 minute (runnable and waiting tasks)."})
    load_5: float = field(metadata={"help": "Load average over 5 minutes."})
    load_15: float = field(metadata={"help": "Load average over 15 minutes."})
    usage_percent: float = field(metadata={"help": "All cores busy, 0 to 100, over `sampledSeconds`."})
    cores: dict[str, float] = field(metadata={"help": "Each core's busy percent (`cpu0`, `cpu1`, ...)."})
    sampled_seconds: float | None = field(
        metadata={"help": "The time the usage covers (since the previous read); null: since boot."}
    )


def parse_loadavg(text: str) -> tuple[float, float, float]:
    """``/proc/loadavg`` (``"0.52 0.58 0.59 1/389 12345"``) to the 1, 5 and 15 minute load averages."""
    fields = text.split()
    try:
        return float(fields[0]), float(fields[1]), float(fields[2])
    except (IndexError, ValueError):
        raise ValueError(f"expected three load averages, got {text.strip()[:40]!r}") from None


def parse_proc_stat(text: str) -> dict[str, CpuTimes]:
    """The ``cpu``/``cpuN`` lines of ``/proc/stat`` (``cpu0 4705 356 584 3699 23 23 0 0 0 0``).

    Of the fields (user nice system idle iowait irq softirq steal guest guest_nice, proc(5)), the
    first eight are the time spent; guest time is already counted in user.
    """
    times: dict[str, CpuTimes] = {}
    for line in text.splitlines():
        if not line.startswith("cpu"):
            continue
        name, *numbers = line.split()
        try:
            ticks = [int(number) for number in numbers[:8]]
        except ValueError:
            raise ValueError(f"expected clock ticks on {name}, got {line[:60]!r}") from None
        if len(ticks) < 4:
            raise ValueError(f"expected at least four clock tick fields on {name}, got {len(ticks)}")
        idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)
        times[name] = CpuTimes(total=sum(ticks), idle=idle)
    if "cpu" not in times:
        raise ValueError("/proc/stat has no cpu line")
    return times


def cpu_snapshot(*, stat: str, loadavg: str) -> CpuSnapshot:
    load_1, load_5, load_15 = parse_loadavg(loadavg)
    return CpuSnapshot(load_1=load_1, load_5=load_5, load_15=load_15, times=parse_proc_stat(stat))


def _busy(before: CpuTimes | None, after: CpuTimes) -> float:
    total = after.total - (before.total if before else 0)
    idle = after.idle - (before.idle if before else 0)
    if total <= 0:
        return 0.0
    return round(100 * max(0, total - idle) / total, 1)


def cpu_usage(previous: CpuSnapshot | None, current: CpuSnapshot, seconds: float) -> Cpu:
    """The CPU reading between two snapshots (``previous`` None: since boot). A core that appears
    (brought online) counts from boot; one that went offline is left out."""
    before = previous.times if previous is not None else {}
    cores = {name: _busy(before.get(name), times) for name, times in current.times.items() if name != "cpu"}
    return Cpu(
        load_1=current.load_1,
        load_5=current.load_5,
        load_15=current.load_15,
        usage_percent=_busy(before.get("cpu"), current.times["cpu"]),
        cores=cores,
        sampled_seconds=round(seconds, 3) if previous is not None else None,
    )


# --- Storage: statvfs and the SD card's block statistics -----------------------------------------


@dataclass(frozen=True)
class FileSystem:
    """Size, used and free space of one file system, as ``df`` counts them."""

    path: str = field(metadata={"help": "The directory asked about."})
    size_bytes: int = field(metadata={"help": "The file system's size."})
    used_bytes: int = field(metadata={"help": "Bytes in use."})
    free_bytes: int = field(metadata={"help": "Bytes a user (not root) can still write."})


@dataclass(frozen=True)
class Storage:
    """The root file system, the data directory's, and what has been written to the SD card since boot."""

    root: FileSystem
    data: FileSystem = field(metadata={"help": "The file system of ENDRPI_DATA_DIR (the database)."})
    sd_written_bytes: int | None = field(
        metadata={"help": "Bytes written to the SD card (mmcblk0) since boot; null without one."}
    )


def file_system(*, path: str, fragment_size: int, blocks: int, blocks_free: int, blocks_available: int) -> FileSystem:
    """``statvfs`` figures as ``df`` shows them: used is all blocks less the free ones (root's reserve
    counts as used), free is what an unprivileged user may still write (``f_bavail``)."""
    if fragment_size <= 0 or blocks < 0 or not 0 <= blocks_available <= blocks_free <= blocks:
        raise ValueError(f"statvfs of {path} makes no sense: {blocks} blocks, {blocks_free} free")
    return FileSystem(
        path=path,
        size_bytes=blocks * fragment_size,
        used_bytes=(blocks - blocks_free) * fragment_size,
        free_bytes=blocks_available * fragment_size,
    )


SECTOR_BYTES = 512  # the block layer's unit, whatever the device's own sector size (block/stat.rst)


def parse_block_stat(text: str) -> int:
    """``/sys/block/<dev>/stat`` to the bytes written since boot: its seventh field, sectors written
    (the kernel's Documentation/block/stat.rst), counted in 512-byte units."""
    fields = text.split()
    try:
        return int(fields[6]) * SECTOR_BYTES
    except (IndexError, ValueError):
        raise ValueError(f"expected the block layer's statistics, got {text.strip()[:60]!r}") from None


# --- Network: /proc/net/dev, /sys/class/net and the kernel's addresses (rtnetlink) ------------------


@dataclass(frozen=True)
class Interface:
    """One network interface: its link, its addresses and its traffic."""

    state: str = field(metadata={"help": "The kernel's operstate: up, down, dormant, unknown, ..."})
    mac: str | None = field(metadata={"help": "Its hardware address (null for loopback and tunnels)."})
    addresses: list[str] = field(metadata={"help": "Its IPv4 and IPv6 addresses with prefix length."})
    rx_bytes: int = field(metadata={"help": "Bytes received since the interface came up."})
    tx_bytes: int = field(metadata={"help": "Bytes sent since the interface came up."})
    rx_bytes_per_second: float | None = field(metadata={"help": "Since the previous read; null on the first."})
    tx_bytes_per_second: float | None = field(metadata={"help": "Since the previous read; null on the first."})


@dataclass(frozen=True)
class Network:
    """The Pi's network interfaces, and the address to bookmark."""

    address: str | None = field(
        metadata={
            "help": "The address to bookmark: the first IPv4 address of an interface that is up, "
            "not loopback (else a global IPv6 one); null without one."
        }
    )
    interfaces: dict[str, Interface]


@dataclass(frozen=True)
class Link:
    """What ``/sys/class/net/<name>`` says of one interface."""

    index: int
    state: str
    mac: str | None


@dataclass(frozen=True)
class Address:
    """One address the kernel holds (an ``RTM_NEWADDR`` message)."""

    index: int
    address: str  # "192.168.1.5/24"
    family: int  # socket.AF_INET or AF_INET6
    scope: int  # 0 universe (global), 253 link, 254 host


@dataclass(frozen=True)
class NetworkSnapshot:
    links: dict[str, Link]
    counters: dict[str, tuple[int, int]]  # name -> (received, sent) bytes
    addresses: list[Address]


def parse_net_dev(text: str) -> dict[str, tuple[int, int]]:
    """``/proc/net/dev`` to each interface's bytes received and sent: the first field after the name,
    and the ninth (proc(5): eight receive columns, then the transmit ones)."""
    counters: dict[str, tuple[int, int]] = {}
    for line in text.splitlines()[2:]:
        name, sep, rest = line.partition(":")
        if not sep:
            continue
        fields = rest.split()
        try:
            counters[name.strip()] = (int(fields[0]), int(fields[8]))
        except (IndexError, ValueError):
            raise ValueError(f"expected 16 counters for {name.strip()}, got {rest.strip()[:60]!r}") from None
    return counters


def parse_link(*, ifindex: str, operstate: str, address: str) -> Link:
    """An interface's ``ifindex``, ``operstate`` and ``address`` files (``00:00:00:00:00:00`` is none)."""
    mac = address.strip() or None
    return Link(
        index=int(ifindex.strip()),
        state=operstate.strip() or "unknown",
        mac=None if mac == "00:00:00:00:00:00" else mac,
    )


# rtnetlink, as include/uapi/linux/netlink.h, rtnetlink.h and if_addr.h lay it out (native endian).
NLMSG_HEADER = struct.Struct("=IHHII")  # length, type, flags, sequence, port id
IFADDRMSG = struct.Struct("=BBBBI")  # family, prefix length, flags, scope, interface index
RTATTR = struct.Struct("=HH")  # length, type
NLMSG_ERROR, NLMSG_DONE, RTM_NEWADDR, RTM_GETADDR = 2, 3, 20, 22
IFA_ADDRESS, IFA_LOCAL = 1, 2
AF_INET, AF_INET6 = 2, 10


def _align(length: int) -> int:
    return (length + 3) & ~3


def netlink_address_request(sequence: int) -> bytes:
    """An ``RTM_GETADDR`` dump request for every address of every family (what ``ip address`` sends)."""
    body = IFADDRMSG.pack(0, 0, 0, 0, 0)
    return NLMSG_HEADER.pack(NLMSG_HEADER.size + len(body), RTM_GETADDR, 0x301, sequence, 0) + body


def _address_text(family: int, raw: bytes) -> str:
    if family == AF_INET and len(raw) == 4:
        return ".".join(str(byte) for byte in raw)
    if family == AF_INET6 and len(raw) == 16:
        return str(ipaddress.IPv6Address(raw))
    raise ValueError(f"an address of family {family} cannot be {len(raw)} bytes")


def parse_netlink_addresses(data: bytes) -> tuple[list[Address], bool]:
    """The addresses in a dump's answer, and whether its end (``NLMSG_DONE``) was in ``data``.

    For IPv4 the local address (``IFA_LOCAL``) is the interface's own; ``IFA_ADDRESS`` is the peer's
    on a point-to-point link. IPv6 has only ``IFA_ADDRESS``.
    """
    addresses: list[Address] = []
    offset = 0
    while offset + NLMSG_HEADER.size <= len(data):
        length, kind, _, _, _ = NLMSG_HEADER.unpack_from(data, offset)
        if length < NLMSG_HEADER.size or offset + length > len(data):
            raise ValueError(f"a netlink message of {length} bytes at {offset} does not fit in {len(data)}")
        if kind == NLMSG_DONE:
            return addresses, True
        if kind == NLMSG_ERROR:
            raise ValueError("the kernel refused the address request")
        if kind == RTM_NEWADDR:
            family, prefix, _, scope, index = IFADDRMSG.unpack_from(data, offset + NLMSG_HEADER.size)
            attributes: dict[int, bytes] = {}
            at = offset + NLMSG_HEADER.size + IFADDRMSG.size
            while at + RTATTR.size <= offset + length:
                size, kind_ = RTATTR.unpack_from(data, at)
                if size < RTATTR.size:
                    break
                attributes[kind_] = data[at + RTATTR.size : at + size]
                at += _align(size)
            raw = attributes.get(IFA_LOCAL) if family == AF_INET else None
            raw = raw if raw is not None else attributes.get(IFA_ADDRESS)
            if raw is not None and family in (AF_INET, AF_INET6):
                text = f"{_address_text(family, raw)}/{prefix}"
                addresses.append(Address(index=index, address=text, family=family, scope=scope))
        offset += _align(length)
    return addresses, False


def _rate(before: int | None, after: int, seconds: float) -> float | None:
    if before is None or seconds <= 0 or after < before:  # first read, or the counter was reset
        return None
    return round((after - before) / seconds, 1)


def _bookmark(links: dict[str, Link], addresses: list[Address]) -> str | None:
    up = {link.index for name, link in links.items() if name != "lo" and link.state in ("up", "unknown")}
    for family in (AF_INET, AF_INET6):
        for address in addresses:
            if address.index in up and address.family == family and address.scope == 0:
                return address.address.split("/")[0]
    return None


def network_rates(previous: NetworkSnapshot | None, current: NetworkSnapshot, seconds: float) -> Network:
    """The network reading: each interface with its bytes per second since ``previous`` (null on the
    first read, or after a counter went back), and the address to bookmark."""
    by_index: dict[int, list[str]] = {}
    for address in current.addresses:
        by_index.setdefault(address.index, []).append(address.address)
    interfaces: dict[str, Interface] = {}
    for name, (received, sent) in current.counters.items():
        link = current.links.get(name)
        before = previous.counters.get(name) if previous is not None else None
        interfaces[name] = Interface(
            state=link.state if link else "unknown",
            mac=link.mac if link else None,
            addresses=by_index.get(link.index, []) if link else [],
            rx_bytes=received,
            tx_bytes=sent,
            rx_bytes_per_second=_rate(before[0] if before else None, received, seconds),
            tx_bytes_per_second=_rate(before[1] if before else None, sent, seconds),
        )
    return Network(address=_bookmark(current.links, current.addresses), interfaces=interfaces)
