from __future__ import annotations

import csv
import io

import pytest

from endrpi_project.history import services
from endrpi_project.history.simulation import simulated_samples
from endrpi_project.history.store import Event

pytestmark = pytest.mark.django_db

NOW_ISH = "2026-11-29T12:00:00Z"


@pytest.fixture
def filled():
    """An hour of samples ending at 12:00, and an under-voltage event at 11:30."""
    store = services.history_sampler().store
    start = 1_795_950_000_000  # 2026-11-29T11:00:00Z
    for row in simulated_samples(start=start, count=360, interval_ms=10_000):
        store.add_sample(row)
    store.add_events([Event("underVoltage", start=start + 1_800_000, end=start + 1_804_000)])
    store.flush(now=start + 3_600_000)
    return start


def get(client, path, **headers):
    return client.get(path, HTTP_ACCEPT=headers.pop("accept", "application/json"), **headers)


def test_history_answers_buckets_of_each_reading(client, filled):
    response = get(client, "/system/history?readings=temperature,frequency&since=2026-11-29T11:00:00Z&until=" + NOW_ISH)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"since", "until", "bucketSeconds", "time", "count", "readings"}
    assert body["since"] == "2026-11-29T11:00:00.000Z"
    assert body["until"] == "2026-11-29T12:00:00.000Z"
    assert set(body["readings"]) == {"temperature", "frequency"}
    assert set(body["readings"]["frequency"]) == {"arm", "core"}
    temperature = body["readings"]["temperature"]["systemOnChip"]
    assert temperature["unitOfMeasurement"] == "CELSIUS"
    assert temperature["prefix"] is None
    assert len(body["time"]) == len(body["count"]) == len(temperature["mean"]) <= 500
    assert sum(body["count"]) == 360


def test_points_bounds_the_number_of_buckets(client, filled):
    body = get(client, "/system/history?since=2026-11-29T11:00:00Z&until=2026-11-29T12:00:00Z&points=10").json()
    assert len(body["time"]) <= 10
    assert body["bucketSeconds"] == 420.0
    # Every kept reading with a series (the network's are per interface: none seen in this history).
    assert {"temperature", "frequency", "memory", "cpu", "storage", "throttle"} <= set(body["readings"])
    assert body["readings"]["memory"]["available"]["prefix"] == "KILO"
    assert len(body["readings"]["throttle"]) == 8


def test_history_defaults_to_the_last_day(client):
    body = get(client, "/system/history").json()
    assert body["time"] == []
    assert body["count"] == []


@pytest.mark.parametrize("ask", ["?format=csv", ""])
def test_history_downloads_as_csv(client, filled, ask):
    query = "/system/history?readings=temperature&since=2026-11-29T11:00:00Z&until=2026-11-29T12:00:00Z&points=7"
    response = get(client, query + ask.replace("?", "&"), accept="text/csv" if not ask else "*/*")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == [
        "time",
        "count",
        "temperature.systemOnChip.min",
        "temperature.systemOnChip.mean",
        "temperature.systemOnChip.max",
    ]
    assert len(rows) - 1 <= 7
    assert sum(int(row[1]) for row in rows[1:]) == 360


def test_an_error_asked_for_as_csv_is_still_a_json_message(client):
    response = get(client, "/system/history?format=csv&points=1", accept="*/*")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"message": "points: Ensure this value is greater than or equal to 2."}


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("readings=temperature,fan", 'readings: Unknown reading "fan"; readings are temperature, frequency, memory'),
        ("readings=", "readings: Name at least one reading"),
        ("since=yesterday", "since: 'yesterday' is not a time: use an ISO 8601 time"),
        ("until=-3x", "until: '-3x' is not a time"),
        ("points=0", "points: Ensure this value is greater than or equal to 2."),
        ("points=100000", "points: Ensure this value is less than or equal to 10000."),
        ("points=many", "points: A valid integer is required."),
        ("since=2026-02-30", "since: '2026-02-30' is not a time: day is out of range for month"),
        ("since=-99999999w", "since: '-99999999w' is too far from now"),
        ("since=NOW", "since: 'NOW' is not a time"),
        ("until=2026-11-29 12:00", "until: '2026-11-29 12:00' is not a time"),
    ],
)
def test_every_bad_param_gets_a_400_that_names_it(client, query, message):
    response = get(client, f"/system/history?{query}")
    assert response.status_code == 400
    assert response.json()["message"].startswith(message)


def test_events_lists_events_with_start_end_and_duration(client, filled):
    response = get(client, "/system/events?since=2026-11-29T11:00:00Z")
    assert response.status_code == 200
    body = response.json()
    assert body["since"] == "2026-11-29T11:00:00.000Z"
    assert body["events"] == [
        {
            "condition": "underVoltage",
            "start": "2026-11-29T11:30:00.000Z",
            "end": "2026-11-29T11:30:04.000Z",
            "durationSeconds": 4.0,
            "observed": True,
        }
    ]
    assert get(client, "/system/events?since=2026-11-29T11:31:00Z").json()["events"] == []


def test_events_by_default_cover_the_whole_retention(client, filled):
    assert len(get(client, "/system/events").json()["events"]) == 1


def test_a_bad_events_param_gets_a_400(client):
    response = get(client, "/system/events?since=soon")
    assert response.status_code == 400
    assert response.json()["message"].startswith("since: 'soon' is not a time")


@pytest.mark.parametrize("asked", ["xml", ""])
def test_an_unknown_format_is_a_400_naming_the_formats(client, asked):
    response = get(client, f"/system/history?format={asked}", accept="*/*")
    assert response.status_code == 400
    assert response.json() == {"message": f"format: {asked!r} is not a format; formats are json, api, csv"}


def test_history_and_events_answer_without_a_trailing_slash_and_with_one(client):
    assert get(client, "/system/history/").status_code == 200
    assert get(client, "/system/events/").status_code == 200


def test_a_range_that_ends_before_it_starts_is_empty(client, filled):
    body = get(client, "/system/history?since=2026-11-29T12:00:00Z&until=2026-11-29T11:00:00Z").json()
    assert body["time"] == []
    assert body["until"] == "2026-11-29T11:00:00.000Z"
    events = get(client, "/system/events?since=2026-11-29T12:00:00Z&until=2026-11-29T11:00:00Z").json()
    assert events["events"] == []


@pytest.mark.parametrize(
    "query", ["since=0001-01-01&until=9999-12-31T23:59:59Z", "since=1970-01-01&points=10000", "since=-520w"]
)
def test_the_widest_ranges_answer(client, filled, query):
    response = get(client, f"/system/history?{query}")
    assert response.status_code == 200, response.json()
    assert sum(response.json()["count"]) == 360
