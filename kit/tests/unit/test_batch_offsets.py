"""What a handled batch commits: each partition it holds, past its last record there,
behind the batches, and what a failed commit keeps."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from aiokafka import TopicPartition
from aiokafka.errors import KafkaConnectionError

from hnth_kit.commits import Commits, next_offsets


def _record(topic: str, partition: int, offset: int) -> SimpleNamespace:
    return SimpleNamespace(topic=topic, partition=partition, offset=offset)


def test_each_partition_held_is_committed_past_its_last_record() -> None:
    records = [
        _record("meetings", 3, 41),
        _record("slots", 0, 7),
        _record("meetings", 3, 42),
        _record("meetings", 5, 0),
    ]
    assert next_offsets(records) == {("meetings", 3): 43, ("slots", 0): 8, ("meetings", 5): 1}


def test_an_empty_batch_commits_nothing() -> None:
    assert next_offsets([]) == {}


class _Consumer:
    """What `Commits` asks of aiokafka's consumer: its assignment, and `commit`."""

    def __init__(self, *assigned: TopicPartition) -> None:
        self.assigned = set(assigned)
        self.commits: list[dict[TopicPartition, int]] = []
        self.down = False

    def assignment(self) -> set[TopicPartition]:
        return set(self.assigned)

    async def commit(self, offsets: dict[TopicPartition, Any]) -> None:
        if self.down:
            raise KafkaConnectionError("broker away")
        self.commits.append({tp: meta.offset for tp, meta in offsets.items()})


MEETINGS_0, MEETINGS_1 = TopicPartition("meetings", 0), TopicPartition("meetings", 1)


async def test_batches_are_committed_together_later_and_only_where_still_assigned() -> None:
    consumer, commits = _Consumer(MEETINGS_0, MEETINGS_1), Commits(every_seconds=60)
    await commits.handled(consumer, [_record("meetings", 0, 4)])  # type: ignore[arg-type]
    await commits.handled(consumer, [_record("meetings", 0, 9), _record("meetings", 1, 2)])  # type: ignore[arg-type]
    assert consumer.commits == [], "behind the batches"
    consumer.assigned = {MEETINGS_0}  # partition 1 moved to another replica
    await commits.flush()
    assert consumer.commits == [{MEETINGS_0: 10}]
    await commits.flush()
    assert consumer.commits == [{MEETINGS_0: 10}], "nothing left pending"


async def test_a_revoked_partition_alone_is_committed_first() -> None:
    consumer, commits = _Consumer(MEETINGS_0, MEETINGS_1), Commits(every_seconds=60)
    await commits.handled(consumer, [_record("meetings", 0, 4), _record("meetings", 1, 2)])  # type: ignore[arg-type]
    await commits.listener().on_partitions_revoked({MEETINGS_1})
    assert consumer.commits == [{MEETINGS_1: 3}]
    await commits.flush()
    assert consumer.commits == [{MEETINGS_1: 3}, {MEETINGS_0: 5}]


async def test_a_failed_commit_keeps_its_offsets_for_the_next() -> None:
    consumer, commits = _Consumer(MEETINGS_0), Commits(every_seconds=60)
    await commits.handled(consumer, [_record("meetings", 0, 4)])  # type: ignore[arg-type]
    consumer.down = True
    await commits.flush()  # the background commit logs and waits for the next
    consumer.down = False
    await commits.handled(consumer, [_record("meetings", 0, 5)])  # type: ignore[arg-type]
    await commits.flush()
    assert consumer.commits == [{MEETINGS_0: 6}]


async def test_every_zero_commits_each_batch_and_a_failure_raises_into_it() -> None:
    consumer, commits = _Consumer(MEETINGS_0), Commits(every_seconds=0)
    await commits.handled(consumer, [_record("meetings", 0, 4)])  # type: ignore[arg-type]
    assert consumer.commits == [{MEETINGS_0: 5}]
    consumer.down = True
    with pytest.raises(KafkaConnectionError):  # the batch is rewound and redelivered
        await commits.handled(consumer, [_record("meetings", 0, 5)])  # type: ignore[arg-type]
