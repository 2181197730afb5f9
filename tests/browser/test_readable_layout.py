"""Text a Pi owner reads whole: words in the WebSocket page's tables and the address to bookmark are
never broken mid-word (nothing overflows a 360 px phone either: test_phone.py), a fresh install's
first history point is drawn, and the admin's pin-settings list fits a 1366 px laptop screen."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from endrpi_project.testing.live import LiveServer
from tests.browser.conftest import ADMIN_PASSWORD, ADMIN_USER, start_server
from tests.browser.test_phone import assert_fits

pytestmark = pytest.mark.slow

WIDTHS = [1366, 390, 360]


def broken_words(page: Page, selector: str) -> list[str]:
    """Each word (a run without white space) in ``selector``'s text that the browser laid out over more
    than one line, as "word: N lines". A <wbr> splits text nodes, so a word ends there too."""
    found: list[str] = page.evaluate(
        """(selector) => {
          const broken = [];
          for (const element of document.querySelectorAll(selector)) {
            const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
            for (let node = walker.nextNode(); node; node = walker.nextNode()) {
              for (const match of node.data.matchAll(/\\S+/g)) {
                const range = document.createRange();
                range.setStart(node, match.index);
                range.setEnd(node, match.index + match[0].length);
                const boxes = [...range.getClientRects()].filter((box) => box.width > 0);
                const tops = new Set(boxes.map((box) => Math.round(box.top)));
                if (tops.size > 1) broken.push(`${match[0]}: ${tops.size} lines`);
              }
            }
          }
          return broken;
        }""",
        selector,
    )
    return found


@pytest.mark.parametrize("width", WIDTHS)
def test_the_websocket_pages_tables_keep_each_word_whole(server, windows, width):
    page = windows(width=width, height=800, touch=width < 800).page
    page.goto(f"{server.http_url}/docs/websocket")
    assert page.locator(".doc-table td code").count() > 20
    assert broken_words(page, ".doc-table td code") == []
    assert_fits(page, f"/docs/websocket at {width} px")


@pytest.mark.parametrize("width", WIDTHS)
def test_the_address_to_bookmark_breaks_only_between_its_parts(server, windows, width):
    page = windows(width=width, height=800, touch=width < 800).page
    page.goto(f"{server.http_url}/")
    address = page.locator("#network-address")
    expect(address).to_contain_text(re.compile(r":\d+/$"))  # the page's own port after the address
    text = address.inner_text().replace("\n", "")
    assert text.startswith("http://")
    assert text.endswith("/")
    assert broken_words(page, "#network-address") == []
    assert_fits(page, f"the dashboard at {width} px")


@pytest.fixture(scope="module")
def fresh_server(tmp_path_factory) -> Iterator[LiveServer]:
    """A fresh install: readings work, no history recorded before this server started."""
    yield from start_server(tmp_path_factory.mktemp("fresh"), history=False)


def coloured_pixels(page: Page, chart: str, colour: str) -> int:
    """How many pixels of ``chart``'s canvas are (nearly) ``colour`` ("#rrggbb")."""
    count: int = page.evaluate(
        """([chart, colour]) => {
          const canvas = document.querySelector(`${chart} canvas`);
          const context = canvas.getContext("2d");
          const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
          const want = [1, 3, 5].map((at) => parseInt(colour.slice(at, at + 2), 16));
          let count = 0;
          for (let at = 0; at < data.length; at += 4) {
            if (data[at + 3] > 200 && want.every((value, index) => Math.abs(data[at + index] - value) < 24)) count += 1;
          }
          return count;
        }""",
        [chart, colour],
    )
    return count


def test_a_fresh_installs_single_history_point_is_drawn(fresh_server, windows):
    page = windows(width=1366, height=900).page
    page.goto(f"{fresh_server.http_url}/")
    chart = page.locator(".chart-extra").first
    expect(chart.locator("canvas")).to_be_visible()
    expect(page.locator("#chart-temperature")).to_have_attribute("data-points", "1", timeout=15_000)
    chart_id = chart.get_attribute("id")
    # The first extra chart (memory) draws its lone point in its first series' colour ("#4fd1a5").
    assert coloured_pixels(page, f"#{chart_id}", "#4fd1a5") > 10


def test_the_pin_settings_list_fits_a_laptop_screen(server, windows):
    page = windows(width=1366, height=768).page
    page.goto(f"{server.http_url}/admin/login/?next=/admin/pins/pinsetting/")
    page.locator("#id_username").fill(ADMIN_USER)
    page.locator("#id_password").fill(ADMIN_PASSWORD)
    page.locator("input[type=submit]").click()
    expect(page.locator("#result_list")).to_be_visible()
    results = page.locator("#changelist .results")
    assert results.evaluate("(element) => element.scrollWidth <= element.clientWidth"), "the list scrolls sideways"
    for heading in ("Label", "Locked", "At start-up"):
        expect(page.locator("#result_list thead th", has_text=heading)).to_be_in_viewport(ratio=1)
    garage = page.locator("#result_list tr", has_text="GPIO17")
    expect(garage.locator("td.field-start_up")).to_have_text("OUTPUT 1")
