"""MQTT settings: a broker URL the server cannot use stops it at start-up, naming the variable."""

from __future__ import annotations

import pytest

from endrpi_project.env import SettingError, env_url
from endrpi_project.mqtt import services
from pins.models import PinSetting


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("broker.local:1883", "must start with mqtt:// or mqtts://"),
        ("http://broker.local", "must start with mqtt:// or mqtts://"),
        ("mqtt://", "names no host"),
        ("mqtt://broker.local:99999", "not a valid URL"),
        ("mqtt://user:secret@broker.local:x", "not a valid URL"),
    ],
)
def test_a_bad_broker_url_is_refused(monkeypatch, value, message):
    monkeypatch.setenv("ENDRPI_MQTT_URL", value)
    with pytest.raises(SettingError, match=message) as error:
        env_url("ENDRPI_MQTT_URL", "", schemes=["mqtt", "mqtts"])
    assert "ENDRPI_MQTT_URL" in str(error.value)
    assert "secret" not in str(error.value)  # never the password


def test_unset_or_empty_means_off(monkeypatch):
    monkeypatch.delenv("ENDRPI_MQTT_URL", raising=False)
    assert env_url("ENDRPI_MQTT_URL", "", schemes=["mqtt"]) == ""
    monkeypatch.setenv("ENDRPI_MQTT_URL", "  ")
    assert env_url("ENDRPI_MQTT_URL", "", schemes=["mqtt"]) == ""
    monkeypatch.setenv("ENDRPI_MQTT_URL", "mqtts://user:pw@broker.local")
    assert env_url("ENDRPI_MQTT_URL", "", schemes=["mqtt", "mqtts"]) == "mqtts://user:pw@broker.local"


def test_the_node_id_defaults_to_the_host_name(settings, monkeypatch):
    settings.ENDRPI_MQTT_NODE_ID = ""
    monkeypatch.setattr("socket.gethostname", lambda: "Garage.Pi")
    assert services.mqtt_node_id() == "garage_pi"
    settings.ENDRPI_MQTT_NODE_ID = "shed"
    assert services.mqtt_node_id() == "shed"


def test_the_dashboard_link_is_where_the_server_listens_not_its_host_name(settings, monkeypatch):
    """A host name may not resolve where Home Assistant runs, and the server may not listen on the
    address it resolves to (it linked http://<host name>:5000/ while listening on 127.0.0.1)."""
    monkeypatch.setattr("socket.gethostname", lambda: "garage")
    monkeypatch.setattr("endrpi_project.doctor.host.interface_addresses", lambda: ["127.0.0.1", "192.168.1.5"])
    settings.ENDRPI_MQTT_DASHBOARD_URL = ""
    settings.ENDRPI_HOST, settings.ENDRPI_PORT = "127.0.0.1", 8000
    assert services.mqtt_dashboard_url() == "http://127.0.0.1:8000/"
    settings.ENDRPI_HOST, settings.ENDRPI_PORT = "0.0.0.0", 5000  # every address: the one the LAN can use
    assert services.mqtt_dashboard_url() == "http://192.168.1.5:5000/"
    settings.ENDRPI_HOST = ""  # plain daphne, where ENDRPI_HOST is not set: as the default
    assert services.mqtt_dashboard_url() == "http://192.168.1.5:5000/"
    settings.ENDRPI_HOST = "192.168.1.5"
    settings.ENDRPI_TLS_CERT, settings.ENDRPI_TLS_KEY = "/etc/endrpi/cert.pem", "/etc/endrpi/key.pem"
    assert services.mqtt_dashboard_url() == "https://192.168.1.5:5000/"
    settings.ENDRPI_MQTT_DASHBOARD_URL = "https://pi.example.com/"  # the setting wins
    assert services.mqtt_dashboard_url() == "https://pi.example.com/"


class FakeBridge:
    """Stands in for the running bridge: counts the settings changes it is told of."""

    def __init__(self) -> None:
        self.told = 0

    def pin_settings_changed(self) -> None:
        self.told += 1


@pytest.mark.django_db(transaction=True)
def test_saving_a_pin_setting_in_the_admin_tells_the_bridge_once_committed(monkeypatch):
    bridge = FakeBridge()
    monkeypatch.setattr(services, "_bridge", bridge)
    setting = PinSetting.objects.create(pin=17, mqtt_controllable=True)
    assert bridge.told == 1
    setting.delete()
    assert bridge.told == 2


async def test_start_does_nothing_when_mqtt_is_off(settings):
    settings.ENDRPI_MQTT_URL = ""
    await services.start()
    assert services.mqtt_bridge() is None
    await services.stop()
