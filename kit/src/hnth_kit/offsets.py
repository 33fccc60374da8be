"""Rewind a service's consumer group to a point in time, to rebuild its read model.

Every service's events are consumed in one group (`hnth-<service>`; registration's
inbound submissions in another, `hnth-registration-prompt`: answered requests are not
replayed). Moving the group's committed
offsets back makes the service consume again, from that time on, every event it has
already seen: idempotent handlers make that safe, and a read model dropped beforehand is
rebuilt. Kafka accepts the new offsets only while the group has no member, so the
service (all its replicas) must be stopped first; we check and refuse otherwise.
"""

from __future__ import annotations

from datetime import datetime

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import OffsetAndMetadata

from hnth_kit.kafka_access import KafkaAccess, access_of

IDLE_STATES = ("Empty", "Dead")


class GroupBusy(Exception):
    """The consumer group still has members: the service is running."""


class NothingToRewind(Exception):
    """The group has committed no offset (on the topics asked): nothing to move."""


async def group_state(bootstrap: KafkaAccess | str, group: str) -> str:
    """The group's state as the broker reports it (`Empty`, `Stable`, `Dead`, ...)."""
    admin = AIOKafkaAdminClient(**access_of(bootstrap).aiokafka())
    await admin.start()
    try:
        [response] = await admin.describe_consumer_groups([group])
        description = response.groups[0]  # (error, group, state, protocol_type, ...)
        return str(description[2])
    finally:
        await admin.close()


async def committed(bootstrap: KafkaAccess | str, group: str) -> dict[TopicPartition, int]:
    """The group's committed offset per partition."""
    admin = AIOKafkaAdminClient(**access_of(bootstrap).aiokafka())
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return {tp: meta.offset for tp, meta in offsets.items() if meta.offset >= 0}


async def rewind(
    bootstrap: KafkaAccess | str, group: str, since: datetime, topics: list[str] | None = None
) -> dict[TopicPartition, tuple[int, int]]:
    """Set the group's offsets to the first message at or after `since` on every partition
    it has committed (restricted to `topics` if given). Returns partition -> (old, new)."""
    state = await group_state(bootstrap, group)
    if state not in IDLE_STATES:
        raise GroupBusy(f"consumer group {group} is {state}: stop every replica first")
    before = {
        tp: offset
        for tp, offset in (await committed(bootstrap, group)).items()
        if topics is None or tp.topic in topics
    }
    if not before:
        raise NothingToRewind(f"consumer group {group} has no committed offsets to move")
    consumer = AIOKafkaConsumer(
        **access_of(bootstrap).aiokafka(), group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        partitions = sorted(before)
        consumer.assign(partitions)  # manual assignment: commits without joining the group
        millis = int(since.timestamp() * 1000)
        found = await consumer.offsets_for_times({tp: millis for tp in partitions})
        ends = await consumer.end_offsets(partitions)
        # no message at or after `since` on a partition: its end, i.e. nothing to re-read
        target = {tp: found[tp].offset if found.get(tp) else ends[tp] for tp in partitions}
        await consumer.commit({tp: OffsetAndMetadata(o, "") for tp, o in target.items()})
    finally:
        await consumer.stop()
    return {tp: (before[tp], target[tp]) for tp in partitions}
