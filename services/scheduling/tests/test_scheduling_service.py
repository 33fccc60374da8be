"""The service on real Kafka + the database: requests from any publisher answered on the
slots topic, and the calendar's ReportDue timers driven by a manual clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from scheduling_samples import (
    DAY,
    NOW,
    cancelled,
    changed,
    endpoint,
    publish,
    requested,
    write_policy,
)

from hnth_contracts import (
    ConflictKind,
    ReportDue,
    ReportKind,
    SlotAssigned,
    SlotRejected,
    decode_event,
)
from hnth_kit.testing import eventually, read_exactly
from hnth_kit.timers import FIRED
from scheduling.store import DECISIONS

pytestmark = pytest.mark.integration


async def test_requests_from_any_publisher_are_decided_once_on_the_slots_topic(
    infra, service, producer, topics, db
) -> None:
    good = requested("m-1")
    backwards = requested("m-2", hours=-2, endpoints=("TQ-SYT",))
    await publish(producer, topics, good, good, backwards)  # m-1 delivered twice

    messages = await read_exactly(infra.bootstrap_servers, topics.slots, 2)
    decisions = {e.meeting_id: e for e in map(decode_event, (m.value for m in messages))}  # type: ignore[attr-defined]
    assigned, rejected = decisions["m-1"], decisions["m-2"]
    assert isinstance(assigned, SlotAssigned)
    assert assigned.causation_id == str(good.event_id)
    assert isinstance(rejected, SlotRejected)
    assert [(c.kind, c.rule.rule) for c in rejected.conflicts] == [
        (ConflictKind.POLICY, "meeting.start_before_end")
    ]
    assert all(m.key in (b"m-1", b"m-2") for m in messages)
    stored = await db[DECISIONS].find_one({"_id": "tuyen-quang|m-1|0"})
    assert stored["_outbox_n"] == 1, "the duplicate changed nothing"


async def test_calendar_timers_emit_report_due_once_when_their_time_comes(
    infra, service, producer, topics, db, clock
) -> None:
    await publish(
        producer,
        topics,
        endpoint("TQ-UBND"),
        endpoint("TQ-OFF", active=False),
        requested("m-1", endpoints=("TQ-UBND",)),
    )
    # 1/12: the 2026 annual report (due 15/12, announced 30 days ahead) is already announced
    [annual] = await read_exactly(infra.bootstrap_servers, topics.reports, 1)
    report = decode_event(annual.value)
    assert isinstance(report, ReportDue)
    assert (report.kind, report.endpoint, report.unit, report.period) == (
        ReportKind.ANNUAL_ENDPOINT_REPORT,
        "TQ-UBND",
        "STTTT",
        "2026",
    )
    assert report.due_at == datetime(2026, 12, 15, 17, 0, tzinfo=UTC)
    assert report.rule.rule == "report.annual.due"
    await read_exactly(infra.bootstrap_servers, topics.slots, 1)

    clock.set(datetime(2026, 12, 18, tzinfo=UTC))  # Q4 inspection announced; m-1 long over
    messages = await read_exactly(infra.bootstrap_servers, topics.reports, 3)
    reports = {r.kind: r for r in (decode_event(m.value) for m in messages)}  # type: ignore[misc]
    inspection = reports[ReportKind.PERIODIC_INSPECTION]
    assert (inspection.endpoint, inspection.period) == ("TQ-UBND", "2026-Q4")
    assert inspection.rule.rule == "inspection.period_months"
    record = reports[ReportKind.MEETING_RECORD]
    assert (record.meeting_id, record.unit) == ("m-1", "VP-UBND")
    assert record.due_at == DAY + timedelta(hours=2, days=3)
    assert record.report_id == "meeting_record:tuyen-quang:m-1:2026-12-10"
    # every due timer fired exactly once: both endpoints' annual and Q4 timers, m-1's record
    await eventually(lambda: db[FIRED].count_documents({}), until=lambda n: n == 5)
    staged = [doc.get("_outbox_n", 0) async for doc in db[FIRED].find({})]
    assert sum(staged) == 3, "the inactive endpoint owes nothing"


async def test_the_meeting_record_is_due_only_for_the_slot_that_stands(
    infra, service, producer, topics, db, clock
) -> None:
    """A changed meeting's record is due once, for its new time; a cancelled one owes none."""
    await publish(
        producer,
        topics,
        requested("moved", hours=1),
        requested("dropped", hours=1, start=DAY + timedelta(days=1), endpoints=("TQ-SYT",)),
    )
    await read_exactly(infra.bootstrap_servers, topics.slots, 2)
    later = DAY + timedelta(days=2)
    await publish(producer, topics, changed("moved", 1, start=later, hours=1), cancelled("dropped"))
    await read_exactly(infra.bootstrap_servers, topics.slots, 5)  # + assigned, 2 released

    clock.set(DAY + timedelta(days=1, hours=2))  # the old "moved" and "dropped" have ended
    await eventually(lambda: db[FIRED].count_documents({}), until=lambda n: n == 2)
    clock.set(later + timedelta(hours=1))
    [message] = await read_exactly(infra.bootstrap_servers, topics.reports, 1)
    record = decode_event(message.value)
    assert isinstance(record, ReportDue)
    assert (record.kind, record.meeting_id) == (ReportKind.MEETING_RECORD, "moved")
    assert record.due_at == later + timedelta(hours=1, days=3)
    fired = {d["_id"]: d.get("_outbox_n", 0) async for d in db[FIRED].find({})}
    assert fired == {
        "meeting_record|tuyen-quang|moved|0": 0,
        "meeting_record|tuyen-quang|dropped|0": 0,
        "meeting_record|tuyen-quang|moved|1": 1,
    }


async def test_buffers_and_lead_times_a_policy_omits_take_their_defaults(
    infra, make_service, producer, topics, tmp_path
) -> None:
    omitted = ["slot.setup_buffer", "check.lead_time", "notice.lead_time"]
    await make_service(policy_dir=write_policy(tmp_path, drop=omitted))
    start = NOW + timedelta(days=3)
    await publish(producer, topics, requested("m-1", start=start, occurred_at=NOW))
    await publish(
        producer, topics, requested("m-2", start=NOW + timedelta(days=1), occurred_at=NOW)
    )
    decisions = {
        e.meeting_id: e
        for e in (
            decode_event(m.value)
            for m in await read_exactly(infra.bootstrap_servers, topics.slots, 2)
        )
    }
    assigned, late = decisions["m-1"], decisions["m-2"]
    assert isinstance(assigned, SlotAssigned)
    assert assigned.slot.reserved.start == start - timedelta(hours=1)
    assert assigned.check_deadline == start - timedelta(hours=1)
    assert assigned.notice_deadline == start - timedelta(days=2)
    cited = {r.rule: r.source for r in assigned.rules}
    assert all(cited[rule].startswith("mặc định HNTH Ops") for rule in omitted)
    assert isinstance(late, SlotRejected)
    [conflict] = late.conflicts
    assert conflict.rule.rule == "notice.lead_time"
    assert conflict.rule.source.startswith("mặc định HNTH Ops")
