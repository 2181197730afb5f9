"""A reading that cannot be taken, in words a Pi owner reads: one plain sentence from the server with the
technical detail folded away (dashboard and browsable API), an events list that does not claim "no
throttling" when throttling could not be read, and charts that say why they are empty."""

from __future__ import annotations

import contextlib
import json
import re
from typing import Any

import pytest
from playwright.sync_api import Page, WebSocketRoute, expect

from tests.browser.conftest import start_server
from tests.conftest import HostTree

pytestmark = pytest.mark.slow

TEMPERATURE = "Temperature unavailable: this machine has no SoC thermal sensor"


def live(page: Page, server) -> None:
    page.goto(f"{server.http_url}/")
    expect(page.locator("#status")).to_have_attribute("data-state", "live")


def test_a_failed_reading_is_one_plain_sentence_with_the_detail_folded_away(unreadable_server, watched):
    page = watched.page
    live(page, unreadable_server)
    error = page.locator('[data-topic="TEMPERATURE"] .card-error')
    expect(error.locator(".error-summary")).to_have_text(TEMPERATURE)
    detail = error.locator("details")
    expect(detail.locator("code")).to_be_hidden()  # folded
    detail.locator("summary").click()
    expect(detail.locator("code")).to_have_text("Failed to query system on chip temperature: No such file or directory")
    # The firmware's long list of sources stays in the detail, not in the sentence.
    clocks = page.locator('[data-topic="FREQUENCY"] .card-error .error-summary')
    expect(clocks).to_contain_text("Clocks unavailable: no Raspberry Pi firmware answered")
    expect(clocks).not_to_contain_text("vcgencmd")
    throttle = page.locator('[data-topic="THROTTLE"] .card-error .error-summary')
    expect(throttle).to_contain_text("Power and throttling unavailable")
    watched.assert_clean()


def test_the_browsable_api_leads_with_the_same_sentence(unreadable_server, windows):
    window = windows()
    page = window.page
    page.goto(f"{unreadable_server.http_url}/system/temperature")
    failure = page.locator(".endrpi-failure")
    expect(failure.locator(".endrpi-failure-summary")).to_have_text(TEMPERATURE)
    expect(failure.locator("details code")).to_be_hidden()
    failure.locator("details summary").click()
    expect(failure.locator("details code")).to_contain_text("Failed to query system on chip temperature")
    assert window.outside_requests == []


def test_the_events_list_says_throttling_could_not_be_read_rather_than_that_there_was_none(unreadable_server, watched):
    page = watched.page
    live(page, unreadable_server)
    expect(page.locator("#events-unknown")).to_be_visible()
    expect(page.locator("#events-unknown")).to_contain_text("could not be read")
    expect(page.locator("#events-empty")).to_be_hidden()
    watched.assert_clean()


def test_charts_with_nothing_to_draw_say_why_instead_of_drawing_empty_axes(unreadable_server, watched):
    page = watched.page
    live(page, unreadable_server)
    # Samples were taken (the server runs) but neither the temperature nor the clocks could be read.
    expect(page.locator("#empty-temperature")).to_be_visible()
    expect(page.locator("#empty-clocks")).to_be_visible()
    expect(page.locator("#chart-temperature")).to_be_hidden()
    expect(page.locator("#chart-clocks")).to_be_hidden()
    # The charts the declarations add (memory, CPU) say so too, rather than draw empty axes.
    extra = page.locator(".chart-extra")
    for index in range(extra.count()):
        chart_id = (extra.nth(index).get_attribute("id") or "").removeprefix("chart-")
        expect(page.locator(f"#empty-{chart_id}")).to_contain_text("could not read it")
        expect(extra.nth(index)).to_be_hidden()
    watched.assert_clean()


def test_a_range_with_no_sample_at_all_says_the_history_has_not_started(server, watched):
    """A server that has just started has nothing in the range yet: the page's history answer and pushed
    samples pass through a proxy that empties them, as on a fresh database."""
    page = watched.page

    def proxy(route: WebSocketRoute) -> None:
        upstream = route.connect_to_server()
        history_ids: set[Any] = set()

        def from_page(message: str | bytes) -> None:
            request = json.loads(message)
            if request.get("action") == "READ_HISTORY":
                history_ids.add(request.get("id"))
            upstream.send(message)

        def from_server(message: str | bytes) -> None:
            envelope = json.loads(message)
            if envelope.get("action") == "HISTORY_UPDATED":
                return  # no sample yet
            if envelope.get("action") == "READ_HISTORY" and envelope.get("id") in history_ids:
                envelope["data"].update(time=[], count=[], readings={})
            if envelope.get("action") == "READ_EVENTS":
                envelope["data"]["events"] = []
            route.send(json.dumps(envelope))

        route.on_message(from_page)
        upstream.on_message(from_server)

    page.route_web_socket(re.compile(r"^ws://127\.0\.0\.1:\d+/\?summaries=1$"), proxy)
    live(page, server)
    expect(page.locator("#history-empty")).to_be_visible()
    expect(page.locator("#history-empty")).to_contain_text("No history in this range yet")
    expect(page.locator("#chart-temperature")).to_be_hidden()
    expect(page.locator("#empty-temperature")).to_be_hidden()  # not a reading that failed: nothing yet
    expect(page.locator("#events-unknown")).to_be_hidden()
    watched.assert_clean()


def test_a_readable_machine_still_says_there_was_no_event_when_there_was_none(server, watched):
    """The fake firmware answers: throttling was read, so an empty list (a range without events) is news."""
    page = watched.page
    live(page, server)
    expect(page.locator("#chart-temperature canvas")).to_have_count(1)
    page.locator(".range", has_text="1 h").click()
    expect(page.locator("#events-unknown")).to_be_hidden()
    expect(page.locator("#empty-temperature")).to_be_hidden()
    watched.assert_clean()


def test_a_card_whose_reading_failed_as_it_subscribed_shows_the_reading_once_it_works(tmp_path, watched):
    # The SUBSCRIBE reply says the reading fails now (the subscription is accepted); the card shows the
    # sentence, and when the thermal zone appears the pushed reading replaces it, with no resubscribe.
    with contextlib.contextmanager(start_server)(tmp_path / "server", readable=False) as server:
        page = watched.page
        live(page, server)
        card = page.locator('[data-topic="TEMPERATURE"]')
        expect(card.locator(".card-error .error-summary")).to_have_text(TEMPERATURE)
        HostTree(tmp_path / "server" / "host").write("sys/class/thermal/thermal_zone0/temp", "51540\n")
        expect(page.locator("#temperature")).to_have_text("51.5")
        expect(card.locator(".card-error")).to_be_empty()
        watched.assert_clean()
