"""Dead letters for people: list what is in the `.dlq` topics, and replay one.

A dead letter keeps the original key, bytes and headers naming why (reason, error,
service, original topic/partition/offset). Replaying publishes the original bytes with
the original key to the original topic, with `hnth-replayed-from` naming the dead letter:
every consumer sees it again, and idempotent handlers make that safe.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from hnth_contracts import dead_letter
from hnth_kit.kafka import OutMessage, Producer


@dataclass(frozen=True)
class DeadLetter:
    topic: str
    partition: int
    offset: int
    key: bytes
    value: bytes
    headers: dict[str, str]

    @property
    def ref(self) -> str:
        """`<dlq topic>:<partition>:<offset>`, the handle `replay` takes."""
        return f"{self.topic}:{self.partition}:{self.offset}"

    @property
    def reason(self) -> str:
        return self.headers.get("hnth-dlq-reason", "?")

    @property
    def original_topic(self) -> str:
        return self.headers.get("hnth-original-topic", self.topic.removesuffix(".dlq"))


async def dead_letter_topics(bootstrap: str, prefix: str = "") -> list[str]:
    """Every `.dlq` topic under `prefix`."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        names = await admin.list_topics()
    finally:
        await admin.close()
    return sorted(n for n in names if n.startswith(prefix) and n.endswith(dead_letter("")))


async def read_dead_letters(
    bootstrap: str, topics: list[str], *, timeout: float = 5.0
) -> list[DeadLetter]:
    """Everything currently in `topics`, read from the beginning up to their end."""
    if not topics:
        return []
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()  # learn the partitions of every topic
        partitions = [
            TopicPartition(t, p) for t in topics for p in consumer.partitions_for_topic(t) or ()
        ]
        if not partitions:
            return []
        consumer.assign(partitions)
        await consumer.seek_to_beginning()
        ends = await consumer.end_offsets(partitions)
        letters: list[DeadLetter] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and await _behind(consumer, ends):
            batch = await consumer.getmany(timeout_ms=200)
            for records in batch.values():
                letters.extend(
                    DeadLetter(
                        r.topic,
                        r.partition,
                        r.offset,
                        r.key or b"",
                        r.value or b"",
                        {k: v.decode(errors="replace") for k, v in r.headers},
                    )
                    for r in records
                )
        return sorted(letters, key=lambda d: (d.topic, d.partition, d.offset))
    finally:
        await consumer.stop()


async def _behind(consumer: AIOKafkaConsumer, ends: dict[TopicPartition, int]) -> bool:
    for partition, end in ends.items():
        if await consumer.position(partition) < end:
            return True
    return False


async def replay(bootstrap: str, letter: DeadLetter) -> None:
    """Publish the dead letter's original message again to its original topic."""
    producer = Producer(bootstrap, client_id="hnth-dlq-replay")
    await producer.start()
    try:
        await producer.send(
            [
                OutMessage(
                    letter.original_topic,
                    letter.key,
                    letter.value,
                    headers=(("hnth-replayed-from", letter.ref),),
                )
            ]
        )
    finally:
        await producer.stop()
