"""`schedule.approval: operator`: a request that fits is held (claims as an assignment's),
then an operator's HoldDecided or the hold deadline decides it, once. No Kafka, no DB."""

from __future__ import annotations

from datetime import timedelta

import pytest
from scheduling_samples import DAY, NOW, cancelled, requested

from hnth_contracts import (
    HoldDecided,
    RuleRef,
    SlotAssigned,
    SlotHeld,
    SlotRejected,
    SlotReleased,
)
from hnth_contracts.policy import Policy, Rule
from scheduling import domain
from scheduling.usecases import HOLD, RECORD, Scheduling


def operator(policy: Policy, deadline: str = "PT24H") -> Policy:
    rules = {
        **policy.rules,
        "schedule.approval": Rule(value="operator", source="test"),
        "schedule.hold_deadline": Rule(value=deadline, source="test"),
    }
    return policy.model_copy(update={"rules": rules})


@pytest.fixture
def held_scheduling(store, timers, clock, policy) -> Scheduling:
    return Scheduling(store, lambda _: operator(policy), clock, timers)


def decided(meeting_id: str, *, approved: bool, revision: int = 0) -> HoldDecided:
    return HoldDecided.create(
        tenant="tuyen-quang",
        correlation_id=meeting_id,
        producer="registration",
        occurred_at=NOW,
        meeting_id=meeting_id,
        revision=revision,
        approved=approved,
        reason=None if approved else "trùng lịch lãnh đạo",
        decided_by="operator:it",
        rule=RuleRef(rule="schedule.approval", source="test"),
    )


async def test_a_fitting_request_is_held_with_the_claims_an_assignment_takes(
    held_scheduling, store, timers
) -> None:
    decision = await held_scheduling.decide(requested("m-1"))
    assert decision is not None
    assert decision["outcome"] == "held"
    [event] = store.events
    assert isinstance(event, SlotHeld)
    assert event.expires_at == NOW + timedelta(hours=24)
    assert [r.rule for r in event.rules] == ["schedule.approval", "schedule.hold_deadline"]
    assert decision["held"]  # endpoints and ports claimed
    assert [kind for kind, *_ in timers.scheduled.values()] == [HOLD]
    # the held endpoints are busy for another request
    other = await held_scheduling.decide(requested("m-2", start=DAY + timedelta(minutes=30)))
    assert other is not None
    assert other["outcome"] == "rejected"


async def test_approval_assigns_once_however_often_it_arrives(
    held_scheduling, store, timers
) -> None:
    await held_scheduling.decide(requested("m-1"))
    approval = decided("m-1", approved=True)
    first = await held_scheduling.hold_decided(approval)
    again = await held_scheduling.hold_decided(approval)
    assert first is not None
    assert first["outcome"] == "assigned"
    assert again is not None
    assert again["outcome"] == "assigned"
    assigned = [e for e in store.events if isinstance(e, SlotAssigned)]
    assert len(assigned) == 1
    assert assigned[0].causation_id == str(approval.event_id)
    assert RECORD in [kind for kind, *_ in timers.scheduled.values()]
    # the deadline passing later changes nothing
    assert await held_scheduling.hold_expired("tuyen-quang", "m-1", 0) == []
    assert not [e for e in store.events if isinstance(e, SlotRejected)]
    assert not store.released


async def test_rejection_releases_the_claims_and_tells_the_host_why(held_scheduling, store) -> None:
    decision = await held_scheduling.decide(requested("m-1"))
    assert decision is not None
    settled = await held_scheduling.hold_decided(decided("m-1", approved=False))
    assert settled is not None
    assert settled["outcome"] == "rejected"
    _, rejection, released = store.events
    assert isinstance(rejection, SlotRejected)
    assert isinstance(released, SlotReleased)
    assert rejection.conflicts[0].rule.rule == "schedule.approval"
    assert "trùng lịch lãnh đạo" in rejection.conflicts[0].message
    assert released.reason == "hold_rejected"
    assert store.released >= set(decision["held"])
    await held_scheduling.hold_decided(decided("m-1", approved=True))  # too late: no effect
    assert len(store.events) == 3


async def test_a_hold_nobody_decides_is_released_at_its_deadline(held_scheduling, store) -> None:
    await held_scheduling.decide(requested("m-1"))
    await held_scheduling.hold_expired("tuyen-quang", "m-1", 0)
    await held_scheduling.hold_expired("tuyen-quang", "m-1", 0)
    _, rejection, released = store.events
    assert isinstance(rejection, SlotRejected)
    assert rejection.conflicts[0].rule.rule == "schedule.hold_deadline"
    assert isinstance(released, SlotReleased)
    assert released.reason == "hold_expired"
    # the endpoints are free again
    again = await held_scheduling.decide(requested("m-2", start=DAY + timedelta(minutes=30)))
    assert again is not None
    assert again["outcome"] == "held"


async def test_a_cancelled_hold_is_released_and_no_later_decision_applies(
    held_scheduling, store
) -> None:
    decision = await held_scheduling.decide(requested("m-1"))
    assert decision is not None
    await held_scheduling.cancel(cancelled("m-1"))
    assert store.released >= set(decision["held"])
    await held_scheduling.hold_decided(decided("m-1", approved=True))
    assert not [e for e in store.events if isinstance(e, SlotAssigned)]


def test_the_hold_ends_by_the_deadline_or_the_notice_deadline_whichever_is_first(
    policy,
) -> None:
    held = operator(policy, "P5D")
    start = NOW + timedelta(days=4)
    assert domain.hold_expires(held, start, NOW) == start - policy.duration("notice.lead_time")
    late = NOW + timedelta(hours=5)  # already inside the notice lead time
    assert domain.hold_expires(held, late, NOW) == late - policy.duration("check.lead_time")
    assert domain.hold_expires(operator(policy, "PT2H"), start, NOW) == NOW + timedelta(hours=2)


async def test_automatic_approval_assigns_as_before(scheduling, store) -> None:
    await scheduling.decide(requested("m-1"))
    assert isinstance(store.events[0], SlotAssigned)
