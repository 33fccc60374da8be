"""Requests from any publisher on real Kafka + the database are checked again like
registration checks them: the host unit, the notice lead time (urgent meetings flagged
late), and a rejection names every conflict (endpoints AND bridge) in both languages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from scheduling_samples import (
    DAY,
    NOW,
    TENANT,
    endpoint,
    publish,
    requested,
    unit,
    write_policy,
)

from hnth_contracts import ConflictKind, SlotAssigned, SlotRejected, decode_event
from hnth_kit.testing import eventually, read_exactly
from scheduling.store import DIRECTORY, PARKED

pytestmark = pytest.mark.integration


def decided(messages) -> dict[str, object]:
    return {e.meeting_id: e for e in (decode_event(m.value) for m in messages)}  # type: ignore[attr-defined]


async def test_a_late_request_needs_an_urgent_reason_and_is_then_flagged_late(
    infra, service, producer, topics, policy
) -> None:
    tomorrow = NOW + timedelta(days=1)
    bare = requested("late", start=tomorrow, occurred_at=NOW)
    urgent = requested(
        "urgent",
        start=tomorrow + timedelta(hours=4),
        occurred_at=NOW,
        urgent_reason="Ứng phó bão số 3 theo chỉ đạo của tỉnh",
    )
    on_time = requested("on-time", start=DAY, occurred_at=NOW, endpoints=("TQ-SYT",))
    await publish(producer, topics, bare, urgent, on_time)

    decisions = decided(await read_exactly(infra.bootstrap_servers, topics.slots, 3))
    rejected, accepted, normal = decisions["late"], decisions["urgent"], decisions["on-time"]
    assert isinstance(rejected, SlotRejected)
    [conflict] = rejected.conflicts
    assert (conflict.kind, conflict.rule) == (ConflictKind.POLICY, policy.ref("notice.lead_time"))
    assert conflict.message.startswith("Cuộc họp phải được đăng ký trước ít nhất 2 ngày")
    assert conflict.message_en.startswith("Meetings must be registered at least 2 days ahead")
    assert rejected.title == bare.title
    assert isinstance(accepted, SlotAssigned)
    assert not urgent.late_notice
    assert accepted.late_notice, "flagged though the sender did not"
    assert isinstance(normal, SlotAssigned)
    assert not normal.late_notice


async def test_the_host_unit_must_be_known_and_active_and_an_unknown_one_is_waited_for(
    infra, service, producer, topics, db, policy
) -> None:
    await publish(producer, topics, unit("VP-UBND"), unit("SO-CU", active=False))
    await eventually(lambda: db[DIRECTORY].count_documents({}), until=lambda n: n >= 3)
    retired = requested("retired", endpoints=("TQ-SYT",), host_unit="SO-CU")
    waiting = requested("waiting", start=DAY + timedelta(days=1), host_unit="SO-MOI")
    good = requested("good", start=DAY + timedelta(days=2))
    await publish(producer, topics, retired, waiting, good)
    await eventually(lambda: db[PARKED].count_documents({}), until=lambda n: n == 1)
    parked = await db[PARKED].find_one({})
    assert parked["unknown"] == ["unit:SO-MOI"]

    await publish(producer, topics, unit("SO-MOI"))  # the directory catches up
    decisions = decided(await read_exactly(infra.bootstrap_servers, topics.slots, 3))
    assert isinstance(decisions["good"], SlotAssigned)
    assert isinstance(decisions["waiting"], SlotAssigned)
    refused = decisions["retired"]
    assert isinstance(refused, SlotRejected)
    [conflict] = refused.conflicts
    assert (conflict.resource, conflict.rule) == ("SO-CU", policy.ref("directory.unit_active"))
    assert conflict.message_en == "Unit SO-CU is inactive"
    await eventually(lambda: db[PARKED].count_documents({}), until=lambda n: n == 0)


async def test_an_unknown_host_unit_is_rejected_once_the_grace_has_passed(
    infra, service, producer, topics, db, clock, policy
) -> None:
    await publish(producer, topics, unit("VP-UBND"))
    await eventually(lambda: db[DIRECTORY].count_documents({}), until=lambda n: n >= 2)
    await publish(producer, topics, requested("m-1", host_unit="NOWHERE"))
    await eventually(lambda: db[PARKED].count_documents({}), until=lambda n: n == 1)
    clock.advance(policy.duration("directory.unknown_endpoint_grace"))
    [message] = await read_exactly(infra.bootstrap_servers, topics.slots, 1)
    rejected = decode_event(message.value)
    assert isinstance(rejected, SlotRejected)
    [conflict] = rejected.conflicts
    assert (conflict.resource, conflict.rule.rule) == ("NOWHERE", "directory.unit_active")
    assert conflict.message_en == "Unit NOWHERE is unknown: not in the directory"


async def test_an_older_directory_snapshot_delivered_late_never_overwrites_a_newer_one(
    infra, service, producer, topics, db, policy
) -> None:
    retired_at = NOW + timedelta(hours=1)
    await publish(
        producer,
        topics,
        endpoint("TQ-UBND"),
        endpoint("TQ-STTTT", active=False, at=retired_at),
        endpoint("TQ-STTTT", active=True, at=NOW),  # older, arriving after (a replay)
        unit("VP-UBND", active=False, at=retired_at),
        unit("VP-UBND", active=True, at=NOW),
    )
    await eventually(lambda: db[DIRECTORY].count_documents({}), until=lambda n: n == 5)
    await eventually(
        lambda: db[DIRECTORY].find_one({"_id": f"{TENANT}|unit:VP-UBND"}),
        until=lambda d: d is not None and d["occurred_at"] == retired_at,
    )
    await publish(producer, topics, requested("m-1"))
    [message] = await read_exactly(infra.bootstrap_servers, topics.slots, 1)
    rejected = decode_event(message.value)
    assert isinstance(rejected, SlotRejected)
    assert [(c.resource, c.rule.rule) for c in rejected.conflicts] == [
        ("VP-UBND", "directory.unit_active"),
        ("TQ-STTTT", "directory.endpoint_active"),
    ]
    stored = await db[DIRECTORY].find_one({"_id": f"{TENANT}|TQ-STTTT"})
    assert (stored["active"], stored["occurred_at"]) == (False, retired_at)


async def test_an_older_snapshot_is_refused_by_the_store_and_a_newer_one_wins(
    make_scheduler, db
) -> None:
    scheduler = make_scheduler()
    store = scheduler.store
    assert await store.record_endpoint(endpoint("TQ-UBND", at=NOW))
    assert await store.record_endpoint(endpoint("TQ-UBND", active=False, at=NOW + timedelta(1)))
    assert not await store.record_endpoint(endpoint("TQ-UBND", at=NOW + timedelta(hours=1)))
    assert await store.record_endpoint(endpoint("TQ-UBND", active=False, at=NOW + timedelta(1)))
    assert await store.directory_view(TENANT, ["TQ-UBND"]) == {"TQ-UBND": False}
    assert await store.record_unit(unit("VP-UBND", at=NOW))
    assert not await store.record_unit(unit("VP-UBND", active=False, at=NOW - timedelta(1)))
    assert await store.units_view(TENANT, "VP-UBND") == {"VP-UBND": True}


async def test_a_rejection_names_every_busy_endpoint_and_every_meeting_filling_the_bridge(
    infra, make_service, producer, topics, tmp_path, policy
) -> None:
    bridge = {"name": "MCU-1", "ports": 4, "dial_in": "sip:{room}@mcu1"}
    await make_service(policy_dir=write_policy(tmp_path, bridge=bridge))
    first = requested("m-a", endpoints=("TQ-UBND", "TQ-STTTT"))
    second = requested("m-b", start=DAY + timedelta(hours=1), endpoints=("TQ-SYT", "TQ-SNV"))
    await publish(producer, topics, first, second)
    await read_exactly(infra.bootstrap_servers, topics.slots, 2)
    both = requested("m-c", start=DAY + timedelta(minutes=30), endpoints=("TQ-UBND", "TQ-SGD"))
    ports = requested("m-d", start=DAY + timedelta(minutes=30), endpoints=("TQ-A", "TQ-B"))
    await publish(producer, topics, both, ports)

    decisions = decided(await read_exactly(infra.bootstrap_servers, topics.slots, 4))
    busy = decisions["m-c"]
    assert isinstance(busy, SlotRejected)
    assert busy.title == both.title
    assert [(c.kind, c.resource, c.other_meeting_id, c.rule.rule) for c in busy.conflicts] == [
        (ConflictKind.ENDPOINT_BUSY, "TQ-UBND", "m-a", "slot.endpoint_exclusive"),
        (ConflictKind.BRIDGE_CAPACITY, "MCU-1", "m-a", "bridge.ports"),
        (ConflictKind.BRIDGE_CAPACITY, "MCU-1", "m-b", "bridge.ports"),
    ]
    assert busy.conflicts[0].rule == policy.ref("slot.endpoint_exclusive")
    assert all(c.message_en and c.message_en != c.message for c in busy.conflicts)
    full = decisions["m-d"]
    assert isinstance(full, SlotRejected)
    assert [(c.kind, c.other_meeting_id) for c in full.conflicts] == [
        (ConflictKind.BRIDGE_CAPACITY, "m-a"),
        (ConflictKind.BRIDGE_CAPACITY, "m-b"),
    ]
    assert full.conflicts[1].other_window.start == second.start
    assert full.alternatives, "windows with free ports are offered"
