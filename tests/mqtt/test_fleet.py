"""The fleet registry: retained messages of many Pis, foreign messages ignored."""

from __future__ import annotations

import json

from endrpi_project.mqtt.fleet import Fleet


def system(temperature=48.3, under_voltage=False):
    return json.dumps(
        {
            "temperature": {"systemOnChip": {"quantity": temperature}},
            "throttle": {"underVoltageDetected": under_voltage, "throttling": False, "underVoltageHasOccurred": True},
        }
    ).encode()


def test_a_pi_is_listed_from_its_three_topics():
    fleet = Fleet()
    assert fleet.apply("pi1", "availability", b"online")
    assert fleet.apply("pi1", "device", b'{"name": "Garage", "model": "Raspberry Pi 5", "url": "http://pi1:5000/"}')
    assert fleet.apply("pi1", "system", system(under_voltage=True))
    [member] = fleet.members()
    assert (member.display_name, member.model, member.is_online, member.temperature) == (
        "Garage",
        "Raspberry Pi 5",
        True,
        48.3,
    )
    assert member.throttle_warnings == ("underVoltageDetected",)


def test_the_same_message_again_changes_nothing():
    fleet = Fleet()
    assert fleet.apply("pi1", "availability", b"online")
    assert not fleet.apply("pi1", "availability", b"online")
    assert fleet.apply("pi1", "availability", b"offline")
    assert fleet.members()[0].is_online is False


def test_foreign_payloads_are_ignored(caplog):
    fleet = Fleet()
    assert not fleet.apply("pi1", "system", b"not json")
    assert not fleet.apply("pi1", "device", b"[1, 2]")
    assert not fleet.apply("pi1", "availability", b"maybe")
    assert fleet.members() == []
    assert len([r for r in caplog.records if "pi1" in r.getMessage()]) == 1  # once per Pi


def test_empty_retained_messages_remove_a_pi():
    fleet = Fleet()
    fleet.apply("pi1", "availability", b"online")
    fleet.apply("pi1", "system", system())
    fleet.apply("pi1", "availability", b"")
    assert fleet.get("pi1") is not None
    assert fleet.apply("pi1", "system", b"")
    assert fleet.get("pi1") is None
