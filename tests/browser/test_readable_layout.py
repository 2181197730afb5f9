"""Text a Pi owner reads whole: words in the WebSocket page's tables and the address to bookmark are
never broken mid-word (nothing overflows a 360 px phone either: test_phone.py), a fresh install's
first history point is drawn, and the admin's pin-settings list fits a 1366 px laptop screen."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

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
