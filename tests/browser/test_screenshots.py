"""Screenshots for a reviewer: the dashboard at 1366 px and at 390 px (a phone, with a pin's bottom
sheet open), the browsable API and the admin. Saved under ``var/artifacts/browser`` (or
``ENDRPI_ARTIFACTS``), not committed; the path is printed."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.slow


def settle(page) -> None:
    expect(page.locator("#status")).to_have_attribute("data-state", "live")
    expect(page.locator("#temperature")).not_to_have_text("—")
    expect(page.locator('.pin[data-pin="GPIO17"] .badge.level')).not_to_have_text("…")
    # Charts drawn, or the history said to be unavailable (a server without the history app).
    page.wait_for_function("() => document.querySelector('#chart-temperature canvas, #history.failed') !== null")
    page.wait_for_timeout(300)  # the meters' transition


def test_the_dashboard_at_1366_px(server, windows, artifacts):
    window = windows(width=1366, height=900)
    page = window.page
    page.goto(f"{server.http_url}/")
    settle(page)
    path = artifacts / "dashboard-1366.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"\nscreenshot: {path}")
    window.assert_clean()


def test_the_dashboard_on_a_390_px_phone(server, phone, artifacts):
    page = phone.page
    page.goto(f"{server.http_url}/")
    settle(page)
    path = artifacts / "dashboard-390.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"\nscreenshot: {path}")
    page.locator('.pin[data-pin="GPIO18"] .pin-select').tap()
    expect(page.locator("#editor")).to_be_in_viewport()
    page.wait_for_timeout(300)  # the sheet slides in
    path = artifacts / "dashboard-390-sheet.png"
    page.screenshot(path=str(path))
    print(f"screenshot: {path}")
    phone.assert_clean()


def test_the_browsable_api_and_the_admin_look_like_the_dashboard(server, windows, artifacts):
    window = windows(width=1366, height=800)
    page = window.page
    page.goto(f"{server.http_url}/pins/GPIO17")
    expect(page.locator(".endrpi-topbar")).to_be_visible()
    path = artifacts / "browsable-api-1366.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"\nscreenshot: {path}")
    page.goto(f"{server.http_url}/docs")
    expect(page.locator(".opblock-summary-path").first).to_be_visible()
    path = artifacts / "swagger-1366.png"
    page.screenshot(path=str(path))
    print(f"screenshot: {path}")
    page.goto(f"{server.http_url}/admin/login/")
    expect(page.locator(".endrpi-topbar")).to_be_visible()
    path = artifacts / "admin-login-1366.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    window.assert_clean()
