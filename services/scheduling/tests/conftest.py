"""Fixtures for scheduling's tests: the policy, a database and topics of the test's own,
and a scheduler driven by a manual clock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase
from scheduling_samples import NOW, settings_for, tuyen_quang

from hnth_contracts import Topics
from hnth_contracts.policy import Policy
from hnth_kit.clock import ManualClock
from hnth_kit.kafka import Producer
from hnth_kit.mongo import Document
from hnth_kit.service import Service
from hnth_kit.timers import Timers
from scheduling.app import build
from scheduling.store import SchedulingStore
from scheduling.usecases import Scheduling


@pytest.fixture(scope="session")
def policy() -> Policy:
    return tuyen_quang()


@pytest.fixture
def db(database, unique) -> AsyncDatabase[Document]:
    return database(f"scheduling_{unique}")


@pytest.fixture
def topics(unique) -> Topics:
    return Topics(prefix=f"t{unique}.")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def make_scheduler(db, topics, clock, policy) -> Callable[..., Scheduling]:
    def make(province: Policy | None = None) -> Scheduling:
        chosen = province or policy
        return Scheduling(
            SchedulingStore(db, topics), lambda _: chosen, clock, Timers(db, clock, topics)
        )

    return make


@pytest.fixture
async def service(infra, unique, clock, db) -> AsyncIterator[Service]:
    running = build(settings_for(infra, unique), clock=clock)
    await running.start()
    yield running
    await running.stop()


@pytest.fixture
async def make_service(infra, unique, clock, db) -> AsyncIterator[Callable[..., Any]]:
    """Start the service with settings of the test's own (e.g. a `policy_dir`)."""
    started: list[Service] = []

    async def start(**settings: Any) -> Service:
        running = build(settings_for(infra, unique, **settings), clock=clock)
        await running.start()
        started.append(running)
        return running

    yield start
    for running in started:
        await running.stop()


@pytest.fixture
async def producer(infra) -> AsyncIterator[Producer]:
    p = Producer(infra.bootstrap_servers, client_id="scheduling-test")
    await p.start()
    yield p
    await p.stop()
