"""A reading that cannot be taken says so in one plain sentence (``summary``) beside its technical message:
the service's typed error, the WebSocket envelope and the browsable API's page; a REST JSON body stays
exactly the contract's Message."""

from __future__ import annotations

import pytest

from endrpi_project.api.errors import ReadingFailed
from endrpi_project.readings.registry import failure_summary
from system import services
from tests.helpers import websocket

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("error", "sentence"),
    [
        (
            FileNotFoundError(2, "No such file or directory"),
            "Temperature unavailable: this machine has no SoC thermal sensor",
        ),
        (
            PermissionError(13, "Permission denied"),
            "Temperature unavailable: the server is not allowed to read its SoC thermal sensor",
        ),
        (
            ValueError("not a number"),
            "Temperature unavailable: its SoC thermal sensor answered something the server does not understand",
        ),
        (TimeoutError(), "Temperature unavailable: its SoC thermal sensor did not answer in time"),
        (OSError(5, "Input/output error"), "Temperature unavailable: its SoC thermal sensor could not be read"),
    ],
)
def test_the_plain_sentence_follows_the_errors_type(error, sentence):
    assert failure_summary("Temperature", "SoC thermal sensor", error) == sentence


def test_a_reading_that_names_no_source_still_reads_plainly():
    sentence = failure_summary("Network", None, FileNotFoundError(2, "No such file or directory"))
    assert sentence == "Network unavailable: this machine does not have what it is read from"


def test_a_missing_thermal_zone_is_a_machine_without_the_sensor_and_the_detail_stays_in_the_message(host_root):
    host_root.remove("sys/class/thermal/thermal_zone0/temp")
    with pytest.raises(ReadingFailed) as failed:
        services.temperature_read()
    assert failed.value.summary == "Temperature unavailable: this machine has no SoC thermal sensor"
    assert failed.value.message == "Failed to query system on chip temperature: No such file or directory"


def test_no_firmware_is_said_plainly_without_its_sources_list(vcgencmd, settings, tmp_path):
    settings.ENDRPI_VCGENCMD = str(tmp_path / "nowhere" / "vcgencmd")
    with pytest.raises(ReadingFailed) as failed:
        services.throttle_read()
    summary = failed.value.summary or ""
    assert summary.startswith("Power and throttling unavailable: no Raspberry Pi firmware answered")
    assert "/" not in summary.split("(")[0]  # no device path in the sentence itself
    assert "vcgencmd" in failed.value.message  # the detail is kept for whoever unfolds it


def test_rest_json_stays_exactly_a_message_without_the_sentence(client, host_root):
    """The contract's Message is ``{"message": string}``: the sentence is for pages, not for REST clients."""
    host_root.remove("sys/class/thermal/thermal_zone0/temp")
    response = client.get("/system/temperature", HTTP_ACCEPT="application/json")
    assert response.status_code == 500
    assert response.json() == {"message": "Failed to query system on chip temperature: No such file or directory"}


def test_the_browsable_api_leads_with_the_sentence_and_folds_the_message_away(client, host_root):
    host_root.remove("sys/class/thermal/thermal_zone0/temp")
    response = client.get("/system/temperature", HTTP_ACCEPT="text/html")
    assert response.status_code == 500
    page = response.content.decode()
    failure = page[page.index('<div class="endrpi-failure"') :]
    failure = failure[: failure.index("</div>")]
    assert (
        '<p class="endrpi-failure-summary">Temperature unavailable: this machine has no SoC thermal sensor</p>'
        in failure
    )
    assert (
        '<details class="endrpi-failure-detail"><summary>Technical detail</summary>'
        "<code>Failed to query system on chip temperature: No such file or directory</code></details>"
    ) in failure


def test_the_browsable_api_shows_no_sentence_for_an_error_without_one(client):
    response = client.get("/pins/GPIO99", HTTP_ACCEPT="text/html")
    assert response.status_code == 404
    assert "endrpi-failure" not in response.content.decode()


def test_an_error_with_no_plain_sentence_stays_a_plain_message(client):
    response = client.get("/pins/GPIO99", HTTP_ACCEPT="application/json")
    assert set(response.json()) == {"message"}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("sent_id", [False, True])
async def test_a_websocket_reply_by_default_has_exactly_the_contracts_keys(host_root, sent_id):
    # The contract: replies "will always be wrapped in" {action, success, data, error}; the id is the
    # client's own, echoed only when sent. No "summary" unless the connection asked for it.
    host_root.remove("sys/class/thermal/thermal_zone0/temp")
    async with websocket() as client:
        reply = await client.request("READ_TEMPERATURE", **({"id": 7} if sent_id else {}))
    assert set(reply) == {"action", "success", "data", "error"} | ({"id"} if sent_id else set())
    assert reply["success"] is False
    assert reply["error"] == "Failed to query system on chip temperature: No such file or directory"


@pytest.mark.django_db(transaction=True)
async def test_a_websocket_reply_carries_the_same_sentence_where_the_connection_asked(host_root):
    host_root.remove("sys/class/thermal/thermal_zone0/temp")
    async with websocket("/?summaries=1") as client:
        reply = await client.request("READ_TEMPERATURE")
    assert reply["success"] is False
    assert reply["error"] == "Failed to query system on chip temperature: No such file or directory"
    assert reply["summary"] == "Temperature unavailable: this machine has no SoC thermal sensor"
