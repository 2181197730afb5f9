"""Property-based fuzzing of the WebSocket through the real ASGI application.

Whatever a client sends (arbitrary JSON values, messages shaped like requests with hostile params,
text that is not JSON, NaN and huge numbers, deep nesting, any unicode), every frame gets exactly one
envelope back, in order, and the connection stays open.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from endrpi_project.access.tokens import access_token_create
from endrpi_project.asgi import application
from endrpi_project.websocket.registry import action_table

# The consumer reads pin settings from the database (and closes old connections around it), as
# in the core WebSocket tests.
pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**400), max_value=10**400)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5),
    max_leaves=20,
)
pin_names = st.sampled_from(["GPIO17", "BCM4", "BOARD11", "J8:11", "WPI0", "27", "GPIO0", "GPIO99", "", "ÿ"]) | st.text(
    max_size=8
)
pin_configurations = st.fixed_dictionaries(
    {},
    optional={
        "io": st.sampled_from(["INPUT", "OUTPUT", "input", 1, None]),
        "state": st.sampled_from([0, 1, 0.5, -1, 2, True, "1", None]) | st.floats(allow_nan=True),
        "pull": st.sampled_from(["UP", "DOWN", "FLOATING", "SIDEWAYS", None]),
    },
)
params = (
    json_values
    | st.fixed_dictionaries({"pins": st.lists(pin_names, max_size=30) | json_values})
    | st.fixed_dictionaries({"pins": st.dictionaries(pin_names, pin_configurations | json_values, max_size=30)})
)
action_names = st.sampled_from(sorted(action_table())) | st.text(max_size=20) | json_values
requests = st.fixed_dictionaries(
    {"action": action_names}, optional={"params": params, "id": json_values, "extra": json_values}
).map(lambda message: json.dumps(message))
nesting = st.integers(min_value=1, max_value=5000).flatmap(
    lambda depth: st.sampled_from(["[" * depth + "]" * depth, '{"a":' * depth + "1" + "}" * depth, "[" * depth])
)
frames = st.one_of(
    json_values.map(json.dumps),
    requests,
    st.text(max_size=200),
    nesting,
    st.sampled_from(["NaN", "-Infinity", "1e999", "9" * 5000, '{"action": "READ_UPTIME"', "\ud800", "null", '""']),
    st.binary(max_size=64),
)


async def exchange(sent: list[str | bytes], path: str = "/") -> list[Any]:
    communicator = WebsocketCommunicator(application, path)
    connected, _ = await communicator.connect()
    assert connected
    for frame in sent:  # send_input, not send_to, so that empty frames go through too
        key = "bytes" if isinstance(frame, bytes) else "text"
        await communicator.send_input({"type": "websocket.receive", key: frame})
    replies = [await communicator.receive_json_from(timeout=5) for _ in sent]
    assert await communicator.receive_nothing(timeout=0.02)  # exactly one reply each, and not closed
    await communicator.send_json_to({"action": "READ_UPTIME", "id": "still-open"})
    assert (await communicator.receive_json_from(timeout=5))["id"] == "still-open"
    await communicator.disconnect()
    return replies


def check(replies: list[Any]) -> None:
    for reply in replies:
        assert set(reply) <= {"action", "success", "data", "error", "id"}
        assert {"action", "success", "data", "error"} <= set(reply)
        assert reply["action"] is None or reply["action"] in action_table()
        if reply["success"]:
            assert reply["error"] is None
        else:
            assert reply["data"] is None
            assert isinstance(reply["error"], str)
            assert reply["error"]
            assert "Traceback" not in reply["error"]
            assert reply["error"] != "Internal server error"


@hypothesis_settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sent=st.lists(frames, min_size=1, max_size=12))
def test_every_frame_gets_exactly_one_envelope_and_the_connection_stays_open(sent):
    check(asyncio.run(exchange(sent)))


@pytest.fixture
def read_write_token(transactional_db) -> str:
    return access_token_create(name="fuzz", scope="read-write")[1]


@pytest.mark.parametrize("mode", ["write", "all"])
@hypothesis_settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sent=st.lists(frames, min_size=1, max_size=12))
def test_with_tokens_required_every_frame_still_gets_exactly_one_envelope(settings, read_write_token, mode, sent):
    settings.ENDRPI_AUTH = mode
    check(asyncio.run(exchange(sent, f"/?token={read_write_token}")))
