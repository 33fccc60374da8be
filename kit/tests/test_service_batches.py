"""A service consumes in batches: every message handled once and in order per key, the
offsets committed behind the batches (once for many), before a partition moves and at a
stop, nothing read again after a restart. Real broker."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from kit_samples import cancelled

from hnth_contracts import MeetingCancelled
from hnth_kit.auth import StaticKeys
from hnth_kit.consumer import RawMessage
from hnth_kit.kafka import OutMessage, Producer
from hnth_kit.offsets import committed
from hnth_kit.service import Outputs, Service
from hnth_kit.settings import REPO_ROOT, ServiceSettings
from hnth_kit.topics_admin import ensure_topics

pytestmark = pytest.mark.integration

MESSAGES = 60


def _service(
    infra,
    unique: str,
    part_ms: int = 50,
    commit_ms: int = 1000,
    fetch_min_bytes: int = 1,
    prompt_inputs: tuple[str, ...] = (),
) -> Service:
    settings = ServiceSettings(
        service_name="batches",
        kafka_bootstrap_servers=infra.bootstrap_servers,
        mongodb_url=infra.mongodb_url,
        database=f"kit_batches_{unique}",
        consumer_group=f"hnth-batches-{unique}",
        topic_prefix=f"t{unique}.",
        policy_dir=REPO_ROOT / "policies",
        consume_batch_max=25,
        consume_part_ms=part_ms,
        consume_commit_ms=commit_ms,
        consume_fetch_min_bytes=fetch_min_bytes,
    )
    return Service(
        settings,
        title="batches",
        description="a service that only consumes",
        inputs=[settings.topics.meetings],
        prompt_inputs=prompt_inputs,
        outputs=Outputs(),
        outbox_collections=[],
        verify_with=StaticKeys({"keys": []}),
    )


async def _until(condition: Callable[[], Awaitable[bool]], timeout: float = 60) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.1)


async def test_a_batch_is_handled_in_order_and_committed_once(
    infra, producer: Producer, unique, database, monkeypatch
) -> None:
    database(f"kit_batches_{unique}")  # dropped at the end
    # a batch in parts of 1 ms, each message taking 2: parts add no commit nor prefetch
    service = _service(infra, unique, part_ms=1)
    topic = service.topics.meetings
    await ensure_topics(infra.bootstrap_servers, [topic], partitions=1)
    seen: list[str] = []

    async def record(event: MeetingCancelled, _: RawMessage) -> None:
        await asyncio.sleep(0.002)  # a handler's work
        seen.append(event.meeting_id)

    service.handle({MeetingCancelled: record})
    shown: list[list[str]] = []  # the events each batch's prefetch was shown

    async def prefetch(events: Any) -> None:
        assert len(seen) == sum(map(len, shown)), "shown before any of its events is handled"
        shown.append([e.meeting_id for e in events])

    service.prefetch(prefetch)
    commits: list[int] = []  # how many messages were handled at each commit
    original = AIOKafkaConsumer.commit

    async def counted(self: AIOKafkaConsumer, *args: Any, **kwargs: Any) -> None:
        commits.append(len(seen))
        await original(self, *args, **kwargs)

    monkeypatch.setattr(AIOKafkaConsumer, "commit", counted)
    parts: list[int] = []  # how many messages were handled at each hand-over of staged events
    publish = service.publish_behind

    def publish_counted(staged: Any) -> None:
        parts.append(len(seen))
        publish(staged)

    monkeypatch.setattr(service, "publish_behind", publish_counted)
    # all on the broker before the service starts: its first fetch brings every one, and
    # the polls take them 25 at a time
    await producer.send(
        [OutMessage(topic, b"one-key", cancelled(f"m-{n:03d}").to_json()) for n in range(MESSAGES)]
    )
    await service.start()
    try:

        async def all_committed() -> bool:
            offsets = await committed(infra.bootstrap_servers, f"hnth-batches-{unique}")
            return sum(offsets.values()) == MESSAGES

        await _until(all_committed)
    finally:
        await service.stop()
    assert seen == [f"m-{n:03d}" for n in range(MESSAGES)]
    # batches of at most 25 (three here), committed behind them: never once a message
    assert commits[-1] == MESSAGES
    assert [m for batch in shown for m in batch] == seen, "one prefetch a batch, for its events"
    assert len(commits) <= len(shown) <= 6, (commits, shown)
    assert len(parts) > len(commits), "a batch published its events part by part"
    assert parts == sorted(parts)
    assert parts[-1] == MESSAGES

    again = _service(infra, unique)
    again.handle({MeetingCancelled: record})
    await again.start()
    try:
        await producer.send([OutMessage(topic, b"one-key", cancelled("m-last").to_json())])

        async def last_seen() -> bool:
            return seen[-1] == "m-last"

        await _until(last_seen)
    finally:
        await again.stop()
    assert len(seen) == MESSAGES + 1, "a restart read again what was committed"


async def test_a_batch_commits_only_the_partitions_it_holds(
    infra, producer: Producer, unique, database
) -> None:
    """Not every assigned partition's position: a commit writes one record per partition
    named in `__consumer_offsets`, and most of a service's partitions sit idle."""
    database(f"kit_batches_{unique}")
    service = _service(infra, unique)
    topic = service.topics.meetings
    await ensure_topics(infra.bootstrap_servers, [topic], partitions=4)
    seen: list[str] = []

    async def record(event: MeetingCancelled, _: RawMessage) -> None:
        seen.append(event.meeting_id)

    service.handle({MeetingCancelled: record})
    # one key: every message on one partition
    await producer.send(
        [OutMessage(topic, b"one-key", cancelled(f"m-{n:03d}").to_json()) for n in range(10)]
    )
    await service.start()
    try:

        async def all_committed() -> bool:
            offsets = await committed(infra.bootstrap_servers, f"hnth-batches-{unique}")
            return sum(offsets.values()) == 10

        await _until(all_committed)
        assert len(service.assignment()[topic]) == 4, "the replica holds all four partitions"
        # the fetch wait reached aiokafka through FastStream (no public getter: its attribute)
        (consumer,) = service.consumers()
        assert consumer._fetch_max_wait_ms == service.settings.consume_fetch_wait_ms == 100
        assert consumer._fetch_min_bytes == 1, "a service answers what a clerk waits for at once"
    finally:
        await service.stop()
    offsets = await committed(infra.bootstrap_servers, f"hnth-batches-{unique}")
    assert list(offsets.values()) == [10], offsets
    assert len(seen) == 10


