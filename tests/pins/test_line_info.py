"""The kernel's GPIO line info, decoded from the 256-byte struct gpio_v2_line_info."""

from __future__ import annotations

import struct

import pytest

from pins import parsers


def _line_info(flags: int, *, offset: int = 17, consumer: bytes = b"") -> bytes:
    return struct.pack("<32s32sIIQ160s16s", b"GPIO17", consumer, offset, 0, flags, b"", b"")


@pytest.mark.parametrize(
    ("flags", "direction", "pull"),
    [
        (0x004, "input", None),
        (0x008, "output", None),
        (0x104, "input", "up"),
        (0x204, "input", "down"),
        (0x404, "input", "floating"),
        (0x409, "output", "floating"),
    ],
)
def test_it_decodes_the_kernels_line_info(flags, direction, pull):
    info = parsers.parse_line_info(_line_info(flags))
    assert (info.direction, info.pull, info.offset, info.name) == (direction, pull, 17, "GPIO17")


def test_line_info_says_who_uses_a_line():
    info = parsers.parse_line_info(_line_info(0x001 | 0x004, consumer=b"spi0 CS0"))
    assert info.used
    assert info.consumer == "spi0 CS0"


def test_a_line_info_request_names_the_offset_and_is_otherwise_zero():
    request = parsers.line_info_request(27)
    assert len(request) == 256
    assert request[64:68] == (27).to_bytes(4, "little")
    assert request.count(0) == 255


def test_it_refuses_a_line_info_of_the_wrong_size():
    with pytest.raises(ValueError, match="256 bytes"):
        parsers.parse_line_info(b"\0" * 10)
