"""A meeting bigger than one bridge is cascaded over several: the plan (pure), and what the
use case claims, records and emits over the in-memory store. No Kafka, no database."""

from __future__ import annotations

from datetime import timedelta

from scheduling_samples import DAY, requested, small_bridges

from hnth_contracts import ConflictKind, SlotAssigned, SlotRejected
from hnth_contracts.policy import Policy, Rule
from hnth_kit.mongo import Document
from scheduling import domain
from scheduling.domain import CASCADE, Share, cascade, cascade_plan
from scheduling.usecases import Scheduling

ROOMS = tuple(f"TQ-X-{n:02}" for n in range(10))


def with_cascade(policy: Policy, allowed: bool) -> Policy:
    rules = {**policy.rules, CASCADE: Rule(value=allowed, source=policy.rules[CASCADE].source)}
    return policy.model_copy(update={"rules": rules})


async def decide_big(scheduling: Scheduling) -> Document:
    """Decide a meeting of 5 endpoints, TQ-UBND the main one."""
    event = requested("m-big", endpoints=("TQ-UBND", "TQ-A", "TQ-B", "TQ-C", "TQ-D"))
    decision = await scheduling.decide(event)
    assert decision is not None
    return decision


def test_a_meeting_one_bridge_holds_is_not_cascaded() -> None:
    assert cascade_plan(ROOMS, "TQ-X-03", [("A", 5), ("B", 12)]) == [Share("B", ROOMS)]


def test_a_cascade_spends_a_port_on_each_side_of_every_link() -> None:
    shares = cascade_plan(ROOMS, "TQ-X-09", [("A", 6), ("B", 6)])
    assert shares is not None
    host, linked = shares
    assert "TQ-X-09" in host.endpoints, "the host bridge holds the main endpoint"
    assert (host.bridge, len(host.endpoints), host.links, host.ports) == ("A", 5, 1, 6)
    assert (linked.bridge, len(linked.endpoints), linked.links, linked.ports) == ("B", 5, 1, 6)
    assert sorted(host.endpoints + linked.endpoints) == sorted(ROOMS)


def test_the_bridge_with_most_free_ports_hosts_and_as_few_bridges_as_needed_are_linked() -> None:
    shares = cascade_plan(ROOMS, "TQ-X-00", [("A", 3), ("B", 8), ("C", 4), ("D", 2)])
    assert shares is not None
    assert [(s.bridge, s.links, s.ports) for s in shares] == [("B", 1, 8), ("C", 1, 4)]


def test_what_even_the_cascade_cannot_hold_has_no_plan() -> None:
    assert cascade.capacity([6, 6]) == 10
    assert cascade.capacity([6, 2, 1]) == 6, "a bridge with 2 free ports adds nothing"
    assert cascade_plan((*ROOMS, "TQ-X-10"), "TQ-X-00", [("A", 6), ("B", 6)]) is None


async def test_a_meeting_bigger_than_each_bridge_is_cascaded_over_two(
    store, timers, clock, policy
) -> None:
    decision = await decide_big(
        Scheduling(store, lambda _: small_bridges(policy, 4, 4), clock, timers)
    )
    assert decision["outcome"] == "assigned", store.events
    [assigned] = store.events
    assert isinstance(assigned, SlotAssigned)
    host, linked = assigned.slot.cascade
    assert (host.bridge, host.host, linked.bridge, linked.host) == ("MCU-1", True, "MCU-2", False)
    assert "TQ-UBND" in host.endpoints
    assert (host.ports, linked.ports) == (4, 3)  # 3 + 1 link, 2 + 1 link
    assert linked.dial_in == "sip:VR-m-big@mcu2.example"
    assert CASCADE in {r.rule for r in assigned.rules}
    assert decision["cascade"] == [
        {"bridge": s.bridge, "endpoints": list(s.endpoints), "ports": s.ports}
        for s in assigned.slot.cascade
    ]
    spans = len(domain.buckets(assigned.slot.reserved))
    ports = [c.split("|")[2] for c in decision["held"] if "|port|" in c]
    assert (ports.count("MCU-1"), ports.count("MCU-2")) == (4 * spans, 3 * spans)


async def test_no_room_left_for_a_second_cascade_is_a_rejection_with_the_numbers(
    store, timers, clock, policy
) -> None:
    two = small_bridges(policy, 4, 4)
    scheduling = Scheduling(store, lambda _: two, clock, timers)
    await scheduling.decide(requested("m-1", endpoints=("TQ-UBND", "TQ-A", "TQ-B", "TQ-C")))
    later = DAY + timedelta(minutes=30)
    other = ("TQ-E", "TQ-F", "TQ-G", "TQ-H", "TQ-I")
    decision = await scheduling.decide(requested("m-2", start=later, endpoints=other))
    assert decision is not None
    assert decision["outcome"] == "rejected"
    rejected = store.events[-1]
    assert isinstance(rejected, SlotRejected)
    [numbers] = [c for c in rejected.conflicts if c.rule.rule == CASCADE]
    assert numbers.kind == ConflictKind.BRIDGE_CAPACITY
    assert "MCU-1 0/4" in numbers.message
    assert "MCU-2 4/4" in (numbers.message_en or "")
    assert not set(decision["release"]) - store.released, "its claims are released"


async def test_a_province_that_does_not_cascade_refuses_what_one_bridge_cannot_hold(
    store, timers, clock, policy
) -> None:
    single = with_cascade(small_bridges(policy, 4, 4), allowed=False)
    decision = await decide_big(Scheduling(store, lambda _: single, clock, timers))
    assert decision["outcome"] == "rejected"
    [rejected] = store.events
    assert isinstance(rejected, SlotRejected)
    assert {c.rule.rule for c in rejected.conflicts} == {"bridge.ports"}


async def test_a_meeting_bigger_than_all_bridges_cascaded_is_refused_before_claiming(
    store, timers, clock, policy
) -> None:
    decision = await decide_big(
        Scheduling(store, lambda _: small_bridges(policy, 3, 3), clock, timers)
    )
    assert decision["outcome"] == "rejected"
    [rejected] = store.events
    assert isinstance(rejected, SlotRejected)
    [conflict] = rejected.conflicts
    assert conflict.rule.rule == CASCADE
    assert "Cần 5 cổng" in conflict.message
    assert not store.claims
