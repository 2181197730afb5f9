from __future__ import annotations

from collections.abc import Iterator

import pytest

from endrpi_project.history import services
from endrpi_project.history.store import HistoryStore

DAY_MS = 86_400_000
START = 1_795_000_000_000


@pytest.fixture(autouse=True)
def fresh_sampler() -> Iterator[None]:
    """Each test builds the history sampler from its own settings, and none outlives it."""
    services._sampler = None
    yield
    services._sampler = None


@pytest.fixture
def store() -> HistoryStore:
    return HistoryStore(retention_ms=30 * DAY_MS)
