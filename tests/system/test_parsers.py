from __future__ import annotations

import pytest

from system import parsers
from tests.conftest import FIXTURES


def test_it_reads_millidegrees_as_celsius():
    assert parsers.parse_millidegrees("48312\n") == 48.312
    assert parsers.parse_millidegrees("-5000") == -5.0


def test_it_refuses_a_temperature_that_is_not_a_number():
    with pytest.raises(ValueError, match="millidegrees"):
        parsers.parse_millidegrees("")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("1234.56 4321.00\n", 1234.56), ("0.00 0.00", 0.0), ("123456.78 432100.12\n", 123456.78)],
)
def test_it_reads_uptime_seconds(text, seconds):
    assert parsers.parse_uptime(text) == seconds


@pytest.mark.parametrize("text", ["", "abc 1", "-1 2"])
def test_it_refuses_bad_uptime(text):
    with pytest.raises(ValueError, match=r"uptime|seconds"):
        parsers.parse_uptime(text)


@pytest.mark.parametrize(
    ("seconds", "formatted"),
    [
        (0, "0:00:00"),
        (1234.4, "0:20:34"),
        (1234.6, "0:20:35"),
        (123456.78, "1 day, 10:17:37"),
        (123456.2, "1 day, 10:17:36"),
        (3 * 86400 + 59, "3 days, 0:00:59"),
    ],
)
def test_it_formats_uptime_as_the_original_does(seconds, formatted):
    assert parsers.format_uptime(seconds) == formatted


def test_it_reads_real_meminfo():
    values = parsers.parse_meminfo((FIXTURES / "meminfo.txt").read_text())
    assert values["MemTotal"] == 3884328
    assert values["MemFree"] == 2873340
    assert values["MemAvailable"] == 3411872
    assert values["Active(anon)"] == 1700


@pytest.mark.parametrize(
    ("text", "word"),
    [("throttled=0x50005\n", 0x50005), ("throttled=0x0", 0), ("throttled=0xe0000", 0xE0000), ("throttled=7", 7)],
)
def test_it_reads_the_throttle_word(text, word):
    assert parsers.parse_throttled(text) == word


@pytest.mark.parametrize("text", ["", "throttled=", "VCHI initialization failed", "throttled=0xZZ"])
def test_it_refuses_a_bad_throttle_answer(text):
    with pytest.raises(ValueError, match="throttled"):
        parsers.parse_throttled(text)


def test_it_decodes_0x50005_as_under_voltage_and_throttling_now_and_since_boot():
    assert parsers.throttle_flags(0x50005) == {
        "underVoltageDetected": True,
        "armFrequencyCapped": False,
        "throttling": True,
        "softTemperatureLimitActive": False,
        "underVoltageHasOccurred": True,
        "armFrequencyCappingHasOccurred": False,
        "throttlingHasOccurred": True,
        "softTemperatureLimitHasOccurred": False,
    }


def test_each_throttle_flag_reads_its_own_bit():
    for name, bit in parsers.THROTTLE_BITS.items():
        flags = parsers.throttle_flags(1 << bit)
        assert [flag for flag, on in flags.items() if on] == [name]


@pytest.mark.parametrize(
    ("text", "hertz"),
    [("frequency(48)=1500398464\n", 1500398464), ("frequency(1)=500000992", 500000992), ("frequency(48)=0", 0)],
)
def test_it_reads_a_measured_clock(text, hertz):
    assert parsers.parse_clock(text) == hertz


@pytest.mark.parametrize("text", ["", "frequency(48)=", 'error=1 error_msg="Invalid arguments"'])
def test_it_refuses_a_bad_clock_answer(text):
    with pytest.raises(ValueError, match="frequency"):
        parsers.parse_clock(text)
