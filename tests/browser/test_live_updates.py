"""The dashboard is pushed every change: nothing polled, seen across windows, back by itself.

Latencies are measured with each page's own clock (``Date.now()``, the machine's wall clock that
this process shares), printed, and held to the issue's bound of 300 ms only as a median of many
changes, so one slow moment on a shared machine does not fail the run.
"""

from __future__ import annotations

import json
import statistics
import time
import urllib.request
from typing import Any

import pytest
from playwright.sync_api import WebSocket, expect

from tests.browser.conftest import start_server

pytestmark = pytest.mark.slow

TWO_WINDOW_BOUND_MS = 300
CHANGES = 12

# Records, in the page, when a pin's level badge changes and to what.
WATCH_LEVEL = """name => {
  const badge = document.querySelector(`.pin[data-pin="${name}"] .badge.level`);
  window.levelChanges = [];
  new MutationObserver(() => window.levelChanges.push({at: Date.now(), text: badge.textContent}))
    .observe(badge, {childList: true, characterData: true, subtree: true});
}"""

# Clicks a pin's toggle and answers when (the page's clock) it did.
CLICK_TOGGLE = """name => {
  const at = Date.now();
  document.querySelector(`.pin[data-pin="${name}"] .pin-toggle`).click();
  return at;
}"""


def rest_put(server, pin, body) -> float:
    """PUT a pin configuration; answers when the request was sent, in ms of the wall clock."""
    request = urllib.request.Request(
        f"{server.http_url}/pins/{pin}",
        data=json.dumps(body).encode(),
        method="PUT",
        headers={"Content-Type": "application/json", "Accept": "application/json"},
    )
    sent = time.time() * 1000
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200
    return sent


