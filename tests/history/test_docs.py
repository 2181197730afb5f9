"""The history in the OpenAPI schema and on the WebSocket API page."""

from __future__ import annotations

import pytest
import yaml

pytestmark = pytest.mark.django_db


def test_the_schema_describes_the_history_routes_their_params_and_csv(client):
    schema = yaml.safe_load(client.get("/api/schema").content)
    history = schema["paths"]["/system/history"]["get"]
    assert {param["name"] for param in history["parameters"]} >= {"readings", "since", "until", "points", "format"}
    assert set(history["responses"]["200"]["content"]) == {"application/json", "text/csv", "text/html"}
    assert set(history["responses"]) == {"200", "400", "500"}
    events = schema["paths"]["/system/events"]["get"]
    assert {param["name"] for param in events["parameters"]} == {"since", "until"}
    metrics = schema["paths"]["/metrics"]["get"]
    assert set(metrics["responses"]["200"]["content"]) == {"text/plain"}


def test_the_websocket_page_documents_the_history_actions_and_topics(client):
    page = client.get("/docs/websocket").content.decode()
    for name in ("READ_HISTORY", "READ_EVENTS", "points", "&quot;HISTORY&quot;", "&quot;EVENTS&quot;"):
        assert name in page
