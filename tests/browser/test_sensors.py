"""The dashboard's Sensors card in a real browser: each sensor with its value or its own error, and a
probe plugged in or unplugged shown without reloading. Leaves ``sensors-card.png`` for a reviewer."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from endrpi_project.testing.live import LiveServer
from tests.browser.conftest import start_server

pytestmark = pytest.mark.slow


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture(scope="module")
def sensors_server(tmp_path_factory) -> Iterator[tuple[LiveServer, Path]]:
    base = tmp_path_factory.mktemp("sensors")
    host = base / "host"
    # As the kernel's drivers leave them (tests/sensors/fake_sysfs.py says why): a good probe, one whose
    # every try failed its CRC (w1_therm's temperature then reads empty), a BME280 and the Pi 5's fan.
    _write(host / "sys/bus/w1/devices/28-0316a2797f7f/temperature", "21562\n")
    _write(host / "sys/bus/w1/devices/28-000000000002/temperature", "")
    iio = host / "sys/bus/iio/devices/iio:device0"
    _write(iio / "name", "bme280\n")
    _write(iio / "in_temp_input", "23580\n")
    _write(iio / "in_humidityrelative_input", "45200.000000000\n")
    _write(iio / "in_pressure_input", "100.829671875\n")
    _write(host / "sys/class/hwmon/hwmon2/name", "pwmfan\n")
    _write(host / "sys/class/hwmon/hwmon2/fan1_input", "2950\n")
    for server in start_server(base):
        yield server, host


def test_the_sensors_card_shows_each_sensor_and_follows_a_probe_plugged_in_and_out(sensors_server, watched, artifacts):
    server, host = sensors_server
    page = watched.page
    page.goto(f"{server.http_url}/")
    card = page.locator('[data-topic="SENSORS"]')
    rows = card.locator("li")
    expect(rows.filter(has_text="28-0316a2797f7f")).to_contain_text("21.6 °C")
    expect(rows.filter(has_text="bme280 pressure")).to_contain_text("1,008.3 hPa")
    expect(rows.filter(has_text="bme280 humidity")).to_contain_text("45.2 %")
    expect(rows.filter(has_text="pwmfan fan1")).to_contain_text("2,950 rpm")
    failing = rows.filter(has_text="28-000000000002")
    expect(failing.locator(".card-row-error")).to_contain_text("the probe gave no reading")
    expect(rows.filter(has_text="28-0316a2797f7f").locator(".card-row-error")).to_have_count(0)
    path = artifacts / "sensors-card.png"
    card.screenshot(path=str(path))
    print(f"\nscreenshot: {path}")

    # Plugged in: found at the server's next look (ENDRPI_SENSORS_INTERVAL, 10 s), pushed on SENSORS.
    _write(host / "sys/bus/w1/devices/28-0516a1b2c3d4/temperature", "19125\n")
    expect(rows.filter(has_text="28-0516a1b2c3d4")).to_contain_text("19.1 °C", timeout=25_000)
    shutil.rmtree(host / "sys/bus/w1/devices/28-0516a1b2c3d4")
    expect(rows.filter(has_text="28-0516a1b2c3d4")).to_have_count(0, timeout=25_000)
    watched.assert_clean()
