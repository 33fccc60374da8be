"""Inspection test fixtures: the service in-process on the real broker and database,
with a ManualClock, a producer for the events other services would publish."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path

import httpx
import pytest

from hnth_kit.testing import TEST_JWKS

# the test modules import their samples from this folder (no __init__.py in test folders)
sys.path.insert(0, str(Path(__file__).parent))

from inspection_samples import T0

from hnth_contracts import Event, Topics, key_of
from hnth_kit.clock import ManualClock
from hnth_kit.kafka import OutMessage, Producer
from hnth_kit.mongo import connect
from hnth_kit.service import Service
from inspection.app import InspectionSettings, build


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def topics(unique: str) -> Topics:
    return Topics(prefix=f"t{unique}.")


@pytest.fixture
async def services(infra, unique, clock) -> AsyncIterator[Callable[[], Awaitable[Service]]]:
    """Start replicas of the service (same database, topics and consumer group)."""
    started: list[Service] = []

    async def start(poll: float = 0.05) -> Service:
        settings = InspectionSettings(
            kafka_bootstrap_servers=infra.bootstrap_servers,
            mongodb_url=infra.mongodb_url,
            database=f"inspection_{unique}",
            consumer_group=f"inspection-{unique}",
            topic_prefix=f"t{unique}.",
            auth_jwks=TEST_JWKS,
            outbox_poll_seconds=poll,
            timer_poll_seconds=poll,
        )
        service = build(settings, clock=clock)
        await service.start()
        started.append(service)
        return service

    yield start
    for service in started:
        await service.stop()
    client = connect(infra.mongodb_url)
    await client.drop_database(f"inspection_{unique}")
    await client.close()


@pytest.fixture
async def service(services) -> Service:
    return await services()


@pytest.fixture
async def http(service) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=service.api)
    async with httpx.AsyncClient(transport=transport, base_url="http://inspection") as client:
        yield client


@pytest.fixture
async def publish(infra) -> AsyncIterator[Callable[[Sequence[Event], Topics], Awaitable[None]]]:
    producer = Producer(infra.bootstrap_servers, client_id="inspection-test")
    await producer.start()

    async def send(events: Sequence[Event], topics: Topics) -> None:
        await producer.send(
            [OutMessage(topic=topics.of(e), key=key_of(e), value=e.to_json()) for e in events]
        )

    yield send
    await producer.stop()
