"""The timeline use cases (what the consumer does with each event) over an in-memory
store: adopting other systems' meetings, applying their changes, putting decisions, checks
and the minutes' request on the timeline, announcing minutes that came first; each once per
event. No Kafka, no database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from registration_memory import MemoryMaterials, MemoryStore
from registration_samples import announced, outcomes
from unit.test_registration_inbound import Answered, Registered, Tokens, submitted
from unit.test_registration_usecases import POLICY

from hnth_contracts import (
    GroupExpansion,
    MeetingCancelled,
    MeetingChanged,
    MeetingRequested,
    MeetingSubmitted,
    ReportDue,
    ReportKind,
    ReportSubmitted,
    RuleRef,
    SlotReleased,
    Topics,
)
from hnth_kit.auth import Principal, Role
from hnth_kit.clock import ManualClock
from hnth_kit.consumer import RawMessage, Unprocessable
from hnth_kit.refusal import Refusal
from registration import PRODUCER
from registration.handlers import handlers, sent_with
from registration.usecases.inbound import Inbound
from registration.usecases.meetings import Meetings, may_see
from registration.usecases.timeline import Timeline

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
START = NOW + timedelta(days=3)
TENANT = "tuyen-quang"
RAW = RawMessage(topic="meetings", partition=0, offset=0, key=None, value=b"")


def requested(producer: str = "e-office", tenant: str = TENANT) -> MeetingRequested:
    return announced(
        "eoffice-1", START, producer=producer, tenant=tenant, requested_by="eoffice:syt"
    )


def changed(producer: str = "e-office") -> MeetingChanged:
    return MeetingChanged.create(
        tenant=TENANT,
        correlation_id="eoffice-1",
        producer=producer,
        meeting_id="eoffice-1",
        revision=1,
        title="Họp từ văn phòng điện tử (đổi giờ)",
        host_unit="SYT",
        chair="Giám đốc Sở Y tế",
        start=START + timedelta(hours=2),
        end=START + timedelta(hours=3),
        main_endpoint="TQ-SYT",
        endpoints=("TQ-SYT",),
    )


def cancelled(producer: str = "e-office") -> MeetingCancelled:
    return MeetingCancelled.create(
        tenant=TENANT,
        correlation_id="eoffice-1",
        producer=producer,
        meeting_id="eoffice-1",
        reason="hoãn",
    )


def report_due(meeting_id: str = "eoffice-1", kind: ReportKind = ReportKind.MEETING_RECORD):
    return ReportDue.create(
        tenant=TENANT,
        correlation_id=meeting_id,
        producer="scheduling",
        report_id=f"meeting_record:{TENANT}:{meeting_id}",
        kind=kind,
        unit="SYT",
        meeting_id=meeting_id,
        period="2026",
        due_at=NOW + timedelta(days=6),
        rule=RuleRef(rule="meeting_record.due_after", source="seeds/003"),
    )


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore(units={}, endpoints={})


@pytest.fixture
def materials() -> MemoryMaterials:
    return MemoryMaterials()


@pytest.fixture
def timeline(store: MemoryStore, materials: MemoryMaterials) -> Timeline:
    return Timeline(store, materials, ManualClock(NOW))


def types(store: MemoryStore) -> list[str]:
    return [e["type"] for e in store.entries]


async def test_another_systems_meeting_is_adopted_once(timeline, store) -> None:
    event = requested()
    for _ in range(2):  # redelivered
        await timeline.requested(event)
    adopted = store.stored[(TENANT, "eoffice-1")]
    assert adopted["source"] == "e-office"
    assert (adopted["revision"], adopted["cancelled"]) == (0, False)
    assert adopted["registered_by"] == "eoffice:syt"
    assert adopted["endpoints"] == ["TQ-SYT", "TQ-STTTT"]
    assert types(store) == ["MeetingRequested"]
    assert store.entries[0]["by"] == "eoffice:syt"
    assert store.outbox == []  # adopting announces nothing of ours


async def test_own_requests_only_go_on_the_timeline(timeline, store) -> None:
    await timeline.requested(requested(producer=PRODUCER))
    assert store.stored == {}
    assert types(store) == ["MeetingRequested"]


async def test_a_meeting_id_of_another_source_is_refused(timeline, store) -> None:
    await timeline.requested(requested())
    other = requested(producer="work-calendar")
    with pytest.raises(Refusal) as refused:
        await timeline.requested(other)
    assert refused.value.code == "meeting_id_taken"
    assert store.stored[(TENANT, "eoffice-1")]["source"] == "e-office"
    assert types(store) == ["MeetingRequested"]


async def test_a_batch_reads_the_meetings_other_systems_announced_once(timeline, store) -> None:
    own = requested(producer=PRODUCER)  # registration's own: nothing to look up
    await timeline.prefetch([requested(), own, requested(tenant="lang-son"), cancelled()])
    assert store.prefetched == [(TENANT, "eoffice-1"), ("lang-son", "eoffice-1")]


async def test_the_same_id_in_another_province_is_another_meeting(timeline, store) -> None:
    await timeline.requested(requested())
    await timeline.requested(requested(tenant="lang-son"))
    assert set(store.stored) == {(TENANT, "eoffice-1"), ("lang-son", "eoffice-1")}


async def test_external_changes_and_cancellations_apply_to_the_adopted_meeting(
    timeline, store
) -> None:
    await timeline.requested(requested())
    change = changed()
    await timeline.changed(change)
    await timeline.changed(change)  # redelivered
    await timeline.cancelled(cancelled())
    meeting = store.stored[(TENANT, "eoffice-1")]
    assert meeting["revision"] == 1
    assert meeting["start"] == START + timedelta(hours=2)
    assert meeting["endpoints"] == ["TQ-SYT"]
    assert (meeting["cancelled"], meeting["cancel_reason"]) == (True, "hoãn")
    assert types(store) == ["MeetingRequested", "MeetingChanged", "MeetingCancelled"]
    assert store.entries[1]["endpoints"] == ["TQ-SYT"]
    assert store.entries[2]["reason"] == "hoãn"


async def test_a_change_to_an_unknown_meeting_still_goes_on_the_timeline(timeline, store) -> None:
    await timeline.changed(changed())
    await timeline.cancelled(cancelled())
    assert store.stored == {}
    assert types(store) == ["MeetingChanged", "MeetingCancelled"]


async def test_own_changes_are_not_applied_again(timeline, store) -> None:
    await timeline.requested(requested(producer=PRODUCER))
    store.stored[(TENANT, "eoffice-1")] = {"source": PRODUCER, "revision": 0}
    await timeline.changed(changed(producer=PRODUCER))
    assert store.stored[(TENANT, "eoffice-1")] == {"source": PRODUCER, "revision": 0}
    assert types(store) == ["MeetingRequested", "MeetingChanged"]


async def test_decisions_and_checks_go_on_the_timeline_once(timeline, store) -> None:
    assigned, rejected, check = outcomes({"id": "m1", "title": "Giao ban", "endpoints": ["A"]})
    released = SlotReleased.create(
        tenant=TENANT,
        correlation_id="m1",
        producer="scheduling",
        meeting_id="m1",
        revision=0,
        reason="cancelled",
    )
    for _ in range(2):
        await timeline.assigned(assigned)
        await timeline.rejected(rejected)
        await timeline.released(released)
        await timeline.checked(check)
    assert types(store) == ["SlotAssigned", "SlotRejected", "SlotReleased", "CheckCompleted"]
    slot, rejection, release, checked = store.entries
    assert slot["slot"]["bridge"] == "MCU-TQ"
    assert slot["check_deadline"] == assigned.check_deadline
    assert rejection["rejection"]["conflicts"][0]["resource"] == "TQ-STTTT"
    assert len(rejection["rejection"]["alternatives"]) == 1
    assert (release["revision"], release["reason"]) == (0, "cancelled")
    assert checked["check"]["outcome"] == "passed"
    assert set(checked["check"]) == {"endpoint", "outcome", "failed_items", "on_time"} | {
        "checked_by"
    }


async def test_the_endpoints_a_group_reached_are_kept_for_technicians(timeline, store) -> None:
    # a meeting to a group: its technicians find it (registration's list, may_see) by the
    # endpoints the decision expanded the group to; an older decision never overwrites
    assigned, _, _ = outcomes({"id": "m1", "title": "Giao ban", "endpoints": ["A"]})
    reached = GroupExpansion(group="ALL-COMMUNES", endpoints=("X1", "X2"))
    newer = assigned.model_copy(
        update={"revision": 1, "endpoints": ("A", "X1", "X2"), "groups": (reached,)}
    )
    store.stored[(TENANT, "m1")] = {"_id": "m1", "tenant": TENANT, "endpoints": ["A"]}
    await timeline.assigned(newer)
    older = newer.model_copy(update={"revision": 0, "endpoints": ("A", "X1")})
    await timeline.assigned(older)
    meeting = store.stored[(TENANT, "m1")]
    assert (meeting["reached"], meeting["reached_revision"]) == (["A", "X1", "X2"], 1)
    technician = Principal(subject="kt", role=Role.TECHNICIAN, tenant=TENANT, endpoints=("X2",))
    assert may_see(technician, meeting)
    assert not may_see(technician, {**meeting, "reached": ["A"]})


async def test_other_reports_due_are_ignored(timeline, store, materials) -> None:
    await timeline.report_due(report_due(kind=ReportKind.PERIODIC_INSPECTION))
    assert store.entries == []
    assert materials.records == {}


async def test_minutes_asked_for_go_on_the_timeline_without_announcement(
    timeline, store, materials
) -> None:
    await timeline.report_due(report_due())
    (entry,) = store.entries
    assert entry["type"] == "ReportDue"
    assert entry["report_id"] == f"meeting_record:{TENANT}:eoffice-1"
    assert entry["rule"] == {"rule": "meeting_record.due_after", "source": "seeds/003"}
    assert materials.records == {}  # no minutes yet


async def test_minutes_uploaded_first_are_announced_when_asked_for(
    timeline, store, materials
) -> None:
    materials.seed_minutes(TENANT, "eoffice-1")
    due = report_due()
    await timeline.report_due(due)
    await timeline.report_due(due)
    (announced,) = materials.records.values()
    assert isinstance(announced, ReportSubmitted)
    assert (announced.report_id, announced.meeting_id) == (due.report_id, "eoffice-1")
    assert (announced.producer, announced.submitted_at) == (PRODUCER, NOW)


async def test_minutes_that_announced_themselves_are_not_announced_again(
    timeline, materials
) -> None:
    materials.seed_minutes(TENANT, "eoffice-1", reports=[report_due().report_id])
    await timeline.report_due(report_due())
    assert materials.records == {}


async def test_the_type_table_sends_each_event_to_its_use_case(timeline, store) -> None:
    clock = ManualClock(NOW)
    answered = Answered()
    tokens = Tokens()
    meetings = Meetings(store, lambda _: POLICY, clock)
    inbound = Inbound(meetings, Registered(), answered, clock, tokens)
    table = handlers(timeline, inbound, Topics())
    await table[MeetingRequested](requested(), RAW)
    await table[MeetingChanged](changed(), RAW)
    assert types(store) == ["MeetingRequested", "MeetingChanged"]
    sent = NOW - timedelta(seconds=5)
    on_inbound = replace(
        RAW,
        topic=Topics().inbound(TENANT),
        headers=(("Authorization", b"Bearer token-for-vpdt"),),
        timestamp_ms=int(sent.timestamp() * 1000),
    )
    await table[MeetingSubmitted](submitted("r-1"), on_inbound)
    [reply] = answered.replies.values()  # answered, for the topic's province
    assert (reply.request_id, reply.tenant) == ("r-1", TENANT), reply
    assert getattr(reply, "code", None) != "unauthenticated_system"  # its token was read
    assert tokens.asked_at == [NOW]  # valid now: the time it was sent is not needed
    assert sent_with(on_inbound) == ("Bearer token-for-vpdt", sent)  # header, record time
    with pytest.raises(Unprocessable) as dead:
        await table[MeetingRequested](requested(producer="work-calendar"), RAW)
    assert dead.value.reason == "meeting_id_taken"
    assert str(dead.value) == f"{TENANT} already has a meeting eoffice-1 of another source"
