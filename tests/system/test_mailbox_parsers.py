"""The mailbox byte layouts, table-tested against buffers written out word by word.

Each buffer below is the little-endian word layout the VideoCore property interface uses (as the
kernel's vcio driver passes it and vcgencmd builds it), written as hex so the packing code is
checked against the layout rather than against itself.
"""

from __future__ import annotations

import pytest

from system import parsers

THROTTLE_REQUEST = "1c000000 00000000 46000300 04000000 00000000 00000000 00000000"
THROTTLE_REPLY_50005 = "1c000000 00000080 46000300 04000000 04000080 05000500 00000000"
ARM_CLOCK_REQUEST = "20000000 00000000 47000300 08000000 00000000 03000000 00000000 00000000"
ARM_CLOCK_REPLY = "20000000 00000080 47000300 08000000 08000080 03000000 80436e59 00000000"
CORE_CLOCK_REQUEST = "20000000 00000000 47000300 08000000 00000000 04000000 00000000 00000000"
CORE_CLOCK_REPLY = "20000000 00000080 47000300 08000000 08000080 04000000 e068cd1d 00000000"


def hexbytes(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


def gencmd_reply(text: str, *, error: int = 0, code: int = 0x80000000) -> bytes:
    request = bytearray(parsers.gencmd_request("x"))
    request[4:8] = code.to_bytes(4, "little")
    request[16:20] = (0x80000000 | (len(text) + 5)).to_bytes(4, "little")
    request[20:24] = error.to_bytes(4, "little")
    request[24 : 24 + parsers.GENCMD_MAX] = text.encode().ljust(parsers.GENCMD_MAX, b"\0")
    return bytes(request)


@pytest.mark.parametrize(
    ("pointer_size", "code"),
    [(8, 0xC0086400), (4, 0xC0046400)],
)
def test_the_mailbox_ioctl_code_is_iowr_100_0_of_a_pointer(pointer_size, code):
    assert parsers.ioctl_readwrite(100, 0, pointer_size) == code


def test_the_gpio_line_info_ioctl_code_matches_the_kernel_header():
    # GPIO_V2_GET_LINEINFO_IOCTL = _IOWR(0xB4, 0x05, struct gpio_v2_line_info), 256 bytes.
    assert parsers.ioctl_readwrite(0xB4, 0x05, 256) == 0xC100B405


@pytest.mark.parametrize(
    ("tag", "values", "size", "layout"),
    [
        (parsers.TAG_GET_THROTTLED, [0], 4, THROTTLE_REQUEST),
        (parsers.TAG_GET_CLOCK_MEASURED, [3], 8, ARM_CLOCK_REQUEST),
        (parsers.TAG_GET_CLOCK_MEASURED, [4], 8, CORE_CLOCK_REQUEST),
    ],
)
def test_it_packs_a_property_request_word_by_word(tag, values, size, layout):
    assert parsers.mailbox_request(tag, values, value_size=size) == hexbytes(layout)


def test_the_throttle_request_asks_with_zero_so_sticky_bits_survive():
    request = parsers.mailbox_request(parsers.TAG_GET_THROTTLED, [0])
    assert request[20:24] == b"\0\0\0\0"


@pytest.mark.parametrize(
    ("reply", "tag", "count", "values"),
    [
        (THROTTLE_REPLY_50005, parsers.TAG_GET_THROTTLED, 1, (0x50005,)),
        (ARM_CLOCK_REPLY, parsers.TAG_GET_CLOCK_MEASURED, 2, (3, 1500398464)),
        (CORE_CLOCK_REPLY, parsers.TAG_GET_CLOCK_MEASURED, 2, (4, 500000992)),
    ],
)
def test_it_reads_the_values_the_firmware_answered(reply, tag, count, values):
    assert parsers.mailbox_response(hexbytes(reply), tag, count) == values


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        ("1c000000 01000080 46000300 04000000 04000080 05000500 00000000", "refused the request"),
        ("1c000000 00000000 46000300 04000000 00000000 00000000 00000000", "refused the request"),
        ("1c000000 00000080 47000300 04000000 04000080 05000500 00000000", "answered tag 0x00030047"),
        ("1c000000 00000080 46000300 04000000 04000000 05000500 00000000", "did not answer tag"),
        ("1c000000 00000080 46000300 04000000 00000080 05000500 00000000", "answered 0 bytes"),
        ("20000000 00000080 46000300 04000000 04000080 05000500 00000000", "says it is 32 bytes"),
        ("1c000000 00000080 46000300", "at least 6"),
        ("1c000000 00000080 46000300 04000000 04000080 05000500 0000", "whole 32-bit words"),
    ],
)
def test_it_refuses_a_reply_that_does_not_answer_the_question(reply, message):
    with pytest.raises(ValueError, match=message):
        parsers.mailbox_response(hexbytes(reply), parsers.TAG_GET_THROTTLED, 1)


