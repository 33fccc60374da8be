"""The IT department's levers: an operator approves or rejects a held meeting
(`schedule.approval: operator`), one HoldDecided per revision naming the rule and its
source; moves a meeting; sets a priority and pre-empts the lower-priority meetings that
alone refused a meeting. No Kafka, no database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from registration_memory import MemoryStore
from unit.test_registration_usecases import NOW, OPERATOR, POLICY, REGISTRAR, TENANT, body

from hnth_contracts import (
    Conflict,
    ConflictKind,
    HoldDecided,
    MeetingChanged,
    MeetingRequested,
    RuleRef,
    Slot,
    SlotHeld,
    SlotRejected,
    Window,
)
from hnth_kit.clock import ManualClock
from hnth_kit.refusal import Refusal
from registration.commands import MoveIn, PreemptIn, RejectIn
from registration.usecases.meetings import Meetings
from registration.usecases.timeline import Timeline


@pytest.fixture
def meetings(store: MemoryStore) -> Meetings:
    return Meetings(store, lambda _: POLICY, ManualClock(NOW))


async def held(store: MemoryStore, meetings: Meetings) -> str:
    """A registered meeting scheduling has held."""
    meeting = (await meetings.register(OPERATOR, body(), None)).meeting
    window = Window(start=meeting["start"], end=meeting["end"])
    event = SlotHeld.create(
        tenant=TENANT,
        correlation_id=meeting["_id"],
        producer="scheduling",
        occurred_at=NOW,
        meeting_id=meeting["_id"],
        title=meeting["title"],
        host_unit=meeting["host_unit"],
        endpoints=tuple(meeting["endpoints"]),
        slot=Slot(bridge="MCU-1", virtual_room="VR", dial_in="sip:x", meeting=window,
                  reserved=window),
        expires_at=NOW + timedelta(hours=24),
        rules=(RuleRef(rule="schedule.approval", source="s"),),
    )  # fmt: skip
    await Timeline(store, None, ManualClock(NOW)).held(event)  # type: ignore[arg-type]
    return str(meeting["_id"])


async def test_approving_twice_decides_once_and_names_the_rule(meetings, store) -> None:
    meeting_id = await held(store, meetings)
    shown = await meetings.decide_hold(OPERATOR, meeting_id, None)
    again = await meetings.decide_hold(OPERATOR, meeting_id, None)
    decisions = [e for e in store.outbox if isinstance(e, HoldDecided)]
    assert len(decisions) == 1
    assert decisions[0].approved
    assert decisions[0].rule == POLICY.ref("schedule.approval")
    assert shown.meeting["hold"]["approved"]
    assert again.meeting["hold"]["approved"]
    with pytest.raises(Refusal) as raised:
        await meetings.decide_hold(OPERATOR, meeting_id, RejectIn(reason="x"))
    assert (raised.value.status, raised.value.code) == (409, "hold_decided")


async def test_rejecting_carries_the_reason(meetings, store) -> None:
    meeting_id = await held(store, meetings)
    await meetings.decide_hold(OPERATOR, meeting_id, RejectIn(reason="Trùng lịch lãnh đạo"))
    [decision] = [e for e in store.outbox if isinstance(e, HoldDecided)]
    assert not decision.approved
    assert decision.reason == "Trùng lịch lãnh đạo"


async def test_a_meeting_not_held_cannot_be_approved(meetings) -> None:
    meeting = (await meetings.register(OPERATOR, body(), None)).meeting
    with pytest.raises(Refusal) as raised:
        await meetings.decide_hold(OPERATOR, meeting["_id"], None)
    assert (raised.value.status, raised.value.code) == (409, "not_held")
    assert "schedule.approval" in raised.value.en


async def test_a_registrar_may_not_decide_another_units_hold(meetings, store) -> None:
    meeting_id = await held(store, meetings)
    with pytest.raises(Refusal) as raised:
        await meetings.decide_hold(REGISTRAR, meeting_id, None)
    assert raised.value.status == 403


async def test_the_it_department_moves_a_meeting_as_a_change_with_its_reason(
    meetings, store
) -> None:
    meeting = (await meetings.register(OPERATOR, body(), None)).meeting
    start = meeting["start"] + timedelta(hours=3)
    move = MoveIn(start=start, end=start + timedelta(hours=1), reason="Lãnh đạo bận đột xuất")
    moved = await meetings.move(OPERATOR, meeting["_id"], move)
    assert moved.meeting["revision"] == 1
    assert moved.meeting["start"] == start
    changed = store.outbox[-1]
    assert isinstance(changed, MeetingChanged)
    assert (changed.revision, changed.reason) == (1, "Lãnh đạo bận đột xuất")


async def test_a_move_is_re_validated_like_a_change(meetings) -> None:
    meeting = (await meetings.register(OPERATOR, body(), None)).meeting
    start = meeting["start"]
    backwards = MoveIn(start=start, end=start - timedelta(hours=1), reason="x")
    with pytest.raises(Refusal) as raised:
        await meetings.move(OPERATOR, meeting["_id"], backwards)
    assert raised.value.status == 422
    assert "meeting.start_before_end" in {v.rule for v in raised.value.violations}


ORDER = PreemptIn(reason="Chủ tịch UBND tỉnh triệu tập")


async def refused(store: MemoryStore, meeting_id: str, preemptible: tuple[str, ...]) -> None:
    conflict = Conflict(
        kind=ConflictKind.ENDPOINT_BUSY,
        resource="TQ-UBND",
        other_meeting_id="m-low",
        rule=POLICY.ref("slot.endpoint_exclusive"),
        message="bận",
    )
    event = SlotRejected.create(
        tenant=TENANT,
        correlation_id=meeting_id,
        producer="scheduling",
        occurred_at=NOW,
        meeting_id=meeting_id,
        host_unit="VP-UBND",
        conflicts=(conflict,),
        preemptible=preemptible,
    )
    await Timeline(store, None, ManualClock(NOW)).rejected(event)  # type: ignore[arg-type]


async def test_the_priority_is_carried_on_the_request(meetings, store) -> None:
    shown = await meetings.register(OPERATOR, body(priority="lanh_dao"), None)
    assert shown.meeting["priority"] == "lanh_dao"
    [event] = [e for e in store.outbox if isinstance(e, MeetingRequested)]
    assert event.priority == "lanh_dao"


async def test_a_priority_the_role_may_not_set_is_refused_and_nothing_changes(
    meetings, store
) -> None:
    with pytest.raises(Refusal) as raised:
        await meetings.register(REGISTRAR, body(priority="lanh_dao"), None)
    assert raised.value.status == 422
    [broken] = [v for v in raised.value.violations if v.field == "priority"]
    assert (broken.field, broken.rule) == ("priority", "meeting.priorities")
    assert broken.source == POLICY.ref("meeting.priorities").source
    assert store.outbox == []


async def test_an_operator_preempts_as_a_new_revision_carrying_the_order_once(
    meetings, store
) -> None:
    meeting = (await meetings.register(OPERATOR, body(priority="lanh_dao"), None)).meeting
    await refused(store, meeting["_id"], ("m-low",))
    shown = await meetings.preempt(OPERATOR, meeting["_id"], ORDER)
    again = await meetings.preempt(OPERATOR, meeting["_id"], ORDER)
    changes = [e for e in store.outbox if isinstance(e, MeetingChanged)]
    assert len(changes) == 1
    assert (changes[0].revision, changes[0].preempt_reason) == (1, ORDER.reason)
    assert changes[0].priority == "lanh_dao"
    assert changes[0].start == meeting["start"]
    assert shown.meeting["preempt"]["reason"] == ORDER.reason
    assert again.meeting["revision"] == 1


async def test_a_meeting_refused_by_more_than_lower_meetings_cannot_be_preempted(
    meetings, store
) -> None:
    meeting = (await meetings.register(OPERATOR, body(), None)).meeting
    await refused(store, meeting["_id"], ())
    with pytest.raises(Refusal) as raised:
        await meetings.preempt(OPERATOR, meeting["_id"], ORDER)
    assert (raised.value.status, raised.value.code) == (409, "not_preemptible")
    assert "meeting.priorities" in raised.value.en
    assert not [e for e in store.outbox if isinstance(e, MeetingChanged)]
