"""Dead letters for people: list what is in the `.dlq` topics, replay one, discard one.

A dead letter keeps the original key, bytes and headers naming why (reason, error,
service, original topic/partition/offset). Replaying publishes the original bytes with
the original key to the original topic, with `hnth-replayed-from` naming the dead letter:
every consumer sees it again, and idempotent handlers make that safe.

Resolutions. A `.dlq` topic is append-only, so what people did about a letter (replayed
it, or discarded it with a reason) is recorded elsewhere: one message per letter, keyed by
its ref, on the compacted topic `<prefix>hnth.dlq-resolutions`. Why a topic and not a Mongo
collection: the console and the CLI already reach Kafka (and only Kafka) for dead letters,
the record sits next to what it is about and lives as long as the cluster, compaction
keeps exactly the latest word per letter, and no service database gains a writer it does
not own. Two people resolving the same letter at the same instant both get recorded and the
later message wins; each `discard` first checks the letter is still pending, which covers
what people do at a console.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from hnth_contracts import Topics, is_dead_letter
from hnth_kit.kafka import OutMessage, Producer
from hnth_kit.kafka_access import KafkaAccess, access_of
from hnth_kit.topics_admin import create_topics


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


def province_of(letter: DeadLetter, prefix: str = "") -> str | None:
    """The province a letter is about: the `tenant` its bytes still name, else the province
    whose inbound topic it came from; None when neither tells (bytes that are no event)."""
    try:
        body = json.loads(letter.value)
    except ValueError:
        body = None
    named = body.get("tenant") if isinstance(body, dict) else None
    if isinstance(named, str) and named:
        return named
    try:
        return Topics(prefix).province_of(letter.original_topic)
    except ValueError:
        return None


async def dead_letter_topics(bootstrap: KafkaAccess | str, prefix: str = "") -> list[str]:
    """Every `.dlq` topic under `prefix`."""
    admin = AIOKafkaAdminClient(**access_of(bootstrap).aiokafka())
    await admin.start()
    try:
        names = await admin.list_topics()
    finally:
        await admin.close()
    return sorted(n for n in names if n.startswith(prefix) and is_dead_letter(n))


async def read_dead_letters(
    bootstrap: KafkaAccess | str, topics: list[str], *, timeout: float = 5.0
) -> list[DeadLetter]:
    """Everything currently in `topics`, read from the beginning up to their end."""
    letters = [
        DeadLetter(
            r.topic,
            r.partition,
            r.offset,
            r.key or b"",
            r.value or b"",
            {k: v.decode(errors="replace") for k, v in r.headers},
        )
        for r in await _read_all(bootstrap, topics, timeout)
    ]
    return sorted(letters, key=lambda d: (d.topic, d.partition, d.offset))


async def _read_all(
    bootstrap: KafkaAccess | str, topics: list[str], timeout: float
) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record of `topics` from the beginning up to their current end, in order per
    partition (a topic that does not exist has none)."""
    if not topics:
        return []
    consumer = AIOKafkaConsumer(**access_of(bootstrap).aiokafka(), enable_auto_commit=False)
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
        found: list[ConsumerRecord[bytes, bytes]] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and await _behind(consumer, ends):
            batch = await consumer.getmany(timeout_ms=200)
            for records in batch.values():
                found.extend(records)
        return found
    finally:
        await consumer.stop()


async def _behind(consumer: AIOKafkaConsumer, ends: dict[TopicPartition, int]) -> bool:
    for partition, end in ends.items():
        if await consumer.position(partition) < end:
            return True
    return False


async def replay(
    bootstrap: KafkaAccess | str, letter: DeadLetter, *, by: str | None = None, prefix: str = ""
) -> None:
    """Publish the dead letter's original message again to its original topic; with `by`,
    record it as resolved ("replayed") so it no longer shows as pending."""
    await _publish(
        bootstrap,
        OutMessage(
            letter.original_topic,
            letter.key,
            letter.value,
            headers=(("hnth-replayed-from", letter.ref),),
        ),
    )
    if by is not None:
        await _resolve(bootstrap, prefix, Resolution(letter.ref, REPLAYED, by, "", _now()))


