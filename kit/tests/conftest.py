from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from hnth_contracts import MeetingCancelled, Topics
from hnth_kit.kafka import Producer
from hnth_kit.mongo import Document, connect
from pymongo.asynchronous.database import AsyncDatabase


@pytest.fixture
async def db(infra, unique) -> AsyncIterator[AsyncDatabase[Document]]:
    client = connect(infra.mongodb_url)
    database = client[f"kit_{unique}"]
    yield database
    await client.drop_database(database.name)
    await client.close()


@pytest.fixture
async def producer(infra) -> AsyncIterator[Producer]:
    p = Producer(infra.bootstrap_servers, client_id="kit-test")
    await p.start()
    yield p
    await p.stop()


@pytest.fixture
def topics(unique) -> Topics:
    return Topics(prefix=f"t{unique}.")


def cancelled(meeting_id: str, n: int = 0) -> MeetingCancelled:
    return MeetingCancelled.create(
        tenant="tuyen-quang",
        correlation_id=meeting_id,
        producer="kit-test",
        meeting_id=meeting_id,
        reason=f"reason {n}",
        occurred_at=datetime(2026, 11, 23, tzinfo=UTC) + timedelta(seconds=n),
    )
