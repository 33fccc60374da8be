"""Creating the topics a service needs, before it subscribes (idempotent)."""

from __future__ import annotations

from collections.abc import Iterable

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from hnth_contracts import dead_letter
from hnth_contracts.topics import PARTITIONS


async def ensure_topics(
    bootstrap_servers: str, names: Iterable[str], *, partitions: int = PARTITIONS
) -> None:
    """Create each topic and its `.dlq` if missing; existing topics are left as they are."""
    wanted = sorted({n for name in names for n in (name, dead_letter(name))})
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(name=n, num_partitions=partitions, replication_factor=1)
            for n in wanted
            if n not in existing
        ]
        if missing:
            try:
                await admin.create_topics(missing)
            except TopicAlreadyExistsError:
                pass  # another replica created them first
    finally:
        await admin.close()
