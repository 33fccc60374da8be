"""The IT department switches a failing endpoint to its backup in the meeting's last hour
(`backup.switch_window`): one change naming the backup, the rule and its source. No
Kafka, no database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from registration_memory import MemoryStore
from unit.test_registration_usecases import NOW, OPERATOR, POLICY, REGISTRAR, body

from hnth_contracts import MeetingChanged
from hnth_kit.clock import ManualClock
from hnth_kit.refusal import Refusal
from registration.commands import MeetingPatch, SwitchBackupIn
from registration.domain import backup
from registration.usecases.meetings import Meetings


@pytest.fixture
def store() -> MemoryStore:
    store = MemoryStore(
        units={"VP-UBND": True, "SYT": True},
        endpoints={"TQ-UBND": True, "TQ-STTTT": True, "TQ-SYT": True, "TQ-SYT-4G": True},
    )
    store.endpoints.entries["TQ-SYT"]["backup"] = "TQ-SYT-4G"
    store.endpoints.entries["TQ-UBND"]["backup"] = "TQ-SYT-4G"
    return store


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def meetings(store: MemoryStore, clock: ManualClock) -> Meetings:
    return Meetings(store, lambda _: POLICY, clock)


async def in_last_hour(meetings: Meetings, clock: ManualClock) -> str:
    meeting = (await meetings.register(OPERATOR, body(), None)).meeting
    clock.set(meeting["start"] - timedelta(minutes=40))
    return str(meeting["_id"])


SWITCH = SwitchBackupIn(endpoint="TQ-SYT", reason="Kiểm tra T-1h không đạt: mất đường truyền")


async def test_the_backup_takes_the_failing_endpoints_place_with_rule_and_reason(
    meetings, store, clock
) -> None:
    meeting_id = await in_last_hour(meetings, clock)
    shown = await meetings.switch_backup(OPERATOR, meeting_id, SWITCH)
    assert shown.meeting["endpoints"] == ["TQ-UBND", "TQ-STTTT", "TQ-SYT-4G"]
    changed = store.outbox[-1]
    assert isinstance(changed, MeetingChanged)
    assert changed.backup is not None
    assert (changed.backup.replaced, changed.backup.backup) == ("TQ-SYT", "TQ-SYT-4G")
    assert changed.backup.rule.rule == "backup.switch_window"
    assert changed.backup.rule.source == POLICY.ref("backup.switch_window").source
    assert changed.reason == changed.urgent_reason == SWITCH.reason


async def test_switching_the_main_endpoint_makes_the_backup_the_main_room(meetings, clock) -> None:
    meeting_id = await in_last_hour(meetings, clock)
    switch = SwitchBackupIn(endpoint="TQ-UBND", reason="Sự cố mất điện tại phòng họp")
    shown = await meetings.switch_backup(OPERATOR, meeting_id, switch)
    assert shown.meeting["main_endpoint"] == "TQ-SYT-4G"
    assert shown.meeting["endpoints"][0] == "TQ-SYT-4G"


async def test_a_switch_before_the_last_hour_is_refused_naming_the_window(
    meetings, store, clock
) -> None:
    meeting = (await meetings.register(OPERATOR, body(), None)).meeting
    clock.set(meeting["start"] - timedelta(hours=3))
    outbox = len(store.outbox)
    with pytest.raises(Refusal) as raised:
        await meetings.switch_backup(OPERATOR, meeting["_id"], SWITCH)
    assert raised.value.status == 409
    (violation,) = raised.value.violations
    assert (violation.field, violation.rule) == ("endpoint", "backup.switch_window")
    assert "1 giờ" in violation.message_vi
    assert len(store.outbox) == outbox  # nothing changed


async def test_an_endpoint_without_a_backup_or_outside_the_meeting_is_refused(
    meetings, clock
) -> None:
    meeting_id = await in_last_hour(meetings, clock)
    for endpoint in ("TQ-STTTT", "TQ-XA"):
        with pytest.raises(Refusal) as raised:
            await meetings.switch_backup(
                OPERATOR, meeting_id, SwitchBackupIn(endpoint=endpoint, reason="x")
            )
        assert raised.value.status == 409
        assert raised.value.violations[0].field == "endpoint"


async def test_only_the_it_department_switches(meetings, clock) -> None:
    meeting_id = await in_last_hour(meetings, clock)
    host = REGISTRAR.model_copy(update={"unit": "VP-UBND"})
    with pytest.raises(Refusal) as raised:
        await meetings.switch_backup(host, meeting_id, SWITCH)
    assert raised.value.status == 403


async def test_an_inactive_backup_is_refused_by_the_directory_rule(meetings, store, clock) -> None:
    meeting_id = await in_last_hour(meetings, clock)
    store.endpoints.entries["TQ-SYT-4G"]["active"] = False
    with pytest.raises(Refusal) as raised:
        await meetings.switch_backup(OPERATOR, meeting_id, SWITCH)
    assert "directory.endpoint_active" in {v.rule for v in raised.value.violations}


def test_the_swap_keeps_the_order_of_the_rooms() -> None:
    rooms = backup.switched("A", ["A", "B", "C"], "B", "B2")
    assert (rooms.main_endpoint, rooms.endpoints) == ("A", ("A", "B2", "C"))


async def test_an_endpoint_a_group_brought_in_is_left_out_and_its_backup_joins(
    meetings, store, clock
) -> None:
    meeting = (await meetings.register(OPERATOR, body(groups=["ALL-COMMUNES"]), None)).meeting
    clock.set(meeting["start"] - timedelta(minutes=40))
    store.endpoints.entries["TQ-XA"] = {"code": "TQ-XA", "active": True, "backup": "TQ-SYT-4G"}
    store.entries.append(
        {
            "_id": "e-1",
            "tenant": OPERATOR.tenant,
            "meeting_id": meeting["_id"],
            "type": "SlotAssigned",
            "at": NOW,
            "groups": [{"group": "ALL-COMMUNES", "endpoints": ["TQ-XA"]}],
        }
    )
    switch = SwitchBackupIn(endpoint="TQ-XA", reason="Mất đường truyền")
    shown = await meetings.switch_backup(OPERATOR, meeting["_id"], switch)
    changed = store.outbox[-1]
    assert isinstance(changed, MeetingChanged)
    assert changed.groups == ("ALL-COMMUNES",), "the meeting keeps its groups"
    assert changed.excluded == ("TQ-XA",)
    assert changed.endpoints == ("TQ-UBND", "TQ-STTTT", "TQ-SYT", "TQ-SYT-4G")
    assert changed.backup is not None
    assert (changed.backup.replaced, changed.backup.backup) == ("TQ-XA", "TQ-SYT-4G")
    assert shown.meeting["excluded"] == ["TQ-XA"]
    # a later change keeps it left out
    clock.set(meeting["start"] - timedelta(minutes=30))
    later = MeetingPatch(title="Giao ban (bổ sung)")
    await meetings.change(OPERATOR, meeting["_id"], later)
    assert store.outbox[-1].excluded == ("TQ-XA",)  # type: ignore[attr-defined]


async def test_an_endpoint_neither_named_nor_reached_by_a_group_is_refused(
    meetings, store, clock
) -> None:
    meeting_id = await in_last_hour(meetings, clock)
    store.endpoints.entries["TQ-XA"] = {"code": "TQ-XA", "active": True, "backup": "TQ-SYT-4G"}
    switch = SwitchBackupIn(endpoint="TQ-XA", reason="Mất đường truyền")
    with pytest.raises(Refusal) as raised:
        await meetings.switch_backup(OPERATOR, meeting_id, switch)
    (violation,) = raised.value.violations
    assert (violation.field, violation.rule) == ("endpoint", "backup.switch_window")
    assert "không tham gia" in violation.message_vi


def test_a_group_member_s_backup_joins_as_an_extra_endpoint() -> None:
    rooms = backup.switched("A", ["A", "C"], "B", "B2", excluded=["X"])
    assert (rooms.main_endpoint, rooms.endpoints, rooms.excluded) == (
        "A",
        ("A", "C", "B2"),
        ("X", "B"),
    )


def test_the_groups_that_reached_the_endpoints_are_the_latest_assignment_s() -> None:
    timeline = [
        {"type": "SlotAssigned", "groups": [{"group": "G1", "endpoints": ["A", "B"]}]},
        {"type": "MeetingChanged"},
        {"type": "SlotAssigned", "groups": [{"group": "G2", "endpoints": ["B"]}]},
    ]
    assert backup.reached_by_groups(timeline) == {"B": "G2"}
    assert backup.reached_by_groups([]) == {}


def test_a_backup_a_group_already_reaches_is_refused() -> None:
    start = NOW + timedelta(minutes=30)
    found = backup.switch_violations(
        start=start,
        endpoints=["A"],
        replaced="A",
        backup="A-4G",
        policy=POLICY,
        now=NOW,
        reached={"A-4G": "ALL-COMMUNES"},
    )
    assert [v.message_en for v in found] == [
        "The backup endpoint A-4G already takes part in the meeting."
    ]
