"""Decisions on the real database: slots, conflicts with alternatives, changes,
cancellations, bridge capacity, re-validation, redelivery and racing replicas."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from scheduling_samples import (
    DAY,
    all_ids,
    cancelled,
    changed,
    endpoint,
    events_of,
    requested,
    small_bridges,
)

from hnth_contracts import ConflictKind, SlotAssigned, SlotRejected, SlotReleased
from scheduling import domain
from scheduling.store import CLAIMS

pytestmark = pytest.mark.integration


async def live(scheduler, claim_ids) -> list[str]:
    return [c for c in claim_ids if not await scheduler.store.is_released(c)]


async def test_request_gets_a_slot_holding_every_endpoint_and_port_bucket(make_scheduler) -> None:
    scheduler = make_scheduler()
    decision = await scheduler.decide(requested("m-1", hours=2))
    assert decision["outcome"] == "assigned"
    [event] = events_of(decision)
    assert isinstance(event, SlotAssigned)
    assert event.slot.bridge == "MCU-TQ"
    assert event.slot.reserved.start == DAY - timedelta(hours=1)
    spans = len(domain.buckets(event.slot.reserved))  # 08:00-10:00 + 1h15 of buffers: 13
    assert spans == 13
    assert len(decision["held"]) == 2 * spans + 2 * spans  # 2 endpoints, 2 ports
    assert await live(scheduler, decision["held"]) == decision["held"]


async def test_overlap_is_rejected_naming_the_other_meeting_and_free_alternatives(
    make_scheduler,
) -> None:
    scheduler = make_scheduler()
    await scheduler.decide(requested("m-1", hours=2))
    clash = requested("m-2", start=DAY + timedelta(hours=1), endpoints=("TQ-STTTT", "TQ-SYT"))
    decision = await scheduler.decide(clash)
    assert decision["outcome"] == "rejected"
    [event] = events_of(decision)
    assert isinstance(event, SlotRejected)
    [conflict] = event.conflicts
    assert (conflict.kind, conflict.resource, conflict.other_meeting_id) == (
        ConflictKind.ENDPOINT_BUSY,
        "TQ-STTTT",
        "m-1",
    )
    assert conflict.other_window.start == DAY
    assert len(event.alternatives) == 3
    assert all(a.end - a.start == timedelta(hours=2) for a in event.alternatives)
    taken = set(
        domain.buckets(
            domain.reserved_window(DAY, DAY + timedelta(hours=2), scheduler.policy_for("x"))
        )
    )
    for alternative in event.alternatives:
        reserved = domain.reserved_window(
            alternative.start, alternative.end, scheduler.policy_for("x")
        )
        assert not taken & set(domain.buckets(reserved))
    nearest = event.alternatives[0]
    retry = requested("m-3", start=nearest.start, endpoints=("TQ-STTTT", "TQ-SYT"))
    assert (await scheduler.decide(retry))["outcome"] == "assigned", "an alternative is really free"


async def test_redelivered_and_duplicated_requests_get_exactly_one_decision(make_scheduler) -> None:
    scheduler = make_scheduler()
    event = requested("m-1")
    first = await scheduler.decide(event)
    again = await scheduler.decide(event)
    copy = requested("m-1", start=DAY + timedelta(days=1))  # same meeting, another event id
    third = await scheduler.decide(copy)
    assert first["_id"] == again["_id"] == third["_id"]
    assert len(events_of(third)) == 1
    assert third["start"] == DAY, "the first decision stands"


async def test_change_reserves_the_new_window_then_releases_the_old(make_scheduler) -> None:
    scheduler = make_scheduler()
    old = await scheduler.decide(requested("m-1"))
    moved = await scheduler.decide(changed("m-1", 1, start=DAY + timedelta(hours=1)))
    assigned, released = events_of(moved)
    assert isinstance(assigned, SlotAssigned)
    assert assigned.revision == 1
    assert isinstance(released, SlotReleased)
    assert (released.revision, released.reason) == (
        0,
        "changed",
    )
    kept = set(old["held"]) & set(moved["held"])
    assert kept, "overlapping buckets stay claimed across the change"
    assert await live(scheduler, moved["held"]) == moved["held"]
    assert await live(scheduler, set(old["held"]) - kept) == []
    early = requested("m-2", start=DAY - timedelta(hours=3), hours=1)
    assert (await scheduler.decide(early))["outcome"] == "assigned", "the freed hour is usable"


async def test_rejected_change_leaves_the_old_slot_intact(make_scheduler) -> None:
    scheduler = make_scheduler()
    old = await scheduler.decide(requested("m-1"))
    await scheduler.decide(requested("m-2", start=DAY + timedelta(hours=5)))
    refused = await scheduler.decide(changed("m-1", 1, start=DAY + timedelta(hours=5)))
    assert refused["outcome"] == "rejected"
    [event] = events_of(refused)
    assert {c.other_meeting_id for c in event.conflicts} == {"m-2"}
    assert await live(scheduler, old["held"]) == old["held"]
    assert await live(scheduler, refused["release"]) == []
    intruder = await scheduler.decide(requested("m-3", start=DAY))
    assert {c.other_meeting_id for c in events_of(intruder)[0].conflicts} == {"m-1"}


async def test_cancellation_releases_everything_and_ends_the_meeting(make_scheduler) -> None:
    scheduler = make_scheduler()
    slot = await scheduler.decide(requested("m-1"))
    gone = await scheduler.cancel(cancelled("m-1"))
    [event] = events_of(gone)
    assert isinstance(event, SlotReleased)
    assert event.reason == "cancelled"
    assert await live(scheduler, slot["held"]) == []
    assert (await scheduler.cancel(cancelled("m-1")))["_id"] == gone["_id"]
    assert await scheduler.decide(changed("m-1", 1)) is None, "a cancelled meeting stays so"
    assert (await scheduler.decide(requested("m-2")))["outcome"] == "assigned"


async def test_request_arriving_after_its_cancellation_is_ignored(make_scheduler) -> None:
    scheduler = make_scheduler()
    await scheduler.cancel(cancelled("m-9"))
    assert await scheduler.decide(requested("m-9")) is None


async def test_bridge_capacity_rejects_then_a_second_bridge_takes_the_meeting(
    make_scheduler, policy
) -> None:
    one = make_scheduler(small_bridges(policy, 3))
    await one.decide(requested("m-1", endpoints=("A-1", "A-2")))
    full = await one.decide(requested("m-2", endpoints=("B-1", "B-2")))
    [event] = events_of(full)
    [conflict] = event.conflicts
    assert (conflict.kind, conflict.resource, conflict.other_meeting_id) == (
        ConflictKind.BRIDGE_CAPACITY,
        "MCU-1",
        "m-1",
    )
    assert conflict.rule.rule == "bridge.ports"
    assert event.alternatives, "windows with free ports are offered"

    two = make_scheduler(small_bridges(policy, 3, 3))
    spare = await two.decide(requested("m-3", endpoints=("C-1", "C-2")))
    assert spare["bridge"] == "MCU-2"
    assert events_of(spare)[0].slot.dial_in == "sip:VR-m-3@mcu2.example"


async def test_broken_rules_from_other_publishers_are_rejections_naming_the_rule(
    make_scheduler,
) -> None:
    scheduler = make_scheduler()
    await scheduler.on_endpoint(endpoint("TQ-UBND"))
    await scheduler.on_endpoint(endpoint("TQ-STTTT", active=False))
    inactive = await scheduler.decide(requested("m-1"))
    [conflict] = events_of(inactive)[0].conflicts
    assert (conflict.kind, conflict.resource, conflict.rule.rule) == (
        ConflictKind.POLICY,
        "TQ-STTTT",
        "directory.endpoint_active",
    )
    backwards = await scheduler.decide(requested("m-2", hours=-1, endpoints=("TQ-UBND",)))
    [conflict] = events_of(backwards)[0].conflicts
    assert conflict.rule.rule == "meeting.start_before_end"
    assert conflict.rule.source
    assert inactive["held"] == []
    assert backwards["release"] == []


async def test_racing_replicas_give_one_slot_and_leave_no_stray_claims(make_scheduler, db) -> None:
    replicas = [make_scheduler() for _ in range(3)]
    events = [requested(f"race-{n}", start=DAY + timedelta(minutes=15 * n)) for n in range(9)]
    decisions = await asyncio.gather(
        *(replicas[n % 3].decide(e) for n, e in enumerate(events)),
        *(replicas[(n + 1) % 3].decide(e) for n, e in enumerate(events)),  # twins
    )
    by_meeting = {d["meeting_id"]: d for d in decisions}
    assert len(by_meeting) == 9
    assert all(d["_id"] == by_meeting[d["meeting_id"]]["_id"] for d in decisions)
    winners = [d for d in by_meeting.values() if d["outcome"] == "assigned"]
    assert len(winners) == 1, "all nine overlap on TQ-UBND"
    losers = [d for d in by_meeting.values() if d["outcome"] == "rejected"]
    for loser in losers:
        assert await live(replicas[0], loser["release"]) == []
    everything = await all_ids(db, CLAIMS)
    assert sorted(await live(replicas[0], everything)) == sorted(winners[0]["held"])


async def test_retry_after_a_crash_before_the_decision_adopts_its_own_claims(
    make_scheduler, db, monkeypatch
) -> None:
    scheduler = make_scheduler()
    record = scheduler.store.record

    async def crash(*args, **kwargs):
        raise ConnectionError("replica died before recording the decision")

    monkeypatch.setattr(scheduler.store, "record", crash)
    event = requested("m-1")
    with pytest.raises(ConnectionError):
        await scheduler.decide(event)
    monkeypatch.setattr(scheduler.store, "record", record)
    decision = await scheduler.decide(event)  # the redelivery
    assert decision["outcome"] == "assigned"
    everything = await all_ids(db, CLAIMS)
    assert sorted(await live(scheduler, everything)) == sorted(decision["held"])
