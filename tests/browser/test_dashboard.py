"""The dashboard people would rather look at: history charts and events, what each throttle flag
means, pins with their lock, alternate function, user and PWM slider, a phone's bottom sheet, and
the browsable API and admin in the same clothes."""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, WebSocketRoute, expect

pytestmark = pytest.mark.slow

STATIC = Path(__file__).resolve().parents[2] / "endrpi_project" / "pages" / "static" / "endrpi"


def rest(server, path, body=None):
    request = urllib.request.Request(
        f"{server.http_url}{path}",
        data=None if body is None else json.dumps(body).encode(),
        method="GET" if body is None else "PUT",
        headers={"Accept": "application/json", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def pin(page: Page, name: str):
    return page.locator(f'.pin[data-pin="{name}"]')


def live(page: Page, server) -> None:
    page.goto(f"{server.http_url}/")
    expect(page.locator("#status")).to_have_attribute("data-state", "live")
    expect(pin(page, "GPIO17").locator(".badge.level")).not_to_have_text("…")


# --- history ---------------------------------------------------------------------------------------


def test_the_charts_draw_the_last_day_with_its_events_as_bands(server, watched):
    page = watched.page
    live(page, server)
    chart = page.locator("#chart-temperature")
    expect(page.locator(".range[aria-pressed='true']")).to_have_text("24 h")
    expect(chart.locator("canvas")).to_have_count(1)
    expect(page.locator("#chart-clocks canvas")).to_have_count(1)
    expect(chart).to_have_attribute("data-points", re.compile(r"^[1-9]\d+$"))
    # Four past events in the day plus those the sampler sees going on (the fake firmware says
    # under-voltage and throttling now): every one a band on both charts.
    expect(chart).to_have_attribute("data-bands", re.compile(r"^[4-9]$"))
    expect(page.locator("#chart-clocks")).to_have_attribute("data-bands", chart.get_attribute("data-bands") or "")
    expect(page.locator("#history-foot")).to_contain_text("Last 24 h")
    # The newest values are read out; pointing at the chart reads out the values there instead.
    readout = page.locator("#readout-temperature")
    expect(readout).to_contain_text(re.compile(r" today · \d+\.\d °C"))
    expect(page.locator("#readout-clocks")).to_contain_text(re.compile(r"ARM [\d,]+ MHz · core [\d,]+ MHz"))
    newest = readout.inner_text()
    # Pointed at through the locator, which scrolls the chart into view first: with the CPU, storage and
    # network cards above it, its top is at the 1,000 px window's bottom edge, and a mouse moved to
    # coordinates below the window reaches nothing.
    over = page.locator("#chart-temperature .u-over")
    box = over.bounding_box()
    assert box is not None
    over.hover(position={"x": box["width"] * 0.1, "y": box["height"] / 2})
    expect(readout).not_to_have_text(newest)
    expect(readout).to_contain_text("°C")
    watched.assert_clean()


def test_the_events_list_says_what_happened_and_when(server, watched):
    page = watched.page
    live(page, server)
    events = page.locator("#events .event")
    at = r"at \d\d:\d\d( [AP]M)? (today|yesterday)$"  # three hours ago
    expect(events.filter(has_text=re.compile(rf"^Under-voltage for 4 s {at}"))).to_have_count(1)
    expect(events.filter(has_text=re.compile(r"^Soft temperature limit for 10 min at "))).to_have_count(1)
    expect(events.filter(has_text=re.compile(r"^Under-voltage, too brief to see, between "))).to_have_count(1)
    expect(events.filter(has_text=re.compile(r"^Under-voltage since .*, still going on$"))).to_have_count(1)
    expect(events.filter(has_text="Throttled for 2 min 10 s")).to_have_count(0)  # 26 h ago: not in the day
    page.locator(".range", has_text="7 d").click()
    expect(events.filter(has_text=re.compile(r"^Throttled for 2 min 10 s at \d\d:\d\d"))).to_have_count(1)
    expect(page.locator("#events-range")).to_have_text("last 7 days")
    page.locator(".range", has_text="1 h").click()
    expect(events.filter(has_text="for 4 s")).to_have_count(0)  # three hours ago
    expect(events.filter(has_text="too brief to see")).to_have_count(1)  # 40 minutes ago
    expect(page.locator("#history-foot")).to_contain_text("Last 1 h")
    page.reload()  # the range chosen is remembered
    expect(page.locator(".range[aria-pressed='true']")).to_have_text("1 h")
    page.locator(".range", has_text="24 h").click()
    watched.assert_clean()


def test_new_samples_are_pushed_into_the_charts(server, watched):
    page = watched.page
    live(page, server)
    page.locator(".range", has_text="1 h").click()
    chart = page.locator("#chart-temperature")
    expect(page.locator("#history-foot")).to_contain_text("Last 1 h")
    expect(chart).to_have_attribute("data-samples", re.compile(r"^\d+$"))
    before = int(chart.get_attribute("data-samples") or "0")
    # The test server samples every second (ENDRPI_HISTORY_INTERVAL=1) and pushes each on HISTORY.
    page.wait_for_function(
        "before => Number(document.querySelector('#chart-temperature').dataset.samples) >= before + 2", arg=before
    )
    page.locator(".range", has_text="24 h").click()
    watched.assert_clean()


def test_the_charting_library_is_the_one_the_readme_names():
    banner = (STATIC / "vendor" / "uplot" / "uPlot.iife.min.js").read_text()[:80]
    notes = (STATIC / "vendor" / "README.md").read_text()
    version = re.search(r"\(v(\d+\.\d+\.\d+)\)", banner)
    assert version, banner
    assert f"## uPlot {version.group(1)} " in notes
    assert f"version {version.group(1)}" in notes
    assert "MIT" in (STATIC / "vendor" / "uplot" / "LICENSE").read_text()


# --- throttle flags ----------------------------------------------------------------------------------


def test_each_throttle_flag_says_what_it_means_and_what_to_do(server, watched):
    page = watched.page
    live(page, server)
    rows = page.locator(".flag-row")
    expect(rows).to_have_count(4)
    under_voltage = page.locator('.flag-row[data-condition="underVoltage"]')
    expect(under_voltage.locator('[data-flag="underVoltageDetected"]')).to_have_text("Active")
    expect(under_voltage.locator('[data-flag="underVoltageHasOccurred"]')).to_have_text("Occurred")
    expect(under_voltage.locator(".flag-help")).to_contain_text("power supply")
    expect(page.locator('.flag-row[data-condition="throttling"] .flag-help')).to_contain_text("heatsink or fan")
    expect(page.locator('.flag-row[data-condition="softTemperatureLimit"] .flag-help')).to_contain_text("cooling")
    expect(page.locator('[data-flag="armFrequencyCapped"]')).to_have_text("OK")
    # The fake firmware answers get_throttled as vcgencmd does: the flags cover the time since boot.
    assert rest(server, "/system/throttle")["historyWindow"] == "SINCE_BOOT"
    expect(page.locator("#flag-window")).to_have_text("Since boot")
    expect(page.locator("#flag-window-note")).to_be_hidden()
    watched.assert_clean()


# --- pins ----------------------------------------------------------------------------------------------


def test_each_pin_shows_its_lock_and_alternate_function(server, watched):
    page = watched.page
    live(page, server)
    expect(pin(page, "GPIO27").locator(".lock-icon")).to_be_visible()
    expect(pin(page, "GPIO17").locator(".lock-icon")).to_have_count(0)
    expect(pin(page, "GPIO2").locator(".pin-function")).to_have_text("I2C1 SDA")
    expect(pin(page, "GPIO3").locator(".pin-function")).to_have_text("I2C1 SCL")
    expect(pin(page, "GPIO10").locator(".pin-function")).to_have_text("SPI0 MOSI")
    expect(pin(page, "GPIO14").locator(".pin-function")).to_have_text("UART TXD")
    expect(pin(page, "GPIO21").locator(".pin-function")).to_have_text("PCM DOUT")
    expect(pin(page, "GPIO17").locator(".pin-function")).to_have_count(0)
    expect(page.locator(".pin.inert", has_text="ID_SD").locator(".pin-function")).to_have_text("ID EEPROM data")
    pin(page, "GPIO27").locator(".pin-select").click()
    expect(page.locator("#editor-facts")).to_contain_text("Locked in Settings")
    pin(page, "GPIO9").locator(".pin-select").click()
    expect(page.locator("#editor-facts")).to_have_text("Alternate function: SPI0 MISO")
    watched.assert_clean()


def test_gpio2_is_offered_only_the_pulls_its_board_resistor_allows(server, watched):
    page = watched.page
    live(page, server)
    assert pin(page, "GPIO2").get_attribute("data-pulls") == "UP"  # pins.rules, through pins_header
    pin(page, "GPIO2").locator(".pin-select").click()
    page.locator("#editor-form label", has_text="Input").click()
    expect(page.locator('#editor-pull label[data-pull="UP"]')).to_be_visible()
    expect(page.locator('#editor-pull label[data-pull="FLOATING"]')).to_be_hidden()
    expect(page.locator('#editor-pull label[data-pull="DOWN"]')).to_be_hidden()
    expect(page.locator("#editor-pull-hint")).to_have_text("GPIO2 has a fixed pull-up resistor on the board.")
    page.locator("#editor-apply").click()
    expect(page.locator("#editor-message")).to_have_text("GPIO2 updated.")
    assert rest(server, "/pins/GPIO2")["pull"] == "UP"
    pin(page, "GPIO4").locator(".pin-select").click()
    for pull in ("FLOATING", "UP", "DOWN"):
        expect(page.locator(f'#editor-pull label[data-pull="{pull}"]')).to_be_visible()
    expect(page.locator("#editor-pull-hint")).to_be_hidden()
    watched.assert_clean()


def test_a_pwm_output_gets_a_slider_that_drives_it(server, watched):
    page = watched.page
    live(page, server)
    pwm = pin(page, "GPIO12")
    expect(pwm.locator(".pin-duty")).to_be_hidden()
    rest(server, "/pins/GPIO12", {"io": "OUTPUT", "state": 0.3})
    expect(pwm.locator(".badge.level")).to_have_text("PWM 30%")
    slider = pwm.locator(".pin-duty")
    expect(slider).to_be_visible()
    expect(slider).to_have_value("30")
    expect(pwm.locator(".pin-toggle")).to_be_hidden()
    slider.fill("70")  # sets the value and fires input and change, as a drag that lets go does
    expect(pwm.locator(".badge.level")).to_have_text("PWM 70%")
    assert rest(server, "/pins/GPIO12")["state"] == pytest.approx(0.7)
    # From the editor: PWM with a duty cycle, then back to a plain high output.
    pwm.locator(".pin-select").click()
    expect(page.locator("#editor-state input[value='pwm']")).to_be_checked()
    expect(page.locator("#editor-duty")).to_have_value("70")
    page.locator("#editor-duty").fill("45")
    expect(page.locator("#editor-duty-value")).to_have_text("45%")
    page.locator("#editor-apply").click()
    expect(pwm.locator(".badge.level")).to_have_text("PWM 45%")
    page.locator("#editor-state label", has_text="High").click()
    expect(page.locator("#editor-pwm")).to_be_hidden()
    page.locator("#editor-apply").click()
    expect(pwm.locator(".badge.level")).to_have_text("HIGH")
    expect(slider).to_be_hidden()
    expect(pwm.locator(".pin-toggle")).to_be_visible()
    rest(server, "/pins/GPIO12", {"io": "INPUT", "pull": "DOWN"})
    watched.assert_clean()


def rewrite_from_server(page: Page, change: Callable[[dict[str, Any]], None]) -> None:
    """Pass the page's WebSocket through a proxy that changes the data of every message from the
    server (a SUBSCRIBE reply's ``current``, or a message's ``data``) with ``change``."""

    def proxy(route: WebSocketRoute) -> None:
        upstream = route.connect_to_server()

        def from_server(message: str | bytes) -> None:
            envelope = json.loads(message)
            data = envelope.get("data")
            if isinstance(data, dict):
                data = data.get("current") if envelope.get("action") == "SUBSCRIBE" else data
                if isinstance(data, dict):
                    change(data)
            route.send(json.dumps(envelope))

        upstream.on_message(from_server)

    page.route_web_socket(re.compile(r"^ws://127\.0\.0\.1:\d+/\?summaries=1$"), proxy)


def test_a_pin_the_kernel_reports_in_use_says_by_what(server, watched):
    """The server's pins carry ``usedBy`` (the kernel's consumer of a line another driver holds).
    The simulated pins have none, so the server's messages pass through a proxy that adds one to
    GPIO8, as a Pi with SPI on reports it."""
    page = watched.page

    def spi_on(data: dict[str, Any]) -> None:
        if isinstance(data.get("GPIO8"), dict):
            data["GPIO8"]["usedBy"] = "spi0 CS0"

    rewrite_from_server(page, spi_on)
    live(page, server)
    expect(pin(page, "GPIO8").locator(".badge.used")).to_have_text("spi0 CS0")
    expect(pin(page, "GPIO8")).to_have_class(re.compile(r"\bin-use\b"))
    expect(pin(page, "GPIO7").locator(".badge.used")).to_have_text("")
    pin(page, "GPIO8").locator(".pin-select").click()
    expect(page.locator("#editor-facts")).to_contain_text("In use by the kernel: spi0 CS0")
    watched.assert_clean()


def test_a_pin_its_function_select_gives_to_a_bus_is_shown_so_and_offers_no_control(server, watched):
    """The server's pins carry ``function`` on a Pi (``I2C1 SDA`` for GPIO2 with i2c_arm on) and refuse
    such a pin; the simulated pins have none, so a proxy adds it, as a Pi with I2C on reports it."""
    page = watched.page

    def i2c_on(data: dict[str, Any]) -> None:
        for name, function in (("GPIO2", "I2C1 SDA"), ("GPIO17", "GPIO")):
            if isinstance(data.get(name), dict):
                data[name] = {**data[name], "io": "OUTPUT", "state": 1.0, "function": function}

    rewrite_from_server(page, i2c_on)
    live(page, server)
    expect(pin(page, "GPIO2").locator(".badge.used")).to_have_text("I2C1 SDA")
    expect(pin(page, "GPIO2")).to_have_class(re.compile(r"\bon-bus\b"))
    expect(pin(page, "GPIO2").locator(".pin-toggle")).to_be_hidden()
    expect(pin(page, "GPIO17").locator(".pin-toggle")).to_be_visible()
    pin(page, "GPIO2").locator(".pin-select").click()
    expect(page.locator("#editor-apply")).to_be_disabled()
    expect(page.locator("#editor-apply")).to_have_text("In use: I2C1 SDA")
    expect(page.locator("#editor-facts")).to_contain_text("Function: I2C1 SDA. Endrpi leaves it to its bus")
    watched.assert_clean()


def test_flags_that_cover_only_the_last_2_seconds_are_labelled_so(server, watched):
    """Where only the mailbox property tag answers (``historyWindow: LAST_2_SECONDS``), the right-hand
    column is not "since boot"; the fake firmware answers as vcgencmd does, so a proxy says otherwise."""
    page = watched.page

    def property_tag(data: dict[str, Any]) -> None:
        if "historyWindow" in data:
            data["historyWindow"] = "LAST_2_SECONDS"
            data["armFrequencyCappingHasOccurred"] = False

    rewrite_from_server(page, property_tag)
    live(page, server)
    expect(page.locator("#flag-window")).to_have_text("Last 2 s")
    expect(page.locator("#flag-window-note")).to_be_visible()
    expect(page.locator('[data-flag="armFrequencyCappingHasOccurred"]')).to_have_text("No")
    watched.assert_clean()


# --- a phone ---------------------------------------------------------------------------------------------


def test_on_a_phone_a_tapped_pin_opens_its_controls_where_the_finger_is(server, phone):
    page = phone.page
    live(page, server)
    viewport = page.viewport_size
    assert viewport is not None
    assert viewport["width"] == 390
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390  # nothing scrolls sideways
    editor = page.locator("#editor")
    expect(editor).not_to_be_in_viewport()
    target = pin(page, "GPIO26")  # near the bottom of the header, far below the fold
    target.locator(".pin-select").scroll_into_view_if_needed()
    target.locator(".pin-select").tap()
    expect(editor).to_be_in_viewport()
    expect(page.locator("#editor-name")).to_have_text("GPIO26")
    page.wait_for_function("() => getComputedStyle(document.querySelector('#editor')).transform === 'none'")
    box = editor.bounding_box()
    assert box is not None
    assert abs(box["y"] + box["height"] - viewport["height"]) <= 1  # a sheet along the bottom edge
    assert box["y"] > 0
    # The controls are big enough for a thumb, and work by touch.
    for control in ("#editor-form label:has-text('Output') span", "#editor-apply", "#editor-close"):
        size = page.locator(control).bounding_box()
        assert size is not None
        assert size["height"] >= 40, control
    page.locator("#editor-form label", has_text="Output").tap()
    page.locator("#editor-state label", has_text="High").tap()
    page.locator("#editor-apply").tap()
    expect(page.locator("#editor-message")).to_have_text("GPIO26 updated.")
    expect(target.locator(".badge.level")).to_have_text("HIGH")
    page.locator("#editor-close").tap()
    expect(editor).not_to_be_in_viewport()
    expect(page.locator("#sheet-backdrop")).to_be_hidden()
    # Toggles and the history's ranges work by touch too.
    target.locator(".pin-toggle").tap()
    expect(target.locator(".badge.level")).to_have_text("LOW")
    pin_box = target.locator(".pin-select").bounding_box()
    assert pin_box is not None
    assert pin_box["height"] >= 44
    page.locator(".range", has_text="7 d").tap()
    expect(page.locator(".range", has_text="7 d")).to_have_attribute("aria-pressed", "true")
    page.locator(".range", has_text="24 h").tap()
    # A finger on a chart reads out the values under it.
    expect(page.locator("#history-foot")).to_contain_text("Last 24 h")
    chart = page.locator("#chart-temperature .u-over")
    chart.scroll_into_view_if_needed()
    readout = page.locator("#readout-temperature")
    expect(readout).to_contain_text("°C")
    newest = readout.inner_text()
    chart.tap(position={"x": 20, "y": 40})
    expect(readout).not_to_have_text(newest)
    rest(server, "/pins/GPIO26", {"io": "INPUT", "pull": "DOWN"})
    phone.assert_clean()


# --- one look across the surfaces ----------------------------------------------------------------------------


def test_the_browsable_api_wears_the_dashboards_header_and_renders_descriptions_as_text(server, watched):
    page = watched.page
    page.goto(f"{server.http_url}/pins/GPIO17")
    expect(page.locator(".endrpi-topbar .brand")).to_have_text("Endrpi")
    expect(page.locator(".endrpi-topbar a[aria-current='page']")).to_have_text("REST API")
    expect(page.locator(".endrpi-topbar").get_by_role("link", name="Dashboard")).to_have_attribute("href", "/")
    description = page.locator(".endrpi-description")
    expect(description).to_contain_text("One pin, named as gpiozero names pins: GPIO17, BCM17")
    expect(description.locator("code", has_text="BOARD11")).to_be_visible()
    assert "`" not in (description.inner_text())
    background = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(15, 20, 25)"  # the dashboard's --bg
    watched.assert_clean()


def test_the_admin_wears_the_dashboards_header_and_colours(server, watched):
    page = watched.page
    page.goto(f"{server.http_url}/admin/login/")
    expect(page.locator(".endrpi-topbar .brand")).to_have_text("Endrpi")
    expect(page.locator(".endrpi-topbar a[aria-current='page']")).to_have_text("Settings")
    expect(page.locator("#site-name")).to_have_text(re.compile("Endrpi settings"))
    expect(page.locator("#id_username")).to_be_visible()
    background = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(15, 20, 25)"
    button = page.eval_on_selector("input[type=submit]", "element => getComputedStyle(element).backgroundColor")
    assert button == "rgb(197, 26, 74)"  # the dashboard's raspberry accent
    page.locator(".endrpi-topbar").get_by_role("link", name="Dashboard").click()
    expect(page.locator("#status")).to_have_attribute("data-state", "live")
    watched.assert_clean()
