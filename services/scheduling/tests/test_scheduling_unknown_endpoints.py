"""A request naming endpoints scheduling has not heard of yet waits (parked) instead of
being rejected: decided when the directory names them, or rejected once the grace period
(`directory.unknown_endpoint_grace`) has passed; one decision per (meeting, revision)
however many replicas, redeliveries and timers meet it. Real database, manual clock."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from scheduling_samples import (
    TENANT,
    cancelled,
    changed,
    endpoint,
    events_of,
    publish,
    requested,
)

from hnth_contracts import ConflictKind, SlotAssigned, SlotRejected, decode_event
from hnth_kit.testing import eventually, read_exactly
from hnth_kit.timers import FIRED
from scheduling.handlers import timer_handlers
from scheduling.store import DECISIONS, DIRECTORY, PARKED

pytestmark = pytest.mark.integration

GRACE = timedelta(minutes=10)  # the policy's directory.unknown_endpoint_grace


async def decisions_of(db, meeting_id: str) -> list[dict]:
    return await db[DECISIONS].find({"meeting_id": meeting_id}).to_list()


async def fire(scheduler) -> int:
    return await scheduler.timers.fire_due(timer_handlers(scheduler))


async def test_a_request_waits_for_its_endpoint_and_is_decided_once_it_arrives(
    make_scheduler, db, clock
) -> None:
    scheduler = make_scheduler()
    await scheduler.on_endpoint(endpoint("TQ-UBND"))  # the province's directory is arriving
    event = requested("m-1")  # TQ-UBND and TQ-STTTT
    assert await scheduler.decide(event) is None
    assert await scheduler.decide(event) is None  # redelivered while waiting
    assert await decisions_of(db, "m-1") == []
    assert await scheduler.store.parked_count() == 1

    await scheduler.on_endpoint(endpoint("TQ-STTTT"))
    [decision] = await decisions_of(db, "m-1")
    [assigned] = events_of(decision)
    assert isinstance(assigned, SlotAssigned)
    assert assigned.causation_id == str(event.event_id)
    assert await scheduler.store.parked_count() == 0

    assert (await scheduler.decide(event))["_id"] == decision["_id"]  # a late redelivery
    clock.advance(GRACE)
    await fire(scheduler)  # the grace timer finds nothing left to decide
    grace = await db[FIRED].find_one({"_id": f"unknown_endpoint|{TENANT}|m-1|0"})
    assert grace is not None
    assert grace["_outbox_n"] == 0
    assert [d["_outbox_n"] for d in await decisions_of(db, "m-1")] == [1]


async def test_an_endpoint_still_unknown_after_the_grace_is_rejected_once_naming_the_rule(
    make_scheduler, db, clock, policy
) -> None:
    scheduler = make_scheduler()
    await scheduler.on_endpoint(endpoint("TQ-UBND"))
    assert await scheduler.decide(requested("m-1", endpoints=("TQ-UBND", "TQ-NEW"))) is None

    clock.advance(GRACE - timedelta(seconds=1))
    await fire(scheduler)
    assert await decisions_of(db, "m-1") == [], "still within the grace period"

    clock.advance(timedelta(seconds=1))
    await fire(scheduler)
    [decision] = await decisions_of(db, "m-1")
    assert decision["outcome"] == "rejected"
    [rejected] = events_of(decision)
    assert isinstance(rejected, SlotRejected)
    [conflict] = rejected.conflicts
    assert (conflict.kind, conflict.resource, conflict.rule) == (
        ConflictKind.POLICY,
        "TQ-NEW",
        policy.ref("directory.endpoint_active"),
    )
    assert "không xác định" in conflict.message
    assert await scheduler.store.parked_count() == 0

    clock.advance(GRACE)
    await fire(scheduler)
    await scheduler.on_endpoint(endpoint("TQ-NEW", at=clock.now()))
    assert [d["_outbox_n"] for d in await decisions_of(db, "m-1")] == [1]


async def test_a_known_but_inactive_endpoint_is_rejected_at_once(make_scheduler) -> None:
    scheduler = make_scheduler()
    await scheduler.on_endpoint(endpoint("TQ-UBND"))
    await scheduler.on_endpoint(endpoint("TQ-STTTT", active=False))
    decision = await scheduler.decide(requested("m-1"))
    assert decision is not None
    assert decision["outcome"] == "rejected"
    assert await scheduler.store.parked_count() == 0


async def test_the_directory_on_one_replica_and_the_timer_on_another_decide_once(
    make_scheduler, db, clock
) -> None:
    one, two = make_scheduler(), make_scheduler()
    await one.on_endpoint(endpoint("TQ-UBND"))
    event = requested("m-1")
    await asyncio.gather(one.decide(event), two.decide(event))  # delivered to both
    assert await one.store.parked_count() == 1
    clock.advance(GRACE)
    await asyncio.gather(one.on_endpoint(endpoint("TQ-STTTT")), fire(two), fire(one))
    [decision] = await decisions_of(db, "m-1")
    assert decision["_outbox_n"] == 1
    assert await one.store.parked_count() == 0
    fired = {"kind": "unknown_endpoint", "_outbox_n": {"$gt": 0}}
    assert await db[FIRED].count_documents(fired) == 0, "the decision carries the events"


async def test_an_endpoint_recorded_while_the_request_parks_does_not_leave_it_waiting(
    make_scheduler, db, monkeypatch
) -> None:
    """The directory's replica looks for parked requests before this one has parked it:
    parking looks at the directory again, so the request does not wait for the timer."""
    one, other = make_scheduler(), make_scheduler()
    await one.on_endpoint(endpoint("TQ-UBND"))
    park = one.store.park

    async def endpoint_arrives_meanwhile(*args, **kwargs):
        await other.on_endpoint(endpoint("TQ-STTTT"))
        return await park(*args, **kwargs)

    monkeypatch.setattr(one.store, "park", endpoint_arrives_meanwhile)
    decision = await one.decide(requested("m-1"))
    assert decision is not None
    assert decision["outcome"] == "assigned"
    assert await one.store.parked_count() == 0


async def test_a_cancelled_parked_meeting_is_never_decided(make_scheduler, db, clock) -> None:
    scheduler = make_scheduler()
    await scheduler.on_endpoint(endpoint("TQ-UBND"))
    assert await scheduler.decide(requested("m-1")) is None
    await scheduler.cancel(cancelled("m-1"))
    assert await scheduler.store.parked_count() == 0
    await scheduler.on_endpoint(endpoint("TQ-STTTT"))
    clock.advance(GRACE)
    await fire(scheduler)
    assert [d["outcome"] for d in await decisions_of(db, "m-1")] == ["cancelled"]


async def test_a_change_of_a_parked_meeting_supersedes_the_waiting_request(
    make_scheduler, db, clock
) -> None:
    """As for any undecided revision: the change is decided, the older one is skipped."""
    scheduler = make_scheduler()
    await scheduler.on_endpoint(endpoint("TQ-UBND"))
    assert await scheduler.decide(requested("m-1", endpoints=("TQ-UBND", "TQ-NEW"))) is None
    change = await scheduler.decide(changed("m-1", 1, endpoints=("TQ-UBND",)))
    assert change is not None
    assert change["outcome"] == "assigned"
    await scheduler.on_endpoint(endpoint("TQ-NEW"))
    clock.advance(GRACE)
    await fire(scheduler)
    outcomes = {d["revision"]: d["outcome"] for d in await decisions_of(db, "m-1")}
    assert outcomes == {0: "skipped", 1: "assigned"}
    assert await scheduler.store.parked_count() == 0


async def test_on_kafka_a_request_ahead_of_its_directory_entry_is_assigned_once(
    infra, service, producer, topics, db
) -> None:
    await publish(producer, topics, endpoint("TQ-UBND"))
    await eventually(lambda: db[DIRECTORY].count_documents({}), until=lambda n: n >= 2)
    event = requested("m-1")
    await publish(producer, topics, event, event)  # ahead of TQ-STTTT, and twice
    await eventually(lambda: db[PARKED].count_documents({}), until=lambda n: n == 1)
    assert b"hnth_scheduling_parked_requests 1.0" in await service.metrics.render()
    await publish(producer, topics, endpoint("TQ-STTTT"))
    [message] = await read_exactly(infra.bootstrap_servers, topics.slots, 1)
    assigned = decode_event(message.value)
    assert isinstance(assigned, SlotAssigned)
    assert assigned.meeting_id == "m-1"
    await eventually(lambda: db[PARKED].count_documents({}), until=lambda n: n == 0)
    stored = await db[DECISIONS].find_one({"_id": f"{TENANT}|m-1|0"})
    assert stored["_outbox_n"] == 1
