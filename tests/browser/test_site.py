"""The pages around the dashboard look and behave like it: the fleet page without MQTT, a URL no page
answers, the WebSocket API page's contents and the REST API docs."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.slow


def test_the_fleet_page_without_mqtt_says_so_and_links_every_page(server, watched):
    page = watched.page
    page.goto(f"{server.http_url}/fleet")
    expect(page.locator("#fleet-off")).to_contain_text("MQTT is off")
    page.wait_for_timeout(500)  # a page that connects would have said so by now
    expect(page.get_by_text("Connecting")).to_have_count(0)
    nav = page.locator(".endrpi-topbar nav")
    for name in ("Dashboard", "REST API", "WebSocket API", "Fleet", "Settings"):
        expect(nav.get_by_role("link", name=name, exact=True)).to_be_visible()
    expect(nav.locator("a[aria-current='page']")).to_have_text("Fleet")
    watched.assert_clean()


def test_an_unknown_url_gets_a_page_in_the_dashboards_look(server, windows):
    window = windows()
    page = window.page
    response = page.goto(f"{server.http_url}/no/such/page")
    assert response is not None
    assert response.status == 404
    expect(page.locator(".endrpi-topbar")).to_be_visible()
    expect(page.locator("h1")).to_have_text("Nothing here")
    expect(page.locator(".not-found-path")).to_have_text("/no/such/page")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(15, 20, 25)"  # the dashboard's --bg, not a white page
    page.get_by_role("link", name="The dashboard").click()
    expect(page.locator("#status")).to_have_attribute("data-state", "live")
    assert window.outside_requests == []
    assert window.failed_responses == [f"404 {server.http_url}/no/such/page"]  # the page itself, nothing it loads
    assert all("404" in error for error in window.console_errors)


@pytest.mark.parametrize("path", ["/no/such/page", "/pins/GPIO99"])
def test_an_api_client_still_gets_a_json_message_for_a_404(server, path):
    request = urllib.request.Request(f"{server.http_url}{path}", headers={"Accept": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as answer:
        urllib.request.urlopen(request, timeout=5)
    assert answer.value.code == 404
    assert answer.value.headers["Content-Type"].startswith("application/json")
    assert set(json.loads(answer.value.read())) == {"message"}


def test_the_websocket_page_has_contents_that_lead_to_every_action(server, watched):
    page = watched.page
    page.goto(f"{server.http_url}/docs/websocket")
    toc = page.locator("#toc")
    expect(toc).to_be_visible()
    actions = page.locator("section.action")
    expect(toc.locator(".toc-actions a")).to_have_count(actions.count())
    toc.get_by_role("link", name="UPDATE_PIN_CONFIGURATIONS").click()
    expect(page.locator("section#UPDATE_PIN_CONFIGURATIONS h3")).to_be_in_viewport()
    assert page.evaluate("location.hash") == "#UPDATE_PIN_CONFIGURATIONS"
    watched.assert_clean()


def test_the_rest_docs_are_dark_like_the_other_pages_and_show_no_padlocks_with_access_control_off(server, watched):
    page = watched.page
    page.goto(f"{server.http_url}/docs")
    expect(page.locator(".opblock-summary-path").first).to_be_visible()
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(15, 20, 25)"
    # Swagger UI's own light theme is turned dark (its colours inverted, so its dark text shows light).
    assert "invert" in page.evaluate("getComputedStyle(document.querySelector('.swagger-ui')).filter")
    # ENDRPI_AUTH is off in this server: no route asks for a token, so no padlock and no Authorize.
    expect(page.locator(".authorization__btn")).to_have_count(0)
    expect(page.locator(".btn.authorize")).to_have_count(0)
    watched.assert_clean()


@pytest.mark.parametrize(("locale", "twelve_hour"), [("de-DE", False), ("en-US", True)])
def test_chart_axes_follow_the_browsers_locale(server, browser, locale, twelve_hour):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale=locale)
    try:
        page = context.new_page()
        page.goto(f"{server.http_url}/")
        chart = page.locator("#chart-temperature")
        expect(chart).to_have_attribute("data-x-ticks", re.compile(r"\d"))
        ticks = (chart.get_attribute("data-x-ticks") or "").split("|")
        times = [tick.split("\n")[0] for tick in ticks]
        assert all(re.search(r"\d:\d\d", time) for time in times), ticks
        assert any(re.search(r"AM|PM", time) for time in times) is twelve_hour, ticks
        # The day under the first tick of each day, as this locale writes it.
        expected_day = page.evaluate(
            "ticks => new Intl.DateTimeFormat(undefined, {day: 'numeric', month: 'short'}).format(new Date())", ticks
        )
        assert any(tick.endswith(expected_day) for tick in ticks), (ticks, expected_day)
    finally:
        context.close()
