"""A kernel's answer to an rtnetlink ``RTM_GETADDR`` dump, built as the kernel lays it out.

Models linux ``net/ipv4/devinet.c`` ``inet_fill_ifaddr`` and ``net/ipv6/addrconf.c``
``inet6_fill_ifaddr`` (``include/uapi/linux/netlink.h``, ``rtnetlink.h``, ``if_addr.h``): one
``RTM_NEWADDR`` message per address, a 16-byte ``nlmsghdr`` then a ``struct ifaddrmsg`` then attributes
padded to 4 bytes; IPv4 carries both ``IFA_ADDRESS`` and ``IFA_LOCAL`` (the peer and the local address,
equal on a broadcast link, different on point-to-point), plus ``IFA_LABEL``; IPv6 carries only
``IFA_ADDRESS``; the dump ends with an ``NLMSG_DONE`` message, in the same datagram or a later one.
``tests/system/test_new_readings.py`` (``test_the_real_kernel_answers_the_same_way``) checks the parser
against this machine's real kernel too.
"""

from __future__ import annotations

import ipaddress
import struct

from system import parsers
from system.hardware import host

IFA_LABEL = 3
# The real reader, kept before the test fixture replaces it with the fake below (tests/conftest.py).
kernel_addresses = host.read_netlink_addresses


def _attribute(kind: int, payload: bytes) -> bytes:
    raw = struct.pack("=HH", 4 + len(payload), kind) + payload
    return raw + b"\0" * (-len(raw) % 4)


def address_message(index: int, address: str, *, scope: int = 0, label: str = "", peer: str | None = None) -> bytes:
    interface = ipaddress.ip_interface(address)
    family = parsers.AF_INET if interface.version == 4 else parsers.AF_INET6
    raw = interface.ip.packed
    attributes = b""
    if family == parsers.AF_INET:
        attributes += _attribute(parsers.IFA_ADDRESS, ipaddress.ip_address(peer).packed if peer else raw)
        attributes += _attribute(parsers.IFA_LOCAL, raw)
        attributes += _attribute(IFA_LABEL, label.encode() + b"\0")
    else:
        attributes += _attribute(parsers.IFA_ADDRESS, raw)
    body = parsers.IFADDRMSG.pack(family, interface.network.prefixlen, 0, scope, index) + attributes
    return parsers.NLMSG_HEADER.pack(16 + len(body), parsers.RTM_NEWADDR, 2, 1, 0) + body


def done() -> bytes:
    return parsers.NLMSG_HEADER.pack(20, parsers.NLMSG_DONE, 2, 1, 0) + b"\0\0\0\0"


# The fixture tree's Pi: lo (1), eth0 (2) with an IPv4 and two IPv6 addresses, wlan0 (3) down.
PI_ADDRESSES = b"".join(
    [
        address_message(1, "127.0.0.1/8", scope=254, label="lo"),
        address_message(2, "192.168.1.5/24", label="eth0"),
        address_message(1, "::1/128", scope=254),
        address_message(2, "fd00::5/64"),
        address_message(2, "fe80::dea6:32ff:fe01:2345/64", scope=253),
        done(),
    ]
)
