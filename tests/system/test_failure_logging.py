"""A reading this machine cannot take: warned about once at start-up, not logged on every request."""

from __future__ import annotations

import logging

import pytest

from system import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_firmware(settings):
    settings.ENDRPI_VCGENCMD = "/nonexistent/vcgencmd"


def test_a_reading_failure_answers_500_without_an_internal_server_error_log(client, caplog, no_firmware):
    with caplog.at_level(logging.INFO):
        response = client.get("/system/throttle", HTTP_ACCEPT="application/json")
        every_failed = client.get("/system/frequency", HTTP_ACCEPT="application/json")
    assert response.status_code == 500
    assert response.json()["message"].startswith("Failed to query system throttle status: no firmware source")
    assert every_failed.status_code == 500
    assert [record for record in caplog.records if record.name == "django.request"] == []
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


def test_an_unexpected_server_error_is_still_logged(client, caplog, monkeypatch):
    def broken():
        raise RuntimeError("a bug")

    from django.urls import resolve

    view = resolve("/system/temperature").func.view_class  # type: ignore[attr-defined]
    monkeypatch.setattr(view, "read", staticmethod(broken))
    with caplog.at_level(logging.INFO):
        response = client.get("/system/temperature", HTTP_ACCEPT="application/json")
    assert response.status_code == 500
    assert any(record.name == "django.request" and record.levelno == logging.ERROR for record in caplog.records)


async def test_start_up_warns_once_for_each_reading_this_machine_cannot_take(caplog, no_firmware):
    with caplog.at_level(logging.INFO, logger="system.services"):
        await services.system_unavailable_warn()
    warnings = [record for record in caplog.records if record.name == "system.services"]
    assert [record.levelno for record in warnings] == [logging.WARNING, logging.WARNING]
    assert "throttle reading" in warnings[0].getMessage()
    assert "frequency reading" in warnings[1].getMessage()


async def test_start_up_checks_in_the_background(no_firmware, monkeypatch):
    checked: list[bool] = []

    async def warn() -> None:
        checked.append(True)

    monkeypatch.setattr(services, "system_unavailable_warn", warn)
    await services.system_start()
    assert checked == []  # not awaited by start-up itself
    await services.system_stop()
