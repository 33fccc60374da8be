"""Helpers for tests against the real broker and database (used by every service's tests)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiokafka import AIOKafkaConsumer, TopicPartition

from hnth_kit.consumer import RawMessage

T = TypeVar("T")


async def read_topic(
    bootstrap_servers: str, topic: str, *, expect: int, timeout: float = 20.0
) -> list[RawMessage]:
    """Read a topic from the beginning until `expect` messages arrived or `timeout` passed."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        partitions = await _partitions(consumer, topic, timeout)
        consumer.assign([TopicPartition(topic, p) for p in partitions])
        await consumer.seek_to_beginning()
        found: list[RawMessage] = []
        deadline = time.monotonic() + timeout
        while len(found) < expect and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            for records in batch.values():
                found.extend(
                    RawMessage(
                        topic=r.topic,
                        partition=r.partition,
                        offset=r.offset,
                        key=r.key,
                        value=r.value or b"",
                        headers=tuple(r.headers),
                    )
                    for r in records
                )
        return found
    finally:
        await consumer.stop()


async def _partitions(consumer: AIOKafkaConsumer, topic: str, timeout: float) -> set[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        partitions = consumer.partitions_for_topic(topic)
        if partitions:
            return set(partitions)
        await consumer._client.force_metadata_update()  # the topic may be brand new
        await asyncio.sleep(0.2)
    raise TimeoutError(f"topic {topic} never appeared")


async def eventually(
    probe: Callable[[], Awaitable[T]], *, until: Callable[[T], bool], timeout: float = 20.0
) -> T:
    """Poll `probe` until its value satisfies `until`; returns the last value or raises."""
    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if until(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s; last value: {value!r}")
        await asyncio.sleep(0.1)


def headers_of(message: RawMessage) -> dict[str, str]:
    return {k: v.decode() for k, v in message.headers}
