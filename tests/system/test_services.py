from __future__ import annotations

import pytest

from endrpi_project.api.errors import ReadingFailed
from system import services
from system.hardware import host
from system.readings import Measurement


def test_it_reads_the_soc_temperature_in_celsius():
    assert services.temperature_read().system_on_chip == Measurement(quantity=48.312, unit_of_measurement="CELSIUS")


def test_a_missing_thermal_zone_fails_with_a_message_naming_the_reading(host_root):
    host_root.remove("sys/class/thermal/thermal_zone0/temp")
    with pytest.raises(ReadingFailed, match=r"^Failed to query system on chip temperature: No such file"):
        services.temperature_read()


def test_it_reads_uptime_past_a_day():
    uptime = services.uptime_read()
    assert uptime.seconds == 123456.78
    assert uptime.formatted == "1 day, 10:17:37"


def test_it_reads_memory_in_kilobytes():
    memory = services.memory_read()
    assert memory.total == Measurement(quantity=3884328, unit_of_measurement="BYTE", prefix="KILO")
    assert memory.free.quantity == 2873340
    assert memory.available.quantity == 3411872


def test_meminfo_without_memavailable_is_a_failed_reading(host_root):
    host_root.write("proc/meminfo", "MemTotal: 1000 kB\nMemFree: 10 kB\n")
    with pytest.raises(ReadingFailed, match="MemAvailable"):
        services.memory_read()


def test_it_reads_throttle_flags_from_the_firmware():
    throttle = services.throttle_read()
    assert throttle.under_voltage_detected
    assert throttle.throttling
    assert throttle.under_voltage_has_occurred
    assert throttle.throttling_has_occurred
    assert not throttle.arm_frequency_capped
    assert not throttle.soft_temperature_limit_has_occurred


def test_it_reads_the_measured_clocks_from_the_firmware(vcgencmd):
    vcgencmd.answer(arm=1800000000, core=600000000)
    frequency = services.frequency_read()
    assert frequency.arm == Measurement(quantity=1800000000, unit_of_measurement="HERTZ")
    assert frequency.core.quantity == 600000000


def test_a_failing_firmware_command_is_a_failed_reading_with_its_message(vcgencmd):
    vcgencmd.answer(fail=True)
    message = r"Failed to query system throttle status: .*Can't open device file: /dev/vcio_gencmd"
    with pytest.raises(ReadingFailed, match=message):
        services.throttle_read()


def test_a_missing_firmware_command_is_a_failed_reading(settings):
    settings.ENDRPI_VCGENCMD = "/nonexistent/vcgencmd"
    with pytest.raises(ReadingFailed, match=r"Failed to query system ARM frequency: .*not found"):
        services.frequency_read()


def test_a_garbled_firmware_answer_is_a_failed_reading(vcgencmd):
    vcgencmd.answer(throttled="banana")
    with pytest.raises(ReadingFailed, match="unexpected firmware answer"):
        services.throttle_read()


def test_it_reads_the_platform_from_the_kernel():
    platform = services.platform_read()
    assert platform.machine_type
    assert platform.network_name
    assert platform.operating_system.name == "Linux"


def test_system_has_every_section_and_no_errors_on_a_pi():
    system = services.system_read()
    assert system.errors == {}
    assert all(
        getattr(system, section) is not None
        for section in ("platform", "temperature", "throttle", "uptime", "frequency", "memory")
    )


def test_system_reports_a_failed_section_as_none_with_its_message(host_root, settings):
    host_root.remove("sys/class/thermal/thermal_zone0/temp")
    settings.ENDRPI_VCGENCMD = "/nonexistent/vcgencmd"
    system = services.system_read()
    assert system.temperature is None
    assert system.throttle is None
    assert system.frequency is None
    assert system.memory is not None
    assert set(system.errors) == {"temperature", "throttle", "frequency"}
    assert system.errors["temperature"].startswith("Failed to query system on chip temperature")


def test_system_fails_only_when_every_reading_fails(monkeypatch, settings, tmp_path):
    def fail(*args: object) -> None:
        raise OSError(5, "Input/output error")

    settings.ENDRPI_HOST_ROOT = tmp_path / "no-sysfs"  # nor the Pi's own sensors

    monkeypatch.setattr(host, "read_host_file", fail)
    monkeypatch.setattr(host, "read_uname", fail)
    settings.ENDRPI_VCGENCMD = "/nonexistent/vcgencmd"
    with pytest.raises(ReadingFailed, match=r"^Failed to query system: ") as failure:
        services.system_read()
    for reading in ("platform", "on chip temperature", "throttle status", "uptime", "ARM frequency", "memory"):
        assert f"Failed to query system {reading}" in failure.value.message


def test_system_asks_the_firmware_once_per_question(monkeypatch):
    asked: list[str] = []
    real_throttled, real_clocks = services._ask_throttled, services._ask_clocks

    def throttled() -> object:
        asked.append("throttled")
        return real_throttled()

    def clocks() -> object:
        asked.append("clocks")
        return real_clocks()

    monkeypatch.setattr(services, "_ask_throttled", throttled)
    monkeypatch.setattr(services, "_ask_clocks", clocks)
    system = services.system_read()
    assert system.throttle is not None
    assert system.frequency is not None
    assert sorted(asked) == ["clocks", "throttled"]
