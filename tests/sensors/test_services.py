"""The sensors service: every sensor read, one failing sensor an error for itself only, labels."""

from __future__ import annotations

import errno
import threading

import pytest
from django.conf import settings

from system.sensors import hardware, services
from system.sensors.models import SensorSetting

pytestmark = pytest.mark.django_db


def by_id(sensors):
    return {sensor.sensor_id: sensor for sensor in sensors}


def test_every_kind_of_sensor_is_read_in_our_units(sysfs):
    sysfs.pi_hwmons()
    sysfs.w1_probe("28-0316a2797f7f", 21562)
    sysfs.w1_probe("28-00000a1b2c3d", -5125, legacy=True)
    sysfs.bme280(celsius=23.58, humidity=45.2, kpa=100.8296)
    sysfs.pi5_fan(rpm=2950)
    sensors = services.sensors_read().by_id
    assert {key: (s.value, s.unit, s.error) for key, s in sensors.items()} == {
        "w1-28-0316a2797f7f": (21.562, "CELSIUS", None),
        "w1-28-00000a1b2c3d": (-5.125, "CELSIUS", None),
        "iio-bme280-1-0076-temp": (23.58, "CELSIUS", None),
        "iio-bme280-1-0076-humidityrelative": (45.2, "PERCENT", None),
        "iio-bme280-1-0076-pressure": (1008.296, "HECTOPASCAL", None),
        "hwmon-pwmfan-cooling_fan-fan1": (2950, "REVOLUTIONS_PER_MINUTE", None),
    }


def test_a_failing_sensor_is_an_error_for_that_sensor_only(sysfs):
    sysfs.w1_probe("28-0316a2797f7f", 21562)
    sysfs.w1_probe("28-000000000002", 19000, legacy=True)
    sysfs.w1_probe("28-000000000003", 18000)
    iio = sysfs.bme280()
    sysfs.w1_crc_failure("28-0316a2797f7f")  # temperature reads empty
    sysfs.w1_crc_failure("28-000000000002")  # w1_slave says crc=.. NO
    sysfs.w1_power_on("28-000000000003")  # 85000 with a good CRC
    sysfs.fail(f"{iio}/in_humidityrelative_input", errno.EREMOTEIO)
    sensors = services.sensors_read().by_id
    assert sensors["w1-28-0316a2797f7f"].value is None
    assert "gave no reading" in str(sensors["w1-28-0316a2797f7f"].error)
    assert "CRC check" in str(sensors["w1-28-000000000002"].error)
    assert "power-on value" in str(sensors["w1-28-000000000003"].error)
    assert sensors["iio-bme280-1-0076-humidityrelative"].error == (
        "Failed to read sensor bme280 humidity: Remote I/O error"
    )
    assert sensors["iio-bme280-1-0076-temp"].value == 23.58
    assert sensors["iio-bme280-1-0076-pressure"].error is None


def test_a_sensor_that_does_not_answer_is_reported_and_not_asked_again_until_it_does(sysfs, monkeypatch):
    sysfs.w1_probe("28-0316a2797f7f")
    sysfs.bme280()
    release = threading.Event()
    calls = []
    real = hardware.channel_read

    def read(channel):
        if channel.source == "w1":
            calls.append(channel.sensor_id)
            release.wait(10)
        return real(channel)

    monkeypatch.setattr(hardware, "channel_read", read)
    monkeypatch.setattr(services, "READ_TIMEOUT", 0.05)
    monitor = services.sensor_monitor()
    try:
        first = by_id(monitor.read(max_age=0))
        assert "no answer within" in first["w1-28-0316a2797f7f"].error
        assert first["iio-bme280-1-0076-temp"].value == 23.58
        second = by_id(monitor.read(max_age=0))
        assert "no answer within" in second["w1-28-0316a2797f7f"].error
        assert calls == ["w1-28-0316a2797f7f"]  # the hung read was not asked again
    finally:
        release.set()


def test_sensors_appearing_and_vanishing_are_reported(sysfs):
    monitor = services.sensor_monitor()
    first = monitor.refresh()
    assert not first
    sysfs.w1_probe("28-0316a2797f7f")
    change = monitor.refresh()
    assert change.appeared == ("w1-28-0316a2797f7f",)
    assert change.vanished == ()
    assert monitor.refresh().appeared == ()
    sysfs.w1_unplug("28-0316a2797f7f")
    change = monitor.refresh()
    assert change.vanished == ("w1-28-0316a2797f7f",)
    assert monitor.sensors() == []


def test_a_refresh_is_shared_by_callers_within_the_interval(sysfs, monkeypatch):
    sysfs.w1_probe("28-0316a2797f7f")
    scans = []
    real = hardware.sensors_scan

    def scan():
        scans.append(1)
        return real()

    monkeypatch.setattr(hardware, "sensors_scan", scan)
    services.sensors_read()
    services.sensors_read()
    assert len(scans) == 1


def test_a_sensor_found_gets_an_admin_row_and_its_label_is_used(sysfs):
    sysfs.w1_probe("28-0316a2797f7f")
    (sensor,) = services.sensors_read().sensors
    assert sensor.label is None
    row = SensorSetting.objects.get(sensor_id="w1-28-0316a2797f7f")
    assert (row.name, row.kind) == ("28-0316a2797f7f", "temperature")
    row.label = "Greenhouse"
    row.save()  # the admin saves: the latest reading is relabelled at once
    (sensor,) = services.sensor_monitor().sensors()
    assert sensor.label == "Greenhouse"
    assert sensor.title == "Greenhouse"


def test_a_database_that_cannot_be_read_costs_the_labels_not_the_readings(sysfs, monkeypatch):
    from django.db import OperationalError

    sysfs.w1_probe("28-0316a2797f7f")

    def locked(*args, **kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(services, "_labels_load", locked)
    (sensor,) = services.sensors_read().sensors
    assert sensor.value == 21.562
    assert sensor.label is None


def test_one_sensor_by_id_and_an_unknown_one(sysfs):
    from endrpi_project.api.errors import NotFound

    sysfs.pi5_fan(rpm=0)
    assert services.sensor_read(sensor_id="hwmon-pwmfan-cooling_fan-fan1").value == 0
    with pytest.raises(NotFound, match="No sensor `nope`"):
        services.sensor_read(sensor_id="nope")


def test_while_the_server_refreshes_callers_do_not_read_the_sensors_again_on_its_interval(sysfs, monkeypatch):
    """The history samples every 10 s, as the server refreshes the sensors: a reading a little older
    than one interval is taken as it is, rather than read again in the sampler's thread."""
    sysfs.w1_probe("28-0316a2797f7f")
    monitor = services.sensor_monitor()
    monitor.refresh()
    scans = []
    real = hardware.sensors_scan

    def scan():
        scans.append(1)
        return real()

    monkeypatch.setattr(hardware, "sensors_scan", scan)
    refreshed = monitor._refreshed
    assert refreshed is not None
    monkeypatch.setattr(monitor, "_refreshed", refreshed - 1.5 * settings.ENDRPI_SENSORS_INTERVAL)
    monkeypatch.setattr(services, "_task", object())  # the server's refresh is running
    services.sensors_read()
    assert scans == []
    monkeypatch.setattr(services, "_task", None)  # none running (a management command): read again
    services.sensors_read()
    assert scans == [1]
