"""Durable timers: due timers fire once across replicas, and their events are relayed."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from kit_samples import cancelled

from hnth_contracts import decode_event
from hnth_kit.batch_writes import batch_writes
from hnth_kit.clock import ManualClock
from hnth_kit.outbox import OutboxRelay
from hnth_kit.testing import read_topic
from hnth_kit.timers import FIRED, QUEUE, Timer, Timers, due_by
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
        await replicas[n % 3].schedule(
            f"t-{n}", "due", T0 + timedelta(minutes=n), "tuyen-quang", {"meeting_id": f"m-{n}"}
        )
    await replicas[1].schedule("t-0", "due", T0, "tuyen-quang", {"meeting_id": "x"})  # no-op

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


async def test_the_queue_holds_pending_timers_and_setting_one_again_changes_nothing(
    db, topics
) -> None:
    """A fired or cancelled timer leaves the queue; set again (a redelivered event) it is
    queued, and the poll that finds it due drops it without firing."""
    clock = ManualClock(T0)
    timers = Timers(db, clock, topics)
    await timers.ensure_indexes()
    fired: list[str] = []

    async def on_due(timer: Timer) -> list:
        fired.append(timer.id)
        return []

    for n in range(3):
        await timers.schedule(f"q-{n}", "due", T0 + timedelta(minutes=n), "tuyen-quang", {})
    await timers.schedule("q-2", "due", T0, "tuyen-quang", {"again": True})  # kept as it was
    await timers.cancel("q-1")
    assert {q["timer"] async for q in db[QUEUE].find({})} == {"q-0", "q-2"}

    clock.set(T0 + timedelta(hours=1))
    assert await timers.fire_due({"due": on_due}) == 2
    assert sorted(fired) == ["q-0", "q-2"]
    assert await timers.pending() == 0

    for n in range(3):  # every one again, as a redelivery would
        await timers.schedule(f"q-{n}", "due", T0, "tuyen-quang", {})
    assert await timers.fire_due({"due": on_due}) == 0
    assert sorted(fired) == ["q-0", "q-2"], "fired or cancelled: never again"
    assert await timers.pending() == 0


async def test_a_timer_set_and_cancelled_in_one_consumer_batch_is_never_queued(db, topics) -> None:
    timers = Timers(db, ManualClock(T0), topics)
    async with batch_writes():
        await timers.schedule("b-1", "due", T0, "tuyen-quang", {})
        await timers.schedule("b-2", "due", T0, "tuyen-quang", {})
        assert await timers.pending() == 0, "queued with the batch's other inserts, at its end"
        await timers.cancel("b-1")
    assert [q["timer"] async for q in db[QUEUE].find({})] == ["b-2"]


async def test_timers_stored_the_earlier_way_are_moved_at_start(db, topics) -> None:
    """Before, a timer was a `timers` document (pending, fired or cancelled) and a pending
    one also had a queue entry of `_id` and `due_at` (or none, after a crash)."""
    old = [
        {"_id": "p-1", "kind": "due", "due_at": T0, "tenant": "tuyen-quang", "payload": {"n": 1}},
        {"_id": "p-2", "kind": "due", "due_at": T0, "tenant": "tuyen-quang", "payload": {"n": 2}},
        {"_id": "c-1", "kind": "due", "due_at": T0, "tenant": "tuyen-quang", "payload": {}},
        {"_id": "f-1", "kind": "due", "due_at": T0, "tenant": "tuyen-quang", "payload": {}},
    ]
    for doc, state in zip(old, ["pending", "pending", "cancelled", "fired"], strict=True):
        doc["state"] = state
    await db["timers"].insert_many(old)
    await db[QUEUE].insert_one({"_id": "p-1", "due_at": T0})
    await db[FIRED].insert_one({"_id": "f-1", "kind": "due", "fired_at": T0, "owner": "old"})
    clock = ManualClock(T0 + timedelta(minutes=1))
    timers = Timers(db, clock, topics)
    await timers.ensure_indexes()
    assert "timers" not in await db.list_collection_names()
    fired: list[int] = []

    async def on_due(timer: Timer) -> list:
        fired.append(timer.payload["n"])
        return []

    await timers.schedule("c-1", "due", T0, "tuyen-quang", {"n": 3})  # still cancelled
    assert await timers.fire_due({"due": on_due}) == 2
    assert sorted(fired) == [1, 2]


async def test_queue_entries_keyed_by_their_timer_are_rekeyed_by_due_time(db, topics) -> None:
    """Until December 2026 a queue entry's `_id` was its timer's id (and an index on
    `due_at` served the poll)."""
    await db[QUEUE].create_index("due_at", name="due")
    await db[QUEUE].insert_many(
        [
            {
                "_id": f"k-{n}",
                "kind": "due",
                "due_at": T0,
                "tenant": "tuyen-quang",
                "payload": {"n": n},
            }
            for n in range(2)
        ]
    )
    await db[FIRED].insert_one({"_id": "k-1", "cancelled": True})
    timers = Timers(db, ManualClock(T0), topics)
    await timers.ensure_indexes()
    await timers.ensure_indexes()  # every start runs it: the second finds nothing to move
    assert {q["timer"] async for q in db[QUEUE].find({})} == {"k-0", "k-1"}
    assert "due" not in await db[QUEUE].index_information()
    fired: list[int] = []

    async def on_due(timer: Timer) -> list:
        fired.append(timer.payload["n"])
        return []

    assert await timers.fire_due({"due": on_due}) == 1
    assert fired == [0], "the cancelled one stays cancelled"
    assert await timers.pending() == 0


async def test_the_poll_reads_what_is_due_by_the_id_index(db, topics) -> None:
    """The poll's `_id` range: exactly the due entries, in due order, from the `_id` index
    (FerretDB too, with our patch), whatever other `_id`s the collection holds."""
    timers = Timers(db, ManualClock(T0), topics)
    await timers.ensure_indexes()
    dues = [T0 - timedelta(days=400), T0 - timedelta(seconds=1), T0, T0 + timedelta(milliseconds=1)]
    odd_ids = ['a"b', "x\\y", "é", "Z!", "", "a b", "\x7f", "m|~"]  # escapes, bytes below ']'
    await timers.schedule_many(
        [
            Timer(f"{n}:{odd}", "due", due, "tuyen-quang", {})
            for n, due in enumerate(dues)
            for odd in odd_ids
        ]
    )
    await db[QUEUE].insert_many([{"_id": odd, "timer": "stray"} for odd in odd_ids])  # not ours
    bound = due_by(T0)
    everything = [d["_id"] async for d in db[QUEUE].find({})]
    found = [d async for d in db[QUEUE].find(bound).sort("_id", 1)]
    assert [d["_id"] for d in found] == sorted(i for i in everything if i < bound["_id"]["$lt"])
    ours = [d for d in found if d["timer"] != "stray"]
    assert [d["due_at"] for d in ours] == sorted(d for d in dues[:3] for _ in odd_ids)
    assert {d["timer"] for d in ours} == {f"{n}:{odd}" for n in range(3) for odd in odd_ids}
    plan = str(await db.command("explain", {"find": QUEUE, "filter": bound}))
    assert "USING INDEX" in plan or "IXSCAN" in plan or "IDHACK" in plan, plan


async def test_timers_scheduled_together_fire_once(db, topics) -> None:
    clock = ManualClock(T0)
    timers = Timers(db, clock, topics)
    await timers.ensure_indexes()
    planned = [
        Timer(f"t-{n}", "due", T0 + timedelta(minutes=n), "tuyen-quang", {"n": n}) for n in range(3)
    ]
    await timers.schedule_many(planned)
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
