"""Two first requests for the OpenAPI schema at once both get it (drf-spectacular's lazy loading of its
extensions is not thread-safe; endrpi_project.api.schema.SchemaView generates one at a time)."""

from __future__ import annotations

import concurrent.futures
import urllib.error
import urllib.request

import pytest

from endrpi_project.testing.live import live_server

pytestmark = pytest.mark.slow


def test_concurrent_first_schema_requests_all_succeed(tmp_path):
    with live_server(tmp_path / "data") as server:

        def fetch(_: int) -> int:
            request = urllib.request.Request(f"{server.http_url}/api/schema?format=json")
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    return int(response.status)
            except urllib.error.HTTPError as error:
                return int(error.code)

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            assert list(pool.map(fetch, range(8))) == [200] * 8