def rest_get(server, path):
    request = urllib.request.Request(f"{server.http_url}{path}", headers={"Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def live(page, server):
    page.goto(f"{server.http_url}/")
    expect(page.locator("#status")).to_have_attribute("data-state", "live")
    expect(page.locator('.pin[data-pin="GPIO17"] .badge.level')).not_to_have_text("…")


def next_change(page, seen: int, expected: str) -> float:
    """Wait until the page has recorded change number ``seen + 1`` to ``expected``; answer its time."""
    page.wait_for_function("count => window.levelChanges.length > count", arg=seen, timeout=10_000)
    changes = page.evaluate("() => window.levelChanges")
    changed = [change for change in changes[seen:] if change["text"] == expected]
    assert changed, f"expected {expected}, the page showed {changes[seen:]}"
    return float(changed[0]["at"])


def report(name: str, latencies: list[float]) -> float:
    median = statistics.median(latencies)
    print(
        f"\n{name}: {len(latencies)} changes, median {median:.1f} ms, "
        f"min {min(latencies):.1f} ms, max {max(latencies):.1f} ms"
    )
    return median


def test_a_toggle_in_one_window_shows_in_another_within_300_ms(server, windows):
    first, second = windows(), windows()
    live(first.page, server)
    live(second.page, server)
    second.page.evaluate(WATCH_LEVEL, "GPIO17")
    latencies = []
    for index in range(CHANGES):
        before = second.page.locator('.pin[data-pin="GPIO17"] .badge.level').text_content()
        expected = "LOW" if before == "HIGH" else "HIGH"
        clicked = first.page.evaluate(CLICK_TOGGLE, "GPIO17")
        shown = next_change(second.page, index, expected)
        latencies.append(shown - clicked)
        # The clicking window is told too, and lets go of its button, before the next click.
        expect(first.page.locator('.pin[data-pin="GPIO17"] .badge.level')).to_have_text(expected)
        expect(first.page.locator('.pin[data-pin="GPIO17"] .pin-toggle')).to_be_enabled()
    median = report("two-window latency (click in one window -> shown in the other)", latencies)
    assert median <= TWO_WINDOW_BOUND_MS
    first.assert_clean()
    second.assert_clean()


def test_a_rest_update_shows_on_the_dashboard_without_a_reload(server, watched):
    page = watched.page
    live(page, server)
    page.evaluate(WATCH_LEVEL, "GPIO23")
    latencies = []
    for index in range(CHANGES):
        state = 1 - index % 2
        sent = rest_put(server, "GPIO23", {"io": "OUTPUT", "state": state})
        shown = next_change(page, index, "HIGH" if state else "LOW")
        latencies.append(shown - sent)
    median = report("REST PUT -> shown on the dashboard", latencies)
    assert median <= TWO_WINDOW_BOUND_MS
    expect(page.locator('.pin[data-pin="GPIO23"] .badge.io')).to_have_text("OUT")
    rest_put(server, "GPIO23", {"io": "INPUT", "pull": "DOWN"})
    expect(page.locator('.pin[data-pin="GPIO23"] .badge.io')).to_have_text("IN")
    watched.assert_clean()


def test_the_dashboard_subscribes_once_and_never_polls(server, watched):
    page = watched.page
    sent: list[dict[str, Any]] = []
    received: list[dict[str, Any]] = []

    def socket(ws: WebSocket) -> None:
        ws.on("framesent", lambda payload: sent.append(json.loads(payload)))
        ws.on("framereceived", lambda payload: received.append(json.loads(payload)))

    page.on("websocket", socket)
    live(page, server)
    # The pins, their settings, the throttle panel, the history, and one topic per reading card.
    cards = set(page.evaluate("() => Object.keys(JSON.parse(document.getElementById('reading-cards').textContent))"))
    assert {"TEMPERATURE", "FREQUENCY", "MEMORY", "UPTIME"} <= cards
    topics = {"PINS", "PIN_SETTINGS", "THROTTLE", "HISTORY", "EVENTS"} | cards
    page.wait_for_function(
        "() => document.querySelector('#uptime').textContent !== '—'"
    )  # the replies have been rendered
    deadline = time.monotonic() + 20
    while sum(message["action"] == "UPTIME_UPDATED" for message in received) < 3:
        assert time.monotonic() < deadline, "no uptime was pushed"
        page.wait_for_timeout(100)
    # Three seconds of pushed uptimes later, the page has sent only its subscriptions, and asked
    # once for the history and events of the chosen range.
    subscribes = [message for message in sent if message["action"] == "SUBSCRIBE"]
    assert sorted(message["params"]["topic"] for message in subscribes) == sorted(topics)
    others = sorted(message["action"] for message in sent if message["action"] != "SUBSCRIBE")
    assert others == ["READ_EVENTS", "READ_HISTORY"]
    replies = [message for message in received if message["action"] == "SUBSCRIBE" and message["success"]]
    assert {reply["data"]["topic"] for reply in replies} == topics
    watched.assert_clean()


def test_after_a_restart_the_page_is_back_within_2_s_with_the_state_as_it_is_now(tmp_path, watched):
    page = watched.page
    first = start_server(tmp_path / "first")
    server = next(first)
    try:
        live(page, server)
        expect(page.locator("#banner")).to_be_hidden()
        relay = page.locator('.pin[data-pin="GPIO17"] .badge.level')
        expect(relay).to_have_text("HIGH")  # the saved configuration, applied at start-up
        page.locator('.pin[data-pin="GPIO17"] .pin-toggle').click()
        expect(relay).to_have_text("LOW")
        # Gone at once, as on a crash or power cut (daphne's own shutdown can wait on open sockets).
        server.process.kill()
        server.process.wait(timeout=10)
        expect(page.locator("#banner")).to_be_visible()
        expect(page.locator("#banner")).to_contain_text("Connection to the server lost")
        expect(page.locator("#banner-detail")).to_contain_text("Reconnecting")
        expect(page.locator("#status")).to_have_text("Offline")
        # Retries are at most ~1.2 s apart (1 s with jitter), however long the server stays away.
        page.wait_for_function("() => Number(document.querySelector('#banner').dataset.attempt) >= 4")
        assert int(page.locator("#banner").get_attribute("data-retry-ms") or "0") <= 1200
    finally:
        first.close()
    second = start_server(tmp_path / "second", port=server.port)
    restarted = next(second)
    ready = time.monotonic()
    try:
        expect(page.locator("#status")).to_have_text("Live", timeout=10_000)
        # The new server applied the saved configuration again: the page shows it, not what it had.
        expect(relay).to_have_text("HIGH", timeout=10_000)
        back = time.monotonic() - ready
        print(f"\nrecovery: the page was live with the new server's state {back * 1000:.0f} ms after it answered")
        expect(page.locator("#banner")).to_be_hidden()
        expect(page.locator("#temperature")).to_have_text("51.5")
        # And it is subscribed again: a change made elsewhere still shows.
        rest_put(restarted, "GPIO17", {"io": "OUTPUT", "state": 0})
        expect(relay).to_have_text("LOW")
        assert rest_get(restarted, "/pins/GPIO17")["state"] == 0.0
    finally:
        second.close()
    assert watched.outside_requests == []
