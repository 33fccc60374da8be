"""Priority and pre-emption: a higher-priority request whose only obstacles are lower
meetings displaces them (automatically for the levels `schedule.preempt_automatic` names,
or on an operator's order), else its rejection offers it. No Kafka, no DB."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from scheduling_samples import DAY, changed, requested

from hnth_contracts import SlotAssigned, SlotRejected, SlotReleased
from scheduling.usecases import Scheduling

ROUTINE_ROOMS = ("TQ-UBND", "TQ-STTTT")


def of(store, kind, meeting_id):
    return [e for e in store.events if isinstance(e, kind) and e.meeting_id == meeting_id]


async def test_a_disaster_response_request_displaces_a_routine_meeting_by_itself(
    scheduling, store
) -> None:
    await scheduling.decide(requested("m-low", endpoints=ROUTINE_ROOMS))
    decision = await scheduling.decide(
        requested("m-flood", start=DAY + timedelta(minutes=30), priority="thien_tai")
    )
    assert decision is not None
    assert decision["outcome"] == "assigned"
    [told] = of(store, SlotRejected, "m-low")
    [released] = of(store, SlotReleased, "m-low")
    assert released.reason == "preempted"
    assert released.why is not None
    assert released.why.rule.rule == "schedule.preempt_automatic"
    assert released.why.rule.source.startswith("mặc định HNTH Ops")
    assert released.why.other_meeting_id == "m-flood"
    assert "thay chỗ" in released.why.message
    assert "displaced" in (released.why.message_en or "")
    assert told.correlation_id == "m-low"
    assert told.conflicts == (released.why,)
    # the host is offered windows, none overlapping the slot the flood meeting takes
    assert told.alternatives
    taken = (DAY + timedelta(minutes=30) - timedelta(hours=1), DAY + timedelta(hours=3))
    assert all(w.end <= taken[0] or w.start >= taken[1] for w in told.alternatives)
    low = store.decisions["tuyen-quang|m-low|0"]
    assert low["outcome"] == "preempted"
    assert low["preempted_by"] == "m-flood"
    assert set(low["release"]) <= store.released
    assert of(store, SlotAssigned, "m-flood")


async def test_a_level_not_automatic_is_rejected_with_the_preemption_offered(
    scheduling, store
) -> None:
    await scheduling.decide(requested("m-low"))
    decision = await scheduling.decide(requested("m-lead", priority="lanh_dao"))
    assert decision is not None
    assert decision["outcome"] == "rejected"
    [rejection] = of(store, SlotRejected, "m-lead")
    assert rejection.preemptible == ("m-low",)
    offer = rejection.conflicts[-1]
    assert offer.rule.rule == "meeting.priorities"
    assert "m-low" in offer.message
    assert store.decisions["tuyen-quang|m-low|0"]["outcome"] == "assigned"
    assert not of(store, SlotReleased, "m-low")


async def test_an_operator_order_displaces_for_a_level_not_automatic(scheduling, store) -> None:
    await scheduling.decide(requested("m-low"))
    await scheduling.decide(requested("m-lead", priority="lanh_dao"))
    ordered = changed("m-lead", 1, priority="lanh_dao", preempt_reason="Chủ tịch triệu tập")
    decision = await scheduling.decide(ordered)
    assert decision is not None
    assert decision["outcome"] == "assigned"
    [released] = of(store, SlotReleased, "m-low")
    assert released.why is not None
    assert released.why.rule.rule == "meeting.priorities"
    assert "Chủ tịch triệu tập" in released.why.message


async def test_an_equal_or_lower_priority_is_never_displaced_nor_offered(scheduling, store) -> None:
    await scheduling.decide(requested("m-flood-1", priority="thien_tai"))
    decision = await scheduling.decide(requested("m-flood-2", priority="thien_tai"))
    routine = await scheduling.decide(requested("m-routine"))
    assert decision is not None
    assert routine is not None
    assert (decision["outcome"], routine["outcome"]) == ("rejected", "rejected")
    assert all(not r.preemptible for r in store.events if isinstance(r, SlotRejected))
    assert not [e for e in store.events if isinstance(e, SlotReleased)]


async def test_one_higher_meeting_in_the_way_stops_the_whole_preemption(scheduling, store) -> None:
    await scheduling.decide(requested("m-low", endpoints=("TQ-UBND",)))
    await scheduling.decide(requested("m-lead", endpoints=("TQ-STTTT",), priority="lanh_dao"))
    decision = await scheduling.decide(requested("m-flood", priority="thien_tai"))
    assert decision is not None
    assert decision["outcome"] == "rejected"
    assert store.decisions["tuyen-quang|m-low|0"]["outcome"] == "assigned"


async def test_twin_replicas_and_redeliveries_displace_once(store, timers, clock, policy) -> None:
    one = Scheduling(store, lambda _: policy, clock, timers)
    two = Scheduling(store, lambda _: policy, clock, timers)
    await one.decide(requested("m-low"))
    flood = requested("m-flood", priority="thien_tai")
    await asyncio.gather(one.decide(flood), two.decide(flood))
    await one.decide(flood)
    await two.decide(flood)
    assert len(of(store, SlotReleased, "m-low")) == 1
    assert len(of(store, SlotRejected, "m-low")) == 1
    assert len(of(store, SlotAssigned, "m-flood")) == 1


async def test_a_meeting_a_twin_displaced_already_counts_as_displaced_not_in_the_way(
    scheduling, store, policy
) -> None:
    """A twin replica read the claims before the other displaced their meeting: it finds
    that displacement and goes on, instead of rejecting the request it was made for."""
    from scheduling import domain

    await scheduling.decide(requested("m-low"))
    flood = requested("m-flood", priority="thien_tai")
    await scheduling.decide(flood)
    seen = of(store, SlotRejected, "m-low")[0].conflicts
    conflict = seen[0].model_copy(update={"other_meeting_id": "m-low"})
    found = await scheduling._lower(domain.request_of(flood), policy, [conflict])
    assert [d["meeting_id"] for d in found] == ["m-low"]
    assert found[0]["outcome"] == "preempted"


async def test_a_competitor_between_the_release_and_the_reserve_cannot_take_the_slot(
    store, timers, clock, policy
) -> None:
    """The displaced meeting's slot is released, THEN the displacing request reserves
    again: a routine request decided in between (another replica) finds the slot the
    displacing request's already, so it is the one refused, not the request the meeting
    was displaced for; no key is held twice."""
    one = Scheduling(store, lambda _: policy, clock, timers)
    other = Scheduling(store, lambda _: policy, clock, timers)
    await one.decide(requested("m-low"))
    release = store.release
    competed: list[dict | None] = []

    async def then_compete(claim_ids, reason, at) -> None:
        await release(claim_ids, reason, at)
        if reason == "preempted" and not competed:
            competed.append(await other.decide(requested("m-rival")))

    store.release = then_compete
    decision = await one.decide(requested("m-flood", priority="thien_tai"))
    assert decision is not None
    assert decision["outcome"] == "assigned"
    [rival] = competed
    assert rival is not None
    assert rival["outcome"] == "rejected"
    assert store.decisions["tuyen-quang|m-low|0"]["outcome"] == "preempted"
    # every key the flood meeting holds is live and its own; no key has two live claims
    live = {c: d for c, d in store.claims.items() if c not in store.released}
    assert {live[c]["meeting_id"] for c in decision["held"]} == {"m-flood"}
    keys = [c.rpartition("#")[0] for c in live]
    assert len(keys) == len(set(keys))
    assert of(store, SlotAssigned, "m-flood")
    assert not of(store, SlotAssigned, "m-rival")
