"""Registration's use cases over the in-memory store: no Kafka, no database."""

from __future__ import annotations

import pytest
from registration_memory import MemoryStore


@pytest.fixture
def store() -> MemoryStore:
    """Tuyên Quang's host units and endpoints the unit tests register meetings with."""
    return MemoryStore(
        units={"VP-UBND": True, "SYT": True},
        endpoints={"TQ-UBND": True, "TQ-STTTT": True, "TQ-SYT": True},
    )
