"""Real headless Chromium (Debian's ``chromium``) driven by Playwright, against a real daphne.

The server runs with DEBUG off, mock GPIO, a fake host tree and firmware, and a fresh database
holding a few pin settings, so what the browser sees is what a Pi owner's browser would see.
Every request the browser makes to anywhere but the server is refused and recorded.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from endrpi_project.testing.live import ROOT, LiveServer, live_server
from tests.conftest import FIXTURES, FakeVcgencmd, HostTree

CHROMIUM = Path(os.environ.get("ENDRPI_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# The admin's user (a throwaway password for a throwaway database).
ADMIN_USER = "owner"
ADMIN_PASSWORD = "pi-owner-password"

# Settings saved in the admin before the server starts: a label with a saved configuration
# (applied at start-up), and a locked pin.
PIN_SETTINGS = f"""
from pins.models import PinSetting
PinSetting.objects.create(pin=17, label="Garage relay", io="OUTPUT", state=1.0)
PinSetting.objects.create(pin=27, label="Door sensor", locked=True)
PinSetting.objects.create(pin=5, label="Workshop extractor fan behind the north wall, relay 2 channel 4")
from django.contrib.auth import get_user_model
get_user_model().objects.create_superuser("owner", "", "{ADMIN_PASSWORD}")
"""

# Two days of history before the server starts, written through the history store's own write path
# (endrpi_project.history.simulation), and four past events: an under-voltage of 4 s three hours ago,
# one too brief to see (between two checks) 40 minutes ago, 10 minutes at the soft temperature limit
# five hours ago and 2 min 10 s of throttling 26 hours ago. The fake firmware then reports
# under-voltage now, so the server's own sampler records one that is going on.
HISTORY = """
import time
from endrpi_project.history.simulation import simulated_samples
from endrpi_project.history.store import Event, HistoryStore
HOUR = 3_600_000
now = int(time.time() * 1000)
store = HistoryStore(retention_ms=30 * 24 * HOUR)
rows = simulated_samples(start=now - 48 * HOUR, count=2 * 8640, interval_ms=10_000)
for first in range(0, len(rows), 2000):
    for row in rows[first : first + 2000]:
        store.add_sample(row)
    store.flush(now=rows[min(first + 2000, len(rows)) - 1].time)
