"""Creating the topics a service needs, before it subscribes (idempotent), and deleting
a test's topics afterwards.

Dead-letter topics get one partition: they carry few messages and order does not matter
there; the broker's open files grow with partitions, so they are not spent where useless."""

from __future__ import annotations

import os
from collections.abc import Iterable

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from hnth_contracts import dead_letter
from hnth_contracts.topics import PARTITIONS


def default_partitions() -> int:
    """`HNTH_TOPIC_PARTITIONS` when set (tests use few), else the contracts' count."""
    return int(os.environ.get("HNTH_TOPIC_PARTITIONS", PARTITIONS))


async def ensure_topics(
    bootstrap_servers: str, names: Iterable[str], *, partitions: int | None = None
) -> None:
    """Create each topic and its `.dlq` if missing; existing topics are left as they are."""
    count = partitions or default_partitions()
    topics = list(names)
    wanted = {n: count for n in topics} | {dead_letter(n): 1 for n in topics}
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(name=n, num_partitions=k, replication_factor=1)
            for n, k in sorted(wanted.items())
            if n not in existing
        ]
        if missing:
            try:
                await admin.create_topics(missing)
            except TopicAlreadyExistsError:
                pass  # another replica created them first
    finally:
        await admin.close()


async def delete_topics(bootstrap_servers: str, prefix: str) -> None:
    """Delete every topic whose name starts with `prefix` (a finished test's topics)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        doomed = [t for t in await admin.list_topics() if t.startswith(prefix)]
        if doomed:
            await admin.delete_topics(doomed)
    finally:
        await admin.close()
