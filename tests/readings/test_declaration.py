"""One declaration drives every edge: a reading declared here, in the test only, appears on all of them.

The throwaway reading is a tank's fill level: a model, a reader and parser, and its declaration,
nothing else (the serializer comes from the model). If an edge still kept its own list of readings,
the reading would be missing there.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from prometheus_client.parser import text_string_to_metric_families

from endrpi_project.history import services as history_services
from endrpi_project.history.sampler import HISTORY_UPDATED, Sampler
from endrpi_project.history.store import HistoryStore
from endrpi_project.mqtt import discovery
from endrpi_project.mqtt.topics import NodeTopics
from endrpi_project.readings.declaration import (
    Card,
    CardValue,
    History,
    HomeAssistantEntity,
    Keyed,
    Meter,
    Metric,
    MetricValue,
    Reading,
    Series,
    state_value,
)
from endrpi_project.readings.registry import reading_service, readings_wire
from endrpi_project.readings.serializers import serializer_for
from system import declarations
from tests.helpers import http_get, readings_declared, websocket

pytestmark = pytest.mark.django_db(transaction=True)


@dataclass(frozen=True)
class Level:
    percent: float
    litres: int


def tank_file() -> str:  # the "hardware reader"
    return "62.5 250\n"


def level_parse(text: str) -> Level:  # the parser
    percent, litres = text.split()
    return Level(percent=float(percent), litres=int(litres))


TANK = Reading(
    name="TANK",
    model="Level",
    measures="How full the rain water tank is.",
    read=reading_service("tank level", tank_file, level_parse),
    serializer=serializer_for(Level),
    inline=True,
    history=History(
        series=(
            Series(key="percent", value=lambda level: level.percent, unit="PERCENT"),
            Series(key="litres", value=lambda level: level.litres, unit="LITRE", integer=True),
        )
    ),
    metrics=(
        Metric(
            name="endrpi_tank_fill_ratio",
            help="How full the tank is.",
            values=lambda level: [MetricValue(level.percent / 100)],
        ),
    ),
    home_assistant=(
        HomeAssistantEntity(
            object_id="tank_level",
            name="Tank level",
            value_template=state_value("tank", "percent"),
            unit="%",
            state_class="measurement",
        ),
    ),
    card=Card(
        title="Rain water tank",
        values=(CardValue(path="percent", format="decimal1", unit="%"),),
        meter=Meter(path="percent", of=100),
    ),
)


@pytest.fixture
def tank() -> Iterator[Reading]:
    history_services._sampler = None
    with readings_declared([*declarations.READINGS, TANK]):
        yield TANK
    history_services._sampler = None


WIRE = {"percent": 62.5, "litres": 250}


async def test_the_reading_has_its_rest_route_action_and_topic(tank):
    status, body = await http_get("/system/tank")
    assert (status, body) == (200, WIRE)
    status, everything = await http_get("/system")
    assert everything["tank"] == WIRE
    assert everything["temperature"]["systemOnChip"]["quantity"] == 48.312
    async with websocket() as client:
        assert (await client.request("READ_TANK"))["data"] == WIRE
        assert (await client.request("GET_TANK"))["data"] == WIRE
        reply = await client.request("SUBSCRIBE", {"topic": "TANK", "intervalMs": 100})
        assert reply["data"]["current"] == WIRE
        assert reply["data"]["event"] == "TANK_UPDATED"
        pushed = await client.receive()
        assert (pushed["action"], pushed["data"]) == ("TANK_UPDATED", WIRE)


def test_the_history_keeps_its_series_in_columns_of_their_own(tank, client):
    sampler = Sampler(store=HistoryStore(retention_ms=86_400_000), interval=10, flush_interval=60)
    published = sampler._tick(True, True)  # a sample, written at once
    [sample] = [data for _group, action, data in published if action == HISTORY_UPDATED]
    assert sample["tank"] == WIRE
    assert sample["temperature"] == {"systemOnChip": 48.312}
    answer = sampler.store.history(readings=["tank"], since=0, until=2**42, points=10)
    assert answer["readings"]["tank"]["percent"]["mean"] == [62.5]
    assert answer["readings"]["tank"]["litres"]["max"] == [250]
    assert answer["readings"]["tank"]["percent"]["unitOfMeasurement"] == "PERCENT"
    # ... and from the database, through the REST route (the written summaries).
    response = client.get("/system/history?readings=tank&since=-1h", HTTP_ACCEPT="application/json")
    assert response.status_code == 200, response.content
    assert response.json()["readings"]["tank"]["litres"]["mean"] == [250]


def test_metrics_mqtt_docs_schema_and_dashboard_show_it(tank, client):
    families = {
        family.name: family for family in text_string_to_metric_families(client.get("/metrics").content.decode())
    }
    assert families["endrpi_tank_fill_ratio"].samples[0].value == 0.625
    errors = {sample.labels["reading"] for sample in families["endrpi_reading_errors"].samples}
    assert "tank" in errors

    device = discovery.Device("pi1", "pi1", "Raspberry Pi 4 Model B Rev 1.4", "1.0.0", "http://pi1:5000/")
    entities = {entity.object_id: entity for entity in discovery.reading_entities(device, NodeTopics("pi1"))}
    config = json.loads(entities["tank_level"].payload())
    assert config["state_topic"] == "endrpi/pi1/system"
    assert config["unit_of_measurement"] == "%"
    assert "soc_temperature" in entities
    assert readings_wire()["tank"] == WIRE  # the MQTT state the template reads

    docs = client.get("/docs/websocket").content.decode()
    assert 'id="READ_TANK"' in docs
    assert "Reads the Level model, as GET /system/tank does." in docs
    assert "TANK" in docs.split('id="SUBSCRIBE"')[1]

    schema = client.get("/api/schema", HTTP_ACCEPT="application/json").json()
    assert "/system/tank" in schema["paths"]
    assert schema["paths"]["/system/tank"]["get"]["description"] == "How full the rain water tank is."
    assert set(schema["components"]["schemas"]["Level"]["properties"]) == {"percent", "litres"}
    assert "tank" in schema["components"]["schemas"]["System"]["properties"]

    page = client.get("/").content.decode()
    assert '<article class="card" data-topic="TANK" data-reading="tank">' in page
    assert "Rain water tank" in page
    specs = json.loads(page.split('<script id="reading-cards" type="application/json">')[1].split("</script>")[0])
    assert specs["TANK"]["values"][0]["path"] == "percent"
    assert specs["TANK"]["meter"]["of"] == 100


def test_without_the_declaration_no_edge_knows_the_reading(client):
    assert client.get("/system/tank", HTTP_ACCEPT="application/json").status_code == 404
    assert "tank" not in client.get("/system", HTTP_ACCEPT="application/json").json()
    assert "endrpi_tank_fill_ratio" not in client.get("/metrics").content.decode()
    assert 'data-topic="TANK"' not in client.get("/").content.decode()


@dataclass(frozen=True)
class Links:
    received: dict[str, float]


LINKS = Reading(
    name="LINKS",
    model="Links",
    measures="Bytes received per second on each link.",
    read=lambda: Links(received=dict(RECEIVED)),
    serializer=serializer_for(Links),
    inline=True,
    history=History(keyed=(Keyed(values=lambda links: links.received, unit="BYTE", suffix="rxBytesPerSecond"),)),
)
RECEIVED: dict[str, float] = {}


def test_series_found_at_run_time_get_columns_of_their_own_and_stay_in_the_history(client, monkeypatch):
    from endrpi_project.history import sampler as sampler_module

    # Two samples 10 s apart, in one ten-minute block (so in one bucket of any answer below).
    times = iter([1_795_000_020_000, 1_795_000_030_000])
    monkeypatch.setattr(sampler_module, "_now_ms", lambda: next(times))
    sampler = Sampler(store=HistoryStore(retention_ms=86_400_000 * 365 * 10), interval=10, flush_interval=60)
    with readings_declared([*declarations.READINGS, LINKS]):
        RECEIVED.update({"eth0": 1000.0, "wlan-1": 10.0})
        [sample] = [data for _, action, data in sampler._tick(True, True) if action == HISTORY_UPDATED]
        assert sample["links"] == {"eth0.rxBytesPerSecond": 1000.0, "wlan-1.rxBytesPerSecond": 10.0}
        RECEIVED.clear()
        RECEIVED["eth0"] = 3000.0  # wlan-1 has gone
        sampler._tick(True, True)
        answer = sampler.store.history(readings=["links"], since=0, until=2**42, points=2)
        assert answer["readings"]["links"]["eth0.rxBytesPerSecond"]["mean"] == [2000.0]
        assert answer["readings"]["links"]["eth0.rxBytesPerSecond"]["unitOfMeasurement"] == "BYTE"
        assert answer["readings"]["links"]["wlan-1.rxBytesPerSecond"]["max"] == [10.0]
        response = client.get(
            "/system/history?readings=links,temperature&since=2026-11-18T00:00:00Z&until=2026-11-19T00:00:00Z&points=2",
            HTTP_ACCEPT="application/json",
        )
        assert response.json()["readings"]["links"]["wlan-1.rxBytesPerSecond"]["mean"] == [10.0]
        assert response.json()["readings"]["temperature"]["systemOnChip"]["mean"] == [48.312]


def test_home_assistant_entities_found_at_run_time_are_announced_from_the_published_state():
    from dataclasses import replace

    from endrpi_project.mqtt.bridge import _found_ids

    def per_link(section):
        return [
            HomeAssistantEntity(
                object_id=f"link_{name}_received",
                name=f"{name} received",
                value_template=state_value("links", f"received['{name}']"),
                device_class="data_rate",
                unit="B/s",
                state_class="measurement",
            )
            for name in section["received"]
        ]

    found = replace(LINKS, home_assistant_found=per_link)
    device = discovery.Device("pi1", "pi1", None, "1.0.0", "http://pi1:5000/")
    with readings_declared([*declarations.READINGS, found]):
        state = {"links": {"received": {"eth0": 5.0}}}
        entities = {entity.object_id: entity for entity in discovery.reading_entities(device, NodeTopics("pi1"), state)}
        assert entities["link_eth0_received"].config["unit_of_measurement"] == "B/s"
        assert "link_eth0_received" not in {e.object_id for e in discovery.reading_entities(device, NodeTopics("pi1"))}
        assert {object_id for object_id, _ in _found_ids(state)} == {"link_eth0_received"}
        assert {object_id for object_id, _ in _found_ids({"links": {"received": {"eth0": 1.0, "wlan0": 2.0}}})} == {
            "link_eth0_received",
            "link_wlan0_received",
        }
