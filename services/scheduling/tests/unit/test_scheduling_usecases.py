"""The use cases over the in-memory store: what a decision writes and emits, and that a
redelivered event decides nothing twice. No Kafka, no database."""

from __future__ import annotations

import itertools
from datetime import timedelta

from scheduling_samples import DAY, NOW, cancelled, changed, endpoint, requested, unit

from hnth_contracts import ConflictKind, SlotAssigned, SlotRejected, SlotReleased
from scheduling import domain
from scheduling.usecases import RECORD, UNKNOWN_ENDPOINT


async def test_a_free_request_is_assigned_and_holds_its_endpoints_and_ports(
    scheduling, store, timers
) -> None:
    decision = await scheduling.decide(requested("m-1"))
    assert decision is not None
    assert decision["outcome"] == "assigned"
    [event] = store.events
    assert isinstance(event, SlotAssigned)
    assert event.meeting_id == "m-1"
    endpoints = [c for c in decision["held"] if "|ep|" in c]
    ports = [c for c in decision["held"] if "|port|" in c]
    spans = len(domain.buckets(event.slot.reserved))
    assert (len(endpoints), len(ports)) == (2 * spans, 2 * spans)
    assert [kind for kind, *_ in timers.scheduled.values()] == [RECORD]


async def test_a_conflicting_request_is_rejected_with_the_holder_and_alternatives(
    scheduling, store
) -> None:
    await scheduling.decide(requested("m-1"))
    decision = await scheduling.decide(requested("m-2", start=DAY + timedelta(minutes=30)))
    assert decision is not None
    assert decision["outcome"] == "rejected"
    rejected = store.events[-1]
    assert isinstance(rejected, SlotRejected)
    assert {c.kind for c in rejected.conflicts} == {ConflictKind.ENDPOINT_BUSY}
    assert {c.other_meeting_id for c in rejected.conflicts} == {"m-1"}
    assert len(rejected.alternatives) == domain.ALTERNATIVES
    offered = sorted(rejected.alternatives, key=lambda w: w.start)
    assert all(a.end <= b.start for a, b in itertools.pairwise(offered)), "three choices"
    assert not set(decision["release"]) - store.released, "what it claimed is released"


async def test_a_redelivered_request_decides_nothing_twice(scheduling, store) -> None:
    event = requested("m-1")
    first = await scheduling.decide(event)
    again = await scheduling.decide(event)
    assert again == first
    assert len(store.events) == 1
    assert len(store.decisions) == 1


async def test_a_broken_rule_rejects_without_claiming(scheduling, store, policy) -> None:
    decision = await scheduling.decide(requested("m-1", start=NOW - timedelta(minutes=5)))
    assert decision is not None
    assert decision["outcome"] == "rejected"
    [rejected] = store.events
    assert isinstance(rejected, SlotRejected)
    assert [c.rule for c in rejected.conflicts] == [policy.ref("meeting.not_in_past")]
    assert store.claims == {}


async def test_a_change_moves_the_slot_and_releases_the_old_one(scheduling, store) -> None:
    first = await scheduling.decide(requested("m-1"))
    assert first is not None
    moved = await scheduling.decide(changed("m-1", 1, start=DAY + timedelta(days=1)))
    assert moved is not None
    assert moved["outcome"] == "assigned"
    assert isinstance(store.events[-1], SlotReleased)
    assert store.events[-1].reason == "changed"
    assert set(first["held"]) <= store.released


async def test_cancel_releases_the_slot_once(scheduling, store) -> None:
    decision = await scheduling.decide(requested("m-1"))
    assert decision is not None
    event = cancelled("m-1", "Lãnh đạo bận họp đột xuất")
    await scheduling.cancel(event)
    await scheduling.cancel(event)
    released = [e for e in store.events if isinstance(e, SlotReleased)]
    assert [e.reason for e in released] == ["cancelled"]
    # the parties told by the release read why (it may reach notification first)
    assert [e.cancel_reason for e in released] == ["Lãnh đạo bận họp đột xuất"]
    assert set(decision["held"]) <= store.released
    assert await scheduling.decide(requested("m-1")) is None, "a cancelled meeting is over"


async def test_an_unknown_endpoint_parks_the_request_until_the_directory_names_it(
    scheduling, store, timers
) -> None:
    await scheduling.on_endpoint(endpoint("TQ-UBND"))
    assert await scheduling.decide(requested("m-1")) is None
    assert store.events == []
    assert UNKNOWN_ENDPOINT in [kind for kind, *_ in timers.scheduled.values()]
    await scheduling.on_endpoint(endpoint("TQ-STTTT"))
    [assigned] = store.events
    assert isinstance(assigned, SlotAssigned)
    assert store.parked_entries == {}


