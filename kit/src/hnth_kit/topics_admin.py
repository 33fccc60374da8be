"""Creating the topics a service needs, before it subscribes (idempotent), and deleting
a test's topics afterwards.

Dead-letter topics get one partition: they carry few messages and order does not matter
there; the broker's open files grow with partitions, so they are not spent where useless.
Each topic gets the retention the contracts give it (`topic_config`): the lifecycle history
and the dead letters are kept forever, also on a topic an older release created with the
broker's 7-day default."""

from __future__ import annotations

import os
from collections.abc import Iterable

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import TopicAlreadyExistsError, for_code

from hnth_contracts import dead_letter
from hnth_contracts.topics import PARTITIONS, topic_config
from hnth_kit.kafka_access import KafkaAccess, access_of


def default_partitions() -> int:
    """`HNTH_TOPIC_PARTITIONS` when set (tests use few), else the contracts' count."""
    return int(os.environ.get("HNTH_TOPIC_PARTITIONS", PARTITIONS))


async def ensure_topics(
    bootstrap_servers: KafkaAccess | str,
    names: Iterable[str],
    *,
    partitions: int | None = None,
    dead_letters: bool = True,
) -> None:
    """Create each topic and (unless nobody consumes it) its `.dlq` if missing; existing
    topics are left as they are."""
    count = partitions or default_partitions()
    topics = list(names)
    wanted = {n: count for n in topics} | {dead_letter(n): 1 for n in topics if dead_letters}
    admin = AIOKafkaAdminClient(**access_of(bootstrap_servers).aiokafka())
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(name=n, num_partitions=k, replication_factor=1, topic_configs=topic_config(n))
            for n, k in sorted(wanted.items())
            if n not in existing
        ]
        if missing:
            await create_topics(admin, missing)
        await _keep_configs(admin, [n for n in sorted(wanted) if n in existing])
    finally:
        await admin.close()


async def create_topics(admin: AIOKafkaAdminClient, topics: list[NewTopic]) -> None:
    """Create `topics`; one that exists already (another replica made it first) is fine.
    aiokafka returns each topic's error in the response instead of raising it, so a
    refusal (no right to create, a bad config) is raised here."""
    try:
        response = await admin.create_topics(topics)
    except TopicAlreadyExistsError:
        return
    for topic, code, *_ in response.topic_errors:
        if code not in (0, TopicAlreadyExistsError.errno):
            error = for_code(code)
            raise error(f"creating topic {topic}: {error.description}")


async def topic_configs(
    bootstrap_servers: KafkaAccess | str, names: Iterable[str]
) -> dict[str, dict[str, str]]:
    """Each topic's configuration as the broker reports it (defaults included)."""
    admin = AIOKafkaAdminClient(**access_of(bootstrap_servers).aiokafka())
    await admin.start()
    try:
        return await _configs(admin, list(names))
    finally:
        await admin.close()


async def _configs(admin: AIOKafkaAdminClient, names: list[str]) -> dict[str, dict[str, str]]:
    if not names:
        return {}
    asked = [ConfigResource(ConfigResourceType.TOPIC, n) for n in names]
    found: dict[str, dict[str, str]] = {}
    for response in await admin.describe_configs(asked):
        for _error, _message, _kind, name, entries in response.resources:
            found[name] = {entry[0]: entry[1] for entry in entries}
    return found


async def _keep_configs(admin: AIOKafkaAdminClient, names: list[str]) -> None:
    """Existing topics whose configuration falls short of `topic_config` get it set."""
    wanted = {n: topic_config(n) for n in names if topic_config(n)}
    current = await _configs(admin, list(wanted))
    stale = [
        ConfigResource(ConfigResourceType.TOPIC, n, configs=config)
        for n, config in wanted.items()
        if any(current.get(n, {}).get(k) != v for k, v in config.items())
    ]
    if stale:
        for response in await admin.alter_configs(stale):
            failed = [r for r in response.resources if r[0]]  # (error code, message, …)
            if failed:
                raise RuntimeError(f"could not set the topics' retention: {failed}")


async def delete_topics(bootstrap_servers: KafkaAccess | str, prefix: str) -> None:
    """Delete every topic whose name starts with `prefix` (a finished test's topics)."""
    admin = AIOKafkaAdminClient(**access_of(bootstrap_servers).aiokafka())
    await admin.start()
    try:
        doomed = [t for t in await admin.list_topics() if t.startswith(prefix)]
        if doomed:
            await admin.delete_topics(doomed)
    finally:
        await admin.close()