def test_it_packs_a_text_command_as_vcgencmd_does_in_1024_bytes():
    # vcgencmd's gencmd(): p[(MAX_STRING>>2) + 7] words, with MAX_STRING 996 so the whole is 1024 bytes.
    request = parsers.gencmd_request("measure_clock arm")
    assert len(request) == 4 * (parsers.GENCMD_MAX // 4 + 7) == 1024
    assert request[:24] == hexbytes("00040000 00000000 80000300 e4030000 00000000 00000000")
    assert request[24:44] == b"measure_clock arm\0\0\0"
    assert request[-4:] == b"\0\0\0\0"


def test_it_refuses_a_command_too_long_for_the_buffer():
    with pytest.raises(ValueError, match="under 996 bytes"):
        parsers.gencmd_request("x" * 995)


@pytest.mark.parametrize(
    ("reply", "text"),
    [
        (gencmd_reply("throttled=0x50005"), "throttled=0x50005"),
        (gencmd_reply("frequency(48)=1500398464\n"), "frequency(48)=1500398464\n"),
    ],
)
def test_it_reads_the_text_the_firmware_answered(reply, text):
    assert parsers.gencmd_response(reply) == text


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (gencmd_reply("", error=2), "error 2"),
        (gencmd_reply("x", code=0x80000001), "refused the request"),
        (b"\0" * 12, "whole 32-bit words"),
        (gencmd_reply("x")[:-4], "says it is 1024 bytes"),
    ],
)
def test_it_refuses_a_text_reply_that_failed(reply, message):
    with pytest.raises(ValueError, match=message):
        parsers.gencmd_response(reply)


@pytest.mark.parametrize(("text", "word"), [("50005\n", 0x50005), ("0\n", 0), ("e0000", 0xE0000)])
def test_it_reads_the_sysfs_throttle_word_in_hex_without_prefix(text, word):
    assert parsers.parse_sysfs_throttled(text) == word


def test_it_refuses_a_sysfs_throttle_file_that_is_not_hex():
    with pytest.raises(ValueError, match="hexadecimal"):
        parsers.parse_sysfs_throttled("nope")


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        (b"Raspberry Pi 4 Model B Rev 1.4\x00", "Raspberry Pi 4 Model B Rev 1.4"),
        (b"Raspberry Pi 5 Model B Rev 1.0\x00\x00", "Raspberry Pi 5 Model B Rev 1.0"),
        (b"No terminator", "No terminator"),
    ],
)
def test_it_reads_a_nul_terminated_device_tree_string(raw, text):
    assert parsers.parse_device_tree_string(raw) == text


def test_meminfo_with_named_fields_reads_only_those():
    from tests.conftest import FIXTURES

    text = (FIXTURES / "meminfo.txt").read_text()
    wanted = {"MemTotal", "MemFree", "MemAvailable"}
    values = parsers.parse_meminfo(text, wanted)
    assert values == {name: parsers.parse_meminfo(text)[name] for name in wanted}


def test_meminfo_with_named_fields_leaves_out_a_missing_one():
    assert parsers.parse_meminfo("MemTotal: 10 kB\nMemFree: 5 kB\n", {"MemTotal", "MemAvailable"}) == {"MemTotal": 10}
