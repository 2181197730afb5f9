"""schemathesis against the OpenAPI schema the server publishes at /api/schema.

Every operation, with data generated from the schema and data that breaks it, goes through the real
Django application:
no 5xx (the fixtures make every reading work, so a 500 would be a bug) and every response matches
the schema. (schemathesis's pytest plugin does not run on pytest 9 yet, so hypothesis draws the cases.)
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.core.result import Ok

pytestmark = [pytest.mark.slow, pytest.mark.django_db]


@pytest.fixture
def operations() -> list[Any]:
    schema = schemathesis.openapi.from_wsgi("/api/schema?format=json", get_wsgi_application())
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result.err()  # every operation in the schema can be tested
        operations.append(result.ok())
    assert len(operations) >= 10
    return operations


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_the_api_keeps_to_its_published_schema(operations, data):
    operation = data.draw(st.sampled_from(operations), label="operation")
    mode = data.draw(st.sampled_from(list(GenerationMode)), label="mode")
    case = data.draw(operation.as_strategy(generation_mode=mode), label="case")
    case.call_and_validate()
