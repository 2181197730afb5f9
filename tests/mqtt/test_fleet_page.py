"""The fleet page in headless Chromium: 200 simulated Pis published to a real broker appear as rows."""

from __future__ import annotations

import asyncio
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from endrpi_project.testing.live import live_server
from endrpi_project.testing.mosquitto import Mosquitto
from tests.mqtt.conftest import client_for
from tests.mqtt.test_live import FLEET_SIZE, simulated_pi

pytestmark = pytest.mark.slow  # a browser, a broker and a server

CHROMIUM = Path(os.environ.get("ENDRPI_CHROMIUM", "/usr/bin/chromium"))


async def publish_fleet(broker: Mosquitto) -> None:
    async with client_for(broker) as client:
        for index in range(FLEET_SIZE):
            for topic, payload in simulated_pi(index).items():
                await client.publish(topic, payload, qos=1, retain=True)


def test_the_page_shows_every_pi_live(broker, tmp_path):
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            raise RuntimeError(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium package")
        pytest.skip(f"needs Debian's chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    env = {"ENDRPI_MQTT_URL": broker.url, "ENDRPI_MQTT_NODE_ID": "live", "ENDRPI_VCGENCMD": "/nonexistent"}
    with live_server(tmp_path / "data", env) as live, sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox"])
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{live.http_url}/fleet")
        page.wait_for_selector('#fleet-rows tr[data-node="live"]', timeout=10_000)
        assert page.locator("#status").text_content() == "Live"
        started = time.monotonic()
        with ThreadPoolExecutor(1) as thread:  # Playwright's sync API owns this thread's event loop
            thread.submit(asyncio.run, publish_fleet(broker)).result()
        page.wait_for_function(
            f"document.querySelectorAll('#fleet-rows tr').length === {FLEET_SIZE + 1}", timeout=10_000
        )
        print(f"the page showed {FLEET_SIZE} Pis {time.monotonic() - started:.2f} s after the first was published")
        row = page.locator('#fleet-rows tr[data-node="sim007"]')
        assert row.locator("td").all_text_contents()[:5] == [
            "Pi 7",
            "Raspberry Pi 4 Model B Rev 1.4",
            "online",
            "47.0 °C",
            "underVoltageDetected",
        ]
        assert row.locator("a").get_attribute("href") == "http://sim007:5000/"
        assert page.locator('#fleet-rows tr[data-node="sim010"]').get_attribute("data-online") == "false"
        assert errors == []
        browser.close()
