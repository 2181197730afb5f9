"""GET /metrics: the Prometheus text format, checked by promtool and parsed by the client library."""

from __future__ import annotations

import shutil
import subprocess
import threading

import pytest
from channels.testing import HttpCommunicator
from prometheus_client.parser import text_string_to_metric_families

from endrpi_project.access.tokens import access_token_create
from endrpi_project.asgi import application
from tests.helpers import readings_declared, websocket

pytestmark = pytest.mark.django_db

PROMTOOL = shutil.which("promtool")


def scrape(client, **headers):
    response = client.get("/metrics", **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    return response.content.decode()


async def http_get_text(path):
    response = await HttpCommunicator(application, "GET", path).get_response(timeout=5)
    assert response["status"] == 200
    return response["body"].decode()


def samples(text):
    """{(name, frozenset(labels)): value} for every sample, through the client library's parser."""
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return out


def value(found, name, **labels):
    return found[(name, frozenset(labels.items()))]


@pytest.mark.skipif(PROMTOOL is None, reason="promtool (Debian package prometheus) is not installed")
def test_promtool_finds_nothing_wrong(client):
    text = scrape(client)
    assert PROMTOOL is not None
    checked = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.strip() == ""


def test_the_readings_are_there_with_their_labels(client, gpio):
    found = samples(scrape(client))
    assert value(found, "endrpi_soc_temperature_celsius") == 48.312
    assert value(found, "endrpi_clock_hertz", clock="arm") == 1500398464
    assert value(found, "endrpi_clock_hertz", clock="core") == 500000992
    assert value(found, "endrpi_memory_bytes", kind="total") == 3884328 * 1024
    assert value(found, "endrpi_memory_bytes", kind="available") == 3411872 * 1024
    assert value(found, "endrpi_uptime_seconds") == 123456.78
    # 0x50005: under-voltage and throttling now, and both since boot
    assert value(found, "endrpi_throttled", condition="under_voltage", window="now") == 1
    assert value(found, "endrpi_throttled", condition="throttled", window="since_boot") == 1
    assert value(found, "endrpi_throttled", condition="arm_frequency_capped", window="now") == 0
    assert value(found, "endrpi_throttled", condition="soft_temperature_limit", window="since_boot") == 0
    assert value(found, "endrpi_build_info", version="1.0.0", model="") == 1


def test_gpio_levels_are_labelled_by_pin_and_direction(client):
    client.put("/pins/GPIO17", {"io": "OUTPUT", "state": 1}, content_type="application/json")
    found = samples(scrape(client))
    assert value(found, "endrpi_gpio_state", pin="GPIO17", io="OUTPUT") == 1


def test_a_failing_reading_is_absent_and_counted_never_a_500(client, host_root, vcgencmd):
    before = samples(scrape(client))
    host_root.remove("sys/class/thermal/thermal_zone0/temp")
    vcgencmd.answer(fail=True)
    text = scrape(client)
    found = samples(text)
    assert "endrpi_soc_temperature_celsius" not in text
    assert "endrpi_clock_hertz{" not in text
    assert "endrpi_throttled{" not in text
    assert value(found, "endrpi_memory_bytes", kind="free") == 2873340 * 1024
    for reading in ("temperature", "frequency", "throttle"):
        counted = value(found, "endrpi_reading_errors_total", reading=reading)
        assert counted == value(before, "endrpi_reading_errors_total", reading=reading) + 1


@pytest.mark.django_db(transaction=True)
async def test_websocket_connections_and_requests_are_counted():
    async with websocket() as client:
        await client.request("READ_MEMORY")
        await client.request("READ_MEMORY", params={})
        await client.request("NO_SUCH_ACTION")
        await client.request("SUBSCRIBE", params={"topic": "THROTTLE", "onChange": True})
        found = samples(await http_get_text("/metrics"))
        assert value(found, "endrpi_websocket_connections") >= 1
        assert value(found, "endrpi_push_subscriptions", topic="THROTTLE") >= 1
        assert value(found, "endrpi_requests_total", edge="websocket", action="READ_MEMORY", outcome="ok") >= 2
        assert value(found, "endrpi_requests_total", edge="websocket", action="unknown", outcome="error") >= 1
    after = samples(await http_get_text("/metrics"))
    assert (
        value(after, "endrpi_push_subscriptions", topic="THROTTLE")
        == value(found, "endrpi_push_subscriptions", topic="THROTTLE") - 1
    )
    assert value(after, "endrpi_websocket_connections") == value(found, "endrpi_websocket_connections") - 1
    assert value(after, "endrpi_requests_total", edge="rest", action="metrics", outcome="ok") >= 1


def test_rest_requests_are_counted_by_route_and_outcome(client):
    found = samples(scrape(client))
    client.get("/system/temperature", HTTP_ACCEPT="application/json")
    client.get("/pins/GPIO99", HTTP_ACCEPT="application/json")
    after = samples(scrape(client))

    def count(found, **labels):
        return found.get(("endrpi_requests_total", frozenset(labels.items())), 0)

    ok = {"edge": "rest", "action": "system-temperature", "outcome": "ok"}
    error = {"edge": "rest", "action": "pin-detail", "outcome": "error"}
    assert count(after, **ok) == count(found, **ok) + 1
    assert count(after, **error) == count(found, **error) + 1


def test_under_auth_all_a_scrape_needs_a_token(client, settings):
    settings.ENDRPI_AUTH = "all"
    refused = client.get("/metrics")
    assert refused.status_code == 401
    assert refused["Content-Type"] == "application/json"
    assert "message" in refused.json()
    _, secret = access_token_create(name="prometheus", scope="read")
    scrape(client, HTTP_AUTHORIZATION=f"Bearer {secret}")


def test_whatever_a_scraper_accepts_it_gets_the_text_format(client):
    accept = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
    assert "endrpi_uptime_seconds" in scrape(client, HTTP_ACCEPT=accept)
    assert "endrpi_uptime_seconds" in scrape(client, HTTP_ACCEPT="text/html")


def test_each_scrape_reads_the_pi_now_and_starts_no_thread(client, host_root):
    threads = set(threading.enumerate())
    assert value(samples(scrape(client)), "endrpi_soc_temperature_celsius") == 48.312
    host_root.write("sys/class/thermal/thermal_zone0/temp", "71000\n")
    assert value(samples(scrape(client)), "endrpi_soc_temperature_celsius") == 71.0
    assert set(threading.enumerate()) == threads


def test_sticky_flags_that_cover_2_seconds_say_so_in_their_window(client):
    from dataclasses import replace

    from system import declarations
    from system.readings import Throttle

    flags = dict.fromkeys(
        (
            "under_voltage_detected",
            "arm_frequency_capped",
            "throttling",
            "soft_temperature_limit_active",
            "under_voltage_has_occurred",
            "arm_frequency_capping_has_occurred",
            "throttling_has_occurred",
            "soft_temperature_limit_has_occurred",
        ),
        False,
    )
    recent = replace(declarations.THROTTLE, read=lambda: Throttle(**flags, history_window="LAST_2_SECONDS"))
    with readings_declared([recent]):
        found = samples(scrape(client))
    assert value(found, "endrpi_throttled", condition="under_voltage", window="last_2_seconds") == 0
    assert ("endrpi_throttled", frozenset({("condition", "under_voltage"), ("window", "since_boot")})) not in found
