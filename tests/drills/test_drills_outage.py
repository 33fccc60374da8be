"""Drills that stop the broker or the database mid-burst. They need components they may stop,
so they run on a native stack of their own (never on a shared or externally given one)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from hnth_kit.kafka_access import KafkaAccess
from infra import stack

pytestmark = pytest.mark.system


@dataclass(frozen=True)
class OwnInfra:
    bootstrap_servers: str
    mongodb_url: str
    state: stack.StackState

    @property
    def kafka(self) -> KafkaAccess:
        return self.state.kafka_admin


@pytest.fixture(scope="module")
def infra(tmp_path_factory) -> Iterator[OwnInfra]:
    run_dir = tmp_path_factory.mktemp("outage-stack")
    state = stack.up(run_dir, sasl=True)
    try:
        yield OwnInfra(state.bootstrap_servers, state.mongodb_url, state)
    finally:
        stack.down(run_dir)


async def _outage(platform, drill, infra, component: str) -> None:
    requests = drill.burst()
    await drill.publish(requests[: len(requests) // 2])
    await asyncio.sleep(2)
    await asyncio.to_thread(stack.stop_component, infra.state, component)
    await asyncio.sleep(5)  # the services keep running, retrying, while it is down
    await asyncio.to_thread(stack.start_component, infra.state, component)
    await drill.publish(requests[len(requests) // 2 :])
    await drill.quiesce(timeout=300)
    await drill.check()


async def test_drill_broker_stopped_and_restarted(platform, drill, infra) -> None:
    await _outage(platform, drill, infra, "kafka")


async def test_drill_database_stopped_and_restarted(platform, drill, infra) -> None:
    await _outage(platform, drill, infra, "ferretdb")