# ---------------------------------------------------------------- resolutions

REPLAYED = "replayed"
DISCARDED = "discarded"


def resolutions_topic(prefix: str = "") -> str:
    """The compacted topic of resolutions (not a `.dlq`: it is no dead-letter topic)."""
    return f"{prefix}hnth.dlq-resolutions"


@dataclass(frozen=True)
class Resolution:
    """What someone did about one dead letter: replayed or discarded it, who, when, why."""

    ref: str
    action: str
    by: str
    reason: str
    at: datetime

    def to_json(self) -> bytes:
        body = {**self.__dict__, "at": self.at.isoformat()}
        return json.dumps(body, ensure_ascii=False).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Resolution:
        body: dict[str, Any] = json.loads(raw)
        return cls(
            ref=str(body["ref"]),
            action=str(body["action"]),
            by=str(body["by"]),
            reason=str(body.get("reason") or ""),
            at=datetime.fromisoformat(body["at"]),
        )


class AlreadyResolved(Exception):
    def __init__(self, resolution: Resolution) -> None:
        super().__init__(
            f"{resolution.ref} was already {resolution.action} by {resolution.by} "
            f"at {resolution.at.isoformat()}"
        )
        self.resolution = resolution


async def read_resolutions(
    bootstrap: KafkaAccess | str, prefix: str = "", *, timeout: float = 5.0
) -> dict[str, Resolution]:
    """The latest resolution per dead letter ref (none while nobody resolved any)."""
    found: dict[str, Resolution] = {}
    for record in await _read_all(bootstrap, [resolutions_topic(prefix)], timeout):
        if record.value is None:
            continue  # a tombstone: the record was removed on purpose
        try:
            resolution = Resolution.from_json(record.value)
        except (ValueError, KeyError, TypeError):
            continue  # not ours; never let one bad record hide the others
        found[resolution.ref] = resolution
    return found


def pending(letters: list[DeadLetter], resolved: dict[str, Resolution]) -> list[DeadLetter]:
    """The letters nobody has replayed or discarded yet."""
    return [letter for letter in letters if letter.ref not in resolved]


async def discard(
    bootstrap: KafkaAccess | str, letter: DeadLetter, *, reason: str, by: str, prefix: str = ""
) -> Resolution:
    """Mark a dead letter as dealt with, without replaying it. Refuses (AlreadyResolved)
    a letter already replayed or discarded; an empty reason is a ValueError."""
    if not reason.strip():
        raise ValueError("a reason is required to discard a dead letter")
    earlier = (await read_resolutions(bootstrap, prefix)).get(letter.ref)
    if earlier is not None:
        raise AlreadyResolved(earlier)
    resolution = Resolution(letter.ref, DISCARDED, by, reason.strip(), _now())
    await _resolve(bootstrap, prefix, resolution)
    return resolution


async def _resolve(bootstrap: KafkaAccess | str, prefix: str, resolution: Resolution) -> None:
    topic = resolutions_topic(prefix)
    await ensure_resolutions_topic(bootstrap, prefix)
    await _publish(bootstrap, OutMessage(topic, resolution.ref.encode(), resolution.to_json()))


async def ensure_resolutions_topic(bootstrap: KafkaAccess | str, prefix: str = "") -> None:
    """One partition (the list stays in order), compacted (the latest word per letter).
    The console's own principal may not create topics: its provisioning does, as admin."""
    topic = resolutions_topic(prefix)
    admin = AIOKafkaAdminClient(**access_of(bootstrap).aiokafka())
    await admin.start()
    try:
        if topic in await admin.list_topics():
            return
        wanted = NewTopic(
            name=topic,
            num_partitions=1,
            replication_factor=1,
            topic_configs={"cleanup.policy": "compact"},
        )
        await create_topics(admin, [wanted])  # someone may have made it first: fine
    finally:
        await admin.close()


async def _publish(bootstrap: KafkaAccess | str, message: OutMessage) -> None:
    producer = Producer(bootstrap, client_id="hnth-dlq")
    await producer.start()
    try:
        await producer.send([message])
    finally:
        await producer.stop()


def _now() -> datetime:
    return datetime.now(UTC)