store.add_events([
    Event("underVoltage", now - 3 * HOUR, now - 3 * HOUR + 4000),
    Event("underVoltage", now - 40 * 60_000, now - 40 * 60_000 + 1000, observed=False),
    Event("softTemperatureLimit", now - 5 * HOUR, now - 5 * HOUR + 600_000),
    Event("throttling", now - 26 * HOUR, now - 26 * HOUR + 130_000),
])
store.flush(now=now)
"""

if not CHROMIUM.exists():
    if os.environ.get("CI"):
        raise RuntimeError(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium package")
    pytest.skip(f"browser tests need Debian's chromium at {CHROMIUM}", allow_module_level=True)

from playwright.sync_api import (  # noqa: E402
    Browser,
    ConsoleMessage,
    Page,
    Playwright,
    Response,
    Route,
    sync_playwright,
)


def start_server(
    base: Path, port: int | None = None, *, readable: bool = True, history: bool = True
) -> Generator[LiveServer, None, None]:
    """The server the browser tests open. ``readable=False``: a machine where no reading can be taken
    (no thermal zone, no /proc files, no firmware) and no history was recorded before it started.
    ``history=False``: a fresh install, whose readings work but whose history starts with this server."""
    tree = HostTree(base / "host")
    firmware = FakeVcgencmd(base / "bin" / "vcgencmd")
    firmware.path.parent.mkdir(parents=True, exist_ok=True)
    if readable:
        tree.write("sys/class/thermal/thermal_zone0/temp", "51540\n")
        tree.write("proc/uptime", "1234.4 1.0\n")
        tree.write("proc/meminfo", (FIXTURES / "meminfo.txt").read_text())
        tree.write("sys/block/mmcblk0/stat", (FIXTURES / "mmcblk0_stat.txt").read_text())
        # CPU and network from this machine's kernel, so they move, and the interfaces match the
        # addresses its kernel answers (the server asks it over rtnetlink).
        for relative in ("proc/stat", "proc/loadavg", "proc/net/dev"):
            tree.write(relative, Path("/", relative).read_text())
        for link in Path("/sys/class/net").iterdir():
            for name in ("ifindex", "operstate", "address"):
                with contextlib.suppress(OSError):  # a file this kind of interface lacks
                    tree.write(f"sys/class/net/{link.name}/{name}", (link / name).read_text())
        firmware.answer(throttled="0x50005")
    else:
        tree.root.mkdir(parents=True)
        firmware.answer(fail=True)
    data = base / "data"
    env = {
        "ENDRPI_HOST_ROOT": str(tree.root),
        "ENDRPI_VCGENCMD": str(firmware.path),
        "ENDRPI_DATA_DIR": str(data),
        "ENDRPI_GPIO": "mock",
        "ENDRPI_DEBUG": "false",
        "ENDRPI_HISTORY_INTERVAL": "1",  # a sample a second, so the charts move within a test
    }
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "endrpi_project.settings", **env}
    data.mkdir(parents=True)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=environment, check=True
    )
    setup = PIN_SETTINGS + (HISTORY if readable and history else "")
    subprocess.run([sys.executable, "manage.py", "shell", "-c", setup], cwd=ROOT, env=environment, check=True)
    with live_server(data, env, port=port) as server:
        yield server


@pytest.fixture(scope="package")
def server(tmp_path_factory) -> Iterator[LiveServer]:
    yield from start_server(tmp_path_factory.mktemp("browser"))


@pytest.fixture(scope="package")
def unreadable_server(tmp_path_factory) -> Iterator[LiveServer]:
    """A server on a machine where every reading fails, with no history yet."""
    yield from start_server(tmp_path_factory.mktemp("unreadable"), readable=False)


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@dataclass
class Watched:
    """A page, and what went wrong on it: console errors, page errors, requests that left the server."""

    page: Page
    console_errors: list[str] = field(default_factory=list)
    outside_requests: list[str] = field(default_factory=list)
    failed_responses: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        assert self.outside_requests == []
        assert self.console_errors == []
        assert self.failed_responses == []


def watch(browser: Browser, *, width: int = 1400, height: int = 1000, touch: bool = False) -> Watched:
    """A new window (its own browser context) of this size; every request off 127.0.0.1 is refused."""
    context = browser.new_context(
        viewport={"width": width, "height": height},
        has_touch=touch,
        is_mobile=touch,
        device_scale_factor=2 if touch else 1,
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    watched = Watched(page)

    def only_loopback(route: Route) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            watched.outside_requests.append(route.request.url)
            route.abort()

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            watched.console_errors.append(message.text)

    context.route("**/*", only_loopback)
    page.on("console", console)
    page.on("pageerror", lambda error: watched.console_errors.append(str(error)))

    def response(answer: Response) -> None:
        if answer.status >= 400:
            watched.failed_responses.append(f"{answer.status} {answer.url}")

    page.on("response", response)
    return watched


@pytest.fixture
def windows(browser) -> Iterator[Callable[..., Watched]]:
    """Open as many windows as a test needs (``windows(width=390, touch=True)``); all closed after."""
    opened: list[Watched] = []

    def open_window(**size: Any) -> Watched:
        opened.append(watch(browser, **size))
        return opened[-1]

    yield open_window
    for window in opened:
        window.page.context.close()


@pytest.fixture
def watched(windows: Callable[..., Watched]) -> Watched:
    return windows()


@pytest.fixture
def phone(windows: Callable[..., Watched]) -> Watched:
    """An iPhone-sized touch screen: 390 px wide."""
    return windows(width=390, height=844, touch=True)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where tests leave screenshots for a reviewer: ``var/artifacts/browser`` (not committed), or
    ``ENDRPI_ARTIFACTS``."""
    folder = Path(os.environ.get("ENDRPI_ARTIFACTS", ROOT / "var" / "artifacts" / "browser"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder
