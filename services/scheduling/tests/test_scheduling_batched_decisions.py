"""Decisions held to the end of a consumer batch part (`SchedulingStore.record_then`), on
the real database: written together when the part ends, read from memory meanwhile, in
order before anything else that reads or writes decisions, and a twin replica's decision
that got in first is the one that stands."""

from __future__ import annotations

import asyncio
import contextvars
import json
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import pytest
from pymongo import monitoring
from scheduling_samples import DAY, TENANT, all_ids, requested, small_bridges

from hnth_kit.batch_reads import batch_reads
from hnth_kit.batch_writes import batch_writes
from hnth_kit.mongo import connect
from hnth_kit.outbox import Staging, staging
from hnth_kit.timers import QUEUE, Timers
from scheduling.domain.buckets import port_order
from scheduling.store import DECISIONS, SchedulingStore, decision_id
from scheduling.usecases import RECORD, Scheduling

pytestmark = pytest.mark.integration


@asynccontextmanager
async def consumer_batch_part() -> AsyncIterator[Staging]:
    """What the kit's consumer wraps a batch part in (`Service`, `EventConsumer`)."""
    with staging() as staged, batch_reads():
        async with batch_writes():
            yield staged


async def stored(db, *meeting_ids: str) -> list[str]:
    ids = [decision_id(TENANT, m, 0) for m in meeting_ids]
    return sorted(d["_id"] for d in await db[DECISIONS].find({"_id": {"$in": ids}}).to_list())


async def test_a_parts_decisions_are_written_together_when_it_ends(make_scheduler, db) -> None:
    scheduler = make_scheduler()
    later = DAY + timedelta(hours=4)
    request = requested("m-1", hours=2)
    async with consumer_batch_part() as staged:
        first = await scheduler.decide(request)
        second = await scheduler.decide(requested("m-2", start=later, hours=1))
        assert first is not None
        assert second is not None
        assert (first["outcome"], second["outcome"]) == ("assigned", "assigned")
        assert await stored(db, "m-1", "m-2") == [], "held until the part ends"
        history = await scheduler.store.history(TENANT, "m-1")
        assert history.current is not None
        assert history.current["_id"] == first["_id"]
        again = await scheduler.decide(request)  # redelivered in the same batch
        assert again is not None
        assert again["_id"] == first["_id"]
    assert await stored(db, "m-1", "m-2") == [first["_id"], second["_id"]]
    published = sorted(s.doc_id for s in staged.fresh)  # from memory, once each
    assert published == [first["_id"], second["_id"]]


class Inserts(monitoring.CommandListener):
    """The collections insert commands went to, counted."""

    def __init__(self) -> None:
        self.into: Counter[str] = Counter()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name == "insert":
            self.into[event.command["insert"]] += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


async def test_a_parts_decisions_queue_their_timers_in_one_insert(
    infra, db, topics, clock, policy
) -> None:
    """What follows the part's decisions (each assigned meeting's record timer) is written
    together too, not one round trip a decision as the part is flushed."""
    inserts = Inserts()
    client = connect(infra.mongodb_url, event_listeners=[inserts])
    try:
        counted = client[db.name]
        timers = Timers(counted, clock, topics)
        scheduler = Scheduling(SchedulingStore(counted, topics), lambda _: policy, clock, timers)
        meetings = [f"m-{n}" for n in range(3)]
        async with consumer_batch_part():
            for n, meeting in enumerate(meetings):
                start = DAY + timedelta(hours=4 * n)
                decided = await scheduler.decide(requested(meeting, start=start, hours=1))
                assert decided is not None
                assert decided["outcome"] == "assigned"
        assert inserts.into[DECISIONS] == 1
        assert inserts.into[QUEUE] == 1
        day = f"claims_{DAY:%Y%m%d}"
        assert inserts.into[day] == 1, "the part's claims: one insert for the day"
        assert len({c.rpartition("#")[0] for c in await all_ids(db, "claims")}) >= 3 * 2
        queued = await db[QUEUE].find({"timer": {"$regex": f"^{RECORD}"}}).to_list()
        assert sorted(q["timer"] for q in queued) == [
            f"{RECORD}|{decision_id(TENANT, m, 0)}" for m in meetings
        ]
    finally:
        await client.close()


async def test_a_settlement_in_the_same_part_finds_the_held_decision(make_scheduler, db) -> None:
    """A disaster-response request displaces a routine meeting decided earlier in the same
    part: the settlement writes the part's decisions first, so it finds the one it settles."""
    scheduler = make_scheduler()
    async with consumer_batch_part():
        routine = await scheduler.decide(requested("low", hours=2))
        flood = requested("flood", start=DAY + timedelta(minutes=30), priority="thien_tai")
        urgent = await scheduler.decide(flood)
    assert routine is not None
    assert urgent is not None
    assert urgent["outcome"] == "assigned"
    displaced = await db[DECISIONS].find_one({"_id": routine["_id"]})
    assert displaced is not None
    assert (displaced["outcome"], displaced["preempted_by"]) == ("preempted", "flood")


async def test_a_twin_replicas_decision_that_got_in_first_stands(make_scheduler, db) -> None:
    """Two replicas decide the same request; the one holding its decision to the end of
    its part finds the other's in, follows it and publishes nothing of its own."""
    holding, twin = make_scheduler(), make_scheduler()
    async with consumer_batch_part() as staged:
        held = await holding.decide(requested("m-1", hours=2))
        # the request published twice, the copy taken by a replica outside this batch
        elsewhere = contextvars.Context()
        stands = await asyncio.create_task(
            twin.decide(requested("m-1", hours=2)), context=elsewhere
        )
        assert held is not None
        assert stands is not None
    assert stands["_applied"] != held["_applied"], "two decisions taken, one stands"
    assert staged.fresh == [], "the twin's events are the twin's to publish"
    [found] = await db[DECISIONS].find({"_id": held["_id"]}).to_list()
    assert found["_applied"] == stands["_applied"]
    for claim in found["held"]:
        assert not await holding.store.is_released(claim), "the standing slot stays held"


async def claims_of(db, meeting_id: str) -> list[str]:
    """The claims a meeting inserted, in every day partition."""
    found: list[str] = []
    for name in await db.list_collection_names():
        if name.startswith("claims_"):
            found += [d["_id"] async for d in db[name].find({"meeting_id": meeting_id})]
    return found


async def test_a_stale_owners_blind_claims_lose_cleanly_at_the_parts_end(
    make_scheduler, db
) -> None:
    """A replica that owned the calendar a moment ago decides from its picture, claims
    blind and holds the claims to the part's end; meanwhile the new owner gives the same
    endpoints to another meeting. At the part's end the stale claims find the keys taken:
    that decision is not recorded, what it did insert is released, and the request is
    decided again, reading the claims, so it is refused: nothing double-booked."""
    stale, owner = make_scheduler(), make_scheduler()
    async with consumer_batch_part() as staged:
        held = await stale.decide(requested("m-stale", hours=2))
        assert held is not None
        assert held["outcome"] == "assigned", "from its picture, not yet written"
        elsewhere = contextvars.Context()
        won = await asyncio.create_task(
            owner.decide(requested("m-owner", hours=2)), context=elsewhere
        )
        assert won is not None
        assert won["outcome"] == "assigned"
    decisions = {
        d["meeting_id"]: d
        async for d in db[DECISIONS].find({"meeting_id": {"$in": ["m-stale", "m-owner"]}})
    }
    assert decisions["m-owner"]["outcome"] == "assigned"
    assert decisions["m-stale"]["outcome"] == "rejected"
    [refusal] = [json.loads(e["value"]) for e in decisions["m-stale"]["_outbox"]]
    assert refusal["type"] == "SlotRejected"
    assert {c["other_meeting_id"] for c in refusal["conflicts"]} == {"m-owner"}
    for claim in decisions["m-owner"]["held"]:
        assert not await owner.store.is_released(claim), "the owner's slot stands"
    for claim in await claims_of(db, "m-stale"):
        assert await stale.store.is_released(claim), claim
    [published] = [s for s in staged.fresh if s.doc_id == decisions["m-stale"]["_id"]]
    assert [e["type"] for e in published.entries] == ["SlotRejected"]


async def test_a_stale_owners_lost_port_is_taken_again_and_the_meeting_still_fits(
    make_scheduler, db, policy
) -> None:
    """The same, when only bridge ports collide (other endpoints, one 4-port bridge): the
    request decided again keeps its endpoints' claims, takes the two ports left, and
    every claim standing belongs to exactly the decision that holds it."""
    four = small_bridges(policy, 4)
    stale, owner = make_scheduler(four), make_scheduler(four)
    ids = [f"m-{n}" for n in range(40)]
    late, first = next(
        (x, y)
        for x in ids
        for y in ids
        if x != y and set(port_order(x, 4)[:2]) & set(port_order(y, 4)[:2])
    )
    async with consumer_batch_part():
        await stale.decide(requested(late, hours=2))
        elsewhere = contextvars.Context()
        won = await asyncio.create_task(
            owner.decide(requested(first, hours=2, endpoints=("TQ-X1", "TQ-X2"))),
            context=elsewhere,
        )
        assert won is not None
        assert won["outcome"] == "assigned"
    decisions = {
        d["meeting_id"]: d async for d in db[DECISIONS].find({"meeting_id": {"$in": [late, first]}})
    }
    assert {m: d["outcome"] for m, d in decisions.items()} == {late: "assigned", first: "assigned"}
    live: dict[str, str] = {}
    for meeting in (late, first):
        for claim in await claims_of(db, meeting):
            if not await stale.store.is_released(claim):
                key = claim.rpartition("#")[0]
                assert key not in live, f"{key} held by {live.get(key)} and {meeting}"
                live[key] = meeting
    for meeting, decision in decisions.items():
        assert {k for k, m in live.items() if m == meeting} == {
            c.rpartition("#")[0] for c in decision["held"]
        }, meeting
