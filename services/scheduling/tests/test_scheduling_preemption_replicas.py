"""Pre-emption with three scheduler replicas in one consumer group on real Kafka + the
database, one province's requests keyed by meeting (every replica on the same calendar at
once) and EVERY event delivered twice: each disaster-response request displaces the one
routine meeting in its way exactly once (one SlotRejected with alternatives and one
SlotReleased(preempted) per routine meeting), takes the slot once, and the claims that
stay live are exactly the standing slots'."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from scheduling_samples import TENANT, all_ids, publish, requested, settings_for

from hnth_contracts import SlotAssigned, SlotRejected, SlotReleased, decode_event
from hnth_kit.kafka import Producer
from hnth_kit.testing import eventually, read_topic
from scheduling.app import build
from scheduling.store import CLAIMS, DECISIONS, RELEASES, decision_id

pytestmark = pytest.mark.integration

PAIRS = 8


@pytest.mark.timeout(240)
async def test_replicas_displace_each_routine_meeting_once_with_every_event_twice(
    infra, unique, db, topics
) -> None:
    settings = settings_for(infra, unique, outbox_poll_seconds=0.3, timer_poll_seconds=2)
    replicas = [build(settings) for _ in range(3)]
    await asyncio.gather(*(r.start() for r in replicas))
    producer = Producer(infra.bootstrap_servers, client_id="scheduling-preempt-test")
    await producer.start()
    base = (datetime.now(UTC) + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    rooms = [(f"P-{n:02d}a", f"P-{n:02d}b") for n in range(PAIRS)]
    routine = [
        requested(f"low-{n}", start=base + timedelta(hours=n), endpoints=rooms[n])
        for n in range(PAIRS)
    ]
    floods = [
        requested(
            f"flood-{n}",
            start=base + timedelta(hours=n, minutes=30),
            endpoints=rooms[n],
            priority="thien_tai",
        )
        for n in range(PAIRS)
    ]
    low_ids = [decision_id(TENANT, e.meeting_id, 0) for e in routine]
    flood_ids = [decision_id(TENANT, e.meeting_id, 0) for e in floods]
    try:
        await publish(producer, topics, *routine, *routine, scattered=True)
        await eventually(
            lambda: db[DECISIONS].count_documents({"_id": {"$in": low_ids}}),
            until=lambda n: n == PAIRS,
            timeout=90,
        )
        await publish(producer, topics, *floods, *floods, scattered=True)
        await eventually(
            lambda: db[DECISIONS].count_documents(
                {"_id": {"$in": low_ids}, "outcome": "preempted"}
            ),
            until=lambda n: n == PAIRS,
            timeout=90,
        )
        await eventually(
            lambda: db[DECISIONS].count_documents({"_id": {"$in": flood_ids}}),
            until=lambda n: n == PAIRS,
            timeout=90,
        )
        decisions = [d async for d in db[DECISIONS].find({"_id": {"$in": low_ids + flood_ids}})]
        # every staged event: the decisions' outboxes and the displacements' settlements
        staged = {
            entry["event_id"]
            async for d in db[DECISIONS].find({})
            for entry in d.get("_outbox", [])
        }
        messages = await read_topic(
            infra.bootstrap_servers, topics.slots, expect=len(staged), timeout=60, read_on=3.0
        )
    finally:
        await producer.stop()
        await asyncio.gather(*(r.stop() for r in replicas))

    by_id = {d["_id"]: d for d in decisions}
    assert all(by_id[i]["outcome"] == "assigned" for i in flood_ids)
    assert all(by_id[i]["preempted_by"] == f"flood-{n}" for n, i in enumerate(low_ids))
    published = {str(e.event_id): e for e in (decode_event(m.value) for m in messages)}
    assert set(published) == staged
    kinds = Counter((e.meeting_id, e.type) for e in published.values())  # type: ignore[attr-defined]
    for n in range(PAIRS):
        assert kinds[(f"low-{n}", "SlotAssigned")] == 1
        assert kinds[(f"low-{n}", "SlotRejected")] == 1, "the host told once"
        assert kinds[(f"low-{n}", "SlotReleased")] == 1, "displaced once"
        assert kinds[(f"flood-{n}", "SlotAssigned")] == 1
    released = [e for e in published.values() if isinstance(e, SlotReleased)]
    assert {e.reason for e in released} == {"preempted"}
    assert all(e.why and e.why.rule.rule == "schedule.preempt_automatic" for e in released)
    told = [e for e in published.values() if isinstance(e, SlotRejected)]
    assert all(e.alternatives for e in told), "each host is offered other windows"
    assert not [e for e in published.values() if isinstance(e, SlotAssigned) and e.revision]

    live = await all_ids(db, CLAIMS) - await all_ids(db, RELEASES)
    held = {c for i in flood_ids for c in by_id[i]["held"]}
    assert live == held, "the displaced meetings hold nothing; the floods hold their slots"