async def test_handled_offsets_are_committed_before_their_partitions_move_and_at_stop(
    infra, producer: Producer, unique, database
) -> None:
    """Commits wait behind the batches (an hour here), yet a replica joining the group
    handles nothing the first one already handled: the revoked partitions are committed
    before they move. A graceful stop commits the rest."""
    database(f"kit_batches_{unique}")
    hour = 3_600_000
    first, second = _service(infra, unique, commit_ms=hour), _service(infra, unique, commit_ms=hour)
    topic = first.topics.meetings
    await ensure_topics(infra.bootstrap_servers, [topic], partitions=4)
    seen: dict[str, list[str]] = {"first": [], "second": []}

    def recording(replica: str) -> Any:
        async def record(event: MeetingCancelled, _: RawMessage) -> None:
            seen[replica].append(event.meeting_id)

        return record

    first.handle({MeetingCancelled: recording("first")})
    second.handle({MeetingCancelled: recording("second")})

    async def send(numbers: range) -> None:
        await producer.send(
            [
                OutMessage(topic, f"key-{n}".encode(), cancelled(f"m-{n:03d}").to_json())
                for n in numbers
            ]
        )

    async def handled(count: int) -> bool:
        return sum(map(len, seen.values())) >= count

    async def group_committed() -> int:
        return sum((await committed(infra.bootstrap_servers, f"hnth-batches-{unique}")).values())

    await send(range(20))
    await first.start()
    try:
        await _until(lambda: handled(20))
        assert await group_committed() == 0, "committed behind the batches, not after each"
        await second.start()
        try:

            async def both_hold_partitions() -> bool:
                return bool(first.assignment().get(topic)) and bool(second.assignment().get(topic))

            await _until(both_hold_partitions)
            assert await group_committed() == 20, "the revoked partitions were committed"
            await send(range(20, 60))
            await _until(lambda: handled(60))
        finally:
            await second.stop()
    finally:
        await first.stop()
    everything = seen["first"] + seen["second"]
    assert sorted(everything) == [f"m-{n:03d}" for n in range(60)], "each handled once"
    assert seen["second"], "the second replica took partitions over"
    assert await group_committed() == 60, "a graceful stop commits what it handled"


async def test_prompt_inputs_have_a_consumer_and_a_group_of_their_own(
    infra, producer: Producer, unique, database
) -> None:
    """The service's events gathered (its fetch waits for bytes), the prompt inputs
    fetched at once by another consumer; each handled once, committed in its own group."""
    database(f"kit_batches_{unique}")
    slots = f"t{unique}.hnth.slots"
    # a back office's gathering for its events
    service = _service(infra, unique, fetch_min_bytes=32 * 1024, prompt_inputs=(slots,))
    events, prompt = service.topics.meetings, slots
    await ensure_topics(infra.bootstrap_servers, [events, prompt], partitions=1)
    seen: list[str] = []

    async def record(event: MeetingCancelled, raw: RawMessage) -> None:
        seen.append(f"{raw.topic}:{event.meeting_id}")

    service.handle({MeetingCancelled: record})
    await producer.send(
        [
            OutMessage(events, b"k", cancelled("m-event").to_json()),
            OutMessage(prompt, b"k", cancelled("m-prompt").to_json()),
        ]
    )
    group = f"hnth-batches-{unique}"
    await service.start()
    try:
        gathered, at_once = service.consumers()
        assert gathered._fetch_min_bytes == 32 * 1024
        assert at_once._fetch_min_bytes == 1

        async def both_committed() -> bool:
            mine = await committed(infra.bootstrap_servers, group)
            theirs = await committed(infra.bootstrap_servers, f"{group}-prompt")
            return sum(mine.values()) == 1 and sum(theirs.values()) == 1

        await _until(both_committed)
        held = service.assignment()
        assert (held[events], held[prompt]) == ({0}, {0}), "both consumers' partitions"
    finally:
        await service.stop()
    assert sorted(seen) == sorted([f"{events}:m-event", f"{prompt}:m-prompt"])
    assert {tp.topic for tp in await committed(infra.bootstrap_servers, group)} == {events}
    assert set(service.kafka_grants().groups) == {group, f"{group}-prompt"}
