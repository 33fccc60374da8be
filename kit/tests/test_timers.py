"""Durable timers: due timers fire once across replicas, and their events are relayed."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from kit_samples import cancelled

from hnth_contracts import decode_event
from hnth_kit.clock import ManualClock
from hnth_kit.outbox import OutboxRelay
from hnth_kit.testing import read_topic
from hnth_kit.timers import FIRED, QUEUE, Timer, Timers
from hnth_kit.topics_admin import ensure_topics

pytestmark = pytest.mark.integration
T0 = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)


async def test_timer_fires_only_when_due_and_only_once_across_replicas(
    infra, db, producer, topics
) -> None:
    await ensure_topics(infra.bootstrap_servers, [topics.meetings])
    clock = ManualClock(T0)
    fired: list[str] = []

    async def on_due(timer: Timer) -> list:
        fired.append(timer.id)
        await asyncio.sleep(0.01)  # let the other replica try meanwhile
        return [cancelled(timer.payload["meeting_id"])]

    replicas = [Timers(db, clock, topics) for _ in range(3)]
    await replicas[0].ensure_indexes()
    for n in range(10):
        assert await replicas[n % 3].schedule(
            f"t-{n}", "due", T0 + timedelta(minutes=n), "tuyen-quang", {"meeting_id": f"m-{n}"}
        )
    assert not await replicas[1].schedule("t-0", "due", T0, "tuyen-quang", {"meeting_id": "x"})

    clock.set(T0 + timedelta(minutes=4, seconds=30))
    counts = await asyncio.gather(*(r.fire_due({"due": on_due}) for r in replicas))
    assert sum(counts) == 5
    clock.set(T0 + timedelta(hours=1))
    await asyncio.gather(*(r.fire_due({"due": on_due}) for r in replicas))
    assert await asyncio.gather(*(r.fire_due({"due": on_due}) for r in replicas)) == [0, 0, 0]
    assert await replicas[0].pending() == 0
    assert await db[FIRED].count_documents({}) == 10

    relay = OutboxRelay(db, [FIRED], producer)
    assert await relay.drain() == 10
    messages = await read_topic(infra.bootstrap_servers, topics.meetings, expect=10)
    assert sorted(decode_event(m.value).meeting_id for m in messages) == sorted(  # type: ignore[attr-defined]
        f"m-{n}" for n in range(10)
    )


async def test_cancelled_timer_never_fires(db, topics) -> None:
    clock = ManualClock(T0)
    timers = Timers(db, clock, topics)
    await timers.schedule("t-x", "due", T0, "tuyen-quang", {})
    await timers.cancel("t-x")

    async def boom(timer: Timer) -> list:
        raise AssertionError("fired a cancelled timer")

    assert await timers.fire_due({"due": boom}) == 0


async def test_claim_of_a_dead_replica_is_taken_over_after_its_lease(db, topics) -> None:
    clock = ManualClock(T0)
    dead = Timers(db, clock, topics, lease=timedelta(seconds=30))
    alive = Timers(db, clock, topics, lease=timedelta(seconds=30))
    await dead.schedule("t-1", "due", T0, "tuyen-quang", {})

    async def crash(timer: Timer) -> list:
        raise RuntimeError("replica died mid-handler")

    async def ok(timer: Timer) -> list:
        return []

    assert await dead.fire_due({"due": crash}) == 0
    assert await alive.fire_due({"due": ok}) == 0, "claim still leased"
    clock.advance(timedelta(seconds=31))
    assert await alive.fire_due({"due": ok}) == 1


async def test_pollers_read_a_queue_of_pending_timers_only(db, topics) -> None:
    """Fired and cancelled timers leave the queue (they stay in `timers`, so setting them
    again is a no-op); a pending timer that missed the queue (a crash) is queued at start."""
    clock = ManualClock(T0)
    timers = Timers(db, clock, topics)
    await timers.ensure_indexes()

    async def on_due(timer: Timer) -> list:
        return []

    for n in range(3):
        await timers.schedule(f"q-{n}", "due", T0 + timedelta(minutes=n), "tuyen-quang", {})
    await timers.cancel("q-1")
    await timers.reschedule("q-2", T0 + timedelta(hours=2), {})
    assert {q["_id"] async for q in db[QUEUE].find({})} == {"q-0", "q-2"}

    clock.set(T0 + timedelta(hours=1))
    assert await timers.fire_due({"due": on_due}) == 1
    assert {q["_id"] async for q in db[QUEUE].find({})} == {"q-2"}
    assert not await timers.schedule("q-0", "due", T0, "tuyen-quang", {})
    assert not await timers.schedule("q-1", "due", T0, "tuyen-quang", {})
    assert await timers.pending() == 1

    await db[QUEUE].delete_many({})  # as if the process died between the two writes
    await Timers(db, clock, topics).ensure_indexes()
    assert [q["due_at"] async for q in db[QUEUE].find({})] == [T0 + timedelta(hours=2)]


async def test_timers_scheduled_together_fire_once_and_a_lost_queue_entry_is_made_again(
    db, topics
) -> None:
    clock = ManualClock(T0)
    timers = Timers(db, clock, topics)
    await timers.ensure_indexes()
    planned = [
        Timer(f"t-{n}", "due", T0 + timedelta(minutes=n), "tuyen-quang", {"n": n}) for n in range(3)
    ]
    await timers.schedule_many(planned)
    await db[QUEUE].delete_one({"_id": "t-1"})  # a crash between the two writes
    await timers.schedule_many([*planned, Timer("t-3", "due", T0, "tuyen-quang", {"n": 3})])
    assert await timers.pending() == 4
    moved = Timer("t-0", "due", T0 + timedelta(days=1), "tuyen-quang", {"n": 9})
    await timers.schedule_many([moved])  # scheduling again changes nothing
    fired: list[int] = []

    async def on_due(timer: Timer) -> list:
        fired.append(timer.payload["n"])
        return []

    clock.set(T0 + timedelta(hours=1))
    assert await timers.fire_due({"due": on_due}) == 4
    assert sorted(fired) == [0, 1, 2, 3]
