"""Every page on a 360 px and a 390 px phone: nothing wider than the screen, whatever state the page is
in (a pin on PWM with its slider, a long label, the bottom sheet open with an error, every reading
failed), and the GPIO header one tap away from the top of the dashboard."""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, WebSocketRoute, expect

from tests.browser.conftest import Watched

pytestmark = pytest.mark.slow

PHONES = [360, 390]
# Every page a Pi owner reaches from the header, and the ones a link or a typo leads to.
PAGES = [
    "/",
    "/fleet",
    "/docs",
    "/docs/websocket",
    "/admin/login/",
    "/pins/GPIO18",  # the browsable API
    "/system/temperature",
    "/no/such/page",  # the not-found page
]


def put(server, name: str, body: dict[str, Any]) -> None:
    request = urllib.request.Request(
        f"{server.http_url}/pins/{name}",
        data=json.dumps(body).encode(),
        method="PUT",
        headers={"Accept": "application/json", "Content-Type": "application/json"},
    )
    urllib.request.urlopen(request, timeout=5).read()


def overflow(page: Page) -> dict[str, Any]:
    """How wide the page is against the screen, and the elements that stick out past its right edge."""
    measured: dict[str, Any] = page.evaluate(
        """() => {
          const screen = document.documentElement.clientWidth;
          const out = [];
          for (const element of document.querySelectorAll("body *")) {
            const box = element.getBoundingClientRect();
            if (box.width === 0 || box.right <= screen + 0.5) continue;
            // Inside something that scrolls sideways (a wide table or code block): that is allowed.
            let scroller = element.parentElement;
            while (scroller && !["auto", "scroll", "hidden"].includes(getComputedStyle(scroller).overflowX)) {
              scroller = scroller.parentElement;
            }
            if (scroller && scroller !== document.body && scroller !== document.documentElement) continue;
            out.push(`${element.tagName.toLowerCase()}.${element.className} right=${Math.round(box.right)}`);
          }
          return {screen, page: document.documentElement.scrollWidth, out: out.slice(0, 10)};
        }"""
    )
    return measured


def assert_fits(page: Page, what: str) -> None:
    measured = overflow(page)
    assert measured["page"] <= measured["screen"], f"{what}: {measured}"
    assert measured["out"] == [], f"{what}: {measured}"


# A refusal as long as they come: the kernel's answer for a line another driver holds, with its device path.
BUSY = (
    "GPIO18 could not be configured: /dev/gpiochip0 line 18 is in use by another driver or program "
    "(consumer 'pwm-bcm2835 fe20c000.pwm:pwm0 channel 0'; see /sys/kernel/debug/gpio): release it first"
)


def refuse_updates(page: Page, error: str) -> None:
    """Pass the page's WebSocket through a proxy that answers every pin update with ``error``, as a
    server whose kernel refused the change would (the simulated pins never refuse)."""

    def proxy(route: WebSocketRoute) -> None:
        upstream = route.connect_to_server()

        def from_page(message: str | bytes) -> None:
            request = json.loads(message)
            if request.get("action") == "UPDATE_PIN_CONFIGURATIONS":
                reply = {"action": request["action"], "success": False, "data": None, "error": error}
                route.send(json.dumps({**reply, "id": request.get("id")}))
            else:
                upstream.send(message)

        route.on_message(from_page)
        upstream.on_message(route.send)

    page.route_web_socket(re.compile(r"^ws://127\.0\.0\.1:\d+/\?summaries=1$"), proxy)


@pytest.fixture
def pwm_pin(server) -> Iterator[str]:
    """GPIO18 on PWM (a slider on the header) for the test, an input again after it."""
    put(server, "GPIO18", {"io": "OUTPUT", "state": 0.4})
    yield "GPIO18"
    put(server, "GPIO18", {"io": "INPUT", "pull": "FLOATING"})


def open_phone(windows: Callable[..., Watched], width: int) -> Watched:
    return windows(width=width, height=780, touch=True)


@pytest.mark.parametrize("width", PHONES)
def test_no_page_is_wider_than_a_phone(server, windows, width, pwm_pin):
    window = open_phone(windows, width)
    page = window.page
    for path in PAGES:
        page.goto(f"{server.http_url}{path}")
        page.wait_for_load_state("load")
        if path == "/":
            expect(page.locator("#status")).to_have_attribute("data-state", "live")
            expect(page.locator('.pin[data-pin="GPIO18"] .pin-duty')).to_be_visible()
            expect(page.locator('.pin[data-pin="GPIO5"] .pin-label')).to_contain_text("Workshop extractor fan")
        if path == "/docs":
            expect(page.locator(".opblock-summary-path").first).to_be_visible()
        assert_fits(page, f"{path} at {width} px")


@pytest.mark.parametrize("width", PHONES)
def test_the_bottom_sheet_of_a_pwm_pin_fits_with_its_buttons_on_screen(server, windows, width, pwm_pin):
    page = open_phone(windows, width).page
    refuse_updates(page, BUSY)
    page.goto(f"{server.http_url}/")
    expect(page.locator("#status")).to_have_attribute("data-state", "live")
    page.locator('.pin[data-pin="GPIO18"] .pin-select').tap()
    expect(page.locator("#editor-pwm")).to_be_visible()
    page.wait_for_timeout(300)  # the sheet slides in
    for control in ("#editor-close", "#editor-apply", "#editor-duty"):
        expect(page.locator(control)).to_be_in_viewport(ratio=1)
    assert_fits(page, f"the PWM sheet at {width} px")
    # An error in the sheet, as long as the kernel's answers get (a pin another driver holds), still fits.
    page.locator("#editor-form label", has_text="Output").tap()
    page.locator("#editor-apply").tap()
    expect(page.locator("#editor-message")).to_have_class("editor-message error")
    expect(page.locator("#editor-message")).to_contain_text("/dev/gpiochip0")
    expect(page.locator("#editor-apply")).to_be_in_viewport(ratio=1)
    assert_fits(page, f"the sheet with an error at {width} px")


@pytest.mark.parametrize("width", PHONES)
def test_a_dashboard_where_every_reading_failed_fits_a_phone(unreadable_server, windows, width):
    page = open_phone(windows, width).page
    page.goto(f"{unreadable_server.http_url}/")
    expect(page.locator("#status")).to_have_attribute("data-state", "live")
    for topic in ("TEMPERATURE", "FREQUENCY", "MEMORY", "UPTIME", "THROTTLE"):
        expect(page.locator(f'[data-topic="{topic}"] .card-error')).to_be_visible()
    assert_fits(page, f"every reading failed at {width} px")


def test_the_gpio_header_is_one_tap_from_the_top_of_the_dashboard(server, phone):
    page = phone.page
    page.goto(f"{server.http_url}/")
    expect(page.locator("#status")).to_have_attribute("data-state", "live")
    jump = page.get_by_role("link", name="GPIO pins")
    expect(jump).to_be_in_viewport()
    jump.tap()
    expect(page.locator('.pin[data-pin="GPIO2"]')).to_be_in_viewport()
    # Further down the page the links stay on screen.
    page.mouse.wheel(0, 3000)
    expect(jump).to_be_in_viewport()
    phone.assert_clean()


def test_the_section_links_are_not_shown_on_a_wide_screen(server, watched):
    page = watched.page
    page.goto(f"{server.http_url}/")
    expect(page.locator("#jump")).to_be_hidden()