async def test_a_request_without_the_letter_its_province_asks_for_is_rejected(
    scheduling, store, policy
) -> None:
    """Another system's request on the bus meets the same rule 1 as registration's form."""
    from hnth_contracts.policy import Rule

    rules = {**policy.rules, "registration.official_letter": Rule(value=True, source="test")}
    asking = policy.model_copy(update={"rules": rules})
    scheduling.policy_for = lambda _: asking
    decision = await scheduling.decide(requested("m-1"))
    assert decision is not None
    assert decision["outcome"] == "rejected"
    [rejected] = store.events
    assert {c.rule.rule for c in rejected.conflicts} == {"registration.official_letter"}
    lettered = requested("m-2", document_number="125/VP-HCTC", document_date=NOW.date())
    assert (await scheduling.decide(lettered))["outcome"] == "assigned"
    assigned = store.events[-1]
    assert isinstance(assigned, SlotAssigned)
    assert (assigned.document_number, assigned.document_date) == ("125/VP-HCTC", NOW.date())


async def test_a_group_expands_to_its_active_endpoints_and_the_slot_records_it(
    scheduling, store
) -> None:
    from hnth_contracts import UnitKind, UnitUpdated

    for code, kind in (("X-A", UnitKind.COMMUNE), ("P-B", UnitKind.WARD)):
        await scheduling.on_unit(
            UnitUpdated.create(
                tenant="tuyen-quang",
                correlation_id="d",
                producer="registration",
                code=code,
                name=code,
                kind=kind,
            )
        )
    for code, owner, active in (("TQ-X-A", "X-A", True), ("TQ-X-A2", "X-A", False)):
        event = endpoint(code, active=active).model_copy(update={"unit": owner})
        await scheduling.on_endpoint(event)
    await scheduling.on_endpoint(endpoint("TQ-P-B").model_copy(update={"unit": "P-B"}))
    for code in ("TQ-UBND", "TQ-STTTT"):
        await scheduling.on_endpoint(endpoint(code))
    await scheduling.on_unit(unit("VP-UBND"))  # the host unit, now that units are known
    decision = await scheduling.decide(requested("m-g", groups=("ALL-COMMUNES",)))
    assert decision is not None
    assert decision["outcome"] == "assigned"
    assert decision["groups"] == {"ALL-COMMUNES": ["TQ-X-A"]}
    [assigned] = [e for e in store.events if isinstance(e, SlotAssigned)]
    assert assigned.endpoints == ("TQ-UBND", "TQ-STTTT", "TQ-X-A")
    assert [(g.group, g.endpoints) for g in assigned.groups] == [("ALL-COMMUNES", ("TQ-X-A",))]


def test_an_endpoint_the_meeting_leaves_out_is_not_reached_through_its_group() -> None:
    """A backup switch leaves a group member out (`excluded`): the group still stands."""
    from hnth_contracts.groups import Group, Member

    group = Group("G", "Nhóm", "Group", endpoints=frozenset({"TQ-X-A", "TQ-X-B"}))
    members = [Member("TQ-X-A", "X-A", True), Member("TQ-X-B", "X-B", True)]
    asked = requested("m-x", groups=("G",), excluded=("TQ-X-B",))
    request = domain.with_groups(domain.request_of(asked), {"G": group}, members, {})
    assert request.expanded == (("G", ("TQ-X-A",)),)
    assert "TQ-X-B" not in request.rooms
    assert "TQ-X-A" in request.rooms


async def test_ports_another_meeting_holds_are_passed_over_without_a_read(
    scheduling, store, policy, monkeypatch
) -> None:
    """Two meetings at once on other endpoints, whose port orders start alike: the second
    claims the next ports this replica knows free, blind, and reads none of the bucket."""
    ports = domain.bridges_in_order(policy, None)[0].ports
    first = "m-first"
    second = next(
        m
        for m in (f"m-{n}" for n in range(1000))
        if domain.port_order(m, ports)[0] == domain.port_order(first, ports)[0]
    )
    assigned = await scheduling.decide(requested(first))
    assert assigned is not None
    read: list[str] = []
    states = store.states

    async def reading(keys, since=None):  # type: ignore[no-untyped-def]
        keys = list(keys)
        read.extend(keys)
        return await states(keys, since)

    monkeypatch.setattr(store, "states", reading)
    decision = await scheduling.decide(requested(second, endpoints=("TQ-H-SONDUONG",)))
    assert decision is not None
    assert decision["outcome"] == "assigned"
    held = {c.rpartition("#")[0] for c in assigned["held"] if "|port|" in c}
    taken = {c.rpartition("#")[0] for c in decision["held"] if "|port|" in c}
    assert taken
    assert not held & taken
    assert [k for k in read if "|port|" in k] == []
