"""A consumer's offsets, committed behind its batches (issue 20).

A handled batch's offsets are noted, and committed by a task of their own at most once
every `HNTH_CONSUME_COMMIT_MS`, as Kafka's own consumer and Kafka Streams do: at 50
meetings/s each service committed after every small batch, a third of the broker's
requests, and the next batch waited for the commit's round trip. A crash redelivers
what was handled since the last commit, as it always could between a batch's writes and
its commit: handlers are idempotent. A partition being revoked is committed first (its
next owner starts where this one stopped), and so is everything at a graceful stop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.structs import OffsetAndMetadata

log = logging.getLogger(__name__)


def next_offsets(records: Sequence[Any]) -> dict[tuple[str, int], int]:
    """What a handled batch commits: for each partition it holds, the offset after its
    last record there."""
    found: dict[tuple[str, int], int] = {}
    for record in records:
        where = (record.topic, record.partition)
        found[where] = max(found.get(where, 0), record.offset + 1)
    return found


class Commits:
    """The offsets handled and not yet committed, per partition. `every` 0 commits each
    batch as it ends (a failed commit then raises into the batch, which is redelivered)."""

    def __init__(self, every_seconds: float) -> None:
        self.every = every_seconds
        self.closing = False
        """Set at a graceful stop: a batch still running commits as it ends."""
        self._pending: dict[TopicPartition, int] = {}
        self._consumer: AIOKafkaConsumer | None = None
        self._lock = asyncio.Lock()
        self._due = asyncio.Event()

    async def handled(self, consumer: AIOKafkaConsumer, records: Sequence[Any]) -> None:
        """A batch is handled: commit its offsets soon (now when `every` is 0 or at stop)."""
        self._consumer = consumer
        self._keep({TopicPartition(*where): o for where, o in next_offsets(records).items()})
        if self.every == 0 or self.closing:
            await self.flush(raise_errors=True)
        else:
            self._due.set()

    async def flush(
        self, only: Iterable[TopicPartition] | None = None, *, raise_errors: bool = False
    ) -> None:
        """Commit what is pending for the partitions still assigned (of `only`, if given).
        Those no longer assigned are dropped: their new owner handles and commits them. A
        failed commit keeps its offsets pending for the next one."""
        consumer = self._consumer
        if consumer is None:
            return
        async with self._lock:
            assigned = consumer.assignment()
            for tp in [tp for tp in self._pending if tp not in assigned]:
                del self._pending[tp]
            wanted = set(only) if only is not None else None
            offsets = {
                tp: self._pending.pop(tp)
                for tp in list(self._pending)
                if wanted is None or tp in wanted
            }
            if not offsets:
                return
            try:
                await consumer.commit({tp: OffsetAndMetadata(o, "") for tp, o in offsets.items()})
            except Exception:
                self._keep(offsets)
                if raise_errors:
                    raise
                log.warning("committing offsets failed; the next commit retries", exc_info=True)

    def _keep(self, offsets: Mapping[TopicPartition, int]) -> None:
        """Pending offsets only move forward: a batch handled, or a failed commit's back."""
        for tp, offset in offsets.items():
            self._pending[tp] = max(offset, self._pending.get(tp, 0))

    async def run(self) -> None:
        """Commit what batches handled, at most once every `every` seconds."""
        while True:
            await self._due.wait()
            await asyncio.sleep(self.every)  # what is handled meanwhile joins this commit
            self._due.clear()
            await self.flush()

    def listener(self) -> ConsumerRebalanceListener:
        """Commits a partition's handled offsets before it is revoked."""
        return _CommitBeforeRevoke(self)


class _CommitBeforeRevoke(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, commits: Commits) -> None:
        self.commits = commits

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self.commits.flush(revoked)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        pass
