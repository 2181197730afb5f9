#!/usr/bin/env python3
"""Make the README's screenshot, docs/dashboard.png: the dashboard at 1,366 px in headless Chromium.

It serves the project as the browser tests do (tests/browser/conftest.py: a fake host tree and
firmware, mock GPIO, two days of simulated history and a few pin labels), so the picture shows what
a Pi owner sees on a Pi. Run it from the checkout with the dev tools installed:
``./.venv/bin/python scripts/readme_screenshot.py`` (after ``./scripts/test`` has made the venv).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import django

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SCRATCH = tempfile.TemporaryDirectory()
# The test helpers import models: Django is set up over a scratch data directory, never ./var.
os.environ.update({"DJANGO_SETTINGS_MODULE": "endrpi_project.settings", "ENDRPI_DATA_DIR": SCRATCH.name})
django.setup()

from playwright.sync_api import expect, sync_playwright  # noqa: E402

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, start_server  # noqa: E402

OUTPUT = ROOT / "docs" / "dashboard.png"


def main() -> None:
    with tempfile.TemporaryDirectory() as base:
        servers = start_server(Path(base))
        server = next(servers)
        try:
            with sync_playwright() as driver:
                browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1366, "height": 1400})
                page.goto(f"{server.http_url}/")
                expect(page.locator("#status")).to_have_attribute("data-state", "live")
                expect(page.locator("#temperature")).not_to_have_text("—")
                page.wait_for_function("() => document.querySelector('#chart-temperature canvas') !== null")
                page.wait_for_timeout(500)  # the meters' transition
                page.screenshot(path=str(OUTPUT))
                browser.close()
        finally:
            servers.close()
    print(OUTPUT)


if __name__ == "__main__":
    main()
