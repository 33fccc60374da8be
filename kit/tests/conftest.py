from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from hnth_contracts import Topics
from hnth_kit.kafka import Producer
from hnth_kit.mongo import Document


@pytest.fixture
def db(database, unique) -> AsyncDatabase[Document]:
    return database(f"kit_{unique}")


@pytest.fixture
async def producer(infra) -> AsyncIterator[Producer]:
    p = Producer(infra.bootstrap_servers, client_id="kit-test")
    await p.start()
    yield p
    await p.stop()


@pytest.fixture
def topics(unique) -> Topics:
    return Topics(prefix=f"t{unique}.")
