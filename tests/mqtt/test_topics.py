"""Topic names and node ids."""

from __future__ import annotations

import pytest

from endrpi_project.mqtt.broker import broker_from_url
from endrpi_project.mqtt.topics import NodeTopics, fleet_topic, node_id_from


@pytest.mark.parametrize(
    ("host", "node"),
    [("raspberrypi", "raspberrypi"), ("Garage-Pi.local", "garage-pi_local"), ("pi #2/x+y", "pi_2_x_y"), ("", "endrpi")],
)
def test_node_ids_are_topic_safe(host, node):
    assert node_id_from(host) == node


def test_a_command_topic_names_its_pin():
    topics = NodeTopics("pi1")
    assert topics.command_pin("endrpi/pi1/pins/GPIO17/set") == "GPIO17"
    assert topics.command_pin("endrpi/pi2/pins/GPIO17/set") is None
    assert topics.command_pin("endrpi/pi1/pins/GPIO17") is None
    assert topics.commands == "endrpi/pi1/pins/+/set"


def test_fleet_topics():
    assert fleet_topic("endrpi/pi7/availability") == ("pi7", "availability")
    assert fleet_topic("endrpi/pi7/system") == ("pi7", "system")
    assert fleet_topic("endrpi/pi7/pins/GPIO17") is None
    assert fleet_topic("other/pi7/system") is None


def test_broker_urls():
    broker = broker_from_url("mqtt://user:p%40ss@broker.local")
    assert (broker.host, broker.port, broker.tls, broker.username, broker.password) == (
        "broker.local",
        1883,
        False,
        "user",
        "p@ss",
    )
    assert str(broker) == "mqtt://broker.local:1883"  # never the password
    secure = broker_from_url("mqtts://broker.local", ca_file="/etc/ca.pem")
    assert (secure.port, secure.tls, secure.ca_file) == (8883, True, "/etc/ca.pem")
