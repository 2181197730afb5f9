"""What the operator changes in Settings (the admin) shows on every open dashboard without a reload, and
an open pin editor never undoes a change made elsewhere."""

from __future__ import annotations

import json
import re
import urllib.request
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ADMIN_PASSWORD, ADMIN_USER

pytestmark = pytest.mark.slow


def rest(server, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    request = urllib.request.Request(
        f"{server.http_url}{path}",
        data=None if body is None else json.dumps(body).encode(),
        method="GET" if body is None else "PUT",
        headers={"Accept": "application/json", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        answer: dict[str, Any] = json.loads(response.read())
        return answer


def pin(page: Page, name: str):
    return page.locator(f'.pin[data-pin="{name}"]')


def live(page: Page, server) -> None:
    page.goto(f"{server.http_url}/")
    expect(page.locator("#status")).to_have_attribute("data-state", "live")
    expect(pin(page, "GPIO17").locator(".badge.level")).not_to_have_text("…")


def log_in(page: Page, server) -> None:
    page.goto(f"{server.http_url}/admin/login/")
    page.locator("#id_username").fill(ADMIN_USER)
    page.locator("#id_password").fill(ADMIN_PASSWORD)
    page.locator("input[type=submit]").click()
    expect(page.locator("#user-tools")).to_be_visible()


def admin_save(page: Page, server, name: str, *, label: str, locked: bool) -> None:
    """Save ``name``'s label and lock through the admin's own form, as an operator would."""
    page.goto(f"{server.http_url}/admin/pins/pinsetting/")
    row = page.locator("#result_list th a, #result_list td a").filter(has_text=re.compile(rf"^{name}\b"))
    if row.count():
        row.first.click()
    else:
        page.goto(f"{server.http_url}/admin/pins/pinsetting/add/")
        page.locator("#id_pin").select_option(label=name)
    page.locator("#id_label").fill(label)
    page.locator("#id_locked").set_checked(locked)
    page.locator("input[name=_save]").click()
    expect(page.locator(".messagelist .success")).to_be_visible()


def test_a_lock_and_a_label_saved_in_the_admin_show_on_an_open_dashboard(server, windows):
    rest(server, "/pins/GPIO24", {"io": "OUTPUT", "state": 0})
    dashboard = windows()
    page = dashboard.page
    live(page, server)
    fan = pin(page, "GPIO24")
    expect(fan.locator(".pin-toggle")).to_be_visible()
    expect(fan).not_to_have_class(re.compile(r"\blocked\b"))
    fan.locator(".pin-select").click()  # its editor is open when the lock arrives
    expect(page.locator("#editor-apply")).to_be_enabled()

    admin = windows().page
    log_in(admin, server)
    admin_save(admin, server, "GPIO24", label="Attic fan", locked=True)

    # The open page was not reloaded: the lock and the label were pushed to it.
    expect(fan).to_have_class(re.compile(r"\blocked\b"))
    expect(fan.locator(".lock-icon")).to_be_visible()
    expect(fan.locator(".pin-label")).to_have_text("Attic fan")
    expect(fan.locator(".pin-toggle")).to_be_hidden()  # a locked pin offers no toggle
    expect(page.locator("#editor-label")).to_have_text("Attic fan")
    expect(page.locator("#editor-facts")).to_contain_text("Locked in Settings")
    expect(page.locator("#editor-apply")).to_be_disabled()

    # Unlocked again in the admin: the toggle comes back.
    admin_save(admin, server, "GPIO24", label="", locked=False)
    expect(fan).not_to_have_class(re.compile(r"\blocked\b"))
    expect(fan.locator(".lock-icon")).to_have_count(0)
    expect(fan.locator(".pin-label")).to_have_text("")
    expect(fan.locator(".pin-toggle")).to_be_visible()
    expect(page.locator("#editor-apply")).to_be_enabled()
    dashboard.assert_clean()


def test_a_pin_locked_before_the_page_opened_offers_no_toggle(server, watched):
    page = watched.page
    rest(server, "/pins/GPIO17", {"io": "OUTPUT", "state": 1})
    live(page, server)
    door = pin(page, "GPIO27")  # locked at start-up; an input, so it never had a toggle
    expect(door).to_have_class(re.compile(r"\blocked\b"))
    door.locator(".pin-select").click()
    expect(page.locator("#editor-facts")).to_contain_text("Locked in Settings: changes are refused.")
    expect(page.locator("#editor-apply")).to_be_disabled()
    expect(page.locator("#editor-apply")).to_have_text("Locked in Settings")
    watched.assert_clean()


def test_an_open_editor_shows_a_change_made_in_another_window_so_apply_does_not_undo_it(server, windows):
    rest(server, "/pins/GPIO25", {"io": "INPUT", "pull": "DOWN"})
    first = windows()
    page = first.page
    live(page, server)
    pin(page, "GPIO25").locator(".pin-select").click()
    expect(page.locator("#editor-form input[name=io][value=INPUT]")).to_be_checked()

    other = windows().page
    live(other, server)
    pin(other, "GPIO25").locator(".pin-select").click()
    other.locator("#editor-form label", has_text="Output").click()
    other.locator("#editor-state label", has_text="High").click()
    other.locator("#editor-apply").click()
    expect(other.locator("#editor-message")).to_have_text("GPIO25 updated.")
    expect(other.locator("#editor-message")).to_have_class("editor-message ok")  # not news to its own editor

    # The first window's editor now shows the pin as the other window left it, and says so.
    expect(page.locator("#editor-form input[name=io][value=OUTPUT]")).to_be_checked()
    expect(page.locator("#editor-form input[name=state][value='1']")).to_be_checked()
    expect(page.locator("#editor-message")).to_contain_text("GPIO25 was changed elsewhere")
    page.locator("#editor-apply").click()
    expect(page.locator("#editor-message")).to_have_text("GPIO25 updated.")
    after = rest(server, "/pins/GPIO25")
    assert (after["io"], after["state"]) == ("OUTPUT", 1.0)
    first.assert_clean()
