"""Finding the Pi's own sensors in a fake /sys laid out as the kernel lays it out."""

from __future__ import annotations

import errno

import pytest

from system.sensors import hardware


def test_a_pi_with_nothing_wired_has_no_sensors(sysfs):
    sysfs.pi_hwmons()  # cpu_thermal is the SoC temperature already; rpi_volt has no temp or fan
    assert hardware.sensors_scan() == []


def test_a_1_wire_probe_is_found_once_by_its_serial(sysfs):
    sysfs.pi_hwmons()
    sysfs.w1_probe("28-0316a2797f7f")
    sysfs.w1_phantom()  # a floating bus's ghost: no family driver
    (channel,) = hardware.sensors_scan()  # not again as the w1_slave_temp hwmon, nor the master
    assert channel.sensor_id == "w1-28-0316a2797f7f"
    assert channel.name == "28-0316a2797f7f"
    assert channel.kind == "temperature"
    assert channel.form == "w1_temperature"
    assert hardware.channel_read(channel) == ("21562\n",)


def test_an_older_kernel_without_the_temperature_attribute_is_read_through_w1_slave(sysfs):
    sysfs.w1_probe("28-00000a1b2c3d", 19250, legacy=True)
    (channel,) = hardware.sensors_scan()
    assert channel.form == "w1_slave"
    (text,) = hardware.channel_read(channel)
    assert text is not None
    assert text.endswith("t=19250\n")


def test_a_bme280_gives_three_channels_named_by_chip_and_device(sysfs):
    sysfs.bme280(address="0076")
    channels = {channel.sensor_id: channel for channel in hardware.sensors_scan()}
    assert set(channels) == {
        "iio-bme280-1-0076-humidityrelative",
        "iio-bme280-1-0076-pressure",
        "iio-bme280-1-0076-temp",
    }
    assert channels["iio-bme280-1-0076-humidityrelative"].name == "bme280 humidity"
    assert channels["iio-bme280-1-0076-pressure"].kind == "pressure"


def test_two_of_the_same_chip_on_different_addresses_are_two_sensors(sysfs):
    sysfs.bme280(address="0076")
    sysfs.bme280(address="0077")
    ids = [channel.sensor_id for channel in hardware.sensors_scan()]
    assert "iio-bme280-1-0076-temp" in ids
    assert "iio-bme280-1-0077-temp" in ids


def test_an_iio_raw_channel_takes_its_most_specific_scale_and_offset(sysfs):
    sysfs.iio(
        "tmp117",
        "sys/devices/platform/soc/fe804000.i2c/i2c-1/1-0048",
        {"in_temp_raw": "2816\n", "in_temp_scale": "7.8125\n", "in_temp_offset": "0\n", "in_voltage0_raw": "5\n"},
    )
    (channel,) = hardware.sensors_scan()
    assert channel.form == "iio_raw"
    assert [path.rsplit("/", 1)[1] for path in channel.files] == ["in_temp_raw", "in_temp_scale", "in_temp_offset"]


def test_a_raw_channel_without_a_scale_is_not_a_reading(sysfs):
    sysfs.iio("odd", "sys/devices/platform/odd", {"in_temp_raw": "12\n"})
    assert hardware.sensors_scan() == []


def test_the_pi_5_fan_and_a_labelled_hwmon_temperature(sysfs):
    sysfs.pi_hwmons()
    sysfs.pi5_fan(rpm=2950)
    nvme = "sys/devices/pci0000:00/0000:01:00.0/nvme/nvme0"
    sysfs.hwmon("nvme", nvme, {"temp1_input": "38850\n", "temp1_label": "Composite\n"})
    channels = {channel.sensor_id: channel for channel in hardware.sensors_scan()}
    assert set(channels) == {"hwmon-pwmfan-cooling_fan-fan1", "hwmon-nvme-nvme0-temp1"}
    assert channels["hwmon-pwmfan-cooling_fan-fan1"].kind == "fan"
    assert channels["hwmon-nvme-nvme0-temp1"].name == "nvme Composite"


def test_a_sensors_id_does_not_depend_on_probe_order(sysfs):
    """iio:deviceN and hwmonN are numbered as drivers probe; the id is the chip and its device."""
    sysfs.iio("dummy", "sys/devices/platform/first", {"in_temp_input": "1\n"})
    sysfs.bme280(address="0076")  # now iio:device1, where it was iio:device0 before
    assert "iio-bme280-1-0076-temp" in [channel.sensor_id for channel in hardware.sensors_scan()]


def test_a_read_error_is_the_drivers_oserror(sysfs):
    path = sysfs.bme280()
    (temperature,) = [c for c in hardware.sensors_scan() if c.kind == "temperature"]
    sysfs.fail(f"{path}/in_temp_input", errno.EREMOTEIO)
    with pytest.raises(OSError, match="Remote I/O error"):
        hardware.channel_read(temperature)


def test_no_bus_at_all_is_no_sensor_and_no_error(settings, tmp_path):
    (tmp_path / "empty" / "sys").mkdir(parents=True)
    settings.ENDRPI_HOST_ROOT = tmp_path / "empty"
    assert hardware.sensors_scan() == []


def test_no_sysfs_at_all_is_not_the_same_as_no_sensor(settings, tmp_path):
    settings.ENDRPI_HOST_ROOT = tmp_path / "not-linux"
    with pytest.raises(FileNotFoundError, match="no /sys here"):
        hardware.sensors_scan()
