"""Property-based fuzzing of the REST API, in the manner of schemathesis, from a description of it.

``OPERATIONS`` describes every route as ``/api/schema`` does (method, path, parameters, body); hypothesis
sends each of them, and every other method, with valid and hostile path parameters, bodies, content
types, Accept and Authorization headers, in each ``ENDRPI_AUTH`` mode, with readings working or
failing. The properties: never a 5xx, except the documented 500 of a failed reading on a ``/system``
route; every JSON error is a ``Message``; no request leaves a pin changed unless it answered 200.

schemathesis (``test_schemathesis.py``) checks the published schema; this adds what a schema does
not describe: every ``ENDRPI_AUTH`` mode and token, failing readings, other methods, content types
and bodies that are not JSON.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.test import Client, override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from endrpi_project.access.tokens import access_token_create

pytestmark = pytest.mark.slow  # long fuzzing run

READINGS = ["platform", "temperature", "throttle", "uptime", "frequency", "memory", "cpu", "storage", "network"]


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # "{pin_id}" is filled in from the generated path parameter
    body: bool = False


OPERATIONS = [
    Operation("GET", "/system"),
    *(Operation("GET", f"/system/{reading}") for reading in READINGS),
    Operation("GET", "/pins"),
    Operation("GET", "/pins/{pin_id}"),
    Operation("PUT", "/pins/{pin_id}", body=True),
]

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10)
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
)
pin_configurations = st.fixed_dictionaries(
    {},
    optional={
        "io": st.sampled_from(["INPUT", "OUTPUT", "BOTH", 0, None]),
        "state": st.sampled_from([0, 1, 0.25, 1.5, -0.1, True, "1", None]),
        "pull": st.sampled_from(["UP", "DOWN", "FLOATING", "NONE", 1, None]),
    },
)
bodies = st.one_of(
    pin_configurations.map(lambda body: json.dumps(body).encode()),
    json_values.map(lambda body: json.dumps(body).encode()),
    st.binary(max_size=64),
    st.just(b""),
    st.just(b'{"io": "OUTPUT", "state": NaN}'),
)
pin_ids = st.sampled_from(
    ["GPIO17", "gpio17", "BCM4", "BOARD11", "J8:11", "WPI0", "27", "GPIO1", "GPIO28", "0"]
) | st.text(min_size=1, max_size=12)
content_types = st.sampled_from(
    ["application/json", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "a/b;;"]
)
accepts = st.sampled_from(["application/json", "*/*", "text/html", "application/xml", ""])
methods = st.sampled_from(["GET", "PUT", "POST", "DELETE", "PATCH", "OPTIONS", "HEAD"])


@pytest.fixture
def secrets() -> dict[str, str]:
    return {scope: access_token_create(name=f"fuzz-{scope}", scope=scope)[1] for scope in ("read", "read-write")}


@pytest.mark.django_db
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    operation=st.sampled_from(OPERATIONS),
    method=st.none() | methods,
    pin_id=pin_ids,
    body=bodies,
    content_type=content_types,
    accept=accepts,
    mode=st.sampled_from(["off", "write", "all"]),
    credential=st.sampled_from([None, "read", "read-write", "bogus", "malformed"]),
    broken=st.booleans(),
    slash=st.booleans(),
)
def test_rest_never_answers_5xx_except_a_documented_failed_reading(
    secrets, tmp_path, operation, method, pin_id, body, content_type, accept, mode, credential, broken, slash
):
    method = method or operation.method
    path = operation.path.replace("{pin_id}", quote(pin_id, safe="")) + ("/" if slash else "")
    headers: dict[str, Any] = {"HTTP_ACCEPT": accept} if accept else {}
    if credential in secrets:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {secrets[credential]}"
    elif credential == "bogus":
        headers["HTTP_AUTHORIZATION"] = "Bearer endrpi_not-a-token"
    elif credential == "malformed":
        headers["HTTP_AUTHORIZATION"] = "Token a b c"
    broken_settings: dict[str, Any] = (
        {"ENDRPI_HOST_ROOT": Path(tmp_path) / "empty", "ENDRPI_VCGENCMD": str(Path(tmp_path) / "missing")}
        if broken
        else {}
    )
    client = Client()
    with override_settings(ENDRPI_AUTH=mode, **broken_settings):
        before = client.get("/pins", HTTP_AUTHORIZATION=f"Bearer {secrets['read']}").json()
        response = client.generic(method, path, body if method not in ("GET", "HEAD") else b"", content_type, **headers)
        after = client.get("/pins", HTTP_AUTHORIZATION=f"Bearer {secrets['read']}").json()

    reading = method in ("GET", "HEAD") and operation.path.startswith("/system")
    if response.status_code >= 500:
        assert broken, f"{method} {path} answered {response.status_code} with working readings"
        assert reading, f"{method} {path} answered {response.status_code}"
        if method == "HEAD":
            assert response.content == b""
        elif response["Content-Type"] == "application/json":
            assert response.json()["message"].startswith("Failed"), response.content
        else:  # the browsable API's page for Accept: text/html shows the same Message
            assert b"Failed" in response.content
    if response.status_code >= 400 and response["Content-Type"] == "application/json" and method != "HEAD":
        # Exactly a Message, a failed reading's too: its plain sentence is on the browsable API's page only.
        assert set(response.json()) == {"message"}, response.content
        assert response.json()["message"]
    if response.status_code != 200:
        assert after == before, f"{method} {path} answered {response.status_code} but changed pins"
