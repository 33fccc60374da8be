"""Drills on the shared broker and database: a replica of every service killed with -9
mid-burst, every event delivered twice, and poison on every input topic."""

from __future__ import annotations

import contextlib

import pytest
from pydantic import ValidationError

from hnth_contracts import MeetingCancelled, decode_event
from hnth_kit.kafka import OutMessage, Producer
from hnth_kit.testing import eventually, read_all

pytestmark = pytest.mark.system


async def test_drill_kill_9_one_replica_of_each_service(platform, drill) -> None:
    first, second = (
        drill.burst()[: len(drill.requests) // 2],
        drill.requests[len(drill.requests) // 2 :],
    )
    await drill.publish(first)
    for name in ("registration-0", "scheduling-0", "notification-0", "inspection-0"):
        platform.kill(name)
    await drill.publish(second)
    for name in ("registration-0", "scheduling-0", "notification-0", "inspection-0"):
        platform.restart(name)
    await drill.quiesce()
    await drill.check()


async def test_drill_every_event_delivered_twice(platform, drill) -> None:
    await drill.publish(drill.burst())
    await drill.quiesce()
    before = await drill.check()
    drill.name = "  after the second delivery"
    # republish every message of every topic, byte for byte, as a replaying broker would
    records = await read_all(platform.bootstrap, list(platform.topics.all()))
    producer = Producer(platform.bootstrap, client_id="drill-replay")
    await producer.start()
    try:
        await producer.send([OutMessage(r.topic, r.key, r.value) for r in records])
    finally:
        await producer.stop()
    drill.poison = len(records)
    for record in records:
        with contextlib.suppress(ValidationError):
            drill.replayed[str(decode_event(record.value).event_id)] += 1
    await drill.quiesce()
    after = await drill.check()
    assert after["lost"] == before["lost"] == 0


async def test_drill_poison_on_every_input_topic(platform, drill) -> None:
    half = drill.burst()
    await drill.publish(half[: len(half) // 2])
    unknown_meeting = MeetingCancelled.create(
        tenant="tuyen-quang", correlation_id="nobody", producer="e-office", meeting_id="nobody"
    )
    poison = []
    for topic in platform.topics.all():
        poison += [
            OutMessage(topic, b"poison", b"{not json"),
            OutMessage(topic, b"poison", b'{"type": "MeetingRequested", "meeting_id": 7}'),
            OutMessage(topic, b"poison", b'{"type": "NoSuchEvent", "event_id": "x"}'),
        ]
    producer = Producer(platform.bootstrap, client_id="drill-poison")
    await producer.start()
    try:
        await producer.send(poison)
    finally:
        await producer.stop()
    await platform.publish(unknown_meeting)  # not poison: consumers ignore it
    await drill.publish(half[len(half) // 2 :])
    drill.poison = len(poison) + 1
    await drill.quiesce()
    poisoned = {(m.topic, m.value) for m in poison}
    # each consumer dead-letters the poison of its own topics, in its own time: wait for all
    dead = await eventually(
        lambda: read_all(platform.bootstrap, [t + ".dlq" for t in platform.topics.all()]),
        until=lambda found: (
            {(d.headers["hnth-original-topic"], d.value) for d in found} >= poisoned
        ),
        timeout=120,
    )
    assert {d.headers["hnth-dlq-reason"] for d in dead} <= {
        "invalid_json",
        "invalid_schema",
        "unknown_type",
    }
    assert {(d.headers["hnth-original-topic"], d.value) for d in dead} == poisoned
    await drill.check(expect_dlq=len(dead))
