"""What a Pi owner sees in a real browser: dashboard, API docs, admin and browsable API."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.slow  # a real server, browser or long fuzzing run


def rest(server, path):
    request = urllib.request.Request(f"{server.http_url}{path}", headers={"Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def pin(page, name):
    return page.locator(f'.pin[data-pin="{name}"]')


def test_the_dashboard_shows_every_reading_with_nothing_leaving_the_server(server, watched):
    page = watched.page
    page.goto(f"{server.http_url}/")
    expect(page.locator("#status")).to_have_attribute("data-state", "live")
    expect(page.locator("#temperature")).to_have_text("51.5")
    expect(page.locator("#clock-arm")).to_have_text(re.compile(r"^1.?500$"))
    expect(page.locator("#clock-core")).to_have_text("500")
    expect(page.locator("#uptime")).to_have_text("0:20:34")
    expect(page.locator("#memory-total")).to_have_text("3.70 GB")
    expect(page.locator("#platform")).to_contain_text(rest(server, "/system/platform")["networkName"])
    expect(page.locator('[data-flag="underVoltageDetected"]')).to_have_class("flag bad")
    expect(page.locator('[data-flag="armFrequencyCapped"]')).to_have_class("flag good")
    expect(page.locator('[data-flag="throttlingHasOccurred"]')).to_have_class("flag past")
    expect(page.locator("#simulated")).to_be_visible()
    expect(page.locator(".pin.gpio")).to_have_count(26)
    expect(page.locator(".pin.inert")).to_have_count(14)
    expect(pin(page, "GPIO4").locator(".badge.io")).to_have_text("IN")
    expect(pin(page, "GPIO4").locator(".badge.pull")).to_have_text("PULL FLOATING")
    # Saved in the admin before start-up: the label is shown and the saved configuration was applied.
    expect(pin(page, "GPIO17").locator(".pin-label")).to_have_text("Garage relay")
    expect(pin(page, "GPIO17").locator(".badge.level")).to_have_text("HIGH")
    expect(page.locator("#banner")).to_be_hidden()
    watched.assert_clean()


def test_the_cpu_storage_and_network_cards_and_the_memory_chart_show(server, watched):
    page = watched.page
    page.goto(f"{server.http_url}/")
    expect(page.locator("#status")).to_have_attribute("data-state", "live")
    network = rest(server, "/system/network")
    cpu = page.locator('[data-topic="CPU"]')
    expect(cpu.locator(".big")).to_contain_text("% busy")
    expect(cpu.locator("dd").first).to_have_text(re.compile(r"^\d+[.,]\d\d$"))  # the 1-minute load
    expect(cpu.locator(".card-rows li").first).to_contain_text("cpu0")
    storage = page.locator('[data-topic="STORAGE"]')
    expect(storage.locator(".big")).to_contain_text(re.compile(r"\d.* [kMGT]?B"))
    expect(storage.locator(".card-error")).to_be_hidden()
    # The address to bookmark, as this page's URL on it (this machine's own address: its kernel answers).
    if network["address"] is not None:
        port = server.http_url.rsplit(":", 1)[1]
        expect(page.locator("#network-address")).to_have_text(f"http://{network['address']}:{port}/")
    expect(page.locator('[data-topic="NETWORK"] .card-rows li')).to_have_count(len(network["interfaces"]))
    # Memory charted from the history (a reading's History.chart), beside temperature and clocks.
    expect(page.locator("#chart-memory canvas")).to_have_count(1)
    expect(page.locator("#readout-memory")).to_contain_text("Memory available")
    # The board, not the kernel's build string.
    expect(page.locator("#platform")).not_to_contain_text("SMP")
    watched.assert_clean()


def test_an_output_is_toggled_from_the_header_and_the_server_agrees(server, watched):
    page = watched.page
    page.goto(f"{server.http_url}/")
    relay = pin(page, "GPIO17")
    expect(relay.locator(".badge.io")).to_have_text("OUT")
    before = rest(server, "/pins/GPIO17")["state"]
    relay.locator(".pin-toggle").click()
    expect(relay.locator(".badge.level")).to_have_text("HIGH" if before == 0.0 else "LOW")
    assert rest(server, "/pins/GPIO17")["state"] == 1.0 - before
    relay.locator(".pin-toggle").click()
    expect(relay.locator(".badge.level")).to_have_text("LOW" if before == 0.0 else "HIGH")
    assert rest(server, "/pins/GPIO17")["state"] == before
    watched.assert_clean()


def test_a_pin_is_switched_between_input_and_output_in_the_editor(server, watched):
    page = watched.page
    page.goto(f"{server.http_url}/")
    expect(page.locator("#status")).to_have_attribute("data-state", "live")
    target = pin(page, "GPIO22")
    expect(target.locator(".badge.io")).to_have_text("IN")
    target.locator(".pin-select").click()
    expect(page.locator("#editor-name")).to_have_text("GPIO22")
    page.locator("#editor-form label", has_text="Output").click()
    page.locator("#editor-state label", has_text="High").click()
    page.locator("#editor-apply").click()
    expect(page.locator("#editor-message")).to_have_text("GPIO22 updated.")
    expect(target.locator(".badge.io")).to_have_text("OUT")
    expect(target.locator(".badge.level")).to_have_text("HIGH")
    expect(target.locator(".pin-toggle")).to_be_visible()

    page.locator("#editor-form label", has_text="Input").click()
    page.locator("#editor-pull label", has_text="Up").click()
    page.locator("#editor-apply").click()
    expect(target.locator(".badge.pull")).to_have_text("PULL UP")
    expect(target.locator(".pin-toggle")).to_be_hidden()
    assert rest(server, "/pins/GPIO22") == {"io": "INPUT", "state": 1.0, "pull": "UP", "label": None}
    watched.assert_clean()


def test_a_locked_pins_editor_says_so_and_the_server_refuses_it_all_the_same(server, watched):
    page = watched.page
    page.goto(f"{server.http_url}/")
    door = pin(page, "GPIO27")
    expect(door.locator(".pin-label")).to_have_text("Door sensor")
    door.locator(".pin-select").click()
    expect(page.locator("#editor-facts")).to_contain_text("Locked in Settings: changes are refused.")
    expect(page.locator("#editor-apply")).to_be_disabled()
    request = urllib.request.Request(
        f"{server.http_url}/pins/GPIO27",
        data=json.dumps({"io": "OUTPUT", "state": 1}).encode(),
        method="PUT",
        headers={"Accept": "application/json", "Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)
    assert "GPIO27 is locked in the server's settings" in json.loads(refused.value.read())["message"]
    assert rest(server, "/pins/GPIO27")["io"] == "INPUT"
    watched.assert_clean()


def test_the_api_docs_render_swagger_ui_with_every_route(server, watched):
    page = watched.page
    # One entry per operation of the server's own schema (readings declared later add routes).
    schema = rest(server, "/api/schema?format=json")
    page.goto(f"{server.http_url}/docs")
    routes = page.locator(".opblock-summary-path")
    expect(routes).to_have_count(sum(len(operations) for operations in schema["paths"].values()))
    paths = {text.strip().replace("\u200b", "") for text in routes.all_inner_texts()}
    assert paths == set(schema["paths"])
    assert paths >= {
        "/pins",
        "/pins/{pin_id}",
        "/system",
        "/system/frequency",
        "/system/memory",
        "/system/cpu",
        "/system/storage",
        "/system/network",
        "/system/sensors",
        "/system/sensors/{sensor_id}",
        "/system/platform",
        "/system/temperature",
        "/system/throttle",
        "/system/uptime",
        "/system/history",
        "/system/events",
        "/metrics",
        "/fleet",
    }
    expect(page.get_by_role("link", name="WebSocket API").first).to_have_attribute("href", "/docs/websocket")
    expect(page.locator(".endrpi-topbar a[aria-current='page']")).to_have_text("REST API")  # the dashboard's header
    watched.assert_clean()


def test_the_websocket_page_is_linked_from_the_dashboard(server, watched):
    page = watched.page
    page.goto(f"{server.http_url}/")
    page.get_by_role("link", name="WebSocket API").first.click()
    expect(page.locator("h1")).to_have_text("WebSocket API")
    # Every action of the table, each with its entry in the contents.
    expect(page.locator("section.action")).to_have_count(page.locator("#toc .toc-actions a").count())
    for action in ("READ_TEMPERATURE", "READ_PIN_CONFIGURATIONS", "UPDATE_PIN_CONFIGURATIONS", "SUBSCRIBE"):
        expect(page.locator(f"section.action#{action}")).to_have_count(1)
    expect(page.locator(".endrpi-topbar a[aria-current='page']")).to_have_text("WebSocket API")
    watched.assert_clean()


def test_the_admin_login_page_renders_with_its_css(server, watched):
    page = watched.page
    stylesheets = []

    def response(answer):
        if answer.url.endswith(".css"):
            stylesheets.append(answer.status)

    page.on("response", response)
    page.goto(f"{server.http_url}/admin/login/")
    expect(page.locator("#id_username")).to_be_visible()
    expect(page.locator("#site-name")).to_have_text(re.compile("Endrpi settings"))
    assert stylesheets
    assert set(stylesheets) == {200}
    header_background = page.eval_on_selector("#header", "element => getComputedStyle(element).backgroundColor")
    assert header_background not in ("rgba(0, 0, 0, 0)", "transparent")
    watched.assert_clean()


def test_the_browsable_api_renders_a_pin_and_puts_from_its_form(server, watched):
    page = watched.page
    page.goto(f"{server.http_url}/pins/GPIO18")
    expect(page.locator("h1")).to_have_text("Pin Detail")
    expect(page.locator(".response-info")).to_contain_text('"io": "INPUT"')
    navbar = page.eval_on_selector(".endrpi-topbar", "element => getComputedStyle(element).backgroundColor")
    assert navbar not in ("rgba(0, 0, 0, 0)", "transparent")  # the dashboard's CSS was served
    expect(page.locator("#id__content")).to_have_value(re.compile(r'"io": "INPUT"'))  # starts from the pin as it is
    page.locator("#id__content").fill('{"io": "OUTPUT", "state": 1}')
    page.locator("#put-generic-content-form button", has_text="PUT").click()
    expect(page.locator(".response-info")).to_contain_text(
        "Pin configuration for pin `GPIO18` was updated successfully"
    )
    assert rest(server, "/pins/GPIO18")["state"] == 1.0
    watched.assert_clean()
