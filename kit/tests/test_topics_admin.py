"""Topic creation on the real broker: the lifecycle history and the dead letters are kept
forever, also on topics an older release created with the broker's 7-day default (so
`hnth replay --from` a year back finds every event)."""

from __future__ import annotations

import asyncio
import time

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from hnth_kit.kafka_access import access_of
from hnth_kit.topics_admin import ensure_topics, topic_configs

pytestmark = pytest.mark.integration
SEVEN_DAYS = str(7 * 24 * 3600 * 1000)


async def test_history_topics_are_kept_forever_even_when_an_older_release_made_them(
    infra, topics
) -> None:
    admin = AIOKafkaAdminClient(**access_of(infra.bootstrap_servers).aiokafka())
    await admin.start()
    try:  # as the releases before this one created it: the broker's default retention
        await admin.create_topics([NewTopic(topics.slots, 1, 1)])
    finally:
        await admin.close()
    before = await topic_configs(infra.bootstrap_servers, [topics.slots])
    assert before[topics.slots]["retention.ms"] == SEVEN_DAYS

    names = [topics.meetings, topics.slots, topics.checks, topics.directory, topics.access]
    await ensure_topics(infra.bootstrap_servers, names, partitions=1)

    dlq = [f"{n}.dlq" for n in names]
    expected = {
        topics.meetings: "-1",
        topics.slots: "-1",
        topics.checks: "-1",
        topics.directory: "-1",
        topics.access: SEVEN_DAYS,  # revocations and links expire long before a week
        **{name: "-1" for name in dlq},
    }
    retention: dict[str, str] = {}
    deadline = time.monotonic() + 30
    while retention != expected and time.monotonic() < deadline:
        if retention:  # the broker applies a change from its metadata log, a moment later
            await asyncio.sleep(0.2)
        kept = await topic_configs(infra.bootstrap_servers, names + dlq)
        retention = {name: config["retention.ms"] for name, config in kept.items()}
    assert retention == expected
