"""Holds on the real database (`schedule.approval: operator`): two replicas settling the
same hold at once, one approving and one at the deadline, decide it once."""

from __future__ import annotations

import asyncio

from scheduling_samples import events_of, requested
from unit.test_scheduling_approval import decided, operator

from hnth_contracts import SlotAssigned, SlotRejected


async def test_racing_replicas_settle_a_hold_once(make_scheduler, policy, db) -> None:
    one, two = make_scheduler(operator(policy)), make_scheduler(operator(policy))
    held = await one.decide(requested("m-race"))
    assert held is not None
    assert held["outcome"] == "held"
    approval = decided("m-race", approved=True)
    first, _, third = await asyncio.gather(
        one.hold_decided(approval),
        two.hold_expired("tuyen-quang", "m-race", 0),  # returns no events: the outbox has them
        two.hold_decided(approval),
    )
    outcomes = {d["outcome"] for d in (first, third) if d is not None}
    assert len(outcomes) == 1
    settlement = await db["decisions"].find_one({"_id": held["_id"] + "|settled"})
    assert settlement is not None
    events = events_of(settlement)
    kinds = {type(e) for e in events}
    assert kinds in ({SlotAssigned}, {SlotRejected, type(events[-1])})
    stored = await db["decisions"].find_one({"_id": held["_id"]})
    assert stored is not None
    assert stored["outcome"] == outcomes.pop()
