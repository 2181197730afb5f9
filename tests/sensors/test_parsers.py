"""The sensor parsers, on the text the kernel's drivers print (see tests/sensors/fake_sysfs.py)."""

from __future__ import annotations

import pytest

from system.sensors import parsers
from tests.sensors.fake_sysfs import ds18b20_millidegrees, ds18b20_scratchpad, w1_crc8


@pytest.mark.parametrize(
    ("text", "celsius"),
    [("21562\n", 21.562), ("-10125\n", -10.125), ("0\n", 0.0), ("125000\n", 125.0), ("84937\n", 84.937)],
)
def test_a_1_wire_temperature_is_millidegrees(text, celsius):
    assert parsers.w1_temperature(text) == celsius


def test_an_empty_1_wire_temperature_is_the_drivers_failure_not_a_zero():
    with pytest.raises(ValueError, match="gave no reading"):
        parsers.w1_temperature("")


def test_85_degrees_is_the_ds18b20s_power_on_value_not_a_reading():
    with pytest.raises(ValueError, match="power-on value"):
        parsers.w1_temperature("85000\n")


def test_w1_slave_with_a_good_crc_gives_t():
    text = "72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n72 01 4b 46 7f ff 0e 10 57 t=23125\n"
    assert parsers.w1_slave(text) == 23.125


def test_w1_slave_with_a_failed_crc_is_an_error_though_it_prints_a_t():
    text = "28 01 4b 46 7f ff 0c 10 6d : crc=1e NO\n72 01 4b 46 7f ff 0e 10 57 t=18500\n"
    with pytest.raises(ValueError, match="CRC check"):
        parsers.w1_slave(text)


@pytest.mark.parametrize(
    ("text", "why"), [("", "gave no reading"), ("garbage\n", "two lines"), ("72 01 : crc=57 YES\nx\n", "crc=")]
)
def test_w1_slave_that_is_not_the_drivers_text_is_refused(text, why):
    with pytest.raises(ValueError, match=why):
        parsers.w1_slave(text)


def test_the_fakes_scratchpad_passes_the_dallas_crc_and_converts_back():
    rom = ds18b20_scratchpad(23125)
    assert w1_crc8(rom[:8]) == rom[8]
    assert w1_crc8(rom) == 0  # the CRC over all nine bytes is zero, as the datasheet says
    assert ds18b20_millidegrees(rom) == 23125
    assert ds18b20_millidegrees(ds18b20_scratchpad(-10125)) == -10125


@pytest.mark.parametrize(
    ("text", "channel_type", "value"),
    [
        ("24380\n", "temp", 24.38),
        ("39396.484375000\n", "humidityrelative", 39.396484375),
        ("100.829671875\n", "pressure", 1008.29671875),
    ],
)
def test_iio_inputs_are_converted_from_the_abi_units(text, channel_type, value):
    assert parsers.iio_input(text, channel_type) == pytest.approx(value)


def test_an_iio_raw_value_is_raw_plus_offset_times_scale():
    # e.g. a temperature channel: raw 2000, offset -1000, scale 10 (milli degC per LSB) -> 10 degC
    assert parsers.iio_raw("2000\n", "10\n", "-1000\n", "temp") == pytest.approx(10.0)
    assert parsers.iio_raw("1500\n", "0.001000000\n", None, "pressure") == pytest.approx(15.0)


def test_hwmon_values():
    assert parsers.hwmon_temperature("45123\n") == 45.123
    assert parsers.hwmon_fan("2950\n") == 2950
    with pytest.raises(ValueError, match="revolutions per minute"):
        parsers.hwmon_fan("\n")


def test_a_sensor_id_is_safe_in_urls_topics_and_labels():
    assert parsers.sensor_id("iio", "bme280", "1-0076", "temp") == "iio-bme280-1-0076-temp"
    assert parsers.sensor_id("hwmon", "nvme", "nvme0", "temp1") == "hwmon-nvme-nvme0-temp1"
    assert parsers.sensor_id("hwmon", "Some Chip/+#", "", "fan1") == "hwmon-some_chip-fan1"
